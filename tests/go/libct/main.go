// libct drives nsexec with runc's own Go side: Debian's libcontainer 1.1.5,
// built with CGO_ENABLED=0 in GOPATH mode, so runc's C constructor is not in
// the binary at all. The factory's init command is nsexec, which sets up the
// namespaces and then executes this program's `init`, runc's Go init.
//
//	libct init                              runc's Go init (nsexec's payload)
//	libct SCENARIO NSEXEC ROOTFS [N]        one scenario; facts as JSON on stdout
//	libct create-detached NSEXEC ROOTFS STATE   `runc create`, for detach
//
// Scenarios: run, userns, exec, tty, signal, detach, loop N, bench N.
// The Rust test tests/libct.rs builds this program and judges the facts.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/devices"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runc/libcontainer/utils"
	"golang.org/x/sys/unix"
)

// cgroupParent holds every container's cgroup; removed when a scenario ends.
// It is this process's own: the tests run scenarios side by side, and a
// shared parent let one scenario count another's containers as its own.
// A create-detached child is handed its parent's name in the environment.
var cgroupParent = func() string {
	if p := os.Getenv("NSEXEC_LIBCT_CGROUP_PARENT"); p != "" {
		return p
	}
	return "nsexec-libct-" + strconv.Itoa(os.Getpid())
}()

func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		// As runc's own init: one OS thread, which nsexec put in the namespaces.
		runtime.GOMAXPROCS(1)
		runtime.LockOSThread()
		factory, _ := libcontainer.New("")
		if err := factory.StartInitialization(); err != nil {
			fmt.Fprintln(os.Stderr, "libct init:", err)
			os.Exit(1)
		}
		panic("StartInitialization returned without an error")
	}
}

// newFactory wires nsexec in where runc's C constructor used to be:
// InitPath is nsexec, and its arguments name the payload, this binary's init.
func newFactory(state, nsexec string) libcontainer.Factory {
	self, err := os.Executable()
	check(err)
	f, err := libcontainer.New(state, func(l *libcontainer.LinuxFactory) error {
		l.InitPath = nsexec
		l.InitArgs = []string{"nsexec", self, "init"}
		return nil
	})
	check(err)
	return f
}

func config(rootfs, name string, userns bool, bindSource string) *configs.Config {
	caps := []string{
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
		"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
		"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
	}
	common := unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV
	c := &configs.Config{
		Rootfs:       rootfs,
		Capabilities: &configs.Capabilities{Bounding: caps, Effective: caps, Permitted: caps},
		Namespaces: configs.Namespaces{
			{Type: configs.NEWNS}, {Type: configs.NEWUTS}, {Type: configs.NEWIPC},
			{Type: configs.NEWPID}, {Type: configs.NEWNET}, {Type: configs.NEWCGROUP},
		},
		Cgroups: &configs.Cgroup{
			Name:      name,
			Parent:    cgroupParent,
			Resources: &configs.Resources{Devices: deviceRules()},
		},
		Devices:      specconv.AllowedDevices,
		Hostname:     "libct",
		NoNewKeyring: true,
		Mounts: []*configs.Mount{
			{Source: "proc", Destination: "/proc", Device: "proc", Flags: common},
			{Source: "tmpfs", Destination: "/dev", Device: "tmpfs", Flags: unix.MS_NOSUID | unix.MS_STRICTATIME, Data: "mode=755"},
			{Source: "devpts", Destination: "/dev/pts", Device: "devpts", Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: "newinstance,ptmxmode=0666,mode=0620"},
			{Source: "shm", Destination: "/dev/shm", Device: "tmpfs", Flags: common, Data: "mode=1777,size=65536k"},
			{Source: "sysfs", Destination: "/sys", Device: "sysfs", Flags: common | unix.MS_RDONLY},
		},
	}
	if bindSource != "" {
		// With a user namespace this makes runc 1.1 send MOUNT_SOURCES.
		c.Mounts = append(c.Mounts, &configs.Mount{
			Source: bindSource, Destination: "/mnt/host", Device: "bind",
			Flags: unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY,
		})
	}
	if userns {
		c.Namespaces = append(c.Namespaces, configs.Namespace{Type: configs.NEWUSER})
		c.UidMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
		c.GidMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	}
	return c
}

// deviceRules allows the devices runc allows by default, and no others.
func deviceRules() []*devices.Rule {
	var rules []*devices.Rule
	for _, d := range specconv.AllowedDevices {
		rule := d.Rule
		rules = append(rules, &rule)
	}
	return rules
}

func shell(script string) *libcontainer.Process {
	return &libcontainer.Process{
		Args: []string{"/bin/sh", "-c", script},
		Env:  []string{"PATH=/bin"},
		User: "0:0",
		Init: true,
	}
}

// facts is what a scenario reports; the Rust test asserts on it.
type facts map[string]interface{}

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: libct SCENARIO NSEXEC ROOTFS [N]")
		os.Exit(2)
	}
	scenario, nsexec, rootfs := os.Args[1], os.Args[2], os.Args[3]
	if scenario == "create-detached" && len(os.Args) == 5 {
		createDetached(newFactory(os.Args[4], nsexec), rootfs)
		return
	}
	n := 1
	if len(os.Args) > 4 {
		var err error
		n, err = strconv.Atoi(os.Args[4])
		check(err)
	}
	state, err := os.MkdirTemp("/run", "nsexec-libct-")
	check(err)
	defer os.RemoveAll(state)
	defer removeCgroupParent()
	f := newFactory(state, nsexec)
	var out facts
	switch scenario {
	case "run":
		out = runOne(f, rootfs, false)
	case "userns":
		out = runOne(f, rootfs, true)
	case "exec":
		out = execInto(f, rootfs)
	case "tty":
		out = terminal(f, rootfs)
	case "signal":
		out = signal(f, rootfs)
	case "detach":
		out = detach(f, nsexec, rootfs, state)
	case "loop":
		out = loop(f, rootfs, n)
	case "bench":
		start := time.Now()
		for i := 0; i < n; i++ {
			trueContainer(f, rootfs, fmt.Sprintf("bench-%d", i))
		}
		out = facts{"containers": n, "seconds": time.Since(start).Seconds()}
	default:
		fmt.Fprintln(os.Stderr, "unknown scenario", scenario)
		os.Exit(2)
	}
	check(json.NewEncoder(os.Stdout).Encode(out))
}

// runOne: PID 1, hostname, exit status, and (with a user namespace) the
// maps and a bind mount whose source nsexec opened for runc 1.1.
func runOne(f libcontainer.Factory, rootfs string, userns bool) facts {
	bind, err := os.MkdirTemp("", "libct-bind-")
	check(err)
	defer os.RemoveAll(bind)
	check(os.Chmod(bind, 0o755))
	check(os.WriteFile(filepath.Join(bind, "marker"), []byte("from the host\n"), 0o644))
	c, err := f.Create("run", config(rootfs, "run", userns, bind))
	check(err)
	defer c.Destroy()
	p := shell(`echo "pid=$$ host=$(hostname) uid=$(id -u)"; cat /proc/self/uid_map; cat /mnt/host/marker; exit 7`)
	var stdout, stderr strings.Builder
	p.Stdout, p.Stderr = &stdout, &stderr
	check(c.Run(p))
	st, _ := p.Wait()
	return facts{"stdout": stdout.String(), "stderr": stderr.String(), "exit": exitCode(st)}
}

// execInto: a second process joins a running container (runc exec).
func execInto(f libcontainer.Factory, rootfs string) facts {
	c, err := f.Create("exec", config(rootfs, "exec", true, ""))
	check(err)
	defer c.Destroy()
	init := shell("read line")
	stdin, holdOpen := io.Pipe()
	init.Stdin = stdin
	check(c.Run(init))
	initPid, err := init.Pid()
	check(err)
	host := map[string]string{}
	for _, ns := range []string{"cgroup", "ipc", "mnt", "net", "pid", "user", "uts"} {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", initPid, ns))
		check(err)
		host[ns] = l
	}
	e := shell(`for n in cgroup ipc mnt net pid user uts; do echo "$n $(readlink /proc/self/ns/$n)"; done; echo "ppid=$PPID"; ls /proc | grep -c '^[0-9]'`)
	e.Init = false
	var stdout, stderr strings.Builder
	e.Stdout, e.Stderr = &stdout, &stderr
	check(c.Run(e))
	st, _ := e.Wait()
	holdOpen.Close()
	init.Wait()
	return facts{"init_ns": host, "stdout": stdout.String(), "stderr": stderr.String(), "exit": exitCode(st)}
}

// terminal: runc's Go init opens the pty and sends its master to the
// console socket, where this caller reads the process's output.
func terminal(f libcontainer.Factory, rootfs string) facts {
	c, err := f.Create("tty", config(rootfs, "tty", false, ""))
	check(err)
	defer c.Destroy()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	check(err)
	ours, theirs := os.NewFile(uintptr(fds[0]), "console-ours"), os.NewFile(uintptr(fds[1]), "console-theirs")
	defer ours.Close()
	p := shell(`tty; [ -t 0 ] && [ -t 1 ] && echo "stdio is a terminal"; exit 5`)
	p.ConsoleSocket = theirs
	check(c.Run(p))
	theirs.Close()
	master, err := utils.RecvFd(ours)
	check(err)
	defer master.Close()
	var screen strings.Builder
	done := make(chan struct{})
	go func() {
		io.Copy(&screen, master) // ends with EIO once the last slave closes
		close(done)
	}()
	st, _ := p.Wait()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	return facts{"screen": screen.String(), "master": master.Name(), "exit": exitCode(st)}
}

// signal: container.Signal reaches PID 1, which has a handler for it.
func signal(f libcontainer.Factory, rootfs string) facts {
	c, err := f.Create("signal", config(rootfs, "signal", false, ""))
	check(err)
	defer c.Destroy()
	r, w, err := os.Pipe()
	check(err)
	p := shell(`trap 'echo "got TERM"; exit 3' TERM; echo ready; while :; do sleep 0.1; done`)
	p.Stdout = w
	check(c.Run(p))
	w.Close()
	lines := bufio.NewReader(r)
	first, _ := lines.ReadString('\n')
	check(c.Signal(unix.SIGTERM, false))
	st, _ := p.Wait()
	rest, _ := io.ReadAll(lines)
	return facts{"first": first, "rest": string(rest), "exit": exitCode(st)}
}

// createDetached is `runc create`: it starts the container's init, which
// waits at its exec fifo for `start`, and exits, leaving the init behind.
func createDetached(f libcontainer.Factory, rootfs string) {
	c, err := f.Create("detach", config(rootfs, "detach", false, ""))
	check(err)
	p := shell(`echo "started as pid $$"`)
	// Not stderr: the caller collects this process's stderr through a pipe,
	// which a container holding it would keep open.
	p.Stdout = os.Stdout
	check(c.Start(p))
}

// detach: `runc create` in a process of its own, then `runc start` from
// this one once that process has exited, as a shim or a shell does it.
func detach(f libcontainer.Factory, nsexec, rootfs, state string) facts {
	self, err := os.Executable()
	check(err)
	r, w, err := os.Pipe()
	check(err)
	create := exec.Command(self, "create-detached", nsexec, rootfs, state)
	create.Env = append(os.Environ(), "NSEXEC_LIBCT_CGROUP_PARENT="+cgroupParent)
	var createErr strings.Builder
	create.Stdout, create.Stderr = w, &createErr
	createRun := create.Run()
	w.Close()
	out := facts{"create_error": fmt.Sprint(createRun), "create_stderr": createErr.String()}
	c, err := f.Load("detach")
	if err != nil {
		out["load_error"] = err.Error()
		return out
	}
	defer c.Destroy()
	// The creator's exit is what a pdeathsig left on the init would answer.
	time.Sleep(200 * time.Millisecond)
	status, err := c.Status()
	out["status_before_start"] = fmt.Sprint(status, err)
	out["start_error"] = fmt.Sprint(c.Exec())
	screen := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		screen <- string(b)
	}()
	select {
	case s := <-screen:
		out["stdout"] = s
	case <-time.After(10 * time.Second):
		out["stdout"] = "(nothing within 10 s)"
	}
	return out
}

func trueContainer(f libcontainer.Factory, rootfs, name string) int {
	c, err := f.Create(name, config(rootfs, name, false, ""))
	check(err)
	p := shell("exit 0")
	check(c.Run(p))
	st, _ := p.Wait()
	check(c.Destroy())
	return exitCode(st)
}

// loop: n containers in a row, and what the caller holds before and after.
func loop(f libcontainer.Factory, rootfs string, n int) facts {
	trueContainer(f, rootfs, "warm-up") // let Go's runtime and libcontainer settle their own fds
	before := holdings()
	// The same probes while a container runs: they do see one.
	c, err := f.Create("during", config(rootfs, "during", false, ""))
	check(err)
	p := shell("read line")
	stdin, holdOpen := io.Pipe()
	p.Stdin = stdin
	check(c.Run(p))
	during := holdings()
	holdOpen.Close()
	p.Wait()
	check(c.Destroy())
	failed := 0
	for i := 0; i < n; i++ {
		if trueContainer(f, rootfs, fmt.Sprintf("loop-%d", i)) != 0 {
			failed++
		}
	}
	time.Sleep(100 * time.Millisecond)
	return facts{"before": before, "during": during, "after": holdings(), "failed": failed}
}

// holdings: what a leak would show: descriptors, mounts, child processes
// and container cgroups.
func holdings() facts {
	fds, _ := os.ReadDir("/proc/self/fd")
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	children := 0
	procs, _ := os.ReadDir("/proc")
	me := strconv.Itoa(os.Getpid())
	for _, p := range procs {
		stat, err := os.ReadFile(filepath.Join("/proc", p.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[1] == me {
			children++
		}
	}
	cgroups := 0
	for _, parent := range cgroupParents() {
		entries, _ := os.ReadDir(parent)
		for _, e := range entries {
			if e.IsDir() {
				cgroups++
			}
		}
	}
	return facts{
		"fds":      len(fds),
		"mounts":   strings.Count(string(mounts), "\n"),
		"children": children,
		"cgroups":  cgroups,
	}
}

// cgroupParents: every directory named cgroupParent in any hierarchy
// (cgroupfs nests it under the caller's own cgroup in some of them).
func cgroupParents() []string {
	var found []string
	filepath.WalkDir("/sys/fs/cgroup", func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if d.Name() == cgroupParent {
			found = append(found, path)
			return filepath.SkipDir
		}
		return nil
	})
	return found
}

func removeCgroupParent() {
	for _, d := range cgroupParents() {
		os.Remove(d)
	}
}

func exitCode(st *os.ProcessState) int {
	if st == nil {
		return -1
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return st.ExitCode()
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "libct:", err)
		removeCgroupParent()
		os.Exit(1)
	}
}

// libct13 drives nsexec with runc 1.3.6's libcontainer, built with
// CGO_ENABLED=0 in GOPATH mode from an unpatched copy of Debian's runc
// 1.3.6 source, so runc's C constructor (libcontainer/nsenter) is not in the
// binary at all and nsexec is the bootstrap.
//
// runc 1.2 and later have no factory, no InitPath and no InitArgs: the
// container's init is always `<sealed copy of this binary> init`, started by
// libcontainer itself with an environment of GOMAXPROCS and _LIBCONTAINER_*
// only. So nsexec goes in through this program's own init, in two runs:
//
//	ARGV0 init                        1st run (started by libcontainer): exec nsexec
//	/proc/self/fd/N init bootstrapped 2nd run (nsexec's payload, in stage 2): libcontainer.Init
//	libct13 SCENARIO ROOTFS [N]       one scenario; facts as JSON on stdout
//
// Scenarios: run, userns, exec, bench N. Build with build.sh next to this
// file, which bakes nsexec's path in (-ldflags -X main.nsexecPath=...).
// The Rust test tests/libct13.rs builds this program and judges the facts.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/opencontainers/cgroups"
	// The device rules' cgroup back ends register themselves; without
	// this import a devices cgroup cannot be set (runc's main.go has it).
	_ "github.com/opencontainers/cgroups/devices"
	devices "github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// nsexecPath is the nsexec binary the init execs, set at build time with
// -ldflags "-X main.nsexecPath=/absolute/path/to/nsexec". It cannot come
// from anywhere at run time: libcontainer starts the init with an
// environment of its own making (GOMAXPROCS and _LIBCONTAINER_* only) and
// the argv [os.Args[0], "init"]; and no file beside this binary can be
// found from the init, whose /proc/self/exe is a sealed copy (a detached
// overlayfs file or a memfd) and whose argv[0] is the caller's, maybe
// relative, with the container's rootfs as working directory.
var nsexecPath string

// bootstrapped is the word nsexec's payload gets after "init". libcontainer
// runs the 1st init with exactly two words, so the two runs cannot be taken
// for one another: a 1st run taken for the 2nd would run runc's Go init in
// the caller's namespaces, and a 2nd taken for the 1st would exec nsexec
// again from inside the container. An argv word rather than an environment
// marker: it is visible in ps, and nothing has to be cleaned out of the
// environment (libcontainer.Init clears it anyway).
const bootstrapped = "bootstrapped"

func init() {
	if len(os.Args) < 2 || os.Args[1] != "init" {
		return
	}
	switch {
	case len(os.Args) == 2:
		execNsexec()
	case len(os.Args) == 3 && os.Args[2] == bootstrapped:
		initLog(logrus.DebugLevel, fmt.Sprintf("libct13 init: nsexec's payload %s as pid %d: libcontainer.Init", os.Args[0], os.Getpid()))
		libcontainer.Init() // does not return
	}
	initFail(fmt.Sprintf("libct13 init: unexpected command line %q", os.Args))
}

// execNsexec is the 1st run, where runc's C constructor would run: still in
// the caller's namespaces, before anything is set up. It replaces itself
// with nsexec, which reads the bootstrap message on the init pipe, runs
// stages 0-2 and in stage 2 executes this binary again as its payload.
// Everything libcontainer handed over (the environment, the pipes, the exec
// fifo) passes through nsexec untouched.
func execNsexec() {
	// The init's working directory is the container's rootfs: a relative
	// path would run a file the container controls, as root on the host.
	if !filepath.IsAbs(nsexecPath) {
		initFail(fmt.Sprintf("libct13 init: nsexec path %q is not absolute (build with -ldflags \"-X main.nsexecPath=/path/to/nsexec\")", nsexecPath))
	}
	// Without an init pipe nsexec would take the words after it as its own
	// command line and run the payload in no namespace at all.
	if os.Getenv("_LIBCONTAINER_INITPIPE") == "" {
		initFail("libct13 init: not started by libcontainer (no _LIBCONTAINER_INITPIPE)")
	}
	self, how, err := sealedSelf()
	if err != nil {
		initFail("libct13 init: " + err.Error())
	}
	initLog(logrus.DebugLevel, fmt.Sprintf("libct13 init: exec %s with payload %s (%s)", nsexecPath, self, how))
	// argv[0] "nsexec": nsexec gives its own argv[0] a meaning (its sealed
	// re-exec), so it must not be a path of ours. "--" ends nsexec's words.
	err = unix.Exec(nsexecPath, []string{"nsexec", "--", self, "init", bootstrapped}, os.Environ())
	initFail(fmt.Sprintf("libct13 init: exec %s: %v", nsexecPath, err))
}

// sealedSelf names this binary as nsexec's payload. /proc/self/exe will not
// do as a name: after the exec it is nsexec. What it leads to now is the
// file libcontainer executed, its sealed copy (exeseal: a file on a
// read-only overlayfs, or a sealed memfd; or this binary itself when it
// already runs from one), so a descriptor opened through it names that
// copy, and tells nsexec the caller protected it: no copy of ours. Opened
// without O_CLOEXEC so that nsexec finds it (runc's Go init marks every
// descriptor past the stdio and ExtraFiles close-on-exec before it
// executes the container's process).
func sealedSelf() (path, how string, err error) {
	fd, err := unix.Open("/proc/self/exe", unix.O_PATH, 0)
	if err != nil {
		return "", "", fmt.Errorf("open /proc/self/exe: %w", err)
	}
	return "/proc/self/fd/" + strconv.Itoa(fd), "libcontainer's sealed copy", nil
}

// initLog writes one of runc's JSON log lines on the log pipe, which
// libcontainer forwards to the caller's logrus, at the level it asked for.
func initLog(level logrus.Level, msg string) {
	fd, err := strconv.Atoi(os.Getenv("_LIBCONTAINER_LOGPIPE"))
	if err != nil {
		return
	}
	if want, err := strconv.Atoi(os.Getenv("_LIBCONTAINER_LOGLEVEL")); err == nil && logrus.Level(want) < level {
		return
	}
	line, _ := json.Marshal(map[string]string{"level": level.String(), "msg": msg})
	unix.Write(fd, append(line, '\n'))
}

// initFail reports where the caller reads its child's errors, and exits.
func initFail(msg string) {
	initLog(logrus.ErrorLevel, msg)
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(1)
}

// stateDir and created are what check cleans up when a scenario fails:
// os.Exit runs no deferred Destroy.
var (
	stateDir string
	created  []*libcontainer.Container
)

func create(state, name string, config *configs.Config) *libcontainer.Container {
	c, err := libcontainer.Create(state, name, config)
	check(err)
	created = append(created, c)
	return c
}

// cgroupParent holds every container's cgroup; removed when a scenario ends.
// It is this process's own, as scenarios run side by side.
var cgroupParent = "nsexec-libct13-" + strconv.Itoa(os.Getpid())

var nsNames = []string{"cgroup", "ipc", "mnt", "net", "pid", "user", "uts"}

func config(rootfs, name string, userns bool) *configs.Config {
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
		Cgroups: &cgroups.Cgroup{
			Name:      name,
			Parent:    cgroupParent,
			Resources: &cgroups.Resources{Devices: deviceRules()},
		},
		Devices:      allowedDevices,
		Hostname:     "libct13",
		NoNewKeyring: true,
		Mounts: []*configs.Mount{
			{Source: "proc", Destination: "/proc", Device: "proc", Flags: common},
			{Source: "tmpfs", Destination: "/dev", Device: "tmpfs", Flags: unix.MS_NOSUID | unix.MS_STRICTATIME, Data: "mode=755"},
			{Source: "devpts", Destination: "/dev/pts", Device: "devpts", Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: "newinstance,ptmxmode=0666,mode=0620"},
			{Source: "shm", Destination: "/dev/shm", Device: "tmpfs", Flags: common, Data: "mode=1777,size=65536k"},
			{Source: "sysfs", Destination: "/sys", Device: "sysfs", Flags: common | unix.MS_RDONLY},
		},
	}
	if userns {
		c.Namespaces = append(c.Namespaces, configs.Namespace{Type: configs.NEWUSER})
		c.UIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
		c.GIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	}
	return c
}

// allowedDevices is the part of specconv.AllowedDevices a shell needs.
// Not specconv itself: in 1.3 it imports libcontainer/internal/userns's
// cgo-only half, so it does not build with CGO_ENABLED=0 unpatched, while
// libcontainer does.
var allowedDevices = []*devices.Device{
	charDevice("/dev/null", 1, 3),
	charDevice("/dev/zero", 1, 5),
	charDevice("/dev/full", 1, 7),
	charDevice("/dev/random", 1, 8),
	charDevice("/dev/urandom", 1, 9),
	charDevice("/dev/tty", 5, 0),
	{Rule: devices.Rule{Type: devices.CharDevice, Major: 5, Minor: 2, Permissions: "rwm", Allow: true}},                  // /dev/ptmx
	{Rule: devices.Rule{Type: devices.CharDevice, Major: 136, Minor: devices.Wildcard, Permissions: "rwm", Allow: true}}, // /dev/pts/*
}

func charDevice(path string, major, minor int64) *devices.Device {
	return &devices.Device{
		Path: path, FileMode: 0o666,
		Rule: devices.Rule{Type: devices.CharDevice, Major: major, Minor: minor, Permissions: "rwm", Allow: true},
	}
}

// deviceRules allows the devices above in the devices cgroup, and no others.
func deviceRules() []*devices.Rule {
	var rules []*devices.Rule
	for _, d := range allowedDevices {
		rule := d.Rule
		rules = append(rules, &rule)
	}
	return rules
}

func shell(script string) *libcontainer.Process {
	return &libcontainer.Process{
		Args: []string{"/bin/sh", "-c", script},
		Env:  []string{"PATH=/bin"},
		Init: true,
	}
}

// facts is what a scenario reports; the Rust test asserts on it.
type facts map[string]interface{}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: libct13 SCENARIO ROOTFS [N]")
		os.Exit(2)
	}
	scenario, rootfs := os.Args[1], os.Args[2]
	n := 1
	if len(os.Args) > 3 {
		var err error
		n, err = strconv.Atoi(os.Args[3])
		check(err)
	}
	// Before any container: libcontainer's mount-source goroutine joins
	// the container's mount namespace on a locked thread and exits locked,
	// and when that thread is the main one Go parks it there, so that
	// /proc/self/ns/mnt (the main thread's) shows a container's afterwards.
	caller := nsLinks("self")
	state, err := os.MkdirTemp("/run", "nsexec-libct13-")
	check(err)
	stateDir = state
	defer os.RemoveAll(state)
	defer removeCgroupParent()
	var out facts
	switch scenario {
	case "run":
		out = runOne(state, rootfs, false)
	case "userns":
		out = runOne(state, rootfs, true)
	case "exec":
		out = execInto(state, rootfs)
	case "bench":
		out = bench(state, rootfs, n)
	default:
		fmt.Fprintln(os.Stderr, "unknown scenario", scenario)
		os.Exit(2)
	}
	out["nsexec"] = nsexecPath
	out["caller_ns"] = caller
	check(json.NewEncoder(os.Stdout).Encode(out))
}

// logCapture keeps what libcontainer logs, its init's forwarded lines
// (nsexec's and ours) included, as "level: message".
type logCapture struct {
	mu    sync.Mutex
	lines []string
}

func (l *logCapture) Levels() []logrus.Level { return logrus.AllLevels }

func (l *logCapture) Fire(e *logrus.Entry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, e.Level.String()+": "+e.Message)
	return nil
}

func (l *logCapture) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// debugLogs turns libcontainer's logging (and, through p.LogLevel, its
// init's) up to debug and into a capture instead of stderr.
func debugLogs(p *libcontainer.Process) *logCapture {
	capture := &logCapture{}
	logrus.SetLevel(logrus.DebugLevel)
	logrus.SetOutput(io.Discard)
	logrus.AddHook(capture)
	p.LogLevel = strconv.Itoa(int(logrus.DebugLevel))
	return capture
}

// started runs p in c, its stdin a pipe this side holds, and reads its
// stdout up to the line "ready" (the process then waits on stdin). The
// returned function closes stdin and returns the rest of the output and the
// exit status.
//
// Both are os.Pipe files, handed to the init as they are: with an io.Pipe
// os/exec copies in a goroutine, which a failed start then waits for.
func started(c *libcontainer.Container, p *libcontainer.Process, logs *logCapture) (first string, finish func() (string, int)) {
	stdin, holdOpen, err := os.Pipe()
	check(err)
	r, w, err := os.Pipe()
	check(err)
	p.Stdin, p.Stdout = stdin, w
	runOrFail(c, p, logs)
	stdin.Close()
	w.Close()
	lines := bufio.NewReader(r)
	var head strings.Builder
	for {
		l, err := lines.ReadString('\n')
		if l == "ready\n" || err != nil {
			break
		}
		head.WriteString(l)
	}
	return head.String(), func() (string, int) {
		holdOpen.Close()
		rest, _ := io.ReadAll(lines)
		st, _ := p.Wait()
		return string(rest), exitCode(st)
	}
}

// runOne: PID 1, hostname, exit status; the pid namespace as the container
// sees it and as the host does; with a user namespace the maps, and the
// container's root as the host sees it.
func runOne(state, rootfs string, userns bool) facts {
	name := "run"
	if userns {
		name = "userns"
	}
	c := create(state, name, config(rootfs, name, userns))
	defer c.Destroy()
	p := shell(`echo "pid=$$ host=$(hostname) uid=$(id -u)"; echo "pidns=$(readlink /proc/self/ns/pid)"; cat /proc/self/uid_map; echo ready; read line; echo bye; exit 7`)
	var stderr strings.Builder
	p.Stderr = &stderr
	logs := debugLogs(p)
	inside, finish := started(c, p, logs)
	pid, err := p.Pid()
	check(err)
	hostUID := ""
	if status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, l := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(l, "Uid:") {
				hostUID = strings.Fields(l)[1]
			}
		}
	}
	hostNs := nsLinks(strconv.Itoa(pid))
	rest, exit := finish()
	return facts{
		"stdout": inside + rest, "stderr": stderr.String(), "exit": exit,
		"init_ns": hostNs, "init_host_uid": hostUID, "log": logs.get(),
	}
}

// execInto: a second process joins a running container (runc exec) with
// a user namespace, so all seven namespaces are joined.
func execInto(state, rootfs string) facts {
	c := create(state, "exec", config(rootfs, "exec", true))
	defer c.Destroy()
	init := shell(`echo ready; read line; exit 4`)
	_, finish := started(c, init, nil)
	initPid, err := init.Pid()
	check(err)
	initNs := nsLinks(strconv.Itoa(initPid))
	script := `for n in ` + strings.Join(nsNames, " ") + `; do echo "$n $(readlink /proc/self/ns/$n)"; done; echo "pid=$$ ppid=$PPID"; exit 3`
	e := shell(script)
	e.Init = false
	var stdout, stderr strings.Builder
	e.Stdout, e.Stderr = &stdout, &stderr
	logs := debugLogs(e)
	runOrFail(c, e, logs)
	st, _ := e.Wait()
	_, initExit := finish()
	return facts{
		"init_ns": initNs, "stdout": stdout.String(), "stderr": stderr.String(),
		"exit": exitCode(st), "init_exit": initExit, "log": logs.get(),
	}
}

// bench: n containers in a row, each created, run to its exit and
// destroyed; the time each took, in milliseconds.
func bench(state, rootfs string, n int) facts {
	var ms []float64
	failed := 0
	start := time.Now()
	for i := 0; i < n; i++ {
		t := time.Now()
		name := fmt.Sprintf("bench-%d", i)
		c := create(state, name, config(rootfs, name, false))
		p := shell("exit 0")
		check(c.Run(p))
		st, _ := p.Wait()
		check(c.Destroy())
		if exitCode(st) != 0 {
			failed++
		}
		ms = append(ms, float64(time.Since(t).Microseconds())/1000)
	}
	total := time.Since(start)
	return facts{
		"containers": n, "failed": failed, "ms": ms,
		"ms_per_container": float64(total.Microseconds()) / 1000 / float64(n),
	}
}

// runOrFail is c.Run(p), reporting on failure what was logged.
func runOrFail(c *libcontainer.Container, p *libcontainer.Process, logs *logCapture) {
	if err := c.Run(p); err != nil {
		if logs != nil {
			for _, l := range logs.get() {
				fmt.Fprintln(os.Stderr, "log:", l)
			}
		}
		check(err)
	}
}

// nsLinks: readlink /proc/PID/ns/NAME for the seven namespaces.
func nsLinks(pid string) map[string]string {
	links := map[string]string{}
	for _, ns := range nsNames {
		l, err := os.Readlink(fmt.Sprintf("/proc/%s/ns/%s", pid, ns))
		check(err)
		links[ns] = l
	}
	return links
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
		fmt.Fprintln(os.Stderr, "libct13:", err)
		for _, c := range created {
			c.Destroy() // one already destroyed says so, harmlessly
		}
		removeCgroupParent()
		if stateDir != "" {
			os.RemoveAll(stateDir)
		}
		os.Exit(1)
	}
}

// gocaller drives nsexec the way libcontainer drives `runc init`, from a Go
// program built with CGO_ENABLED=0: no C constructor, just nsexec as the
// first exec. As a caller it writes runc's bootstrap message, reads the pid
// JSON and then talks to its payload, which is this same program continuing
// inside the new namespaces on the inherited init pipe.
//
//	gocaller NSEXEC          the caller
//	gocaller child           the payload (started by nsexec)
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

const (
	initMsg        = 62000
	cloneFlagsAttr = 27281
	uidmapAttr     = 27283
	gidmapAttr     = 27284
	setgroupAttr   = 27285
	rootlessAttr   = 27287
)

var native binary.ByteOrder = func() binary.ByteOrder {
	x := uint16(1)
	if *(*byte)(unsafe.Pointer(&x)) == 1 {
		return binary.LittleEndian
	}
	return binary.BigEndian
}()

// attr encodes one attribute as runc's Int32msg/Bytemsg/Boolmsg do.
func attr(typ uint16, value []byte) []byte {
	l := 4 + len(value)
	b := make([]byte, 4, (l+3)&^3)
	native.PutUint16(b[0:], uint16(l))
	native.PutUint16(b[2:], typ)
	b = append(b, value...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func u32(v uint32) []byte { b := make([]byte, 4); native.PutUint32(b, v); return b }
func str(s string) []byte { return append([]byte(s), 0) }

func bootstrap(flags uint32, uidmap, gidmap string) []byte {
	var body []byte
	body = append(body, attr(cloneFlagsAttr, u32(flags))...)
	body = append(body, attr(uidmapAttr, str(uidmap))...)
	body = append(body, attr(gidmapAttr, str(gidmap))...)
	body = append(body, attr(setgroupAttr, u32(1))...)
	body = append(body, attr(rootlessAttr, u32(0))...)
	hdr := make([]byte, 16)
	native.PutUint32(hdr[0:], uint32(16+len(body)))
	native.PutUint16(hdr[4:], initMsg)
	native.PutUint16(hdr[6:], 1) // NLM_F_REQUEST
	return append(hdr, body...)
}

type facts struct {
	Pid       int               `json:"pid"`
	Uid       int               `json:"uid"`
	UidMap    string            `json:"uid_map"`
	Namespace map[string]string `json:"ns"`
}

var nsNames = []string{"user", "pid", "mnt", "uts", "ipc", "net"}

func namespaces() map[string]string {
	m := map[string]string{}
	for _, n := range nsNames {
		l, _ := os.Readlink("/proc/self/ns/" + n)
		m[n] = l
	}
	return m
}

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "gocaller: "+format+"\n", a...)
	os.Exit(1)
}

func child() {
	fd, err := strconv.Atoi(os.Getenv("_LIBCONTAINER_INITPIPE"))
	if err != nil {
		fail("child: no init pipe: %v", err)
	}
	pipe := os.NewFile(uintptr(fd), "initpipe")
	line, err := bufio.NewReader(pipe).ReadString('\n')
	if err != nil || line != "hello\n" {
		fail("child: expected hello, got %q (%v)", line, err)
	}
	uidmap, _ := os.ReadFile("/proc/self/uid_map")
	f := facts{Pid: os.Getpid(), Uid: os.Getuid(), UidMap: strings.Join(strings.Fields(string(uidmap)), " "), Namespace: namespaces()}
	if err := json.NewEncoder(pipe).Encode(f); err != nil {
		fail("child: %v", err)
	}
}

func caller(nsexec string) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		fail("socketpair: %v", err)
	}
	parent, childEnd := os.NewFile(uintptr(fds[0]), "init-p"), os.NewFile(uintptr(fds[1]), "init-c")
	logR, logW, err := os.Pipe()
	if err != nil {
		fail("pipe: %v", err)
	}
	self, _ := os.Executable()
	cmd := exec.Command(nsexec, self, "child")
	cmd.ExtraFiles = []*os.File{childEnd, logW}
	cmd.Env = append(os.Environ(), "_LIBCONTAINER_INITPIPE=3", "_LIBCONTAINER_LOGPIPE=4", "_LIBCONTAINER_LOGLEVEL=5")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fail("start: %v", err)
	}
	childEnd.Close()
	logW.Close()
	flags := uint32(syscall.CLONE_NEWUSER | syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWNET)
	if _, err := parent.Write(bootstrap(flags, "0 100000 65536\n", "0 100000 65536\n")); err != nil {
		fail("write bootstrap: %v", err)
	}
	r := bufio.NewReader(parent)
	var pids struct {
		Stage1 int `json:"stage1_pid"`
		Stage2 int `json:"stage2_pid"`
	}
	line, err := r.ReadBytes('\n')
	if err != nil || json.Unmarshal(line, &pids) != nil || pids.Stage1 <= 0 || pids.Stage2 <= 0 {
		fail("pid JSON: %q %v", line, err)
	}
	if err := cmd.Wait(); err != nil {
		fail("stage 0: %v", err)
	}
	if _, err := parent.Write([]byte("hello\n")); err != nil {
		fail("hello: %v", err)
	}
	var f facts
	reply, err := r.ReadBytes('\n')
	if err != nil || json.Unmarshal(reply, &f) != nil {
		fail("payload reply: %q %v", reply, err)
	}
	var ws syscall.WaitStatus
	for _, p := range []int{pids.Stage1, pids.Stage2} {
		if _, err := syscall.Wait4(p, &ws, syscall.WALL, nil); err != nil {
			fail("wait %d: %v", p, err)
		}
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		fail("payload status %v", ws)
	}
	own := namespaces()
	for _, n := range nsNames {
		if f.Namespace[n] == "" || f.Namespace[n] == own[n] {
			fail("%s namespace not new: %q vs %q", n, f.Namespace[n], own[n])
		}
	}
	if f.Pid != 1 || f.Uid != 0 || f.UidMap != "0 100000 65536" {
		fail("payload facts: %+v", f)
	}
	sc := bufio.NewScanner(logR)
	n := 0
	for sc.Scan() {
		var l struct{ Level, Msg string }
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.Level == "" || l.Msg == "" {
			fail("log line %q", sc.Text())
		}
		n++
	}
	fmt.Printf("gocaller: ok: payload pid %d uid %d uid_map %q, %d log lines, stages %d and %d\n", f.Pid, f.Uid, f.UidMap, n, pids.Stage1, pids.Stage2)
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "child" {
		child()
		return
	}
	if len(os.Args) != 2 {
		fail("usage: gocaller NSEXEC")
	}
	caller(os.Args[1])
}

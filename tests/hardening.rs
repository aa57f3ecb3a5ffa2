//! What keeps a container away from the bootstrap's payload and from the
//! host's files (src/engine/hardening.rs), and a caller that outlives the
//! thread which started nsexec. Each test attacks or measures a real run:
//! descriptors read through /proc from inside the joined namespaces, the
//! file the payload runs from, the memory charged to the caller's cgroup.

mod support;

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;
use support::runc::{self, Bootstrap, Options, Outcome};
use support::*;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn skip() -> bool {
    skip_under_qemu("stages use CLONE_PARENT and namespaces")
}

/// A stand-in container: `sleep` in new namespaces (`unshare_args`), and
/// its pid once it runs there.
struct Container {
    child: Child,
    pid: u32,
}

impl Container {
    /// `unshare ARGS -- [WRAP...] sh -c 'sleep 120; : M'`.
    fn start(unshare_args: &[&str], wrap: &[&str], m: &str) -> Container {
        let child = Command::new("unshare")
            .args(unshare_args)
            .arg("--")
            .args(wrap)
            .args(["sh", "-c", &format!("sleep 120; : {m}")])
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        Container {
            child,
            pid: wait_for_pid(m),
        }
    }

    /// A user-namespaced container as runtimes make one: root inside is uid
    /// 100000 outside, and holds every capability inside, CAP_SYS_PTRACE
    /// included. Python makes it (unshare, maps written by this root
    /// parent, then root inside) so that no mapping tool is needed.
    fn start_userns(m: &str) -> Container {
        let child = Command::new("python3")
            .args([
                "-c",
                &format!(
                    r#"
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(w)
    assert libc.unshare(0x10000000) == 0
    os.read(r, 1)
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)
    assert libc.unshare(0x40000000 | 0x04000000) == 0
    os.execvp("sh", ["sh", "-c", "sleep 120; : {m}"])
os.close(r)
own = os.readlink("/proc/self/ns/user")
while os.readlink("/proc/%d/ns/user" % pid) == own:
    pass
for f in ("uid_map", "gid_map"):
    with open("/proc/%d/%s" % (pid, f), "w") as out:
        out.write("0 100000 65536\n")
os.write(w, b"x")
os.waitpid(pid, 0)
"#
                ),
            ])
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        Container {
            child,
            pid: wait_for_pid(m),
        }
    }

    fn ns_paths(&self, names: &[&str]) -> Vec<(String, String)> {
        names
            .iter()
            .map(|n| (n.to_string(), format!("/proc/{}/ns/{n}", self.pid)))
            .collect()
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A bootstrap joining `msg`'s namespaces whose payload, a shell, blocks
/// on a fifo until released: the run, on a thread of its own, and the
/// payload's pid once it has replaced stage 2.
struct HeldPayload {
    run: Option<std::thread::JoinHandle<Outcome>>,
    fifo: String,
    pid: u32,
}

impl HeldPayload {
    /// The payload is `program(fifo)`, which must read the fifo without
    /// executing anything: what the bootstrap's exec left is what an
    /// attacker meets.
    fn start(msg: Bootstrap, m: &str, program: impl Fn(&str) -> Vec<String>) -> HeldPayload {
        let dir = tempdir("held-payload");
        let fifo = format!("{dir}/go");
        assert!(
            Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let program = program(&fifo);
        assert!(
            program.iter().any(|a| a.contains(m)),
            "the payload carries the marker"
        );
        let run = std::thread::spawn(move || {
            let opts = Options {
                program,
                ..Default::default()
            };
            runc::run(&bootstrap_nsexec(), &msg, opts)
        });
        // The stages carry the marker too, until stage 2's exec.
        let payload = || {
            pids_matching(m).into_iter().find(|p| {
                std::fs::read_link(format!("/proc/{p}/exe"))
                    .is_ok_and(|e| !e.to_string_lossy().contains("nsexec"))
            })
        };
        wait_until(|| payload().is_some());
        let pid = payload().expect("the payload");
        HeldPayload {
            run: Some(run),
            fifo,
            pid,
        }
    }

    fn release(mut self) -> Outcome {
        std::fs::OpenOptions::new()
            .write(true)
            .open(&self.fifo)
            .unwrap()
            .write_all(b"go\n")
            .unwrap();
        self.run.take().unwrap().join().unwrap()
    }
}

/// A shell waiting on the fifo (the shell's own `read`).
fn waiting_shell(m: &str) -> impl Fn(&str) -> Vec<String> {
    let m = m.to_owned();
    move |fifo| {
        vec![
            "/bin/sh".into(),
            "-c".into(),
            format!("read x < {fifo}; : {m}"),
        ]
    }
}

/// Python giving up CAP_SYS_PTRACE (capset, no exec), then waiting on the
/// fifo: the capabilities runc's Go init has once it applied the
/// container's, before it executes the container's process.
fn waiting_without_cap_sys_ptrace(m: &str) -> impl Fn(&str) -> Vec<String> {
    let m = m.to_owned();
    move |fifo| {
        let script = format!(
            r#"
import ctypes
libc = ctypes.CDLL(None)
hdr = (ctypes.c_uint32 * 2)(0x20080522, 0)
data = (ctypes.c_uint32 * 6)()
assert libc.capget(hdr, data) == 0
for i in (0, 1):  # effective, permitted; CAP_SYS_PTRACE is bit 19
    data[i] &= ~(1 << 19)
assert libc.capset(hdr, data) == 0
open("{fifo}").read()
# {m}
"#
        );
        vec!["/usr/bin/python3".into(), "-c".into(), script]
    }
}

/// `ls -l /proc/PID/fd` run by `attacker` (a command line that ends where
/// the listing's arguments go): its exit status and what it printed.
fn read_fds(attacker: &[&str], pid: u32) -> (bool, String) {
    let o = Command::new(attacker[0])
        .args(&attacker[1..])
        .args(["ls", "-l", &format!("/proc/{pid}/fd")])
        .output()
        .unwrap();
    (o.status.success(), stdout(&o) + &stderr(&o))
}

#[test]
fn a_joined_payload_hides_its_descriptors_from_root_without_cap_sys_ptrace() {
    if skip() {
        return;
    }
    let _g = serial();
    let m = marker("undumpable-root");
    let no_ptrace = [
        "setpriv",
        "--bounding-set",
        "-sys_ptrace",
        "--inh-caps",
        "-sys_ptrace",
        "--",
    ];
    let ct = Container::start(&["--net", "--uts"], &no_ptrace, &m);
    let msg = Bootstrap {
        ns_paths: ct.ns_paths(&["net", "uts"]),
        ..Default::default()
    };
    // A process may read another's descriptors only with all of its
    // capabilities (or CAP_SYS_PTRACE), so the payload gives up what the
    // attacker lacks: then only its dumpability stands in the way.
    // Its own marker: the container's shell carries `m`.
    let pm = format!("{m}-payload");
    let held = HeldPayload::start(msg, &pm, waiting_without_cap_sys_ptrace(&pm));
    // Root inside the container's namespaces without CAP_SYS_PTRACE, as
    // runc's default capabilities leave it.
    let pid = ct.pid.to_string();
    let attacker = [
        "nsenter",
        "-t",
        &pid,
        "--net",
        "--uts",
        "--",
        "setpriv",
        "--bounding-set",
        "-sys_ptrace",
        "--inh-caps",
        "-sys_ptrace",
        "--",
    ];
    // The attack works on a dumpable process of the container with the
    // same capabilities...
    let (ok, out) = read_fds(&attacker, ct.pid);
    assert!(
        ok,
        "the attacker cannot even read the container's own process: {out}"
    );
    // ...and not on the payload: the init pipe, the log pipe and whatever
    // else the caller passed stay out of reach until the payload decides.
    let (ok, out) = read_fds(&attacker, held.pid);
    let o = held.release();
    assert!(
        !ok && out.contains("Permission denied"),
        "read the payload's descriptors: {out}\n{}",
        o.stderr
    );
    assert_eq!(o.payload, Some(0), "{}", o.stderr);
    assert_eq!(o.stage0, Some(0), "{}", o.stderr);
}

#[test]
fn joined_into_a_user_namespace_the_payload_is_out_of_reach_of_the_containers_root() {
    if skip() {
        return;
    }
    let _g = serial();
    let m = marker("undumpable-userns");
    // runc's usual user-namespaced container: root inside is uid 100000
    // outside; inside it holds every capability, CAP_SYS_PTRACE included.
    let ct = Container::start_userns(&m);
    let msg = Bootstrap {
        ns_paths: ct.ns_paths(&["user", "net", "uts"]),
        ..Default::default()
    };
    // Its own marker: the container's shell carries `m`.
    let pm = format!("{m}-payload");
    let held = HeldPayload::start(msg, &pm, waiting_shell(&pm));
    let pid = ct.pid.to_string();
    let attacker = ["nsenter", "-t", &pid, "--user", "--net", "--uts", "--"];
    let (ok, out) = read_fds(&attacker, ct.pid);
    assert!(
        ok,
        "the container's root cannot read its own process: {out}"
    );
    let (ok, out) = read_fds(&attacker, held.pid);
    assert!(
        !ok && out.contains("Permission denied"),
        "read the payload's descriptors: {out}"
    );
    let o = held.release();
    assert_eq!(o.payload, Some(0), "{}", o.stderr);
}

#[test]
fn a_payload_created_without_joining_stays_dumpable_as_with_runcs_c() {
    if skip() {
        return;
    }
    let _g = serial();
    // runc's C leaves a container it creates dumpable (rootless containers
    // need it), and so must nsexec: the payload may read its own /proc.
    let msg = Bootstrap {
        clone_flags: runc::CLONE_NEWUTS,
        ..Default::default()
    };
    let o = runc::run(
        &bootstrap_nsexec(),
        &msg,
        Options {
            program: vec![
                "/usr/bin/env".into(),
                "python3".into(),
                "-c".into(),
                "import ctypes; print(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))".into(),
            ],
            ..Default::default()
        },
    );
    assert_eq!(o.payload, Some(0), "{}", o.stderr);
    assert_eq!(o.stdout.trim(), "1", "PR_GET_DUMPABLE: {}", o.stderr);
}

#[test]
fn stage_0_outlives_the_thread_that_started_it() {
    if skip() {
        return;
    }
    let _g = serial();
    // runc 1.3 starts the init of `runc exec` from a locked Go thread that
    // then ends while runc carries on. PR_SET_PDEATHSIG follows threads:
    // it would kill stage 0 right there.
    let script = format!(
        r#"
import os, socket, struct, subprocess, threading, time
a, b = socket.socketpair()
env = dict(os.environ, _LIBCONTAINER_INITPIPE=str(b.fileno()))
box = {{}}
def start():
    p = box["p"] = subprocess.Popen(["{nsexec}", "/bin/sh", "-c", "echo ran"], pass_fds=(b.fileno(),), env=env)
    # The thread ends only once stage 0 waits for its message: set-up
    # done, PR_SET_PDEATHSIG (if it used one) in force.
    while not (os.readlink("/proc/%d/exe" % p.pid).endswith("nsexec")
               and open("/proc/%d/stat" % p.pid).read().split(") ")[1][0] == "S"):
        time.sleep(0.001)
t = threading.Thread(target=start)
t.start(); t.join()
b.close()
attrs = struct.pack("=HHI", 8, 27281, 0x04000000)
a.sendall(struct.pack("=IHHII", 16 + len(attrs), 62000, 1, 0, 0) + attrs)
print("pids", a.recv(100).decode().strip(), flush=True)
box["p"].wait()
print("stage0", box["p"].returncode, flush=True)
"#,
        nsexec = bootstrap_nsexec().display()
    );
    let o = run(
        {
            let mut c = Command::new("python3");
            c.args(["-c", &script]);
            c
        },
        Duration::from_secs(30),
    );
    let out = stdout(&o);
    assert!(out.contains("stage2_pid"), "{out}{}", stderr(&o));
    assert!(out.contains("stage0 0"), "{out}{}", stderr(&o));
    assert!(out.contains("ran"), "{out}");
    runc::reap_strays();
}

/// The memory cgroup directory for a new group limited to `limit` bytes,
/// on cgroup v2 or v1; `None` where there is no memory controller to use.
fn memory_cgroup(name: &str, limit: u64) -> Option<(String, &'static str, &'static str)> {
    let (dir, max, usage) = if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        let d = format!("/sys/fs/cgroup/{name}");
        std::fs::create_dir(&d).ok()?;
        std::fs::write(format!("{d}/memory.swap.max"), "0").ok();
        (d, "memory.max", "memory.peak")
    } else {
        let d = format!("/sys/fs/cgroup/memory/{name}");
        std::fs::create_dir(&d).ok()?;
        (d, "memory.limit_in_bytes", "memory.max_usage_in_bytes")
    };
    std::fs::write(format!("{dir}/{max}"), limit.to_string()).ok()?;
    Some((dir, max, usage))
}

#[test]
fn a_payload_larger_than_the_callers_memory_limit_runs_without_a_copy() {
    if skip() {
        return;
    }
    let _g = serial();
    // As root, nsexec holds the payload on a detached read-only overlayfs
    // of its own: no copy is charged to the container's memory. A 24 MiB
    // program (a shell with zeros after its end, which the exec never
    // maps) run from a cgroup limited to 16 MiB would not fit a memfd copy.
    let dir = tempdir("big-payload");
    let big = format!("{dir}/big-sh");
    let mut bytes = std::fs::read("/bin/dash").unwrap();
    bytes.resize(bytes.len() + (24 << 20), 0);
    std::fs::write(&big, bytes).unwrap();
    std::fs::set_permissions(&big, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let name = marker("memcg");
    let Some((cg, _, usage)) = memory_cgroup(&name, 16 << 20) else {
        panic!("no memory cgroup could be made here");
    };
    let script = format!(
        r#"
import os, socket, struct, subprocess
with open("{cg}/cgroup.procs", "w") as f:
    f.write(str(os.getpid()))
a, b = socket.socketpair()
env = dict(os.environ, _LIBCONTAINER_INITPIPE=str(b.fileno()))
p = subprocess.Popen(["{nsexec}", "{big}", "-c", "stat -f -c %T /proc/$$/exe; readlink /proc/$$/exe"], pass_fds=(b.fileno(),), env=env)
b.close()
attrs = struct.pack("=HHI", 8, 27281, 0x04000000)
a.sendall(struct.pack("=IHHII", 16 + len(attrs), 62000, 1, 0, 0) + attrs)
pids = a.recv(100).decode()
p.wait()
s2 = int(pids.split(":")[-1].rstrip("}}\n"))
_, st = os.waitpid(s2, 0)
print("stage0", p.returncode, "payload", os.waitstatus_to_exitcode(st), flush=True)
"#,
        nsexec = bootstrap_nsexec().display()
    );
    let mut c = Command::new("python3");
    c.args(["-c", &script]);
    let o = run(c, Duration::from_secs(30));
    let peak: u64 = std::fs::read_to_string(format!("{cg}/{usage}"))
        .map(|s| s.trim().parse().unwrap_or(0))
        .unwrap_or(0);
    let _ = std::fs::remove_dir(&cg);
    let _ = std::fs::remove_dir_all(&dir);
    let out = stdout(&o);
    assert!(out.contains("stage0 0 payload 0"), "{out}{}", stderr(&o));
    assert!(
        out.contains("overlayfs"),
        "not run from an overlayfs: {out}"
    );
    assert!(!out.contains("memfd:"), "run from a copy: {out}");
    assert!(peak < 8 << 20, "{peak} bytes charged to the cgroup");
    runc::reap_strays();
}

#[test]
fn a_callers_read_only_overlayfs_is_used_as_it_is() {
    if skip() {
        return;
    }
    let _g = serial();
    // runc 1.3 as root hands over its binary as an O_PATH file on a
    // detached read-only overlayfs (exeseal). This caller does the same
    // with mount(8) in a mount namespace of its own, and lazily unmounts it
    // so only the descriptor reaches it.
    let dir = tempdir("caller-overlay");
    let (low, empty, mnt) = (
        format!("{dir}/low"),
        format!("{dir}/empty"),
        format!("{dir}/mnt"),
    );
    for d in [&low, &empty, &mnt] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::copy("/bin/dash", format!("{low}/prog")).unwrap();
    let script = format!(
        r#"
import os, socket, struct, subprocess
subprocess.run(["mount", "-t", "overlay", "-o", "ro,lowerdir={low}:{empty}", "none", "{mnt}"], check=True)
fd = os.open("{mnt}/prog", os.O_PATH)
subprocess.run(["umount", "-l", "{mnt}"], check=True)
a, b = socket.socketpair()
r, w = os.pipe()
env = dict(os.environ, _LIBCONTAINER_INITPIPE=str(b.fileno()), _LIBCONTAINER_LOGPIPE=str(w))
p = subprocess.Popen(["{nsexec}", "/proc/self/fd/%d" % fd, "-c", "stat -f -c %T /proc/$$/exe"], pass_fds=(b.fileno(), w, fd), env=env)
b.close(); os.close(w)
attrs = struct.pack("=HHI", 8, 27281, 0x04000000)
a.sendall(struct.pack("=IHHII", 16 + len(attrs), 62000, 1, 0, 0) + attrs)
pids = a.recv(100).decode()
p.wait()
s2 = int(pids.split(":")[-1].rstrip("}}\n"))
_, st = os.waitpid(s2, 0)
print("stage0", p.returncode, "payload", os.waitstatus_to_exitcode(st), flush=True)
print(os.read(r, 65536).decode())
"#,
        nsexec = bootstrap_nsexec().display()
    );
    let mut c = Command::new("unshare");
    c.args([
        "--mount",
        "--propagation",
        "private",
        "python3",
        "-c",
        &script,
    ]);
    let o = run(c, Duration::from_secs(30));
    let _ = std::fs::remove_dir_all(&dir);
    let out = stdout(&o);
    assert!(out.contains("stage0 0 payload 0"), "{out}{}", stderr(&o));
    assert!(out.contains("overlayfs"), "{out}");
    assert!(
        out.contains("protected by the caller"),
        "copied or re-mounted: {out}"
    );
    runc::reap_strays();
}

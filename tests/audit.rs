//! The syscall table is true and tight: every scenario of every mode runs
//! under `strace -f`; what any nsexec process calls before it execs the
//! payload must be in the table, and every entry of the table must be
//! called by some scenario. Then the generated seccomp profile, installed
//! as a real filter, must let a full bootstrap through, and taking any one
//! needed call away must fail with a message naming it. Native x86_64 only:
//! strace and seccomp see qemu's own calls under emulation.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::runc::{self, Bootstrap};
use support::*;

fn table() -> BTreeSet<String> {
    let o = run(cmd(["--syscalls"]), Duration::from_secs(10));
    stdout(&o).lines().map(str::to_owned).collect()
}

/// Syscall names made by nsexec processes in an `strace -f` log: a process
/// is nsexec's from its start (or its clone by an nsexec process) until it
/// executes something else. strace may show a child's first call before its
/// parent's clone returns, so parents are collected in a first pass.
fn nsexec_calls(log: &str, nsexec_path: &str) -> BTreeSet<String> {
    let parse = |line: &str| -> Option<(u32, String, String)> {
        let (pid, rest) = line.split_once(' ')?;
        let pid = pid.parse::<u32>().ok()?;
        let rest = rest.trim_start().to_owned();
        let name = match rest.strip_prefix("<... ") {
            Some(r) => r.split_whitespace().next()?.to_owned(),
            None => rest.split('(').next()?.to_owned(),
        };
        let ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        ok.then_some((pid, name, rest))
    };
    let calls: Vec<(u32, String, String)> = log.lines().filter_map(parse).collect();
    let mut parent: HashMap<u32, u32> = HashMap::new();
    for (pid, name, rest) in &calls {
        if matches!(name.as_str(), "clone" | "clone3" | "fork" | "vfork")
            && !rest.contains("<unfinished")
        {
            if let Some(child) = rest
                .rsplit("= ")
                .next()
                .and_then(|r| r.split_whitespace().next())
                .and_then(|c| c.parse::<u32>().ok())
            {
                parent.insert(child, *pid);
            }
        }
    }
    let mut ours: HashMap<u32, bool> = HashMap::new();
    let mut names = BTreeSet::new();
    for (i, (pid, name, rest)) in calls.iter().enumerate() {
        let is_ours = match ours.get(pid) {
            Some(&v) => v,
            // strace's own child (before it executes nsexec) is not ours;
            // any other process is what its parent was when it appeared.
            None if i == 0 => false,
            None => parent
                .get(pid)
                .and_then(|p| ours.get(p))
                .copied()
                .unwrap_or(false),
        };
        ours.insert(*pid, is_ours);
        if (name == "execve" || name == "execveat")
            && !rest.contains("<unfinished")
            && rest.contains(" = 0")
        {
            if is_ours {
                names.insert(name.clone());
            }
            // Executing nsexec (or its sealed copy, whose argv names
            // nsexec or the bootstrap's hand-over) makes a process ours;
            // executing anything else (the payload, also by execveat from
            // its sealed copy) hands it to the payload.
            ours.insert(
                *pid,
                rest.contains(nsexec_path) || rest.contains("[\"nsexec-sealed:"),
            );
            continue;
        }
        if is_ours {
            names.insert(name.clone());
        }
    }
    names
}

/// Runs `c` (an nsexec command line) under strace and returns the calls.
fn traced(c: Command) -> (BTreeSet<String>, std::process::Output) {
    traced_with(c, &[], false)
}

/// As [`traced`]; with `sig`, sends it to nsexec (strace's child) once it
/// has run for a while, as a user or a runtime would.
fn traced_signalled(c: Command, sig: Option<i32>) -> (BTreeSet<String>, std::process::Output) {
    traced_with(c, sig.as_slice(), false)
}

/// As [`traced_signalled`], with every signal of `sigs` in turn, and with
/// a new pty as stdin and stdout when `on_pty` (for `--tty`).
fn traced_with(c: Command, sigs: &[i32], on_pty: bool) -> (BTreeSet<String>, std::process::Output) {
    let log = std::env::temp_dir().join(format!("{}-{}.strace", marker("audit"), rand()));
    let program = c.get_program().to_owned();
    let args: Vec<_> = c.get_args().map(|a| a.to_owned()).collect();
    let envs: Vec<_> = c
        .get_envs()
        .map(|(k, v)| (k.to_owned(), v.map(|v| v.to_owned())))
        .collect();
    let mut s = Command::new("strace");
    s.args(["-f", "-qq", "-s", "256", "-o"])
        .arg(&log)
        .arg(&program)
        .args(&args);
    for (k, v) in envs {
        match v {
            Some(v) => s.env(k, v),
            None => s.env_remove(k),
        };
    }
    s.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut reader = None;
    if on_pty {
        let (mut master, slave) = openpty();
        s.stdin(slave.try_clone().unwrap()).stdout(slave);
        // Drain what the relay writes, until every holder of the slave is gone.
        reader = Some(std::thread::spawn(move || {
            let _ = std::io::copy(&mut master, &mut std::io::sink());
        }));
    }
    let child = s.spawn().expect("strace");
    drop(s);
    if !sigs.is_empty() {
        let strace = child.id().to_string();
        // The kernel's comm: the executed name (a named init's link), cut to 15 bytes.
        let name = std::path::Path::new(&program)
            .file_name()
            .unwrap()
            .to_string_lossy();
        let comm = format!("({})", &name[..name.len().min(15)]);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let target = loop {
            let found = std::fs::read_dir("/proc").unwrap().find_map(|e| {
                let pid = e.ok()?.file_name().into_string().ok()?;
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
                let rest = stat.rsplit_once(')')?.1;
                (stat.contains(&comm) && rest.split_whitespace().nth(1) == Some(&strace))
                    .then_some(pid)
            });
            if let Some(p) = found {
                break p;
            }
            assert!(std::time::Instant::now() < deadline, "nsexec never started");
            std::thread::sleep(Duration::from_millis(10));
        };
        for &sig in sigs {
            std::thread::sleep(Duration::from_millis(500));
            unsafe { libc::kill(target.parse().unwrap(), sig) };
        }
    }
    let o = wait_output(child, Duration::from_secs(60));
    if let Some(r) = reader {
        r.join().unwrap();
    }
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    (nsexec_calls(&text, &program.to_string_lossy()), o)
}

fn rand() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// A bootstrap run under strace, driven by a python3 caller (strace must
/// start nsexec itself, so the reference parent is a script here).
fn traced_bootstrap(
    bin: &Path,
    msg: &Bootstrap,
    payload: &str,
    log_pipe: bool,
    env: &[(&str, &str)],
) -> (BTreeSet<String>, String) {
    traced_bootstrap_as(bin, msg, payload, log_pipe, env, None, false)
}

/// As [`traced_bootstrap`], with nsexec run as `user` (strace -u lets its
/// setuid helpers work), and, `by_fd`, the shell named as runc 1.2+ names
/// its binary: `/proc/self/fd/N` of a descriptor the caller opened.
fn traced_bootstrap_as(
    bin: &Path,
    msg: &Bootstrap,
    payload: &str,
    log_pipe: bool,
    env: &[(&str, &str)],
    user: Option<&str>,
    by_fd: bool,
) -> (BTreeSet<String>, String) {
    let as_user = user
        .map(|u| format!("\"-u\", \"{u}\", "))
        .unwrap_or_default();
    let extra: String = env
        .iter()
        .map(|(k, v)| format!("env[{k:?}] = {v:?}\n"))
        .collect();
    let hex: String = msg.encode().iter().map(|b| format!("{b:02x}")).collect();
    let log = std::env::temp_dir().join(format!("{}-{}.strace", marker("auditboot"), rand()));
    let script = format!(
        r#"
import json, os, socket, subprocess, sys, time
a, b = socket.socketpair()
r, w = os.pipe()
env = dict(os.environ, _LIBCONTAINER_INITPIPE=str(b.fileno()))
if {log_pipe_py}:
    env["_LIBCONTAINER_LOGPIPE"] = str(w)
{extra}os.chmod("{log_dir}", 0o777)
# As runc 1.1 does, each mount source's number is reserved by a placeholder.
held = [n for n in json.loads(env.get("_LIBCONTAINER_MOUNT_FDS", "[]")) if n >= 0]
for n in held:
    os.dup2(b.fileno(), n)
sh = "/bin/sh"
if {by_fd_py}:
    held.append(os.open(sh, os.O_PATH))
    sh = "/proc/self/fd/%d" % held[-1]
p = subprocess.Popen(["strace", {as_user}"-f", "-qq", "-s", "256", "-o", "{log}", "{nsexec}", sh, "-c", "{payload}"], pass_fds=(b.fileno(), w, *held), env=env)
for n in held:
    os.close(n)
b.close(); os.close(w)
a.sendall(bytes.fromhex("{hex}"))
p.wait()
time.sleep(0.3)
print("status", p.returncode)
"#,
        log = log.display(),
        log_dir = std::env::temp_dir().display(),
        nsexec = bin.display(),
        log_pipe_py = if log_pipe { "True" } else { "False" },
        by_fd_py = if by_fd { "True" } else { "False" },
    );
    let o = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    (
        nsexec_calls(&text, &bin.display().to_string()),
        stdout(&o) + &stderr(&o),
    )
}

/// `nsexec --syscalls=MODE`, as a set.
fn mode_set(mode: &str) -> BTreeSet<String> {
    let o = run(cmd([format!("--syscalls={mode}")]), Duration::from_secs(10));
    assert!(o.status.success(), "--syscalls={mode}: {}", stderr(&o));
    stdout(&o).lines().map(str::to_owned).collect()
}

/// Traced scenarios: the mode each exercises, what it is, what it called.
#[derive(Default)]
struct Scenarios(Vec<(&'static str, &'static str, BTreeSet<String>)>);

impl Scenarios {
    fn record(&mut self, mode: &'static str, what: &'static str, calls: BTreeSet<String>) {
        assert!(!calls.is_empty(), "{what}: nothing traced");
        self.0.push((mode, what, calls));
    }
}

/// The bootstrap mode's scenarios, on `bin` (the full or the bootstrap
/// build): create with a range map and time offsets, join, fail.
fn bootstrap_scenarios(bin: &Path, all: &mut Scenarios) {
    let mut record = |mode, what, calls| all.record(mode, what, calls);
    let all_ns = runc::CLONE_NEWUSER
        | runc::CLONE_NEWPID
        | runc::CLONE_NEWNS
        | runc::CLONE_NEWUTS
        | runc::CLONE_NEWIPC
        | runc::CLONE_NEWNET;
    let create = Bootstrap {
        clone_flags: all_ns | runc::CLONE_NEWTIME,
        uid_map: Some("0 100000 65536\n".into()),
        gid_map: Some("0 100000 65536\n".into()),
        setgroups: true,
        oom_score_adj: Some("10".into()),
        time_offsets: Some("monotonic 5 0\n".into()),
        ..Default::default()
    };
    let (calls, out) = traced_bootstrap(bin, &create, "true", true, &[]);
    assert!(out.contains("status 0"), "{out}");
    record("bootstrap", "bootstrap create", calls);
    let me = std::process::id();
    let join = Bootstrap {
        ns_paths: vec![
            ("net".into(), format!("/proc/{me}/ns/net")),
            ("uts".into(), format!("/proc/{me}/ns/uts")),
        ],
        ..Default::default()
    };
    let (calls, out) = traced_bootstrap(bin, &join, "true", true, &[]);
    assert!(out.contains("status 0"), "{out}");
    record("bootstrap", "bootstrap join (sealed re-exec)", calls);
    // runc 1.2+ names its binary by a descriptor; a file that is not
    // protected yet is held on a detached overlayfs.
    let (calls, out) = traced_bootstrap_as(bin, &join, "true", true, &[], None, true);
    assert!(out.contains("status 0"), "{out}");
    record(
        "bootstrap",
        "bootstrap join, program as /proc/self/fd/N",
        calls,
    );
    // Joining a user namespace as root: the payload runs from an
    // unreadable copy.
    let mut holder = Command::new("unshare")
        .args(["-U", "-r", "sleep", "120"])
        .spawn()
        .unwrap();
    let hp = holder.id();
    let own = std::fs::read_link("/proc/self/ns/user").unwrap();
    support::wait_until(|| {
        std::fs::read_link(format!("/proc/{hp}/ns/user")).is_ok_and(|l| l != own)
    });
    let join_user = Bootstrap {
        ns_paths: vec![("user".into(), format!("/proc/{hp}/ns/user"))],
        ..Default::default()
    };
    let (calls, out) = traced_bootstrap(bin, &join_user, "true", true, &[]);
    let _ = holder.kill();
    let _ = holder.wait();
    assert!(out.contains("status 0"), "{out}");
    record(
        "bootstrap",
        "bootstrap join of a user namespace as root",
        calls,
    );
    let bad = Bootstrap {
        ns_paths: vec![("net".into(), format!("/proc/{me}/ns/pid"))],
        clone_flags: runc::CLONE_NEWUTS,
        ..Default::default()
    };
    let (calls, out) = traced_bootstrap(bin, &bad, "true", false, &[]);
    assert!(out.contains("status 1"), "{out}");
    record("bootstrap", "bootstrap failure", calls);
    // Rootless: the maps go through newuidmap/newgidmap.
    let (uid, gid) = test_user();
    let (su, sg) = (sub_start("/etc/subuid"), sub_start("/etc/subgid"));
    let rootless = Bootstrap {
        clone_flags: runc::CLONE_NEWUSER | runc::CLONE_NEWUTS,
        uid_map: Some(format!("0 {uid} 1\n1 {su} 65536\n")),
        gid_map: Some(format!("0 {gid} 1\n1 {sg} 65536\n")),
        uidmap_path: Some("/usr/bin/newuidmap".into()),
        gidmap_path: Some("/usr/bin/newgidmap".into()),
        rootless_euid: true,
        ..Default::default()
    };
    let (calls, out) = traced_bootstrap_as(
        bin,
        &rootless,
        "true",
        true,
        &[],
        Some("nsexec-test"),
        false,
    );
    assert!(out.contains("status 0"), "{out}");
    record("bootstrap", "bootstrap, rootless through newuidmap", calls);
    // runc 1.1: the handshake byte, and bind sources opened by stage 0.
    let v1_1 = Bootstrap {
        clone_flags: runc::CLONE_NEWUSER | runc::CLONE_NEWNS,
        uid_map: Some("0 100000 65536\n".into()),
        gid_map: Some("0 100000 65536\n".into()),
        setgroups: true,
        mount_sources: Some(vec!["".into(), "/etc".into()]),
        ..Default::default()
    };
    let env = [
        ("_LIBCONTAINER_STATEDIR", "/tmp"),
        ("_LIBCONTAINER_MOUNT_FDS", "[-1,9]"),
    ];
    let (calls, out) = traced_bootstrap(bin, &v1_1, "test -d /proc/self/fd/9/", true, &env);
    assert!(out.contains("status 0"), "{out}");
    record("bootstrap", "bootstrap, runc 1.1 with mount sources", calls);
}

/// The init alone (mode pid1), on `bin` (the full or the init build): as
/// `--init` with its own options, as tini and as pause by their names.
fn pid1_scenarios(bin: &Path, all: &mut Scenarios) {
    let dir = std::env::temp_dir().join(format!("{}-{}", marker("audit-names"), rand()));
    std::fs::create_dir_all(&dir).unwrap();
    let named = |name: &str| {
        let link = dir.join(name);
        std::os::unix::fs::symlink(bin, &link).unwrap();
        link
    };
    let (tini, pause) = (named("tini"), named("pause"));
    let (calls, o) = traced(cmd_of(
        bin,
        [
            "--init",
            "--",
            "/bin/sh",
            "-c",
            "trap 'exit 0' USR1; kill -USR1 $PPID; sleep 5 & wait; exit 7",
        ],
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    all.record("pid1", "init alone, forwarding", calls);
    let (calls, o) = traced(cmd_of(
        bin,
        sh_after(
            "--init --init-group --pdeathsig TERM --remap-exit 3",
            "exit 3",
        ),
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    all.record("pid1", "init alone, its options", calls);
    let (calls, o) = traced(cmd_of(
        &tini,
        [
            "-g", "-e", "3", "-p", "SIGKILL", "--", "/bin/sh", "-c", "exit 3",
        ],
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    all.record("pid1", "tini by its name", calls);
    let (calls, o) = traced_with(cmd_of(&pause, [] as [&str; 0]), &[libc::SIGTERM], false);
    assert!(o.status.success(), "{:?} {}", o.status, stderr(&o));
    all.record("pid1", "pause, terminated", calls);
    let (calls, o) = traced(cmd_of(bin, ["--init", "--", "/nonexistent/program"]));
    assert_eq!(o.status.code(), Some(127), "{}", stderr(&o));
    all.record("pid1", "init alone, a missing program", calls);
    let (calls, o) = traced(cmd_of(&tini, ["--bogus"]));
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    all.record("pid1", "tini, a bad option", calls);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every scenario, traced, with the mode it exercises.
fn traced_scenarios() -> Vec<(&'static str, &'static str, BTreeSet<String>)> {
    // --seccomp-bpf works in every command-line mode: an allow-all filter
    // (one `ret SECCOMP_RET_ALLOW`) shows what loading it costs there.
    let allow_all = std::env::temp_dir().join(format!("{}.bpf", marker("allowall")));
    let ret_allow = (libc::BPF_RET | libc::BPF_K) as u16;
    let mut insn = ret_allow.to_ne_bytes().to_vec();
    insn.extend([0, 0]);
    insn.extend(libc::SECCOMP_RET_ALLOW.to_ne_bytes());
    std::fs::write(&allow_all, insn).unwrap();
    let bpf = allow_all.to_str().unwrap().to_owned();
    let mut all = Scenarios::default();
    bootstrap_scenarios(&nsexec(), &mut all);
    pid1_scenarios(&nsexec(), &mut all);
    let mut record = |mode, what, calls| all.record(mode, what, calls);
    // Command line.
    let (calls, o) = traced(cmd([
        "-U",
        "-r",
        "-p",
        "-m",
        "-u",
        "-i",
        "-n",
        "-C",
        "-T",
        "--boottime",
        "5",
        "--mount-proc",
        "--hostname",
        "h",
        "--oom-score-adj",
        "5",
        "--no-new-privs",
        "--",
        "/bin/true",
    ]));
    assert!(o.status.success(), "{}", stderr(&o));
    record("create", "command line create", calls);
    let (calls, o) = traced(cmd([
        "--map-users=0:100000:65536",
        "--map-groups=0:100000:65536",
        "-p",
        "--",
        "/bin/sh",
        "-c",
        "exit 0",
    ]));
    assert!(o.status.success(), "{}", stderr(&o));
    record("create", "command line range map through the helper", calls);
    // With -p nsexec stays the parent and forwards what it receives.
    let (calls, o) = traced_signalled(
        cmd([
            "-U",
            "-r",
            "-p",
            "--",
            "/bin/sh",
            "-c",
            "trap 'exit 3' TERM; sleep 5 & wait",
        ]),
        Some(libc::SIGTERM),
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    record("create", "command line forwarding SIGTERM", calls);
    let (calls, o) = traced(cmd([
        "--map-users=0:100000:65536",
        "--map-groups=0:100000:65536",
        "-p",
        "--init",
        "--",
        "/bin/sh",
        "-c",
        "trap 'exit 0' USR1; (sh -c 'exit 0' &); kill -USR1 1; sleep 5; exit 7",
    ]));
    assert!(o.status.success(), "{}", stderr(&o));
    record(
        "create,init",
        "command line range map, init as PID 1",
        calls,
    );
    // The init alone (a subreaper), forwarding a signal back to the program.
    let (calls, o) = traced(cmd([
        "--init",
        "--no-new-privs",
        "--seccomp-bpf",
        &bpf,
        "--",
        "/bin/sh",
        "-c",
        "trap 'exit 0' USR1; kill -USR1 $PPID; sleep 5 & wait; exit 7",
    ]));
    assert!(o.status.success(), "{}", stderr(&o));
    record("init", "init forwarding", calls);
    let (calls, o) = traced(cmd(sh_after(
        "--init-group --kill-child --pdeathsig TERM --remap-exit 3",
        "exit 3",
    )));
    assert!(o.status.success(), "{}", stderr(&o));
    record("init", "command line subreaper init", calls);
    let m = marker("audit-target");
    let mut target = Command::new("unshare")
        .args(["-u", "-n", "/bin/sh", "-c", &format!("sleep 60; : {m}")])
        .spawn()
        .unwrap();
    let pid = wait_for_pid(&m);
    let (calls, o) = traced(cmd([
        "-t",
        &pid.to_string(),
        "--no-new-privs",
        "--seccomp-bpf",
        &bpf,
        "--",
        "/bin/true",
    ]));
    let _ = target.kill();
    let _ = target.wait();
    assert!(o.status.success(), "{}", stderr(&o));
    record("join", "command line join", calls);
    let dir = std::env::temp_dir().join(marker("auditconsole"));
    std::fs::create_dir_all(&dir).unwrap();
    let sock = dir.join("s");
    let _ = std::fs::remove_file(&sock);
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let t = std::thread::spawn(move || {
        // Keep the pty master open until nsexec is done, as a runtime would.
        listener.accept().map(|(s, _)| (recv_fds(&s), s)).ok()
    });
    let (calls, o) = traced(cmd([
        "--console-socket",
        sock.to_str().unwrap(),
        "--no-new-privs",
        "--seccomp-bpf",
        &bpf,
        "--",
        "/bin/true",
    ]));
    let received = t.join().unwrap();
    assert_eq!(received.map(|((_, fds), _)| fds.len()), Some(1));
    assert!(o.status.success(), "{:?} {}", o.status, stderr(&o));
    record("console", "console socket", calls);
    // Detached: the program left running, its pid in a file; and a
    // program that cannot be executed, which leaves no pid file behind.
    let pid_file = std::env::temp_dir().join(marker("audit-pidfile"));
    let (calls, o) = traced(cmd([
        "-d",
        "--pid-file",
        pid_file.to_str().unwrap(),
        "--",
        "/bin/sleep",
        "0.2",
    ]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(pid_file.exists());
    let _ = std::fs::remove_file(&pid_file);
    record("detach", "detach with a pid file", calls);
    let (calls, o) = traced(cmd([
        "-d",
        "--pid-file",
        pid_file.to_str().unwrap(),
        "--",
        "/nonexistent/program",
    ]));
    assert_eq!(o.status.code(), Some(127), "{}", stderr(&o));
    assert!(!pid_file.exists());
    record("detach", "detach of a missing program", calls);
    // --tty on a terminal: the window size changes once, then SIGTERM is
    // forwarded to the program and ends the relay with its status.
    let (calls, o) = traced_with(
        cmd([
            "--tty",
            "--no-new-privs",
            "--seccomp-bpf",
            &bpf,
            "--",
            "/bin/sleep",
            "10",
        ]),
        &[libc::SIGWINCH, libc::SIGTERM],
        true,
    );
    assert_eq!(o.status.code(), Some(143), "{}", stderr(&o));
    record("tty", "tty relay, resized and terminated", calls);
    let (calls, o) = traced(cmd(["--bogus"]));
    assert_eq!(o.status.code(), Some(125));
    for m in MODES {
        record(m, "bad command line", calls.clone());
    }
    all.0
}

#[test]
fn every_mode_calls_exactly_its_set() {
    if skip_under_qemu("strace would trace qemu") {
        return;
    }
    // The seccomp tests reap stray children; keep them off our Commands.
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let table = table();
    let scenarios = traced_scenarios();
    let mut report = String::new();
    for mode in MODES {
        let set = mode_set(mode);
        let mut used = BTreeSet::new();
        for (m, what, calls) in &scenarios {
            if !m.split(',').any(|x| x == mode) {
                continue;
            }
            // A scenario of several modes may call what any of them needs.
            let allowed: BTreeSet<String> = m.split(',').flat_map(mode_set).collect();
            let outside: Vec<&String> = calls.difference(&allowed).collect();
            if !outside.is_empty() {
                report += &format!("{m}: {what} calls outside --syscalls={m}: {outside:?}\n");
            }
            if *m == mode {
                used.extend(calls.iter().cloned());
            }
        }
        let unused: Vec<&String> = set.difference(&used).collect();
        if !unused.is_empty() {
            report += &format!("{mode}: no scenario of the mode calls {unused:?}\n");
        }
        assert!(set.is_subset(&table), "{mode}: not in the table");
    }
    let all = mode_set("all");
    assert_eq!(all, table, "--syscalls=all is the table");
    let union: BTreeSet<String> = MODES.iter().flat_map(|m| mode_set(m)).collect();
    assert_eq!(union, table, "every entry belongs to some mode");
    assert!(report.is_empty(), "{report}");
}

#[test]
fn the_seccomp_profile_is_an_oci_profile_of_exactly_the_table() {
    let o = run(cmd(["--seccomp-profile"]), Duration::from_secs(10));
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["defaultAction"], "SCMP_ACT_ERRNO");
    let arch = match std::env::var("NSEXEC_ARCH").as_deref() {
        Ok("aarch64") => "SCMP_ARCH_AARCH64",
        Ok("powerpc64le") => "SCMP_ARCH_PPC64LE",
        Ok("s390x") => "SCMP_ARCH_S390X",
        _ => "SCMP_ARCH_X86_64",
    };
    assert_eq!(v["architectures"], serde_json::json!([arch]));
    let rules = v["syscalls"].as_array().unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["action"], "SCMP_ACT_ALLOW");
    let names: BTreeSet<String> = rules[0]["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, table());
    assert!(names.contains("execve"));
}

/// x86_64 numbers of the table's calls, for a filter built here.
fn number(name: &str) -> i64 {
    match name {
        "read" => libc::SYS_read,
        "write" => libc::SYS_write,
        "openat" => libc::SYS_openat,
        "close" => libc::SYS_close,
        "fcntl" => libc::SYS_fcntl,
        "dup3" => libc::SYS_dup3,
        "ioctl" => libc::SYS_ioctl,
        "execve" => libc::SYS_execve,
        "execveat" => libc::SYS_execveat,
        "exit_group" => libc::SYS_exit_group,
        "clone" => libc::SYS_clone,
        "wait4" => libc::SYS_wait4,
        "kill" => libc::SYS_kill,
        "getpid" => libc::SYS_getpid,
        "getppid" => libc::SYS_getppid,
        "getuid" => libc::SYS_getuid,
        "getgid" => libc::SYS_getgid,
        "prctl" => libc::SYS_prctl,
        "setns" => libc::SYS_setns,
        "unshare" => libc::SYS_unshare,
        "setresuid" => libc::SYS_setresuid,
        "setresgid" => libc::SYS_setresgid,
        "setgroups" => libc::SYS_setgroups,
        "setsid" => libc::SYS_setsid,
        "setpgid" => libc::SYS_setpgid,
        "socketpair" => libc::SYS_socketpair,
        "socket" => libc::SYS_socket,
        "connect" => libc::SYS_connect,
        "sendmsg" => libc::SYS_sendmsg,
        "recvmsg" => libc::SYS_recvmsg,
        "sendfile" => libc::SYS_sendfile,
        "rt_sigprocmask" => libc::SYS_rt_sigprocmask,
        "rt_sigtimedwait" => libc::SYS_rt_sigtimedwait,
        "memfd_create" => libc::SYS_memfd_create,
        "mount" => libc::SYS_mount,
        "sethostname" => libc::SYS_sethostname,
        "readlinkat" => libc::SYS_readlinkat,
        "renameat2" => libc::SYS_renameat2,
        "unlinkat" => libc::SYS_unlinkat,
        "ppoll" => libc::SYS_ppoll,
        "signalfd4" => libc::SYS_signalfd4,
        "madvise" => libc::SYS_madvise,
        "capget" => libc::SYS_capget,
        "capset" => libc::SYS_capset,
        "pidfd_open" => libc::SYS_pidfd_open,
        "sched_getaffinity" => libc::SYS_sched_getaffinity,
        "fchmod" => libc::SYS_fchmod,
        "fstatfs" => libc::SYS_fstatfs,
        "fsopen" => libc::SYS_fsopen,
        "fsconfig" => libc::SYS_fsconfig,
        "fsmount" => libc::SYS_fsmount,
        other => panic!("no x86_64 number for {other}"),
    }
}

/// A classic BPF filter: x86_64 only, allow `allowed`, everything else EPERM.
fn filter(allowed: &[i64]) -> Vec<libc::sock_filter> {
    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    let stmt = |code: u32, k: u32| libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    };
    let jeq = |k: u32, jt: u8, jf: u8| libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
        jt,
        jf,
        k,
    };
    let mut f = vec![
        stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 4),
        jeq(AUDIT_ARCH_X86_64, 1, 0),
        stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_KILL_PROCESS),
        stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0),
    ];
    for &nr in allowed {
        f.push(jeq(nr as u32, 0, 1));
        f.push(stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW));
    }
    f.push(stmt(
        libc::BPF_RET | libc::BPF_K,
        libc::SECCOMP_RET_ERRNO | libc::EPERM as u32,
    ));
    f
}

/// A static x86_64 program that only calls exit_group(42): the smallest
/// payload, needing nothing but what the table already has.
fn exit42() -> std::path::PathBuf {
    let code: [u8; 12] = [0xbf, 42, 0, 0, 0, 0xb8, 231, 0, 0, 0, 0x0f, 0x05];
    let base: u64 = 0x40_0000;
    let total = (64 + 56 + code.len()) as u64;
    let mut elf = Vec::new();
    elf.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    elf.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    elf.extend_from_slice(&0x3eu16.to_le_bytes()); // x86_64
    elf.extend_from_slice(&1u32.to_le_bytes());
    elf.extend_from_slice(&(base + 64 + 56).to_le_bytes()); // entry
    elf.extend_from_slice(&64u64.to_le_bytes()); // phoff
    elf.extend_from_slice(&0u64.to_le_bytes()); // shoff
    elf.extend_from_slice(&0u32.to_le_bytes());
    for v in [64u16, 56, 1, 0, 0, 0] {
        elf.extend_from_slice(&v.to_le_bytes());
    }
    elf.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    elf.extend_from_slice(&5u32.to_le_bytes()); // R X
    for v in [0u64, base, base, total, total, 0x1000] {
        elf.extend_from_slice(&v.to_le_bytes());
    }
    elf.extend_from_slice(&code);
    let path = std::env::temp_dir().join(format!("{}-exit42", marker("payload")));
    std::fs::write(&path, &elf).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    path
}

/// A full bootstrap (user+pid+mnt+uts+ipc+net, range map) of [`exit42`]
/// under a seccomp filter allowing `allowed`: nsexec's status, the
/// payload's status, and nsexec's stderr.
fn filtered_bootstrap(allowed: &[String]) -> (Option<i32>, Option<i32>, String) {
    let nums: Vec<i64> = allowed.iter().map(|n| number(n)).collect();
    let prog = filter(&nums);
    let flags = runc::CLONE_NEWUSER
        | runc::CLONE_NEWPID
        | runc::CLONE_NEWNS
        | runc::CLONE_NEWUTS
        | runc::CLONE_NEWIPC
        | runc::CLONE_NEWNET;
    let msg = Bootstrap {
        clone_flags: flags,
        uid_map: Some("0 100000 65536\n".into()),
        gid_map: Some("0 100000 65536\n".into()),
        setgroups: true,
        ..Default::default()
    };
    let (mut ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&theirs);
    let mut c = Command::new(nsexec());
    c.arg(exit42()).env("_LIBCONTAINER_INITPIPE", "3");
    c.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    unsafe {
        c.pre_exec(move || {
            libc::dup2(fd, 3);
            let p = libc::sock_fprog {
                len: prog.len() as u16,
                filter: prog.as_ptr() as *mut _,
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::syscall(
                    libc::SYS_seccomp,
                    libc::SECCOMP_SET_MODE_FILTER,
                    0,
                    &p as *const libc::sock_fprog,
                ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = c.spawn().unwrap();
    drop(theirs);
    let _ = ours.write_all(&msg.encode());
    let o = wait_output(child, Duration::from_secs(20));
    ours.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut pipe = String::new();
    let _ = std::io::Read::read_to_string(&mut ours, &mut pipe);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut payload = None;
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(pipe.trim()) {
        if let Some(p) = v["stage2_pid"].as_i64() {
            payload = runc::wait_pid(p as i32, deadline);
        }
        if let Some(p) = v["stage1_pid"].as_i64() {
            runc::wait_pid(p as i32, deadline);
        }
    }
    std::thread::sleep(Duration::from_millis(20));
    runc::reap_strays();
    (o.status.code(), payload, stderr(&o))
}

static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn the_profile_as_a_filter_lets_a_full_bootstrap_through() {
    if skip_under_qemu("seccomp of a qemu process") {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let all: Vec<String> = table().into_iter().collect();
    let (code, payload, err) = filtered_bootstrap(&all);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(payload, Some(42), "the payload ran under the filter: {err}");
}

#[test]
fn removing_any_needed_call_fails_naming_it() {
    if skip_under_qemu("seccomp of a qemu process") {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let all: Vec<String> = table().into_iter().collect();
    // What a message may call a syscall by.
    let aliases: HashMap<&str, &[&str]> =
        HashMap::from([("openat", &["open"][..]), ("read", &["read"][..])]);
    let mut needed = Vec::new();
    for name in &all {
        // execve starts nsexec itself under the filter, and exit_group is
        // how any outcome is reported: neither can be taken away here.
        if name == "execve" || name == "exit_group" {
            continue;
        }
        let allowed: Vec<String> = all.iter().filter(|n| *n != name).cloned().collect();
        let (code, payload, err) = filtered_bootstrap(&allowed);
        if code == Some(0) && payload == Some(42) {
            continue; // not needed by this scenario
        }
        needed.push(name.clone());
        assert_ne!(code, Some(0), "{name}: failed but exited 0: {err}");
        if name == "write" {
            // Without write no message can be written; the status still says it.
            assert_ne!(payload, Some(42));
            continue;
        }
        let names: Vec<&str> = aliases
            .get(name.as_str())
            .map(|a| a.to_vec())
            .unwrap_or_else(|| vec![name.as_str()]);
        assert!(
            names.iter().any(|n| err.contains(n)) && err.contains("EPERM"),
            "without {name}: message must name it and EPERM: {err}"
        );
        assert_ne!(payload, Some(42), "without {name} the payload ran");
    }
    for must in [
        "clone",
        "unshare",
        "setresuid",
        "socketpair",
        "ppoll",
        "openat",
        "write",
        "read",
    ] {
        assert!(
            needed.iter().any(|n| n == must),
            "{must} should be needed; needed: {needed:?}"
        );
    }
}

/// Each role build, traced on its own mode's scenarios, calls only what
/// its `--syscalls` lists, and every call it lists is made by one of them.
#[test]
fn each_role_build_calls_exactly_its_set() {
    if skip_under_qemu("strace would trace qemu") {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut report = String::new();
    type Run = fn(&Path, &mut Scenarios);
    let roles: [(std::path::PathBuf, &str, Run); 2] = [
        (bootstrap_nsexec(), "bootstrap", bootstrap_scenarios),
        (init_nsexec(), "pid1", pid1_scenarios),
    ];
    for (bin, mode, scenarios) in roles {
        let o = run(cmd_of(&bin, ["--syscalls"]), Duration::from_secs(10));
        assert!(o.status.success(), "{}", stderr(&o));
        let own: BTreeSet<String> = stdout(&o).lines().map(str::to_owned).collect();
        assert_eq!(
            own,
            mode_set(mode),
            "{mode}: the build's table is its mode's"
        );
        let mut all = Scenarios::default();
        scenarios(&bin, &mut all);
        let mut used = BTreeSet::new();
        for (_, what, calls) in &all.0 {
            let outside: Vec<&String> = calls.difference(&own).collect();
            if !outside.is_empty() {
                report += &format!(
                    "{} build: {what} calls outside its table: {outside:?}\n",
                    bin.display()
                );
            }
            used.extend(calls.iter().cloned());
        }
        let unused: Vec<&String> = own.difference(&used).collect();
        if !unused.is_empty() {
            report += &format!("{} build: no scenario calls {unused:?}\n", bin.display());
        }
    }
    assert!(report.is_empty(), "{report}");
}

/// `options` (words split at spaces), `--`, then `/bin/sh -c script`: the
/// command lines of the option runs, one line each.
fn sh_after(options: &str, script: &str) -> Vec<String> {
    let mut argv: Vec<String> = options.split(' ').map(str::to_owned).collect();
    argv.extend(["--", "/bin/sh", "-c", script].map(str::to_owned));
    argv
}

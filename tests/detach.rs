//! `--detach` and `--pid-file`: nsexec leaves the program (or its own init)
//! running and exits; the pid file names it as the caller's pid namespace
//! sees it.

mod support;

use std::time::{Duration, Instant};
use support::*;

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
    })
}

/// Detached processes outlive nsexec; as a subreaper this test process
/// inherits them and reaps them, as a caller's init would.
fn adopt_orphans() {
    assert_eq!(
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) },
        0
    );
}

fn wait_gone(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) {
        assert!(Instant::now() < deadline, "{pid} still alive");
        std::thread::sleep(Duration::from_millis(20));
    }
    unsafe { libc::waitpid(pid as i32, std::ptr::null_mut(), libc::WNOHANG) };
}

/// Runs nsexec with stdout and stderr in files: a detached program keeps
/// the caller's stdio, so pipes would not reach end-of-file with nsexec.
fn run_detached(mut c: std::process::Command) -> (Option<i32>, String) {
    let err = std::env::temp_dir().join(marker("detach-stderr"));
    let f = std::fs::File::create(&err).unwrap();
    c.stdin(std::process::Stdio::null())
        .stdout(f.try_clone().unwrap())
        .stderr(f);
    let mut child = c.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "nsexec did not exit");
        std::thread::sleep(Duration::from_millis(5));
    };
    let text = std::fs::read_to_string(&err).unwrap_or_default();
    let _ = std::fs::remove_file(&err);
    (status.code(), text)
}

fn read_pid(path: &std::path::Path) -> u32 {
    std::fs::read_to_string(path).unwrap().parse().unwrap()
}

fn no_leftovers(dir: &std::path::Path, keep: &str) {
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        assert_eq!(name, keep, "left behind in {}: {name}", dir.display());
    }
}

#[test]
fn detached_program_keeps_running_in_its_namespaces_after_nsexec_exits() {
    if skip_under_qemu("user and pid namespaces") {
        return;
    }
    adopt_orphans();
    let dir = std::env::temp_dir().join(marker("detach"));
    std::fs::create_dir_all(&dir).unwrap();
    let pid_file = dir.join("pid");
    let m = marker("detached-sleeper");
    let (code, err) = run_detached(cmd([
        "-d",
        "--pid-file",
        pid_file.to_str().unwrap(),
        "-U",
        "-r",
        "-p",
        "--",
        "/bin/sh",
        "-c",
        &format!("sleep 30; : {m}"),
    ]));
    // nsexec alone was waited for: it is gone, with status 0.
    assert_eq!(code, Some(0), "{err}");
    let pid = read_pid(&pid_file);
    assert!(alive(pid), "the program runs on");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let nspid = status.lines().find(|l| l.starts_with("NSpid:")).unwrap();
    assert_eq!(
        nspid.split_whitespace().collect::<Vec<_>>(),
        ["NSpid:", &pid.to_string(), "1"]
    );
    assert_ne!(ns_link(&pid.to_string(), "pid"), ns_link("self", "pid"));
    assert_ne!(ns_link(&pid.to_string(), "user"), ns_link("self", "user"));
    // Nothing of nsexec stays: the only process with the marker is the program.
    assert_eq!(pids_matching(&m), vec![pid]);
    no_leftovers(&dir, "pid");
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    wait_gone(pid);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_detached_init_keeps_reaping_and_forwarding() {
    if skip_under_qemu("pid namespaces") {
        return;
    }
    adopt_orphans();
    let dir = std::env::temp_dir().join(marker("detach-init"));
    std::fs::create_dir_all(&dir).unwrap();
    let (pid_file, got) = (dir.join("pid"), dir.join("got-term"));
    let script = format!(
        "trap 'touch {}; exit 3' TERM; i=0; while [ $i -lt 20 ]; do (true &); i=$((i+1)); done; while :; do sleep 0.1; done",
        got.display()
    );
    let (code, err) = run_detached(cmd([
        "-d",
        "-p",
        "--init",
        "--pid-file",
        pid_file.to_str().unwrap(),
        "--",
        "/bin/sh",
        "-c",
        &script,
    ]));
    assert_eq!(code, Some(0), "{err}");
    let init = read_pid(&pid_file);
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{init}/comm"))
            .unwrap()
            .trim(),
        "nsexec",
        "the pid file names nsexec's init"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(zombies_of(init), 0, "the detached init reaps");
    unsafe { libc::kill(init as i32, libc::SIGTERM) };
    // Forwarded to the program, which exits; the init ends with it.
    wait_gone(init);
    assert!(got.exists(), "SIGTERM reached the program");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_pid_file_names_the_program_in_the_foreground_too() {
    if skip_under_qemu("pid namespaces") {
        return;
    }
    let dir = std::env::temp_dir().join(marker("pidfile"));
    std::fs::create_dir_all(&dir).unwrap();
    let pid_file = dir.join("pid");
    // Executed in place: nsexec's own pid is the program's.
    let o = sh(&["--pid-file", pid_file.to_str().unwrap()], "echo $$");
    assert_eq!(
        stdout(&o).trim(),
        std::fs::read_to_string(&pid_file).unwrap()
    );
    // In a new pid namespace: the outer pid of the program (pid 1 inside).
    let o = sh(
        &["--pid-file", pid_file.to_str().unwrap(), "-p"],
        "exec grep NSpid /proc/self/status",
    );
    let nspid: Vec<String> = stdout(&o).split_whitespace().map(str::to_owned).collect();
    assert_eq!(
        nspid[1],
        std::fs::read_to_string(&pid_file).unwrap(),
        "{nspid:?}"
    );
    assert_eq!(nspid[2], "1");
    no_leftovers(&dir, "pid");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_detach_combinations_are_refused_and_leave_nothing() {
    let dir = std::env::temp_dir().join(marker("detach-bad"));
    std::fs::create_dir_all(&dir).unwrap();
    let pid_file = dir.join("pid");
    let pf = pid_file.to_str().unwrap();
    for (args, needle, code) in [
        (vec!["-d", "--kill-child", "--", "true"], "contradict", 125),
        (vec!["-d", "--init", "--", "true"], "needs '--pid'", 125),
        (
            vec!["--pid-file", "/nonexistent/dir/pid", "--", "true"],
            "ENOENT",
            125,
        ),
        (vec!["--pid-file", "", "--", "true"], "pid-file", 125),
        (
            vec!["-d", "--pid-file", pf, "--", "/nonexistent/program"],
            "ENOENT",
            127,
        ),
    ] {
        let o = run(cmd(&args), Duration::from_secs(20));
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            0,
            "{args:?} left a file"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

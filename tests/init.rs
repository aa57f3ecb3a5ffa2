//! Foreground supervision and `--init`: signal forwarding, reaping, exit
//! statuses, --kill-child and the console socket, on real processes.

mod support;

use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// Starts `nsexec ARGS -- sh -c SCRIPT` with stdout piped; waits for the
/// payload to print `ready`.
fn start(args: &[&str], script: &str) -> (std::process::Child, std::process::ChildStdout) {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--", "/bin/sh", "-c", script]);
    let mut c = cmd_of(&nsexec_for(args), all);
    c.stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .stdin(Stdio::null());
    let mut child = c.spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut b = [0u8; 1];
    while !String::from_utf8_lossy(&seen).contains("ready") {
        assert_eq!(
            out.read(&mut b).unwrap(),
            1,
            "payload ended before it was ready: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.push(b[0]);
    }
    (child, out)
}

fn wait_code(mut child: std::process::Child, timeout: Duration) -> Option<i32> {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st.code();
        }
        if start.elapsed() > timeout {
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
            panic!("nsexec did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn signal(child: &std::process::Child, sig: i32) {
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

#[test]
fn foreground_forwards_signals_into_a_new_pid_namespace() {
    let script =
        "trap 'echo got-usr1' USR1; trap 'exit 42' TERM; echo ready; while :; do sleep 0.01; done";
    for args in [&["-p"][..], &["-p", "--init"], &["--init"]] {
        let (child, mut out) = start(args, script);
        signal(&child, libc::SIGUSR1);
        std::thread::sleep(Duration::from_millis(100));
        signal(&child, libc::SIGTERM);
        let code = wait_code(child, Duration::from_secs(10));
        let mut rest = String::new();
        out.read_to_string(&mut rest).unwrap();
        assert_eq!(code, Some(42), "{args:?}");
        assert!(
            rest.contains("got-usr1"),
            "{args:?}: USR1 was not forwarded: {rest}"
        );
    }
}

#[test]
fn every_catchable_signal_reaches_the_payload() {
    // Realtime and job-control signals too; SIGCHLD is nsexec's own business.
    let sigs = [1, 2, 3, 10, 12, 14, 15, 28, 34, 40, 64];
    let traps: String = sigs
        .iter()
        .map(|s| format!("trap 'echo sig{s}' {s}; "))
        .collect();
    let script = format!("{traps} echo ready; while :; do sleep 0.01; done");
    let (child, mut out) = start(&["-p", "--init"], &script);
    for s in sigs {
        signal(&child, s);
        std::thread::sleep(Duration::from_millis(60));
    }
    signal(&child, libc::SIGKILL);
    let _ = wait_code(child, Duration::from_secs(10));
    let mut rest = String::new();
    let _ = out.read_to_string(&mut rest);
    for s in sigs {
        assert!(
            rest.contains(&format!("sig{s}\n")),
            "signal {s} not forwarded: {rest}"
        );
    }
}

#[test]
fn init_group_forwards_to_the_whole_process_group() {
    let m = marker("group");
    let script = format!(
        "sh -c 'trap \"echo child-term; exit 0\" TERM; while :; do sleep 0.01; done; : {m}' & trap 'wait; exit 3' TERM; echo ready; wait"
    );
    let (child, mut out) = start(&["--init-group"], &script);
    std::thread::sleep(Duration::from_millis(100));
    signal(&child, libc::SIGTERM);
    let code = wait_code(child, Duration::from_secs(10));
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(
        rest.contains("child-term"),
        "the grandchild in the group got no SIGTERM: {rest}"
    );
    assert_eq!(code, Some(3));
    assert_gone(&m, Duration::from_secs(5));
}

#[test]
fn remap_exit_turns_a_status_into_zero() {
    let o = sh(
        &["--init", "--remap-exit", "143", "--remap-exit", "7"],
        "exit 7",
    );
    assert_eq!(o.status.code(), Some(0));
    let o = sh(&["--init", "--remap-exit", "143"], "kill -TERM $$");
    assert_eq!(o.status.code(), Some(0));
    let o = sh(&["--init", "--remap-exit", "143"], "exit 8");
    assert_eq!(o.status.code(), Some(8));
}

fn orphans_script(n: usize, m: &str) -> String {
    // Each orphan exits at once; its parent (a subshell) is gone first, so
    // every one is reparented to the init or subreaper.
    format!(
        "i=0; while [ $i -lt {n} ]; do (sh -c 'exit 0' &) ; i=$((i+1)); done; sleep 0.5; echo done; : {m}"
    )
}

#[test]
fn init_reaps_a_thousand_orphans_as_pid_1() {
    let m = marker("orphans-pid1");
    let script = format!(
        "{}; ls /proc | grep '^[0-9]' | while read p; do grep -l '^State:.Z' /proc/$p/status 2>/dev/null; done | wc -l",
        orphans_script(1000, &m)
    );
    let o = sh(&["-p", "--mount-proc", "--init"], &script);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("done"));
    assert_eq!(
        out.lines().last().map(str::trim),
        Some("0"),
        "zombies left inside: {out}"
    );
}

#[test]
fn init_reaps_a_thousand_orphans_as_a_subreaper() {
    let m = marker("orphans-sub");
    let mut c = cmd_of(
        &init_nsexec(),
        ["--init", "--", "/bin/sh", "-c", &orphans_script(1000, &m)],
    );
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = c.spawn().unwrap();
    let pid = child.id();
    let o = wait_output(child, Duration::from_secs(60));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(zombies_of(pid), 0);
    // None of them came to us either.
    assert_eq!(zombies_of(std::process::id()), 0);
}

#[test]
fn init_is_pid_1_inside_pid_and_mount_proc() {
    let o = sh(
        &["-p", "--mount-proc", "--init"],
        "cat /proc/1/comm; echo $$; cat /proc/1/status | grep ^PPid",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "nsexec", "pid 1 is nsexec: {out}");
    assert_eq!(lines[1], "2", "the payload is its child");
    assert_eq!(lines[2].split_whitespace().last(), Some("0"));
}

#[test]
fn without_init_the_payload_is_pid_1_like_unshare_fork() {
    let ours = sh(&["-p", "--mount-proc"], "echo $$; cat /proc/1/comm");
    let theirs = Command::new("unshare")
        .args([
            "-p",
            "-f",
            "--mount-proc",
            "/bin/sh",
            "-c",
            "echo $$; cat /proc/1/comm",
        ])
        .output()
        .unwrap();
    assert_eq!(stdout(&ours), stdout(&theirs));
}

#[test]
fn an_init_in_a_new_pid_namespace_dies_with_nsexec() {
    let m = marker("initdies");
    let (child, _out) = start(&["-p", "--init"], &format!("echo ready; sleep 60; : {m}"));
    signal(&child, libc::SIGKILL);
    let _ = wait_code(child, Duration::from_secs(10));
    assert_gone(&m, Duration::from_secs(5));
}

#[test]
fn kill_child_takes_the_payload_along_when_nsexec_dies() {
    for args in [
        &["--kill-child"][..],
        &["-p", "--kill-child"],
        &["--kill-child=TERM"],
    ] {
        let m = marker("killchild");
        let (child, _out) = start(args, &format!("echo ready; sleep 60; : {m}"));
        signal(&child, libc::SIGKILL);
        let _ = wait_code(child, Duration::from_secs(10));
        assert_gone(&m, Duration::from_secs(5));
    }
}

#[test]
fn without_kill_child_the_payload_outlives_a_killed_nsexec() {
    let m = marker("nokill");
    let (child, _out) = start(&[], &format!("echo ready; sleep 60; : {m}"));
    // Without a pid namespace or an option that needs a child, nsexec
    // execs the payload: the pid is the payload itself.
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(pids_matching(&m), vec![child.id()]);
    signal(&child, libc::SIGKILL);
    let _ = wait_code(child, Duration::from_secs(10));
}

#[test]
fn pdeathsig_signals_the_init_when_its_parent_dies() {
    let m = marker("pdeath");
    // A middle shell starts nsexec in the background and exits.
    let script = format!(
        "{} --init --pdeathsig KILL -- /bin/sh -c 'sleep 60; : {m}' >/dev/null 2>&1 & sleep 0.2; echo started",
        nsexec().display()
    );
    if under_qemu() {
        eprintln!("skipped under qemu: the middle shell runs the native binary path");
        return;
    }
    let o = Command::new("/bin/sh")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(stdout(&o).contains("started"));
    // nsexec's parent (the middle shell) is gone: nsexec gets SIGKILL; its
    // payload is reparented and lives on unless killed, so look at nsexec.
    std::thread::sleep(Duration::from_millis(200));
    let left: Vec<u32> = pids_matching(&m)
        .into_iter()
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm"))
                .unwrap_or_default()
                .trim()
                == "nsexec"
        })
        .collect();
    for p in pids_matching(&m) {
        unsafe { libc::kill(p as i32, libc::SIGKILL) };
    }
    assert!(left.is_empty(), "nsexec survived its parent: {left:?}");
}

#[test]
fn console_socket_receives_a_pty_master_that_carries_the_output() {
    let dir = std::env::temp_dir().join(marker("console"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("console.sock");
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap();
    let mut c = cmd([
        "-p",
        "--console-socket",
        path.to_str().unwrap(),
        "--",
        "/bin/sh",
        "-c",
        "tty; echo hello-from-the-payload; test -t 0 && test -t 1 && test -t 2 && echo all-ttys",
    ]);
    c.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    let child = c.spawn().unwrap();
    let (stream, _) = listener.accept().unwrap();
    let (data, fds) = recv_fds(&stream);
    assert_eq!(fds.len(), 1, "exactly one descriptor");
    assert!(!data.is_empty(), "at least one data byte");
    let master = &fds[0];
    // A pty master answers TIOCGPTN; anything else does not.
    let mut n: libc::c_uint = 0;
    assert_eq!(
        unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTN, &mut n) },
        0,
        "not a pty master"
    );
    assert_eq!(std::str::from_utf8(&data).unwrap(), format!("/dev/pts/{n}"));
    let o = wait_output(child, Duration::from_secs(10));
    assert!(o.status.success(), "{}", stderr(&o));
    let mut f = std::fs::File::from(master.try_clone().unwrap());
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    // The slave is closed now: reading drains what the payload wrote, then EIO.
    while let Ok(k) = f.read(&mut buf) {
        if k == 0 {
            break;
        }
        text.extend_from_slice(&buf[..k]);
    }
    let text = String::from_utf8_lossy(&text);
    assert!(text.contains("hello-from-the-payload"), "{text}");
    assert!(
        text.contains("all-ttys"),
        "stdin, stdout and stderr are the pty: {text}"
    );
    assert!(text.contains(&format!("/dev/pts/{n}")), "{text}");
    assert!(
        stdout(&o).is_empty(),
        "output went to the pty, not the original stdout"
    );
}

//! `--tty` as a person uses it: a real terminal (a tmux pane), keys typed
//! with `send-keys`, the screen read with `capture-pane`. The outer shell
//! is bash in the pane; nsexec runs in it as a person would type it.

mod support;

use std::os::fd::AsRawFd;
use std::os::unix::net::UnixListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// One tmux server of our own (its own socket), one pane running bash.
struct Pane {
    socket: String,
}

impl Pane {
    fn new(name: &str) -> Pane {
        let socket = marker(name);
        let pane = Pane { socket };
        // No rc files: the prompt and the shell are exactly what we say.
        let shell = "env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=xterm PS1='outer$ ' \
                     bash --norc --noprofile -i";
        pane.tmux(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            "80",
            "-y",
            "24",
            shell,
        ]);
        pane.wait_for("the outer prompt", |s| s.contains("outer$ "));
        pane
    }

    fn tmux(&self, args: &[&str]) -> String {
        let o = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("tmux");
        assert!(o.status.success(), "tmux {args:?}: {}", stderr(&o));
        stdout(&o)
    }

    /// Types `line` and Enter. The tests type `key""=value` and
    /// `PS1='inner''$ '`, so that what is typed never shows `key=` or the
    /// prompt on the screen: only output does.
    fn type_line(&self, line: &str) {
        self.tmux(&["send-keys", "-t", "0", "-l", line]);
        self.tmux(&["send-keys", "-t", "0", "Enter"]);
    }

    /// Presses a key by tmux's name for it (`C-z`, `C-c`).
    fn key(&self, key: &str) {
        self.tmux(&["send-keys", "-t", "0", key]);
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-J", "-t", "0", "-S", "-200"])
    }

    /// The pane's own terminal, as the outer shell sees it.
    fn tty(&self) -> String {
        self.tmux(&["display-message", "-p", "-t", "0", "#{pane_tty}"])
            .trim()
            .to_owned()
    }

    fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.screen();
            if done(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// Waits until `prompt` is on the screen `n` times.
    fn prompts(&self, prompt: &str, n: usize) -> String {
        self.wait_for(&format!("{n} × {prompt:?}"), |s| {
            s.matches(prompt).count() >= n
        })
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .stderr(Stdio::null())
            .status();
    }
}

/// `stty -g` of a terminal, read from outside the pane.
fn stty_g(tty: &str) -> String {
    let f = std::fs::File::open(tty).unwrap();
    let o = Command::new("stty").arg("-g").stdin(f).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o).trim().to_owned()
}

/// The nsexec process among those whose command line holds `needle`.
fn nsexec_pid(needle: &str) -> Option<u32> {
    pids_matching(needle).into_iter().find(|p| {
        std::fs::read_link(format!("/proc/{p}/exe"))
            .is_ok_and(|e| e.to_string_lossy().contains("nsexec"))
    })
}

fn skip() -> bool {
    skip_under_qemu("tmux drives the host's binary")
}

fn n() -> String {
    nsexec().to_str().unwrap().to_owned()
}

/// The value printed after `key=` on the last line that has one.
fn last_value(screen: &str, key: &str) -> Option<String> {
    screen
        .lines()
        .filter_map(|l| l.split_once(key))
        .map(|(_, v)| v.split_whitespace().next().unwrap_or("").to_owned())
        .next_back()
}

#[test]
fn a_new_pty_with_job_control_and_the_exit_status() {
    if skip() {
        return;
    }
    let pane = Pane::new("tty-job");
    let outer = pane.tty();
    let before = stty_g(&outer);
    pane.type_line(&format!(
        "PS1='inner''$ ' {} --tty -- bash --norc --noprofile -i",
        n()
    ));
    pane.prompts("inner$ ", 1);
    // The relay holds the outer terminal raw while it runs.
    assert_ne!(stty_g(&outer), before, "the outer terminal is not raw");
    pane.type_line("echo \"inner\"\"=$(tty)\"");
    let s = pane.prompts("inner$ ", 2);
    let inner = last_value(&s, "inner=").unwrap();
    assert!(inner.starts_with("/dev/pts/"), "{s}");
    assert_ne!(inner, outer, "the payload has a pty of its own");
    // Job control: stop a job with Ctrl-Z, list it, resume it, interrupt it.
    let sleeper = "sleep 1001";
    pane.type_line(sleeper);
    wait_until(|| !pids_matching(sleeper).is_empty());
    pane.key("C-z");
    let s = pane.prompts("inner$ ", 3);
    assert!(s.contains("Stopped"), "Ctrl-Z stops the job:\n{s}");
    pane.type_line("jobs");
    let s = pane.prompts("inner$ ", 4);
    assert!(
        s.lines()
            .any(|l| l.starts_with("[1]+") && l.contains("Stopped") && l.contains(sleeper)),
        "{s}"
    );
    pane.type_line("fg");
    pane.wait_for("fg", |s| s.lines().any(|l| l.trim() == sleeper));
    pane.key("C-c");
    pane.prompts("inner$ ", 5);
    assert_gone(sleeper, Duration::from_secs(5));
    pane.type_line("exit 3");
    // Keys typed before the outer prompt is back may reach the relay
    // while it winds down; a person waits for the prompt, so does this.
    pane.prompts("outer$ ", 2);
    pane.type_line("echo \"status\"\"=$?\"");
    let s = pane.wait_for("the status", |s| s.contains("status="));
    assert_eq!(last_value(&s, "status=").as_deref(), Some("3"), "{s}");
    assert_eq!(stty_g(&outer), before, "the outer terminal is restored");
}

#[test]
fn the_window_size_follows_the_outer_terminal() {
    if skip() {
        return;
    }
    let pane = Pane::new("tty-size");
    pane.type_line(&format!(
        "PS1='inner''$ ' {} --tty -- bash --norc --noprofile -i",
        n()
    ));
    pane.prompts("inner$ ", 1);
    pane.type_line("echo \"size\"\"=$(stty size | tr ' ' x)\"");
    let s = pane.prompts("inner$ ", 2);
    assert_eq!(last_value(&s, "size=").as_deref(), Some("24x80"), "{s}");
    pane.tmux(&["resize-window", "-t", "0", "-x", "100", "-y", "30"]);
    // SIGWINCH reaches nsexec, which copies the size on to the pty.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut prompts = 2;
    loop {
        pane.type_line("echo \"size\"\"=$(stty size | tr ' ' x)\"");
        prompts += 1;
        let s = pane.prompts("inner$ ", prompts);
        if last_value(&s, "size=").as_deref() == Some("30x100") {
            break;
        }
        assert!(Instant::now() < deadline, "the size did not follow:\n{s}");
        std::thread::sleep(Duration::from_millis(100));
    }
    pane.type_line("exit");
    pane.prompts("outer$ ", 2);
}

#[test]
fn the_outer_terminal_is_restored_when_nsexec_is_terminated() {
    if skip() {
        return;
    }
    let pane = Pane::new("tty-term");
    let outer = pane.tty();
    let before = stty_g(&outer);
    let sleeper = "sleep 1002";
    pane.type_line(&format!("{} --tty -- {sleeper}", n()));
    wait_until(|| nsexec_pid(sleeper).is_some() && pids_matching(sleeper).len() >= 2);
    wait_until(|| stty_g(&outer) != before);
    let pid = nsexec_pid(sleeper).unwrap();
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGTERM) }, 0);
    // nsexec forwards SIGTERM; the payload's end ends the relay.
    pane.prompts("outer$ ", 2);
    pane.type_line("echo \"status\"\"=$?\"");
    let s = pane.wait_for("the status", |s| s.contains("status="));
    assert_eq!(last_value(&s, "status=").as_deref(), Some("143"), "{s}");
    assert_eq!(stty_g(&outer), before, "the outer terminal is restored");
    assert_gone(sleeper, Duration::from_secs(5));
}

#[test]
fn a_program_that_cannot_run_restores_the_terminal_too() {
    if skip() {
        return;
    }
    let pane = Pane::new("tty-missing");
    let outer = pane.tty();
    let before = stty_g(&outer);
    pane.type_line(&format!(
        "{} --tty -- /nonexistent/program; echo \"status\"\"=$?\"",
        n()
    ));
    let s = pane.wait_for("the status", |s| s.contains("status="));
    assert_eq!(last_value(&s, "status=").as_deref(), Some("127"), "{s}");
    assert!(
        s.contains("/nonexistent/program"),
        "the error is shown:\n{s}"
    );
    assert_eq!(stty_g(&outer), before);
}

#[test]
fn detach_gives_the_prompt_back_and_leaves_the_payload_in_its_namespaces() {
    if skip() {
        return;
    }
    let pane = Pane::new("tty-detach");
    let dir = std::env::temp_dir().join(marker("tty-detach"));
    std::fs::create_dir_all(&dir).unwrap();
    let pid_file = dir.join("pid");
    let sleeper = "sleep 1003";
    pane.type_line(&format!(
        "{} -d --pid-file {} -U -r -p -m -u -- {sleeper}; echo \"detached\"\"=$?\"",
        n(),
        pid_file.display()
    ));
    let s = pane.wait_for("the prompt", |s| s.contains("detached="));
    assert_eq!(last_value(&s, "detached=").as_deref(), Some("0"), "{s}");
    pane.prompts("outer$ ", 2);
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The payload is alive, PID 1 of its own pid namespace, and in new
    // user, mount and uts namespaces; no nsexec is left.
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let nspid = status.lines().find(|l| l.starts_with("NSpid:")).unwrap();
    assert!(nspid.split_whitespace().last() == Some("1"), "{nspid}");
    for ns in ["user", "pid", "mnt", "uts"] {
        assert_ne!(ns_link(&pid.to_string(), ns), ns_link("self", ns), "{ns}");
    }
    assert!(
        std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
            .unwrap()
            .contains("sleep"),
        "the pid file names the payload"
    );
    assert_eq!(nsexec_pid(sleeper), None, "nsexec is gone");
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    assert_gone(sleeper, Duration::from_secs(5));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tty_with_a_console_socket_sends_the_pty_and_needs_no_terminal() {
    if skip() {
        return;
    }
    // In the foreground, --tty --console-socket is the console socket: the
    // receiver holds the terminal, nsexec waits and gives the status.
    let dir = std::env::temp_dir().join(marker("tty-console"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s");
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap();
    let mut c = cmd([
        "--tty",
        "--console-socket",
        path.to_str().unwrap(),
        "--",
        "/bin/sh",
        "-c",
        "test -t 0 && echo on-the-pty; exit 6",
    ]);
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = c.spawn().unwrap();
    let (stream, _) = listener.accept().unwrap();
    let (_, fds) = recv_fds(&stream);
    assert_eq!(fds.len(), 1);
    let o = wait_output(child, Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let k = unsafe { libc::read(fds[0].as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if k <= 0 {
            break;
        }
        text.extend_from_slice(&buf[..k as usize]);
    }
    assert!(String::from_utf8_lossy(&text).contains("on-the-pty"));
    assert!(stdout(&o).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tty_without_a_terminal_is_refused_and_leaves_nothing() {
    let dir = std::env::temp_dir().join(marker("tty-refused"));
    std::fs::create_dir_all(&dir).unwrap();
    let pid_file = dir.join("pid");
    let cases: [&[&str]; 3] = [
        &[
            "--tty",
            "--pid-file",
            pid_file.to_str().unwrap(),
            "--",
            "true",
        ],
        &["-d", "--tty", "--", "true"],
        &["--pid-file", "/nonexistent/dir/pid", "--", "true"],
    ];
    for args in cases {
        let mut c = cmd(args);
        c.stdin(Stdio::null());
        let o = run(c, Duration::from_secs(10));
        assert_eq!(o.status.code(), Some(125), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        let first = err.lines().next().unwrap_or("");
        assert!(first.starts_with("nsexec: "), "{args:?}: {err}");
        assert!(
            err.lines().count() <= 2 && err.lines().skip(1).all(|l| l.starts_with("Try ")),
            "one line: {err}"
        );
        assert!(stdout(&o).is_empty());
    }
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "no pid file");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn detach_with_tty_sends_the_pty_and_leaves_the_program_on_it() {
    if skip() {
        return;
    }
    // As `runc run -d -t --console-socket`: the receiver holds the terminal
    // of a program that outlives nsexec.
    let dir = std::env::temp_dir().join(marker("tty-detach-console"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s");
    let pid_file = dir.join("pid");
    let listener = UnixListener::bind(&path).unwrap();
    let receiver = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        recv_fds(&stream).1
    });
    let mut c = cmd([
        "-d",
        "--tty",
        "--console-socket",
        path.to_str().unwrap(),
        "--pid-file",
        pid_file.to_str().unwrap(),
        "--",
        "/bin/sh",
        "-c",
        "test -t 0 && echo detached-on-the-pty; read line; echo got-$line",
    ]);
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let o = run(c, Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let fds = receiver.join().unwrap();
    assert_eq!(fds.len(), 1);
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // nsexec is gone; the program waits on its terminal for a line.
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    let master = fds[0].as_raw_fd();
    let line = b"hello\n";
    assert_eq!(
        unsafe { libc::write(master, line.as_ptr().cast(), line.len()) },
        line.len() as isize
    );
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(&text).contains("got-hello") {
        assert!(
            Instant::now() < deadline,
            "{}",
            String::from_utf8_lossy(&text)
        );
        let k = unsafe { libc::read(master, buf.as_mut_ptr().cast(), buf.len()) };
        if k <= 0 {
            break;
        }
        text.extend_from_slice(&buf[..k as usize]);
    }
    let text = String::from_utf8_lossy(&text);
    assert!(text.contains("detached-on-the-pty"), "{text}");
    assert!(text.contains("got-hello"), "{text}");
    // Reap it: this test process is not its parent, so wait for it to go.
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| !s.rsplit_once(')').unwrap().1.trim_start().starts_with('Z'))
    {
        assert!(Instant::now() < deadline, "the program did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_terminal_that_hangs_up_leaves_nothing_behind() {
    if skip() {
        return;
    }
    // Closing the window hangs up the pane's terminal: the shell and the
    // foreground job get SIGHUP; nsexec forwards it, and its payload's end
    // ends nsexec. Nothing of it stays.
    let pane = Pane::new("tty-hangup");
    let sleeper = "sleep 1004";
    pane.type_line(&format!("{} --tty -- {sleeper}", n()));
    wait_until(|| nsexec_pid(sleeper).is_some() && pids_matching(sleeper).len() >= 2);
    pane.tmux(&["kill-server"]);
    assert_gone(sleeper, Duration::from_secs(10));
}

#[test]
fn keys_and_output_flow_together_without_a_stall() {
    if skip() {
        return;
    }
    // The payload writes a lot before it reads anything, while a lot is
    // typed (pasted) at it. A relay that blocked on writing keys to the pty
    // would stop reading the payload's output, and both would wait forever.
    let (mut outer, slave) = openpty();
    let mut c = cmd([
        "--tty",
        "--",
        "/bin/sh",
        "-c",
        "head -c 300000 /dev/zero | tr '\\0' x; echo; echo output-done; \
         n=$(wc -l); echo \"lines=$n\"",
    ]);
    c.stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave);
    let mut child = c.spawn().unwrap();
    drop(c);
    let mut typist = outer.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let line = [b'k'; 99];
        for _ in 0..1000 {
            typist.write_all(&line).unwrap();
            typist.write_all(b"\r").unwrap();
        }
        typist.write_all(b"\x04").unwrap();
    });
    let mut seen = Vec::new();
    let mut buf = [0u8; 65536];
    let deadline = Instant::now() + Duration::from_secs(20);
    let stalled = loop {
        use std::io::Read;
        if String::from_utf8_lossy(&seen).contains("lines=") {
            break false;
        }
        if Instant::now() > deadline {
            break true;
        }
        let mut p = libc::pollfd {
            fd: outer.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        if unsafe { libc::poll(&mut p, 1, 1000) } != 1 {
            continue;
        }
        match outer.read(&mut buf) {
            Ok(0) | Err(_) => break false,
            Ok(k) => seen.extend_from_slice(&buf[..k]),
        }
    };
    if stalled {
        let _ = child.kill();
        unsafe { libc::killpg(child.id() as i32, libc::SIGKILL) };
        let _ = child.wait();
        panic!("the relay stalled after {} bytes of output", seen.len());
    }
    writer.join().unwrap();
    let st = child.wait().unwrap();
    let text = String::from_utf8_lossy(&seen);
    assert!(text.contains("output-done"), "{}", text.len());
    let lines = last_value(&text, "lines=").unwrap_or_default();
    assert_eq!(lines.trim(), "1000", "every typed line arrived");
    assert!(st.success(), "{st:?}");
}

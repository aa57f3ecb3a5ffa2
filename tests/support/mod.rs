//! Shared by the command-line, init, audit and cross test files: where the
//! binary is, how to run it (natively or under the arch's qemu), and how to
//! look at real processes and namespaces.
#![allow(dead_code)]

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test: `$NSEXEC_BIN`, else the one cargo built.
pub fn nsexec() -> PathBuf {
    std::env::var_os("NSEXEC_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_nsexec")))
}

/// A role build under test (Cargo.toml's features `bootstrap`, `init`):
/// `$VAR` when set (`just test-host` and the VM runner set them), else
/// built here once, on the host, into `target/roles/ROLE`.
fn role_build(var: &str, role: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(var) {
        return PathBuf::from(p);
    }
    assert!(
        std::env::var_os("NSEXEC_ARCH").is_none(),
        "{var} must name the {role} build for $NSEXEC_ARCH"
    );
    static BUILT: std::sync::Mutex<Vec<(String, PathBuf)>> = std::sync::Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, p)) = built.iter().find(|(r, _)| r == role) {
        return p.clone();
    }
    let dir = format!("{}/target/roles/{role}", env!("CARGO_MANIFEST_DIR"));
    let o = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--no-default-features",
            "--features",
            role,
            "--target-dir",
            &dir,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo");
    assert!(
        o.status.success(),
        "the {role} build: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let p = PathBuf::from(format!("{dir}/release/nsexec"));
    built.push((role.to_owned(), p.clone()));
    p
}

/// The bootstrap build: runc's drop-in alone. The tests of the bootstrap
/// drive it.
pub fn bootstrap_nsexec() -> PathBuf {
    role_build("NSEXEC_BOOTSTRAP_BIN", "bootstrap")
}

/// The init build: the PID 1 alone. The tests of the init alone (named
/// inits, `--init` with its options only, pause) run it.
pub fn init_nsexec() -> PathBuf {
    role_build("NSEXEC_INIT_BIN", "init")
}

/// The build that takes `args`: the init build when they are `--init` and
/// its options alone, else the full build.
pub fn nsexec_for(args: &[&str]) -> PathBuf {
    let mut init = false;
    let mut value = false;
    for a in args {
        if std::mem::take(&mut value) {
            continue;
        }
        match *a {
            "--" => break,
            "--init" => init = true,
            "--init-group" => {}
            "--remap-exit" | "--pdeathsig" => value = true,
            a if a.starts_with("--remap-exit=") || a.starts_with("--pdeathsig=") => {}
            a if a.starts_with('-') => return nsexec(),
            _ => break,
        }
    }
    if init { init_nsexec() } else { nsexec() }
}

/// [`cmd`] for the binary `bin` (a role build).
pub fn cmd_of<I, S>(bin: &std::path::Path, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut c = match emulator() {
        Some(emu) => {
            let mut c = Command::new(emu);
            c.arg(bin);
            c
        }
        None => Command::new(bin),
    };
    c.args(args);
    // Every test process leads its own group, so a timeout can kill it all.
    c.process_group(0);
    c
}

/// Starts `bin ARGS` as runc's parent starts its bootstrap: with
/// `_LIBCONTAINER_INITPIPE` naming one end of a socket pair, kept open
/// across exec, and stdout and stderr piped. Returns the other end, the
/// child, and the descriptor number the child was given.
pub fn spawn_with_init_pipe(
    bin: &std::path::Path,
    args: &[&str],
) -> (std::os::unix::net::UnixStream, std::process::Child, i32) {
    use std::os::fd::AsRawFd;
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let fd = theirs.as_raw_fd();
    let mut c = cmd_of(bin, args);
    c.env("_LIBCONTAINER_INITPIPE", fd.to_string());
    // SAFETY: fcntl is async-signal-safe, and fd is open in the child.
    unsafe {
        c.pre_exec(move || {
            libc::fcntl(fd, libc::F_SETFD, 0);
            Ok(())
        });
    }
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = c.spawn().unwrap();
    drop(theirs);
    (ours, child, fd)
}

/// `$NSEXEC_ARCH`'s emulator from `targets/<arch>.toml`, if it has one.
pub fn emulator() -> Option<String> {
    let arch = std::env::var("NSEXEC_ARCH").ok()?;
    let path = format!("{}/targets/{arch}.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines().find_map(|l| {
        l.strip_prefix("runner = \"")?
            .strip_suffix('"')
            .map(str::to_owned)
    })
}

pub fn under_qemu() -> bool {
    emulator().is_some()
}

/// Prints why a test does not apply here and returns true, so a test can
/// `if skip_under_qemu("...") { return; }`.
pub fn skip_under_qemu(why: &str) -> bool {
    if under_qemu() {
        eprintln!("skipped under qemu: {why}");
        return true;
    }
    false
}

/// `nsexec ARGS`, through the emulator when there is one.
pub fn cmd<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    cmd_of(&nsexec(), args)
}

/// Runs with a deadline; a hung run is killed (with its process group) and fails the test.
pub fn run(mut c: Command, timeout: Duration) -> Output {
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = c.spawn().expect("spawn");
    wait_output(child, timeout)
}

pub fn wait_output(mut child: std::process::Child, timeout: Duration) -> Output {
    let start = Instant::now();
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > timeout {
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let out = child.wait_with_output().expect("output");
            panic!(
                "timed out after {timeout:?}; stdout: {}; stderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub fn sh(args: &[&str], script: &str) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--", "/bin/sh", "-c", script]);
    run(cmd_of(&nsexec_for(args), all), Duration::from_secs(20))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `readlink /proc/PID/ns/NAME`, e.g. `net:[4026531833]`.
pub fn ns_link(pid: &str, name: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{name}"))
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

pub const NS_NAMES: [&str; 8] = ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"];

/// A shell snippet printing `name=link` for each namespace of the shell itself.
pub fn print_namespaces() -> String {
    NS_NAMES
        .iter()
        .map(|n| format!("echo {n}=$(readlink /proc/self/ns/{n});"))
        .collect()
}

/// Parses `name=link` lines.
pub fn parse_namespaces(out: &str) -> std::collections::HashMap<String, String> {
    out.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect()
}

/// Pids of processes whose command line contains `needle`, other than us.
pub fn pids_matching(needle: &str) -> Vec<u32> {
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&p| p != me)
        .filter(|p| {
            std::fs::read(format!("/proc/{p}/cmdline"))
                .map(|c| {
                    String::from_utf8_lossy(&c)
                        .replace('\0', " ")
                        .contains(needle)
                })
                .unwrap_or(false)
        })
        .collect()
}

/// The target's shell (`/bin/sh -c "...; : MARKER"`) once it runs in
/// namespaces of its own. Matched by name, not by the highest pid: a
/// forking unshare carries the marker too, and pids wrap around.
pub fn wait_for_pid(m: &str) -> u32 {
    for _ in 0..500 {
        let shell = pids_matching(m).into_iter().find(|&p| {
            let comm = std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
            comm.trim() == "sh"
                && NS_NAMES.iter().any(|n| {
                    let theirs = ns_link(&p.to_string(), n);
                    !theirs.is_empty() && theirs != ns_link("self", n)
                })
        });
        if let Some(p) = shell {
            return p;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no process {m} in namespaces of its own");
}

/// A new directory under the temporary directory, unique to this run.
pub fn tempdir(name: &str) -> String {
    let d = std::env::temp_dir().join(format!("{}-{}", marker(name), rand_suffix()));
    std::fs::create_dir_all(&d).unwrap();
    d.display().to_string()
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// Polls `cond` until it holds; fails after 20 s. Waits for a state that
/// must come, never times anything.
pub fn wait_until(cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until no process matches `needle` (a unique marker the test put
/// on a command line); fails if one survives `timeout`.
pub fn assert_gone(needle: &str, timeout: Duration) {
    let start = Instant::now();
    loop {
        let left = pids_matching(needle);
        if left.is_empty() {
            return;
        }
        if start.elapsed() > timeout {
            for p in &left {
                unsafe { libc::kill(*p as i32, libc::SIGKILL) };
            }
            panic!("processes left behind: {left:?} matching {needle}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A new pty: its master, as a file to read and write, and its slave.
pub fn openpty() -> (std::fs::File, std::os::fd::OwnedFd) {
    use std::os::fd::FromRawFd;
    let (mut master, mut slave) = (-1, -1);
    let r = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(r, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: openpty just made both descriptors, and nothing else owns them.
    unsafe {
        (
            std::fs::File::from(std::os::fd::OwnedFd::from_raw_fd(master)),
            std::os::fd::OwnedFd::from_raw_fd(slave),
        )
    }
}

/// The modes `--syscalls=` and `--seccomp-profile=` take, but `all`.
pub const MODES: [&str; 8] = [
    "bootstrap",
    "create",
    "join",
    "init",
    "console",
    "detach",
    "tty",
    "pid1",
];

/// A marker unique to this test run, for finding its processes.
pub fn marker(name: &str) -> String {
    format!("nsexec-test-{name}-{}", std::process::id())
}

/// The children of `pid`, as the kernel lists them.
pub fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Zombie children of `pid`.
pub fn zombies_of(pid: u32) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
            let f: Vec<&str> = after.split_whitespace().collect();
            f.first() == Some(&"Z") && f.get(1) == Some(&pid.to_string().as_str())
        })
        .count()
}

/// The binary under test is big-endian (s390x under qemu): messages for it
/// are encoded in its byte order, as its own caller would.
pub fn target_big_endian() -> bool {
    std::env::var("NSEXEC_ARCH").is_ok_and(|a| a == "s390x")
}

pub fn target_u32(v: u32) -> [u8; 4] {
    if target_big_endian() {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

pub fn target_u16(v: u16) -> [u8; 2] {
    if target_big_endian() {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}
pub mod bundle;
pub mod rootfs;
pub mod runc;

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Receives one message on `stream`; returns the data and the descriptors.
pub fn recv_fds(stream: &std::os::unix::net::UnixStream) -> (Vec<u8>, Vec<OwnedFd>) {
    let mut data = [0u8; 256];
    let mut cmsg = [0u64; 16];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&cmsg);
    let n = unsafe { libc::recvmsg(stream.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
    assert!(n > 0, "recvmsg: {}", std::io::Error::last_os_error());
    let mut fds = Vec::new();
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let count = ((*c).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / 4;
                let p = libc::CMSG_DATA(c) as *const i32;
                for i in 0..count {
                    fds.push(OwnedFd::from_raw_fd(*p.add(i)));
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    (data[..n as usize].to_vec(), fds)
}

/// `nsexec-test`, a user with a subordinate range (created once), as (uid, gid).
pub fn test_user() -> (u32, u32) {
    let name = "nsexec-test";
    if !std::process::Command::new("id")
        .arg(name)
        .output()
        .unwrap()
        .status
        .success()
    {
        let st = std::process::Command::new("useradd")
            .args(["-M", "-s", "/usr/sbin/nologin", name])
            .status()
            .unwrap();
        assert!(st.success(), "useradd {name}");
    }
    let id = |flag: &str| -> u32 {
        let o = std::process::Command::new("id")
            .args([flag, name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
    };
    for file in ["/etc/subuid", "/etc/subgid"] {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        if !text.lines().any(|l| l.starts_with(&format!("{name}:"))) {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(file)
                .unwrap();
            writeln!(f, "{name}:300000:65536").unwrap();
        }
    }
    (id("-u"), id("-g"))
}

/// The start of `nsexec-test`'s range in /etc/subuid or /etc/subgid.
pub fn sub_start(file: &str) -> u32 {
    let text = std::fs::read_to_string(file).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("nsexec-test:"))
        .unwrap();
    line.split(':').nth(1).unwrap().parse().unwrap()
}

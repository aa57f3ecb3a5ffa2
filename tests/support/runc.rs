//! The reference parent: encodes the bootstrap message exactly as runc's Go
//! side does (libcontainer's netlink message: an nlmsghdr of type 62000 with
//! NLM_F_REQUEST, then attributes in bootstrapData's order), starts nsexec
//! with the init pipe, reads the pid JSON and reaps every stage.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const CLONE_FLAGS_ATTR: u16 = 27281;
pub const NS_PATHS_ATTR: u16 = 27282;
pub const UIDMAP_ATTR: u16 = 27283;
pub const GIDMAP_ATTR: u16 = 27284;
pub const SETGROUP_ATTR: u16 = 27285;
pub const OOMSCOREADJ_ATTR: u16 = 27286;
pub const ROOTLESS_EUID_ATTR: u16 = 27287;
pub const UIDMAPPATH_ATTR: u16 = 27288;
pub const GIDMAPPATH_ATTR: u16 = 27289;
pub const TIMENSOFFSET_ATTR: u16 = 27290;

pub const CLONE_NEWNS: u32 = 0x0002_0000;
pub const CLONE_NEWCGROUP: u32 = 0x0200_0000;
pub const CLONE_NEWUTS: u32 = 0x0400_0000;
pub const CLONE_NEWIPC: u32 = 0x0800_0000;
pub const CLONE_NEWUSER: u32 = 0x1000_0000;
pub const CLONE_NEWPID: u32 = 0x2000_0000;
pub const CLONE_NEWNET: u32 = 0x4000_0000;
pub const CLONE_NEWTIME: u32 = 0x0000_0080;

/// What runc's `bootstrapData` takes.
#[derive(Default, Clone)]
pub struct Bootstrap {
    pub clone_flags: u32,
    pub ns_paths: Vec<(String, String)>,
    pub uid_map: Option<String>,
    pub gid_map: Option<String>,
    pub uidmap_path: Option<String>,
    pub gidmap_path: Option<String>,
    pub setgroups: bool,
    pub oom_score_adj: Option<String>,
    pub rootless_euid: bool,
    pub time_offsets: Option<String>,
    /// runc 1.1's MOUNT_SOURCES (attribute 27290 in that generation): one
    /// entry per mount, "" for a mount that is not a bind mount.
    pub mount_sources: Option<Vec<String>>,
}

/// Attribute encoders, as runc's Int32msg, Bytemsg and Boolmsg serialise.
pub fn attr_u32(ty: u16, v: u32) -> Vec<u8> {
    let mut a = Vec::new();
    a.extend_from_slice(&8u16.to_ne_bytes());
    a.extend_from_slice(&ty.to_ne_bytes());
    a.extend_from_slice(&v.to_ne_bytes());
    a
}

pub fn attr_bytes(ty: u16, v: &[u8]) -> Vec<u8> {
    let len = 4 + v.len() + 1;
    let mut a = Vec::new();
    a.extend_from_slice(&(len as u16).to_ne_bytes());
    a.extend_from_slice(&ty.to_ne_bytes());
    a.extend_from_slice(v);
    a.push(0);
    while a.len() % 4 != 0 {
        a.push(0);
    }
    a
}

pub fn attr_bool(ty: u16, v: bool) -> Vec<u8> {
    attr_u32(ty, v as u32)
}

/// A bare netlink header: length and type as given, NLM_F_REQUEST.
pub fn header(len: u32, ty: u16) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&len.to_ne_bytes());
    m.extend_from_slice(&ty.to_ne_bytes());
    m.extend_from_slice(&1u16.to_ne_bytes());
    m.extend_from_slice(&[0; 8]);
    m
}

pub fn message(attrs: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&((16 + attrs.len()) as u32).to_ne_bytes());
    m.extend_from_slice(&62000u16.to_ne_bytes());
    m.extend_from_slice(&1u16.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(attrs);
    m
}

impl Bootstrap {
    /// The message, attribute for attribute in runc's order.
    pub fn encode(&self) -> Vec<u8> {
        let mut a = attr_u32(CLONE_FLAGS_ATTR, self.clone_flags);
        if !self.ns_paths.is_empty() {
            let joined: Vec<String> = self
                .ns_paths
                .iter()
                .map(|(t, p)| format!("{t}:{p}"))
                .collect();
            a.extend(attr_bytes(NS_PATHS_ATTR, joined.join(",").as_bytes()));
        }
        if self.clone_flags & CLONE_NEWUSER != 0 {
            if let Some(m) = &self.uid_map {
                a.extend(attr_bytes(UIDMAP_ATTR, m.as_bytes()));
            }
            if let Some(m) = &self.gid_map {
                a.extend(attr_bytes(GIDMAP_ATTR, m.as_bytes()));
            }
            if let Some(p) = &self.uidmap_path {
                a.extend(attr_bytes(UIDMAPPATH_ATTR, p.as_bytes()));
            }
            if let Some(p) = &self.gidmap_path {
                a.extend(attr_bytes(GIDMAPPATH_ATTR, p.as_bytes()));
            }
            a.extend(attr_bool(SETGROUP_ATTR, self.setgroups));
        }
        if let Some(o) = &self.oom_score_adj {
            a.extend(attr_bytes(OOMSCOREADJ_ATTR, o.as_bytes()));
        }
        a.extend(attr_bool(ROOTLESS_EUID_ATTR, self.rootless_euid));
        if let Some(t) = &self.time_offsets {
            a.extend(attr_bytes(TIMENSOFFSET_ATTR, t.as_bytes()));
        }
        if let Some(m) = &self.mount_sources {
            // As runc 1.1 builds it: each source NUL-terminated, then the
            // Bytemsg's own NUL.
            let list: Vec<u8> = m.iter().flat_map(|s| s.bytes().chain([0])).collect();
            a.extend(attr_bytes(TIMENSOFFSET_ATTR, &list));
        }
        message(&a)
    }
}

/// What a bootstrap run produced.
#[derive(Debug)]
pub struct Outcome {
    /// Stage 0's exit status (None if killed).
    pub stage0: Option<i32>,
    /// Everything read from the init pipe.
    pub pipe: Vec<u8>,
    pub stage1_pid: Option<i32>,
    pub stage2_pid: Option<i32>,
    /// Stage 2's (the payload's) exit status.
    pub payload: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub log: Vec<String>,
}

impl Outcome {
    pub fn log_json(&self) -> Vec<serde_json::Value> {
        self.log
            .iter()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("log line {l:?} is not JSON: {e}"))
            })
            .collect()
    }
}

pub struct Options<'a> {
    pub env: Vec<(&'a str, String)>,
    pub log_level: Option<&'a str>,
    pub log_pipe: bool,
    /// Run the caller side as this uid/gid (rootless tests).
    pub as_user: Option<(u32, u32)>,
    pub program: Vec<String>,
    /// Bytes to write instead of the encoded message.
    pub raw: Option<Vec<u8>>,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            env: Vec::new(),
            log_level: None,
            log_pipe: true,
            as_user: None,
            program: Vec::new(),
            raw: None,
        }
    }
}

fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// The init pipe's child end is fd 3 and the log pipe's fd 4 in nsexec, as
/// libcontainer arranges with ExtraFiles.
pub fn run(nsexec: &std::path::Path, msg: &Bootstrap, opts: Options<'_>) -> Outcome {
    let (mut ours, theirs) = UnixStream::pair().unwrap();
    let (log_r, log_w) = pipe();
    let mut c = Command::new(nsexec);
    c.args(&opts.program);
    c.env("_LIBCONTAINER_INITPIPE", "3");
    if opts.log_pipe {
        c.env("_LIBCONTAINER_LOGPIPE", "4");
        if let Some(l) = opts.log_level {
            c.env("_LIBCONTAINER_LOGLEVEL", l);
        }
    }
    for (k, v) in &opts.env {
        c.env(k, v);
    }
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (init_fd, log_fd): (RawFd, RawFd) = (theirs.as_raw_fd(), log_w.as_raw_fd());
    let as_user = opts.as_user;
    unsafe {
        c.pre_exec(move || {
            if libc::dup2(init_fd, 3) < 0 || libc::dup2(log_fd, 4) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // Exactly 0..=4 reach nsexec, whatever the test harness holds open.
            libc::syscall(libc::SYS_close_range, 5u32, u32::MAX, 0u32);
            if let Some((uid, gid)) = as_user {
                if libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(gid) != 0
                    || libc::setuid(uid) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let mut child = c.spawn().unwrap();
    drop(theirs);
    drop(log_w);
    let bytes = opts.raw.clone().unwrap_or_else(|| msg.encode());
    let _ = ours.write_all(&bytes);
    if opts.raw.is_some() {
        // A malformed message may promise more than it brings: the caller
        // hangs up, as a dying runtime would.
        let _ = ours.shutdown(std::net::Shutdown::Write);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let stage0 = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("stage 0 did not exit within 20 s");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    // The pid JSON, if any, is on the pipe by the time stage 0 exits.
    ours.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut pipe_bytes = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match ours.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                pipe_bytes.extend_from_slice(&buf[..n]);
                if pipe_bytes.ends_with(b"\n") {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let (mut s1, mut s2) = (None, None);
    // runc 1.1 writes a NUL byte before the JSON; skip it to compare the two.
    let json_start = pipe_bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(pipe_bytes.len());
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&pipe_bytes[json_start..]) {
        s1 = v
            .get("stage1_pid")
            .and_then(|x| x.as_i64())
            .map(|x| x as i32);
        s2 = v
            .get("stage2_pid")
            .and_then(|x| x.as_i64())
            .map(|x| x as i32);
    }
    // Stages 1 and 2 are our children (CLONE_PARENT): reap them.
    let payload = s2.map(|p| wait_pid(p, deadline));
    if let Some(p) = s1 {
        wait_pid(p, deadline);
    }
    let mut stdout = String::new();
    let mut stderr = String::new();
    let _ = child.stdout.take().unwrap().read_to_string(&mut stdout);
    let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
    let mut log = String::new();
    drop(ours);
    let _ = std::fs::File::from(log_r).read_to_string(&mut log);
    reap_strays();
    Outcome {
        stage0: stage0.code(),
        pipe: pipe_bytes,
        stage1_pid: s1,
        stage2_pid: s2,
        payload: payload.flatten(),
        stdout,
        stderr,
        log: log.lines().map(str::to_owned).collect(),
    }
}

/// Waits for one of our children; its exit code (None if signalled).
pub fn wait_pid(pid: i32, deadline: Instant) -> Option<i32> {
    loop {
        let mut st = 0;
        let r = unsafe { libc::waitpid(pid, &mut st, libc::WNOHANG | libc::__WALL) };
        if r == pid {
            return if libc::WIFEXITED(st) {
                Some(libc::WEXITSTATUS(st))
            } else {
                None
            };
        }
        if r < 0 {
            return None;
        }
        if Instant::now() > deadline {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("pid {pid} did not exit in time");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Reaps any child of ours that has already exited (a stage we did not
/// learn the pid of).
pub fn reap_strays() {
    loop {
        let mut st = 0;
        let r = unsafe { libc::waitpid(-1, &mut st, libc::WNOHANG | libc::__WALL) };
        if r <= 0 {
            break;
        }
    }
}

/// Stage processes (by their names) whose parent is this test process.
pub fn our_stages() -> Vec<u32> {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            let comm_ok = stat.contains("(runc:[") || stat.contains("(nsexec)");
            let ppid = stat
                .rsplit_once(')')
                .map(|x| x.1)
                .unwrap_or("")
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .to_owned();
            comm_ok && ppid == me
        })
        .collect()
}

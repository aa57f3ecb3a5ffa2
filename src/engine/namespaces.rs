//! The one implementation of joining and creating namespaces and of writing
//! id maps, time offsets and the OOM score, used by both modes.

use crate::config::{Config, NsPath, NsType};
use crate::errno::Errno;
use crate::fmt::{Arg, Out, Text};
use crate::log::{self, Fail, OrFail};
use crate::sys::{self, ExitStatus, OwnedFd, Pid};
use heapless::Vec;
use linux_raw_sys::general as g;

/// `/proc/<pid>/<leaf>`, or `/proc/self/<leaf>` for pid 0.
pub fn proc_path(pid: Pid, leaf: &str) -> Text<64> {
    let mut t = Text::new();
    t.str("/proc/");
    if pid == 0 {
        t.str("self");
    } else {
        t.int(i64::from(pid));
    }
    t.put(b"/");
    t.str(leaf);
    t
}

/// A failed file write: which call failed (`open` or `write`), and why.
struct FileError(&'static str, Errno);

impl FileError {
    fn fail(self, path: &[u8]) -> Fail {
        Fail::new(self.0).on(path).errno(self.1)
    }
}

fn write_file(path: &[u8], data: &[u8]) -> Result<(), FileError> {
    let fd = sys::open(path, g::O_WRONLY).map_err(|e| FileError("open", e))?;
    sys::write_all(fd.raw(), data).map_err(|e| FileError("write to", e))
}

/// Opens a namespace file without ever blocking (a FIFO or a device given as
/// a path would otherwise hang the whole bootstrap in `open`), then checks
/// with the kernel that it is a namespace of the type it is named as.
fn open_namespace(p: &NsPath<'_>) -> Result<OwnedFd, Fail> {
    let fd =
        sys::open(p.path, g::O_RDONLY | g::O_NONBLOCK | g::O_NOCTTY).or_fail("open", p.path)?;
    let actual = match sys::namespace_type(fd.raw()) {
        Ok(t) if t == p.ns.flag() => return Ok(fd),
        // qemu-user does not pass this ioctl on; setns still decides.
        Err(Errno::ENOSYS) => return Ok(fd),
        Ok(t) => NsType::ALL.into_iter().find(|n| n.flag() == t),
        Err(Errno::ENOTTY | Errno::EINVAL) => None,
        Err(e) => return Err(Fail::new("ioctl(NS_GET_NSTYPE) on").on(p.path).errno(e)),
    };
    let mut f = Fail::new("namespace path").on(p.path);
    let t = f.text();
    match actual {
        Some(n) => {
            t.str(" is a ");
            t.str(n.name());
            t.str(" namespace, not ");
        }
        None => t.str(" is not a namespace file (given for "),
    }
    t.str(p.ns.name());
    if actual.is_none() {
        t.str(")");
    }
    Err(f)
}

/// Opens every path first (joining a mount or user namespace can make the
/// others unreachable), then joins in three passes: the non-user
/// namespaces, the user namespace, then whatever EPERM held back. After the
/// user namespace, becomes its root.
#[inline(never)] // a large stack frame: keep it out of long-lived callers
pub fn join_namespaces(paths: &[NsPath<'_>]) -> Result<(), Fail> {
    let mut open: Vec<(NsType, &[u8], Option<OwnedFd>), { crate::config::MAX_NS_PATHS }> =
        Vec::new();
    for p in paths {
        let fd = open_namespace(p)?;
        if open.push((p.ns, p.path, Some(fd))).is_err() {
            return Err(Fail::new("too many namespaces to join"));
        }
    }
    for pass in 0..3 {
        for (ns, path, slot) in open.iter_mut() {
            let is_user = *ns == NsType::User;
            let this_pass = match pass {
                0 => !is_user,
                1 => is_user,
                _ => true,
            };
            let Some(fd) = slot.as_ref().filter(|_| this_pass) else {
                continue;
            };
            log::debug(
                "setns({}) {}",
                &[Arg::Bytes(ns.name().as_bytes()), Arg::Bytes(path)],
            );
            match sys::setns(fd.raw(), ns.flag()) {
                Ok(()) => {
                    *slot = None;
                    if is_user {
                        sys::setresuid(0, 0, 0)
                            .or_fail("setresuid(0, 0, 0) in the joined user namespace", b"")?;
                    }
                }
                Err(Errno::EPERM) if pass < 2 => {}
                Err(e) => {
                    let what = [Arg::Bytes(ns.name().as_bytes()), Arg::Bytes(path)];
                    return Err(Fail::fill("setns to{} {}", &what).errno(e));
                }
            }
        }
    }
    Ok(())
}

/// `unshare(2)`, retried a few times on EINVAL as runc does (the kernel can
/// refuse while a concurrent exit tears down the old namespaces).
pub fn unshare(flags: u32) -> Result<(), Fail> {
    let mut tries = 0;
    loop {
        match sys::unshare(flags) {
            Ok(()) => return Ok(()),
            Err(Errno::EINVAL) if tries < 4 => tries += 1,
            Err(e) => {
                let mut f = Fail::new("unshare");
                describe_flags(f.text(), flags);
                return Err(f.errno(e));
            }
        }
    }
}

/// ` (user, pid, ...)`.
pub fn describe_flags(out: &mut dyn Out, flags: u32) {
    out.str(" (");
    let mut first = true;
    for t in NsType::ALL {
        if flags & t.flag() != 0 {
            if !first {
                out.str(", ");
            }
            out.str(t.name());
            first = false;
        }
    }
    out.str(")");
}

/// Writes `pid`'s id maps as `cfg` asks, falling back to the setuid mapping
/// tools when the kernel refuses a direct write.
pub fn write_id_maps(pid: Pid, cfg: &Config<'_>) -> Result<(), Fail> {
    if cfg.rootless_euid && !cfg.setgroups {
        let path = proc_path(pid, "setgroups");
        match write_file(path.bytes(), b"deny") {
            Ok(()) | Err(FileError(_, Errno::ENOENT)) => {}
            Err(e) => return Err(e.fail(path.bytes())),
        }
    }
    if let Some(map) = cfg.uid_map {
        write_map(pid, "uid_map", map, cfg.uidmap_path)?;
    }
    if let Some(map) = cfg.gid_map {
        write_map(pid, "gid_map", map, cfg.gidmap_path)?;
    }
    Ok(())
}

fn write_map(pid: Pid, leaf: &str, map: &[u8], tool: Option<&[u8]>) -> Result<(), Fail> {
    let path = proc_path(pid, leaf);
    log::debug("writing {}", &[Arg::Bytes(path.bytes())]);
    match write_file(path.bytes(), map) {
        Ok(()) => Ok(()),
        Err(FileError(_, Errno::EPERM)) if tool.is_some() => {
            run_map_tool(tool.unwrap_or(b""), pid, map)
        }
        Err(e) => Err(e.fail(path.bytes())),
    }
}

/// Runs `newuidmap`/`newgidmap` as `[tool, pid, field, field, ...]` with an
/// empty environment; its non-zero exit is a failure.
#[inline(never)] // a large stack frame: keep it out of long-lived callers
fn run_map_tool(tool: &[u8], pid: Pid, map: &[u8]) -> Result<(), Fail> {
    log::debug("running {}", &[Arg::Bytes(tool)]);
    let child = sys::fork(0).or_fail("clone to run", tool)?;
    let sys::Forked::Parent(child) = child else {
        exec_map_tool(tool, pid, map);
    };
    match sys::wait_for(child) {
        Ok(ExitStatus::Exited(0)) => Ok(()),
        Ok(st) => {
            let what = [Arg::Bytes(tool), Arg::Dec(st.code() as u64)];
            Err(Fail::fill("mapping tool {} failed with status {}", &what))
        }
        Err(e) => Err(Fail::new("wait4 for").on(tool).errno(e)),
    }
}

#[inline(never)] // a large stack frame: keep it out of long-lived callers
fn exec_map_tool(tool: &[u8], pid: Pid, map: &[u8]) -> ! {
    let mut pid_text: Text<16> = Text::new();
    pid_text.int(i64::from(pid));
    let fields = map
        .split(|c| c.is_ascii_whitespace())
        .filter(|f| !f.is_empty());
    let e = crate::exec::exec_args(tool, core::iter::once(pid_text.bytes()).chain(fields));
    log::log(
        log::Level::Error,
        "failed to execute {}: {}",
        &[
            Arg::Bytes(tool),
            Arg::Bytes(e.name().unwrap_or("?").as_bytes()),
        ],
    );
    sys::exit(127)
}

/// Writes `/proc/<pid>/timens_offsets`.
pub fn write_time_offsets(pid: Pid, offsets: &[u8]) -> Result<(), Fail> {
    let path = proc_path(pid, "timens_offsets");
    write_file(path.bytes(), offsets).map_err(|e| e.fail(path.bytes()))
}

/// Writes `/proc/self/oom_score_adj` (inherited by every later stage).
pub fn write_oom_score_adj(value: &[u8]) -> Result<(), Fail> {
    write_file(b"/proc/self/oom_score_adj", value).map_err(|e| e.fail(b"/proc/self/oom_score_adj"))
}

/// Who writes the id maps and time offsets of the process entering the
/// namespaces.
#[derive(Clone, Copy)]
pub enum Mapper {
    /// A process outside (stage 0, or the command line's helper), asked over
    /// this sync socket.
    Outside(sys::RawFd),
    /// The entering process itself: a single mapping of its own ids, which
    /// the kernel lets a namespace's creator write.
    Itself,
}

fn ask(
    fd: sys::RawFd,
    pls: crate::sync::Sync,
    ack: crate::sync::Sync,
    what: &str,
) -> Result<(), Fail> {
    crate::sync::send(fd, pls).map_err(|e| {
        Fail::fill(
            "write of the request for {}",
            &[Arg::Bytes(what.as_bytes())],
        )
        .errno(e)
    })?;
    crate::sync::expect(fd, ack).map_err(|e| {
        let mut f = Fail::fill(
            "the process writing {} went away",
            &[Arg::Bytes(what.as_bytes())],
        );
        if let crate::sync::RecvError::Sys(e) = e {
            f = f.errno(e);
        }
        f
    })
}

/// Joins `cfg.ns_paths`, creates the user namespace and has it mapped,
/// becomes its root, creates the other namespaces and has the time offsets
/// written: stage 1's work, and the command line's.
pub fn enter(cfg: &Config<'_>, mapper: Mapper) -> Result<(), Fail> {
    use crate::sync::Sync;
    let joined = !cfg.ns_paths.is_empty();
    if joined {
        join_namespaces(&cfg.ns_paths)?;
    }
    if cfg.clone_flags & g::CLONE_NEWUSER != 0 {
        log::debug("unshare user namespace", &[]);
        unshare(g::CLONE_NEWUSER)?;
        match mapper {
            Mapper::Outside(fd) => {
                if joined {
                    // An unprivileged writer can open our /proc files only while we are dumpable.
                    sys::set_dumpable(true).or_fail("prctl(PR_SET_DUMPABLE, 1)", b"")?;
                }
                ask(fd, Sync::UsermapPls, Sync::UsermapAck, "user mappings")?;
                if joined {
                    sys::set_dumpable(false).or_fail("prctl(PR_SET_DUMPABLE, 0)", b"")?;
                }
            }
            Mapper::Itself => write_id_maps(0, cfg)?,
        }
        // Without a mapping for root (unshare -U alone), stay the overflow id.
        if maps_inner_zero(cfg.uid_map) {
            sys::setresuid(0, 0, 0).or_fail("setresuid(0, 0, 0)", b"")?;
        }
    }
    let rest = cfg.clone_flags & !g::CLONE_NEWUSER;
    if rest != 0 {
        log::log_with(log::Level::Debug, &|m| {
            m.str("unshare remaining namespaces");
            describe_flags(m, rest);
        });
        unshare(rest)?;
    }
    if let Some(offsets) = cfg.time_offsets {
        match mapper {
            Mapper::Outside(fd) => ask(
                fd,
                Sync::TimeoffsetsPls,
                Sync::TimeoffsetsAck,
                "time offsets",
            )?,
            Mapper::Itself => write_time_offsets(0, offsets)?,
        }
    }
    if rest & g::CLONE_NEWTIME != 0 {
        enter_own_time_namespace()?;
    }
    Ok(())
}

/// `unshare(CLONE_NEWTIME)` only moves our future children; a kernel
/// before 6.3 (Debian 12's 6.1) does not move us at exec either, so a
/// program executed in place would keep the old clocks. Joining the new
/// namespace ourselves (its offsets are written by now) fixes both.
fn enter_own_time_namespace() -> Result<(), Fail> {
    let path = b"/proc/self/ns/time_for_children";
    let fd = sys::open(path, g::O_RDONLY).or_fail("open", path)?;
    sys::setns(fd.raw(), g::CLONE_NEWTIME).or_fail("setns to", path)
}

/// The outside half of [`Mapper::Outside`]: answers one request for
/// `target`. Returns `Ok(false)` for a message that is not a request.
pub fn answer(
    fd: sys::RawFd,
    msg: crate::sync::Sync,
    target: Pid,
    cfg: &Config<'_>,
) -> Result<bool, Fail> {
    use crate::sync::Sync;
    let ack = match msg {
        Sync::UsermapPls => {
            write_id_maps(target, cfg)?;
            Sync::UsermapAck
        }
        Sync::TimeoffsetsPls => {
            write_time_offsets(target, cfg.time_offsets.unwrap_or(b""))?;
            Sync::TimeoffsetsAck
        }
        _ => return Ok(false),
    };
    crate::sync::send(fd, ack).or_fail("write of an acknowledgement", b"")?;
    Ok(true)
}

/// True when `map` maps some range starting at id 0 inside.
pub fn maps_inner_zero(map: Option<&[u8]>) -> bool {
    map.is_some_and(|m| {
        m.split(|&c| c == b'\n').any(|l| {
            let mut f = l
                .split(|&c| c == b' ' || c == b'\t')
                .filter(|x| !x.is_empty());
            f.next() == Some(b"0")
        })
    })
}

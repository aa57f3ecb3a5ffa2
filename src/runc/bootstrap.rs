//! runc's bootstrap contract (shared/PROTOCOL.md): read the netlink message
//! from `_LIBCONTAINER_INITPIPE`, run stages 0, 1 and 2, report the pids,
//! and hand stage 2 over to the payload.
//!
//! Synchronisation: one socketpair. Stage 0 keeps one end; stage 1 and then
//! stage 2 use the other. Every wait is a read on it, so a stage that dies
//! turns the other side's wait into EOF and a fatal error. Stages 1 and 2 are
//! created with CLONE_PARENT (children of the caller, as in runc).
//!
//! The caller's death: stage 0 follows the caller's process through a pidfd
//! (and the init pipe's hang-up) in every wait, and stage 1 closes stage
//! 0's end before anything else, so stage 0's end is EOF to every later wait
//! of stages 1 and 2. No stage sets PDEATHSIG: it fires when the parent
//! *thread* ends, and runc 1.3 starts the init of `runc exec` from a locked
//! Go thread that ends while the caller lives on; one left in stage 2 would
//! also pass through the exec to the payload, and the container `runc
//! create` leaves behind would die with it.
//!
//! Dumpability: joining someone else's namespaces, stage 0 is non-dumpable
//! from the start, as runc's C is, and stage 2 keeps its payload so across
//! the exec (`hardening::keep_undumpable_across_exec`), where runc's C
//! returns into Go in the same process and needs nothing of the kind.
#![allow(unsafe_code)]

use crate::config::Config;
use crate::errno::Errno;
use crate::fmt::{Arg, Out, Text, parse_dec};
use crate::log::{self, Fail, Level, OrFail};
use crate::namespaces::{self, Mapper};
use crate::netlink::{self, Generation};
use crate::rt::Process;
use crate::sync::{self, RecvError, Sync};
use crate::sys::{self, Pid, RawFd};
use linux_raw_sys::general as g;

/// The fixed buffer the bootstrap message is read into.
static mut MESSAGE: [u8; netlink::MAX_MESSAGE] = [0; netlink::MAX_MESSAGE];

fn message_buffer() -> &'static mut [u8; netlink::MAX_MESSAGE] {
    // SAFETY: called once, from stage 0 before any stage exists; nsexec is
    // single-threaded, so this is the only reference ever made.
    let p = &raw mut MESSAGE;
    unsafe { &mut *p }
}

/// Entered when `_LIBCONTAINER_INITPIPE` is set and non-empty.
pub fn run(p: &Process, initpipe: &[u8]) -> ! {
    match stage0(p, initpipe) {
        Ok(never) => match never {},
        Err(f) => log::bail(f),
    }
}

enum Never {}

fn env_fd(p: &Process, name: &'static str, value: &[u8]) -> Result<RawFd, Fail> {
    match parse_dec(value, i32::MAX as u64) {
        Some(fd) => Ok(fd as RawFd),
        None => {
            let _ = p;
            let what = [Arg::Bytes(name.as_bytes()), Arg::Bytes(value)];
            Err(Fail::fill("unable to parse {}={}", &what))
        }
    }
}

fn setup_logging(p: &Process) -> Result<(), Fail> {
    let pipe = p.env(b"_LIBCONTAINER_LOGPIPE").filter(|v| !v.is_empty());
    let Some(pipe) = pipe else { return Ok(()) };
    let fd = env_fd(p, "_LIBCONTAINER_LOGPIPE", pipe)?;
    let level = match p.env(b"_LIBCONTAINER_LOGLEVEL").filter(|v| !v.is_empty()) {
        None => Level::Debug,
        Some(v) => parse_dec(v, 6)
            .and_then(Level::from_number)
            .ok_or_else(|| {
                let mut f = Fail::new("unable to parse _LIBCONTAINER_LOGLEVEL=");
                f.text().put(v);
                f
            })?,
    };
    log::to_pipe(fd, level);
    Ok(())
}

/// The payload's argv: the command line after nsexec, a leading `--` dropped.
fn payload_start(p: &Process) -> usize {
    if p.arg(1) == Some(b"--") { 2 } else { 1 }
}

fn read_message(fd: RawFd, caller: &Caller) -> Result<&'static [u8], Fail> {
    let buf = message_buffer();
    caller.wait_for(fd)?;
    let (header, _) = buf
        .split_first_chunk_mut::<16>()
        .ok_or_else(|| Fail::new("message buffer too small"))?;
    match sys::read_exact(fd, header) {
        Ok(true) => {}
        Ok(false) => return Err(Fail::new("init pipe closed before the bootstrap message")),
        Err(Errno::ENODATA) => {
            return Err(Fail::new(
                "init pipe closed in the middle of the netlink header",
            ));
        }
        Err(e) => {
            return Err(Fail::new("failed to read netlink header from the init pipe").errno(e));
        }
    }
    let len = netlink::message_length(header).map_err(|e| {
        let mut f = Fail::new("");
        e.describe(f.text());
        f
    })?;
    let msg = buf
        .get_mut(..len)
        .ok_or_else(|| Fail::new("bootstrap message longer than the buffer"))?;
    let body = msg.get_mut(16..).unwrap_or(&mut []);
    match sys::read_exact(fd, body) {
        Ok(_) if body.is_empty() => {}
        Ok(true) => {}
        Ok(false) | Err(Errno::ENODATA) => {
            return Err(Fail::fill(
                "init pipe closed before the whole bootstrap message arrived (expected {} bytes)",
                &[Arg::Dec(len as u64)],
            ));
        }
        Err(e) => return Err(Fail::new("failed to read the bootstrap message").errno(e)),
    }
    Ok(msg)
}

fn stage0(p: &Process, initpipe: &[u8]) -> Result<Never, Fail> {
    setup_logging(p)?;
    let handover = crate::hardening::handover_fd(p);
    if handover.is_none() {
        // runc's vocabulary, which its tests and `runc --debug` readers look
        // for (once: not again after the sealed re-exec). The affinity is
        // logged before the caller moves us into the container's cgroup,
        // whose cpuset some kernels apply at once.
        log::debug("=> nsexec container setup", &[]);
        log_cpu_affinity();
    }
    let first = payload_start(p);
    let program = p
        .arg(first)
        .ok_or_else(|| Fail::new("no program to execute given on the command line"))?;
    let pipe = env_fd(p, "_LIBCONTAINER_INITPIPE", initpipe)?;
    // Every runc 1.1.x parent sets _LIBCONTAINER_STATEDIR; 1.2 and later never do.
    let generation = if p.env(b"_LIBCONTAINER_STATEDIR").is_some() {
        Generation::V1_1
    } else {
        Generation::V1_2
    };
    let caller = Caller::watch(pipe)?;
    if generation == Generation::V1_1 && handover.is_none() {
        // runc 1.1's parent reads this byte before the pid JSON (its C wrote
        // it once past initial set-up); a 1.2 parent would misparse it.
        sys::write_all(pipe, &[0]).or_fail("write of the 1.1 handshake byte", b"")?;
    }
    let msg = read_message(handover.unwrap_or(pipe), &caller)?;
    if let Some(fd) = handover {
        let _ = sys::close(fd);
    }
    let cfg = netlink::parse_as(msg, generation).map_err(|e| {
        let mut f = Fail::new("");
        e.describe(f.text());
        f
    })?;
    log::debug("bootstrap message parsed", &[]);
    crate::hardening::ensure_sealed_for_join(p, &cfg, msg)?;
    let exec = crate::hardening::exec_plan(&cfg)?;
    let payload = crate::hardening::open_protected_payload(program, p.env(b"PATH"), exec.hold)?;
    if let Some(oom) = cfg.oom_score_adj {
        namespaces::write_oom_score_adj(oom)?;
    }
    if !cfg.ns_paths.is_empty() {
        log::debug("set process as non-dumpable", &[]);
        sys::set_dumpable(false).or_fail("prctl(PR_SET_DUMPABLE, 0)", b"")?;
    }
    log::set_stage(0);
    let _ = sys::set_name(b"runc:[0:PARENT]\0");
    let (ours, theirs) = sys::socketpair().or_fail("socketpair for the sync socket", b"")?;
    let stage = Stage {
        p,
        cfg: &cfg,
        fd: theirs.raw(),
        stage0_end: ours.raw(),
        payload: payload.raw(),
        exec,
    };
    let stage1 = sys::spawn(g::CLONE_PARENT, || stage1(&stage)).or_fail("clone stage-1", b"")?;
    log::add_peer(stage1);
    // Stage 0 learns that the payload runs from EOF on its end, so its own
    // copy of the other end must be gone.
    theirs
        .close()
        .or_fail("close of stage-1's end of the sync socket", b"")?;
    drop(payload);
    log::debug("stage-1 is pid {}", &[Arg::Dec(stage1 as u64)]);
    serve_stage1(ours.raw(), pipe, stage1, &cfg, &caller)
}

/// The caller, followed as a process: its pidfd, and the init pipe, whose
/// hang-up also means it is gone (the only way to tell on a kernel without
/// pidfds, before 5.3).
struct Caller {
    pidfd: Option<sys::OwnedFd>,
    pipe: RawFd,
}

impl Caller {
    fn watch(pipe: RawFd) -> Result<Caller, Fail> {
        let ppid = sys::getppid().or_fail("getppid", b"")?;
        let pidfd = match sys::pidfd_open(ppid) {
            Ok(fd) => Some(fd),
            Err(Errno::ESRCH) => None,
            Err(e) => {
                log::debug(
                    "no pidfd for the caller, following its init pipe only: {}",
                    &[Arg::Bytes(e.name().unwrap_or("?").as_bytes())],
                );
                None
            }
        };
        // Re-parented already: the pidfd may be of whoever adopted us.
        if sys::getppid().or_fail("getppid", b"")? != ppid {
            return Err(Fail::new("caller exited during start-up"));
        }
        Ok(Caller { pidfd, pipe })
    }

    /// Waits until `fd` can be read, or fails if the caller ends first.
    fn wait_for(&self, fd: RawFd) -> Result<(), Fail> {
        let pidfd = self.pidfd.as_ref().map_or(-1, |f| f.raw());
        let mut fds = [
            sys::PollFd {
                fd,
                events: sys::POLLIN,
                revents: 0,
            },
            sys::PollFd {
                fd: pidfd,
                events: sys::POLLIN,
                revents: 0,
            },
            // No events asked: only a hang-up or an error is reported.
            sys::PollFd {
                fd: self.pipe,
                events: 0,
                revents: 0,
            },
        ];
        loop {
            match sys::ppoll(&mut fds) {
                Ok(_) => break,
                Err(Errno::EINTR) => {}
                Err(e) => return Err(Fail::new("ppoll on the sync socket").errno(e)),
            }
        }
        // A caller's descriptor number that names nothing open.
        if fds
            .iter()
            .any(|f| f.fd >= 0 && f.revents & sys::POLLNVAL != 0)
        {
            return Err(Fail::new("ppoll on the init pipe").errno(Errno::EBADF));
        }
        if fds
            .get(1..)
            .is_some_and(|rest| rest.iter().any(|f| f.revents != 0))
        {
            return Err(Fail::new("the caller exited before set-up finished"));
        }
        Ok(())
    }
}

/// runc's `affinity: 0x..` line (the first 64 CPUs), at debug level only.
fn log_cpu_affinity() {
    if !log::enabled(Level::Debug) {
        return;
    }
    match sys::cpu_affinity() {
        Ok(mask) => log::log_with(Level::Debug, &|m| {
            m.str("affinity: ");
            crate::fmt::hex(m, mask);
        }),
        Err(e) => log::log(
            Level::Warning,
            "sched_getaffinity: {}",
            &[Arg::Bytes(e.name().unwrap_or("?").as_bytes())],
        ),
    }
}

/// What stages 1 and 2 share: the command line, the set-up, their end of
/// the sync socket and the opened payload; and stage 0's end, which stage 1
/// closes.
struct Stage<'a> {
    p: &'a Process,
    cfg: &'a Config<'a>,
    fd: RawFd,
    stage0_end: RawFd,
    payload: RawFd,
    exec: crate::hardening::ExecPlan,
}

/// Stage 0's side: answer stage 1's requests, report the pids, release
/// stage 2, and exit 0 once the payload runs (stage 2 reported completion
/// and its end of the sync socket closed on exec), or fail if it could not
/// be executed.
fn serve_stage1(
    fd: RawFd,
    pipe: RawFd,
    stage1: Pid,
    cfg: &Config<'_>,
    caller: &Caller,
) -> Result<Never, Fail> {
    let mut stage2: Option<Pid> = None;
    let mut finished = false;
    loop {
        caller.wait_for(fd)?;
        match sync::recv(fd) {
            Ok(msg @ (Sync::UsermapPls | Sync::TimeoffsetsPls)) => {
                namespaces::answer(fd, msg, stage1, cfg)?;
            }
            Ok(Sync::MountsourcesPls) if stage2.is_none() => {
                send_mount_sources(fd, stage1, cfg.mount_sources.unwrap_or(b""))?;
                sync::send(fd, Sync::MountsourcesAck)
                    .or_fail("write of an acknowledgement", b"")?;
            }
            Ok(Sync::RecvpidPls(pid)) if stage2.is_none() => {
                stage2 = Some(pid);
                log::add_peer(pid);
                let mut json: Text<64> = Text::new();
                json.str("{\"stage1_pid\":");
                json.int(i64::from(stage1));
                json.str(",\"stage2_pid\":");
                json.int(i64::from(pid));
                json.str("}\n");
                sys::write_all(pipe, json.bytes())
                    .or_fail("write of the pids to the init pipe", b"")?;
                sync::send(fd, Sync::Grandchild)
                    .or_fail("write of the go-ahead to stage-2", b"")?;
            }
            Ok(Sync::ChildFinish) if stage2.is_some() && !finished => {
                log::debug("stage-2 finished set-up", &[]);
                finished = true;
            }
            Ok(Sync::ExecFailed(e)) if finished => {
                let e = Errno::from_raw(e as u16);
                return Err(
                    Fail::new("stage-2 could not execute the payload (execveat)")
                        .errno(e)
                        .with_code(crate::exec::exit_code_for(e)),
                );
            }
            // The sync socket is close-on-exec: EOF after set-up means the
            // payload is running.
            Err(RecvError::Closed) if finished => sys::exit(0),
            Ok(other) => return Err(unexpected(other)),
            Err(RecvError::Closed) => {
                return Err(Fail::new(if stage2.is_some() {
                    "stage-2 exited before it finished set-up"
                } else {
                    "stage-1 exited before it finished set-up"
                }));
            }
            Err(RecvError::Garbled) => return Err(Fail::new("garbled message on the sync socket")),
            Err(RecvError::Sys(e)) => {
                return Err(Fail::new("failed to read from the sync socket").errno(e));
            }
        }
    }
}

fn unexpected(m: Sync) -> Fail {
    let _ = m;
    Fail::new("unexpected message on the sync socket")
}

fn recv_expect(fd: RawFd, want: Sync, waiting_for: &str) -> Result<(), Fail> {
    sync::expect(fd, want).map_err(|e| {
        let what = [Arg::Bytes(waiting_for.as_bytes())];
        let mut f = Fail::fill("stage-0 went away while waiting for {}", &what);
        if let RecvError::Sys(e) = e {
            f = f.errno(e);
        }
        f
    })
}

fn stage1(s: &Stage<'_>) -> i32 {
    log::set_stage(1);
    let _ = sys::set_name(b"runc:[1:CHILD]\0");
    match stage1_steps(s) {
        Ok(never) => match never {},
        Err(f) => log::bail(f),
    }
}

fn stage1_steps(s: &Stage<'_>) -> Result<Never, Fail> {
    // Stage 0's end, held here too, would keep its death from being EOF.
    sys::close(s.stage0_end).or_fail("close of stage-0's end of the sync socket", b"")?;
    // runc unshares the cgroup namespace last, in stage 2.
    let mut here = s.cfg.clone();
    here.clone_flags &= !g::CLONE_NEWCGROUP;
    namespaces::enter(&here, Mapper::Outside(s.fd))?;
    if let Some(list) = s.cfg.mount_sources {
        receive_mount_sources(s, list)?;
    }
    let stage2 = sys::spawn(g::CLONE_PARENT, || stage2(s)).or_fail("clone stage-2", b"")?;
    log::add_peer(stage2);
    sync::send(s.fd, Sync::RecvpidPls(stage2)).or_fail("write of stage-2's pid", b"")?;
    sys::exit(0)
}

/// runc 1.1, stage 1: has stage 0 open the bind-mount sources and places
/// each descriptor on the number `_LIBCONTAINER_MOUNT_FDS` gives it, where
/// runc's Go init expects it.
fn receive_mount_sources(s: &Stage<'_>, list: &[u8]) -> Result<(), Fail> {
    let env = s.p.env(b"_LIBCONTAINER_MOUNT_FDS").unwrap_or(b"");
    let targets = netlink::mount_fds(env).ok_or_else(|| {
        Fail::fill(
            "MOUNT_SOURCES needs _LIBCONTAINER_MOUNT_FDS as a JSON array, not '{}'",
            &[Arg::Bytes(env)],
        )
    })?;
    let (fds, sources) = (targets.clone().count(), netlink::bind_sources(list).count());
    if fds != sources {
        return Err(Fail::fill(
            "MOUNT_SOURCES has {} bind sources but _LIBCONTAINER_MOUNT_FDS has {} descriptors",
            &[Arg::Dec(sources as u64), Arg::Dec(fds as u64)],
        ));
    }
    log::debug("asking stage-0 for the mount sources", &[]);
    sync::send(s.fd, Sync::MountsourcesPls)
        .or_fail("write of the request for mount sources", b"")?;
    for target in targets {
        // runc reserves each number with a placeholder descriptor; one that
        // is not reserved may be one of ours, and dup3 would replace it
        // (stage 0's end is closed by now: its number is nobody's).
        if [s.fd, s.payload].contains(&target) {
            return Err(Fail::fill(
                "_LIBCONTAINER_MOUNT_FDS names descriptor {}, which the caller did not reserve",
                &[Arg::Dec(target as u64)],
            ));
        }
        let got = sys::recv_fd(s.fd).or_fail("receive of a mount source", b"")?;
        sys::dup3(got.raw(), target, 0).or_fail("dup3 of a mount source", b"")?;
    }
    recv_expect(s.fd, Sync::MountsourcesAck, "the mount sources")
}

/// runc 1.1, stage 0: opens each bind source (O_PATH) from inside stage 1's
/// new mount namespace, with stage 0's credentials, and sends it over.
fn send_mount_sources(fd: RawFd, stage1: Pid, list: &[u8]) -> Result<(), Fail> {
    let ours =
        sys::open(b"/proc/self/ns/mnt", g::O_RDONLY).or_fail("open", b"/proc/self/ns/mnt")?;
    let path = namespaces::proc_path(stage1, "ns/mnt");
    let theirs = sys::open(path.bytes(), g::O_RDONLY).or_fail("open", path.bytes())?;
    sys::setns(theirs.raw(), g::CLONE_NEWNS).or_fail("setns to", path.bytes())?;
    let sent = netlink::bind_sources(list).try_for_each(|src| {
        let f = sys::open(src, g::O_PATH).or_fail("open of mount source", src)?;
        sys::send_fd(fd, &[0], f.raw()).or_fail("send of mount source", src)
    });
    sys::setns(ours.raw(), g::CLONE_NEWNS)
        .or_fail("setns back to the caller's mount namespace", b"")?;
    sent
}

fn stage2(s: &Stage<'_>) -> i32 {
    log::set_stage(2);
    let _ = sys::set_name(b"runc:[2:INIT]\0");
    match stage2_steps(s) {
        Ok(never) => match never {},
        Err(f) => log::bail(f),
    }
}

fn stage2_steps(s: &Stage<'_>) -> Result<Never, Fail> {
    let (p, cfg, fd) = (s.p, s.cfg, s.fd);
    // No PDEATHSIG here (see the module comment): if the caller dies, stage
    // 0 dies with it and this wait ends in EOF.
    recv_expect(fd, Sync::Grandchild, "the go-ahead")?;
    sys::setsid().or_fail("setsid", b"")?;
    sys::setresuid(0, 0, 0).or_fail("setresuid(0, 0, 0)", b"")?;
    sys::setresgid(0, 0, 0).or_fail("setresgid(0, 0, 0)", b"")?;
    if !cfg.rootless_euid && cfg.setgroups {
        sys::clear_groups().or_fail("setgroups(0, NULL)", b"")?;
    }
    if cfg.clone_flags & g::CLONE_NEWCGROUP != 0 {
        // Here, as in runc: the namespace's root is the cgroup the caller
        // has put the stages in by now.
        namespaces::unshare(g::CLONE_NEWCGROUP)?;
    }
    sync::send(fd, Sync::ChildFinish).or_fail("write of the completion message", b"")?;
    log::debug("<= nsexec container setup", &[]);
    if let Some(regrants) = s.exec.regrants {
        crate::hardening::keep_undumpable_across_exec(regrants)?;
    }
    log::debug("executing the payload", &[]);
    let first = payload_start(p);
    let argv = p.argv.get(first..).unwrap_or(&[]);
    let e = crate::exec::exec_opened(s.payload, argv, p.envp);
    let _ = sync::send(fd, Sync::ExecFailed(i32::from(e.raw())));
    let f = Fail::new("execveat of the sealed payload").on(p.arg(first).unwrap_or(b""));
    Err(f.errno(e).with_code(crate::exec::exit_code_for(e)))
}

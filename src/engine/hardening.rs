//! The CVE-2019-5736 defence: before a process of ours enters namespaces
//! that someone else's processes live in, re-execute from a sealed memfd
//! copy of the binary, so that `/proc/PID/exe` seen from inside the container
//! leads to an immutable copy rather than the host's file.
#![allow(unsafe_code)]

use crate::config::Config;
use crate::errno::Errno;
use crate::exec;
use crate::fmt::{Out, Text};
use crate::log::{self, Fail, OrFail};
use crate::rt::{CPtr, Process};
use crate::sys::{self, OwnedFd, RawFd};
use linux_raw_sys::general as g;

/// argv[0] of a re-executed bootstrap: the bootstrap message follows on this fd.
pub const HANDOVER_PREFIX: &[u8] = b"nsexec-sealed:";

const SEALS: u32 = g::F_SEAL_SEAL | g::F_SEAL_SHRINK | g::F_SEAL_GROW | g::F_SEAL_WRITE;

fn is_sealed(fd: &OwnedFd) -> bool {
    // Only a memfd answers F_GET_SEALS (anything else: EINVAL).
    matches!(sys::fcntl(fd.raw(), g::F_GET_SEALS, 0), Ok(s) if s as u32 & SEALS == SEALS)
}

/// This binary, opened; `None` when it already runs from a memfd that can
/// no longer change.
fn open_unless_sealed() -> Result<Option<OwnedFd>, Fail> {
    let exe = sys::open(b"/proc/self/exe", g::O_RDONLY).or_fail("open", b"/proc/self/exe")?;
    Ok((!is_sealed(&exe)).then_some(exe))
}

/// A sealed, close-on-exec memfd named `name` holding a copy of `src`,
/// copied inside the kernel.
fn sealed_copy(src: &OwnedFd, name: &[u8]) -> Result<OwnedFd, Fail> {
    let mem = sys::memfd_create(name, g::MFD_CLOEXEC | g::MFD_ALLOW_SEALING)
        .or_fail("memfd_create", b"")?;
    let mut offset = 0;
    loop {
        match sys::sendfile(mem.raw(), src.raw(), &mut offset, 1 << 30) {
            Ok(0) => break,
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => return Err(Fail::new("sendfile to a sealed copy of").on(name).errno(e)),
        }
    }
    sys::fcntl(mem.raw(), g::F_ADD_SEALS, SEALS as usize).or_fail("fcntl(F_ADD_SEALS)", b"")?;
    Ok(mem)
}

/// The bootstrap's payload, opened where the caller stands (so a host path
/// runs inside a container whose mount namespace cannot see it) and
/// protected as runc protected itself against CVE-2019-5736: a sealed memfd
/// copy, so that no process in the container can reach the host file
/// through `/proc/PID/exe`. A payload that already is a sealed memfd (what
/// runc 1.2 and later hand over) is used as it is.
///
/// The copy is close-on-exec whatever the payload is: a script is told
/// apart only if its exec fails (see `exec::exec_opened`), so an ELF
/// payload costs no read of its first bytes.
pub fn open_sealed_payload(name: &[u8], path_var: Option<&[u8]>) -> Result<OwnedFd, Fail> {
    let file = exec::open_program(name, path_var).map_err(|e| {
        Fail::new("open of the program")
            .on(name)
            .errno(e)
            .with_code(exec::exit_code_for(e))
    })?;
    if may_name_a_memfd(name) && is_sealed(&file) {
        return Ok(file);
    }
    let base = name.rsplit(|&c| c == b'/').next().unwrap_or(name);
    sealed_copy(&file, base.get(..64).unwrap_or(base))
}

/// A memfd has no name in any filesystem: only a descriptor's link under
/// `/proc` (or `/dev/fd`, which leads there) reaches one. Any other path is
/// a file, copied without asking; a link elsewhere that leads to a sealed
/// memfd is copied too, which costs a copy and nothing else.
fn may_name_a_memfd(name: &[u8]) -> bool {
    name.starts_with(b"/proc/") || name.starts_with(b"/dev/fd/")
}

/// Re-executes from a sealed copy of this binary with `argv` (ending in a
/// null pointer). Returns only on failure.
fn exec_from_sealed_copy(exe: OwnedFd, argv: &[CPtr], p: &Process) -> Fail {
    let mem = match sealed_copy(&exe, b"nsexec") {
        Ok(m) => m,
        Err(f) => return f,
    };
    log::debug(|m| m.str("re-executing from a sealed memfd copy"));
    if argv.last().is_none_or(|a| !a.is_null()) {
        return Fail::new("internal error: argv not terminated");
    }
    // SAFETY: argv ends in a null pointer (checked); its strings and envp
    // come from the initial stack or from buffers alive for the call.
    let e = unsafe { sys::execve_fd(mem.raw(), argv.as_ptr(), p.envp.as_ptr()) };
    Fail::new("execveat of the sealed copy").errno(e)
}

/// Command-line mode: before joining, run from a sealed copy, same argv.
pub fn reexec_for_join(p: &Process) -> Result<(), Fail> {
    match open_unless_sealed()? {
        Some(exe) => Err(exec_from_sealed_copy(exe, p.argv_terminated(), p)),
        None => Ok(()),
    }
}

/// Bootstrap mode: when the message asks to join namespaces and we do not
/// run from a sealed copy, re-execute from one, handing the already-read
/// message over on a socket named in argv[0] (the payload never sees argv[0]).
pub fn ensure_sealed_for_join(p: &Process, cfg: &Config<'_>, msg: &[u8]) -> Result<(), Fail> {
    if cfg.ns_paths.is_empty() || p.arg(0).is_some_and(|a| a.starts_with(HANDOVER_PREFIX)) {
        return Ok(());
    }
    match open_unless_sealed()? {
        Some(exe) => Err(reexec_with_handover(exe, p, msg)),
        None => Ok(()),
    }
}

/// The re-exec of [`ensure_sealed_for_join`], apart: its argv copy is a
/// large frame that a bootstrap which does not join should never touch.
#[cold]
#[inline(never)]
fn reexec_with_handover(exe: OwnedFd, p: &Process, msg: &[u8]) -> Fail {
    let (tx, rx) = match sys::socketpair() {
        Ok(pair) => pair,
        Err(e) => return Fail::new("socketpair for the handover").errno(e),
    };
    if let Err(e) = sys::write_all(tx.raw(), msg) {
        return Fail::new("write of the handover message").errno(e);
    }
    drop(tx);
    if let Err(e) = sys::fcntl(rx.raw(), g::F_SETFD, 0) {
        return Fail::new("fcntl(F_SETFD) on the handover socket").errno(e);
    }
    let mut arg0: Text<48> = Text::new();
    arg0.put(HANDOVER_PREFIX);
    arg0.int(i64::from(rx.raw()));
    arg0.put(b"\0");
    let mut argv: heapless::Vec<CPtr, 4096> = heapless::Vec::new();
    let rest = p.argv_terminated().get(1..).unwrap_or(&[]);
    for &a in core::iter::once(&arg0.bytes().as_ptr()).chain(rest) {
        if argv.push(a).is_err() {
            return Fail::new("too many arguments to re-execute");
        }
    }
    exec_from_sealed_copy(exe, &argv, p)
}

/// The handover fd named in argv[0] by [`ensure_sealed_for_join`], if any.
pub fn handover_fd(p: &Process) -> Option<RawFd> {
    let rest = p.arg(0)?.strip_prefix(HANDOVER_PREFIX)?;
    crate::fmt::parse_dec(rest, i32::MAX as u64).map(|fd| fd as RawFd)
}

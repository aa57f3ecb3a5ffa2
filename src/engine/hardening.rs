//! What keeps a container's processes away from ours and from the host's
//! files when we enter namespaces they live in:
//! - CVE-2019-5736: before joining, re-execute from a sealed memfd copy of
//!   this binary, and execute the payload only from a file nothing can write
//!   (`open_protected_payload`), so that `/proc/PID/exe` seen from inside
//!   the container leads to nothing that reaches the host's file;
//! - CVE-2016-9962: the payload of a join starts non-dumpable, so that no
//!   process in the container can ptrace it or read its descriptors
//!   through `/proc/PID/fd` before the payload itself decides
//!   (`keep_undumpable_across_exec`).
#![allow(unsafe_code)]

use crate::config::{Config, NsType};
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
/// copied inside the kernel; `unreadable`: mode 0111 (execute only).
fn sealed_copy(src: &OwnedFd, name: &[u8], unreadable: bool) -> Result<OwnedFd, Fail> {
    let mem = sys::memfd_create(name, g::MFD_CLOEXEC | g::MFD_ALLOW_SEALING)
        .or_fail("memfd_create", b"")?;
    if unreadable {
        sys::fchmod(mem.raw(), 0o111).or_fail("fchmod of the sealed copy", b"")?;
    }
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

/// What stage 0 decides for the payload's exec, when the bootstrap joins
/// namespaces: how to hold the file, and what stage 2 does to its
/// capabilities right before the exec.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ExecPlan {
    pub hold: Hold,
    /// `None`: nothing to do (no namespaces joined, the exec may leave the
    /// payload dumpable, as runc's C leaves its own process). `Some(true)`:
    /// the exec by uid 0 gives back every capability, so stage 2 gives all
    /// of them up first; `Some(false)`: it would not (no_new_privs,
    /// SECBIT_NOROOT), so stage 2 keeps them and gives up only the effective
    /// set, and the payload is an unreadable copy.
    pub regrants: Option<bool>,
}

/// The kernel makes an exec non-dumpable when the new program gains
/// capabilities its caller had not (`commit_creds`), or when the caller
/// could not read the file (`would_dump`). The first is free: uid 0 gets
/// its capabilities back at exec, so stage 2 drops them just before. The
/// second needs a copy of our own, and is what also ties the payload's
/// memory to our user namespace rather than the container's, which matters
/// when joining a user namespace as root: there a process holding
/// CAP_SYS_PTRACE in the container's user namespace could otherwise still
/// reach the payload, and with runc's C it cannot.
pub fn exec_plan(cfg: &Config<'_>) -> Result<ExecPlan, Fail> {
    if cfg.ns_paths.is_empty() {
        return Ok(ExecPlan {
            hold: Hold::Unwritable,
            regrants: None,
        });
    }
    let regrants = sys::exec_regrants_root_caps().or_fail("prctl(PR_GET_NO_NEW_PRIVS)", b"")?;
    let joins_user = cfg.ns_paths.iter().any(|n| n.ns == NsType::User);
    let hold = if !regrants || (joins_user && sys::getuid() == 0) {
        Hold::Unreadable
    } else {
        Hold::Unwritable
    };
    Ok(ExecPlan {
        hold,
        regrants: Some(regrants),
    })
}

/// Stage 2, right before the exec of [`ExecPlan`]: no effective
/// capability (so the unreadable copy is unreadable to root too), and, when
/// the exec gives them back, no permitted one either (so the exec is a gain
/// of capabilities). The inheritable set stays as it is.
pub fn keep_undumpable_across_exec(regrants: bool) -> Result<(), Fail> {
    let now = sys::capget().or_fail("capget", b"")?;
    let next = sys::Caps {
        effective: 0,
        permitted: if regrants { 0 } else { now.permitted },
        inheritable: now.inheritable,
    };
    sys::capset(next).or_fail("capset before the payload's exec", b"")
}

/// How the payload must be held for its exec.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Hold {
    /// Unwritable from anywhere: a caller's protection is good enough, and
    /// a detached read-only overlayfs costs no copy.
    Unwritable,
    /// Also unreadable by stage 2 once it gives up its DAC capabilities: a
    /// copy owned by stage 0, mode 0111. Exec of a file the process cannot
    /// read leaves it non-dumpable whatever its capabilities do, and ties
    /// its memory to the nearest user namespace that maps the file's owner
    /// (stage 0's), not the container's.
    Unreadable,
}

/// The bootstrap's payload, opened where the caller stands (so a host path
/// runs inside a container whose mount namespace cannot see it) and held so
/// that no process in the container can write the host file through
/// `/proc/PID/exe` (CVE-2019-5736).
///
/// Cheapest first: what the caller protected already (runc 1.2+ hands over
/// a sealed memfd, or, as root, a file on a detached read-only overlayfs);
/// else a detached read-only overlayfs of its own, where the mount API
/// lets stage 0 make one (root); else a sealed memfd copy. The copy is
/// close-on-exec whatever the payload is: a script is told apart only if
/// its exec fails (see `exec::exec_opened`), so an ELF payload costs no
/// read of its first bytes.
pub fn open_protected_payload(
    name: &[u8],
    path_var: Option<&[u8]>,
    hold: Hold,
) -> Result<OwnedFd, Fail> {
    let file = exec::open_program(name, path_var).map_err(|e| {
        Fail::new("open of the program")
            .on(name)
            .errno(e)
            .with_code(exec::exit_code_for(e))
    })?;
    if hold == Hold::Unwritable {
        if may_be_a_descriptor(name) && is_unwritable(&file) {
            log::debug("the payload is protected by the caller", &[]);
            return Ok(file);
        }
        if let Some(held) = detached_overlay(&file) {
            log::debug("the payload is held on a detached read-only overlayfs", &[]);
            return Ok(held);
        }
    }
    let base = name.rsplit(|&c| c == b'/').next().unwrap_or(name);
    log::debug("the payload is copied into a sealed memfd", &[]);
    sealed_copy(
        &file,
        base.get(..64).unwrap_or(base),
        hold == Hold::Unreadable,
    )
}

/// What a caller may hand over as already protected: a sealed memfd, or a
/// file on a read-only overlayfs. Overlayfs never writes its lower layers,
/// and one without an upper layer stays read-only even if someone clears
/// the mount's flag, so the host file behind it cannot be reached for
/// writing. (A plain read-only bind mount would not do: anyone holding a
/// descriptor to a detached mount and CAP_SYS_ADMIN in a user namespace of
/// their own can clear its MOUNT_ATTR_RDONLY.)
fn is_unwritable(file: &OwnedFd) -> bool {
    is_sealed(file)
        || matches!(sys::fstatfs(file.raw()),
            Ok((fs, flags)) if fs == u64::from(g::OVERLAYFS_SUPER_MAGIC) && flags & sys::ST_RDONLY != 0)
}

/// A caller's protected file has no name of its own in any filesystem we
/// can see: only a descriptor's link under `/proc` (or `/dev/fd`, which
/// leads there) reaches one. Any other path is a host file, protected
/// without asking.
fn may_be_a_descriptor(name: &[u8]) -> bool {
    name.starts_with(b"/proc/") || name.starts_with(b"/dev/fd/")
}

/// `file`, opened again through a detached overlayfs whose only lower
/// layers are its directory and an unrelated one (overlayfs wants two to
/// run without an upper layer); `None` where that cannot be made (no
/// privilege over the mount namespace, no overlayfs, a file that has no
/// path any more), and the caller copies instead.
fn detached_overlay(file: &OwnedFd) -> Option<OwnedFd> {
    let mut link = [0u8; sys::PATH_MAX];
    let mut own: Text<32> = Text::new();
    own.str("/proc/self/fd/");
    own.int(i64::from(file.raw()));
    let path = sys::readlink(own.bytes(), &mut link).ok()?;
    if !path.starts_with(b"/") || path.ends_with(b" (deleted)") {
        return None;
    }
    let cut = path.iter().rposition(|&c| c == b'/')?;
    let (dir, name) = (path.get(..cut.max(1))?, path.get(cut + 1..)?);
    let other: &[u8] = if dir.starts_with(b"/dev") {
        b"/sys"
    } else {
        b"/dev"
    };
    let mut lower: Text<{ 2 * sys::PATH_MAX }> = Text::new();
    for &c in dir {
        // The option's own syntax: `:` separates layers, `\` escapes.
        if c == b':' || c == b'\\' {
            lower.put(b"\\");
        }
        lower.put(&[c]);
    }
    lower.put(b":");
    lower.put(other);
    if lower.overflowed() {
        return None;
    }
    let ctx = sys::fsopen(c"overlay").ok()?;
    sys::fsconfig_string(ctx.raw(), c"lowerdir", lower.bytes()).ok()?;
    // Layers on two filesystems would turn xino on, and the kernel would
    // log that for every container; nothing here needs it.
    let _ = sys::fsconfig_string(ctx.raw(), c"xino", b"off");
    sys::fsconfig_create(ctx.raw()).ok()?;
    let attrs = g::MOUNT_ATTR_RDONLY | g::MOUNT_ATTR_NODEV | g::MOUNT_ATTR_NOSUID;
    let mnt = sys::fsmount(ctx.raw(), attrs).ok()?;
    sys::openat(mnt.raw(), name, g::O_PATH | g::O_NOFOLLOW, 0).ok()
}

/// Re-executes from a sealed copy of this binary with `argv` (ending in a
/// null pointer). Returns only on failure.
fn exec_from_sealed_copy(exe: OwnedFd, argv: &[CPtr], p: &Process) -> Fail {
    let mem = match sealed_copy(&exe, b"nsexec", false) {
        Ok(m) => m,
        Err(f) => return f,
    };
    log::debug("re-executing from a sealed memfd copy", &[]);
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

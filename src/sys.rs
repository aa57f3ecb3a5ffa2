//! Typed wrappers over the syscall table: `Result<_, Errno>`, owned
//! descriptors that close themselves, NUL-terminated paths built on the stack.
#![allow(unsafe_code)]

use crate::errno::Errno;
use crate::syscalls::{Sysno, sc0, sc1, sc2, sc3, sc4, sc5};
use linux_raw_sys::general as g;

pub type RawFd = i32;
pub type Pid = i32;

/// Longest path the kernel accepts, with its NUL.
pub const PATH_MAX: usize = 4096;

/// A descriptor this process owns; closed when dropped.
#[derive(Debug)]
pub struct OwnedFd(RawFd);

impl OwnedFd {
    pub fn raw(&self) -> RawFd {
        self.0
    }

    /// Gives up ownership: the descriptor stays open.
    pub fn into_raw(self) -> RawFd {
        let fd = self.0;
        core::mem::forget(self);
        fd
    }

    /// # Safety
    /// `fd` is open and nothing else will close it.
    pub unsafe fn from_raw(fd: RawFd) -> OwnedFd {
        OwnedFd(fd)
    }
}

impl Drop for OwnedFd {
    fn drop(&mut self) {
        let _ = close(self.0);
    }
}

/// Runs `f` with `path` as a NUL-terminated C string on the stack.
pub fn with_cpath<R>(path: &[u8], f: impl FnOnce(*const u8) -> R) -> Result<R, Errno> {
    let mut buf = [0u8; PATH_MAX];
    if path.len() >= buf.len() {
        return Err(Errno::ENAMETOOLONG);
    }
    if path.contains(&0) {
        return Err(Errno::EINVAL);
    }
    let dst = buf.get_mut(..path.len()).ok_or(Errno::ENAMETOOLONG)?;
    dst.copy_from_slice(path);
    Ok(f(buf.as_ptr()))
}

pub fn read(fd: RawFd, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: buf is valid for writes of its length.
    unsafe {
        sc3(
            Sysno::read,
            fd as usize,
            buf.as_mut_ptr() as usize,
            buf.len(),
        )
    }
}

pub fn write(fd: RawFd, buf: &[u8]) -> Result<usize, Errno> {
    // SAFETY: buf is valid for reads of its length.
    unsafe { sc3(Sysno::write, fd as usize, buf.as_ptr() as usize, buf.len()) }
}

/// Writes everything, through short writes and EINTR.
pub fn write_all(fd: RawFd, mut buf: &[u8]) -> Result<(), Errno> {
    while !buf.is_empty() {
        match write(fd, buf) {
            Ok(0) => return Err(Errno::EIO),
            Ok(n) => buf = buf.get(n..).unwrap_or(&[]),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads until `buf` is full; `Ok(false)` on end of file before any byte,
/// `EPIPE`-like `Err(ENODATA)` on end of file part-way.
pub fn read_exact(fd: RawFd, buf: &mut [u8]) -> Result<bool, Errno> {
    let mut got = 0;
    while got < buf.len() {
        let rest = buf.get_mut(got..).unwrap_or(&mut []);
        match read(fd, rest) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err(Errno::ENODATA),
            Ok(n) => got += n,
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

pub fn openat(dir: RawFd, path: &[u8], flags: u32, mode: u32) -> Result<OwnedFd, Errno> {
    let flags = flags | g::O_CLOEXEC;
    with_cpath(path, |p| {
        // SAFETY: p is NUL-terminated and lives for the call.
        unsafe {
            sc4(
                Sysno::openat,
                dir as usize,
                p as usize,
                flags as usize,
                mode as usize,
            )
        }
    })?
    .map(|fd| OwnedFd(fd as RawFd))
}

pub fn open(path: &[u8], flags: u32) -> Result<OwnedFd, Errno> {
    openat(g::AT_FDCWD, path, flags, 0)
}

pub fn close(fd: RawFd) -> Result<(), Errno> {
    // SAFETY: closing a number is memory-safe; ownership is the caller's concern.
    unsafe { sc1(Sysno::close, fd as usize) }.map(drop)
}

pub fn exit(code: i32) -> ! {
    loop {
        // SAFETY: exit_group never returns.
        let _ = unsafe { sc1(Sysno::exit_group, code as usize) };
    }
}

pub fn getpid() -> Pid {
    // SAFETY: no arguments; cannot fail.
    unsafe { sc0(Sysno::getpid) }.unwrap_or(0) as Pid
}

pub fn getppid() -> Pid {
    // SAFETY: no arguments; cannot fail.
    unsafe { sc0(Sysno::getppid) }.unwrap_or(0) as Pid
}

pub fn getuid() -> u32 {
    // SAFETY: no arguments; cannot fail.
    unsafe { sc0(Sysno::getuid) }.unwrap_or(0) as u32
}

pub fn getgid() -> u32 {
    // SAFETY: no arguments; cannot fail.
    unsafe { sc0(Sysno::getgid) }.unwrap_or(0) as u32
}

pub fn prctl(option: u32, arg: usize) -> Result<usize, Errno> {
    // SAFETY: the options used here take integers, or (PR_SET_NAME) a
    // pointer to a NUL-terminated string the caller keeps alive.
    unsafe { sc5(Sysno::prctl, option as usize, arg, 0, 0, 0) }
}

pub fn set_name(name: &'static [u8]) -> Result<(), Errno> {
    // The kernel keeps 15 bytes and wants them NUL-terminated.
    debug_assert!(name.last() == Some(&0));
    prctl(linux_raw_sys::prctl::PR_SET_NAME, name.as_ptr() as usize).map(drop)
}

pub fn set_pdeathsig(sig: u32) -> Result<(), Errno> {
    prctl(linux_raw_sys::prctl::PR_SET_PDEATHSIG, sig as usize).map(drop)
}

pub fn set_dumpable(on: bool) -> Result<(), Errno> {
    prctl(linux_raw_sys::prctl::PR_SET_DUMPABLE, on as usize).map(drop)
}

pub fn setns(fd: RawFd, nstype: u32) -> Result<(), Errno> {
    // SAFETY: integers only.
    unsafe { sc2(Sysno::setns, fd as usize, nstype as usize) }.map(drop)
}

pub fn unshare(flags: u32) -> Result<(), Errno> {
    // SAFETY: integers only.
    unsafe { sc1(Sysno::unshare, flags as usize) }.map(drop)
}

pub fn setresuid(r: u32, e: u32, s: u32) -> Result<(), Errno> {
    // SAFETY: integers only.
    unsafe { sc3(Sysno::setresuid, r as usize, e as usize, s as usize) }.map(drop)
}

pub fn setresgid(r: u32, e: u32, s: u32) -> Result<(), Errno> {
    // SAFETY: integers only.
    unsafe { sc3(Sysno::setresgid, r as usize, e as usize, s as usize) }.map(drop)
}

/// Drops every supplementary group.
pub fn clear_groups() -> Result<(), Errno> {
    // SAFETY: a count of zero reads nothing.
    unsafe { sc2(Sysno::setgroups, 0, 0) }.map(drop)
}

pub fn setsid() -> Result<Pid, Errno> {
    // SAFETY: no arguments.
    unsafe { sc0(Sysno::setsid) }.map(|p| p as Pid)
}

pub fn kill(pid: Pid, sig: u32) -> Result<(), Errno> {
    // SAFETY: integers only.
    unsafe { sc2(Sysno::kill, pid as usize, sig as usize) }.map(drop)
}

/// A stream socketpair, both ends close-on-exec.
pub fn socketpair() -> Result<(OwnedFd, OwnedFd), Errno> {
    let mut fds = [0i32; 2];
    // SOCK_CLOEXEC is O_CLOEXEC on every arch nsexec supports.
    let ty = linux_raw_sys::net::SOCK_STREAM | g::O_CLOEXEC;
    // SAFETY: fds has room for the two descriptors the kernel writes.
    unsafe {
        sc4(
            Sysno::socketpair,
            linux_raw_sys::net::AF_UNIX as usize,
            ty as usize,
            0,
            fds.as_mut_ptr() as usize,
        )
    }?;
    Ok((OwnedFd(fds[0]), OwnedFd(fds[1])))
}

/// How a waited-for child ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ExitStatus {
    Exited(u8),
    Signaled(u8),
}

impl ExitStatus {
    fn from_wait(status: i32) -> ExitStatus {
        let sig = (status & 0x7f) as u8;
        if sig == 0 {
            ExitStatus::Exited(((status >> 8) & 0xff) as u8)
        } else {
            ExitStatus::Signaled(sig)
        }
    }

    /// The shell's view: the code, or 128 + the signal.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => i32::from(c),
            ExitStatus::Signaled(s) => 128 + i32::from(s),
        }
    }
}

/// `wait4(pid, .., flags)`: `Ok(None)` when WNOHANG found nothing.
pub fn wait4(pid: Pid, flags: u32) -> Result<Option<(Pid, ExitStatus)>, Errno> {
    let mut status = 0i32;
    // SAFETY: status is a valid i32 for the kernel to write; no rusage.
    let r = unsafe {
        sc4(
            Sysno::wait4,
            pid as usize,
            &raw mut status as usize,
            flags as usize,
            0,
        )
    }?;
    if r == 0 {
        Ok(None)
    } else {
        Ok(Some((r as Pid, ExitStatus::from_wait(status))))
    }
}

/// Waits for `pid` to end, through EINTR.
pub fn wait_for(pid: Pid) -> Result<ExitStatus, Errno> {
    loop {
        match wait4(pid, g::__WALL) {
            Ok(Some((_, st))) => return Ok(st),
            Ok(None) | Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
}

/// `execve`. Returns only on failure.
///
/// # Safety
/// `path` is NUL-terminated; `argv` and `envp` are null-terminated arrays of
/// NUL-terminated strings, all alive for the call.
pub unsafe fn execve(path: *const u8, argv: *const *const u8, envp: *const *const u8) -> Errno {
    // SAFETY: forwarded to the caller.
    match unsafe { sc3(Sysno::execve, path as usize, argv as usize, envp as usize) } {
        Ok(_) => Errno::EINVAL,
        Err(e) => e,
    }
}

/// The two sides of a fork-like clone.
pub enum Forked {
    Child,
    Parent(Pid),
}

/// A fork-like `clone` (no new stack): the child resumes here on its own
/// copy of memory. `flags` must not include CLONE_VM.
pub fn fork(flags: u32) -> Result<Forked, Errno> {
    debug_assert!(flags & g::CLONE_VM == 0);
    let flags = flags as usize | g::SIGCHLD as usize;
    // SAFETY: without CLONE_VM the child gets a copy of this stack, so it can
    // return through the same frames exactly as after fork(2).
    let r = unsafe { crate::syscalls::clone_fork(flags) }?;
    Ok(if r == 0 {
        Forked::Child
    } else {
        Forked::Parent(r as Pid)
    })
}

/// Stacks for processes created by [`spawn`]. A spawned child never shares
/// memory with its parent (no CLONE_VM), so it runs on its own copy of one of
/// these. There are two so that a spawned process can spawn again without its
/// child's first frames landing on its own copy of the frames it is still
/// reading the closure from.
#[repr(C, align(16))]
struct ChildStacks([[u8; CHILD_STACK_SIZE]; 2]);

const CHILD_STACK_SIZE: usize = 64 * 1024;
static mut CHILD_STACKS: ChildStacks = ChildStacks([[0; CHILD_STACK_SIZE]; 2]);

/// The child stack a process at stack pointer `sp` should give its child.
pub fn child_stack_range(sp: usize) -> (usize, usize) {
    let base = (&raw const CHILD_STACKS) as usize;
    let first = (base, base + CHILD_STACK_SIZE);
    let second = (first.1, first.1 + CHILD_STACK_SIZE);
    if sp >= first.0 && sp < first.1 {
        second
    } else {
        first
    }
}

/// `clone(flags | SIGCHLD)` onto nsexec's own 16-byte-aligned child stack;
/// the child runs `f` and exits with its result. `flags` must not include
/// CLONE_VM (see [`ChildStacks`]).
pub fn spawn<F: FnOnce() -> i32>(flags: u32, f: F) -> Result<Pid, Errno> {
    extern "C" fn trampoline<F: FnOnce() -> i32>(arg: usize) -> ! {
        // SAFETY: arg is the address of the parent's `ManuallyDrop<F>`; the
        // child owns its copy of that memory and reads it exactly once.
        let f = unsafe { core::ptr::read(arg as *const F) };
        exit(f())
    }
    if flags & g::CLONE_VM != 0 {
        return Err(Errno::EINVAL);
    }
    let f = core::mem::ManuallyDrop::new(f);
    let (_, top) = child_stack_range(crate::arch::stack_pointer());
    const _: () = assert!(CHILD_STACK_SIZE % crate::arch::STACK_ALIGNMENT == 0);
    // SAFETY: top is the 16-aligned end of a stack this process is not
    // running on, of which the child gets its own copy (no CLONE_VM); the
    // trampoline never returns.
    let r = unsafe {
        crate::syscalls::clone_on_stack(
            flags as usize | g::SIGCHLD as usize,
            top as *mut u8,
            0,
            trampoline::<F>,
            (&raw const f) as usize,
        )
    }?;
    Ok(r as Pid)
}

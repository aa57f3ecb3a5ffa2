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
}

impl Drop for OwnedFd {
    fn drop(&mut self) {
        let _ = close(self.0);
    }
}

/// A path as a NUL-terminated C string, on the stack.
pub struct CPath([u8; PATH_MAX]);

impl CPath {
    pub fn new(path: &[u8]) -> Result<CPath, Errno> {
        if path.contains(&0) {
            return Err(Errno::EINVAL);
        }
        let mut buf = [0u8; PATH_MAX];
        // The last byte stays 0: the terminator.
        let dst = buf
            .get_mut(..path.len())
            .filter(|_| path.len() < PATH_MAX)
            .ok_or(Errno::ENAMETOOLONG)?;
        crate::fmt::copy(dst, path);
        Ok(CPath(buf))
    }

    pub fn as_ptr(&self) -> *const u8 {
        self.0.as_ptr()
    }
}

/// Runs `f` with `path` as a NUL-terminated C string on the stack.
pub fn with_cpath<R>(path: &[u8], f: impl FnOnce(*const u8) -> R) -> Result<R, Errno> {
    Ok(f(CPath::new(path)?.as_ptr()))
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

#[inline(never)] // a large stack frame: keep it out of long-lived callers
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
    // SAFETY: exit_group does not return when it succeeds.
    let _ = unsafe { sc1(Sysno::exit_group, code as usize) };
    // Only a seccomp filter can refuse exit_group: die by a fault rather than spin.
    crate::arch::trap()
}

pub fn getpid() -> Pid {
    // SAFETY: no arguments; cannot fail.
    unsafe { sc0(Sysno::getpid) }.unwrap_or(0) as Pid
}

/// The parent's pid (0 when the parent is outside our pid namespace).
/// It fails only under a seccomp filter that refuses it.
pub fn getppid() -> Result<Pid, Errno> {
    // SAFETY: no arguments.
    unsafe { sc0(Sysno::getppid) }.map(|p| p as Pid)
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

pub fn dup3(old: RawFd, new: RawFd, flags: u32) -> Result<(), Errno> {
    // SAFETY: integers only.
    unsafe { sc3(Sysno::dup3, old as usize, new as usize, flags as usize) }.map(drop)
}

pub fn fcntl(fd: RawFd, cmd: u32, arg: usize) -> Result<usize, Errno> {
    // SAFETY: the commands used here (F_GETFD, F_SETFD, F_GET_SEALS,
    // F_ADD_SEALS) take integers.
    unsafe { sc3(Sysno::fcntl, fd as usize, cmd as usize, arg) }
}

/// Unlocks a pty master and returns its number (`/dev/pts/N`).
pub fn pty_unlock(master: RawFd) -> Result<u32, Errno> {
    use linux_raw_sys::ioctl as io;
    let unlock: i32 = 0;
    let mut n: u32 = 0;
    // SAFETY: TIOCSPTLCK reads an int, TIOCGPTN writes an unsigned int.
    unsafe {
        sc3(
            Sysno::ioctl,
            master as usize,
            io::TIOCSPTLCK as usize,
            &raw const unlock as usize,
        )?;
        sc3(
            Sysno::ioctl,
            master as usize,
            io::TIOCGPTN as usize,
            &raw mut n as usize,
        )?;
    }
    Ok(n)
}

/// Opens the slave side of a pty master (TIOCGPTPEER: no path lookup).
pub fn pty_peer(master: RawFd) -> Result<OwnedFd, Errno> {
    let flags = g::O_RDWR | g::O_NOCTTY | g::O_CLOEXEC;
    // SAFETY: TIOCGPTPEER takes open flags as an integer and returns a new fd.
    unsafe {
        sc3(
            Sysno::ioctl,
            master as usize,
            linux_raw_sys::ioctl::TIOCGPTPEER as usize,
            flags as usize,
        )
    }
    .map(|fd| OwnedFd(fd as RawFd))
}

/// Makes the terminal `fd` this session leader's controlling terminal.
pub fn set_controlling_tty(fd: RawFd) -> Result<(), Errno> {
    // SAFETY: TIOCSCTTY takes an integer.
    unsafe {
        sc3(
            Sysno::ioctl,
            fd as usize,
            linux_raw_sys::ioctl::TIOCSCTTY as usize,
            0,
        )
    }
    .map(drop)
}

pub fn setpgid(pid: Pid, pgid: Pid) -> Result<(), Errno> {
    // SAFETY: integers only.
    unsafe { sc2(Sysno::setpgid, pid as usize, pgid as usize) }.map(drop)
}

/// The target of a symbolic link, into `buf`.
#[inline(never)] // a large stack frame: keep it out of long-lived callers
pub fn readlink<'b>(path: &[u8], buf: &'b mut [u8]) -> Result<&'b [u8], Errno> {
    let n = with_cpath(path, |p| {
        // SAFETY: p is NUL-terminated; buf is valid for writes of its length.
        unsafe {
            sc4(
                Sysno::readlinkat,
                g::AT_FDCWD as usize,
                p as usize,
                buf.as_mut_ptr() as usize,
                buf.len(),
            )
        }
    })??;
    buf.get(..n).ok_or(Errno::ENAMETOOLONG)
}

#[inline(never)] // a large stack frame: keep it out of long-lived callers
pub fn mount(src: &[u8], target: &[u8], fstype: &[u8], flags: u32) -> Result<(), Errno> {
    let (s, t, f) = (CPath::new(src)?, CPath::new(target)?, CPath::new(fstype)?);
    // SAFETY: three NUL-terminated strings alive for the call; no data.
    unsafe {
        sc5(
            Sysno::mount,
            s.as_ptr() as usize,
            t.as_ptr() as usize,
            f.as_ptr() as usize,
            flags as usize,
            0,
        )
    }
    .map(drop)
}

pub fn sethostname(name: &[u8]) -> Result<(), Errno> {
    // SAFETY: the kernel reads exactly len bytes.
    unsafe { sc2(Sysno::sethostname, name.as_ptr() as usize, name.len()) }.map(drop)
}

/// A signal set as the kernel sees it (64 signals).
pub type SigSet = u64;

pub const fn sig_bit(sig: u32) -> SigSet {
    1u64 << (sig - 1)
}

/// Replaces the blocked-signal mask, returning the old one.
pub fn set_sigmask(mask: SigSet) -> Result<SigSet, Errno> {
    let mut old: SigSet = 0;
    // SAFETY: both pointers are to 8-byte sets, the size passed.
    unsafe {
        sc4(
            Sysno::rt_sigprocmask,
            g::SIG_SETMASK as usize,
            &raw const mask as usize,
            &raw mut old as usize,
            8,
        )
    }?;
    Ok(old)
}

/// Waits for one of the (blocked) signals in `set`; returns its number.
pub fn wait_signal(set: SigSet) -> Result<u32, Errno> {
    // SAFETY: set is an 8-byte set; no siginfo, no timeout.
    unsafe { sc4(Sysno::rt_sigtimedwait, &raw const set as usize, 0, 0, 8) }.map(|s| s as u32)
}

pub fn socket_unix_stream() -> Result<OwnedFd, Errno> {
    let ty = linux_raw_sys::net::SOCK_STREAM | g::O_CLOEXEC;
    // SAFETY: integers only.
    unsafe {
        sc3(
            Sysno::socket,
            linux_raw_sys::net::AF_UNIX as usize,
            ty as usize,
            0,
        )
    }
    .map(|fd| OwnedFd(fd as RawFd))
}

/// Connects a unix stream socket to the filesystem path `path`.
pub fn connect_unix(fd: RawFd, path: &[u8]) -> Result<(), Errno> {
    #[repr(C)]
    struct SockaddrUn {
        family: u16,
        path: [u8; 108],
    }
    let mut addr = SockaddrUn {
        family: linux_raw_sys::net::AF_UNIX as u16,
        path: [0; 108],
    };
    let dst = addr
        .path
        .get_mut(..path.len())
        .filter(|_| path.len() < 108)
        .ok_or(Errno::ENAMETOOLONG)?;
    crate::fmt::copy(dst, path);
    // SAFETY: addr is a sockaddr_un of the size passed.
    unsafe {
        sc3(
            Sysno::connect,
            fd as usize,
            &raw const addr as usize,
            core::mem::size_of::<SockaddrUn>(),
        )
    }
    .map(drop)
}

/// Sends `data` with one descriptor attached (SCM_RIGHTS).
pub fn send_fd(sock: RawFd, data: &[u8], fd: RawFd) -> Result<(), Errno> {
    #[repr(C)]
    struct Iovec {
        base: *const u8,
        len: usize,
    }
    #[repr(C)]
    struct Msghdr {
        name: usize,
        namelen: u32,
        iov: *const Iovec,
        iovlen: usize,
        control: *const u8,
        controllen: usize,
        flags: i32,
    }
    // cmsghdr (len: usize, level: i32, type: i32) followed by one int, padded to 8.
    #[repr(C, align(8))]
    struct Cmsg {
        len: usize,
        level: i32,
        ty: i32,
        fd: i32,
        pad: i32,
    }
    static_assertions::const_assert_eq!(core::mem::size_of::<Cmsg>(), 24);
    let cmsg = Cmsg {
        len: 16 + 4,
        level: linux_raw_sys::net::SOL_SOCKET as i32,
        ty: linux_raw_sys::net::SCM_RIGHTS as i32,
        fd,
        pad: 0,
    };
    let iov = Iovec {
        base: data.as_ptr(),
        len: data.len(),
    };
    let msg = Msghdr {
        name: 0,
        namelen: 0,
        iov: &raw const iov,
        iovlen: 1,
        control: (&raw const cmsg).cast(),
        controllen: core::mem::size_of::<Cmsg>(),
        flags: 0,
    };
    // SAFETY: msg, iov, data and cmsg all outlive the call and have the
    // layouts the kernel's 64-bit msghdr/iovec/cmsghdr use.
    let n = unsafe {
        sc3(
            Sysno::sendmsg,
            sock as usize,
            &raw const msg as usize,
            linux_raw_sys::net::MSG_NOSIGNAL as usize,
        )
    }?;
    if n == data.len() {
        Ok(())
    } else {
        Err(Errno::EIO)
    }
}

/// An anonymous file that can be sealed.
pub fn memfd_create(name: &'static [u8], flags: u32) -> Result<OwnedFd, Errno> {
    debug_assert!(name.last() == Some(&0));
    // SAFETY: name is NUL-terminated and static.
    unsafe { sc2(Sysno::memfd_create, name.as_ptr() as usize, flags as usize) }
        .map(|fd| OwnedFd(fd as RawFd))
}

/// `execveat(fd, "", argv, envp, AT_EMPTY_PATH)`. Returns only on failure.
///
/// # Safety
/// As for [`execve`].
pub unsafe fn execve_fd(fd: RawFd, argv: *const *const u8, envp: *const *const u8) -> Errno {
    // SAFETY: forwarded; "" is a static NUL-terminated string.
    let r = unsafe {
        crate::syscalls::sc5(
            Sysno::execveat,
            fd as usize,
            c"".as_ptr() as usize,
            argv as usize,
            envp as usize,
            g::AT_EMPTY_PATH as usize,
        )
    };
    match r {
        Ok(_) => Errno::EINVAL,
        Err(e) => e,
    }
}

//! Typed wrappers over the syscall table: `Result<_, Errno>`, owned
//! descriptors that close themselves, NUL-terminated paths built on the stack.
#![allow(unsafe_code)]

use crate::errno::Errno;
use crate::syscalls::{Sysno, sc0, sc1, sc2, sc3, sc4, sc5};
use core::ffi::CStr;
use core::mem::MaybeUninit;
use linux_raw_sys::general as g;

mod console;
mod creds;
mod mount_api;
mod process;
mod terminal;
pub use console::*;
pub use creds::*;
pub use mount_api::*;
pub use process::*;
pub use terminal::*;

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

    /// Closes now and reports failure, for a close that others wait on
    /// (an end of a socket whose EOF means something).
    pub fn close(self) -> Result<(), Errno> {
        let fd = self.0;
        core::mem::forget(self);
        close(fd)
    }
}

impl Drop for OwnedFd {
    fn drop(&mut self) {
        let _ = close(self.0);
    }
}

/// Runs `f` with `path` as a NUL-terminated C string on the stack. Only the
/// path and its NUL are written: the rest of the buffer stays as it was, so
/// a short path touches no more stack than it needs.
#[inline(always)]
pub fn with_cpath<R>(path: &[u8], f: impl FnOnce(*const u8) -> R) -> Result<R, Errno> {
    let mut buf = [MaybeUninit::<u8>::uninit(); PATH_MAX];
    Ok(f(terminated(&mut buf, path)?))
}

/// Writes `path` and a NUL into `buf`; a pointer to the string.
fn terminated(buf: &mut [MaybeUninit<u8>; PATH_MAX], path: &[u8]) -> Result<*const u8, Errno> {
    if path.contains(&0) {
        return Err(Errno::EINVAL);
    }
    // The NUL needs the last byte a path of PATH_MAX - 1 leaves.
    let nul = buf.get_mut(path.len()).ok_or(Errno::ENAMETOOLONG)?;
    nul.write(0);
    for (d, s) in buf.iter_mut().zip(path) {
        d.write(*s);
    }
    Ok(buf.as_ptr().cast())
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

#[unsafe(link_section = ".nsexec.loop")] // with the init's loop (linker.ld)
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

/// `prctl(option, a, b)`.
///
/// # Safety
/// Where `option` reads memory through `a` or `b`, it must be valid for
/// what the kernel reads.
pub unsafe fn prctl3(option: u32, a: usize, b: usize) -> Result<usize, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { sc5(Sysno::prctl, option as usize, a, b, 0, 0) }
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

pub fn dup3(old: RawFd, new: RawFd, flags: u32) -> Result<(), Errno> {
    // SAFETY: integers only.
    unsafe { sc3(Sysno::dup3, old as usize, new as usize, flags as usize) }.map(drop)
}

pub fn fcntl(fd: RawFd, cmd: u32, arg: usize) -> Result<usize, Errno> {
    // SAFETY: the commands used here (F_GETFD, F_SETFD, F_GET_SEALS,
    // F_ADD_SEALS) take integers.
    unsafe { sc3(Sysno::fcntl, fd as usize, cmd as usize, arg) }
}

/// `fchmod(2)`: a memfd's mode decides whether its exec can read it.
pub fn fchmod(fd: RawFd, mode: u32) -> Result<(), Errno> {
    // SAFETY: integers only.
    unsafe { sc2(Sysno::fchmod, fd as usize, mode as usize) }.map(drop)
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

/// `mount(2)` with no data. The strings are C string literals: every mount
/// nsexec makes is of fixed names, so no path buffer is needed.
pub fn mount(src: &CStr, target: &CStr, fstype: &CStr, flags: u32) -> Result<(), Errno> {
    // SAFETY: three NUL-terminated strings alive for the call; no data.
    unsafe {
        sc5(
            Sysno::mount,
            src.as_ptr() as usize,
            target.as_ptr() as usize,
            fstype.as_ptr() as usize,
            flags as usize,
            0,
        )
    }
    .map(drop)
}

/// `madvise(2)` over `[addr, addr + len)`; `addr` page-aligned.
///
/// # Safety
/// With an advice that discards contents (`MADV_DONTNEED` on private
/// anonymous memory reads back as zeros), nothing may use the range's old
/// contents afterwards.
pub unsafe fn madvise(addr: usize, len: usize, advice: u32) -> Result<(), Errno> {
    // SAFETY: forwarded to the caller; madvise reads no user memory.
    unsafe { sc3(Sysno::madvise, addr, len, advice as usize) }.map(drop)
}

pub fn sethostname(name: &[u8]) -> Result<(), Errno> {
    // SAFETY: the kernel reads exactly len bytes.
    unsafe { sc2(Sysno::sethostname, name.as_ptr() as usize, name.len()) }.map(drop)
}

/// An anonymous file that can be sealed.
pub fn memfd_create(name: &[u8], flags: u32) -> Result<OwnedFd, Errno> {
    with_cpath(name, |n| {
        // SAFETY: n is NUL-terminated and lives for the call.
        unsafe { sc2(Sysno::memfd_create, n as usize, flags as usize) }
    })?
    .map(|fd| OwnedFd(fd as RawFd))
}

/// Copies up to `count` bytes from `input` (starting at `*offset`, which
/// advances) to `out`'s position, inside the kernel. Returns the bytes copied.
pub fn sendfile(out: RawFd, input: RawFd, offset: &mut i64, count: usize) -> Result<usize, Errno> {
    // SAFETY: offset is a valid loff_t for the kernel to read and update.
    unsafe {
        sc4(
            Sysno::sendfile,
            out as usize,
            input as usize,
            offset as *mut i64 as usize,
            count,
        )
    }
}

/// The `CLONE_NEW*` type of the namespace `fd` refers to (`NS_GET_NSTYPE`);
/// `ENOTTY` when `fd` is not a namespace file.
pub fn namespace_type(fd: RawFd) -> Result<u32, Errno> {
    // SAFETY: NS_GET_NSTYPE takes no argument and returns the type.
    unsafe {
        sc3(
            Sysno::ioctl,
            fd as usize,
            linux_raw_sys::ioctl::NS_GET_NSTYPE as usize,
            0,
        )
    }
    .map(|t| t as u32)
}

/// `renameat2(dir, from, dir, to, 0)`: replaces `to` atomically.
pub fn rename_in(dir: RawFd, from: &[u8], to: &[u8]) -> Result<(), Errno> {
    with_cpath(from, |f| {
        with_cpath(to, |t| {
            // SAFETY: two NUL-terminated paths alive for the call.
            unsafe {
                sc5(
                    Sysno::renameat2,
                    dir as usize,
                    f as usize,
                    dir as usize,
                    t as usize,
                    0,
                )
            }
        })
    })??
    .map(drop)
}

/// `unlinkat(dir, path, 0)`.
pub fn unlink_in(dir: RawFd, path: &[u8]) -> Result<(), Errno> {
    with_cpath(path, |p| {
        // SAFETY: p is NUL-terminated and lives for the call.
        unsafe { sc3(Sysno::unlinkat, dir as usize, p as usize, 0) }
    })?
    .map(drop)
}

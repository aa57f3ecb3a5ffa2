//! What the console socket needs: ptys, the controlling terminal, and a
//! unix socket that carries a descriptor.
#![allow(unsafe_code)]

use super::*;
use crate::syscalls::{Sysno, sc2, sc3};
use linux_raw_sys::general as g;

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

#[repr(C)]
struct SockaddrUn {
    family: u16,
    path: [u8; 108],
}

fn sockaddr_un(path: &[u8]) -> Result<SockaddrUn, Errno> {
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
    Ok(addr)
}

/// Connects a unix stream socket to the filesystem path `path`.
pub fn connect_unix(fd: RawFd, path: &[u8]) -> Result<(), Errno> {
    let addr = sockaddr_un(path)?;
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

/// A unix stream socket listening at `path` (selftest build only: the VM
/// runner's console-socket receiver).
#[cfg(feature = "selftest")]
pub fn listen_unix(path: &[u8]) -> Result<OwnedFd, Errno> {
    let sock = socket_unix_stream()?;
    let addr = sockaddr_un(path)?;
    // SAFETY: addr is a sockaddr_un of the size passed; listen takes integers.
    unsafe {
        sc3(
            Sysno::bind,
            sock.raw() as usize,
            &raw const addr as usize,
            core::mem::size_of::<SockaddrUn>(),
        )?;
        sc2(Sysno::listen, sock.raw() as usize, 1)?;
    }
    Ok(sock)
}

/// Accepts one connection, close-on-exec (selftest build only).
#[cfg(feature = "selftest")]
pub fn accept(sock: RawFd) -> Result<OwnedFd, Errno> {
    // SAFETY: no address is asked for.
    unsafe { crate::syscalls::sc4(Sysno::accept4, sock as usize, 0, 0, g::O_CLOEXEC as usize) }
        .map(|fd| OwnedFd(fd as RawFd))
}

/// The kernel's 64-bit `struct iovec` and `struct msghdr`, and a
/// `cmsghdr` (len, level, type) carrying one descriptor, padded to 8.
#[repr(C)]
struct Iovec {
    base: *mut u8,
    len: usize,
}

#[repr(C)]
struct Msghdr {
    name: usize,
    namelen: u32,
    iov: *const Iovec,
    iovlen: usize,
    control: *mut u8,
    controllen: usize,
    flags: i32,
}

#[repr(C, align(8))]
struct OneFd {
    len: usize,
    level: i32,
    ty: i32,
    fd: i32,
    pad: i32,
}
static_assertions::const_assert_eq!(core::mem::size_of::<OneFd>(), 24);

/// `CMSG_LEN(sizeof(int))`: the header and one descriptor, unpadded.
const ONE_FD_LEN: usize = 16 + 4;

fn one_fd_message(iov: &Iovec, cmsg: &mut OneFd) -> Msghdr {
    Msghdr {
        name: 0,
        namelen: 0,
        iov: iov as *const Iovec,
        iovlen: 1,
        control: (cmsg as *mut OneFd).cast(),
        controllen: core::mem::size_of::<OneFd>(),
        flags: 0,
    }
}

/// Sends `data` with one descriptor attached (SCM_RIGHTS).
pub fn send_fd(sock: RawFd, data: &[u8], fd: RawFd) -> Result<(), Errno> {
    let mut cmsg = OneFd {
        len: ONE_FD_LEN,
        level: linux_raw_sys::net::SOL_SOCKET as i32,
        ty: linux_raw_sys::net::SCM_RIGHTS as i32,
        fd,
        pad: 0,
    };
    // The kernel only reads from a sent iovec.
    let iov = Iovec {
        base: data.as_ptr().cast_mut(),
        len: data.len(),
    };
    let msg = one_fd_message(&iov, &mut cmsg);
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

/// Receives one byte with one descriptor attached (SCM_RIGHTS), the
/// descriptor close-on-exec. `EBADMSG` when no descriptor came with it.
pub fn recv_fd(sock: RawFd) -> Result<OwnedFd, Errno> {
    let mut byte = 0u8;
    let mut cmsg = OneFd {
        len: 0,
        level: 0,
        ty: 0,
        fd: -1,
        pad: 0,
    };
    let iov = Iovec {
        base: &raw mut byte,
        len: 1,
    };
    let mut msg = one_fd_message(&iov, &mut cmsg);
    // SAFETY: msg, iov, byte and cmsg outlive the call, with the 64-bit
    // layouts of msghdr/iovec/cmsghdr; the kernel writes at most
    // controllen bytes of control data.
    let n = unsafe {
        sc3(
            Sysno::recvmsg,
            sock as usize,
            &raw mut msg as usize,
            linux_raw_sys::net::MSG_CMSG_CLOEXEC as usize,
        )
    }?;
    let one_fd = cmsg.level == linux_raw_sys::net::SOL_SOCKET as i32
        && cmsg.ty == linux_raw_sys::net::SCM_RIGHTS as i32
        && cmsg.len == ONE_FD_LEN
        && cmsg.fd >= 0;
    if n == 1 && one_fd {
        Ok(OwnedFd(cmsg.fd))
    } else {
        if cmsg.fd >= 0 && cmsg.len >= ONE_FD_LEN {
            let _ = close(cmsg.fd);
        }
        Err(Errno::EBADMSG)
    }
}

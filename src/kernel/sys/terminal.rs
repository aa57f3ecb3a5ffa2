//! What the `--tty` relay needs from the kernel: terminal attributes and
//! window sizes, signals as a readable descriptor, and waiting on several
//! descriptors at once.
#![allow(unsafe_code)]

use super::*;
use crate::syscalls::{Sysno, sc3, sc4, sc5};
use linux_raw_sys::general as g;
use linux_raw_sys::ioctl as io;

/// The kernel's `struct termios`, as TCGETS and TCSETS take it on this
/// architecture (powerpc orders its fields differently; linux-raw-sys
/// carries each layout).
pub type Termios = g::termios;
pub type Winsize = g::winsize;

/// The attributes of the terminal `fd`; `ENOTTY` when it is none.
pub fn get_termios(fd: RawFd) -> Result<Termios, Errno> {
    // SAFETY: all-zero is a valid value of a struct of integers.
    let mut t: Termios = unsafe { core::mem::zeroed() };
    // SAFETY: TCGETS writes one struct termios of this architecture's layout.
    unsafe {
        sc3(
            Sysno::ioctl,
            fd as usize,
            io::TCGETS as usize,
            &raw mut t as usize,
        )
    }?;
    Ok(t)
}

/// Sets the attributes of the terminal `fd` at once (no drain: a restore
/// must not wait on output nobody reads).
pub fn set_termios(fd: RawFd, t: &Termios) -> Result<(), Errno> {
    // SAFETY: TCSETS reads one struct termios of this architecture's layout.
    unsafe {
        sc3(
            Sysno::ioctl,
            fd as usize,
            io::TCSETS as usize,
            t as *const Termios as usize,
        )
    }
    .map(drop)
}

/// `t` in raw mode, as POSIX `cfmakeraw` defines it: bytes pass unchanged
/// both ways, nothing is echoed or turned into signals by this side.
pub fn raw_mode(t: &Termios) -> Termios {
    let mut r = *t;
    r.c_iflag &=
        !(g::IGNBRK | g::BRKINT | g::PARMRK | g::ISTRIP | g::INLCR | g::IGNCR | g::ICRNL | g::IXON);
    r.c_oflag &= !g::OPOST;
    r.c_lflag &= !(g::ECHO | g::ECHONL | g::ICANON | g::ISIG | g::IEXTEN);
    r.c_cflag &= !(g::CSIZE | g::PARENB);
    r.c_cflag |= g::CS8;
    if let Some(c) = r.c_cc.get_mut(g::VMIN as usize) {
        *c = 1;
    }
    if let Some(c) = r.c_cc.get_mut(g::VTIME as usize) {
        *c = 0;
    }
    r
}

/// Copies the window size of terminal `from` to terminal `to` (a pty
/// master: the kernel then sends SIGWINCH to the pty's foreground group).
pub fn copy_winsize(from: RawFd, to: RawFd) -> Result<(), Errno> {
    let mut w = Winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes, and TIOCSWINSZ reads, one struct winsize.
    unsafe {
        sc3(
            Sysno::ioctl,
            from as usize,
            io::TIOCGWINSZ as usize,
            &raw mut w as usize,
        )?;
        sc3(
            Sysno::ioctl,
            to as usize,
            io::TIOCSWINSZ as usize,
            &raw const w as usize,
        )?;
    }
    Ok(())
}

/// A descriptor that reads the (blocked) signals of `set`, close-on-exec
/// and non-blocking.
pub fn signalfd(set: SigSet) -> Result<OwnedFd, Errno> {
    // SFD_CLOEXEC and SFD_NONBLOCK are O_CLOEXEC and O_NONBLOCK.
    let flags = g::O_CLOEXEC | g::O_NONBLOCK;
    // SAFETY: set is an 8-byte signal set, the size passed.
    unsafe {
        sc4(
            Sysno::signalfd4,
            usize::MAX,
            &raw const set as usize,
            8,
            flags as usize,
        )
    }
    .map(|fd| OwnedFd(fd as RawFd))
}

/// The signals waiting on a [`signalfd`], up to 8 in one read, into
/// `signals`; how many (0 when none is waiting).
pub fn read_signals(sigfd: RawFd, signals: &mut [u32; 8]) -> Result<usize, Errno> {
    // struct signalfd_siginfo is 128 bytes (32 u32s); ssi_signo comes first.
    let mut info = [0u32; 32 * 8];
    // SAFETY: the buffer is 1024 writable bytes, the size passed.
    let n = match unsafe {
        sc3(
            Sysno::read,
            sigfd as usize,
            info.as_mut_ptr() as usize,
            1024,
        )
    } {
        Ok(n) if n % 128 == 0 => n / 128,
        Ok(_) => return Err(Errno::EIO),
        Err(Errno::EAGAIN) => 0,
        Err(e) => return Err(e),
    };
    for (slot, one) in signals.iter_mut().zip(info.chunks_exact(32)).take(n) {
        *slot = one.first().copied().unwrap_or(0);
    }
    Ok(n)
}

/// One entry of `ppoll`'s array: the kernel's `struct pollfd`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct PollFd {
    pub fd: RawFd,
    pub events: i16,
    pub revents: i16,
}

pub const POLLIN: i16 = g::POLLIN as i16;
pub const POLLOUT: i16 = g::POLLOUT as i16;
/// Hang-up and error: reported whatever was asked for.
pub const POLLHUP: i16 = g::POLLHUP as i16;
pub const POLLERR: i16 = g::POLLERR as i16;
/// A descriptor that is not open.
pub const POLLNVAL: i16 = g::POLLNVAL as i16;

/// Waits until one of `fds` is ready. A negative fd is skipped, as the
/// kernel does.
pub fn ppoll(fds: &mut [PollFd]) -> Result<usize, Errno> {
    // SAFETY: fds is a writable array of len pollfds; no timeout, no mask.
    unsafe { sc5(Sysno::ppoll, fds.as_mut_ptr() as usize, fds.len(), 0, 0, 0) }
}

//! `--tty` in the foreground: the payload gets a new pty as its
//! controlling terminal, and nsexec relays between its own terminal and the
//! pty's master until the payload ends.
//!
//! nsexec's side is in raw mode for as long as it relays, so every key
//! (Ctrl-C and Ctrl-Z included) reaches the payload's line discipline, which
//! does job control there. [`RawMode`] puts the saved attributes back when it
//! is dropped, on every way out of the relay; only SIGKILL skips it. Signals
//! arrive on a signalfd: SIGCHLD reaps, SIGWINCH copies the window size to
//! the pty (the kernel then signals the payload's foreground group), and
//! every other one is forwarded as the init forwards it.

use crate::errno::Errno;
use crate::init::{self, Supervise};
use crate::log::{Fail, OrFail};
use crate::sys::{
    self, ExitStatus, OwnedFd, POLLERR, POLLHUP, POLLIN, POLLOUT, PollFd, RawFd, Termios,
};
use linux_raw_sys::general as g;

/// nsexec's own terminal: where it reads keys and writes the payload's output.
const STDIN: RawFd = 0;
const STDOUT: RawFd = 1;

/// The attributes of nsexec's terminal before the relay; `--tty` needs one.
pub fn outer_terminal() -> Result<Termios, Fail> {
    match sys::get_termios(STDIN) {
        Ok(t) => Ok(t),
        Err(Errno::ENOTTY | Errno::EBADF) => Err(Fail::new(
            "--tty needs a terminal on stdin (or a --console-socket to send it to)",
        )),
        Err(e) => Err(Fail::new("ioctl(TCGETS) of stdin").errno(e)),
    }
}

/// A new pty's master, unlocked, opened with `flags` besides read-write,
/// and its number (`/dev/pts/N`); the relay's and the console socket's.
pub fn open_master(flags: u32) -> Result<(OwnedFd, u32), Fail> {
    let master =
        sys::open(b"/dev/ptmx", g::O_RDWR | g::O_NOCTTY | flags).or_fail("open", b"/dev/ptmx")?;
    let n = sys::pty_unlock(master.raw()).or_fail("ioctl(TIOCSPTLCK/TIOCGPTN)", b"")?;
    Ok((master, n))
}

/// A new pty for the relay, with the window size of nsexec's terminal. The
/// master is non-blocking, so that keys the payload does not read yet never
/// stop the relay from reading what the payload writes.
pub fn open_pty() -> Result<OwnedFd, Fail> {
    let (master, _) = open_master(g::O_NONBLOCK)?;
    sys::copy_winsize(STDIN, master.raw()).or_fail("ioctl(TIOCGWINSZ/TIOCSWINSZ)", b"")?;
    Ok(master)
}

/// nsexec's terminal in raw mode; the saved attributes come back on drop.
pub struct RawMode {
    saved: Termios,
}

impl RawMode {
    pub fn enter(saved: Termios) -> Result<RawMode, Fail> {
        sys::set_termios(STDIN, &sys::raw_mode(&saved)).or_fail("ioctl(TCSETS)", b"")?;
        Ok(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // Nothing better to do if the terminal went away meanwhile.
        let _ = sys::set_termios(STDIN, &self.saved);
    }
}

/// Keys read from nsexec's terminal that the pty has not taken yet.
struct Pending {
    buf: [u8; 4096],
    start: usize,
    end: usize,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.start >= self.end
    }

    /// Reads keys into the empty buffer; false at the terminal's end.
    fn fill(&mut self) -> Result<bool, Fail> {
        match sys::read(STDIN, &mut self.buf) {
            Ok(0) | Err(Errno::EIO) => Ok(false),
            Ok(n) => {
                (self.start, self.end) = (0, n);
                Ok(true)
            }
            Err(Errno::EINTR | Errno::EAGAIN) => Ok(true),
            Err(e) => Err(Fail::new("read in the --tty relay").errno(e)),
        }
    }

    /// Writes what the pty takes now; false when it is gone.
    fn flush(&mut self, master: RawFd) -> Result<bool, Fail> {
        let rest = self.buf.get(self.start..self.end).unwrap_or(&[]);
        match sys::write(master, rest) {
            Ok(n) => self.start += n,
            Err(Errno::EAGAIN | Errno::EINTR) => {}
            Err(Errno::EIO) => return Ok(false),
            Err(e) => return Err(Fail::new("write in the --tty relay").errno(e)),
        }
        Ok(true)
    }
}

/// Relays until `s.child` ends; returns its status. Signals must already
/// be blocked ([`init::block_signals`]) so that none is lost before the
/// signalfd exists. Keys wait in [`Pending`] while the pty is full, and
/// nsexec reads no more of them until it has taken them; output is read
/// all the while.
#[inline(never)] // a large stack frame: keep it out of the run path
pub fn relay(master: RawFd, s: &Supervise) -> Result<ExitStatus, Fail> {
    let sigfd = sys::signalfd(init::WAITED).or_fail("signalfd", b"")?;
    let mut fds = [
        PollFd {
            fd: STDIN,
            events: POLLIN,
            revents: 0,
        },
        PollFd {
            fd: master,
            events: POLLIN,
            revents: 0,
        },
        PollFd {
            fd: sigfd.raw(),
            events: POLLIN,
            revents: 0,
        },
    ];
    let mut buf = [0u8; 8192];
    let mut pending = Pending {
        buf: [0; 4096],
        start: 0,
        end: 0,
    };
    let mut keys_open = true;
    loop {
        {
            let [keys, screen, _] = &mut fds;
            // Poll the terminal only when the last keys are all in the pty,
            // and the pty for room only while some are not.
            keys.fd = if keys_open && pending.is_empty() {
                STDIN
            } else {
                -1
            };
            screen.events = if pending.is_empty() {
                POLLIN
            } else {
                POLLIN | POLLOUT
            };
        }
        match sys::ppoll(&mut fds) {
            Ok(_) => {}
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(Fail::new("ppoll").errno(e)),
        }
        let [keys, screen, signals] = &mut fds;
        // Keys go to the pty as soon as they are read, and what it did not
        // take then once it has room.
        let mut flush = screen.revents & POLLOUT != 0;
        if ready(keys) {
            // At the terminal's end, or gone: stop reading it.
            keys_open = pending.fill()?;
            flush = true;
        }
        if flush && screen.fd >= 0 && !pending.is_empty() && !pending.flush(master)? {
            screen.fd = -1;
        }
        if ready(screen) && copy_out(master, &mut buf)?.is_none() {
            // Every holder of the pty's other side has closed it.
            screen.fd = -1;
        }
        if ready(signals) {
            let mut sigs = [0u32; 8];
            let n =
                sys::read_signals(signals.fd, &mut sigs).or_fail("read of the signalfd", b"")?;
            for &sig in sigs.iter().take(n) {
                if let Some(status) = on_signal(sig, master, s)? {
                    drain(master, &mut buf);
                    return Ok(status);
                }
            }
        }
    }
}

fn ready(p: &PollFd) -> bool {
    p.fd >= 0 && p.revents & (POLLIN | POLLHUP | POLLERR) != 0
}

/// Copies what one read of the pty gives to nsexec's terminal: how many
/// bytes (0 when nothing was waiting), or `None` when no more can come (EIO:
/// every holder of the other side closed it, or the terminal went away).
fn copy_out(master: RawFd, buf: &mut [u8]) -> Result<Option<usize>, Fail> {
    let n = match sys::read(master, buf) {
        Ok(0) | Err(Errno::EIO) => return Ok(None),
        Ok(n) => n,
        Err(Errno::EINTR | Errno::EAGAIN) => return Ok(Some(0)),
        Err(e) => return Err(Fail::new("read in the --tty relay").errno(e)),
    };
    match sys::write_all(STDOUT, buf.get(..n).unwrap_or(&[])) {
        Ok(()) => Ok(Some(n)),
        // The terminal went away: nothing more can be shown.
        Err(Errno::EIO | Errno::EPIPE) => Ok(None),
        Err(e) => Err(Fail::new("write in the --tty relay").errno(e)),
    }
}

/// SIGCHLD reaps (and ends the relay with the payload's status), SIGWINCH
/// resizes the pty, anything else is forwarded.
fn on_signal(sig: u32, master: RawFd, s: &Supervise) -> Result<Option<ExitStatus>, Fail> {
    match sig {
        g::SIGCHLD => init::reap(s.child),
        g::SIGWINCH => {
            // A terminal that cannot say its size keeps the old one.
            let _ = sys::copy_winsize(STDIN, master);
            Ok(None)
        }
        _ => init::forward(s, sig).map(|()| None),
    }
}

/// What the payload wrote just before it ended, still in the pty: copied
/// out without waiting for more (the master does not block).
fn drain(master: RawFd, buf: &mut [u8]) {
    // Bounded: a process left holding the pty could keep writing forever.
    for _ in 0..1024 {
        if !matches!(copy_out(master, buf), Ok(Some(1..))) {
            return;
        }
    }
}

//! Supervising the payload: forward signals, reap every zombie, and end
//! with the payload's status. Used in the foreground (nsexec waits for its
//! child) and as an init (PID 1 of a new pid namespace, or a subreaper).

use crate::errno::Errno;
use crate::log::{Fail, OrFail};
use crate::sys::{self, ExitStatus, Pid, SigSet, sig_bit};
use linux_raw_sys::general as g;

/// Signals the kernel delivers for a fault of the receiving process; blocking
/// them would hide a crash, and they make no sense to forward.
const SYNCHRONOUS: SigSet = sig_bit(g::SIGSEGV)
    | sig_bit(g::SIGBUS)
    | sig_bit(g::SIGILL)
    | sig_bit(g::SIGFPE)
    | sig_bit(g::SIGTRAP)
    | sig_bit(g::SIGSYS)
    | sig_bit(g::SIGABRT);

/// Every signal nsexec waits for: all but the uncatchable and synchronous
/// ones. SIGCHLD means "reap"; the rest are forwarded.
pub const WAITED: SigSet = !(sig_bit(g::SIGKILL) | sig_bit(g::SIGSTOP) | SYNCHRONOUS);

/// Blocks the waited-for signals before the payload exists, so none is
/// lost between its creation and the first wait. Returns the previous mask,
/// which the payload restores before exec.
pub fn block_signals() -> Result<SigSet, Fail> {
    sys::set_sigmask(WAITED).or_fail("rt_sigprocmask", b"")
}

/// How to treat the payload.
pub struct Supervise {
    pub child: Pid,
    /// Forward to the payload's process group rather than the payload.
    pub group: bool,
}

/// A long-lived init (`--init`): supervises `child` and exits with its
/// status, or 0 for a code in `remap`. It never returns, so the frames of
/// the set-up that called it are dead: their pages, and those of the code
/// set-up ran, go back to the kernel before the loop starts, and the loop
/// runs from code of its own (linker.ld).
#[unsafe(link_section = ".nsexec.loop")] // with the init's loop (linker.ld)
#[allow(unsafe_code)] // the attribute, and the call below
#[inline(never)]
pub fn supervise_forever(child: Pid, group: bool, remap: &'static [u8]) -> ! {
    // SAFETY: this function never returns, holds only scalars and a
    // 'static slice, and it and what it calls have small frames.
    unsafe { sys::shed_setup_pages() };
    let code = match supervise(&Supervise { child, group }) {
        Ok(status) => remapped(status, remap),
        Err(f) => crate::log::report(f),
    };
    sys::exit(code)
}

/// A pod's pause process, as Kubernetes' pause and `catatonit -P` are: it
/// runs nothing, reaps whatever is re-parented to it (as PID 1: nothing can
/// be re-parented to a process without descendants otherwise), exits 0 on
/// SIGINT or SIGTERM and ignores every other signal. Its loop runs from the
/// same pages as the init's.
#[unsafe(link_section = ".nsexec.loop")] // with the init's loop (linker.ld)
#[allow(unsafe_code)] // the attribute, and the call below
#[inline(never)]
pub fn pause_forever() -> ! {
    if let Err(f) = block_signals() {
        sys::exit(crate::log::report(f));
    }
    // SAFETY: as in `supervise_forever`: never returns, small frames.
    unsafe { sys::shed_setup_pages() };
    loop {
        match sys::wait_signal(WAITED) {
            Ok(g::SIGCHLD) => {
                // No child of its own: pid 0 is nobody's, so every zombie
                // is only reaped.
                if let Err(f) = reap(0) {
                    sys::exit(crate::log::report(f));
                }
            }
            Ok(g::SIGINT | g::SIGTERM) => sys::exit(0),
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => sys::exit(crate::log::report(Fail::new("rt_sigtimedwait").errno(e))),
        }
    }
}

/// The exit code for the payload's `status`: 0 where `--remap-exit` names it.
#[unsafe(link_section = ".nsexec.loop")] // with the init's loop (linker.ld)
#[allow(unsafe_code)] // the attribute only places the function
pub fn remapped(status: ExitStatus, remap: &[u8]) -> i32 {
    let code = status.code();
    if remap.iter().any(|&c| i32::from(c) == code) {
        0
    } else {
        code
    }
}

/// Forwards signals to `s.child` and reaps every child until `s.child`
/// ends; returns its status.
#[unsafe(link_section = ".nsexec.loop")] // with the init's loop (linker.ld)
#[allow(unsafe_code)] // the attribute only places the function
#[inline(never)]
pub fn supervise(s: &Supervise) -> Result<ExitStatus, Fail> {
    loop {
        let sig = match sys::wait_signal(WAITED) {
            Ok(sig) => sig,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(Fail::new("rt_sigtimedwait").errno(e)),
        };
        if sig == g::SIGCHLD {
            if let Some(st) = reap(s.child)? {
                return Ok(st);
            }
            continue;
        }
        forward(s, sig)?;
    }
}

/// Passes `sig` on to the payload (or its process group).
#[unsafe(link_section = ".nsexec.loop")] // with the init's loop (linker.ld)
#[allow(unsafe_code)] // the attribute only places the function
#[inline(never)]
pub fn forward(s: &Supervise, sig: u32) -> Result<(), Fail> {
    let to = if s.group { -s.child } else { s.child };
    match sys::kill(to, sig) {
        // Already gone: its SIGCHLD is on the way.
        Ok(()) | Err(Errno::ESRCH) => Ok(()),
        Err(e) => Err(Fail::new("kill to forward a signal").errno(e)),
    }
}

/// Reaps every child that has ended; returns `child`'s status if it was one.
#[unsafe(link_section = ".nsexec.loop")] // with the init's loop (linker.ld)
#[allow(unsafe_code)] // the attribute only places the function
#[inline(never)]
pub fn reap(child: Pid) -> Result<Option<ExitStatus>, Fail> {
    let mut found = None;
    loop {
        match sys::wait4(-1, g::WNOHANG | g::__WALL) {
            Ok(Some((pid, st))) => {
                if pid == child {
                    found = Some(st);
                }
            }
            Ok(None) | Err(Errno::ECHILD) => return Ok(found),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(Fail::new("wait4").errno(e)),
        }
    }
}

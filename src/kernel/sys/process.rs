//! Processes: clone onto our own stacks, fork, wait, exec, signals.
#![allow(unsafe_code)]

use super::*;
use crate::syscalls::{Sysno, sc2, sc3, sc4};
use linux_raw_sys::general as g;

#[unsafe(link_section = ".nsexec.loop")] // with the init's loop (linker.ld)
pub fn kill(pid: Pid, sig: u32) -> Result<(), Errno> {
    // SAFETY: integers only.
    unsafe { sc2(Sysno::kill, pid as usize, sig as usize) }.map(drop)
}

/// A descriptor that becomes readable when process `pid` has ended: all of
/// it, not just one thread (which is what `PR_SET_PDEATHSIG` follows).
pub fn pidfd_open(pid: Pid) -> Result<OwnedFd, Errno> {
    // SAFETY: integers only.
    unsafe { sc2(Sysno::pidfd_open, pid as usize, 0) }.map(|fd| OwnedFd(fd as RawFd))
}

/// The first 64 CPUs this thread may run on, as a mask (runc logs as much).
pub fn cpu_affinity() -> Result<u64, Errno> {
    // 1024 CPUs, glibc's cpu_set_t: the kernel refuses a mask smaller
    // than its own nr_cpu_ids.
    let mut mask = [0u64; 16];
    // SAFETY: mask is writable for the size passed.
    unsafe {
        sc3(
            Sysno::sched_getaffinity,
            0,
            core::mem::size_of_val(&mask),
            mask.as_mut_ptr() as usize,
        )
    }?;
    Ok(mask[0])
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
    #[unsafe(link_section = ".nsexec.loop")] // with the init's loop (linker.ld)
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => i32::from(c),
            ExitStatus::Signaled(s) => 128 + i32::from(s),
        }
    }
}

/// `wait4(pid, .., flags)`: `Ok(None)` when WNOHANG found nothing.
#[unsafe(link_section = ".nsexec.loop")] // with the init's loop (linker.ld)
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

/// The child stack `sp` is on, if it is on one of them.
pub fn current_child_stack(sp: usize) -> Option<(usize, usize)> {
    let base = (&raw const CHILD_STACKS) as usize;
    let end = base + 2 * CHILD_STACK_SIZE;
    (sp >= base && sp < end).then(|| {
        let lo = base + (sp - base) / CHILD_STACK_SIZE * CHILD_STACK_SIZE;
        (lo, lo + CHILD_STACK_SIZE)
    })
}

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
#[unsafe(link_section = ".nsexec.loop")] // with the init's loop (linker.ld)
pub fn wait_signal(set: SigSet) -> Result<u32, Errno> {
    // SAFETY: set is an 8-byte set; no siginfo, no timeout.
    unsafe { sc4(Sysno::rt_sigtimedwait, &raw const set as usize, 0, 0, 8) }.map(|s| s as u32)
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

/// How far around the stack pointer the init's frames reach, left alone:
/// below it, a red zone (x86_64 128 bytes, powerpc64 288) that a function
/// without calls may use; above it, this function's frame and the frame of
/// the `-> !` function that called it (under a hundred bytes each on
/// x86_64; the margin is ten times that). Frames
/// the loop pushes later below the stack pointer are written before they
/// are read, so a discarded page there only comes back as a zero page.
const STACK_BELOW_IN_USE: usize = 1024;
const STACK_ABOVE_IN_USE: usize = 1024;
/// The deepest the set-up can have taken the main stack. The kernel keeps a
/// guard gap of far more than this below a stack, so the range holds no other
/// mapping; the part below the stack's own mapping is skipped (ENOMEM).
const SETUP_STACK_DEPTH: usize = 256 * 1024;

/// Set-up touched most of nsexec's code and deep stack frames; a long-lived
/// init's loop needs a few pages of each. This gives the rest back:
/// - the read-only image loses its page-table entries (the pages stay in the
///   page cache, shared, and come back on the next touch; the loop's own
///   code is in a mapping of its own, see linker.ld);
/// - the stack pages that hold no live frame are discarded: below the
///   stack pointer, and above the caller's frame up to the argument and
///   environment strings (which /proc/PID/cmdline and environ still show);
/// - on a child stack ([`spawn`]), the whole main stack, which only holds
///   the frames of the parent this process was copied from.
///
/// # Safety
/// The caller never returns and reads nothing of the frames of its own
/// callers (it is a `-> !` function given only scalars and `'static`
/// references), nor the argument and environment arrays of
/// [`crate::rt::Process`]; its frame lies within [`STACK_ABOVE_IN_USE`]
/// above the stack pointer.
#[unsafe(link_section = ".nsexec.loop")] // with the init's loop (linker.ld)
#[inline(never)]
pub unsafe fn shed_setup_pages() {
    let page = crate::rt::page_size();
    // The page size is a power of two: round with masks (no division).
    let mask = !page.wrapping_sub(1);
    let up = |a: usize| a.wrapping_add(page.wrapping_sub(1)) & mask;
    let discard = |lo: usize, hi: usize| {
        if hi > lo {
            // SAFETY: by the caller's contract, [lo, hi) holds no live data;
            // a range partly outside the stack's mapping is skipped there.
            let _ = unsafe { madvise(lo, hi - lo, g::MADV_DONTNEED) };
        }
    };
    #[cfg(not(test))]
    {
        let (start, end) = crate::rt::image();
        // SAFETY: the image is read-only file-backed memory: MADV_DONTNEED
        // changes which of its pages are mapped, never their contents.
        let _ = unsafe { madvise(start, end.wrapping_sub(start), g::MADV_DONTNEED) };
    }
    let sp = crate::arch::stack_pointer();
    let below = sp.saturating_sub(STACK_BELOW_IN_USE) & mask;
    let above = up(sp.saturating_add(STACK_ABOVE_IN_USE));
    // Pages wholly below the argument strings hold frames, and pointer
    // arrays nothing reads once the loop runs.
    let main_top = crate::rt::arg_strings() & mask;
    let main_lo = main_top.saturating_sub(SETUP_STACK_DEPTH);
    match current_child_stack(sp) {
        Some((lo, hi)) => {
            discard(up(lo), below);
            discard(above, hi & mask);
            discard(main_lo, main_top);
        }
        None => {
            discard(main_lo, below);
            discard(above, main_top);
        }
    }
}

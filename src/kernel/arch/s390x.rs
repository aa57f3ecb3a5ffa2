//! s390x (big-endian).
//!
//! Syscall ABI: number in r1; arguments in r2..r7; `svc 0` returns in r2
//! (-4095..-1 is -errno) and preserves every other register.
//! `clone(stack, flags, parent_tid, child_tid, tls)`: the stack comes first.
//! Process entry: r15 points at argc. Every call wants r15 to leave a
//! 160-byte register save area whose first word (the back chain) is zero
//! for the outermost frame.

use core::arch::asm;

/// `SCMP_ARCH_*` name and `AUDIT_ARCH_*` value for seccomp filters.
pub const SECCOMP_ARCH: (&str, u32) = ("SCMP_ARCH_S390X", 0x8000_0016);

#[cfg(not(test))]
core::arch::global_asm!(
    ".globl _start",
    ".type _start,@function",
    "_start:",
    "lgr %r2, %r15",            // first argument: address of argc
    "nill %r15, 0xfff0",        // 16-byte alignment (8 is the ABI's minimum)
    "aghi %r15, -160",          // register save area for the callee
    "xc 0(8,%r15), 0(%r15)",    // zero back chain: the outermost frame
    "brasl %r14, {start}",      // never returns
    ".word 0",                  // illegal instruction should it ever come back
    start = sym crate::rt::start,
);

/// # Safety
/// `nr` must be a syscall whose side effects the caller has accounted for.
#[inline(always)]
pub unsafe fn syscall0(nr: usize) -> usize {
    let r;
    // SAFETY: the caller vouches for the call; the asm follows the ABI above.
    unsafe { asm!("svc 0", in("r1") nr, lateout("r2") r, options(nostack)) };
    r
}

/// # Safety
/// As for [`syscall0`]; pointer arguments must be valid for the call.
#[inline(always)]
pub unsafe fn syscall1(nr: usize, a: usize) -> usize {
    let r;
    // SAFETY: see syscall0.
    unsafe { asm!("svc 0", in("r1") nr, inlateout("r2") a => r, options(nostack)) };
    r
}

/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall2(nr: usize, a: usize, b: usize) -> usize {
    let r;
    // SAFETY: see syscall0.
    unsafe { asm!("svc 0", in("r1") nr, inlateout("r2") a => r, in("r3") b, options(nostack)) };
    r
}

/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall3(nr: usize, a: usize, b: usize, c: usize) -> usize {
    let r;
    // SAFETY: see syscall0.
    unsafe {
        asm!("svc 0", in("r1") nr, inlateout("r2") a => r, in("r3") b, in("r4") c, options(nostack))
    };
    r
}

/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall4(nr: usize, a: usize, b: usize, c: usize, d: usize) -> usize {
    let r;
    // SAFETY: see syscall0.
    unsafe {
        asm!("svc 0", in("r1") nr, inlateout("r2") a => r, in("r3") b, in("r4") c, in("r5") d, options(nostack))
    };
    r
}

/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall5(nr: usize, a: usize, b: usize, c: usize, d: usize, e: usize) -> usize {
    let r;
    // SAFETY: see syscall0.
    unsafe {
        asm!("svc 0", in("r1") nr, inlateout("r2") a => r, in("r3") b, in("r4") c, in("r5") d, in("r6") e, options(nostack))
    };
    r
}

/// # Safety
/// As for [`syscall1`].
#[inline(always)]
#[allow(dead_code)] // part of the 0..6 set every arch exports
pub unsafe fn syscall6(
    nr: usize,
    a: usize,
    b: usize,
    c: usize,
    d: usize,
    e: usize,
    f: usize,
) -> usize {
    let r;
    // SAFETY: see syscall0.
    unsafe {
        asm!(
            "svc 0",
            in("r1") nr, inlateout("r2") a => r, in("r3") b, in("r4") c, in("r5") d, in("r6") e, in("r7") f,
            options(nostack)
        )
    };
    r
}

/// `clone(2)` onto `stack_top`; the child calls `entry(arg)`, which must not return.
/// Returns the raw syscall result in the parent (child pid or -errno).
///
/// # Safety
/// `nr` is clone's number; `stack_top` is the 16-byte-aligned top of memory
/// the child may use as its stack; `entry` never returns. Without CLONE_VM
/// the child runs on its own copy of that memory.
#[inline(never)]
pub unsafe fn clone_on_stack(
    nr: usize,
    flags: usize,
    stack_top: *mut u8,
    parent_tid: usize,
    entry: extern "C" fn(usize) -> !,
    arg: usize,
) -> usize {
    let r;
    // SAFETY: `svc` preserves r8/r9, so the child finds entry and arg there
    // on its new stack (r15 = stack_top); the parent only falls through to
    // label 2.
    unsafe {
        asm!(
            "svc 0",                  // clone: the child resumes here on stack_top
            "ltgr %r2, %r2",          // zero only in the child
            "jnz 2f",
            "aghi %r15, -160",        // the child's register save area
            "xc 0(8,%r15), 0(%r15)",  // zero back chain: its outermost frame
            "lgr %r2, %r9",           // entry's argument
            "basr %r14, %r8",         // call entry(arg)
            ".word 0",                // entry never returns
            "2:",
            in("r1") nr,
            inlateout("r2") stack_top => r,
            in("r3") flags,
            in("r4") parent_tid,
            in("r5") 0usize,
            in("r6") 0usize,
            in("r8") entry,
            in("r9") arg,
        )
    };
    r
}

/// A fork-like clone: no new stack, so the child returns here like fork(2).
///
/// # Safety
/// `flags` must not include CLONE_VM.
#[inline(always)]
pub unsafe fn clone_fork(nr: usize, flags: usize) -> usize {
    // SAFETY: forwarded; s390x takes the stack first, then the flags.
    unsafe { syscall5(nr, 0, flags, 0, 0, 0) }
}

/// Ends the process with an illegal-instruction fault.
#[inline(always)]
pub fn trap() -> ! {
    // SAFETY: the instruction faults; nothing after it runs.
    unsafe { asm!(".word 0", options(noreturn, nomem, nostack)) }
}

/// The current stack pointer.
#[inline(always)]
pub fn stack_pointer() -> usize {
    let sp;
    // SAFETY: reads a register, touches no memory.
    unsafe { asm!("lgr {}, %r15", out(reg) sp, options(nomem, nostack, preserves_flags)) };
    sp
}

//! aarch64.
//!
//! Syscall ABI: number in x8; arguments in x0..x5; `svc 0` returns in x0
//! (-4095..-1 is -errno) and preserves every other register.
//! `clone(flags, stack, parent_tid, tls, child_tid)`.
//! Process entry: sp points at argc, 16-byte aligned; x30 holds nothing useful.

use core::arch::asm;

/// `SCMP_ARCH_*` name and `AUDIT_ARCH_*` value for seccomp filters.
pub const SECCOMP_ARCH: (&str, u32) = ("SCMP_ARCH_AARCH64", 0xc000_00b7);

#[cfg(not(test))]
core::arch::global_asm!(
    ".globl _start",
    ".type _start,%function",
    "_start:",
    "mov x29, xzr",       // outermost frame: no previous frame record
    "mov x30, xzr",       // and no return address
    "mov x0, sp",         // first argument: address of argc
    "and sp, x0, #-16",   // the ABI wants sp 16-byte aligned at all times
    "bl {start}",         // never returns
    "brk #1",             // trap should it ever come back
    start = sym crate::rt::start,
);

/// # Safety
/// `nr` must be a syscall whose side effects the caller has accounted for.
#[inline(always)]
pub unsafe fn syscall0(nr: usize) -> usize {
    let r;
    // SAFETY: the caller vouches for the call; the asm follows the ABI above.
    unsafe { asm!("svc 0", in("x8") nr, lateout("x0") r, options(nostack)) };
    r
}

/// # Safety
/// As for [`syscall0`]; pointer arguments must be valid for the call.
#[inline(always)]
pub unsafe fn syscall1(nr: usize, a: usize) -> usize {
    let r;
    // SAFETY: see syscall0.
    unsafe { asm!("svc 0", in("x8") nr, inlateout("x0") a => r, options(nostack)) };
    r
}

/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall2(nr: usize, a: usize, b: usize) -> usize {
    let r;
    // SAFETY: see syscall0.
    unsafe { asm!("svc 0", in("x8") nr, inlateout("x0") a => r, in("x1") b, options(nostack)) };
    r
}

/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall3(nr: usize, a: usize, b: usize, c: usize) -> usize {
    let r;
    // SAFETY: see syscall0.
    unsafe {
        asm!("svc 0", in("x8") nr, inlateout("x0") a => r, in("x1") b, in("x2") c, options(nostack))
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
        asm!("svc 0", in("x8") nr, inlateout("x0") a => r, in("x1") b, in("x2") c, in("x3") d, options(nostack))
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
        asm!("svc 0", in("x8") nr, inlateout("x0") a => r, in("x1") b, in("x2") c, in("x3") d, in("x4") e, options(nostack))
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
            in("x8") nr, inlateout("x0") a => r, in("x1") b, in("x2") c, in("x3") d, in("x4") e, in("x5") f,
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
    // SAFETY: `svc` preserves x9/x10, so the child finds entry and arg there
    // on its new stack; the parent only falls through to label 2.
    unsafe {
        asm!(
            "svc 0",              // clone: the child resumes here on stack_top
            "cbnz x0, 2f",        // non-zero: the parent (or an error)
            "mov x29, xzr",       // the child's outermost frame
            "mov x30, xzr",       // and no return address behind it
            "mov x0, x10",        // entry's argument
            "blr x9",             // sp is the 16-aligned stack_top
            "brk #1",             // entry never returns
            "2:",
            in("x8") nr,
            inlateout("x0") flags => r,
            in("x1") stack_top,
            in("x2") parent_tid,
            in("x3") 0usize,
            in("x4") 0usize,
            in("x9") entry,
            in("x10") arg,
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
    // SAFETY: forwarded; argument order is flags, stack, parent_tid, tls, child_tid.
    unsafe { syscall5(nr, flags, 0, 0, 0, 0) }
}

/// Ends the process with an illegal-instruction fault.
#[inline(always)]
pub fn trap() -> ! {
    // SAFETY: the instruction faults; nothing after it runs.
    unsafe { asm!("brk #1", options(noreturn, nomem, nostack)) }
}

/// The current stack pointer.
#[inline(always)]
pub fn stack_pointer() -> usize {
    let sp;
    // SAFETY: reads a register, touches no memory.
    unsafe { asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags)) };
    sp
}

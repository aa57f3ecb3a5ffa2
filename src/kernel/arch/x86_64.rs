//! x86_64.
//!
//! Syscall ABI: number in rax; arguments in rdi, rsi, rdx, r10, r8, r9;
//! `syscall` returns in rax (-4095..-1 is -errno) and clobbers rcx and r11.
//! `clone(flags, stack, parent_tid, child_tid, tls)`.
//! Process entry: rsp points at argc; rsp is 16-byte aligned and there is no
//! return address.

use core::arch::asm;

/// `SCMP_ARCH_*` name and `AUDIT_ARCH_*` value for seccomp filters.
pub const SECCOMP_ARCH: (&str, u32) = ("SCMP_ARCH_X86_64", 0xc000_003e);

#[cfg(not(test))]
core::arch::global_asm!(
    ".globl _start",
    ".type _start,@function",
    "_start:",
    "xor ebp, ebp",     // mark the outermost frame for debuggers
    "mov rdi, rsp",     // first argument: address of argc
    "and rsp, -16",     // the ABI wants 16-byte alignment at each call
    "call {start}",     // never returns
    "ud2",              // trap should it ever come back
    start = sym crate::rt::start,
);

/// # Safety
/// `nr` must be a syscall whose side effects the caller has accounted for.
#[inline(always)]
pub unsafe fn syscall0(nr: usize) -> usize {
    let r;
    // SAFETY: the caller vouches for the call; the asm follows the ABI above.
    unsafe {
        asm!("syscall", inlateout("rax") nr => r, lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags))
    };
    r
}

/// # Safety
/// As for [`syscall0`]; pointer arguments must be valid for the call.
#[inline(always)]
pub unsafe fn syscall1(nr: usize, a: usize) -> usize {
    let r;
    // SAFETY: see syscall0.
    unsafe {
        asm!("syscall", inlateout("rax") nr => r, in("rdi") a, lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags))
    };
    r
}

/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall2(nr: usize, a: usize, b: usize) -> usize {
    let r;
    // SAFETY: see syscall0.
    unsafe {
        asm!("syscall", inlateout("rax") nr => r, in("rdi") a, in("rsi") b, lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags))
    };
    r
}

/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall3(nr: usize, a: usize, b: usize, c: usize) -> usize {
    let r;
    // SAFETY: see syscall0.
    unsafe {
        asm!("syscall", inlateout("rax") nr => r, in("rdi") a, in("rsi") b, in("rdx") c, lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags))
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
        asm!("syscall", inlateout("rax") nr => r, in("rdi") a, in("rsi") b, in("rdx") c, in("r10") d, lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags))
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
        asm!("syscall", inlateout("rax") nr => r, in("rdi") a, in("rsi") b, in("rdx") c, in("r10") d, in("r8") e, lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags))
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
        asm!("syscall", inlateout("rax") nr => r, in("rdi") a, in("rsi") b, in("rdx") c, in("r10") d, in("r8") e, in("r9") f, lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags))
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
    // SAFETY: r12/r13 are preserved by `syscall`, so the child finds entry and
    // arg in them on its new stack; the parent only falls through to label 2.
    unsafe {
        asm!(
            "syscall",
            "test rax, rax",    // zero only in the child
            "jnz 2f",
            "xor ebp, ebp",     // the child's outermost frame
            "mov rdi, r12",     // entry's argument
            "call r13",         // stack_top is 16-aligned, as a call wants
            "ud2",              // entry never returns
            "2:",
            inlateout("rax") nr => r,
            in("rdi") flags,
            in("rsi") stack_top,
            in("rdx") parent_tid,
            in("r10") 0usize,
            in("r8") 0usize,
            in("r12") arg,
            in("r13") entry,
            lateout("rcx") _,
            lateout("r11") _,
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
    // SAFETY: forwarded; argument order is flags, stack, parent_tid, child_tid, tls.
    unsafe { syscall5(nr, flags, 0, 0, 0, 0) }
}

/// Ends the process with an illegal-instruction fault.
#[inline(always)]
pub fn trap() -> ! {
    // SAFETY: the instruction faults; nothing after it runs.
    unsafe { asm!("ud2", options(noreturn, nomem, nostack)) }
}

/// The current stack pointer.
#[inline(always)]
pub fn stack_pointer() -> usize {
    let sp;
    // SAFETY: reads a register, touches no memory.
    unsafe { asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags)) };
    sp
}

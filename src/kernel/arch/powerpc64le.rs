//! powerpc64le (ELFv2).
//!
//! Syscall ABI: number in r0; arguments in r3..r8; `sc` returns in r3 and
//! flags an error by setting cr0.SO, with r3 then holding the positive
//! errno. It is negated right here, so every arch hands the same -errno
//! convention upwards. The kernel may clobber r0, r4..r12, cr0, ctr and xer.
//! `clone(flags, stack, parent_tid, tls, child_tid)`.
//! Process entry: r1 points at argc; r2 (the TOC pointer) is not set up.

use core::arch::asm;

/// `SCMP_ARCH_*` name and `AUDIT_ARCH_*` value for seccomp filters.
pub const SECCOMP_ARCH: (&str, u32) = ("SCMP_ARCH_PPC64LE", 0xc000_0015);

#[cfg(not(test))]
core::arch::global_asm!(
    ".globl _start",
    ".type _start,@function",
    "_start:",
    "bl 1f",                    // the kernel gives no address to find the TOC from: take our own
    "1:",
    "mflr 12",                  // r12 = run-time address of label 1
    "addis 2, 12, .TOC.-1b@ha", // r2 = TOC pointer, which Rust code uses for globals
    "addi 2, 2, .TOC.-1b@l",    // (low half of the offset)
    "mr 3, 1",                  // first argument: address of argc
    "clrrdi 1, 1, 4",           // 16-byte alignment
    "li 0, 0",                  // the back chain to store
    "stdu 0, -32(1)",           // minimal ELFv2 frame with a zero back chain
    "bl {start}",               // never returns
    "nop",                      // TOC-restore slot the linker may use
    "trap",                     // trap should it ever come back
    start = sym crate::rt::start,
);

/// `sc` with the number in r0, the first argument in r3 and the rest in the
/// `[reg = value]` list. The argument registers a call leaves unused are
/// named in the second list and marked clobbered instead of loaded with
/// zeros, so a call site sets up only what it passes.
macro_rules! sc {
    ($nr:expr, $a:expr, [$($reg:tt = $val:expr),*], [$($spare:tt),*]) => {{
        let r: usize;
        asm!(
            "sc",
            "bns+ 2f",          // cr0.SO clear: r3 is the result
            "neg 3, 3",         // set: r3 is a positive errno, make it -errno
            "2:",
            inlateout("r0") $nr => _,
            inlateout("r3") $a => r,
            $(inlateout($reg) $val => _,)*
            $(lateout($spare) _,)*
            lateout("r9") _, lateout("r10") _, lateout("r11") _, lateout("r12") _,
            lateout("cr0") _, lateout("ctr") _, lateout("xer") _,
            options(nostack)
        );
        r
    }};
}

/// # Safety
/// `nr` must be a syscall whose side effects the caller has accounted for.
#[inline(always)]
pub unsafe fn syscall0(nr: usize) -> usize {
    // SAFETY: the caller vouches for the call; the asm follows the ABI above.
    unsafe { sc!(nr, 0usize, [], ["r4", "r5", "r6", "r7", "r8"]) }
}

/// # Safety
/// As for [`syscall0`]; pointer arguments must be valid for the call.
#[inline(always)]
pub unsafe fn syscall1(nr: usize, a: usize) -> usize {
    // SAFETY: see syscall0.
    unsafe { sc!(nr, a, [], ["r4", "r5", "r6", "r7", "r8"]) }
}

/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall2(nr: usize, a: usize, b: usize) -> usize {
    // SAFETY: see syscall0.
    unsafe { sc!(nr, a, ["r4" = b], ["r5", "r6", "r7", "r8"]) }
}

/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall3(nr: usize, a: usize, b: usize, c: usize) -> usize {
    // SAFETY: see syscall0.
    unsafe { sc!(nr, a, ["r4" = b, "r5" = c], ["r6", "r7", "r8"]) }
}

/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall4(nr: usize, a: usize, b: usize, c: usize, d: usize) -> usize {
    // SAFETY: see syscall0.
    unsafe { sc!(nr, a, ["r4" = b, "r5" = c, "r6" = d], ["r7", "r8"]) }
}

/// # Safety
/// As for [`syscall1`].
#[inline(always)]
pub unsafe fn syscall5(nr: usize, a: usize, b: usize, c: usize, d: usize, e: usize) -> usize {
    // SAFETY: see syscall0.
    unsafe { sc!(nr, a, ["r4" = b, "r5" = c, "r6" = d, "r7" = e], ["r8"]) }
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
    // SAFETY: see syscall0.
    unsafe {
        sc!(
            nr,
            a,
            ["r4" = b, "r5" = c, "r6" = d, "r7" = e, "r8" = f],
            []
        )
    }
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
    let r: usize;
    // SAFETY: `sc` preserves the non-volatile r14/r15, so the child finds
    // entry and arg there on its new stack (r1 = stack_top); r2, the TOC,
    // is inherited. The parent only falls through to label 3.
    unsafe {
        asm!(
            "sc",                 // clone: the child resumes here on stack_top
            "bns+ 2f",            // cr0.SO clear: no error
            "neg 3, 3",           // error: -errno, and the parent path
            "b 3f",
            "2:",
            "cmpdi 3, 0",         // zero only in the child
            "bne 3f",             // non-zero: the parent
            "li 0, 0",            // the back chain to store
            "stdu 0, -32(1)",     // the child's first frame, zero back chain
            "mr 3, 15",           // entry's argument
            "mr 12, 14",          // ELFv2: r12 holds the callee's address at its global entry
            "mtctr 12",           // call through ctr, keeping r12 intact
            "bctrl",
            "trap",               // entry never returns
            "3:",
            inlateout("r0") nr => _,
            inlateout("r3") flags => r,
            inlateout("r4") stack_top => _,
            inlateout("r5") parent_tid => _,
            inlateout("r6") 0usize => _,
            inlateout("r7") 0usize => _,
            lateout("r8") _,
            in("r14") entry,
            in("r15") arg,
            lateout("r9") _, lateout("r10") _, lateout("r11") _, lateout("r12") _,
            lateout("cr0") _, lateout("ctr") _, lateout("xer") _,
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
    unsafe { asm!("trap", options(noreturn, nomem, nostack)) }
}

/// The current stack pointer.
#[inline(always)]
pub fn stack_pointer() -> usize {
    let sp;
    // SAFETY: reads a register, touches no memory.
    unsafe { asm!("mr {}, 1", out(reg) sp, options(nomem, nostack, preserves_flags)) };
    sp
}

//! The only place that knows which architecture nsexec runs on.
//!
//! Each `arch/<name>.rs` opens with its syscall ABI and exports the same items:
//!
//! - `_start` (global asm): receives the kernel's initial stack (argc, argv,
//!   envp, auxv), aligns it to [`STACK_ALIGNMENT`], passes its address to
//!   `crate::rt::start` and never returns.
//! - `syscall0` .. `syscall6`: raw system calls. They return the kernel's
//!   value with errors normalised to `-errno` (ppc64le's cr0.SO convention is
//!   folded in there), so `crate::syscalls` can decode every arch alike.
//! - `clone_on_stack`: `clone(2)` with a new stack that runs
//!   `entry(arg)` in the child (each arch's argument order lives here).
//! - `stack_pointer`: the current stack pointer, for alignment checks.
//! - `trap`: end the process with a fault, for when even exit is refused.
//! - `SECCOMP_ARCH`: the `SCMP_ARCH_*` name and `AUDIT_ARCH` value.
//!
//! `unsafe` is allowed here only: every item is a thin fence around `asm!`.
#![allow(unsafe_code)]

#[cfg_attr(target_arch = "x86_64", path = "x86_64.rs")]
#[cfg_attr(target_arch = "aarch64", path = "aarch64.rs")]
#[cfg_attr(target_arch = "powerpc64", path = "powerpc64le.rs")]
#[cfg_attr(target_arch = "s390x", path = "s390x.rs")]
mod imp;

pub use imp::*;

/// Every arch's ABI wants this alignment at a call; the child stacks use it too.
pub const STACK_ALIGNMENT: usize = 16;

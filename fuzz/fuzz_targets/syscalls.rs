//! The modes of the syscall table, as `crate::syscalls::mode` (the table
//! itself needs the architecture layer, which the fuzz build leaves out).
#[path = "../../src/kernel/mode.rs"]
pub mod mode;

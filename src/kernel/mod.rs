//! The kernel layer: the architecture (`arch`), the one syscall table
//! (`syscalls`), typed wrappers over it (`sys`, `errno`), and what a program
//! without libc needs to start and to format text (`rt`, `mem`, `fmt`).
//! Nothing here knows about namespaces or runc.

pub mod arch;
pub mod errno;
pub mod fmt;
pub mod mem;
pub mod names;
pub mod rt;
pub mod sys;
pub mod syscalls;

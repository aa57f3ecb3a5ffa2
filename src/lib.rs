//! nsexec: runc's namespace bootstrap as a freestanding program, plus an
//! unshare/nsenter-like command line and a tini-like init.
//!
//! Everything lives in this library, `_start` included; `src/main.rs` only
//! links it into the binary. Under `cargo test` the library builds with std,
//! so the pure modules are unit-tested on the host.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

mod arch;
mod bootstrap;
mod cli;
mod cmdline;
mod config;
mod errno;
mod exec;
mod fmt;
mod hardening;
mod init;
mod log;
mod mem;
mod namespaces;
mod netlink;
mod rt;
mod seccomp;
#[cfg(feature = "selftest")]
mod selftest;
mod sync;
mod sys;
mod syscalls;

use fmt::{Out, Text};
use rt::Process;

/// Chooses the mode and returns the exit status.
pub fn main(p: &Process) -> i32 {
    #[cfg(feature = "selftest")]
    if p.arg(1) == Some(b"selftest") {
        return selftest::run(p);
    }
    if let Some(pipe) = p.env(b"_LIBCONTAINER_INITPIPE").filter(|v| !v.is_empty()) {
        bootstrap::run(p, pipe);
    }
    cmdline::run(p)
}

/// `nsexec --syscalls`: the table, one name per line.
pub fn print_syscalls() -> i32 {
    let mut t: Text<2048> = Text::new();
    for name in syscalls::NAMES {
        t.str(name);
        t.put(b"\n");
    }
    if t.overflowed() {
        return 1;
    }
    if sys::write_all(1, t.bytes()).is_ok() {
        0
    } else {
        1
    }
}

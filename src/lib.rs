//! nsexec: runc's namespace bootstrap as a freestanding program, plus an
//! unshare/nsenter-like command line and a tini-like init.
//!
//! Everything lives in this library, `_start` included; `src/main.rs` only
//! links it into the binary. Under `cargo test` the library builds with std,
//! so the pure modules are unit-tested on the host.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

// Layers, lowest first: kernel -> engine -> the two front ends (runc, cli).
mod cli;
mod engine;
mod kernel;
mod runc;
#[cfg(feature = "selftest")]
mod selftest;

// Short paths (`crate::sys`, `crate::log`) for what every layer above uses.
use engine::{config, exec, hardening, init, log, namespaces, pidfile, seccomp, tty};
use kernel::{arch, errno, fmt, rt, sys, syscalls};
use runc::{bootstrap, netlink, sync};

use rt::Process;

/// Chooses the mode and returns the exit status.
pub fn main(p: &Process) -> i32 {
    #[cfg(feature = "selftest")]
    if p.arg(1) == Some(b"selftest") {
        return selftest::run(p);
    }
    #[cfg(feature = "selftest")]
    if p.arg(1) == Some(b"syscall-numbers") {
        return selftest::print_numbers();
    }
    #[cfg(feature = "selftest")]
    if p.arg(1) == Some(b"console-receiver") {
        return selftest::console_receiver(p);
    }
    if let Some(pipe) = p.env(b"_LIBCONTAINER_INITPIPE").filter(|v| !v.is_empty()) {
        bootstrap::run(p, pipe);
    }
    cli::run::run(p)
}

//! nsexec: runc's namespace bootstrap as a freestanding program, plus an
//! unshare/nsenter-like command line and a tini-like init.
//!
//! Everything lives in this library, `_start` included; `src/main.rs` only
//! links it into the binary. Under `cargo test` the library builds with std,
//! so the pure modules are unit-tested on the host.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]
// A role build leaves modes out but keeps the whole kernel layer and the
// shared engine modules: what its modes do not call is dead code there,
// and the linker drops it.
#![cfg_attr(not(feature = "full"), allow(dead_code, unused_imports))]

// Layers, lowest first: kernel -> engine -> the two front ends (runc, cli).
// Each build (Cargo.toml's features) compiles the modules of its modes:
// runc's bootstrap (`bootstrap`), the PID 1 (`init`), and with `full` the
// command line that drives all of the engine.
mod cli;
mod engine;
mod kernel;
#[cfg(feature = "bootstrap")]
mod runc;
#[cfg(feature = "selftest")]
mod selftest;

// Short paths (`crate::sys`, `crate::log`) for what every layer above uses.
#[cfg(feature = "init")]
use engine::init;
#[cfg(feature = "bootstrap")]
use engine::{config, hardening, namespaces};
use engine::{exec, log};
#[cfg(feature = "full")]
use engine::{pidfile, seccomp, tty};
use kernel::{arch, errno, fmt, rt, sys, syscalls};
#[cfg(feature = "bootstrap")]
use runc::{bootstrap, netlink, sync};

use rt::Process;

/// Chooses the mode and returns the exit status.
pub fn main(p: &Process) -> i32 {
    #[cfg(feature = "selftest")]
    if let Some(code) = selftest::dispatch(p) {
        return code;
    }
    // runc's bootstrap: runc sets _LIBCONTAINER_INITPIPE for it alone.
    if let Some(pipe) = p.env(b"_LIBCONTAINER_INITPIPE").filter(|v| !v.is_empty()) {
        #[cfg(feature = "bootstrap")]
        bootstrap::run(p, pipe);
        #[cfg(not(feature = "bootstrap"))]
        return cli::role::refuse(pipe, cli::role::Wanted::Bootstrap);
    }
    // Under an init's name (docker-init, tini, catatonit, pause), or the
    // init build's `nsexec --init`: the PID 1.
    #[cfg(feature = "init")]
    if let Some(code) = cli::pid1::run_if_init(p) {
        return code;
    }
    // The command line, or in a role build the one line saying which
    // build that needs (and --syscalls, --version, --help).
    #[cfg(feature = "full")]
    return cli::run::run(p);
    #[cfg(not(feature = "full"))]
    cli::role::run(p)
}

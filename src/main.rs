//! nsexec: runc's namespace bootstrap as a freestanding program, plus an
//! unshare/nsenter-like command line and a tini-like init.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![deny(unsafe_code)]

mod arch;
mod config;
mod errno;
mod exec;
mod fmt;
mod mem;
mod rt;
#[cfg(feature = "selftest")]
mod selftest;
mod sys;
mod syscalls;

use fmt::{Out, Text};
use rt::Process;

/// Chooses the mode and returns the exit status.
pub fn main(p: &Process) -> i32 {
    match p.arg(1) {
        Some(b"--syscalls") => print_syscalls(),
        #[cfg(feature = "selftest")]
        Some(b"selftest") => selftest::run(p),
        _ => run_payload(p, 1),
    }
}

fn print_syscalls() -> i32 {
    let mut t: Text<2048> = Text::new();
    for name in syscalls::NAMES {
        t.str(name);
        t.put(b"\n");
    }
    if sys::write_all(1, t.as_bytes()).is_err() {
        1
    } else {
        0
    }
}

fn run_payload(p: &Process, first: usize) -> i32 {
    let argv = p.argv.get(first..).unwrap_or(&[]);
    if argv.is_empty() {
        let _ = sys::write_all(2, b"nsexec: no program to run\n");
        return 125;
    }
    let e = exec::exec_payload(argv, p.envp, p.env(b"PATH"));
    let mut t: Text<512> = Text::new();
    t.str("nsexec: cannot execute ");
    t.put(p.arg(first).unwrap_or(b""));
    t.str(": ");
    t.str(e.name().unwrap_or("unknown error"));
    t.put(b"\n");
    let _ = sys::write_all(2, t.as_bytes());
    exec::exit_code_for(e)
}

//! A role build's answer to what it leaves out: one line naming the build
//! that has it, exit 125. A role build's own command line is otherwise
//! `--syscalls` (its surface), `--version` and `--help`.

use crate::cli::names;
use crate::fmt::{Out, Text};
use crate::rt::Process;
use crate::sys;
use crate::syscalls::{mode, names_in};

/// The build this binary is, as its messages name it.
pub const BUILD: &str = if cfg!(feature = "full") {
    "full"
} else if cfg!(all(feature = "bootstrap", feature = "init")) {
    "bootstrap+init"
} else if cfg!(feature = "bootstrap") {
    "bootstrap"
} else {
    "init"
};

/// A role build's usage: what it takes, and where the rest is.
const USAGE: &str = if cfg!(feature = "init") && cfg!(feature = "bootstrap") {
    "Usage: nsexec --init [--init-group] [--remap-exit CODE]... [--pdeathsig SIG]
              [--] [PROGRAM [ARGS...]]
   or: docker-init|podman-init|tini|init|catatonit|pause ... (that init's flags)
   or: nsexec --syscalls | --version | --help
and as runc's bootstrap, run by runc with _LIBCONTAINER_INITPIPE set.
The command line is the full build's.
"
} else if cfg!(feature = "init") {
    "Usage: nsexec --init [--init-group] [--remap-exit CODE]... [--pdeathsig SIG]
              [--] [PROGRAM [ARGS...]]
   or: docker-init|podman-init|tini|init|catatonit|pause ... (that init's flags)
   or: nsexec --syscalls | --version | --help
The init build of nsexec: PROGRAM's init (reap, forward signals, exit with
its status), or without PROGRAM a pause process. The command line and runc's
bootstrap are the full build's.
"
} else {
    "Usage: nsexec --syscalls | --version | --help
The bootstrap build of nsexec: runc's nsenter stages, run by runc with
_LIBCONTAINER_INITPIPE set. The command line and the init are the full
build's.
"
};

/// What a refused line needed.
#[derive(Clone, Copy)]
#[cfg_attr(feature = "full", allow(dead_code))]
pub enum Wanted {
    /// runc's bootstrap (`_LIBCONTAINER_INITPIPE` set).
    Bootstrap,
    /// The PID 1 (an init's name).
    Init,
    /// The command line.
    Full,
}

/// `nsexec: this is the NAME build: WHAT needs the ... build`, exit 125.
/// `word` is what was asked (the option, or the init pipe's number).
#[cfg_attr(feature = "full", allow(dead_code))]
pub fn refuse(word: &[u8], wanted: Wanted) -> i32 {
    let mut t: Text<300> = Text::new();
    t.str("nsexec: this is the ");
    t.str(BUILD);
    t.str(" build: ");
    t.str(match wanted {
        Wanted::Bootstrap => "runc's bootstrap (_LIBCONTAINER_INITPIPE=",
        Wanted::Init => "running as an init (",
        Wanted::Full => "'",
    });
    t.put(word);
    t.str(match wanted {
        Wanted::Bootstrap => ") needs the bootstrap or full build\n",
        Wanted::Init => ") needs the init or full build\n",
        Wanted::Full => "' needs the full build\n",
    });
    let _ = sys::write_all(2, t.as_bytes());
    125
}

/// A role build's command line when no mode of its own took it.
#[cfg_attr(feature = "full", allow(dead_code))]
pub fn run(p: &Process) -> i32 {
    match p.arg(1) {
        Some(b"--syscalls") if p.argv.len() == 2 => {
            let mut t: Text<32> = Text::new();
            for name in names_in(mode::BUILD) {
                t.clear();
                t.str(name);
                t.str("\n");
                if sys::write_all(1, t.as_bytes()).is_err() {
                    return 1;
                }
            }
            0
        }
        Some(b"-V" | b"--version") if p.argv.len() == 2 => {
            let mut t: Text<64> = Text::new();
            t.str(concat!("nsexec ", env!("CARGO_PKG_VERSION"), " ("));
            t.str(BUILD);
            t.str(" build)\n");
            print(t.as_bytes())
        }
        Some(b"-h" | b"--help") if p.argv.len() == 2 => print(USAGE.as_bytes()),
        // Called by an init's name in a build without the init.
        _ if !cfg!(feature = "init") && names::called_as(p.arg(0).unwrap_or(b"")).is_some() => {
            refuse(p.arg(0).unwrap_or(b""), Wanted::Init)
        }
        word => refuse(word.unwrap_or(b""), Wanted::Full),
    }
}

fn print(b: &[u8]) -> i32 {
    if sys::write_all(1, b).is_ok() { 0 } else { 1 }
}

//! A role build's answer to what it leaves out: one line naming the build
//! that has it, exit 125. A role build's own command line is otherwise
//! `--syscalls` (its surface), `--version` and `--help`.

use crate::cli::names;
use crate::fmt::{Arg, Out, Text, fill};
use crate::kernel::names::{Names, names};
use crate::rt::Process;
use crate::sys;
use crate::syscalls::BUILT;

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
/// The init build's is the init lines' usage (`names::USAGE`) and this.
const USAGE: &str = if cfg!(feature = "init") {
    "   or: nsexec --syscalls | --version | --help
The command line is in the full build.
"
} else {
    "Usage: nsexec --syscalls | --version | --help
runc runs this bootstrap build with _LIBCONTAINER_INITPIPE set. The command
line and the init are in the full build.
"
};

/// What a refused line needed.
#[derive(Clone, Copy)]
#[cfg_attr(feature = "full", allow(dead_code))]
pub enum Wanted {
    /// runc's bootstrap (`_LIBCONTAINER_INITPIPE` set), which only a build
    /// without it refuses (each variant exists only where it is refused:
    /// its message is not shipped where it cannot be printed).
    #[cfg(not(feature = "bootstrap"))]
    Bootstrap,
    /// The PID 1 (an init's name).
    #[cfg(not(feature = "init"))]
    Init,
    /// The command line.
    Full,
    /// Anything: the build was given no arguments.
    Something,
}

/// `nsexec: this is the NAME build: WHAT needs the ... build`, exit 125.
/// `word` is what was asked (the option, or the init pipe's number).
#[cfg_attr(feature = "full", allow(dead_code))]
pub fn refuse(word: &[u8], wanted: Wanted) -> i32 {
    let template = match wanted {
        #[cfg(not(feature = "bootstrap"))]
        Wanted::Bootstrap => {
            "runc's bootstrap (_LIBCONTAINER_INITPIPE={}) needs the bootstrap or full build"
        }
        #[cfg(not(feature = "init"))]
        Wanted::Init => "running as an init ({}) needs the init or full build",
        Wanted::Full => "'{}' needs the full build",
        Wanted::Something => "nothing to run (see --help){}",
    };
    say(
        &|t| {
            t.str("this is the ");
            t.str(BUILD);
            t.str(" build: ");
            fill(t, template, &[Arg::Bytes(word)])
        },
        false,
    )
}

/// Writes `nsexec: ` and what `f` writes as one line on stderr, with the
/// pointer to the usage when `try_help`; returns 125, the exit status of
/// every refused command line.
#[inline(never)]
pub fn say(f: &dyn Fn(&mut dyn Out), try_help: bool) -> i32 {
    let mut t: Text<700> = Text::new();
    t.str("nsexec: ");
    f(&mut t);
    t.str(if try_help {
        "\nTry 'nsexec --help' for more information.\n"
    } else {
        "\n"
    });
    let _ = sys::write_all(2, t.as_bytes());
    125
}

/// A role build's command line when no mode of its own took it.
#[cfg_attr(feature = "full", allow(dead_code))]
pub fn run(p: &Process) -> i32 {
    const TAKEN: Names = names!["--syscalls", "-V", "--version", "-h", "--help"];
    let word = p.arg(1).unwrap_or(b"");
    let alone = p.argv.len() == 2;
    match TAKEN.position(word).filter(|_| alone) {
        Some(0) => {
            let mut t: Text<32> = Text::new();
            for name in BUILT.iter() {
                t.clear();
                t.str(name);
                t.str("\n");
                if sys::write_all(1, t.as_bytes()).is_err() {
                    return 1;
                }
            }
            0
        }
        Some(1 | 2) => {
            let mut t: Text<64> = Text::new();
            t.str(concat!("nsexec ", env!("CARGO_PKG_VERSION"), " ("));
            t.str(BUILD);
            t.str(" build)\n");
            print(t.as_bytes())
        }
        Some(_) => {
            #[cfg(feature = "init")]
            if print(names::USAGE.as_bytes()) != 0 {
                return 1;
            }
            print(USAGE.as_bytes())
        }
        // Called by an init's name in a build without the init.
        #[cfg(not(feature = "init"))]
        _ if names::called_as(p.arg(0).unwrap_or(b"")).is_some() => {
            refuse(p.arg(0).unwrap_or(b""), Wanted::Init)
        }
        None if p.argv.len() < 2 => refuse(b"", Wanted::Something),
        None => refuse(word, Wanted::Full),
    }
}

fn print(b: &[u8]) -> i32 {
    if sys::write_all(1, b).is_ok() { 0 } else { 1 }
}

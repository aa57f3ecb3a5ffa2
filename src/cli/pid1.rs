//! The PID 1's front end: nsexec called by an init's name (`names`), or
//! `nsexec --init` with the init's options alone. It is the whole command
//! line of the init build; the full build takes these lines here too, so
//! both builds run the same code for them, and hands every other line to
//! its own parser.
#![allow(unsafe_code)]

use crate::cli::error::CliError;
use crate::cli::names::{self, InitAction, InitLine, Name};
use crate::cli::role;
use crate::exec;
use crate::init;
use crate::log::{Fail, OrFail};
use crate::rt::Process;
use crate::sys::{self, SigSet};

/// Most arguments read before the program (the program's own are never
/// copied: they go to execve from the initial stack).
const MAX_ARGS: usize = 256;

/// The exit status, if `p`'s command line is the init's; `None` when the
/// full build should read it instead.
pub fn run_if_init(p: &Process) -> Option<i32> {
    let named = names::called_as(p.arg(0).unwrap_or(b""));
    if named.is_none() && p.arg(1) != Some(b"--init") {
        return None;
    }
    let (args, line) = statics();
    for i in 1..p.argv.len() {
        if args.push(p.arg(i).unwrap_or(b"")).is_err() {
            break;
        }
    }
    let parsed = names::parse_into(named.unwrap_or(Name::Nsexec), line, args);
    // tini's own switch for -g, which some images set instead.
    if named == Some(Name::Tini) && p.env(b"TINI_KILL_PROCESS_GROUP").is_some() {
        line.group = true;
    }
    match parsed {
        Ok(()) => {}
        // nsexec's own options beyond the init's are the full build's.
        Err(CliError::NotTaken(_)) if named.is_none() && cfg!(feature = "full") => return None,
        Err(CliError::NotTaken(word)) if named.is_none() => {
            return Some(role::refuse(word, role::Wanted::Full));
        }
        Err(CliError::NoProgram) if p.argv.len() > MAX_ARGS => {
            return Some(role::say(
                &|t| t.str("more than 256 options before the program"),
                true,
            ));
        }
        Err(e) => return Some(role::say(&|t| e.describe(t), true)),
    }
    let line: &'static InitLine = line;
    Some(match line.action {
        InitAction::Help => print(names::USAGE.as_bytes()),
        // tini's form, which dockerd parses: `NAME version V - git.COMMIT`.
        InitAction::Version => print(
            concat!(
                "nsexec version ",
                env!("CARGO_PKG_VERSION"),
                " - git.",
                env!("NSEXEC_COMMIT"),
                "\n"
            )
            .as_bytes(),
        ),
        InitAction::Pause => init::pause_forever(),
        InitAction::Run => match start(p, line) {
            Err(f) => crate::log::report(f),
        },
    })
}

/// Starts the program as the init's only child and supervises it; returns
/// only a failure of the set-up.
fn start(p: &Process, line: &'static InitLine) -> Result<core::convert::Infallible, Fail> {
    if let Some(sig) = line.pdeathsig {
        sys::set_pdeathsig(sig).or_fail("prctl(PR_SET_PDEATHSIG)", b"")?;
    }
    let old_mask = init::block_signals()?;
    // Not PID 1 (tini -s, or under a shell): what the program leaves behind
    // is still re-parented here to be reaped.
    sys::prctl(linux_raw_sys::prctl::PR_SET_CHILD_SUBREAPER, 1)
        .or_fail("prctl(PR_SET_CHILD_SUBREAPER)", b"")?;
    let child = sys::spawn(0, || crate::log::report(program(p, line, old_mask)))
        .or_fail("clone of the payload", b"")?;
    init::supervise_forever(child, line.group, &line.remap_exit)
}

/// In the child: its own process group if asked, the signal mask nsexec
/// was started with, then the program. Returns the failure.
fn program(p: &Process, line: &InitLine, old_mask: SigSet) -> Fail {
    if line.group {
        if let Err(e) = sys::setpgid(0, 0) {
            return Fail::new("setpgid").errno(e);
        }
    }
    if let Err(e) = sys::set_sigmask(old_mask) {
        return Fail::new("rt_sigprocmask").errno(e);
    }
    let start = line.payload + 1;
    let argv = p.argv.get(start..).unwrap_or(&[]);
    let e = exec::exec_payload(argv, p.envp, p.env(b"PATH"));
    Fail::new("execve")
        .on(p.arg(start).unwrap_or(b""))
        .errno(e)
        .with_code(exec::exit_code_for(e))
}

fn print(b: &[u8]) -> i32 {
    if sys::write_all(1, b).is_ok() { 0 } else { 1 }
}

/// The arguments and the line they make, in .bss: the init's loop reads a
/// few fields of the line for as long as it runs.
static mut ARGS: heapless::Vec<&'static [u8], MAX_ARGS> = heapless::Vec::new();
static mut LINE: InitLine = InitLine::EMPTY;

fn statics() -> (
    &'static mut heapless::Vec<&'static [u8], MAX_ARGS>,
    &'static mut InitLine,
) {
    let (args, line) = (&raw mut ARGS, &raw mut LINE);
    // SAFETY: called once, by `run_if_init`, in a single-threaded process;
    // no other reference to ARGS or LINE exists.
    unsafe { (&mut *args, &mut *line) }
}

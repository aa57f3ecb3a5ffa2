//! Called by another init's name, as busybox's applets are: runtimes inject
//! their init under a name of their own (`/sbin/docker-init`,
//! `/run/podman-init`) and start it with that init's flags, not nsexec's,
//! and with no flag naming a mode. Under those names nsexec is the init,
//! taking the flags of the init it stands in for where they mean something
//! here and refusing the rest; as `pause` it is a pod's pause process.

use crate::cli::error::CliError;
use crate::cli::values::signal_number;
use crate::fmt::parse_dec;
use crate::kernel::names::{Names, names};

/// What an init's command line asks for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InitAction {
    Run,
    /// A pod's pause process: `pause`, `catatonit -P`, `nsexec --init` alone.
    Pause,
    /// The usage under the name called by.
    Help,
    /// nsexec's version, in the form the runtimes that inject it parse.
    Version,
}

/// An init's command line, parsed: the init build's whole configuration.
#[derive(Debug)]
pub struct InitLine {
    pub action: InitAction,
    /// Index in the arguments (after argv[0]) where the program starts.
    pub payload: usize,
    /// Forward signals to the program's process group.
    pub group: bool,
    /// Exit codes of the program's that the init turns into 0.
    pub remap_exit: heapless::Vec<u8, 16>,
    /// The signal the init asks for when its parent dies.
    pub pdeathsig: Option<u32>,
}

impl InitLine {
    pub const EMPTY: InitLine = InitLine {
        action: InitAction::Run,
        payload: 0,
        group: false,
        remap_exit: heapless::Vec::new(),
        pdeathsig: None,
    };
}

/// Whose command line nsexec reads.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Name {
    /// tini's flags: what Docker (`docker-init`), podman (`podman-init`)
    /// and images (`tini`, `init`) start.
    Tini,
    /// catatonit's flags (podman's infra containers run `catatonit -P`).
    Catatonit,
    /// Kubernetes' pause: no program, no flags but `-v`.
    Pause,
    /// Not an init's name: nsexec's own `--init` line (see [`parse_into`]).
    Nsexec,
}

/// The name nsexec was called by, if it is an init's: argv[0]'s last part.
pub fn called_as(argv0: &[u8]) -> Option<Name> {
    // One table walk, not a comparison per name, in the init build's
    // every byte: the first five are tini's names.
    const INITS: Names = names![
        "tini",
        "tini-static",
        "docker-init",
        "podman-init",
        "init",
        "catatonit",
        "pause",
    ];
    let base = argv0.rsplit(|&c| c == b'/').next().unwrap_or(argv0);
    Some(match INITS.position(base)? {
        0..=4 => Name::Tini,
        5 => Name::Catatonit,
        _ => Name::Pause,
    })
}

/// What a flag of `name`'s does here.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flag {
    /// Taken, and changes nothing here (tini's `-s`: nsexec is always a
    /// subreaper when it is not PID 1; `-v`: its init prints only errors).
    Same,
    /// nsexec's `--init`, which its own init line must hold.
    Init,
    Group,
    Pause,
    Help,
    Version,
    /// `-e CODE`, `-p SIG`: the value follows.
    RemapExit,
    ParentDeath,
}

/// nsexec's own init options, each standing for the letter at its index in
/// [`OWN_AS`], which [`flag`] reads as for the inits named.
const OWN: Names = names!["--init", "--init-group", "--remap-exit", "--pdeathsig"];
const OWN_AS: &[u8] = b"igep";

fn flag(name: Name, c: u8) -> Option<Flag> {
    Some(match (name, c) {
        (Name::Tini, b's' | b'v') => Flag::Same,
        (Name::Nsexec, b'i') => Flag::Init,
        (Name::Tini | Name::Catatonit | Name::Nsexec, b'g') => Flag::Group,
        (Name::Tini | Name::Catatonit, b'h') => Flag::Help,
        (Name::Tini | Name::Nsexec, b'e') => Flag::RemapExit,
        (Name::Tini | Name::Nsexec, b'p') => Flag::ParentDeath,
        (Name::Catatonit, b'P') => Flag::Pause,
        (Name::Catatonit, b'V') | (Name::Pause, b'v') => Flag::Version,
        _ => return None,
    })
}

/// Parses `args` (after argv[0]) as `name`'s command line, into `cli`,
/// which must be [`InitLine::EMPTY`]. As getopt with `+` does, the options
/// end at `--` or at the first word that is not one.
///
/// [`Name::Nsexec`] is nsexec's own spelling of the init alone: `--init
/// [--init-group] [--remap-exit CODE]... [--pdeathsig SIG] [--]
/// [PROGRAM [ARGS...]]`, the full build's options with the full build's
/// meaning, and without a program a pause process. The init build takes
/// nothing else; the full build hands any other line to its own parser.
/// A word that is not one of `name`'s options comes back as
/// [`CliError::NotTaken`].
pub fn parse_into<'a>(
    name: Name,
    cli: &mut InitLine,
    args: &[&'a [u8]],
) -> Result<(), CliError<'a>> {
    let own = name == Name::Nsexec;
    cli.payload = args.len();
    let mut pause = name == Name::Pause;
    let mut init = !own;
    let mut i = 0;
    while let Some(&arg) = args.get(i) {
        i += 1;
        if arg == b"--" {
            cli.payload = i;
            break;
        }
        // `--version` and `--help` answer alone, as in the inits named.
        if matches!(name, Name::Tini | Name::Catatonit) && (arg == b"--version" || arg == b"--help")
        {
            cli.action = if arg == b"--help" {
                InitAction::Help
            } else {
                InitAction::Version
            };
            return Ok(());
        }
        if !arg.starts_with(b"-") || arg == b"-" {
            cli.payload = i - 1;
            break;
        }
        // The letters this word stands for, and a value given with `=`.
        let (shorts, mut inline, long) = if own {
            let (word, value) = match arg.iter().position(|&c| c == b'=') {
                Some(k) => (arg.get(..k).unwrap_or(arg), arg.get(k + 1..)),
                None => (arg, None),
            };
            let k = OWN.position(word).ok_or(CliError::NotTaken(arg))?;
            (OWN_AS.get(k..=k).unwrap_or(b""), value, OWN.iter().nth(k))
        } else {
            match arg.get(1..).filter(|s| !s.starts_with(b"-")) {
                Some(letters) => (letters, None, None),
                None => return Err(CliError::NotTaken(arg)),
            }
        };
        let mut k = 0;
        while let Some(&c) = shorts.get(k) {
            k += 1;
            let f = flag(name, c).ok_or(CliError::NotTaken(arg))?;
            let opt = long.unwrap_or(if f == Flag::RemapExit { "-e" } else { "-p" });
            if !matches!(f, Flag::RemapExit | Flag::ParentDeath) {
                if inline.is_some() {
                    return Err(CliError::UnexpectedValue(opt));
                }
                match f {
                    Flag::Init => init = true,
                    Flag::Group => cli.group = true,
                    Flag::Pause => pause = true,
                    Flag::Help | Flag::Version => {
                        cli.action = if f == Flag::Help {
                            InitAction::Help
                        } else {
                            InitAction::Version
                        };
                        return Ok(());
                    }
                    _ => {}
                }
                continue;
            }
            // The value: the rest of a cluster (`-e3`), after `=`, or the
            // next word.
            let rest = shorts.get(k..).filter(|r| !r.is_empty());
            k = shorts.len();
            let v = match rest.or(inline.take()) {
                Some(v) => v,
                None => {
                    let v = args.get(i).copied().ok_or(CliError::MissingValue(opt))?;
                    i += 1;
                    v
                }
            };
            if f == Flag::RemapExit {
                let code = parse_dec(v, 255).ok_or(CliError::BadValue(opt, v))?;
                cli.remap_exit
                    .push(code as u8)
                    .map_err(|_| CliError::TooMany(opt))?;
            } else {
                // tini takes only names with the SIG prefix; nsexec both.
                cli.pdeathsig = Some(
                    (own || v.starts_with(b"SIG"))
                        .then(|| signal_number(v))
                        .flatten()
                        .ok_or(CliError::BadValue(opt, v))?,
                );
            }
        }
    }
    if !init {
        return Err(CliError::NotTaken(args.first().copied().unwrap_or(b"")));
    }
    let has_program = cli.payload < args.len();
    // nsexec's `--init` alone is a pause process; with an init option,
    // it was meant to run a program.
    let own_pause = own && !cli.group && cli.remap_exit.is_empty() && cli.pdeathsig.is_none();
    if pause || (own_pause && !has_program) {
        if has_program {
            return Err(CliError::PauseRunsNothing);
        }
        cli.action = InitAction::Pause;
        return Ok(());
    }
    if !has_program {
        return Err(CliError::NoProgram);
    }
    Ok(())
}

/// The usage of every init line, under any of its names: one text, which
/// the init build's usage begins with.
pub const USAGE: &str =
    "Usage: nsexec --init [--init-group] [--remap-exit CODE]... [--pdeathsig SIG]
                     [--] [PROGRAM [ARGS...]]
   or: tini|docker-init|podman-init|init [-g] [-e CODE]... [-p SIG] [-s] [-v]
                     [--] PROGRAM [ARGS...]
   or: catatonit [-g] [-P] [--] PROGRAM [ARGS...]
   or: pause
PROGRAM's init: reaps, forwards signals, exits with its status. -g: signal
its process group; -e: exit 0 on CODE; -p: SIG when this init's parent
dies; -s, -v: taken (always a subreaper). No PROGRAM, -P or pause: a pause
process (reaps; exits 0 on SIGINT or SIGTERM).
";

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(name: Name, args: &[&'static str]) -> Result<InitLine, CliError<'static>> {
        let args: Vec<&'static [u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let args: &'static [&'static [u8]] = Vec::leak(args);
        let mut cli = InitLine::EMPTY;
        parse_into(name, &mut cli, args).map(|()| cli)
    }

    #[test]
    fn knows_the_names_runtimes_inject() {
        assert_eq!(called_as(b"/sbin/docker-init"), Some(Name::Tini));
        assert_eq!(called_as(b"/run/podman-init"), Some(Name::Tini));
        assert_eq!(called_as(b"tini"), Some(Name::Tini));
        assert_eq!(called_as(b"/usr/bin/catatonit"), Some(Name::Catatonit));
        assert_eq!(called_as(b"/pause"), Some(Name::Pause));
        assert_eq!(called_as(b"/usr/local/bin/nsexec"), None);
        assert_eq!(called_as(b"initd"), None);
    }

    #[test]
    fn reads_tinis_command_line_as_docker_and_podman_give_it() {
        let cli = parse(Name::Tini, &["--", "sh", "-c", "x"]).unwrap();
        assert!(!cli.group);
        assert_eq!(cli.payload, 1);
        assert_eq!(cli.action, InitAction::Run);
        let cli = parse(
            Name::Tini,
            &["-sg", "-e", "143", "-e3", "-p", "SIGTERM", "sh"],
        )
        .unwrap();
        assert!(cli.group);
        assert_eq!(&cli.remap_exit[..], &[143, 3]);
        assert_eq!(cli.pdeathsig, Some(15));
        assert_eq!(cli.payload, 6);
        // The options end at the program: its own flags are its own.
        let cli = parse(Name::Tini, &["ls", "-g"]).unwrap();
        assert_eq!(cli.payload, 0);
        assert!(!cli.group);
    }

    #[test]
    fn refuses_what_it_does_not_take_with_the_flag_named() {
        assert!(matches!(
            parse(Name::Tini, &["-w", "sh"]),
            Err(CliError::NotTaken(b"-w"))
        ));
        assert!(matches!(
            parse(Name::Tini, &["-l"]),
            Err(CliError::NotTaken(b"-l"))
        ));
        assert!(matches!(
            parse(Name::Tini, &["--init", "sh"]),
            Err(CliError::NotTaken(b"--init"))
        ));
        assert!(matches!(
            parse(Name::Catatonit, &["-L"]),
            Err(CliError::NotTaken(b"-L"))
        ));
        assert!(matches!(
            parse(Name::Pause, &["-g"]),
            Err(CliError::NotTaken(b"-g"))
        ));
        assert!(matches!(
            parse(Name::Tini, &["-p", "TERM", "sh"]),
            Err(CliError::BadValue("-p", b"TERM"))
        ));
        assert!(matches!(
            parse(Name::Tini, &["-e", "256", "sh"]),
            Err(CliError::BadValue("-e", _))
        ));
        assert!(matches!(
            parse(Name::Tini, &["-e"]),
            Err(CliError::MissingValue("-e"))
        ));
        assert!(matches!(parse(Name::Tini, &[]), Err(CliError::NoProgram)));
        assert!(matches!(
            parse(Name::Tini, &["--"]),
            Err(CliError::NoProgram)
        ));
        assert!(matches!(
            parse(Name::Catatonit, &["-P", "sh"]),
            Err(CliError::PauseRunsNothing)
        ));
        assert!(matches!(
            parse(Name::Pause, &["sh"]),
            Err(CliError::PauseRunsNothing)
        ));
    }

    #[test]
    fn pauses_as_pause_and_as_catatonit_p() {
        assert_eq!(parse(Name::Pause, &[]).unwrap().action, InitAction::Pause);
        assert_eq!(
            parse(Name::Catatonit, &["-P"]).unwrap().action,
            InitAction::Pause
        );
        assert_eq!(
            parse(Name::Catatonit, &["-g", "--", "sh"]).unwrap().action,
            InitAction::Run
        );
    }

    #[test]
    fn answers_version_and_help_in_each_names_spelling() {
        assert_eq!(
            parse(Name::Tini, &["--version"]).unwrap().action,
            InitAction::Version
        );
        assert_eq!(
            parse(Name::Catatonit, &["-V"]).unwrap().action,
            InitAction::Version
        );
        assert_eq!(
            parse(Name::Pause, &["-v"]).unwrap().action,
            InitAction::Version
        );
        assert_eq!(parse(Name::Tini, &["-h"]).unwrap().action, InitAction::Help);
        assert!(matches!(
            parse(Name::Pause, &["--version"]),
            Err(CliError::NotTaken(_))
        ));
    }

    fn own(args: &[&'static str]) -> Result<InitLine, CliError<'static>> {
        let args: Vec<&'static [u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let args: &'static [&'static [u8]] = Vec::leak(args);
        let mut cli = InitLine::EMPTY;
        parse_into(Name::Nsexec, &mut cli, args).map(|()| cli)
    }

    #[test]
    fn reads_nsexecs_own_init_options_in_both_spellings() {
        let cli = own(&[
            "--init",
            "--init-group",
            "--remap-exit",
            "143",
            "--remap-exit=3",
            "--pdeathsig=TERM",
            "--",
            "sh",
            "-c",
        ])
        .unwrap();
        assert!(cli.group);
        assert_eq!(&cli.remap_exit[..], &[143, 3]);
        assert_eq!(cli.pdeathsig, Some(15));
        assert_eq!((cli.action, cli.payload), (InitAction::Run, 7));
        let cli = own(&["--init", "--pdeathsig", "SIGKILL", "ls", "--init-group"]).unwrap();
        assert_eq!((cli.payload, cli.group, cli.pdeathsig), (3, false, Some(9)));
        assert_eq!(own(&["--init"]).unwrap().action, InitAction::Pause);
    }

    #[test]
    fn hands_back_what_is_not_the_init_alone() {
        for (line, word) in [
            (&["--init", "--user", "sh"][..], "--user"),
            (&["-U", "--init", "sh"][..], "-U"),
            (&["--init=1", "sh"][..], ""),
            (&["sh"][..], "sh"),
            (&[][..], ""),
        ] {
            match own(line) {
                Err(CliError::NotTaken(w)) => assert_eq!(w, word.as_bytes(), "{line:?}"),
                Err(CliError::UnexpectedValue("--init")) => assert_eq!(word, "", "{line:?}"),
                other => panic!("{line:?}: {other:?}"),
            }
        }
        assert!(matches!(
            own(&["--init-group", "sh"]),
            Err(CliError::NotTaken(b"--init-group"))
        ));
        assert!(matches!(
            own(&["--init", "--init-group"]),
            Err(CliError::NoProgram)
        ));
        assert!(matches!(
            own(&["--init", "--remap-exit", "256", "sh"]),
            Err(CliError::BadValue("--remap-exit", b"256"))
        ));
        assert!(matches!(
            own(&["--init", "--pdeathsig"]),
            Err(CliError::MissingValue("--pdeathsig"))
        ));
    }
}

//! Called by another init's name, as busybox's applets are: runtimes inject
//! their init under a name of their own (`/sbin/docker-init`,
//! `/run/podman-init`) and start it with that init's flags, not nsexec's,
//! and with no flag naming a mode. Under those names nsexec is the init,
//! taking the flags of the init it stands in for where they mean something
//! here and refusing the rest; as `pause` it is a pod's pause process.

use crate::cli::args::{Action, Cli, CliError};
use crate::cli::values::signal_number;
use crate::fmt::parse_dec;

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
}

/// The name nsexec was called by, if it is an init's: argv[0]'s last part.
pub fn called_as(argv0: &[u8]) -> Option<Name> {
    let base = argv0.rsplit(|&c| c == b'/').next().unwrap_or(argv0);
    match base {
        b"tini" | b"tini-static" | b"docker-init" | b"podman-init" | b"init" => Some(Name::Tini),
        b"catatonit" => Some(Name::Catatonit),
        b"pause" => Some(Name::Pause),
        _ => None,
    }
}

/// What a flag of `name`'s does here.
enum Flag {
    /// Taken, and changes nothing here (tini's `-s`: nsexec is always a
    /// subreaper when it is not PID 1; `-v`: its init prints only errors).
    Same,
    Group,
    Pause,
    Help,
    Version,
    /// `-e CODE`, `-p SIG`: the value follows.
    RemapExit,
    ParentDeath,
}

fn flag(name: Name, c: u8) -> Option<Flag> {
    Some(match (name, c) {
        (Name::Tini, b's' | b'v') => Flag::Same,
        (Name::Tini | Name::Catatonit, b'g') => Flag::Group,
        (Name::Tini | Name::Catatonit, b'h') => Flag::Help,
        (Name::Tini, b'e') => Flag::RemapExit,
        (Name::Tini, b'p') => Flag::ParentDeath,
        (Name::Catatonit, b'P') => Flag::Pause,
        (Name::Catatonit, b'V') | (Name::Pause, b'v') => Flag::Version,
        _ => return None,
    })
}

/// Parses `args` (after argv[0]) as `name`'s command line, into `cli`,
/// which must be [`Cli::EMPTY`]. As getopt with `+` does, the options end at
/// `--` or at the first word that is not one.
pub fn parse_into<'a>(
    name: Name,
    cli: &mut Cli<'a>,
    args: &[&'a [u8]],
) -> Result<(), CliError<'a>> {
    cli.init = true;
    cli.payload = args.len();
    let mut pause = name == Name::Pause;
    let mut i = 0;
    while let Some(&arg) = args.get(i) {
        i += 1;
        if arg == b"--" {
            cli.payload = i;
            break;
        }
        // `--version` and `--help` answer alone, as in the inits named.
        if arg == b"--version" && name != Name::Pause {
            {
                cli.action = Action::NamedVersion;
                return Ok(());
            };
        }
        if arg == b"--help" && name != Name::Pause {
            {
                cli.action = Action::NamedHelp;
                return Ok(());
            };
        }
        let Some(shorts) = arg
            .strip_prefix(b"-")
            .filter(|s| !s.is_empty() && !s.starts_with(b"-"))
        else {
            if arg.starts_with(b"-") && arg.len() > 1 {
                return Err(CliError::NotTaken(arg));
            }
            cli.payload = i - 1;
            break;
        };
        let mut k = 0;
        while let Some(&c) = shorts.get(k) {
            k += 1;
            let f = flag(name, c).ok_or(CliError::NotTaken(arg))?;
            let value = || -> Option<&'a [u8]> {
                match shorts.get(k..) {
                    Some(rest) if !rest.is_empty() => Some(rest),
                    _ => args.get(i).copied(),
                }
            };
            match f {
                Flag::Same => {}
                Flag::Group => cli.init_group = true,
                Flag::Pause => pause = true,
                Flag::Help => {
                    cli.action = Action::NamedHelp;
                    return Ok(());
                }
                Flag::Version => {
                    cli.action = Action::NamedVersion;
                    return Ok(());
                }
                Flag::RemapExit | Flag::ParentDeath => {
                    let opt = if matches!(f, Flag::RemapExit) {
                        "-e"
                    } else {
                        "-p"
                    };
                    let v = value().ok_or(CliError::MissingValue(opt))?;
                    if shorts.get(k..).is_none_or(|r| r.is_empty()) {
                        i += 1;
                    }
                    k = shorts.len();
                    if matches!(f, Flag::RemapExit) {
                        let code = parse_dec(v, 255).ok_or(CliError::BadValue(opt, v))?;
                        cli.remap_exit
                            .push(code as u8)
                            .map_err(|_| CliError::TooMany(opt))?;
                    } else {
                        // tini takes only names with the SIG prefix.
                        let sig = v
                            .starts_with(b"SIG")
                            .then(|| signal_number(v))
                            .flatten()
                            .ok_or(CliError::BadValue(opt, v))?;
                        cli.pdeathsig = Some(sig);
                    }
                }
            }
        }
    }
    let has_program = cli.payload < args.len();
    if pause {
        if has_program {
            return Err(CliError::PauseRunsNothing);
        }
        cli.action = Action::Pause;
        return Ok(());
    }
    if !has_program {
        return Err(CliError::NoProgram);
    }
    Ok(())
}

/// The usage under an init's name: nsexec's own is about another command
/// line.
pub fn usage(name: Name) -> &'static str {
    match name {
        Name::Tini => {
            "Usage: docker-init|podman-init|tini|init [-s] [-g] [-v] [-e CODE] [-p SIGNAL] [--] PROGRAM [ARGS...]
nsexec as a tini-compatible init: run PROGRAM, reap every zombie, forward
signals, exit with PROGRAM's status.
  -g         forward signals to PROGRAM's process group
  -e CODE    exit 0 when PROGRAM exits CODE (repeatable)
  -p SIGNAL  signal this init when its parent dies (SIGKILL, SIGTERM, ...)
  -s, -v     accepted; nsexec is always a subreaper when not PID 1, and
             prints only errors
  --version  nsexec's version, in tini's format
"
        }
        Name::Catatonit => {
            "Usage: catatonit [-g] [-P] [-V] [--] PROGRAM [ARGS...]
nsexec as a catatonit-compatible init.
  -g   forward signals to PROGRAM's process group
  -P   pause: run nothing, reap what is re-parented here, exit 0 on
       SIGINT or SIGTERM
  -V   nsexec's version
"
        }
        Name::Pause => "Usage: pause [-v]\n",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(name: Name, args: &[&'static str]) -> Result<Cli<'static>, CliError<'static>> {
        let args: Vec<&'static [u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let args: &'static [&'static [u8]] = Vec::leak(args);
        let mut cli = Cli::EMPTY;
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
        assert!(cli.init && !cli.init_group);
        assert_eq!(cli.payload, 1);
        assert_eq!(cli.action, Action::Run);
        let cli = parse(
            Name::Tini,
            &["-sg", "-e", "143", "-e3", "-p", "SIGTERM", "sh"],
        )
        .unwrap();
        assert!(cli.init_group);
        assert_eq!(&cli.remap_exit[..], &[143, 3]);
        assert_eq!(cli.pdeathsig, Some(15));
        assert_eq!(cli.payload, 6);
        // The options end at the program: its own flags are its own.
        let cli = parse(Name::Tini, &["ls", "-g"]).unwrap();
        assert_eq!(cli.payload, 0);
        assert!(!cli.init_group);
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
        assert_eq!(parse(Name::Pause, &[]).unwrap().action, Action::Pause);
        assert_eq!(
            parse(Name::Catatonit, &["-P"]).unwrap().action,
            Action::Pause
        );
        assert_eq!(
            parse(Name::Catatonit, &["-g", "--", "sh"]).unwrap().action,
            Action::Run
        );
    }

    #[test]
    fn answers_version_and_help_in_each_names_spelling() {
        assert_eq!(
            parse(Name::Tini, &["--version"]).unwrap().action,
            Action::NamedVersion
        );
        assert_eq!(
            parse(Name::Catatonit, &["-V"]).unwrap().action,
            Action::NamedVersion
        );
        assert_eq!(
            parse(Name::Pause, &["-v"]).unwrap().action,
            Action::NamedVersion
        );
        assert_eq!(
            parse(Name::Tini, &["-h"]).unwrap().action,
            Action::NamedHelp
        );
        assert!(matches!(
            parse(Name::Pause, &["--version"]),
            Err(CliError::NotTaken(_))
        ));
    }
}

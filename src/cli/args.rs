//! The command line: `nsexec [OPTIONS] [--] PROGRAM [ARGS...]`, with the
//! option names util-linux's unshare and nsenter and tini use. Pure: turns
//! the arguments into a [`Cli`], and the id-map options into map text.
#![cfg_attr(not(test), allow(dead_code))]

pub use crate::cli::error::CliError;
pub use crate::cli::maps::{IdMapSpec, List, Ranges, write_map};
use crate::cli::maps::{add_range, id};
use crate::cli::values::signal_number;
use crate::config::NsType;
use crate::fmt::{parse_dec, parse_int};
use linux_raw_sys::general as g;

pub const USAGE: &str = "\
Usage: nsexec [OPTIONS] [--] PROGRAM [ARGS...]
Run PROGRAM in new or existing namespaces, optionally as its init.

Create namespaces:
  -U, --user          user         -p, --pid     pid
  -m, --mount         mount        -u, --uts     uts
  -i, --ipc           ipc          -n, --net     network
  -C, --cgroup        cgroup       -T, --time    time
Join namespaces:
  -t, --target PID    every namespace of PID that differs from ours
                      (with type flags: only those, joined instead of created)
      --join TYPE=PATH  join the namespace at PATH (repeatable)
User namespace mappings:
  -r, --map-root-user        map root to the caller
  -c, --map-current-user     map the caller to itself
      --map-user=UID         map UID to the caller's uid
      --map-group=GID        map GID to the caller's gid
      --map-users=IN:OUT:COUNT|auto   map a range (repeatable; newuidmap)
      --map-groups=IN:OUT:COUNT|auto  map a range (repeatable; newgidmap)
      --setgroups=allow|deny
Set-up:
      --hostname NAME        set the hostname (needs --uts)
      --mount-proc           mount a fresh /proc (implies --mount, needs --pid)
      --monotonic SECS       CLOCK_MONOTONIC offset (needs --time)
      --boottime SECS        CLOCK_BOOTTIME offset (needs --time)
      --oom-score-adj N      -1000..1000
      --no-new-privs         set no_new_privs for the program
      --tty                  give the program a new pty; nsexec relays its own
                             terminal to it (with --console-socket: the pty
                             goes to the socket instead)
      --console-socket PATH  send a pty master to the unix socket at PATH
      --kill-child[=SIG]     signal the program when nsexec dies (SIGKILL)
  -d, --detach               exit once the program runs; it keeps running
      --pid-file PATH        write the pid of the program (or its init)
      --seccomp-bpf PATH|FD  load this classic-BPF filter for the program
                             (needs --no-new-privs or CAP_SYS_ADMIN)
Init:
      --init                 stay as the program's parent: reap and forward
      --init-group           forward signals to the program's process group
      --remap-exit CODE      exit 0 when the program exits CODE (repeatable)
      --pdeathsig SIG        signal nsexec itself when its parent dies
Other:
  -h, --help    -V, --version
      --syscalls[=MODES]           the syscall table, or what MODES need
      --seccomp-profile[=MODES]    an OCI seccomp profile allowing them
  MODES: bootstrap, create, join, init, console, detach, tty, pid1 (the
         init alone: the init build's) or all, comma-separated
";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Action {
    Run,
    Help,
    Version,
    /// `--syscalls[=MODES]`: the table entries these modes need.
    Syscalls(u8),
    /// `--seccomp-profile[=MODES]`.
    SeccompProfile(u8),
    /// A pod's pause process: `--init` alone (which `cli::pid1` takes
    /// first; the parser says the same of it).
    Pause,
}

#[derive(Debug)]
pub struct Cli<'a> {
    pub action: Action,
    /// Index in the arguments where the program starts.
    pub payload: usize,
    /// `CLONE_NEW*` flags of namespaces to create.
    pub create: u32,
    pub target: Option<i32>,
    /// With `--target`: the types to join (0: every one that differs).
    pub target_types: u32,
    /// `--join TYPE=PATH`: the path to join for each type, by
    /// `NsType::ALL` order (one namespace of a type can be joined).
    pub joins: [Option<&'a [u8]>; 8],
    pub uid_map: IdMapSpec,
    pub gid_map: IdMapSpec,
    pub setgroups: Option<bool>,
    pub hostname: Option<&'a [u8]>,
    pub mount_proc: bool,
    pub monotonic: Option<i64>,
    pub boottime: Option<i64>,
    pub oom_score_adj: Option<&'a [u8]>,
    pub kill_child: Option<u32>,
    pub no_new_privs: bool,
    pub console_socket: Option<&'a [u8]>,
    /// `--tty`: a new pty for the program, relayed to nsexec's terminal
    /// (or, with `--console-socket`, sent there).
    pub tty: bool,
    pub init: bool,
    pub init_group: bool,
    pub remap_exit: List<u8, 16>,
    pub pdeathsig: Option<u32>,
    /// `--seccomp-bpf PATH|FD`: a classic-BPF filter for the program.
    pub seccomp_bpf: Option<&'a [u8]>,
    /// `-d`, `--detach`: exit once the program runs, leaving it running.
    pub detach: bool,
    /// `--pid-file PATH`: the pid nsexec leaves running (or waits for).
    pub pid_file: Option<&'a [u8]>,
}

/// The options, by long name; `short` is 0 for long-only ones.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Takes {
    Nothing,
    Value,
    /// Only as `--opt=VALUE`.
    Optional,
}

struct Opt {
    long: &'static str,
    short: u8,
    takes: Takes,
    key: Key,
}

/// Declares [`Key`], one variant an option, and [`OPTS`], the table the
/// parser looks names up in; `apply` then matches on the key, not on the
/// name again.
macro_rules! options {
    ($($key:ident = $long:literal, $short:expr, $takes:ident;)*) => {
        #[derive(Clone, Copy, PartialEq, Eq)]
        enum Key {
            $($key,)*
        }

        const OPTS: &[Opt] = &[
            $(Opt {
                long: $long,
                short: $short,
                takes: Takes::$takes,
                key: Key::$key,
            },)*
        ];
    };
}

options! {
    User = "user", b'U', Nothing;
    Pid = "pid", b'p', Nothing;
    Mount = "mount", b'm', Nothing;
    Uts = "uts", b'u', Nothing;
    Ipc = "ipc", b'i', Nothing;
    Net = "net", b'n', Nothing;
    Cgroup = "cgroup", b'C', Nothing;
    Time = "time", b'T', Nothing;
    Target = "target", b't', Value;
    Join = "join", 0, Value;
    MapRootUser = "map-root-user", b'r', Nothing;
    MapCurrentUser = "map-current-user", b'c', Nothing;
    MapUser = "map-user", 0, Value;
    MapGroup = "map-group", 0, Value;
    MapUsers = "map-users", 0, Value;
    MapGroups = "map-groups", 0, Value;
    Setgroups = "setgroups", 0, Value;
    Hostname = "hostname", 0, Value;
    MountProc = "mount-proc", 0, Nothing;
    Monotonic = "monotonic", 0, Value;
    Boottime = "boottime", 0, Value;
    OomScoreAdj = "oom-score-adj", 0, Value;
    KillChild = "kill-child", 0, Optional;
    NoNewPrivs = "no-new-privs", 0, Nothing;
    ConsoleSocket = "console-socket", 0, Value;
    Tty = "tty", 0, Nothing;
    Init = "init", 0, Nothing;
    InitGroup = "init-group", 0, Nothing;
    RemapExit = "remap-exit", 0, Value;
    Pdeathsig = "pdeathsig", 0, Value;
    Help = "help", b'h', Nothing;
    Version = "version", b'V', Nothing;
    Syscalls = "syscalls", 0, Optional;
    SeccompProfile = "seccomp-profile", 0, Optional;
    Detach = "detach", b'd', Nothing;
    PidFile = "pid-file", 0, Value;
    SeccompBpf = "seccomp-bpf", 0, Value;
}

fn ns_flag(key: Key) -> Option<u32> {
    Some(match key {
        Key::User => g::CLONE_NEWUSER,
        Key::Pid => g::CLONE_NEWPID,
        Key::Mount => g::CLONE_NEWNS,
        Key::Uts => g::CLONE_NEWUTS,
        Key::Ipc => g::CLONE_NEWIPC,
        Key::Net => g::CLONE_NEWNET,
        Key::Cgroup => g::CLONE_NEWCGROUP,
        Key::Time => g::CLONE_NEWTIME,
        _ => return None,
    })
}

impl<'a> Cli<'a> {
    /// The namespaces `--join` names, in `NsType::ALL` order.
    pub fn joined(&self) -> impl Iterator<Item = (NsType, &'a [u8])> + '_ {
        NsType::ALL
            .into_iter()
            .zip(self.joins.iter())
            .filter_map(|(t, p)| p.map(|p| (t, p)))
    }
}

impl Cli<'_> {
    /// Nothing asked for yet. All zero bits, so a `static` of it is in .bss
    /// and only the pages an option writes become resident.
    pub const EMPTY: Cli<'static> = Cli {
        action: Action::Run,
        payload: 0,
        create: 0,
        target: None,
        target_types: 0,
        joins: [None; 8],
        uid_map: IdMapSpec::None,
        gid_map: IdMapSpec::None,
        setgroups: None,
        hostname: None,
        mount_proc: false,
        monotonic: None,
        boottime: None,
        oom_score_adj: None,
        kill_child: None,
        no_new_privs: false,
        console_socket: None,
        tty: false,
        init: false,
        init_group: false,
        remap_exit: List::new(0),
        pdeathsig: None,
        seccomp_bpf: None,
        detach: false,
        pid_file: None,
    };
}

/// Parses the arguments after argv[0].
pub fn parse<'a>(args: &[&'a [u8]]) -> Result<(Cli<'a>, Ranges), CliError<'a>> {
    let mut cli = Cli::EMPTY;
    let mut ranges = Ranges::EMPTY;
    parse_into(&mut cli, &mut ranges, args)?;
    Ok((cli, ranges))
}

/// As [`parse`], into `cli` and `ranges`, which must be [`Cli::EMPTY`] and
/// [`Ranges::EMPTY`]: the command line's mode keeps them in static memory,
/// where they cost no stack.
pub fn parse_into<'a>(
    cli: &mut Cli<'a>,
    ranges: &mut Ranges,
    args: &[&'a [u8]],
) -> Result<(), CliError<'a>> {
    cli.payload = args.len();
    let mut types = 0u32;
    let mut options = 0usize;
    let mut alone: Option<(&'static str, Action)> = None;
    let mut i = 0;
    while let Some(&arg) = args.get(i) {
        i += 1;
        if arg == b"--" {
            cli.payload = i;
            break;
        }
        if let Some(body) = arg.strip_prefix(b"--") {
            let (name, inline) = match body.iter().position(|&c| c == b'=') {
                Some(eq) => (body.get(..eq).unwrap_or(&[]), body.get(eq + 1..)),
                None => (body, None),
            };
            let opt = OPTS
                .iter()
                .find(|o| o.long.as_bytes() == name)
                .ok_or(CliError::UnknownOption(arg))?;
            let value = match (opt.takes, inline) {
                (Takes::Nothing, Some(_)) => return Err(CliError::UnexpectedValue(opt.long)),
                (Takes::Nothing, None) | (Takes::Optional, None) => None,
                (_, Some(v)) => Some(v),
                (Takes::Value, None) => {
                    let v = args
                        .get(i)
                        .copied()
                        .ok_or(CliError::MissingValue(opt.long))?;
                    i += 1;
                    Some(v)
                }
            };
            options += 1;
            apply(cli, ranges, &mut types, &mut alone, opt, value)?;
        } else if let Some(shorts) = arg.strip_prefix(b"-").filter(|s| !s.is_empty()) {
            let mut k = 0;
            while let Some(&c) = shorts.get(k) {
                k += 1;
                let opt = OPTS
                    .iter()
                    .find(|o| o.short == c && c != 0)
                    .ok_or(CliError::UnknownOption(arg))?;
                let value = if opt.takes == Takes::Value {
                    let rest = shorts.get(k..).unwrap_or(&[]);
                    k = shorts.len();
                    if rest.is_empty() {
                        let v = args
                            .get(i)
                            .copied()
                            .ok_or(CliError::MissingValue(opt.long))?;
                        i += 1;
                        Some(v)
                    } else {
                        Some(rest)
                    }
                } else {
                    None
                };
                options += 1;
                apply(cli, ranges, &mut types, &mut alone, opt, value)?;
            }
        } else {
            cli.payload = i - 1;
            break;
        }
    }
    if let Some((name, action)) = alone {
        if options > 1 || cli.payload < args.len() {
            return Err(CliError::Alone(name));
        }
        cli.action = action;
        return Ok(());
    }
    if cli.payload >= args.len() {
        // `--init` and nothing else: a pod's pause process.
        if cli.init && options == 1 {
            cli.action = Action::Pause;
            return Ok(());
        }
        return Err(CliError::NoProgram);
    }
    // Type flags create namespaces, or with --target choose which to join.
    if cli.target.is_some() {
        cli.target_types = types;
    } else {
        cli.create = types;
    }
    if cli.uid_map != IdMapSpec::None || cli.gid_map != IdMapSpec::None {
        if cli.target_types & g::CLONE_NEWUSER != 0 || cli.joins[NsType::User as usize].is_some() {
            return Err(CliError::Needs(
                "--map-*",
                "a new user namespace, not a joined one",
            ));
        }
        cli.create |= g::CLONE_NEWUSER;
    }
    if cli.mount_proc {
        cli.create |= g::CLONE_NEWNS;
        if cli.create & g::CLONE_NEWPID == 0 {
            return Err(CliError::Needs("--mount-proc", "--pid"));
        }
    }
    if cli.hostname.is_some() && cli.create & g::CLONE_NEWUTS == 0 {
        return Err(CliError::Needs("--hostname", "--uts"));
    }
    if cli.monotonic.is_some() && cli.create & g::CLONE_NEWTIME == 0 {
        return Err(CliError::Needs("--monotonic", "--time"));
    }
    if cli.boottime.is_some() && cli.create & g::CLONE_NEWTIME == 0 {
        return Err(CliError::Needs("--boottime", "--time"));
    }
    if cli.setgroups.is_some() && cli.create & g::CLONE_NEWUSER == 0 {
        return Err(CliError::Needs("--setgroups", "--user"));
    }
    if cli.init_group {
        cli.init = true;
    }
    if cli.detach {
        if cli.kill_child.is_some() {
            return Err(CliError::Excludes("--detach", "--kill-child"));
        }
        // Nobody would be left to relay the terminal: as runc, a detached
        // terminal goes to a console socket or nowhere.
        if cli.tty && cli.console_socket.is_none() {
            return Err(CliError::Needs("--detach --tty", "--console-socket"));
        }
        // A subreaper init is nsexec itself, which --detach ends.
        if cli.init && cli.create & g::CLONE_NEWPID == 0 {
            return Err(CliError::Needs("--detach --init", "--pid"));
        }
    }
    Ok(())
}

fn apply<'a>(
    cli: &mut Cli<'a>,
    ranges: &mut Ranges,
    types: &mut u32,
    alone: &mut Option<(&'static str, Action)>,
    opt: &'static Opt,
    value: Option<&'a [u8]>,
) -> Result<(), CliError<'a>> {
    let name = opt.long;
    let v = value.unwrap_or(&[]);
    let bad = || CliError::BadValue(name, v);
    if let Some(flag) = ns_flag(opt.key) {
        *types |= flag;
        return Ok(());
    }
    match opt.key {
        Key::Target => {
            if cli.target.is_some() {
                return Err(CliError::Twice("--target"));
            }
            cli.target = Some(
                parse_dec(v, i32::MAX as u64)
                    .filter(|&p| p > 0)
                    .ok_or_else(bad)? as i32,
            );
        }
        Key::Join => {
            let eq = v.iter().position(|&c| c == b'=').ok_or_else(bad)?;
            let ns = NsType::from_name(v.get(..eq).unwrap_or(&[])).ok_or_else(bad)?;
            let path = v.get(eq + 1..).filter(|p| !p.is_empty()).ok_or_else(bad)?;
            let slot = cli.joins.get_mut(ns as usize).ok_or_else(bad)?;
            if slot.replace(path).is_some() {
                return Err(CliError::Twice("--join of one namespace type"));
            }
        }
        Key::MapRootUser => set_both(cli, IdMapSpec::Root),
        Key::MapCurrentUser => set_both(cli, IdMapSpec::Current),
        Key::MapUser => cli.uid_map = IdMapSpec::Single(id(v).ok_or_else(bad)?),
        Key::MapGroup => cli.gid_map = IdMapSpec::Single(id(v).ok_or_else(bad)?),
        Key::MapUsers => add_range(&mut cli.uid_map, &mut ranges.uid, v).map_err(|()| bad())?,
        Key::MapGroups => add_range(&mut cli.gid_map, &mut ranges.gid, v).map_err(|()| bad())?,
        Key::Setgroups => {
            cli.setgroups = Some(match v {
                b"allow" => true,
                b"deny" => false,
                _ => return Err(bad()),
            })
        }
        Key::Hostname => {
            cli.hostname = Some(v)
                .filter(|h| !h.is_empty() && h.len() <= 64)
                .map(Some)
                .ok_or_else(bad)?
        }
        Key::MountProc => cli.mount_proc = true,
        Key::Monotonic => {
            cli.monotonic = Some(parse_int(v, i64::MIN + 1, i64::MAX).ok_or_else(bad)?)
        }
        Key::Boottime => cli.boottime = Some(parse_int(v, i64::MIN + 1, i64::MAX).ok_or_else(bad)?),
        Key::OomScoreAdj => {
            parse_int(v, -1000, 1000).ok_or_else(bad)?;
            cli.oom_score_adj = Some(v);
        }
        Key::KillChild => {
            cli.kill_child = Some(match value {
                None => g::SIGKILL,
                Some(s) => signal_number(s).ok_or_else(bad)?,
            })
        }
        Key::NoNewPrivs => cli.no_new_privs = true,
        Key::ConsoleSocket => {
            cli.console_socket = Some(v)
                .filter(|p| !p.is_empty())
                .map(Some)
                .ok_or_else(bad)?
        }
        Key::Tty => cli.tty = true,
        Key::Init => cli.init = true,
        Key::InitGroup => cli.init_group = true,
        Key::RemapExit => {
            let code = parse_dec(v, 255).ok_or_else(bad)? as u8;
            cli.remap_exit
                .push(code)
                .map_err(|_| CliError::TooMany("--remap-exit"))?;
        }
        Key::Pdeathsig => cli.pdeathsig = Some(signal_number(v).ok_or_else(bad)?),
        Key::Help => *alone = Some(("--help", Action::Help)),
        Key::Version => *alone = Some(("--version", Action::Version)),
        Key::Syscalls => *alone = Some(("--syscalls", Action::Syscalls(modes(value, bad)?))),
        Key::SeccompProfile => {
            let modes = modes(value, bad)?;
            *alone = Some(("--seccomp-profile", Action::SeccompProfile(modes)))
        }
        Key::Detach => cli.detach = true,
        Key::PidFile => {
            if v.is_empty() || v.ends_with(b"/") || cli.pid_file.replace(v).is_some() {
                return Err(bad());
            }
        }
        Key::SeccompBpf => {
            if v.is_empty() || cli.seccomp_bpf.replace(v).is_some() {
                return Err(bad());
            }
        }
        Key::User
        | Key::Pid
        | Key::Mount
        | Key::Uts
        | Key::Ipc
        | Key::Net
        | Key::Cgroup
        | Key::Time => {}
    }
    Ok(())
}

/// `=MODE[,MODE...]`, or every mode when no value is given.
fn modes<'a>(value: Option<&[u8]>, bad: impl FnOnce() -> CliError<'a>) -> Result<u8, CliError<'a>> {
    match value {
        None => Ok(crate::syscalls::mode::ALL),
        Some(v) => crate::syscalls::mode::parse(v).ok_or_else(bad),
    }
}

fn set_both(cli: &mut Cli<'_>, spec: IdMapSpec) {
    cli.gid_map = spec;
    cli.uid_map = spec;
}

#[cfg(test)]
mod tests;

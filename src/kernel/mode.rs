//! The modes nsexec runs in, as bits: every table entry names the modes
//! that need it, and `--syscalls=MODE` / `--seccomp-profile=MODE` print
//! exactly those entries. The strace audit holds each set to its mode's
//! scenarios both ways.
//!
//! Pure, so that the command-line fuzz target can include it.

/// runc's contract: stages 0, 1 and 2.
pub const BOOTSTRAP: u8 = 1 << 0;
/// The command line creating namespaces (and mapping, mounting /proc...).
pub const CREATE: u8 = 1 << 1;
/// The command line joining namespaces (`-t`, `--join`).
pub const JOIN: u8 = 1 << 2;
/// `--init`: staying as the program's parent, reaping and forwarding.
pub const INIT: u8 = 1 << 3;
/// `--console-socket`.
pub const CONSOLE: u8 = 1 << 4;
/// `--detach` and `--pid-file`: leaving the program running.
pub const DETACH: u8 = 1 << 5;
/// `--tty` in the foreground: a new pty and the relay to it.
pub const TTY: u8 = 1 << 6;
/// The init alone: under an init's name (tini, docker-init, catatonit,
/// pause) or `--init` with only the init's options. A subset of `INIT`
/// (which also covers `--init` beside the rest of the command line), and
/// the init build's whole surface.
pub const PID1: u8 = 1 << 7;
pub const ALL: u8 = BOOTSTRAP | CREATE | JOIN | INIT | CONSOLE | DETACH | TTY | PID1;

/// The modes this build runs in (Cargo.toml's features): every mode for
/// the full build, its role's for a role build. The syscall table holds
/// only the entries these modes need.
pub const BUILD: u8 = if cfg!(feature = "full") {
    ALL
} else {
    (if cfg!(feature = "bootstrap") {
        BOOTSTRAP
    } else {
        0
    }) | (if cfg!(feature = "init") { PID1 } else { 0 })
};

/// The names `--syscalls=` and `--seccomp-profile=` take.
pub const NAMES: [(&str, u8); 9] = [
    ("bootstrap", BOOTSTRAP),
    ("create", CREATE),
    ("join", JOIN),
    ("init", INIT),
    ("console", CONSOLE),
    ("detach", DETACH),
    ("tty", TTY),
    ("pid1", PID1),
    ("all", ALL),
];

/// `MODE[,MODE...]` as a bit set; `None` for an unknown name.
pub fn parse(list: &[u8]) -> Option<u8> {
    list.split(|&c| c == b',').try_fold(0, |acc, name| {
        NAMES
            .iter()
            .find(|(n, _)| n.as_bytes() == name)
            .map(|(_, bit)| acc | bit)
    })
}

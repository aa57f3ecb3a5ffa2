//! What is wrong with a command line, nsexec's own or an init's it stands
//! in for (`names`), as the one line nsexec prints before exiting 125.
//! Pure; shared by the full build's parser and the init build's.

use crate::fmt::{Arg, Out, fill};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CliError<'a> {
    // The full parser's own errors (an init's line meets none of them) are
    // the full build's, with their messages.
    #[cfg(feature = "full")]
    UnknownOption(&'a [u8]),
    MissingValue(&'a str),
    BadValue(&'a str, &'a [u8]),
    UnexpectedValue(&'a str),
    #[cfg(feature = "full")]
    Needs(&'a str, &'a str),
    /// Two options that contradict each other.
    #[cfg(feature = "full")]
    Excludes(&'a str, &'a str),
    TooMany(&'a str),
    NoProgram,
    #[cfg(feature = "full")]
    Alone(&'a str),
    #[cfg(feature = "full")]
    Twice(&'a str),
    /// Under an init's name: a flag of that init's that nsexec does not take.
    NotTaken(&'a [u8]),
    PauseRunsNothing,
}

impl CliError<'_> {
    pub fn describe(&self, o: &mut dyn Out) {
        let (template, args): (&str, [&[u8]; 2]) = match *self {
            #[cfg(feature = "full")]
            CliError::UnknownOption(opt) => ("unrecognized option '{}'", [opt, b""]),
            CliError::MissingValue(opt) => {
                ("option '{}' requires an argument", [opt.as_bytes(), b""])
            }
            CliError::BadValue(opt, v) => ("invalid value for '{}': '{}'", [opt.as_bytes(), v]),
            CliError::UnexpectedValue(opt) => {
                ("option '{}' takes no argument", [opt.as_bytes(), b""])
            }
            #[cfg(feature = "full")]
            CliError::Needs(opt, other) => {
                ("option '{}' needs '{}'", [opt.as_bytes(), other.as_bytes()])
            }
            #[cfg(feature = "full")]
            CliError::Excludes(a, b) => (
                "options '{}' and '{}' contradict each other",
                [a.as_bytes(), b.as_bytes()],
            ),
            CliError::TooMany(opt) => ("too many '{}' options", [opt.as_bytes(), b""]),
            CliError::NoProgram => ("no program given", [b""; 2]),
            #[cfg(feature = "full")]
            CliError::Alone(opt) => ("option '{}' takes no other options", [opt.as_bytes(), b""]),
            #[cfg(feature = "full")]
            CliError::Twice(what) => ("{} given twice", [what.as_bytes(), b""]),
            CliError::NotTaken(opt) => (
                "'{}' is not an option nsexec takes as this init (see --help)",
                [opt, b""],
            ),
            CliError::PauseRunsNothing => ("a pause process runs no program", [b""; 2]),
        };
        fill(o, template, &args.map(Arg::Bytes));
    }
}

//! Diagnostics: runc's JSON log lines on `_LIBCONTAINER_LOGPIPE`, `FATAL:`
//! lines on stderr without one, and [`Fail`], the error every fallible step
//! returns so that the top level decides how to report and exit.
#![allow(unsafe_code)]

use crate::errno::Errno;
use crate::fmt::{Arg, Out, Text, fill, json_escape};
use crate::sys::{self, Pid, RawFd};

/// logrus levels, by number.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Level {
    Panic = 0,
    Fatal = 1,
    Error = 2,
    Warning = 3,
    Info = 4,
    Debug = 5,
    Trace = 6,
}

impl Level {
    pub fn from_number(n: u64) -> Option<Level> {
        [
            Level::Panic,
            Level::Fatal,
            Level::Error,
            Level::Warning,
            Level::Info,
            Level::Debug,
            Level::Trace,
        ]
        .get(usize::try_from(n).ok()?)
        .copied()
    }

    fn name(self) -> &'static str {
        match self {
            Level::Panic => "panic",
            Level::Fatal => "fatal",
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        }
    }
}

/// What went wrong, in one line: what was attempted, on what, and the errno.
///
/// The text and the exit status live in one static rather than in the
/// value, so that `Fail` has no size: a `Result<T, Fail>` is as wide as an
/// `Option<T>` through every `?`, and each of the many error paths moves
/// nothing. That is sound because nsexec is single-threaded and a `Fail` is
/// made only on the path that returns it: at most one is ever in flight.
pub struct Fail {
    _in_flight: (),
}

struct Report {
    text: Text<600>,
    /// Exit status the command-line mode uses (bootstrap always exits 1).
    code: i32,
}

static mut REPORT: Report = Report {
    text: Text::new(),
    code: 0,
};

fn report_mut() -> &'static mut Report {
    // SAFETY: single-threaded, and no reference from here is held across
    // another call (see `Fail`).
    let p = &raw mut REPORT;
    unsafe { &mut *p }
}

fn fail_text() -> &'static mut Text<600> {
    &mut report_mut().text
}

impl Fail {
    #[cold]
    #[inline(never)]
    pub fn new(what: &str) -> Fail {
        Fail::begin().str(what);
        Fail { _in_flight: () }
    }

    /// A failure whose line is `template` with its `{}` filled from `args`
    /// (see [`fill`]): one call for a message of several pieces.
    #[cold]
    #[inline(never)]
    pub fn fill(template: &str, args: &[Arg<'_>]) -> Fail {
        fill(Fail::begin(), template, args);
        Fail { _in_flight: () }
    }

    /// A new failure's line, emptied, with the default status.
    fn begin() -> &'static mut Text<600> {
        let r = report_mut();
        r.code = 125;
        r.text.clear();
        &mut r.text
    }

    /// Appends ` <detail>` (a path, a namespace, a value).
    #[inline(never)]
    pub fn on(self, detail: &[u8]) -> Fail {
        let t = fail_text();
        t.put(b" ");
        t.put(detail);
        self
    }

    /// Appends `: <ERRNO>`.
    #[inline(never)]
    pub fn errno(self, e: Errno) -> Fail {
        let t = fail_text();
        t.put(b": ");
        match e.name() {
            Some(n) => t.str(n),
            None => {
                t.str("errno ");
                t.dec(u64::from(e.raw()));
            }
        }
        self
    }

    pub fn text(&mut self) -> &mut Text<600> {
        fail_text()
    }

    pub fn with_code(self, code: i32) -> Fail {
        report_mut().code = code;
        self
    }

    /// Exit status the command-line mode uses (bootstrap always exits 1).
    pub fn code(&self) -> i32 {
        report_mut().code
    }
}

/// Turns a syscall's `Errno` into a [`Fail`] naming what was attempted and
/// on what: `.or_fail("setns to", path)?`. The error path is one call to a
/// cold function, so each of the many call sites costs a few instructions.
pub trait OrFail<T> {
    fn or_fail(self, what: &'static str, detail: &[u8]) -> Result<T, Fail>;
}

impl<T> OrFail<T> for Result<T, Errno> {
    #[inline(always)]
    fn or_fail(self, what: &'static str, detail: &[u8]) -> Result<T, Fail> {
        match self {
            Ok(v) => Ok(v),
            Err(e) => Err(fail_with(what, detail, e)),
        }
    }
}

#[cold]
#[inline(never)]
fn fail_with(what: &str, detail: &[u8], e: Errno) -> Fail {
    let f = Fail::new(what);
    let f = if detail.is_empty() { f } else { f.on(detail) };
    f.errno(e)
}

struct State {
    fd: RawFd,
    level: Level,
    /// `nsexec` before the stages exist, then `nsexec-N`.
    stage: Option<u8>,
    /// Other stages to kill on a fatal error.
    peers: [Pid; 2],
}

static mut STATE: State = State {
    fd: -1,
    level: Level::Fatal,
    stage: None,
    peers: [0, 0],
};

fn state() -> &'static mut State {
    // SAFETY: nsexec is single-threaded and no reference returned here is
    // held across another call to `state`.
    let p = &raw mut STATE;
    unsafe { &mut *p }
}

/// Sends log lines to `fd` at or above `level`.
pub fn to_pipe(fd: RawFd, level: Level) {
    let s = state();
    s.fd = fd;
    s.level = level;
}

pub fn set_stage(stage: u8) {
    let s = state();
    s.stage = Some(stage);
    s.peers = [0, 0];
}

/// Remembers a stage to SIGKILL if this one fails.
pub fn add_peer(pid: Pid) {
    let s = state();
    if let Some(slot) = s.peers.iter_mut().find(|p| **p == 0) {
        *slot = pid;
    }
}

pub fn enabled(level: Level) -> bool {
    let s = state();
    s.fd >= 0 && level <= s.level
}

/// Writes one line if `level` passes the filter: `template` with its `{}`
/// filled from `args` (see [`fill`]). One out-of-line call a message, not
/// a copy of the logger per call site.
#[inline(never)]
pub fn log(level: Level, template: &str, args: &[Arg<'_>]) {
    log_with(level, &|m| fill(m, template, args));
}

/// The same for a line `f` writes itself.
#[inline(never)]
pub fn log_with(level: Level, f: &dyn Fn(&mut dyn Out)) {
    if !enabled(level) {
        return;
    }
    let mut msg: Text<600> = Text::new();
    f(&mut msg);
    emit(level, msg.as_bytes());
}

#[inline(never)]
fn emit(level: Level, msg: &[u8]) {
    let s = state();
    let mut line: Text<1400> = Text::new();
    line.str("{\"level\":\"");
    line.str(level.name());
    line.str("\", \"msg\": \"");
    match s.stage {
        Some(n) => {
            line.str("nsexec-");
            line.dec(u64::from(n));
        }
        None => line.str("nsexec"),
    }
    line.put(b"[");
    line.int(i64::from(sys::getpid()));
    line.put(b"]: ");
    json_escape(&mut line, msg);
    line.put(b"\"}\n");
    // A failed log write must not change the outcome.
    let _ = sys::write_all(s.fd, line.as_bytes());
}

pub fn debug(template: &str, args: &[Arg<'_>]) {
    log(Level::Debug, template, args);
}

/// Reports `fail` as runc's C does (fatal log line, or `FATAL:` on stderr),
/// kills the other known stages, and exits 1.
pub fn bail(mut fail: Fail) -> ! {
    let s = state();
    if s.fd >= 0 {
        if Level::Fatal <= s.level {
            emit(Level::Fatal, fail.text().as_bytes());
        }
    } else {
        let mut line: Text<700> = Text::new();
        line.str("FATAL: ");
        line.put(fail.text().as_bytes());
        line.put(b"\n");
        let _ = sys::write_all(2, line.as_bytes());
    }
    for &pid in s.peers.iter() {
        if pid > 0 {
            let _ = sys::kill(pid, linux_raw_sys::general::SIGKILL);
        }
    }
    // Exec failures keep the shell's codes (127 not found, 126 not runnable).
    let code = fail.code();
    sys::exit(if code == 126 || code == 127 { code } else { 1 })
}

/// The command-line mode's report: `nsexec: <message>` and the fail's code.
pub fn report(mut fail: Fail) -> i32 {
    let mut line: Text<700> = Text::new();
    line.str("nsexec: ");
    line.put(fail.text().as_bytes());
    line.put(b"\n");
    let _ = sys::write_all(2, line.as_bytes());
    fail.code()
}

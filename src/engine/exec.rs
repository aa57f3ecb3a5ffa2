//! Handing over to the payload: `execve` with `execvp`'s PATH search.
#![allow(unsafe_code)]

use crate::errno::Errno;
use crate::fmt::{Out, Text};
use crate::rt::{CPtr, cstr};
use crate::sys;

/// Search path when PATH is unset, as glibc's execvp uses.
const DEFAULT_PATH: &[u8] = b"/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin";

/// Executes `argv[0]` with `argv` and `envp`, both null-terminated arrays
/// borrowed from the initial stack. Returns the errno that explains the
/// failure: a name containing `/` is run as is; a bare name is tried in each
/// PATH directory, remembering EACCES as execvp does.
#[inline(never)] // a large stack frame: keep it out of long-lived callers
pub fn exec_payload(argv: &[CPtr], envp_all: &[CPtr], path_var: Option<&[u8]>) -> Errno {
    let Some(&prog) = argv.first() else {
        return Errno::ENOENT;
    };
    let name = cstr(prog);
    let envp = envp_all.as_ptr();
    if name.is_empty() {
        return Errno::ENOENT;
    }
    if name.contains(&b'/') {
        // SAFETY: argv and envp come from the initial stack, each followed by
        // a null pointer; prog is NUL-terminated.
        return unsafe { sys::execve(prog, argv.as_ptr(), envp) };
    }
    let mut last = Errno::ENOENT;
    let mut saw_eacces = false;
    let mut full = Text::new();
    for dir in search_path(path_var) {
        let Some(path) = candidate(dir, name, &mut full) else {
            last = Errno::ENAMETOOLONG;
            continue;
        };
        // SAFETY: `candidate` wrote a NUL right after `path`.
        let e = unsafe { sys::execve(path.as_ptr(), argv.as_ptr(), envp) };
        match e {
            Errno::EACCES => saw_eacces = true,
            Errno::ENOENT
            | Errno::ENOTDIR
            | Errno::ENAMETOOLONG
            | Errno::ELOOP
            | Errno::ENODEV
            | Errno::ETIMEDOUT
            | Errno::ESTALE => {}
            other => return other,
        }
        last = e;
    }
    if saw_eacces { Errno::EACCES } else { last }
}

/// The directories execvp tries, in order: PATH's entries (`.` for an
/// empty one), or the default path when PATH is unset.
fn search_path(path_var: Option<&[u8]>) -> impl Iterator<Item = &[u8]> {
    path_var
        .unwrap_or(DEFAULT_PATH)
        .split(|&c| c == b':')
        .map(|dir| if dir.is_empty() { b"." as &[u8] } else { dir })
}

/// Writes `DIR/name` and a NUL into `full`; the path without its NUL, or
/// `None` when it does not fit in PATH_MAX.
fn candidate<'t>(
    dir: &[u8],
    name: &[u8],
    full: &'t mut Text<{ sys::PATH_MAX }>,
) -> Option<&'t [u8]> {
    full.clear();
    full.put(dir);
    full.put(b"/");
    full.put(name);
    full.put(b"\0");
    if full.overflowed() {
        return None;
    }
    full.bytes().split_last().map(|(_, path)| path)
}

/// Opens the program `name` for reading as [`exec_payload`] would find it:
/// a name containing `/` as is, a bare name in the first PATH directory that
/// has it. Opening where the caller stands, before any namespace is entered,
/// is what lets the bootstrap execute a host path inside a container.
pub fn open_program(name: &[u8], path_var: Option<&[u8]>) -> Result<sys::OwnedFd, Errno> {
    if name.is_empty() {
        return Err(Errno::ENOENT);
    }
    if name.contains(&b'/') {
        return sys::open(name, linux_raw_sys::general::O_RDONLY);
    }
    open_in_path(name, path_var)
}

/// The PATH search of [`open_program`], apart: its buffer is a page of
/// stack that a program named by its path should not touch.
#[inline(never)]
fn open_in_path(name: &[u8], path_var: Option<&[u8]>) -> Result<sys::OwnedFd, Errno> {
    let mut last = Errno::ENOENT;
    let mut full = Text::new();
    for dir in search_path(path_var) {
        let Some(path) = candidate(dir, name, &mut full) else {
            last = Errno::ENAMETOOLONG;
            continue;
        };
        match sys::open(path, linux_raw_sys::general::O_RDONLY) {
            Ok(fd) => return Ok(fd),
            Err(e @ (Errno::ENOENT | Errno::ENOTDIR | Errno::EACCES | Errno::ENAMETOOLONG)) => {
                last = e
            }
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// Executes the program open at `fd` (close-on-exec) with `argv` and the
/// whole environment, both tails of the initial stack's arrays. Returns the
/// failure.
pub fn exec_opened(fd: sys::RawFd, argv: &[CPtr], envp_all: &[CPtr]) -> Errno {
    // SAFETY: argv and envp are tails of the initial stack's arrays, which
    // the kernel ends with a null pointer; their strings live until exit.
    let exec = || unsafe { sys::execve_fd(fd, argv.as_ptr(), envp_all.as_ptr()) };
    let e = exec();
    // A script's interpreter is handed `/dev/fd/N`, which a close-on-exec
    // descriptor would no longer name, so the kernel refuses that exec with
    // ENOENT before anything has changed. Keep the descriptor open across
    // the exec and try once more; any other ENOENT comes back again.
    if e != Errno::ENOENT || sys::fcntl(fd, linux_raw_sys::general::F_SETFD, 0).is_err() {
        return e;
    }
    exec()
}

/// Most arguments [`exec_args`] passes: a 340-line map split into fields, plus two.
pub const MAX_EXEC_ARGS: usize = 340 * 3 + 2;

/// Executes `prog` (an absolute path) with `prog` as argv[0], then `args`,
/// and an empty environment. Returns the failure.
#[inline(never)] // a large stack frame: keep it out of long-lived callers
pub fn exec_args<'a>(prog: &'a [u8], args: impl Iterator<Item = &'a [u8]>) -> Errno {
    let mut strings: Text<{ 16 * 1024 }> = Text::new();
    let mut offsets: heapless::Vec<usize, { MAX_EXEC_ARGS + 1 }> = heapless::Vec::new();
    for arg in core::iter::once(prog).chain(args) {
        if arg.contains(&0) || offsets.push(strings.len()).is_err() {
            return Errno::E2BIG;
        }
        strings.put(arg);
        strings.put(b"\0");
    }
    if strings.overflowed() {
        return Errno::E2BIG;
    }
    let base = strings.bytes().as_ptr();
    let mut argv: heapless::Vec<CPtr, { MAX_EXEC_ARGS + 2 }> = heapless::Vec::new();
    for &off in offsets.iter() {
        // Offsets are inside `strings`, each the start of a NUL-terminated copy.
        if argv.push(base.wrapping_add(off)).is_err() {
            return Errno::E2BIG;
        }
    }
    if argv.push(core::ptr::null()).is_err() {
        return Errno::E2BIG;
    }
    let envp = [core::ptr::null::<u8>()];
    // SAFETY: argv holds pointers to NUL-terminated strings in `strings`,
    // alive for the call, then a null; envp is just the null.
    unsafe { sys::execve(base, argv.as_ptr(), envp.as_ptr()) }
}

/// The shell's exit code for a failed exec: 127 not found, 126 not runnable.
pub fn exit_code_for(e: Errno) -> i32 {
    match e {
        Errno::ENOENT | Errno::ENOTDIR | Errno::ENAMETOOLONG | Errno::ELOOP => 127,
        _ => 126,
    }
}

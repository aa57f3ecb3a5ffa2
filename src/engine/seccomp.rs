//! Seccomp, both ways: what nsexec itself needs (`--syscalls[=MODES]`, or
//! an OCI profile allowing it, which tools made for JSON merge into
//! another: see the README), and a compiled filter nsexec loads for the
//! program (`--seccomp-bpf`).
#![allow(unsafe_code)]

use crate::errno::Errno;
use crate::fmt::{Arg, Out, Text, parse_dec};
use crate::log::{Fail, OrFail};
use crate::sys::{self, RawFd};
use crate::syscalls::names_in;

/// `nsexec --syscalls[=MODES]`: one name a line.
#[inline(never)] // a large stack frame: keep it out of the run path
pub fn print_syscalls(modes: u8) -> i32 {
    let mut t: Text<2048> = Text::new();
    for name in names_in(modes) {
        t.str(name);
        t.put(b"\n");
    }
    write_out(&t)
}

fn write_out<const N: usize>(t: &Text<N>) -> i32 {
    if !t.overflowed() && sys::write_all(1, t.bytes()).is_ok() {
        0
    } else {
        1
    }
}

/// `"a", "b"` of the names in `modes`, each after `indent`.
fn names_json(t: &mut dyn Out, modes: u8, indent: &str) {
    for (i, name) in names_in(modes).enumerate() {
        t.str(if i == 0 { "" } else { "," });
        t.str(indent);
        t.str("\"");
        t.str(name);
        t.str("\"");
    }
}

/// `nsexec --seccomp-profile[=MODES]`: an OCI profile allowing exactly the
/// calls those modes need, on this architecture.
#[inline(never)] // a large stack frame: keep it out of the run path
pub fn print_profile(modes: u8) -> i32 {
    let mut t: Text<4096> = Text::new();
    t.str("{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"defaultErrnoRet\": 1,\n  \"architectures\": [\"");
    t.str(crate::arch::SECCOMP_ARCH.0);
    t.str("\"],\n  \"syscalls\": [\n    {\n      \"names\": [");
    names_json(&mut t, modes, "\n        ");
    t.str("\n      ],\n      \"action\": \"SCMP_ACT_ALLOW\"\n    }\n  ]\n}\n");
    write_out(&t)
}

/// Reads all of `fd` into `buf`; `None` when it does not fit.
fn read_all(fd: RawFd, buf: &mut [u8]) -> Result<Option<usize>, Errno> {
    let mut n = 0;
    loop {
        let Some(rest) = buf.get_mut(n..).filter(|r| !r.is_empty()) else {
            // Full: one more byte means too large.
            let mut probe = [0u8; 1];
            return match sys::read(fd, &mut probe) {
                Ok(0) => Ok(Some(n)),
                Ok(_) => Ok(None),
                Err(e) => Err(e),
            };
        };
        match sys::read(fd, rest) {
            Ok(0) => return Ok(Some(n)),
            Ok(k) => n += k,
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
}

/// Most instructions the kernel takes in one filter (`BPF_MAXINSNS`).
const MAX_INSNS: usize = 4096;
/// `struct sock_filter`: code u16, jt u8, jf u8, k u32.
const INSN_SIZE: usize = 8;

/// The filter read for `--seccomp-bpf`, loaded just before the exec.
static mut FILTER: [u8; MAX_INSNS * INSN_SIZE] = [0; MAX_INSNS * INSN_SIZE];

/// Reads a compiled classic-BPF filter (`struct sock_filter` array) from a
/// path, or from a descriptor given as a number. Returns its length.
pub fn read_filter(source: &[u8]) -> Result<usize, Fail> {
    // SAFETY: filled here once, before any clone, by the single thread;
    // read back only by `load_filter` after this returned.
    let ptr = &raw mut FILTER;
    let buf = unsafe { &mut *ptr };
    let opened;
    let fd = match parse_dec(source, i32::MAX as u64) {
        Some(n) => n as RawFd,
        None => {
            opened = sys::open(source, linux_raw_sys::general::O_RDONLY)
                .or_fail("open of the seccomp filter", source)?;
            opened.raw()
        }
    };
    let len = read_all(fd, buf)
        .or_fail("read of the seccomp filter", source)?
        .ok_or_else(|| Fail::new("seccomp filter longer than 4096 instructions:").on(source))?;
    if len == 0 || len % INSN_SIZE != 0 {
        return Err(Fail::fill(
            "seccomp filter {} is {} bytes, not a whole number of 8-byte instructions",
            &[Arg::Bytes(source), Arg::Dec(len as u64)],
        ));
    }
    Ok(len)
}

/// Loads the filter [`read_filter`] read, for this process and what it
/// executes. The kernel wants no_new_privs or CAP_SYS_ADMIN.
pub fn load_filter(len: usize) -> Result<(), Fail> {
    #[repr(C)]
    struct SockFprog {
        len: u16,
        filter: *const u8,
    }
    const SECCOMP_MODE_FILTER: usize = 2;
    let prog = SockFprog {
        len: (len / INSN_SIZE) as u16,
        filter: (&raw const FILTER).cast(),
    };
    // SAFETY: prog points at `len` bytes of FILTER, filled by read_filter,
    // for the duration of the call; the kernel copies the filter.
    unsafe {
        sys::prctl3(
            linux_raw_sys::prctl::PR_SET_SECCOMP,
            SECCOMP_MODE_FILTER,
            &raw const prog as usize,
        )
    }
    .map(drop)
    .or_fail("prctl(PR_SET_SECCOMP) of the --seccomp-bpf filter", b"")
}

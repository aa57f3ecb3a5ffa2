//! `nsexec selftest` (built only with `--features selftest`): checks of the
//! arch layer that need a real process on the target architecture, run
//! under qemu-user by `just cross`. Prints one line per check and a closing
//! `N passed, M failed` line; exits non-zero on any failure.

use crate::errno::Errno;
use crate::fmt::{Out, Text};
use crate::rt::Process;
use crate::sys::{self, ExitStatus};

struct Report {
    passed: u64,
    failed: u64,
}

impl Report {
    fn check(&mut self, name: &str, ok: bool) {
        let mut t: Text<128> = Text::new();
        t.str(if ok { "ok   " } else { "FAIL " });
        t.str(name);
        t.put(b"\n");
        let _ = sys::write_all(1, t.as_bytes());
        if ok {
            self.passed += 1
        } else {
            self.failed += 1
        }
    }
}

/// `nsexec console-receiver PATH`: listens at PATH, takes one descriptor
/// from the first connection (what `--console-socket` sends), prints
/// `master /dev/pts/N` if it is a pty master, then everything read from it
/// until the last slave closes.
pub fn console_receiver(p: &Process) -> i32 {
    let Some(path) = p.arg(2) else { return 2 };
    let Ok(listener) = sys::listen_unix(path) else {
        return 1;
    };
    let Ok(conn) = sys::accept(listener.raw()) else {
        return 1;
    };
    let Ok(master) = sys::recv_fd(conn.raw()) else {
        return 1;
    };
    let mut t: Text<64> = Text::new();
    match sys::pty_unlock(master.raw()) {
        Ok(n) => {
            t.str("master /dev/pts/");
            t.dec(u64::from(n));
        }
        Err(_) => t.str("not a pty master"),
    }
    t.put(b"\n");
    let _ = sys::write_all(1, t.as_bytes());
    let mut buf = [0u8; 256];
    while let Ok(n @ 1..) = sys::read(master.raw(), &mut buf) {
        let _ = sys::write_all(1, buf.get(..n).unwrap_or(&[]));
    }
    0
}

/// `nsexec syscall-numbers`: `name number` for every table entry, as
/// compiled for this architecture.
pub fn print_numbers() -> i32 {
    for (name, number) in crate::syscalls::NUMBERED {
        let mut t: Text<64> = Text::new();
        t.str(name);
        t.put(b" ");
        t.dec(u64::from(*number));
        t.put(b"\n");
        if sys::write_all(1, t.as_bytes()).is_err() {
            return 1;
        }
    }
    0
}

/// The selftest build's own modes, by first argument; `None` for the rest.
pub fn dispatch(p: &Process) -> Option<i32> {
    match p.arg(1)? {
        b"selftest" => Some(run(p)),
        b"syscall-numbers" => Some(print_numbers()),
        b"console-receiver" => Some(console_receiver(p)),
        _ => None,
    }
}

pub fn run(p: &Process) -> i32 {
    let mut r = Report {
        passed: 0,
        failed: 0,
    };
    errno_decoding(&mut r);
    clone_trampoline(&mut r);
    fork_like_clone(&mut r);
    memory_intrinsics(&mut r);
    argv_and_env(&mut r, p);
    extra_checks(&mut r);
    let mut t: Text<64> = Text::new();
    t.dec(r.passed);
    t.str(" passed, ");
    t.dec(r.failed);
    t.str(" failed\n");
    let _ = sys::write_all(1, t.as_bytes());
    if r.failed == 0 { 0 } else { 1 }
}

fn errno_decoding(r: &mut Report) {
    r.check(
        "errno: close(-1) is EBADF",
        sys::close(-1) == Err(Errno::EBADF),
    );
    let e = sys::open(b"/nonexistent/nsexec-selftest", 0).err();
    r.check(
        "errno: open of a missing path is ENOENT",
        e == Some(Errno::ENOENT),
    );
    r.check("errno: names decode", Errno::EBADF.name() == Some("EBADF"));
    r.check(
        "errno: kill(pid, 0) of self succeeds",
        sys::kill(sys::getpid(), 0).is_ok(),
    );
}

fn clone_trampoline(r: &mut Report) {
    #[repr(align(16))]
    #[allow(dead_code)] // only its address matters
    struct Aligned(u8);
    /// In a child that `spawn` made: 0 when it runs on the child stack it
    /// was given (lo..hi), 16-byte aligned; 2 or 3 otherwise.
    fn placed(lo: usize, hi: usize) -> i32 {
        // The compiler places this local assuming an ABI-aligned stack at
        // entry; a misaligned child stack shows up as a misaligned address.
        let local = Aligned(7);
        let addr = core::hint::black_box(&local) as *const Aligned as usize;
        let sp = crate::arch::stack_pointer();
        if addr % 16 != 0 {
            return 2;
        }
        if !(sp > lo && sp < hi) {
            return 3;
        }
        0
    }
    let here = crate::arch::stack_pointer();
    let (lo, hi) = sys::child_stack_range(here);
    let child = sys::spawn(0, move || {
        let own = placed(lo, hi);
        if own != 0 {
            return own;
        }
        // Its own child goes on the other stack, as a stage's does.
        let (lo2, hi2) = sys::child_stack_range(crate::arch::stack_pointer());
        let grandchild = sys::spawn(0, move || placed(lo2, hi2) + 40);
        match grandchild.and_then(sys::wait_for) {
            Ok(ExitStatus::Exited(40)) => 42,
            Ok(ExitStatus::Exited(n)) => n.into(),
            _ => 4,
        }
    });
    let st = child.and_then(sys::wait_for);
    r.check(
        "clone: child and grandchild run on nsexec's two stacks, 16-byte aligned, exits 42",
        st == Ok(ExitStatus::Exited(42)),
    );
}

fn fork_like_clone(r: &mut Report) {
    let st = match sys::fork(0) {
        Ok(sys::Forked::Child) => sys::exit(7),
        Ok(sys::Forked::Parent(pid)) => sys::wait_for(pid),
        Err(e) => Err(e),
    };
    r.check(
        "fork: child exits 7, parent reads it with wait4",
        st == Ok(ExitStatus::Exited(7)),
    );
    let st = match sys::fork(0) {
        Ok(sys::Forked::Child) => {
            let _ = sys::kill(sys::getpid(), linux_raw_sys::general::SIGTERM);
            sys::exit(0)
        }
        Ok(sys::Forked::Parent(pid)) => sys::wait_for(pid),
        Err(e) => Err(e),
    };
    r.check(
        "fork: a child killed by SIGTERM reads as signalled",
        st == Ok(ExitStatus::Signaled(15)),
    );
}

fn memory_intrinsics(r: &mut Report) {
    let mut a = [0u8; 300];
    for (i, b) in a.iter_mut().enumerate() {
        *b = i as u8;
    }
    let b = core::hint::black_box(a);
    r.check("mem: copy of 300 bytes", b == a);
    let mut c = core::hint::black_box([1u8; 300]);
    c.copy_within(0..200, 50);
    c.fill(core::hint::black_box(9));
    r.check("mem: fill", c.iter().all(|&x| x == 9));
    let mut d = a;
    d.copy_within(10..110, 20);
    r.check(
        "mem: overlapping move",
        d[20] == 10 && d[119] == 109 && d[19] == 19,
    );
}

fn argv_and_env(r: &mut Report, p: &Process) {
    // `nsexec selftest <arg> ...` with NSEXEC_SELFTEST_ENV set by the caller:
    // echo both, so the host test can compare them with what it passed.
    for i in 2..p.argv.len() {
        let mut t: Text<512> = Text::new();
        t.str("arg ");
        t.put(p.arg(i).unwrap_or(b""));
        t.put(b"\n");
        let _ = sys::write_all(1, t.as_bytes());
    }
    if let Some(v) = p.env(b"NSEXEC_SELFTEST_ENV") {
        let mut t: Text<512> = Text::new();
        t.str("env ");
        t.put(v);
        t.put(b"\n");
        let _ = sys::write_all(1, t.as_bytes());
    }
    r.check("argv: program name present", p.arg(0).is_some());
}

/// Byte-order-sensitive parsing on the architecture itself: the message is
/// built in native order, as runc's Go side writes it.
fn extra_checks(r: &mut Report) {
    use crate::netlink;
    let mut buf = [0u8; 256];
    let mut len = 16;
    let attr = |buf: &mut [u8; 256], len: &mut usize, ty: u16, value: &[u8]| {
        let nla_len = 4 + value.len();
        let at = *len;
        let Some(h) = buf.get_mut(at..at + 4) else {
            return;
        };
        crate::fmt::copy(h, &(nla_len as u16).to_ne_bytes());
        crate::fmt::copy(h.get_mut(2..).unwrap_or(&mut []), &ty.to_ne_bytes());
        if let Some(dst) = buf.get_mut(at + 4..) {
            crate::fmt::copy(dst, value);
        }
        *len = (at + nla_len + 3) & !3;
    };
    let flags = linux_raw_sys::general::CLONE_NEWNET | linux_raw_sys::general::CLONE_NEWUTS;
    attr(
        &mut buf,
        &mut len,
        netlink::CLONE_FLAGS_ATTR,
        &flags.to_ne_bytes(),
    );
    attr(
        &mut buf,
        &mut len,
        netlink::SETGROUP_ATTR,
        &1u32.to_ne_bytes(),
    );
    attr(&mut buf, &mut len, netlink::ROOTLESS_EUID_ATTR, &[1]);
    attr(
        &mut buf,
        &mut len,
        netlink::NS_PATHS_ATTR,
        b"net:/proc/1/ns/net\0",
    );
    let mut header = [0u8; 16];
    crate::fmt::copy(&mut header, &(len as u32).to_ne_bytes());
    crate::fmt::copy(
        header.get_mut(4..).unwrap_or(&mut []),
        &netlink::INIT_MSG.to_ne_bytes(),
    );
    crate::fmt::copy(&mut buf, &header);
    let msg = buf.get(..len).unwrap_or(&[]);
    let parsed = netlink::parse(msg);
    r.check("netlink: native-order message parses", parsed.is_ok());
    if let Ok(cfg) = parsed {
        r.check(
            "netlink: CLONE_FLAGS read as a native u32",
            cfg.clone_flags == flags,
        );
        r.check(
            "netlink: a 4-byte bool 1 is true (runc's C misreads it on big-endian)",
            cfg.setgroups,
        );
        r.check(
            "netlink: a 1-byte bool from older runc is true",
            cfg.rootless_euid,
        );
        let path = cfg.ns_paths.first().map(|p| p.path);
        r.check(
            "netlink: NS_PATHS entry parsed",
            path == Some(&b"/proc/1/ns/net"[..]),
        );
    }
    let mut swapped = header;
    crate::fmt::copy(&mut swapped, &(len as u32).swap_bytes().to_ne_bytes());
    r.check(
        "netlink: a length in the wrong byte order is refused",
        netlink::message_length(&swapped).is_err(),
    );
    let mut ty_swapped = header;
    crate::fmt::copy(
        ty_swapped.get_mut(4..).unwrap_or(&mut []),
        &netlink::INIT_MSG.swap_bytes().to_ne_bytes(),
    );
    r.check(
        "netlink: a type in the wrong byte order is refused",
        netlink::message_length(&ty_swapped).is_err(),
    );
}

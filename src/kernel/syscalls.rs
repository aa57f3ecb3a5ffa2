//! The one table of every system call nsexec can make.
//!
//! [`Sysno`] values exist only for the calls listed here, and the raw entry
//! points below take nothing else, so a call missing from the table cannot be
//! compiled. `nsexec --syscalls` prints [`NAMES`]; the seccomp profile and the
//! strace audit tests are built from the same list. Numbers come from
//! `linux-raw-sys` for the architecture being built; `__NR_` appears nowhere
//! else in the tree.
#![allow(unsafe_code)]

use crate::arch;
use crate::errno::Errno;
use linux_raw_sys::general as nr;

/// The modes nsexec runs in (`--syscalls=MODE`), in a file of their own.
#[path = "mode.rs"]
pub mod mode;

macro_rules! syscall_table {
    ($($name:ident = $number:ident => $modes:expr,)*) => {
        /// A system call listed in the table: its number, and the modes
        /// (bits of [`mode`]) that need it.
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        pub struct Sysno(usize, u8);

        #[allow(non_upper_case_globals, dead_code)]
        impl Sysno {
            $(pub const $name: Sysno = Sysno(nr::$number as usize, { use mode::*; $modes });)*
        }

        /// Every call in the table, by its kernel name, in table order.
        pub const NAMES: crate::kernel::names::Names =
            crate::kernel::names::names![$(stringify!($name)),*];

        /// The modes (bits of [`mode`]) each entry of [`NAMES`] is needed in.
        pub const MODES: &[u8] = {
            use mode::*;
            &[$($modes,)*]
        };

        /// The table with this architecture's numbers, for the selftest
        /// build to print (tests hold them against the kernel's headers).
        #[cfg(feature = "selftest")]
        pub const NUMBERED: &[(&str, u32)] = &[$((stringify!($name), nr::$number),)*];
    };
}

syscall_table! {
    read = __NR_read => ALL & !PID1,
    write = __NR_write => ALL,
    openat = __NR_openat => ALL & !PID1,
    close = __NR_close => ALL & !PID1,
    fcntl = __NR_fcntl => BOOTSTRAP | JOIN,
    dup3 = __NR_dup3 => BOOTSTRAP | CONSOLE | TTY,
    ioctl = __NR_ioctl => BOOTSTRAP | JOIN | CONSOLE | TTY,
    execve = __NR_execve => ALL,
    execveat = __NR_execveat => BOOTSTRAP | JOIN,
    exit_group = __NR_exit_group => ALL,
    clone = __NR_clone => BOOTSTRAP | CREATE | INIT | CONSOLE | DETACH | TTY | PID1,
    wait4 = __NR_wait4 => BOOTSTRAP | CREATE | INIT | CONSOLE | TTY | PID1,
    kill = __NR_kill => BOOTSTRAP | CREATE | INIT | TTY | PID1,
    getpid = __NR_getpid => BOOTSTRAP | CREATE | INIT | CONSOLE | DETACH | TTY,
    getppid = __NR_getppid => BOOTSTRAP | INIT,
    pidfd_open = __NR_pidfd_open => BOOTSTRAP,
    sched_getaffinity = __NR_sched_getaffinity => BOOTSTRAP,
    capget = __NR_capget => BOOTSTRAP,
    capset = __NR_capset => BOOTSTRAP,
    getuid = __NR_getuid => BOOTSTRAP | CREATE | JOIN | INIT | CONSOLE | DETACH | TTY,
    getgid = __NR_getgid => CREATE | JOIN | INIT | CONSOLE | DETACH | TTY,
    prctl = __NR_prctl => BOOTSTRAP | CREATE | JOIN | INIT | CONSOLE | TTY | PID1,
    setns = __NR_setns => BOOTSTRAP | CREATE | JOIN,
    unshare = __NR_unshare => BOOTSTRAP | CREATE,
    setresuid = __NR_setresuid => BOOTSTRAP | CREATE,
    setresgid = __NR_setresgid => BOOTSTRAP | CREATE,
    setgroups = __NR_setgroups => BOOTSTRAP | CREATE,
    setsid = __NR_setsid => BOOTSTRAP | CONSOLE | TTY,
    setpgid = __NR_setpgid => INIT | PID1,
    socketpair = __NR_socketpair => BOOTSTRAP | CREATE | DETACH,
    socket = __NR_socket => CONSOLE,
    connect = __NR_connect => CONSOLE,
    sendmsg = __NR_sendmsg => BOOTSTRAP | CONSOLE,
    recvmsg = __NR_recvmsg => BOOTSTRAP,
    rt_sigprocmask = __NR_rt_sigprocmask => CREATE | INIT | CONSOLE | DETACH | TTY | PID1,
    rt_sigtimedwait = __NR_rt_sigtimedwait => CREATE | INIT | CONSOLE | PID1,
    memfd_create = __NR_memfd_create => BOOTSTRAP | JOIN,
    sendfile = __NR_sendfile => BOOTSTRAP | JOIN,
    fchmod = __NR_fchmod => BOOTSTRAP,
    fstatfs = __NR_fstatfs => BOOTSTRAP,
    fsopen = __NR_fsopen => BOOTSTRAP,
    fsconfig = __NR_fsconfig => BOOTSTRAP,
    fsmount = __NR_fsmount => BOOTSTRAP,
    mount = __NR_mount => CREATE,
    sethostname = __NR_sethostname => CREATE,
    readlinkat = __NR_readlinkat => BOOTSTRAP | JOIN,
    renameat2 = __NR_renameat2 => DETACH,
    unlinkat = __NR_unlinkat => DETACH,
    ppoll = __NR_ppoll => BOOTSTRAP | TTY,
    signalfd4 = __NR_signalfd4 => TTY,
    madvise = __NR_madvise => INIT | PID1,
}

impl Sysno {
    /// The number to make the call with. A build makes only the calls its
    /// modes need (kernel/mode.rs `BUILD`): in a release build of the
    /// product the test below is folded away for those, and for any other
    /// it leaves a call to a symbol that exists nowhere, so a role build
    /// whose reachable code makes a call outside its modes (a bootstrap
    /// build reaching `mount`) does not link. Unreachable code is gone by
    /// then; what links is the build's surface, as `--syscalls` prints it.
    #[inline(always)]
    fn number(self) -> usize {
        #[cfg(all(not(test), not(debug_assertions), not(feature = "selftest")))]
        if self.1 & mode::BUILD == 0 {
            unsafe extern "C" {
                fn nsexec_build_makes_a_call_outside_its_modes() -> !;
            }
            // SAFETY: never linked; a build that reaches here does not link.
            unsafe { nsexec_build_makes_a_call_outside_its_modes() }
        }
        self.0
    }
}

/// Calls only the selftest variant makes (the VM runner's console-socket
/// receiver). They are not in [`NAMES`]: the product binary cannot make them.
#[cfg(feature = "selftest")]
#[allow(non_upper_case_globals)]
impl Sysno {
    pub const bind: Sysno = Sysno(nr::__NR_bind as usize, mode::ALL);
    pub const listen: Sysno = Sysno(nr::__NR_listen as usize, mode::ALL);
    pub const accept4: Sysno = Sysno(nr::__NR_accept4 as usize, mode::ALL);
}

/// This build's entries of [`NAMES`] (those [`mode::BUILD`] needs), packed
/// as [`NAMES`] is: a role build's `--syscalls` prints them, and carries
/// no other call's name.
pub const BUILT: crate::kernel::names::Names = {
    const fn kept() -> (usize, usize) {
        let (mut bytes, mut count, mut i) = (0, 0, 0);
        while i < MODES.len() {
            if MODES[i] & mode::BUILD != 0 {
                bytes += NAMES.len_of(i);
                count += 1;
            }
            i += 1;
        }
        (bytes, count)
    }
    const SIZES: (usize, usize) = kept();
    const PACKED: ([u8; SIZES.0], [u8; SIZES.1]) = {
        let (mut all, mut lens) = ([0u8; SIZES.0], [0u8; SIZES.1]);
        let (mut at, mut k, mut i) = (0, 0, 0);
        while i < MODES.len() {
            if MODES[i] & mode::BUILD != 0 {
                let name = NAMES.get(i);
                let mut j = 0;
                while j < name.len() {
                    all[at] = name[j];
                    at += 1;
                    j += 1;
                }
                lens[k] = name.len() as u8;
                k += 1;
            }
            i += 1;
        }
        (all, lens)
    };
    const ALL: &str = match core::str::from_utf8(&PACKED.0) {
        Ok(s) => s,
        Err(_) => panic!("the syscall names are ASCII"),
    };
    crate::kernel::names::Names::new(ALL, &PACKED.1)
};

/// The names of the entries any of `modes` needs, in table order.
pub fn names_in(modes: u8) -> impl Iterator<Item = &'static str> {
    NAMES
        .iter()
        .zip(MODES)
        .filter(move |(_, m)| **m & modes != 0)
        .map(|(n, _)| n)
}

/// Decodes the kernel's convention (-4095..-1 is -errno) into a `Result`.
#[inline(always)]
fn decode(raw: usize) -> Result<usize, Errno> {
    if raw > (-4096isize) as usize {
        Err(Errno::from_raw(raw.wrapping_neg() as u16))
    } else {
        Ok(raw)
    }
}

/// # Safety
/// The call and its arguments must be valid: pointers point to memory of the
/// size the kernel will read or write, descriptors are owned as the call expects.
#[inline(always)]
pub unsafe fn sc0(n: Sysno) -> Result<usize, Errno> {
    // SAFETY: forwarded to the caller.
    decode(unsafe { arch::syscall0(n.number()) })
}

/// # Safety
/// See [`sc0`].
#[inline(always)]
pub unsafe fn sc1(n: Sysno, a: usize) -> Result<usize, Errno> {
    // SAFETY: forwarded to the caller.
    decode(unsafe { arch::syscall1(n.number(), a) })
}

/// # Safety
/// See [`sc0`].
#[inline(always)]
pub unsafe fn sc2(n: Sysno, a: usize, b: usize) -> Result<usize, Errno> {
    // SAFETY: forwarded to the caller.
    decode(unsafe { arch::syscall2(n.number(), a, b) })
}

/// # Safety
/// See [`sc0`].
#[inline(always)]
pub unsafe fn sc3(n: Sysno, a: usize, b: usize, c: usize) -> Result<usize, Errno> {
    // SAFETY: forwarded to the caller.
    decode(unsafe { arch::syscall3(n.number(), a, b, c) })
}

/// # Safety
/// See [`sc0`].
#[inline(always)]
pub unsafe fn sc4(n: Sysno, a: usize, b: usize, c: usize, d: usize) -> Result<usize, Errno> {
    // SAFETY: forwarded to the caller.
    decode(unsafe { arch::syscall4(n.number(), a, b, c, d) })
}

/// # Safety
/// See [`sc0`].
#[inline(always)]
pub unsafe fn sc5(
    n: Sysno,
    a: usize,
    b: usize,
    c: usize,
    d: usize,
    e: usize,
) -> Result<usize, Errno> {
    // SAFETY: forwarded to the caller.
    decode(unsafe { arch::syscall5(n.number(), a, b, c, d, e) })
}

/// # Safety
/// See [`sc0`].
#[inline(always)]
#[allow(dead_code)] // part of the 0..6 set; no call needs six arguments yet
pub unsafe fn sc6(
    n: Sysno,
    a: usize,
    b: usize,
    c: usize,
    d: usize,
    e: usize,
    f: usize,
) -> Result<usize, Errno> {
    // SAFETY: forwarded to the caller.
    decode(unsafe { arch::syscall6(n.number(), a, b, c, d, e, f) })
}

/// `clone(2)` with a new stack; see `arch::clone_on_stack`.
///
/// # Safety
/// As for `arch::clone_on_stack`.
pub unsafe fn clone_on_stack(
    flags: usize,
    stack_top: *mut u8,
    parent_tid: usize,
    entry: extern "C" fn(usize) -> !,
    arg: usize,
) -> Result<usize, Errno> {
    // SAFETY: forwarded to the caller.
    decode(unsafe {
        arch::clone_on_stack(
            Sysno::clone.number(),
            flags,
            stack_top,
            parent_tid,
            entry,
            arg,
        )
    })
}

/// A fork-like `clone(2)` without a new stack (each arch orders the arguments).
///
/// # Safety
/// `flags` must not share memory (no CLONE_VM): the child returns through
/// the caller's frames on its own copy of the stack.
pub unsafe fn clone_fork(flags: usize) -> Result<usize, Errno> {
    // SAFETY: forwarded to the caller.
    decode(unsafe { arch::clone_fork(Sysno::clone.number(), flags) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_maps_the_error_range_to_errno() {
        assert_eq!(decode(0), Ok(0));
        assert_eq!(decode(4096), Ok(4096));
        assert_eq!(decode((-1isize) as usize), Err(Errno::EPERM));
        assert_eq!(decode((-4095isize) as usize), Err(Errno::from_raw(4095)));
        assert_eq!(decode((-4096isize) as usize), Ok((-4096isize) as usize));
    }

    #[test]
    fn names_are_unique() {
        for (i, a) in NAMES.iter().enumerate() {
            assert!(
                !NAMES.iter().skip(i + 1).any(|b| b == a),
                "{a} listed twice"
            );
        }
        assert_eq!(NAMES.len(), MODES.len());
    }

    #[test]
    fn raw_getpid_matches_std() {
        // SAFETY: getpid takes no arguments.
        let pid = unsafe { sc0(Sysno::getpid) }.unwrap();
        assert_eq!(pid as u32, std::process::id());
    }
}

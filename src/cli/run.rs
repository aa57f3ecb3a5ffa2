//! The command-line mode: turns `cli::Cli` into the same `Config` the
//! bootstrap message gives, enters the namespaces with the same engine, and
//! runs the payload in the foreground or as its init.
#![allow(unsafe_code)]

use crate::cli::args::{self as cli, Action, Cli, Ranges};
use crate::cli::role;
use crate::cli::setup;
use crate::config::Config;
use crate::errno::Errno;
use crate::exec;
use crate::fmt::{Out, Text};
use crate::init::{self, Supervise};
use crate::log::{self, Fail, OrFail};
use crate::namespaces::{self, Mapper};
use crate::pidfile::PidFile;
use crate::rt::Process;
use crate::sync;
use crate::sys::{self, ExitStatus, OwnedFd, Pid, SigSet};
use heapless::Vec;
use linux_raw_sys::general as g;

/// Most arguments nsexec looks at before the program. The program's own
/// arguments are never copied: they go to execve from the initial stack.
const MAX_ARGS: usize = 256;

pub fn run(p: &Process) -> i32 {
    let (args, cli, ranges) = command_line();
    for i in 1..p.argv.len() {
        if args.push(p.arg(i).unwrap_or(b"")).is_err() {
            break;
        }
    }
    let truncated = p.argv.len().saturating_sub(1) > MAX_ARGS;
    // Lines under an init's name, and the init's alone, are cli::pid1's.
    match cli::parse_into(cli, ranges, args) {
        Ok(()) => {}
        Err(cli::CliError::NoProgram) if truncated => {
            return role::say(&|t| t.str("more than 256 options before the program"), true);
        }
        Err(e) => return role::say(&|t| e.describe(t), true),
    }
    let (cli, ranges): (&'static Cli<'static>, &'static Ranges) = (cli, ranges);
    match cli.action {
        Action::Help => print(cli::USAGE.as_bytes()),
        Action::Version => print(concat!("nsexec ", env!("CARGO_PKG_VERSION"), "\n").as_bytes()),
        Action::Syscalls(modes) => crate::seccomp::print_syscalls(modes),
        Action::SeccompProfile(modes) => crate::seccomp::print_profile(modes),
        Action::Pause => init::pause_forever(),
        Action::Run => match execute(p, cli, ranges) {
            Ok(code) => code,
            Err(f) => log::report(f),
        },
    }
}

fn print(b: &[u8]) -> i32 {
    if sys::write_all(1, b).is_ok() { 0 } else { 1 }
}

/// The arguments and what they ask for, in .bss too: a long-lived init
/// reads a few fields of them, and keeps no deep stack frame for them.
static mut ARGS: Vec<&'static [u8], MAX_ARGS> = Vec::new();
static mut CLI: Cli<'static> = Cli::EMPTY;
static mut RANGES: Ranges = Ranges::EMPTY;

fn command_line() -> (
    &'static mut Vec<&'static [u8], MAX_ARGS>,
    &'static mut Cli<'static>,
    &'static mut Ranges,
) {
    let (args, cli, ranges) = (&raw mut ARGS, &raw mut CLI, &raw mut RANGES);
    // SAFETY: called once, by `run`, in a single-threaded process; no other
    // reference to ARGS, CLI or RANGES exists.
    unsafe { (&mut *args, &mut *cli, &mut *ranges) }
}

fn execute(p: &Process, cli: &'static Cli<'static>, ranges: &Ranges) -> Result<i32, Fail> {
    if cli.target.is_some() || cli.joined().next().is_some() {
        crate::hardening::reexec_for_join(p)?;
    }
    // Without a terminal to relay, --tty fails before anything is made.
    let outer = if cli.tty && cli.console_socket.is_none() {
        Some(crate::tty::outer_terminal()?)
    } else {
        None
    };
    // Read where the caller stands, before any namespace is entered.
    let filter = match cli.seccomp_bpf {
        Some(source) => Some(crate::seccomp::read_filter(source)?),
        None => None,
    };
    let pid_file = match cli.pid_file {
        Some(path) => Some(PidFile::create(path)?),
        None => None,
    };
    let uid = sys::getuid();
    let gid = sys::getgid();
    let mut cfg = setup::build(cli, ranges, uid, gid)?;
    let creates_user = cfg.clone_flags & g::CLONE_NEWUSER != 0;
    let itself = creates_user && setup::self_mappable(&cfg, uid, gid, cli.setgroups);
    if itself {
        // The kernel lets the namespace's creator write one line of its own
        // ids, and the gid map only once setgroups is denied.
        cfg.rootless_euid = true;
        cfg.setgroups = false;
    }
    if let Some(sig) = cli.pdeathsig {
        sys::set_pdeathsig(sig).or_fail("prctl(PR_SET_PDEATHSIG)", b"")?;
    }
    if let Some(oom) = cfg.oom_score_adj {
        namespaces::write_oom_score_adj(oom)?;
    }
    if !cfg.ns_paths.is_empty() {
        // In namespaces someone else created, nothing there may ptrace or
        // read us; the payload's exec makes it dumpable again as usual.
        sys::set_dumpable(false).or_fail("prctl(PR_SET_DUMPABLE, 0)", b"")?;
    }
    if creates_user && !itself {
        enter_with_helper(&cfg)?;
    } else {
        namespaces::enter(&cfg, Mapper::Itself)?;
    }
    if creates_user {
        finish_user_namespace(&cfg)?;
    }
    if cfg.clone_flags & g::CLONE_NEWNS != 0 {
        // As unshare(1) does: mounts made inside must not leak back out.
        sys::mount(c"none", c"/", c"", g::MS_REC | g::MS_PRIVATE)
            .or_fail("mount / MS_REC|MS_PRIVATE", b"")?;
    }
    if let Some(name) = cli.hostname {
        sys::sethostname(name).or_fail("sethostname", name)?;
    }
    let console = match cli.console_socket {
        Some(path) => Some(open_console(path)?),
        None => None,
    };
    // The pty is made inside the namespaces, as the console socket's is,
    // and nsexec's terminal goes raw before the payload exists, so a
    // failure here leaves no payload behind; the guard restores it on
    // every way out of this function.
    let (pty, _raw) = match outer {
        Some(saved) => (
            Some(crate::tty::open_pty()?),
            Some(crate::tty::RawMode::enter(saved)?),
        ),
        None => (None, None),
    };
    let in_new_pidns =
        cfg.clone_flags & g::CLONE_NEWPID != 0 || cfg.joined_flags() & g::CLONE_NEWPID != 0;
    let needs_child = in_new_pidns
        || cli.init
        || cli.kill_child.is_some()
        || console.is_some()
        || pty.is_some()
        || cli.detach;
    // With --detach the child reports on this socket whether the program
    // could be executed; its end closes on a successful exec.
    let exec_watch = if cli.detach {
        Some(sys::socketpair().or_fail("socketpair for --detach", b"")?)
    } else {
        None
    };
    let payload = Payload {
        p,
        cli,
        console: console.as_ref().or(pty.as_ref()).map(|c| c.raw()),
        old_mask: 0,
        filter,
        exec_report: exec_watch.as_ref().map(|(_, report)| report.raw()),
        detach: cli.detach,
    };
    if !needs_child {
        if let Some(f) = pid_file {
            f.commit(sys::getpid())?;
        }
        return Err(payload.exec());
    }
    let old_mask = init::block_signals()?;
    let payload = Payload {
        old_mask,
        ..payload
    };
    if cli.init && !in_new_pidns {
        sys::prctl(linux_raw_sys::prctl::PR_SET_CHILD_SUBREAPER, 1)
            .or_fail("prctl(PR_SET_CHILD_SUBREAPER)", b"")?;
    }
    let me = sys::getpid();
    let child = sys::spawn(0, || child_main(&payload, me, in_new_pidns))
        .or_fail("clone of the payload", b"")?;
    drop(console);
    if let Some((watch, report)) = exec_watch {
        report
            .close()
            .or_fail("close of the child's end of the --detach socket", b"")?;
        let mut errno = [0u8; 4];
        return match sys::read_exact(watch.raw(), &mut errno) {
            // Closed on exec: the program runs; leave it.
            Ok(false) => {
                if let Some(f) = pid_file {
                    f.commit(child)?;
                }
                Ok(0)
            }
            // The child said why it could not execute the program.
            Ok(true) => Ok(exec::exit_code_for(Errno::from_raw(
                i32::from_ne_bytes(errno) as u16,
            ))),
            Err(e) => Err(Fail::new("read of the --detach socket").errno(e)),
        };
    }
    if let Some(f) = pid_file {
        f.commit(child)?;
    }
    let group = cli.init_group && cli.init && !in_new_pidns;
    if cli.init && pty.is_none() {
        init::supervise_forever(child, group, &cli.remap_exit);
    }
    let s = Supervise { child, group };
    let status = match &pty {
        Some(master) => crate::tty::relay(master.raw(), &s)?,
        None => init::supervise(&s)?,
    };
    Ok(init::remapped(status, &cli.remap_exit))
}

/// Maps the new user namespace from a helper that stays outside it.
#[inline(never)] // a large stack frame: keep it out of long-lived callers
fn enter_with_helper(cfg: &Config<'_>) -> Result<(), Fail> {
    let (ours, theirs) = sys::socketpair().or_fail("socketpair for the mapping helper", b"")?;
    let me = sys::getpid();
    let helper_fd = theirs.raw();
    let ours_fd = ours.raw();
    let helper = sys::spawn(0, || {
        let _ = sys::close(ours_fd);
        serve_mappings(helper_fd, me, cfg)
    })
    .or_fail("clone of the mapping helper", b"")?;
    drop(theirs);
    let entered = namespaces::enter(cfg, Mapper::Outside(ours.raw()));
    drop(ours);
    let helped = sys::wait_for(helper);
    entered?;
    match helped {
        Ok(ExitStatus::Exited(0)) => Ok(()),
        Ok(_) => Err(Fail::new("the mapping helper failed")),
        Err(e) => Err(Fail::new("wait4 for the mapping helper").errno(e)),
    }
}

fn serve_mappings(fd: sys::RawFd, target: Pid, cfg: &Config<'_>) -> i32 {
    loop {
        let msg = match sync::recv(fd) {
            Ok(m) => m,
            Err(sync::RecvError::Closed) => return 0,
            Err(_) => return 1,
        };
        match namespaces::answer(fd, msg, target, cfg) {
            Ok(true) => {}
            Ok(false) => return 1,
            Err(f) => return log::report(f),
        }
    }
}

/// After the maps: become root inside where root is mapped, and drop the
/// supplementary groups when setgroups is allowed.
fn finish_user_namespace(cfg: &Config<'_>) -> Result<(), Fail> {
    if namespaces::maps_inner_zero(cfg.gid_map) {
        sys::setresgid(0, 0, 0).or_fail("setresgid(0, 0, 0)", b"")?;
    }
    if cfg.setgroups && !cfg.rootless_euid {
        sys::clear_groups().or_fail("setgroups(0, NULL)", b"")?;
    }
    Ok(())
}

/// Opens a pty master inside the namespaces and sends it, with the slave's
/// path as the data, to the unix socket at `path`.
#[inline(never)] // a large stack frame: keep it out of long-lived callers
fn open_console(path: &[u8]) -> Result<OwnedFd, Fail> {
    let (master, n) = crate::tty::open_master(0)?;
    let mut name: Text<32> = Text::new();
    name.str("/dev/pts/");
    name.dec(u64::from(n));
    let sock = sys::socket_unix_stream().or_fail("socket", b"")?;
    sys::connect_unix(sock.raw(), path).or_fail("connect to the console socket", path)?;
    sys::send_fd(sock.raw(), name.bytes(), master.raw())
        .or_fail("sendmsg of the pty master to", path)?;
    Ok(master)
}

struct Payload<'p> {
    p: &'p Process,
    cli: &'static Cli<'static>,
    console: Option<sys::RawFd>,
    old_mask: SigSet,
    /// Length of the `--seccomp-bpf` filter to load just before the exec.
    filter: Option<usize>,
    /// With `--detach`: where to report an exec failure (errno, native).
    exec_report: Option<sys::RawFd>,
    detach: bool,
}

impl Payload<'_> {
    fn argv_start(&self) -> usize {
        self.cli.payload + 1
    }

    /// Last steps in the payload's own process, then exec. Returns the failure.
    fn exec(&self) -> Fail {
        if self.cli.no_new_privs {
            if let Err(e) = sys::prctl(linux_raw_sys::prctl::PR_SET_NO_NEW_PRIVS, 1) {
                return Fail::new("prctl(PR_SET_NO_NEW_PRIVS)").errno(e);
            }
        }
        if let Some(len) = self.filter {
            if let Err(f) = crate::seccomp::load_filter(len) {
                return f;
            }
        }
        let start = self.argv_start();
        let argv = self.p.argv.get(start..).unwrap_or(&[]);
        let e = exec::exec_payload(argv, self.p.envp, self.p.env(b"PATH"));
        if let Some(fd) = self.exec_report {
            let _ = sys::write_all(fd, &i32::from(e.raw()).to_ne_bytes());
        }
        Fail::new("execve")
            .on(self.p.arg(start).unwrap_or(b""))
            .errno(e)
            .with_code(exec::exit_code_for(e))
    }
}

/// The first process inside a new pid namespace (or the foreground child).
fn child_main(pl: &Payload<'_>, parent: Pid, in_new_pidns: bool) -> i32 {
    match child_steps(pl, parent, in_new_pidns) {
        Ok(code) => code,
        Err(f) => log::report(f),
    }
}

fn child_steps(pl: &Payload<'_>, parent: Pid, in_new_pidns: bool) -> Result<i32, Fail> {
    if let Some(sig) = pl.cli.kill_child {
        sys::set_pdeathsig(sig).or_fail("prctl(PR_SET_PDEATHSIG)", b"")?;
        // Outside a new pid namespace, a changed parent means it already died.
        if !in_new_pidns && sys::getppid().or_fail("getppid", b"")? != parent {
            return Err(Fail::new("nsexec exited during set-up"));
        }
    }
    if pl.cli.mount_proc {
        sys::mount(
            c"proc",
            c"/proc",
            c"proc",
            g::MS_NOSUID | g::MS_NODEV | g::MS_NOEXEC,
        )
        .or_fail("mount proc on", b"/proc")?;
    }
    if let Some(master) = pl.console {
        attach_console(master)?;
    }
    if pl.cli.init && in_new_pidns {
        // PID 1 of the new namespace: supervise the payload from here. This
        // init is nsexec's, not the user's: it does not outlive nsexec, and
        // its end takes the whole namespace with it.
        // Detached, it outlives nsexec: it ends when its program does.
        if pl.cli.kill_child.is_none() && !pl.detach {
            sys::set_pdeathsig(g::SIGKILL).or_fail("prctl(PR_SET_PDEATHSIG)", b"")?;
        }
        let me = sys::getpid();
        let payload = sys::spawn(0, || run_payload(pl, me)).or_fail("clone of the payload", b"")?;
        if let Some(fd) = pl.exec_report {
            // Only the program's copy may hold it open until its exec.
            let _ = sys::close(fd);
        }
        init::supervise_forever(payload, pl.cli.init_group, &pl.cli.remap_exit);
    }
    Err(start_payload(pl))
}

fn run_payload(pl: &Payload<'_>, _init: Pid) -> i32 {
    log::report(start_payload(pl))
}

fn start_payload(pl: &Payload<'_>) -> Fail {
    if pl.cli.init_group {
        if let Err(e) = sys::setpgid(0, 0) {
            return Fail::new("setpgid").errno(e);
        }
    }
    if let Err(e) = sys::set_sigmask(pl.old_mask) {
        return Fail::new("rt_sigprocmask").errno(e);
    }
    pl.exec()
}

/// Makes the pty behind `master` this process's controlling terminal and
/// its stdin, stdout and stderr.
fn attach_console(master: sys::RawFd) -> Result<(), Fail> {
    sys::setsid().or_fail("setsid", b"")?;
    let slave = sys::pty_peer(master).or_fail("ioctl(TIOCGPTPEER)", b"")?;
    sys::set_controlling_tty(slave.raw()).or_fail("ioctl(TIOCSCTTY)", b"")?;
    for fd in 0..3 {
        sys::dup3(slave.raw(), fd, 0).or_fail("dup3 of the pty", b"")?;
    }
    Ok(())
}

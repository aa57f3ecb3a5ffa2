//! From the command line to the engine's `Config`: the id maps, the paths
//! to join (`--target` resolved like `nsenter -a`), time offsets and the
//! OOM score, written as the `/proc` files want them.
#![allow(unsafe_code)]

use crate::cli::args::{self as cli, Cli, IdMapSpec, Ranges};
use crate::cli::values;
use crate::config::{Config, NsPath, NsType};
use crate::errno::Errno;
use crate::fmt::{Arg, Out, Text};
use crate::log::{Fail, OrFail};
use crate::namespaces;
use crate::sys;
use linux_raw_sys::general as g;

/// Text the `Config` borrows: the command line gives numbers and names, the
/// engine wants `/proc` file contents and paths. The small fields come
/// first and both maps share one buffer (`repr(C)` keeps that order), so
/// a configuration of a few short lines touches one page of it.
#[repr(C)]
struct Storage {
    ns_paths: [Text<40>; 8],
    time: Text<96>,
    oom: Text<16>,
    /// The uid map's lines, then the gid map's: at most 340 lines each.
    maps: Text<{ 2 * 340 * 34 }>,
}

impl Storage {
    const fn new() -> Storage {
        Storage {
            ns_paths: [const { Text::new() }; 8],
            time: Text::new(),
            oom: Text::new(),
            maps: Text::new(),
        }
    }
}

/// The one `Storage`, in .bss: its pages are touched only as far as they are
/// written, so a long-lived init does not carry 24 KiB of zeroed maps.
static mut STORAGE: Storage = Storage::new();

fn storage() -> &'static mut Storage {
    let p = &raw mut STORAGE;
    // SAFETY: called once, by `build`, in a single-threaded process; no
    // other reference to STORAGE exists.
    unsafe { &mut *p }
}

/// The configuration the command line asks for, its text kept in STORAGE.
/// Called once.
pub fn build(
    cli: &Cli<'static>,
    ranges: &Ranges,
    uid: u32,
    gid: u32,
) -> Result<Config<'static>, Fail> {
    let st = storage();
    let Storage {
        ns_paths,
        time,
        oom,
        maps,
    } = st;
    let mut cfg = Config {
        clone_flags: cli.create,
        ..Config::default()
    };
    for (ns, path) in cli.joined() {
        push_path(&mut cfg, ns, path)?;
    }
    if let Some(pid) = cli.target {
        resolve_target(&mut cfg, pid, cli.target_types, ns_paths)?;
    }
    if cfg.clone_flags & g::CLONE_NEWUSER != 0 {
        let (subuid, subgid) =
            if matches!(cli.uid_map, IdMapSpec::Auto) || matches!(cli.gid_map, IdMapSpec::Auto) {
                subordinate_ranges(uid)?
            } else {
                (None, None)
            };
        cli::write_map(&cli.uid_map, &ranges.uid, uid, subuid, maps).map_err(|e| cli_fail(&e))?;
        let uid_end = maps.len();
        cli::write_map(&cli.gid_map, &ranges.gid, gid, subgid, maps).map_err(|e| cli_fail(&e))?;
        let maps: &'static Text<_> = maps;
        let lines = maps.bytes();
        if !matches!(cli.uid_map, IdMapSpec::None) {
            cfg.uid_map = lines.get(..uid_end);
        }
        if !matches!(cli.gid_map, IdMapSpec::None) {
            cfg.gid_map = lines.get(uid_end..);
        }
        cfg.setgroups = cli.setgroups.unwrap_or(true);
        cfg.rootless_euid = uid != 0;
        if uid != 0 {
            cfg.uidmap_path = Some(b"/usr/bin/newuidmap");
            cfg.gidmap_path = Some(b"/usr/bin/newgidmap");
        }
    }
    if cli.monotonic.is_some() || cli.boottime.is_some() {
        for (name, v) in [("monotonic", cli.monotonic), ("boottime", cli.boottime)] {
            if let Some(secs) = v {
                time.str(name);
                time.put(b" ");
                time.int(secs);
                time.put(b" 0\n");
            }
        }
        cfg.time_offsets = Some(time.bytes());
    }
    if let Some(v) = cli.oom_score_adj {
        oom.put(v);
        cfg.oom_score_adj = Some(oom.bytes());
    }
    Ok(cfg)
}

fn cli_fail(e: &cli::CliError) -> Fail {
    let mut f = Fail::new("");
    e.describe(f.text());
    f
}

fn push_path<'s>(cfg: &mut Config<'s>, ns: NsType, path: &'s [u8]) -> Result<(), Fail> {
    if cfg.ns_paths.iter().any(|p| p.ns == ns) {
        let name = [Arg::Bytes(ns.name().as_bytes())];
        return Err(Fail::fill("namespace given twice: {}", &name));
    }
    cfg.ns_paths
        .push(NsPath { ns, path })
        .map_err(|_| Fail::new("too many namespaces to join"))
}

/// Adds `/proc/PID/ns/<type>` for each type asked for (or, with none asked,
/// each that differs from ours), like `nsenter -a`.
#[inline(never)] // a large stack frame: keep it out of long-lived callers
fn resolve_target<'s>(
    cfg: &mut Config<'s>,
    pid: i32,
    types: u32,
    paths: &'s mut [Text<40>; 8],
) -> Result<(), Fail> {
    let mut pid_ns = namespaces::proc_path(pid, "ns/pid");
    let mut link = [0u8; 64];
    if sys::readlink(pid_ns.as_bytes(), &mut link).is_err() {
        let pid = [Arg::Dec(u64::from(pid.unsigned_abs()))];
        return Err(Fail::fill("no such process: {}", &pid));
    }
    for (t, slot) in NsType::ALL.into_iter().zip(paths.iter_mut()) {
        if types != 0 && types & t.flag() == 0 {
            continue;
        }
        slot.clear();
        slot.put(b"/proc/");
        slot.int(i64::from(pid));
        slot.put(b"/ns/");
        slot.str(t.name());
        let mut theirs = [0u8; 64];
        let mut ours = [0u8; 64];
        let their_link = match sys::readlink(slot.bytes(), &mut theirs) {
            Ok(l) => l,
            // An older kernel without this namespace type: nothing to join.
            Err(Errno::ENOENT) if types == 0 => continue,
            Err(e) => return Err(Fail::new("read of").on(slot.bytes()).errno(e)),
        };
        let own = namespaces::proc_path(0, "ns/");
        let mut own_path: Text<40> = Text::new();
        own_path.put(own.bytes());
        own_path.str(t.name());
        let same = sys::readlink(own_path.bytes(), &mut ours).is_ok_and(|l| l == their_link);
        // Joining our own user namespace is refused by the kernel; joining
        // any other namespace we are already in is pointless.
        if same && (types == 0 || t == NsType::User) {
            continue;
        }
        let path: &'s [u8] = slot.bytes();
        push_path(cfg, t, path)?;
    }
    Ok(())
}

/// A subordinate id range: start and count.
type Range = (u32, u32);

/// The caller's ranges from /etc/subuid and /etc/subgid (by name or uid).
#[inline(never)] // a large stack frame: keep it out of long-lived callers
fn subordinate_ranges(uid: u32) -> Result<(Option<Range>, Option<Range>), Fail> {
    let mut passwd = [0u8; 16 * 1024];
    let passwd = read_file(b"/etc/passwd", &mut passwd)?;
    let name = values::user_name(passwd, uid).unwrap_or(b"");
    let mut buf = [0u8; 16 * 1024];
    let subuid = values::subid_range(read_file(b"/etc/subuid", &mut buf)?, name, uid);
    let subgid = values::subid_range(read_file(b"/etc/subgid", &mut buf)?, name, uid);
    if subuid.is_none() || subgid.is_none() {
        return Err(Fail::new(
            "no subordinate id range for this user in /etc/subuid and /etc/subgid",
        ));
    }
    Ok((subuid, subgid))
}

#[inline(never)] // a large stack frame: keep it out of long-lived callers
fn read_file<'b>(path: &[u8], buf: &'b mut [u8]) -> Result<&'b [u8], Fail> {
    let fd = sys::open(path, g::O_RDONLY).or_fail("open", path)?;
    let mut got = 0;
    loop {
        let rest = buf.get_mut(got..).unwrap_or(&mut []);
        if rest.is_empty() {
            return Err(Fail::new("file too large for nsexec's buffer:").on(path));
        }
        match sys::read(fd.raw(), rest) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(Errno::EINTR) => {}
            Err(e) => return Err(Fail::new("read of").on(path).errno(e)),
        }
    }
    Ok(buf.get(..got).unwrap_or(&[]))
}

/// A single line mapping the caller's own id: the new namespace's creator
/// may write that itself.
pub fn self_mappable(cfg: &Config<'_>, uid: u32, gid: u32, setgroups: Option<bool>) -> bool {
    fn single_own(map: Option<&[u8]>, id: u32) -> bool {
        let Some(map) = map else { return true };
        let mut lines = map.split(|&c| c == b'\n').filter(|l| !l.is_empty());
        let (Some(line), None) = (lines.next(), lines.next()) else {
            return false;
        };
        let mut f = line.split(|&c| c == b' ').filter(|x| !x.is_empty());
        let (_, outer, count) = (f.next(), f.next(), f.next());
        outer.and_then(|o| crate::fmt::parse_dec(o, u64::from(u32::MAX))) == Some(u64::from(id))
            && count.and_then(|c| crate::fmt::parse_dec(c, u64::from(u32::MAX))) == Some(1)
    }
    setgroups != Some(true) && single_own(cfg.uid_map, uid) && single_own(cfg.gid_map, gid)
}

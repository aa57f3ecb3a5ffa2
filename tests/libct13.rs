//! runc 1.3.6's libcontainer drives nsexec: tests/go/libct13 is built with
//! CGO_ENABLED=0 from an unpatched copy of Debian's runc 1.3.6 source (so
//! runc's C constructor is not in it). runc 1.2+ always starts its init as
//! `/proc/self/fd/N init`, a sealed copy of the caller; the program's init
//! execs nsexec with that copy as the payload, and nsexec's stage 2 runs it
//! again as `... init bootstrapped`, runc's Go init. Each test runs one
//! scenario against a busybox rootfs and judges what the program reports.
//!
//! The Go 1.23 and runc 1.3.6 trees come from tests/runc/setup.sh, which
//! tests/run does not run: without them these tests say so and skip.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;
use support::*;

fn top() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// What tests/go/libct13/build.sh needs, as tests/runc/setup.sh leaves it.
fn missing_prerequisite() -> Option<PathBuf> {
    let cache = std::env::var_os("NSEXEC_RUNC_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| top().join("target/runc"));
    [
        PathBuf::from("/usr/lib/go-1.23/bin/go"),
        cache.join("src/runc-1.3.6+ds1"),
        cache.join("ebpf/src"),
        cache.join("sid/usr/share/gocode/src"),
    ]
    .into_iter()
    .find(|p| !p.exists())
}

fn skip() -> bool {
    if skip_under_qemu("libcontainer runs natively only") {
        return true;
    }
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: libcontainer 1.3 runs containers as root only here");
        return true;
    }
    // tests/run fetches them (tests/runc/setup.sh): missing, this fails
    // rather than pass without running.
    if let Some(p) = missing_prerequisite() {
        panic!(
            "no {}: run tests/runc/setup.sh (Go 1.23, runc 1.3.6 and its Go dependencies)",
            p.display()
        );
    }
    false
}

/// target/libct13, built once per test binary with this nsexec baked in.
fn program() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let out = top().join("target/libct13");
        let o = Command::new("bash")
            .arg(top().join("tests/go/libct13/build.sh"))
            .arg(bootstrap_nsexec())
            .arg(&out)
            .output()
            .expect("bash");
        assert!(
            o.status.success(),
            "tests/go/libct13/build.sh: {}{}",
            stdout(&o),
            stderr(&o)
        );
        out
    })
}

fn scenario(name: &str, extra: &[&str]) -> Value {
    let root = rootfs::busybox_rootfs("libct13-rootfs");
    let mut c = Command::new(program());
    c.arg(name).arg(&root).args(extra);
    let o = run(c, Duration::from_secs(300));
    assert!(
        o.status.success(),
        "libct13 {name}: {}{}",
        stdout(&o),
        stderr(&o)
    );
    let f: Value = serde_json::from_str(stdout(&o).trim())
        .unwrap_or_else(|e| panic!("libct13 {name}: {e}: {}", stdout(&o)));
    // The init execs the nsexec this test built, not some other one.
    assert_eq!(f["nsexec"], bootstrap_nsexec().display().to_string(), "{f}");
    f
}

fn ns(f: &Value, key: &str, name: &str) -> String {
    f[key][name].as_str().unwrap_or_default().to_owned()
}

/// The index of the first log line containing `needle` at or after `from`.
fn log_index(f: &Value, from: usize, needle: &str) -> usize {
    let log = f["log"].as_array().unwrap();
    log.iter()
        .enumerate()
        .skip(from)
        .find(|(_, l)| l.as_str().unwrap_or("").contains(needle))
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("no log line {needle:?} after line {from}: {f}"))
}

#[test]
fn run_gives_pid_1_the_hostname_and_the_exit_status() {
    if skip() {
        return;
    }
    let f = scenario("run", &[]);
    assert_eq!(f["exit"], 7, "{f}");
    let out = f["stdout"].as_str().unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "pid=1 host=libct13 uid=0", "{f}");
    // The pid namespace as the container sees it is the one the host sees
    // its init in, and not ours (nor the caller's, before any container).
    let inside = lines[1].strip_prefix("pidns=").unwrap();
    assert_eq!(inside, ns(&f, "init_ns", "pid"), "{f}");
    assert_ne!(inside, ns_link("self", "pid"), "{f}");
    assert_eq!(ns(&f, "caller_ns", "pid"), ns_link("self", "pid"), "{f}");
    for name in ["cgroup", "ipc", "mnt", "net", "uts"] {
        assert_ne!(
            ns(&f, "init_ns", name),
            ns_link("self", name),
            "{name}: {f}"
        );
    }
    // No user namespace asked for: the host's, its full map, root as root.
    assert_eq!(ns(&f, "init_ns", "user"), ns_link("self", "user"), "{f}");
    assert_eq!(f["init_host_uid"], "0", "{f}");
    assert_eq!(*lines.last().unwrap(), "bye", "{f}");
    assert_eq!(f["stderr"], "", "{f}");
}

#[test]
fn the_init_execs_nsexec_whose_payload_is_the_sealed_copy_as_runcs_go_init() {
    if skip() {
        return;
    }
    // The order on libcontainer's log pipe: our 1st init, nsexec's stage 0
    // to 2, our 2nd init (as PID 1), runc's Go init.
    let f = scenario("run", &[]);
    assert_eq!(f["exit"], 7, "{f}");
    let first = log_index(&f, 0, "libct13 init: exec ");
    let line = f["log"][first].as_str().unwrap();
    let payload = line
        .split(" with payload ")
        .nth(1)
        .and_then(|r| r.strip_suffix(" (libcontainer's sealed copy)"))
        .unwrap_or_else(|| {
            panic!("the 1st init's payload is not the copy libcontainer handed over: {line}")
        });
    assert!(payload.starts_with("/proc/self/fd/"), "{f}");
    assert!(
        line.contains(&bootstrap_nsexec().display().to_string()),
        "{f}"
    );
    let setup = log_index(&f, first, "=> nsexec container setup");
    // A descriptor of libcontainer's sealed copy: nsexec takes it as it is
    // (no memfd copy of a Go binary per container).
    let protected = log_index(&f, setup, "the payload is protected by the caller");
    let exec = log_index(&f, protected, "executing the payload");
    let second = log_index(
        &f,
        exec,
        &format!("libct13 init: nsexec's payload {payload} as pid 1: libcontainer.Init"),
    );
    log_index(&f, second, "child process in init()");
    assert!(
        !f["log"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap_or("").starts_with("error")),
        "{f}"
    );
}

#[test]
fn a_user_namespace_with_a_range_map() {
    if skip() {
        return;
    }
    let f = scenario("userns", &[]);
    assert_eq!(f["exit"], 7, "{f}");
    let out = f["stdout"].as_str().unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "pid=1 host=libct13 uid=0", "{f}");
    assert_ne!(
        lines[1].strip_prefix("pidns=").unwrap(),
        ns_link("self", "pid"),
        "{f}"
    );
    let map: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(map, ["0", "100000", "65536"], "{f}");
    assert_eq!(lines.len(), 4, "one map line only: {f}");
    // Root inside, 100000 to the host.
    assert_eq!(f["init_host_uid"], "100000", "{f}");
    assert_ne!(ns(&f, "init_ns", "user"), ns_link("self", "user"), "{f}");
}

#[test]
fn exec_joins_every_namespace_of_a_running_container() {
    if skip() {
        return;
    }
    let f = scenario("exec", &[]);
    assert_eq!(f["exit"], 3, "{f}");
    assert_eq!(f["init_exit"], 4, "the init outlives the exec: {f}");
    let out = f["stdout"].as_str().unwrap();
    let init = f["init_ns"].as_object().unwrap();
    assert_eq!(init.len(), 7, "{f}");
    for (name, link) in init {
        let link = link.as_str().unwrap();
        // A user namespace too: all seven are the container's own...
        assert_ne!(link, ns_link("self", name), "{name}: {f}");
        // ...and the exec'd process is in each of them.
        let line = format!("{name} {link}");
        assert!(out.lines().any(|l| l == line), "{name} not joined: {f}");
    }
    // Beside the init in its pid namespace, its parent outside it.
    let ids = out.lines().last().unwrap();
    assert!(ids.ends_with(" ppid=0"), "{f}");
    assert_ne!(ids, "pid=1 ppid=0", "{f}");
    // The exec went through nsexec too: its payload is runc's Go init.
    let setup = log_index(&f, 0, "=> nsexec container setup");
    log_index(&f, setup, "libct13 init: nsexec's payload ");
}

#[test]
fn twenty_containers_in_a_row() {
    if skip() {
        return;
    }
    let f = scenario("bench", &["20"]);
    assert_eq!(f["containers"], 20, "{f}");
    assert_eq!(f["failed"], 0, "{f}");
    let ms = f["ms"].as_array().unwrap();
    assert_eq!(ms.len(), 20, "{f}");
    eprintln!(
        "libct13 bench: {:.1} ms per container (create, run `exit 0`, destroy); each: {:?}",
        f["ms_per_container"].as_f64().unwrap(),
        ms.iter().map(|v| v.as_f64().unwrap()).collect::<Vec<_>>()
    );
}

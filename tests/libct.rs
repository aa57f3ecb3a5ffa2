//! runc's own Go side drives nsexec: tests/go/libct is built from Debian's
//! libcontainer 1.1.5 with CGO_ENABLED=0 (so runc's C constructor is not in
//! it), with nsexec as the factory's init command. Each test runs one
//! scenario against a busybox rootfs and judges what the program reports.

mod support;

use serde_json::Value;
use std::process::Command;
use std::time::Duration;
use support::*;

fn scenario(name: &str, extra: &[&str]) -> Value {
    let program = rootfs::go_build_gopath("libct");
    let root = rootfs::busybox_rootfs("libct-rootfs");
    let mut c = Command::new(program);
    c.arg(name).arg(bootstrap_nsexec()).arg(&root).args(extra);
    let o = run(c, Duration::from_secs(300));
    assert!(
        o.status.success(),
        "libct {name}: {}{}",
        stdout(&o),
        stderr(&o)
    );
    serde_json::from_str(stdout(&o).trim())
        .unwrap_or_else(|e| panic!("libct {name}: {e}: {}", stdout(&o)))
}

fn skip() -> bool {
    skip_under_qemu("libcontainer runs natively only")
}

#[test]
fn run_gives_pid_1_the_hostname_and_the_exit_status() {
    if skip() {
        return;
    }
    let f = scenario("run", &[]);
    assert_eq!(f["exit"], 7, "{f}");
    let out = f["stdout"].as_str().unwrap();
    assert!(out.starts_with("pid=1 host=libct uid=0\n"), "{f}");
    assert!(out.ends_with("from the host\n"), "the bind mount: {f}");
}

#[test]
fn a_container_created_by_a_process_that_exits_still_starts() {
    if skip() {
        return;
    }
    // runc create exits once the init waits at its exec fifo; runc start
    // comes later, from another process. The init must outlive its creator:
    // runc's Go init restores whatever PDEATHSIG it inherits, so one armed by
    // nsexec's stage 2 would kill the container with `runc create`.
    let f = scenario("detach", &[]);
    assert_eq!(f["create_error"], "<nil>", "{f}");
    assert_eq!(f["status_before_start"], "created <nil>", "{f}");
    assert_eq!(f["start_error"], "<nil>", "{f}");
    assert_eq!(f["stdout"], "started as pid 1\n", "{f}");
}

#[test]
fn a_user_namespace_with_a_range_map_and_a_bind_mount_from_runc_1_1() {
    if skip() {
        return;
    }
    // userns + mntns + a bind mount: runc 1.1 sends MOUNT_SOURCES and
    // _LIBCONTAINER_MOUNT_FDS, and its Go init mounts from those descriptors.
    let f = scenario("userns", &[]);
    assert_eq!(f["exit"], 7, "{f}");
    let out = f["stdout"].as_str().unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "pid=1 host=libct uid=0", "{f}");
    let map: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(map, ["0", "100000", "65536"], "{f}");
    assert_eq!(lines[2], "from the host", "{f}");
}

#[test]
fn exec_joins_every_namespace_of_a_running_container_mount_included() {
    if skip() {
        return;
    }
    let f = scenario("exec", &[]);
    assert_eq!(f["exit"], 0, "{f}");
    let out = f["stdout"].as_str().unwrap();
    let init = f["init_ns"].as_object().unwrap();
    assert_eq!(init.len(), 7);
    for (ns, link) in init {
        let line = format!("{ns} {}", link.as_str().unwrap());
        assert!(out.lines().any(|l| l == line), "{ns} not joined: {f}");
    }
    // The exec'd process sits in the container's pid namespace, beside its init.
    assert!(out.contains("ppid=0\n"), "{f}");
}

#[test]
fn a_terminal_through_the_console_socket() {
    if skip() {
        return;
    }
    let f = scenario("tty", &[]);
    assert_eq!(f["exit"], 5, "{f}");
    let screen = f["screen"].as_str().unwrap();
    assert!(screen.starts_with("/dev/pts/"), "{f}");
    assert!(screen.contains("stdio is a terminal"), "{f}");
}

#[test]
fn container_signal_reaches_the_process() {
    if skip() {
        return;
    }
    let f = scenario("signal", &[]);
    assert_eq!(f["first"], "ready\n", "{f}");
    assert_eq!(f["rest"], "got TERM\n", "{f}");
    assert_eq!(f["exit"], 3, "{f}");
}

#[test]
fn two_hundred_containers_in_a_row_leave_nothing_behind() {
    if skip() {
        return;
    }
    let f = scenario("loop", &["200"]);
    assert_eq!(f["failed"], 0, "{f}");
    let (before, during, after) = (&f["before"], &f["during"], &f["after"]);
    // The probes see a running container...
    assert!(
        during["children"].as_u64() > before["children"].as_u64(),
        "{f}"
    );
    assert!(
        during["cgroups"].as_u64() > before["cgroups"].as_u64(),
        "{f}"
    );
    // ...and nothing of 200 finished ones.
    for what in ["fds", "mounts", "children", "cgroups"] {
        assert_eq!(before[what], after[what], "{what} leaked: {f}");
    }
    assert_eq!(after["children"], 0, "{f}");
    assert_eq!(after["cgroups"], 0, "{f}");
}

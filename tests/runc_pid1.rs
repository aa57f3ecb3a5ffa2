//! nsexec as the first exec of a minimal image under a real runtime:
//! Debian's `runc` runs a bundle whose rootfs holds only `/nsexec` and a
//! static program (`/busybox`), with `process.args` = `/nsexec --init -- ...`.

mod support;

use std::time::{Duration, Instant};
use support::bundle::Bundle;
use support::*;

fn skip() -> bool {
    skip_under_qemu("runc runs natively only")
}

fn wait_exit(child: std::process::Child) -> std::process::Output {
    wait_output(child, Duration::from_secs(30))
}

#[test]
fn runc_reports_the_apps_exit_status_through_nsexec_init() {
    if skip() {
        return;
    }
    let b = Bundle::new(
        "pid1-exit",
        &["/busybox", "sh", "-c", "echo pid=$$ ppid=$PPID; exit 7"],
    );
    let o = wait_exit(b.spawn());
    assert_eq!(o.status.code(), Some(7), "{}", stderr(&o));
    // nsexec is PID 1 and the app its child (runc init's threads took the
    // first few pids, so the app's own number varies).
    let out = stdout(&o);
    assert!(out.ends_with(" ppid=1\n"), "{out} {}", stderr(&o));
    assert!(!out.starts_with("pid=1 "), "{out}");
}

#[test]
fn runc_kill_is_forwarded_to_the_app() {
    if skip() {
        return;
    }
    let b = Bundle::new(
        "pid1-kill",
        &[
            "/busybox",
            "sh",
            "-c",
            "trap 'echo got TERM; exit 3' TERM; echo ready; while :; do /busybox sleep 0.1; done",
        ],
    );
    let mut child = b.spawn();
    b.wait_running();
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 6];
    std::io::Read::read_exact(&mut out, &mut first).unwrap();
    assert_eq!(&first, b"ready\n");
    let k = b.runc().args(["kill", &b.id, "TERM"]).output().unwrap();
    assert!(k.status.success(), "{}", stderr(&k));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let o = wait_exit(child);
    assert_eq!(rest, "got TERM\n");
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
}

#[test]
fn orphans_are_reaped_and_runc_exec_works_beside_it() {
    if skip() {
        return;
    }
    // 50 orphans re-parent to nsexec (PID 1) and exit; then the app waits.
    let b = Bundle::new(
        "pid1-orphans",
        &[
            "/busybox",
            "sh",
            "-c",
            "i=0; while [ $i -lt 50 ]; do (/busybox true &); i=$((i+1)); done; \
             trap 'exit 0' TERM; echo ready; while :; do /busybox sleep 0.1; done",
        ],
    );
    let mut child = b.spawn();
    let init = b.wait_running();
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 6];
    std::io::Read::read_exact(&mut out, &mut first).unwrap();
    assert_eq!(&first, b"ready\n");
    // Nothing the orphans left stays a zombie under nsexec for long.
    let deadline = Instant::now() + Duration::from_secs(10);
    while zombies_of(init as u32) > 0 {
        assert!(Instant::now() < deadline, "zombies stay under nsexec init");
        std::thread::sleep(Duration::from_millis(20));
    }
    let e = b
        .runc()
        .args([
            "exec",
            &b.id,
            "/busybox",
            "sh",
            "-c",
            "echo exec ran; cat /proc/1/cmdline",
        ])
        .output()
        .unwrap();
    assert!(e.status.success(), "{}", stderr(&e));
    assert_eq!(
        stdout(&e),
        "exec ran\n/nsexec\0--init\0--\0/busybox\0sh\0-c\0".to_owned()
            + "i=0; while [ $i -lt 50 ]; do (/busybox true &); i=$((i+1)); done; \
             trap 'exit 0' TERM; echo ready; while :; do /busybox sleep 0.1; done\0"
    );
    let k = b.runc().args(["kill", &b.id, "TERM"]).output().unwrap();
    assert!(k.status.success(), "{}", stderr(&k));
    let o = wait_exit(child);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(zombies_of(init as u32), 0);
}

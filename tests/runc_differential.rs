//! Differential check against Debian's runc 1.1.5, whose C nsexec runs before
//! its Go runtime whenever `_LIBCONTAINER_INITPIPE` is set (its "payload" is
//! runc's own Go code; `--version` makes that print and exit). The same
//! reference parent drives both with attributes 27281-27289, which 1.1.5
//! shares with today's protocol: the accept/reject decisions, the pid JSON
//! and the log-line shape must agree.
//!
//! Where 1.1.5 differs, and these tests therefore do not compare:
//! - it writes one NUL byte on the init pipe before the pid JSON;
//! - 27290 meant something else then (not TIME_OFFSETS);
//! - it ignored unknown namespace names in NS_PATHS (nsexec refuses them);
//! - it read only the first byte of a bool, so a SETGROUP of 2 was "true"
//!   (nsexec refuses values other than 0 and 1).

mod support;

use support::runc::{self, Bootstrap, Options, Outcome};
use support::*;

static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn runc_binary() -> Option<std::path::PathBuf> {
    ["/usr/sbin/runc", "/usr/bin/runc"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.exists())
}

fn both(msg: &Bootstrap, raw: Option<Vec<u8>>) -> Option<(Outcome, Outcome)> {
    if skip_under_qemu("runc is x86_64 here, and stages use CLONE_PARENT") {
        return None;
    }
    let Some(runc_bin) = runc_binary() else {
        eprintln!("skipped: runc is not installed (Debian's runc; tests/run installs it)");
        return None;
    };
    let ours = runc::run(
        &bootstrap_nsexec(),
        msg,
        Options {
            program: vec!["/bin/true".into()],
            raw: raw.clone(),
            ..Default::default()
        },
    );
    let theirs = runc::run(
        &runc_bin,
        msg,
        Options {
            program: vec!["--version".into()],
            raw,
            ..Default::default()
        },
    );
    Some((ours, theirs))
}

fn accepted(o: &Outcome) -> bool {
    o.stage0 == Some(0) && o.payload == Some(0)
}

fn log_shape_ok(o: &Outcome) -> bool {
    o.log.iter().all(|l| {
        serde_json::from_str::<serde_json::Value>(l).is_ok_and(|v| {
            v.as_object()
                .is_some_and(|m| m.contains_key("level") && m.contains_key("msg"))
                && !v["level"].as_str().unwrap_or("").is_empty()
                && !v["msg"].as_str().unwrap_or("").is_empty()
        })
    })
}

fn pid_json_keys(o: &Outcome) -> Vec<String> {
    let start = o.pipe.iter().position(|&b| b != 0).unwrap_or(o.pipe.len());
    serde_json::from_slice::<serde_json::Value>(&o.pipe[start..])
        .ok()
        .and_then(|v| v.as_object().map(|m| m.keys().cloned().collect()))
        .unwrap_or_default()
}

#[test]
fn valid_messages_are_accepted_by_both_with_the_same_pid_json() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let me = std::process::id();
    let cases = vec![
        Bootstrap {
            clone_flags: runc::CLONE_NEWNET,
            ns_paths: vec![("pid".into(), format!("/proc/{me}/ns/pid"))],
            ..Default::default()
        },
        Bootstrap {
            clone_flags: runc::CLONE_NEWUTS
                | runc::CLONE_NEWIPC
                | runc::CLONE_NEWNET
                | runc::CLONE_NEWNS,
            ..Default::default()
        },
        Bootstrap {
            clone_flags: runc::CLONE_NEWUSER
                | runc::CLONE_NEWPID
                | runc::CLONE_NEWNS
                | runc::CLONE_NEWUTS
                | runc::CLONE_NEWIPC
                | runc::CLONE_NEWNET,
            uid_map: Some("0 100000 65536\n".into()),
            gid_map: Some("0 100000 65536\n".into()),
            setgroups: true,
            oom_score_adj: Some("10".into()),
            ..Default::default()
        },
    ];
    for msg in cases {
        let Some((ours, theirs)) = both(&msg, None) else {
            return;
        };
        assert!(
            accepted(&theirs),
            "runc refused a valid message: {}",
            theirs.stderr
        );
        assert!(
            accepted(&ours),
            "nsexec refused what runc accepts: {}",
            ours.stderr
        );
        assert_eq!(pid_json_keys(&ours), pid_json_keys(&theirs));
        assert_eq!(pid_json_keys(&ours), ["stage1_pid", "stage2_pid"]);
        assert!(
            theirs.pipe.first() == Some(&0),
            "runc 1.1.5 sends a NUL byte first"
        );
        assert!(
            ours.pipe.first() == Some(&b'{'),
            "nsexec sends the JSON alone, as today's runc"
        );
        assert!(log_shape_ok(&ours) && log_shape_ok(&theirs));
        assert!(!ours.log.is_empty() && !theirs.log.is_empty());
    }
}

#[test]
fn invalid_inputs_are_refused_by_both() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let me = std::process::id();
    let hdr = runc::header;
    let raw_cases: Vec<(&str, Vec<u8>)> = vec![
        ("NLMSG_ERROR", hdr(16, 2)),
        ("wrong message type", hdr(16, 3)),
        (
            "unknown attribute",
            runc::message(&runc::attr_u32(30000, 1)),
        ),
    ];
    for (what, raw) in raw_cases {
        let Some((ours, theirs)) = both(&Bootstrap::default(), Some(raw)) else {
            return;
        };
        assert!(!accepted(&theirs), "{what}: runc accepted");
        assert!(
            !accepted(&ours),
            "{what}: nsexec accepted what runc refuses"
        );
        assert!(log_shape_ok(&ours) && log_shape_ok(&theirs), "{what}");
    }
    let spec_cases = vec![
        (
            "nonexistent pid path",
            Bootstrap {
                clone_flags: runc::CLONE_NEWNET,
                ns_paths: vec![("pid".into(), "/proc/-1/ns/pid".into())],
                ..Default::default()
            },
        ),
        (
            "path of the wrong type",
            Bootstrap {
                clone_flags: runc::CLONE_NEWNET,
                ns_paths: vec![("net".into(), format!("/proc/{me}/ns/pid"))],
                ..Default::default()
            },
        ),
        (
            "missing path",
            Bootstrap {
                ns_paths: vec![("uts".into(), "/nonexistent".into())],
                ..Default::default()
            },
        ),
    ];
    for (what, msg) in spec_cases {
        let Some((ours, theirs)) = both(&msg, None) else {
            return;
        };
        assert!(!accepted(&theirs), "{what}: runc accepted");
        assert!(
            !accepted(&ours),
            "{what}: nsexec accepted what runc refuses"
        );
        assert!(
            theirs.log.iter().any(|l| l.contains("\"fatal\"")),
            "{what}: runc logs fatal"
        );
        assert!(
            ours.log.iter().any(|l| l.contains("\"fatal\"")),
            "{what}: nsexec logs fatal"
        );
        assert!(log_shape_ok(&ours) && log_shape_ok(&theirs), "{what}");
    }
}

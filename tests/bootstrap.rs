//! runc's bootstrap contract (shared/PROTOCOL.md), driven by a reference
//! parent that encodes as runc's Go side does. Every test is a real run in
//! real namespaces. Stages are children of this process (CLONE_PARENT), so
//! the tests run one at a time to tell their stages apart.

mod support;

use std::sync::Mutex;
use std::time::Duration;
use support::runc::{self, Bootstrap, Options, Outcome};
use support::*;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn sh_payload(script: &str) -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into(), script.into()]
}

fn boot(msg: &Bootstrap, script: &str) -> Outcome {
    runc::run(
        &bootstrap_nsexec(),
        msg,
        Options {
            program: sh_payload(script),
            ..Default::default()
        },
    )
}

fn ok(o: &Outcome) {
    assert_eq!(
        o.stage0,
        Some(0),
        "stage 0 failed: {}\n{:?}",
        o.stderr,
        o.log
    );
    assert_eq!(
        o.payload,
        Some(0),
        "payload failed: {}\n{:?}",
        o.stderr,
        o.log
    );
}

/// Nothing this test started is still alive.
fn assert_no_stage_alive() {
    std::thread::sleep(Duration::from_millis(50));
    runc::reap_strays();
    let alive: Vec<u32> = runc::our_stages()
        .into_iter()
        .filter(|p| {
            !std::fs::read_to_string(format!("/proc/{p}/stat"))
                .unwrap_or_default()
                .contains(") Z ")
        })
        .collect();
    assert!(alive.is_empty(), "stages left alive: {alive:?}");
}

// PROTOCOL.md section 6: what runc's own nsenter tests check.

#[test]
fn runc_joins_the_callers_pid_namespace_with_a_new_net() {
    if skip_under_qemu("stages use CLONE_PARENT") {
        return;
    }
    let _g = serial();
    let me = std::process::id();
    let msg = Bootstrap {
        clone_flags: runc::CLONE_NEWNET,
        ns_paths: vec![("pid".into(), format!("/proc/{me}/ns/pid"))],
        ..Default::default()
    };
    let o = boot(&msg, "readlink /proc/self/ns/net");
    ok(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.pipe).expect("pid JSON");
    let obj = v.as_object().unwrap();
    assert_eq!(obj.len(), 2, "exactly two fields: {v}");
    assert!(obj["stage1_pid"].as_i64().unwrap() > 0 && obj["stage2_pid"].as_i64().unwrap() > 0);
    assert_eq!(
        o.pipe,
        format!(
            "{{\"stage1_pid\":{},\"stage2_pid\":{}}}\n",
            o.stage1_pid.unwrap(),
            o.stage2_pid.unwrap()
        )
        .as_bytes()
    );
    assert_ne!(o.stdout.trim(), ns_link("self", "net"));
    assert_no_stage_alive();
}

#[test]
fn runc_refuses_a_nonexistent_pid_path() {
    let _g = serial();
    let msg = Bootstrap {
        clone_flags: runc::CLONE_NEWNET,
        ns_paths: vec![("pid".into(), "/proc/-1/ns/pid".into())],
        ..Default::default()
    };
    let o = boot(&msg, "echo ran");
    assert_ne!(o.stage0, Some(0));
    assert!(!o.stdout.contains("ran"));
    assert_no_stage_alive();
}

#[test]
fn runc_refuses_a_path_of_the_wrong_type() {
    if skip_under_qemu("stages use CLONE_PARENT") {
        return;
    }
    let _g = serial();
    let me = std::process::id();
    let msg = Bootstrap {
        clone_flags: runc::CLONE_NEWNET,
        ns_paths: vec![("net".into(), format!("/proc/{me}/ns/pid"))],
        ..Default::default()
    };
    let o = boot(&msg, "echo ran");
    assert_ne!(o.stage0, Some(0));
    assert!(!o.stdout.contains("ran"));
    assert!(
        o.log
            .iter()
            .any(|l| l.contains("fatal") && l.contains("is a pid namespace, not net")),
        "{:?}",
        o.log
    );
    assert_no_stage_alive();
}

#[test]
fn runc_log_lines_decode_with_level_and_msg() {
    if skip_under_qemu("stages use CLONE_PARENT") {
        return;
    }
    let _g = serial();
    let msg = Bootstrap {
        clone_flags: runc::CLONE_NEWNET | runc::CLONE_NEWUTS,
        ..Default::default()
    };
    let o = boot(&msg, "true");
    ok(&o);
    let lines = o.log_json();
    assert!(!lines.is_empty());
    for l in &lines {
        let obj = l.as_object().unwrap();
        assert!(!obj["level"].as_str().unwrap().is_empty());
        assert!(!obj["msg"].as_str().unwrap().is_empty());
    }
    // Prefixes: nsexec before the stages, nsexec-N[pid] inside them.
    let msgs: Vec<&str> = lines.iter().map(|l| l["msg"].as_str().unwrap()).collect();
    assert!(msgs.iter().any(|m| m.starts_with("nsexec-1[")), "{msgs:?}");
    assert!(msgs.iter().any(|m| m.starts_with("nsexec-2[")), "{msgs:?}");
}

#[test]
fn creates_seven_namespaces_with_a_range_mapping() {
    if skip_under_qemu("user namespaces") {
        return;
    }
    let _g = serial();
    let host: std::collections::HashMap<String, String> = NS_NAMES
        .iter()
        .map(|n| (n.to_string(), ns_link("self", n)))
        .collect();
    let flags = runc::CLONE_NEWUSER
        | runc::CLONE_NEWPID
        | runc::CLONE_NEWNS
        | runc::CLONE_NEWUTS
        | runc::CLONE_NEWIPC
        | runc::CLONE_NEWNET
        | runc::CLONE_NEWCGROUP;
    let msg = Bootstrap {
        clone_flags: flags,
        uid_map: Some("0 100000 65536\n".into()),
        gid_map: Some("0 100000 65536\n".into()),
        setgroups: true,
        ..Default::default()
    };
    let script = format!(
        "{} mount -t proc proc /proc; echo pid=$$; echo sid=$(cut -d' ' -f6 /proc/$$/stat); echo uid=$(id -u); echo gid=$(id -g); echo groups=$(grep ^Groups: /proc/self/status | cut -f2); echo uidmap=$(cat /proc/self/uid_map); echo gidmap=$(cat /proc/self/gid_map)",
        print_namespaces()
    );
    let o = boot(&msg, &script);
    ok(&o);
    let f = parse_namespaces(&o.stdout);
    assert_eq!(f["pid"], "1", "payload is pid 1");
    assert_eq!(f["sid"], "1", "and a session leader");
    assert_eq!((f["uid"].as_str(), f["gid"].as_str()), ("0", "0"));
    assert_eq!(f["groups"].trim(), "", "no supplementary groups");
    assert_eq!(
        f["uidmap"].split_whitespace().collect::<Vec<_>>(),
        ["0", "100000", "65536"]
    );
    assert_eq!(
        f["gidmap"].split_whitespace().collect::<Vec<_>>(),
        ["0", "100000", "65536"]
    );
    for n in ["user", "pid", "mnt", "uts", "ipc", "net", "cgroup"] {
        assert_ne!(f[n], host[n], "{n} namespace not new");
    }
    assert_no_stage_alive();
}

#[test]
fn joins_all_six_namespaces_of_a_running_process() {
    if skip_under_qemu("user namespaces") {
        return;
    }
    let _g = serial();
    let m = marker("bootjoin");
    let mut target = std::process::Command::new("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--pid",
            "--fork",
            "--kill-child",
            "--mount",
            "--uts",
            "--ipc",
            "--net",
            "/bin/sh",
            "-c",
            &format!("sleep 60; : {m}"),
        ])
        .spawn()
        .unwrap();
    let mut pid = 0;
    for _ in 0..300 {
        let ps = pids_matching(&m);
        if ps.len() >= 2 {
            pid = ps.into_iter().max().unwrap();
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let names = ["user", "pid", "mnt", "uts", "ipc", "net"];
    let want: Vec<String> = names.iter().map(|n| ns_link(&pid.to_string(), n)).collect();
    let msg = Bootstrap {
        ns_paths: names
            .iter()
            .map(|n| (n.to_string(), format!("/proc/{pid}/ns/{n}")))
            .collect(),
        ..Default::default()
    };
    let script = "for n in user pid mnt uts ipc net; do readlink /proc/self/ns/$n; done; id -u";
    let o = boot(&msg, script);
    let _ = target.kill();
    let _ = target.wait();
    ok(&o);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(
        &lines[..6],
        &want.iter().map(String::as_str).collect::<Vec<_>>()[..]
    );
    assert_eq!(lines[6], "0", "root in the joined user namespace");
    assert_gone(&m, Duration::from_secs(5));
    assert_no_stage_alive();
}

#[test]
fn time_offsets_and_oom_score_adj_reach_the_payload() {
    if skip_under_qemu("time namespaces") {
        return;
    }
    let _g = serial();
    let host: f64 = std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let msg = Bootstrap {
        clone_flags: runc::CLONE_NEWTIME,
        time_offsets: Some("monotonic 86400 0\nboottime 86400 0\n".into()),
        oom_score_adj: Some("321".into()),
        ..Default::default()
    };
    let o = boot(
        &msg,
        "cut -d' ' -f1 /proc/uptime; cat /proc/self/oom_score_adj",
    );
    ok(&o);
    let lines: Vec<&str> = o.stdout.lines().collect();
    let up: f64 = lines[0].parse().unwrap();
    assert!(up >= host + 86400.0 - 5.0, "uptime {up} vs host {host}");
    assert_eq!(lines[1], "321");
}

#[test]
fn log_level_filters_lines() {
    if skip_under_qemu("stages use CLONE_PARENT") {
        return;
    }
    let _g = serial();
    let msg = Bootstrap {
        clone_flags: runc::CLONE_NEWUTS,
        ..Default::default()
    };
    let mut counts = Vec::new();
    for level in 0..=6 {
        let l = level.to_string();
        let o = runc::run(
            &bootstrap_nsexec(),
            &msg,
            Options {
                program: sh_payload("true"),
                log_level: Some(&l),
                ..Default::default()
            },
        );
        ok(&o);
        let lines = o.log_json();
        let names = [
            "panic", "fatal", "error", "warning", "info", "debug", "trace",
        ];
        for j in &lines {
            let lv = names
                .iter()
                .position(|n| *n == j["level"].as_str().unwrap())
                .unwrap();
            assert!(
                lv <= level,
                "level {level} let a {} line through",
                names[lv]
            );
        }
        counts.push(lines.len());
    }
    assert_eq!(
        counts[..5],
        [0, 0, 0, 0, 0],
        "a successful run logs nothing below debug"
    );
    assert!(counts[5] > 0 && counts[6] >= counts[5]);
    // A failure at level 1 (fatal) logs exactly the fatal line.
    let bad = Bootstrap {
        ns_paths: vec![("net".into(), "/nonexistent".into())],
        ..Default::default()
    };
    let o = runc::run(
        &bootstrap_nsexec(),
        &bad,
        Options {
            program: sh_payload("true"),
            log_level: Some("1"),
            ..Default::default()
        },
    );
    let lines = o.log_json();
    assert!(!lines.is_empty());
    assert!(lines.iter().all(|l| l["level"] == "fatal"), "{:?}", o.log);
    assert!(
        lines[0]["msg"]
            .as_str()
            .unwrap()
            .contains("/nonexistent: ENOENT"),
        "the first line names the cause: {:?}",
        o.log
    );
}

#[test]
fn the_environment_and_inherited_descriptors_reach_the_payload() {
    if skip_under_qemu("stages use CLONE_PARENT") {
        return;
    }
    let _g = serial();
    let msg = Bootstrap {
        clone_flags: runc::CLONE_NEWUTS,
        ..Default::default()
    };
    let o = runc::run(
        &bootstrap_nsexec(),
        &msg,
        Options {
            program: sh_payload(
                "echo state=$_LIBCONTAINER_STATEDIR; echo pipe=$_LIBCONTAINER_INITPIPE; ls /proc/self/fd | sort -n | tr '\\n' ' '",
            ),
            env: vec![("_LIBCONTAINER_STATEDIR", "/run/x".into())],
            ..Default::default()
        },
    );
    ok(&o);
    assert!(o.stdout.contains("state=/run/x\n"));
    assert!(o.stdout.contains("pipe=3\n"));
    // stdin, stdout, stderr, the init pipe and the log pipe (as runc passes
    // them); the shell's own ls adds one for the directory.
    let fds: Vec<u32> = o
        .stdout
        .lines()
        .last()
        .unwrap()
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    assert!(fds.starts_with(&[0, 1, 2, 3, 4]), "{fds:?}");
    assert!(
        fds.len() <= 6,
        "nsexec leaked descriptors into the payload: {fds:?}"
    );
    assert!(
        fds.iter().all(|&f| f <= 5),
        "nsexec leaked descriptors into the payload: {fds:?}"
    );
}

fn expect_fatal(msg: &Bootstrap, raw: Option<Vec<u8>>, env: Vec<(&str, String)>, needle: &str) {
    let dir = std::env::temp_dir().join(marker("fatal"));
    std::fs::create_dir_all(&dir).unwrap();
    let flag = dir.join("ran");
    let _ = std::fs::remove_file(&flag);
    let o = runc::run(
        &bootstrap_nsexec(),
        msg,
        Options {
            program: sh_payload(&format!("touch {}", flag.display())),
            raw,
            env,
            log_pipe: false,
            ..Default::default()
        },
    );
    assert_eq!(
        o.stage0,
        Some(1),
        "expected exit 1 for {needle}: {}",
        o.stderr
    );
    assert!(o.stderr.starts_with("FATAL: "), "{}", o.stderr);
    assert!(
        o.stderr.contains(needle),
        "expected {needle:?} in {}",
        o.stderr
    );
    assert!(!flag.exists(), "payload ran for {needle}");
    assert!(o.stage2_pid.is_none() || o.payload != Some(0));
    assert_no_stage_alive();
}

#[test]
fn every_malformed_message_is_fatal_with_its_own_message() {
    let _g = serial();
    let empty = Bootstrap::default();
    let hdr = runc::header;
    let with = |attrs: &[u8]| runc::message(attrs);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (hdr(16, 2), "NLMSG_ERROR"),
        (hdr(16, 3), "type 3"),
        (hdr(8, 62000), "shorter than its 16-byte header"),
        (
            hdr(200_000, 62000),
            "200000 bytes, larger than nsexec's 98304-byte buffer",
        ),
        (
            hdr(10, 62000)[..10].to_vec(),
            "middle of the netlink header",
        ),
        (hdr(40, 62000), "before the whole bootstrap message arrived"),
        (with(&[3, 0, 0x91, 0x6a]), "shorter than its 4-byte header"),
        (with(&[200, 0, 0x91, 0x6a, 0, 0, 0, 0]), "past the end"),
        (
            with(&runc::attr_u32(30000, 1)),
            "unknown netlink attribute type 30000",
        ),
        (
            with(&runc::attr_bytes(runc::CLONE_FLAGS_ATTR, b"xx")),
            "4-byte integer",
        ),
        (
            with(&runc::attr_u32(runc::CLONE_FLAGS_ATTR, 0x100)),
            "not namespaces: 0x00000100",
        ),
        (
            with(&[8, 0, 0x92, 0x6a, b'n', b'e', b't', b':']),
            "NUL-terminated",
        ),
        (
            with(&runc::attr_u32(runc::SETGROUP_ATTR, 2)),
            "must be 0 or 1",
        ),
        (
            with(&runc::attr_bytes(runc::SETGROUP_ATTR, b"abcdefg")),
            "must be a bool",
        ),
        (
            with(&runc::attr_bytes(
                runc::NS_PATHS_ATTR,
                b"mount:/proc/1/ns/mnt",
            )),
            "unknown namespace type",
        ),
        (
            with(&runc::attr_bytes(runc::NS_PATHS_ATTR, b"/proc/1/ns/net")),
            "no ':'",
        ),
        (
            with(&runc::attr_bytes(runc::NS_PATHS_ATTR, b"net:")),
            "empty path",
        ),
        (
            with(&runc::attr_bytes(runc::NS_PATHS_ATTR, b"net:/a,net:/b")),
            "twice",
        ),
        (
            with(&runc::attr_bytes(runc::UIDMAP_ATTR, b"0 1000\n")),
            "UIDMAP line 1",
        ),
        (
            with(&runc::attr_bytes(runc::GIDMAP_ATTR, b"0 x 1\n")),
            "GIDMAP line 1",
        ),
        (
            with(&runc::attr_bytes(runc::OOMSCOREADJ_ATTR, b"2000")),
            "OOM_SCORE_ADJ",
        ),
        (
            with(&runc::attr_bytes(runc::UIDMAPPATH_ATTR, b"newuidmap")),
            "UIDMAP_PATH is not an absolute path",
        ),
        (
            with(&runc::attr_bytes(
                runc::TIMENSOFFSET_ATTR,
                b"realtime 5 0\n",
            )),
            "TIME_OFFSETS line 1",
        ),
    ];
    for (raw, needle) in cases {
        expect_fatal(&empty, Some(raw), vec![], needle);
    }
    let many: String = (0..341)
        .map(|i| format!("{i} {} 1\n", 100000 + i))
        .collect();
    expect_fatal(
        &empty,
        Some(with(&runc::attr_bytes(runc::UIDMAP_ATTR, many.as_bytes()))),
        vec![],
        "340 lines",
    );
}

#[test]
fn bad_environment_values_are_fatal() {
    let _g = serial();
    let msg = Bootstrap {
        clone_flags: runc::CLONE_NEWUTS,
        ..Default::default()
    };
    expect_fatal(
        &msg,
        None,
        vec![("_LIBCONTAINER_INITPIPE", "abc".into())],
        "_LIBCONTAINER_INITPIPE=abc",
    );
    expect_fatal(
        &msg,
        None,
        vec![("_LIBCONTAINER_INITPIPE", "-1".into())],
        "_LIBCONTAINER_INITPIPE=-1",
    );
    expect_fatal(
        &msg,
        None,
        vec![("_LIBCONTAINER_INITPIPE", "99".into())],
        "EBADF",
    );
    expect_fatal(
        &msg,
        None,
        vec![("_LIBCONTAINER_LOGPIPE", "x4".into())],
        "_LIBCONTAINER_LOGPIPE=x4",
    );
    expect_fatal(
        &msg,
        None,
        vec![
            ("_LIBCONTAINER_LOGPIPE", "4".into()),
            ("_LIBCONTAINER_LOGLEVEL", "9".into()),
        ],
        "_LIBCONTAINER_LOGLEVEL=9",
    );
}

#[test]
fn bad_namespace_specs_are_fatal_and_leave_nothing() {
    if skip_under_qemu("stages use CLONE_PARENT") {
        return;
    }
    let _g = serial();
    let me = std::process::id();
    for (t, p, needle) in [
        ("pid", "/proc/-1/ns/pid".to_string(), "ENOENT"),
        (
            "net",
            format!("/proc/{me}/ns/pid"),
            "is a pid namespace, not net",
        ),
        ("uts", "/nonexistent/ns".to_string(), "ENOENT"),
        (
            "ipc",
            "/etc/hostname".to_string(),
            "/etc/hostname is not a namespace file (given for ipc)",
        ),
    ] {
        let msg = Bootstrap {
            ns_paths: vec![(t.into(), p)],
            ..Default::default()
        };
        expect_fatal(&msg, None, vec![], needle);
    }
}

#[test]
fn empty_ns_paths_are_fatal_as_in_runc() {
    if skip_under_qemu("stages use CLONE_PARENT") {
        return;
    }
    let _g = serial();
    let mut a = runc::attr_u32(runc::CLONE_FLAGS_ATTR, runc::CLONE_NEWUTS);
    a.extend(runc::attr_bytes(runc::NS_PATHS_ATTR, b""));
    expect_fatal(
        &Bootstrap::default(),
        Some(runc::message(&a)),
        vec![],
        "ns paths are empty",
    );
}

#[test]
fn a_fifo_given_as_a_namespace_path_fails_at_once_naming_it() {
    if skip_under_qemu("stages use CLONE_PARENT") {
        return;
    }
    let _g = serial();
    // runc's C hangs in open() here until its caller gives up; nsexec opens
    // without blocking and asks the kernel what the file is.
    let dir = std::env::temp_dir().join(marker("fifo-ns"));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("ns");
    let _ = std::fs::remove_file(&fifo);
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let msg = Bootstrap {
        ns_paths: vec![("net".into(), fifo.display().to_string())],
        ..Default::default()
    };
    let started = std::time::Instant::now();
    expect_fatal(
        &msg,
        None,
        vec![],
        &format!("{} is not a namespace file (given for net)", fifo.display()),
    );
    // Not a timing assertion: a hang would be ended by run()'s own
    // deadline, which this rules out.
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_no_stage_alive();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn no_program_is_fatal_before_anything_else() {
    let _g = serial();
    let o = runc::run(
        &bootstrap_nsexec(),
        &Bootstrap::default(),
        Options {
            program: vec![],
            log_pipe: false,
            ..Default::default()
        },
    );
    assert_eq!(o.stage0, Some(1));
    assert!(o.stderr.contains("no program"), "{}", o.stderr);
    assert!(o.pipe.is_empty());
    let o = runc::run(
        &bootstrap_nsexec(),
        &Bootstrap::default(),
        Options {
            program: vec!["--".into()],
            log_pipe: false,
            ..Default::default()
        },
    );
    assert_eq!(o.stage0, Some(1));
}

#[test]
fn a_bare_program_name_is_found_in_path_and_a_missing_one_exits_127() {
    if skip_under_qemu("stages use CLONE_PARENT") {
        return;
    }
    let _g = serial();
    let msg = Bootstrap {
        clone_flags: runc::CLONE_NEWUTS,
        ..Default::default()
    };
    let with_path = |program: &[&str], path: String| {
        runc::run(
            &bootstrap_nsexec(),
            &msg,
            Options {
                program: program.iter().map(|s| s.to_string()).collect(),
                env: vec![("PATH", path)],
                ..Default::default()
            },
        )
    };
    // An entry too long to be a path is passed over, as execvp does.
    let too_long = "d".repeat(5000);
    let o = with_path(&["sh", "-c", "exit 7"], format!("{too_long}:/usr/bin:/bin"));
    assert_eq!(o.stage0, Some(0), "{}", o.stderr);
    assert_eq!(o.payload, Some(7), "{}", o.stderr);
    let o = with_path(&["no-such-program-anywhere"], "/usr/bin:/bin".into());
    assert_eq!(o.stage0, Some(127), "{}", o.stderr);
    assert!(o.pipe.is_empty(), "{:?}", o.pipe);
    let fatal = o.log.join("\n");
    assert!(
        fatal.contains("open of the program no-such-program-anywhere: ENOENT"),
        "{fatal}"
    );
    assert_no_stage_alive();
}

#[test]
fn a_script_payload_runs_from_its_sealed_copy() {
    if skip_under_qemu("stages use CLONE_PARENT") {
        return;
    }
    let _g = serial();
    let dir = tempdir("script-payload");
    let script = format!("{dir}/hello.sh");
    std::fs::write(&script, "#!/bin/sh\necho \"hello $1 from $0\"\nexit 3\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let msg = Bootstrap {
        clone_flags: runc::CLONE_NEWUTS,
        ..Default::default()
    };
    let o = runc::run(
        &bootstrap_nsexec(),
        &msg,
        Options {
            program: vec![script.clone(), "world".into()],
            ..Default::default()
        },
    );
    assert_eq!(o.stage0, Some(0), "{}", o.stderr);
    assert_eq!(o.payload, Some(3), "{}", o.stderr);
    // The interpreter reads the script from the sealed copy, not the file.
    assert!(
        o.stdout.starts_with("hello world from /dev/fd/"),
        "{:?}",
        o.stdout
    );
    assert_no_stage_alive();
}

/// A throwaway unprivileged user with subordinate ranges, created once.
/// Returns its uid, gid and the start of its subordinate uid and gid ranges.
#[test]
fn rootless_single_mapping_denies_setgroups() {
    if skip_under_qemu("user namespaces") {
        return;
    }
    let _g = serial();
    let (uid, gid) = test_user();
    let msg = Bootstrap {
        clone_flags: runc::CLONE_NEWUSER | runc::CLONE_NEWUTS | runc::CLONE_NEWNET,
        uid_map: Some(format!("0 {uid} 1\n")),
        gid_map: Some(format!("0 {gid} 1\n")),
        rootless_euid: true,
        setgroups: false,
        ..Default::default()
    };
    let o = runc::run(
        &bootstrap_nsexec(),
        &msg,
        Options {
            program: sh_payload("cat /proc/self/setgroups; id -u; id -g; cat /proc/self/uid_map"),
            as_user: Some((uid, gid)),
            ..Default::default()
        },
    );
    ok(&o);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines[0], "deny");
    assert_eq!((lines[1], lines[2]), ("0", "0"));
    assert_eq!(
        lines[3].split_whitespace().collect::<Vec<_>>(),
        ["0", &uid.to_string(), "1"]
    );
    assert_no_stage_alive();
}

#[test]
fn rootless_multi_line_mapping_goes_through_newuidmap() {
    if skip_under_qemu("user namespaces") {
        return;
    }
    if !std::path::Path::new("/usr/bin/newuidmap").exists() {
        panic!("/usr/bin/newuidmap missing: install Debian's uidmap (tests/run does)");
    }
    let _g = serial();
    let (uid, gid) = test_user();
    let (su, sg) = (sub_start("/etc/subuid"), sub_start("/etc/subgid"));
    let msg = Bootstrap {
        clone_flags: runc::CLONE_NEWUSER | runc::CLONE_NEWUTS,
        uid_map: Some(format!("0 {uid} 1\n1 {su} 65536\n")),
        gid_map: Some(format!("0 {gid} 1\n1 {sg} 65536\n")),
        uidmap_path: Some("/usr/bin/newuidmap".into()),
        gidmap_path: Some("/usr/bin/newgidmap".into()),
        rootless_euid: true,
        setgroups: false,
        ..Default::default()
    };
    let o = runc::run(
        &bootstrap_nsexec(),
        &msg,
        Options {
            program: sh_payload("cat /proc/self/uid_map /proc/self/gid_map; id -u"),
            as_user: Some((uid, gid)),
            ..Default::default()
        },
    );
    ok(&o);
    let words: Vec<String> = o.stdout.split_whitespace().map(str::to_owned).collect();
    let (u, g) = (uid.to_string(), gid.to_string());
    let (su, sg) = (su.to_string(), sg.to_string());
    assert_eq!(
        words,
        [
            "0", &u, "1", "1", &su, "65536", "0", &g, "1", "1", &sg, "65536", "0"
        ]
    );
    assert!(
        o.log
            .iter()
            .any(|l| l.contains("running /usr/bin/newuidmap")),
        "{:?}",
        o.log
    );
}

/// A caller in python3 that stops at `mode` and waits to be killed.
fn caller_script(nsexec: &std::path::Path, mode: &str, payload: &str) -> String {
    format!(
        r#"
import os, socket, struct, sys, time
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
os.set_inheritable(b.fileno(), True)
pid = os.fork()
if pid == 0:
    os.dup2(b.fileno(), 3)
    os.environ["_LIBCONTAINER_INITPIPE"] = "3"
    os.execv("{nsexec}", ["{nsexec}", "/bin/sh", "-c", "{payload}"])
b.close()
attrs = struct.pack("=HHI", 8, 27281, 0x04000000 | 0x40000000 | 0x20000000)
msg = struct.pack("=IHHII", 16 + len(attrs), 62000, 1, 0, 0) + attrs
mode = "{mode}"
if mode == "half":
    a.sendall(msg[:10])
elif mode != "before":
    a.sendall(msg)
    line = a.recv(100)
    print("json", line.decode().strip(), flush=True)
print("ready", flush=True)
time.sleep(600)
"#,
        nsexec = nsexec.display()
    )
}

/// Starts the python caller of `caller_script` and reads its lines until it
/// says it is ready to be killed.
fn start_caller(mode: &str, payload: &str) -> (std::process::Child, String) {
    let mut caller = std::process::Command::new("python3")
        .args(["-c", &caller_script(&bootstrap_nsexec(), mode, payload)])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(caller.stdout.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("ready") {
        let mut line = String::new();
        assert!(
            std::io::BufRead::read_line(&mut out, &mut line).unwrap() > 0,
            "caller ended early: {seen}"
        );
        seen += &line;
    }
    (caller, seen)
}

#[test]
fn killing_the_caller_before_the_pids_leaves_no_stage() {
    if skip_under_qemu("stages use CLONE_PARENT") {
        return;
    }
    let _g = serial();
    for mode in ["before", "half"] {
        let m = marker(&format!("killed-{mode}"));
        let (mut caller, _) = start_caller(mode, &format!("sleep 60; : {m}"));
        std::thread::sleep(Duration::from_millis(100));
        caller.kill().unwrap();
        caller.wait().unwrap();
        assert_gone(&m, Duration::from_secs(5));
    }
}

#[test]
fn the_payload_outlives_a_caller_killed_after_the_pids() {
    if skip_under_qemu("stages use CLONE_PARENT") {
        return;
    }
    let _g = serial();
    // `runc create` exits while its container waits to be started: once
    // stage 2 has handed over, the payload is the container's, not a stage,
    // and its creator's death must not take it along (as with runc's C).
    let m = marker("killed-after");
    let (mut caller, seen) = start_caller("after", &format!("sleep 60; : {m}"));
    assert!(seen.contains("stage2_pid"), "{seen}");
    // The caller's own command line holds the marker too; besides it, once
    // the stages have handed over and ended, only the payload does.
    let caller_pid = caller.id();
    let others = || -> Vec<u32> {
        let mut p = pids_matching(&m);
        p.retain(|&p| p != caller_pid);
        p
    };
    wait_until(|| {
        let p = others();
        p.len() == 1
            && std::fs::read_link(format!("/proc/{}/exe", p[0]))
                .is_ok_and(|e| !e.to_string_lossy().contains("nsexec"))
    });
    let payload = others();
    caller.kill().unwrap();
    caller.wait().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(others(), payload, "the payload died with its caller");
    unsafe { libc::kill(payload[0] as i32, libc::SIGKILL) };
    assert_gone(&m, Duration::from_secs(5));
}

/// nsexec under strace, which holds stage 1 in its unshare for 5 s (delay
/// injection) so that a test can act while it is there. Stage 0 is strace's
/// child, and so are stages 1 and 2 (CLONE_PARENT).
fn nsexec_held_in_unshare(dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let wrapper = dir.join("held-nsexec");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec strace -f -qq -o /dev/null -e trace=unshare -e inject=unshare:delay_enter=5000000 {} \"$@\"\n",
            bootstrap_nsexec().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    wrapper
}

/// Waits for a held stage 1 whose grandparent is this test process, then
/// sends SIGKILL to it, or with `parent`, to its parent (strace).
fn kill_held_stage_1(parent: bool) -> bool {
    let ppid = |p: &str| -> String {
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
        let rest = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
        rest.split_whitespace().nth(1).unwrap_or("").to_owned()
    };
    let me = std::process::id().to_string();
    for _ in 0..500 {
        let held = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .find(|p| {
                std::fs::read_to_string(format!("/proc/{p}/comm"))
                    .unwrap_or_default()
                    .trim()
                    == "runc:[1:CHILD]"
                    && ppid(&ppid(p)) == me
            });
        if let Some(p) = held {
            std::thread::sleep(Duration::from_millis(50));
            let target = if parent { ppid(&p) } else { p };
            unsafe { libc::kill(target.parse().unwrap(), libc::SIGKILL) };
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

#[test]
fn killing_the_caller_while_stage_1_works_leaves_no_stage() {
    if skip_under_qemu("stages use CLONE_PARENT") {
        return;
    }
    let _g = serial();
    // strace is the caller here. Its death kills stage 0 (PDEATHSIG); stages
    // 1 and 2 must then end on EOF, which only comes if neither of them
    // holds stage 0's end of the sync socket.
    let m = marker("caller-killed-in-set-up");
    let dir = std::env::temp_dir().join(&m);
    let wrapper = nsexec_held_in_unshare(&dir);
    let msg = Bootstrap {
        clone_flags: runc::CLONE_NEWUTS,
        ..Default::default()
    };
    let payload = sh_payload(&format!("sleep 60; : {m}"));
    // A stage left behind would hold the output pipes open and keep
    // runc::run waiting, so the run has a thread of its own and the
    // judgement (assert_gone) does not wait for it.
    let run = std::thread::spawn(move || {
        let opts = Options {
            program: payload,
            log_pipe: false,
            ..Default::default()
        };
        runc::run(&wrapper, &msg, opts)
    });
    assert!(kill_held_stage_1(true), "stage 1 never showed up");
    assert_gone(&m, Duration::from_secs(10));
    let o = run.join().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(o.pipe.is_empty(), "no pid JSON without a caller: {o:?}");
}

#[test]
fn a_killed_stage_makes_stage_0_fail_and_leaves_nothing() {
    if skip_under_qemu("stages use CLONE_PARENT") {
        return;
    }
    let _g = serial();
    let dir = std::env::temp_dir().join(marker("held"));
    let wrapper = nsexec_held_in_unshare(&dir);
    let msg = Bootstrap {
        clone_flags: runc::CLONE_NEWUTS,
        ..Default::default()
    };
    let killer = std::thread::spawn(|| kill_held_stage_1(false));
    let o = runc::run(
        &wrapper,
        &msg,
        Options {
            program: sh_payload("echo ran"),
            log_pipe: false,
            ..Default::default()
        },
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(killer.join().unwrap(), "stage 1 never showed up");
    assert_eq!(o.stage0, Some(1), "{}", o.stderr);
    assert!(
        o.stderr
            .contains("stage-1 exited before it finished set-up"),
        "{}",
        o.stderr
    );
    assert!(o.pipe.is_empty(), "no pid JSON without stage 2");
    assert!(!o.stdout.contains("ran"));
    assert_no_stage_alive();
}

fn sha256(path: &str) -> String {
    let o = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap();
    stdout_of(&o)
}

fn stdout_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// CVE-2019-5736: the payload runs inside the container, so a container
/// process must never get a writable handle to the host's file. The payload
/// (python3) re-executes /proc/self/exe, then tries to open it for writing;
/// it also keeps an O_PATH handle across an exec into another program and
/// reopens it for writing once nothing executes the copy any more.
#[test]
fn a_container_process_cannot_write_the_payload_through_proc_self_exe() {
    if skip_under_qemu("stages use CLONE_PARENT") {
        return;
    }
    let _g = serial();
    let python = std::fs::canonicalize("/usr/bin/python3").unwrap();
    let python = python.to_str().unwrap();
    let before = sha256(python);
    let attack = r#"
import os
print("exe", os.readlink("/proc/self/exe"))
for name, flags in (("wronly", os.O_WRONLY), ("rdwr", os.O_RDWR), ("trunc", os.O_WRONLY | os.O_TRUNC)):
    try:
        os.open("/proc/self/exe", flags)
        print(name, "OPENED")
    except OSError as e:
        print(name, "refused", e.errno)
keep = os.open("/proc/self/exe", os.O_PATH)
os.set_inheritable(keep, True)
# In a subshell: a failed redirection of `exec` ends the shell.
later = "(exec 9<>/proc/self/fd/%d && printf hacked >&9) && echo later WROTE || echo later refused" % keep
os.execv("/bin/sh", ["sh", "-c", later])
"#;
    let reexec = "import os, sys; os.execv('/proc/self/exe', ['python3', '-c', sys.argv[1]])";
    let msg = Bootstrap {
        clone_flags: runc::CLONE_NEWUTS | runc::CLONE_NEWIPC,
        ..Default::default()
    };
    let o = runc::run(
        &bootstrap_nsexec(),
        &msg,
        Options {
            program: vec![python.into(), "-c".into(), reexec.into(), attack.into()],
            ..Default::default()
        },
    );
    assert_eq!(o.stage0, Some(0), "{} {:?}", o.stderr, o.log);
    let base = python.rsplit('/').next().unwrap();
    // As root, a detached read-only overlayfs holds it (its path is
    // relative to a mount nobody can see); without the mount API, a sealed
    // memfd copy.
    let on_overlay = o.stdout.starts_with(&format!("exe /{base}\n"));
    assert!(
        on_overlay
            || o.stdout
                .starts_with(&format!("exe /memfd:{base} (deleted)\n")),
        "the payload runs from a protected file: {}",
        o.stdout
    );
    // While it runs the kernel refuses writers: EROFS on the overlay,
    // ETXTBSY on the copy.
    let errno = if on_overlay { 30 } else { 26 };
    for name in ["wronly", "rdwr", "trunc"] {
        assert!(
            o.stdout.contains(&format!("{name} refused {errno}\n")),
            "{name}: {}",
            o.stdout
        );
    }
    // A handle kept for later cannot write either (EROFS, or F_SEAL_WRITE).
    assert!(
        o.stdout.contains("later refused"),
        "{}{}",
        o.stdout,
        o.stderr
    );
    assert!(!o.stdout.contains("WROTE"));
    assert_eq!(sha256(python), before, "the host's file is unchanged");
}

#[test]
fn a_payload_that_is_already_a_sealed_memfd_is_used_as_it_is() {
    if skip_under_qemu("stages use CLONE_PARENT") {
        return;
    }
    let _g = serial();
    // What a runc 1.2 caller hands over: its binary as a sealed memfd.
    let name = std::ffi::CString::new("already-sealed").unwrap();
    let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_ALLOW_SEALING) };
    assert!(fd >= 0);
    let mut f = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    std::io::Write::write_all(&mut f, &std::fs::read("/bin/sh").unwrap()).unwrap();
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    assert_eq!(unsafe { libc::fcntl(fd, libc::F_ADD_SEALS, seals) }, 0);
    let path = format!("/proc/{}/fd/{fd}", std::process::id());
    let msg = Bootstrap {
        clone_flags: runc::CLONE_NEWUTS,
        ..Default::default()
    };
    let o = runc::run(
        &bootstrap_nsexec(),
        &msg,
        Options {
            program: vec![path, "-c".into(), "readlink /proc/$$/exe".into()],
            ..Default::default()
        },
    );
    ok(&o);
    // A copy would be named after the path's last component instead.
    assert_eq!(o.stdout, "/memfd:already-sealed (deleted)\n");
    drop(f);
}

#[test]
fn only_a_runc_1_1_caller_gets_the_handshake_byte() {
    if skip_under_qemu("stages use CLONE_PARENT") {
        return;
    }
    let _g = serial();
    let msg = Bootstrap {
        clone_flags: runc::CLONE_NEWUTS,
        ..Default::default()
    };
    // runc 1.2 and later: the pid JSON is the first thing on the pipe.
    let o = boot(&msg, "true");
    ok(&o);
    assert_eq!(o.pipe.first(), Some(&b'{'), "{:?}", o.pipe);
    // runc 1.1 (it sets _LIBCONTAINER_STATEDIR): one NUL byte first.
    let o = runc::run(
        &bootstrap_nsexec(),
        &msg,
        Options {
            program: sh_payload("true"),
            env: vec![("_LIBCONTAINER_STATEDIR", "/run/nsexec-test".into())],
            ..Default::default()
        },
    );
    ok(&o);
    assert_eq!(&o.pipe[..2], b"\0{", "{:?}", o.pipe);
    assert_eq!(o.pipe.iter().filter(|&&b| b == 0).count(), 1);
}

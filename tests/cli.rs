//! The command-line mode on real processes and real namespaces.

mod support;

use std::process::Command;
use std::time::Duration;
use support::*;

fn host_ns() -> std::collections::HashMap<String, String> {
    NS_NAMES
        .iter()
        .map(|n| (n.to_string(), ns_link("self", n)))
        .collect()
}

#[test]
fn each_create_flag_makes_exactly_its_namespace() {
    if skip_under_qemu("creating a user namespace needs native clone/unshare") {
        return;
    }
    let host = host_ns();
    for (flag, name) in [
        ("-p", "pid"),
        ("-m", "mnt"),
        ("-u", "uts"),
        ("-i", "ipc"),
        ("-n", "net"),
        ("-C", "cgroup"),
        ("-T", "time"),
        ("-U", "user"),
    ] {
        let o = sh(&[flag], &print_namespaces());
        assert!(o.status.success(), "{flag}: {}", stderr(&o));
        let inside = parse_namespaces(&stdout(&o));
        for n in NS_NAMES {
            let differs = inside.get(n) != host.get(n);
            assert_eq!(
                differs,
                n == name,
                "{flag}: namespace {n} inside {:?} host {:?}",
                inside.get(n),
                host.get(n)
            );
        }
    }
}

#[test]
fn non_user_namespaces_are_created_as_root_on_every_arch() {
    let host = host_ns();
    let o = sh(
        &["-p", "-m", "-u", "-i", "-n"],
        &format!("{} echo self=$$", print_namespaces()),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let inside = parse_namespaces(&stdout(&o));
    for n in ["pid", "mnt", "uts", "ipc", "net"] {
        assert_ne!(inside.get(n), host.get(n), "{n}");
    }
    assert_eq!(inside.get("user"), host.get("user"));
    assert_eq!(
        inside.get("self").map(String::as_str),
        Some("1"),
        "payload is pid 1 of the new pid namespace"
    );
}

#[test]
fn map_root_user_matches_unshare() {
    if skip_under_qemu("user namespaces") {
        return;
    }
    let ours = sh(
        &["-U", "-r"],
        "cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; id -u; id -g",
    );
    let theirs = Command::new("unshare")
        .args([
            "-U",
            "-r",
            "/bin/sh",
            "-c",
            "cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; id -u; id -g",
        ])
        .output()
        .unwrap();
    assert!(ours.status.success(), "{}", stderr(&ours));
    assert_eq!(stdout(&ours), stdout(&theirs));
    assert!(stdout(&ours).ends_with("0\n0\n"));
}

#[test]
fn map_current_user_keeps_the_callers_ids() {
    if skip_under_qemu("user namespaces") {
        return;
    }
    let o = sh(&["-U", "-c"], "cat /proc/self/uid_map; id -u");
    let uid = unsafe { libc::getuid() };
    let words: Vec<String> = stdout(&o).split_whitespace().map(str::to_owned).collect();
    assert_eq!(
        words,
        [
            uid.to_string(),
            uid.to_string(),
            "1".into(),
            uid.to_string()
        ]
    );
}

#[test]
fn map_users_writes_a_range_and_makes_root() {
    if skip_under_qemu("user namespaces") {
        return;
    }
    let o = sh(
        &[
            "--map-users=0:100000:65536",
            "--map-groups=0:100000:65536",
            "--map-user=0",
        ],
        "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; grep Groups /proc/self/status",
    );
    // --map-user after --map-users replaces the uid map with a single line.
    assert!(o.status.success(), "{}", stderr(&o));
    let o = sh(
        &["--map-users=0:100000:65536", "--map-groups=0:100000:65536"],
        "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let words: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(
        words,
        ["0", "100000", "65536", "0", "100000", "65536", "0", "0"],
        "{}",
        stdout(&o)
    );
}

#[test]
fn hostname_is_set_in_the_new_uts_namespace() {
    let o = sh(&["-u", "--hostname", "nsexec-test-host"], "hostname");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "nsexec-test-host");
    assert_ne!(
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .unwrap()
            .trim(),
        "nsexec-test-host"
    );
}

#[test]
fn mount_proc_shows_only_the_new_pid_namespace() {
    let o = sh(
        &["-p", "--mount-proc"],
        "echo $$; ls /proc | grep -c '^[0-9]'",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("1"));
    let count: u32 = lines.next().unwrap().parse().unwrap();
    assert!(count <= 3, "the fresh /proc lists {count} processes");
    // The host's /proc is untouched.
    assert!(std::fs::read_dir("/proc").unwrap().count() > 3);
}

#[test]
fn time_offsets_reach_the_payload() {
    if skip_under_qemu("time namespaces need a new-process clone") {
        return;
    }
    let host: f64 = std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let o = sh(
        &["-T", "--boottime", "86400", "--monotonic", "3600"],
        "cat /proc/uptime",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let inside: f64 = stdout(&o)
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        inside >= host + 86400.0 - 5.0 && inside < host + 86400.0 + 60.0,
        "uptime {inside} vs host {host}"
    );
}

/// The payload of `-T` must sit in the new time namespace itself, not only
/// its children: kernels before 6.3 do not switch it at exec (Debian 12's
/// 6.1; `just vm` checks the uptime there). Here nsexec stays as the parent
/// (`--init`), so its own namespace shows whether it joined the new one.
#[test]
fn nsexec_itself_enters_the_time_namespace_it_creates() {
    if skip_under_qemu("time namespaces") {
        return;
    }
    let o = sh(
        &["-T", "--boottime", "5", "--init"],
        "echo \"$(readlink /proc/$PPID/ns/time) $(readlink /proc/$$/ns/time)\"",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let links: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(links.len(), 2, "{out}");
    assert_eq!(
        links[0], links[1],
        "nsexec and its program share one time namespace"
    );
    assert_ne!(links[0], ns_link("self", "time"), "a new one");
}

#[test]
fn oom_score_adj_is_inherited_by_the_payload() {
    let o = sh(&["--oom-score-adj", "537"], "cat /proc/self/oom_score_adj");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "537");
}

#[test]
fn no_new_privs_is_set_for_the_payload() {
    let o = sh(&["--no-new-privs"], "grep NoNewPrivs /proc/self/status");
    assert_eq!(stdout(&o).split_whitespace().last(), Some("1"));
    let o = sh(&[], "grep NoNewPrivs /proc/self/status");
    assert_eq!(stdout(&o).split_whitespace().last(), Some("0"));
}

#[test]
fn exit_statuses_pass_through_unchanged() {
    for code in (0..=255).step_by(1) {
        let o = sh(&[], &format!("exit {code}"));
        assert_eq!(o.status.code(), Some(code), "exit {code}");
    }
}

#[test]
fn exit_statuses_pass_through_a_new_pid_namespace_and_init() {
    for args in [&["-p"][..], &["--init"], &["-p", "--init"]] {
        for code in [0, 1, 7, 126, 127, 128, 200, 255] {
            let o = sh(args, &format!("exit {code}"));
            assert_eq!(o.status.code(), Some(code), "{args:?} exit {code}");
        }
    }
}

#[test]
fn a_payload_killed_by_a_signal_gives_128_plus_its_number() {
    for sig in [1, 2, 9, 15, 10] {
        let o = sh(&["--init"], &format!("kill -{sig} $$"));
        assert_eq!(
            o.status.code(),
            Some(128 + sig),
            "signal {sig}: {}",
            stderr(&o)
        );
        let o = sh(&[], &format!("kill -{sig} $$"));
        assert_eq!(
            o.status.code(),
            None,
            "without a child the payload is nsexec itself"
        );
    }
}

#[test]
fn missing_and_unexecutable_programs_give_127_and_126() {
    let o = run(cmd(["/nonexistent/program"]), Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(127));
    assert!(
        stderr(&o).contains("/nonexistent/program") && stderr(&o).contains("ENOENT"),
        "{}",
        stderr(&o)
    );
    let o = run(cmd(["no-such-program-anywhere"]), Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(127));
    let dir = tempdir("noexec");
    let plain = format!("{dir}/plain");
    std::fs::write(&plain, "not a program").unwrap();
    let o = run(cmd([&plain]), Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(126));
    assert!(stderr(&o).contains("EACCES"), "{}", stderr(&o));
    let garbage = format!("{dir}/garbage");
    std::fs::write(&garbage, [0x7fu8, b'E', b'L', b'F', 0, 0, 0]).unwrap();
    std::fs::set_permissions(
        &garbage,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let o = run(cmd([&garbage]), Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(126));
    assert!(stderr(&o).contains("ENOEXEC"), "{}", stderr(&o));
    let o = run(
        cmd(["-p", "--", "/nonexistent/program"]),
        Duration::from_secs(10),
    );
    assert_eq!(o.status.code(), Some(127));
}

#[test]
fn bad_command_lines_exit_125_with_a_usage_hint_and_run_nothing() {
    let dir = tempdir("badcli");
    let flag = format!("{dir}/ran");
    let touch = format!("touch {flag}");
    let cases: &[&[&str]] = &[
        &["--frobnicate"],
        &["-Z"],
        &["--target"],
        &["--target=notapid"],
        &["--boottime", "5"],
        &["--monotonic", "5"],
        &["--hostname", "h"],
        &["--mount-proc"],
        &["--join", "bogus=/x"],
        &["--join", "net"],
        &["--oom-score-adj", "5000"],
        &["--remap-exit", "300"],
        &["--kill-child=NOTASIG"],
        &["--setgroups=maybe", "-U"],
        &["--pid=3"],
        &["-t", "999999999"],
        &["--join", "net=/nonexistent/ns"],
    ];
    for args in cases {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--", "/bin/sh", "-c", &touch]);
        let o = run(cmd(&all), Duration::from_secs(10));
        assert_eq!(o.status.code(), Some(125), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert_eq!(
            err.lines().filter(|l| l.starts_with("nsexec: ")).count(),
            1,
            "{args:?}: one line naming the problem: {err}"
        );
        assert!(
            !std::path::Path::new(&flag).exists(),
            "{args:?} ran the program"
        );
    }
    let o = run(cmd(["--frobnicate", "x"]), Duration::from_secs(10));
    assert!(stderr(&o).contains("Try 'nsexec --help'"));
    let o = run(cmd(["-U"]), Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("no program"));
}

#[test]
fn help_and_version_print_and_exit_zero() {
    let o = run(cmd(["--help"]), Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(0));
    for opt in [
        "--user",
        "--target",
        "--map-users",
        "--init",
        "--console-socket",
        "--remap-exit",
    ] {
        assert!(stdout(&o).contains(opt), "--help lacks {opt}");
    }
    let o = run(cmd(["--version"]), Duration::from_secs(10));
    assert!(stdout(&o).starts_with("nsexec "));
}

#[test]
fn target_joins_every_namespace_of_a_running_process() {
    if skip_under_qemu("the target needs a user namespace") {
        return;
    }
    let m = marker("target");
    let mut target = Command::new("unshare")
        .args([
            "-U",
            "-r",
            "-p",
            "-f",
            "-m",
            "-u",
            "-i",
            "-n",
            "/bin/sh",
            "-c",
            &format!("sleep 60; : {m}"),
        ])
        .spawn()
        .unwrap();
    let pid = wait_for_pid(&m);
    let target_ns: std::collections::HashMap<&str, String> = NS_NAMES
        .iter()
        .map(|n| (*n, ns_link(&pid.to_string(), n)))
        .collect();
    let o = sh(
        &["-t", &pid.to_string()],
        &format!("{} id -u", print_namespaces()),
    );
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    let _ = target.kill();
    let _ = target.wait();
    assert!(o.status.success(), "{}", stderr(&o));
    let inside = parse_namespaces(&stdout(&o));
    for n in ["user", "pid", "mnt", "uts", "ipc", "net"] {
        assert_eq!(inside.get(n), Some(&target_ns[n]), "{n}");
    }
    assert!(
        stdout(&o).trim_end().ends_with('0'),
        "root in the joined user namespace: {}",
        stdout(&o)
    );
    assert_gone(&m, Duration::from_secs(5));
}

#[test]
fn join_by_path_matches_nsenter() {
    let m = marker("join");
    let mut target = Command::new("unshare")
        .args(["-u", "-n", "/bin/sh", "-c", &format!("sleep 60; : {m}")])
        .spawn()
        .unwrap();
    let pid = wait_for_pid(&m).to_string();
    let target_net = ns_link(&pid, "net");
    let ours = sh(
        &[
            "--join",
            &format!("net=/proc/{pid}/ns/net"),
            "--join",
            &format!("uts=/proc/{pid}/ns/uts"),
        ],
        "readlink /proc/self/ns/net /proc/self/ns/uts",
    );
    let theirs = Command::new("nsenter")
        .args([
            "-t",
            &pid,
            "-n",
            "-u",
            "readlink",
            "/proc/self/ns/net",
            "/proc/self/ns/uts",
        ])
        .output()
        .unwrap();
    let _ = target.kill();
    let _ = target.wait();
    assert!(ours.status.success(), "{}", stderr(&ours));
    assert_eq!(stdout(&ours), stdout(&theirs));
    assert_eq!(stdout(&ours).lines().next().unwrap(), target_net);
}

#[test]
fn joining_runs_from_a_sealed_memfd_and_stays_non_dumpable() {
    if skip_under_qemu("the target needs a user namespace") {
        return;
    }
    let m = marker("sealed-target");
    let mut target = Command::new("unshare")
        .args([
            "-U",
            "-r",
            "-p",
            "-f",
            "--kill-child",
            "-m",
            "-u",
            "-n",
            "/bin/sh",
            "-c",
            &format!("sleep 60; : {m}"),
        ])
        .spawn()
        .unwrap();
    let tpid = wait_for_pid(&m).to_string();
    // With the pid namespace joined, nsexec stays as the payload's parent,
    // inside the container's namespaces: the CVE-2019-5736 position.
    let m2 = marker("sealed-nsexec");
    let mut ours = cmd([
        "-t",
        &tpid,
        "--",
        "/bin/sh",
        "-c",
        &format!("sleep 60; : {m2}"),
    ])
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let nsexec_pid = pids_matching(&m2)
        .into_iter()
        .find(|p| {
            std::fs::read_link(format!("/proc/{p}/exe"))
                .is_ok_and(|e| !e.ends_with("dash") && !e.ends_with("sh"))
        })
        .expect("nsexec process");
    let exe = std::fs::read_link(format!("/proc/{nsexec_pid}/exe")).unwrap();
    // A process of the container (its user namespace, host pid view) tries
    // to read nsexec's environment, then its own sibling's as a control.
    let peek = |pid: String| {
        Command::new("nsenter")
            .args([
                "-t",
                &tpid,
                "-U",
                "--",
                "cat",
                &format!("/proc/{pid}/environ"),
            ])
            .output()
            .unwrap()
            .status
            .success()
    };
    let nsexec_readable = peek(nsexec_pid.to_string());
    let target_readable = peek(tpid.clone());
    let _ = ours.kill();
    let _ = ours.wait();
    unsafe { libc::kill(tpid.parse().unwrap(), libc::SIGKILL) };
    let _ = target.kill();
    let _ = target.wait();
    assert_eq!(
        exe.display().to_string(),
        "/memfd:nsexec (deleted)",
        "nsexec re-executed from its sealed copy"
    );
    assert!(
        target_readable,
        "control: the container can read its own process"
    );
    assert!(
        !nsexec_readable,
        "nsexec is non-dumpable inside the joined namespaces"
    );
}

#[test]
fn a_setuid_copy_refuses_to_run() {
    if skip_under_qemu("setuid under qemu-user is qemu's") {
        return;
    }
    // A setuid-root copy run by an unprivileged user gets AT_SECURE.
    // Beside the build, where binaries run, rather than a possibly nosuid /tmp.
    let dir = format!("{}/target/{}", env!("CARGO_MANIFEST_DIR"), marker("setuid"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let cdir = std::ffi::CString::new(dir.clone()).unwrap();
    let mut vfs: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(cdir.as_ptr(), &mut vfs) } == 0 && vfs.f_flag & libc::ST_NOSUID != 0 {
        eprintln!("skipped: {dir} is on a nosuid mount, where no binary can be setuid");
        return;
    }
    let copy = format!("{dir}/nsexec");
    std::fs::copy(nsexec(), &copy).unwrap();
    std::fs::set_permissions(&copy, std::os::unix::fs::PermissionsExt::from_mode(0o4755)).unwrap();
    let mut c = Command::new(&copy);
    c.args(["--", "/bin/echo", "ran"]);
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut c, || {
            if libc::setgid(65534) != 0 || libc::setuid(65534) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = run(c, Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("AT_SECURE"), "{}", stderr(&o));
    assert!(!stdout(&o).contains("ran"));
    // The same copy without the setuid bit runs.
    std::fs::set_permissions(&copy, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let o = run(
        Command::new(&copy)
            .args(["--", "/bin/echo", "ran"])
            .to_owned_cmd(),
        Duration::from_secs(10),
    );
    assert_eq!(stdout(&o), "ran\n");
}

trait ToOwnedCmd {
    fn to_owned_cmd(&mut self) -> Command;
}

impl ToOwnedCmd for Command {
    fn to_owned_cmd(&mut self) -> Command {
        let mut c = Command::new(self.get_program());
        c.args(self.get_args());
        c
    }
}

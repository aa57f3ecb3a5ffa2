//! Seccomp profiles that work in a deployment: per-mode sets, merged with
//! jq into an application's own profile and into containers-common's,
//! under Debian's runc; and `--seccomp-bpf`
//! confining the program as bubblewrap's `--seccomp` does.

mod support;

use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::bundle::Bundle;
use support::*;

fn set(mode: &str) -> BTreeSet<String> {
    let o = run(cmd([format!("--syscalls={mode}")]), Duration::from_secs(10));
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o).lines().map(str::to_owned).collect()
}

/// The README's per-mode table, as the binary prints it.
fn readme_table() -> String {
    let mut t = String::from("| mode | calls |\n|---|---|\n");
    for mode in MODES.into_iter().chain(["all"]) {
        let names: Vec<String> = set(mode).into_iter().map(|n| format!("`{n}`")).collect();
        t += &format!("| {mode} ({}) | {} |\n", names.len(), names.join(" "));
    }
    t
}

#[test]
fn the_readme_shows_the_per_mode_sets_of_the_table() {
    if std::env::var("NSEXEC_ARCH").is_ok_and(|a| a != "x86_64") {
        return; // the README shows x86_64 names
    }
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let (_, rest) = readme
        .split_once("<!-- syscalls per mode: begin -->\n")
        .expect("README marks the table");
    let (shown, _) = rest.split_once("<!-- syscalls per mode: end -->").unwrap();
    let want = readme_table();
    assert_eq!(
        shown, want,
        "README is stale; the table should read:\n{want}"
    );
}

#[test]
fn each_mode_profile_allows_exactly_its_set() {
    for mode in MODES.into_iter().chain(["init,console", "init,tty"]) {
        let o = run(
            cmd([format!("--seccomp-profile={mode}")]),
            Duration::from_secs(10),
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        let names: BTreeSet<String> = v["syscalls"][0]["names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, set(mode), "{mode}");
    }
    assert!(set("init").len() < set("all").len());
    assert_eq!(
        set("init,console"),
        set("init").union(&set("console")).cloned().collect()
    );
}

/// `profile` with `nsexec --seccomp-profile=MODE` merged in, by the jq
/// one-liner the README shows: nsexec's rule appended to the profile's own.
fn merge(profile: &str, mode: &str) -> std::process::Output {
    // A directory of its own: the tests merge side by side.
    let dir = std::path::PathBuf::from(tempdir("merge"));
    let (app, ours) = (dir.join("app.json"), dir.join("nsexec.json"));
    std::fs::write(&app, profile).unwrap();
    let o = run(
        cmd([format!("--seccomp-profile={mode}")]),
        Duration::from_secs(10),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(&ours, &o.stdout).unwrap();
    let mut jq = Command::new("jq");
    jq.arg("--slurpfile")
        .arg("ns")
        .arg(&ours)
        .arg(".syscalls += $ns[0].syscalls")
        .arg(&app);
    let o = run(jq, Duration::from_secs(10));
    let _ = std::fs::remove_dir_all(&dir);
    o
}

#[test]
fn jq_merges_the_profile_keeping_the_applications_own() {
    let app = json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
        "syscalls": [
            {"names": ["write", "futex"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO"}
        ]
    });
    let o = merge(&app.to_string(), "init");
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("merged JSON");
    let rules = v["syscalls"].as_array().unwrap();
    assert_eq!(rules.len(), 3);
    for (i, rule) in app["syscalls"].as_array().unwrap().iter().enumerate() {
        assert_eq!(&rules[i], rule, "rule {i} kept as it was");
    }
    for key in ["defaultAction", "defaultErrnoRet", "architectures"] {
        assert_eq!(v[key], app[key], "{key} kept");
    }
    let added: BTreeSet<String> = rules[2]["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(added, set("init"));
    assert_eq!(rules[2]["action"], "SCMP_ACT_ALLOW");
}

/// containers-common's profile, as podman installs it, with `name` taken
/// out of every rule: a platform profile that happens to lack one of the
/// init's calls.
fn containers_profile_without(name: &str) -> Option<Value> {
    let text = std::fs::read_to_string("/usr/share/containers/seccomp.json").ok()?;
    let mut v: Value = serde_json::from_str(&text).unwrap();
    for rule in v["syscalls"].as_array_mut().unwrap() {
        if let Some(names) = rule["names"].as_array_mut() {
            names.retain(|n| n != name);
        }
    }
    Some(v)
}

#[test]
fn under_runc_containers_commons_profile_merged_with_jq_runs_the_init() {
    if skip_under_qemu("runc runs natively only") {
        return;
    }
    let profile = containers_profile_without("rt_sigtimedwait")
        .expect("/usr/share/containers/seccomp.json (containers-common; tests/inject/setup.sh installs podman)");
    let app = ["/busybox", "sh", "-c", "echo ran"];
    // As it is, the profile stops nsexec's init, which says which call.
    let o = run_bundle("containers-seccomp-as-is", &profile, &app);
    assert_ne!(o.status.code(), Some(0), "{}", stdout(&o));
    // (containers-common answers what it does not allow with ENOSYS.)
    assert!(
        stderr(&o).contains("nsexec: rt_sigtimedwait: ENOSYS"),
        "{}",
        stderr(&o)
    );
    // Merged with jq, the same profile runs it.
    let o = merge(&profile.to_string(), "init");
    assert!(o.status.success(), "{}", stderr(&o));
    let merged: Value = serde_json::from_slice(&o.stdout).unwrap();
    let o = run_bundle("containers-seccomp-merged", &merged, &app);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "ran\n");
}

/// A classic-BPF filter for x86_64: `deny` fails with EPERM, all else runs.
fn deny_filter(deny: i64) -> Vec<u8> {
    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    let insn = |code: u32, jt: u8, jf: u8, k: u32| {
        let mut b = (code as u16).to_ne_bytes().to_vec();
        b.extend([jt, jf]);
        b.extend(k.to_ne_bytes());
        b
    };
    let ld = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
    let jeq = libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K;
    let ret = libc::BPF_RET | libc::BPF_K;
    [
        insn(ld, 0, 0, 4),
        insn(jeq, 1, 0, AUDIT_ARCH_X86_64),
        insn(ret, 0, 0, libc::SECCOMP_RET_KILL_PROCESS),
        insn(ld, 0, 0, 0),
        insn(jeq, 0, 1, deny as u32),
        insn(ret, 0, 0, libc::SECCOMP_RET_ERRNO | libc::EPERM as u32),
        insn(ret, 0, 0, libc::SECCOMP_RET_ALLOW),
    ]
    .concat()
}

#[test]
fn seccomp_bpf_confines_the_program() {
    if skip_under_qemu("the filter is built for x86_64") {
        return;
    }
    let dir = std::env::temp_dir().join(marker("bpf"));
    std::fs::create_dir_all(&dir).unwrap();
    let filter = dir.join("no-mkdir.bpf");
    std::fs::write(&filter, deny_filter(libc::SYS_mkdir)).unwrap();
    let made = dir.join("made");
    // From a path, with no_new_privs.
    let o = run(
        cmd([
            "--no-new-privs",
            "--seccomp-bpf",
            filter.to_str().unwrap(),
            "--",
            "/bin/mkdir",
            made.to_str().unwrap(),
        ]),
        Duration::from_secs(20),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Operation not permitted"),
        "{}",
        stderr(&o)
    );
    assert!(!made.exists());
    // The same program without the filter makes it.
    let o = run(
        cmd(["--", "/bin/mkdir", made.to_str().unwrap()]),
        Duration::from_secs(20),
    );
    assert!(o.status.success() && made.exists());
    std::fs::remove_dir(&made).unwrap();
    // From a descriptor (as bubblewrap takes it), inside new namespaces.
    let mut c = cmd([
        "-U",
        "-r",
        "-p",
        "--seccomp-bpf",
        "7",
        "--",
        "/bin/sh",
        "-c",
        &format!("mkdir {} || echo refused", made.display()),
    ]);
    let f = std::fs::File::open(&filter).unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&f);
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut c, move || {
            if libc::dup2(fd, 7) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = run(c, Duration::from_secs(20));
    assert!(
        stdout(&o).ends_with("refused\n"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    assert!(!made.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_filter_is_refused_and_the_program_does_not_run() {
    if skip_under_qemu("the filter is built for x86_64") {
        return;
    }
    let dir = std::env::temp_dir().join(marker("badbpf"));
    std::fs::create_dir_all(&dir).unwrap();
    let ran = dir.join("ran");
    let touch = |filter: &str, extra: &[&str]| {
        let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        args.extend([
            "--seccomp-bpf".into(),
            filter.into(),
            "--".into(),
            "/bin/touch".into(),
        ]);
        args.push(ran.display().to_string());
        cmd(args)
    };
    let short = dir.join("short.bpf");
    std::fs::write(&short, [0u8; 7]).unwrap();
    for (c, needle) in [
        (
            touch(short.to_str().unwrap(), &[]),
            "not a whole number of 8-byte instructions",
        ),
        (touch("/nonexistent.bpf", &[]), "ENOENT"),
        (touch("99", &[]), "EBADF"),
    ] {
        let o = run(c, Duration::from_secs(20));
        assert_eq!(o.status.code(), Some(125), "{needle}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{needle}: {}", stderr(&o));
        assert!(!ran.exists(), "the program ran for {needle}");
    }
    // Without no_new_privs and without CAP_SYS_ADMIN the kernel refuses it.
    let good = dir.join("good.bpf");
    std::fs::write(&good, deny_filter(libc::SYS_mkdir)).unwrap();
    let (uid, gid) = test_user();
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let mut c = touch(good.to_str().unwrap(), &[]);
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut c, move || {
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(gid) != 0
                || libc::setuid(uid) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = run(c, Duration::from_secs(20));
    assert_ne!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("PR_SET_SECCOMP") && stderr(&o).contains("EACCES"),
        "{}",
        stderr(&o)
    );
    assert!(!ran.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// What runc 1.1.5's Go init calls between loading the container's filter
/// and executing the process (measured with strace; README lists it), and
/// the Go runtime's own calls that may land in that window.
const RUNC_1_1_AFTER_FILTER: &[&str] = &[
    "close",
    "epoll_ctl",
    "execve",
    "fstatfs",
    "futex",
    "getdents64",
    "getpid",
    "openat",
    "prctl",
    "write",
    "epoll_pwait",
    "fcntl",
    "gettid",
    "madvise",
    "mmap",
    "munmap",
    "nanosleep",
    "newfstatat",
    "read",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "sched_yield",
    "sigaltstack",
    "tgkill",
    "exit",
    "exit_group",
];

/// The calls `/bin/busybox ARGS` makes, as a profile generator would list them.
fn app_calls(args: &[&str]) -> BTreeSet<String> {
    let log = std::env::temp_dir().join(marker("appcalls"));
    let st = Command::new("strace")
        .args(["-f", "-qq", "-o"])
        .arg(&log)
        .arg("/bin/busybox")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let _ = st;
    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    text.lines()
        .filter_map(|l| {
            let rest = l.split_once(' ')?.1.trim_start();
            let name = rest.split('(').next()?;
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                .then(|| name.to_owned())
        })
        .filter(|n| !n.is_empty())
        .collect()
}

/// The profile a platform team would put in the bundle: the app's calls and
/// the runtime's share, merged with `nsexec --seccomp-profile=init`.
fn merged_for(app: &BTreeSet<String>, drop: &[&str]) -> Value {
    let mut names: BTreeSet<String> = app.clone();
    names.extend(RUNC_1_1_AFTER_FILTER.iter().map(|s| s.to_string()));
    let profile = json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": names, "action": "SCMP_ACT_ALLOW"}]
    });
    let o = merge(&profile.to_string(), "init");
    assert!(o.status.success(), "{}", stderr(&o));
    let mut v: Value = serde_json::from_slice(&o.stdout).unwrap();
    for rule in v["syscalls"].as_array_mut().unwrap() {
        let kept: Vec<Value> = rule["names"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| !drop.contains(&n.as_str().unwrap()))
            .cloned()
            .collect();
        rule["names"] = Value::Array(kept);
    }
    v
}

fn run_bundle(name: &str, profile: &Value, app: &[&str]) -> std::process::Output {
    let b = Bundle::new(name, app);
    b.set_seccomp(profile);
    wait_output(b.spawn(), Duration::from_secs(30))
}

#[test]
fn under_runc_the_merged_profile_runs_the_app_and_refuses_what_it_lacks() {
    if skip_under_qemu("runc runs natively only") {
        return;
    }
    let mkdir = app_calls(&["mkdir", "-p", "/tmp/nsexec-appcalls/x"]);
    let _ = std::fs::remove_dir_all("/tmp/nsexec-appcalls");
    assert!(mkdir.contains("mkdir"), "{mkdir:?}");
    // The app's whole profile: it works.
    let o = run_bundle(
        "seccomp-ok",
        &merged_for(&mkdir, &[]),
        &["/busybox", "mkdir", "-p", "/tmp/made"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // mkdir is outside the profile: the app gets EPERM, nsexec and runc go on
    // and report its status.
    let o = run_bundle(
        "seccomp-eperm",
        &merged_for(&mkdir, &["mkdir"]),
        &["/busybox", "mkdir", "-p", "/tmp/made"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Operation not permitted"),
        "{}",
        stderr(&o)
    );
    // One of the init's own calls taken away: nsexec fails naming it.
    let o = run_bundle(
        "seccomp-noclone",
        &merged_for(&mkdir, &["clone"]),
        &["/busybox", "mkdir", "-p", "/tmp/made"],
    );
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("nsexec: clone of the payload: EPERM"),
        "{}",
        stderr(&o)
    );
}

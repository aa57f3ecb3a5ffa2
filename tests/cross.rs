//! What every architecture must do, run natively on x86_64 and under
//! qemu-user for the others (`just cross` sets NSEXEC_ARCH, NSEXEC_BIN,
//! NSEXEC_BOOTSTRAP_BIN, NSEXEC_INIT_BIN and NSEXEC_SELFTEST_BIN). qemu-user cannot clone into new namespaces or with
//! CLONE_PARENT, and cannot unshare a user namespace; what needs those is
//! tested natively elsewhere.

mod support;

use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::time::Duration;
use support::*;

#[test]
fn arch_selftest_passes() {
    let Some(bin) = std::env::var_os("NSEXEC_SELFTEST_BIN") else {
        eprintln!("skipped: NSEXEC_SELFTEST_BIN not set (just test and just cross set it)");
        return;
    };
    let mut c = match emulator() {
        Some(e) => {
            let mut c = std::process::Command::new(e);
            c.arg(&bin);
            c
        }
        None => std::process::Command::new(&bin),
    };
    c.args(["selftest", "two words", "-x"])
        .env("NSEXEC_SELFTEST_ENV", "v a l");
    let o = run(c, Duration::from_secs(60));
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(
        out.contains("arg two words\narg -x\n"),
        "argv round trip: {out}"
    );
    assert!(out.contains("env v a l\n"), "environment round trip: {out}");
    assert!(!out.contains("FAIL"), "{out}");
    let last = out.lines().last().unwrap_or("");
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
}

/// A second source for syscall numbers: every entry of the table, as
/// compiled for this architecture (linux-raw-sys), against the kernel's own
/// `asm/unistd*.h` from Debian's linux-libc-dev for the same architecture.
#[test]
fn every_table_entry_has_the_kernel_headers_number() {
    let Some(bin) = std::env::var_os("NSEXEC_SELFTEST_BIN") else {
        eprintln!("skipped: NSEXEC_SELFTEST_BIN not set (just test and just cross set it)");
        return;
    };
    let arch = std::env::var("NSEXEC_ARCH").unwrap_or_else(|_| "x86_64".into());
    let mut c = match emulator() {
        Some(e) => {
            let mut c = std::process::Command::new(e);
            c.arg(&bin);
            c
        }
        None => std::process::Command::new(&bin),
    };
    c.arg("syscall-numbers");
    let o = run(c, Duration::from_secs(60));
    assert!(o.status.success(), "{}", stderr(&o));
    let ours: Vec<(String, u32)> = stdout(&o)
        .lines()
        .map(|l| {
            let (n, v) = l.split_once(' ').unwrap();
            (n.to_owned(), v.parse().unwrap())
        })
        .collect();
    let names = run(cmd(["--syscalls"]), Duration::from_secs(20));
    assert_eq!(
        ours.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        stdout(&names).lines().collect::<Vec<_>>(),
        "the numbered table is the table"
    );
    let headers = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/kernel_headers.py"
        ))
        .arg(&arch)
        .output()
        .unwrap();
    assert!(headers.status.success(), "{}", stderr(&headers));
    let theirs: std::collections::HashMap<String, u32> = stdout(&headers)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, v)| (n.to_owned(), v.parse().unwrap()))
        .collect();
    assert!(theirs.len() > 250, "{arch}: the headers define the calls");
    for (name, number) in &ours {
        assert_eq!(
            theirs.get(name),
            Some(number),
            "{arch}: {name} is {number} in our table"
        );
    }
}

#[test]
fn syscall_table_prints_one_unique_name_per_line() {
    let o = run(cmd(["--syscalls"]), Duration::from_secs(10));
    assert!(o.status.success());
    let names: Vec<String> = stdout(&o).lines().map(str::to_owned).collect();
    assert!(names.len() > 20);
    for n in &names {
        assert!(
            n.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{n}"
        );
    }
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len());
    for needed in ["execve", "clone", "setns", "unshare", "exit_group", "wait4"] {
        assert!(names.iter().any(|n| n == needed), "{needed} missing");
    }
}

fn lines_of(bin: &std::path::Path, arg: &str) -> Vec<String> {
    let o = run(cmd_of(bin, [arg]), Duration::from_secs(10));
    assert!(
        o.status.success(),
        "{} {arg}: {}",
        bin.display(),
        stderr(&o)
    );
    stdout(&o).lines().map(str::to_owned).collect()
}

/// Each role build runs on this architecture and lists, as its syscall
/// surface, exactly the calls the full build names for that role's mode
/// (the link proof already refused any other call when it was built).
#[test]
fn each_role_build_lists_exactly_its_modes_calls() {
    let full = lines_of(&nsexec(), "--syscalls");
    for (bin, mode) in [(bootstrap_nsexec(), "bootstrap"), (init_nsexec(), "pid1")] {
        let own = lines_of(&bin, "--syscalls");
        let expected = lines_of(&nsexec(), &format!("--syscalls={mode}"));
        assert_eq!(own, expected, "{mode}");
        assert!(
            own.len() < full.len(),
            "{mode}: {} of {}",
            own.len(),
            full.len()
        );
        assert!(own.iter().any(|n| n == "execve"), "{mode}: {own:?}");
    }
}

#[test]
fn the_payload_runs_with_its_exit_status() {
    for code in [0, 1, 42, 255] {
        let o = run(
            cmd(["/bin/sh", "-c", &format!("exit {code}")]),
            Duration::from_secs(20),
        );
        assert_eq!(o.status.code(), Some(code));
    }
    let o = run(cmd(["/nonexistent"]), Duration::from_secs(20));
    assert_eq!(o.status.code(), Some(127));
    let o = run(cmd(["sh", "-c", "exit 9"]), Duration::from_secs(20));
    assert_eq!(o.status.code(), Some(9), "a bare name is found in PATH");
}

#[test]
fn argv_and_environment_reach_the_payload_untouched() {
    let mut c = cmd(["/usr/bin/env", "-0"]);
    c.env_clear()
        .env("A", "1")
        .env("WEIRD", "x=y z\ttab")
        .env("PATH", "/usr/bin:/bin");
    let o = run(c, Duration::from_secs(20));
    let mut got: Vec<String> = stdout(&o)
        .split('\0')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    got.sort();
    assert_eq!(got, ["A=1", "PATH=/usr/bin:/bin", "WEIRD=x=y z\ttab"]);
    let o = run(
        cmd([
            "/bin/sh",
            "-c",
            "printf '%s|' \"$@\"",
            "zero",
            "",
            "two words",
            "--",
        ]),
        Duration::from_secs(20),
    );
    assert_eq!(stdout(&o), "|two words|--|");
}

#[test]
fn pid_mount_uts_ipc_and_net_namespaces_are_created_as_root() {
    let host: Vec<String> = ["pid", "mnt", "uts", "ipc", "net"]
        .iter()
        .map(|n| ns_link("self", n))
        .collect();
    let o = sh(
        &["-p", "-m", "-u", "-i", "-n", "--hostname", "cross"],
        "readlink /proc/self/ns/pid /proc/self/ns/mnt /proc/self/ns/uts /proc/self/ns/ipc /proc/self/ns/net; echo $$; hostname",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    for (i, h) in host.iter().enumerate() {
        assert_ne!(lines[i], h, "namespace {i} not new");
    }
    assert_eq!(lines[5], "1");
    assert_eq!(lines[6], "cross");
}

/// A sealed memfd holding a copy of the binary under test, so that nsexec
/// sees it already runs from one and joins without re-executing (under qemu,
/// re-executing a foreign ELF from a memfd would need binfmt_misc).
fn sealed_copy() -> std::fs::File {
    use std::os::fd::FromRawFd;
    let name = std::ffi::CString::new("nsexec").unwrap();
    let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_ALLOW_SEALING) };
    assert!(fd >= 0);
    let mut f = unsafe { std::fs::File::from_raw_fd(fd) };
    f.write_all(&std::fs::read(nsexec()).unwrap()).unwrap();
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    assert_eq!(unsafe { libc::fcntl(fd, libc::F_ADD_SEALS, seals) }, 0);
    f
}

#[test]
fn non_user_namespaces_of_a_running_process_are_joined() {
    let m = marker("crossjoin");
    let mut target = std::process::Command::new("unshare")
        .args([
            "-u",
            "-n",
            "-i",
            "/bin/sh",
            "-c",
            &format!("sleep 60; : {m}"),
        ])
        .spawn()
        .unwrap();
    // Found, and already inside its new namespaces.
    let mut pid = 0;
    for _ in 0..500 {
        if let Some(p) = pids_matching(&m)
            .into_iter()
            .max()
            .filter(|p| ns_link(&p.to_string(), "ipc") != ns_link("self", "ipc"))
        {
            pid = p;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_ne!(pid, 0, "target did not start");
    let want: Vec<String> = ["uts", "net", "ipc"]
        .iter()
        .map(|n| ns_link(&pid.to_string(), n))
        .collect();
    let copy = sealed_copy();
    let fd = copy.as_raw_fd();
    let path = format!("/proc/self/fd/{fd}");
    let mut c = match emulator() {
        Some(e) => {
            let mut c = std::process::Command::new(e);
            c.arg(&path);
            c
        }
        None => std::process::Command::new(&path),
    };
    c.args([
        "--join",
        &format!("uts=/proc/{pid}/ns/uts"),
        "--join",
        &format!("net=/proc/{pid}/ns/net"),
        "--join",
        &format!("ipc=/proc/{pid}/ns/ipc"),
    ]);
    c.args([
        "--",
        "/bin/sh",
        "-c",
        "readlink /proc/self/ns/uts /proc/self/ns/net /proc/self/ns/ipc",
    ]);
    unsafe {
        c.pre_exec(move || {
            libc::fcntl(fd, libc::F_SETFD, 0);
            Ok(())
        });
    }
    let o = run(c, Duration::from_secs(20));
    let _ = target.kill();
    let _ = target.wait();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).lines().collect::<Vec<_>>(),
        want,
        "{}",
        stderr(&o)
    );
}

/// Sends `msg` as a bootstrap message and returns nsexec's status and stderr.
fn bootstrap(msg: &[u8]) -> (Option<i32>, String) {
    let (mut ours, child, _) =
        spawn_with_init_pipe(&bootstrap_nsexec(), &["/bin/sh", "-c", "echo ran"]);
    let _ = ours.write_all(msg);
    let o = wait_output(child, Duration::from_secs(20));
    assert!(!stdout(&o).contains("ran"), "the payload ran");
    (o.status.code(), stderr(&o))
}

fn header(len: u32, ty: u16) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&target_u32(len));
    m.extend_from_slice(&target_u16(ty));
    m.extend_from_slice(&target_u16(1));
    m.extend_from_slice(&[0; 8]);
    m
}

#[test]
fn bootstrap_refuses_malformed_messages_on_every_arch() {
    let (code, err) = bootstrap(&header(16, 2));
    assert_eq!(code, Some(1));
    assert!(
        err.starts_with("FATAL: ") && err.contains("NLMSG_ERROR"),
        "{err}"
    );
    let (code, err) = bootstrap(&header(200_000, 62000));
    assert_eq!(code, Some(1));
    assert!(
        err.contains("200000") && err.contains("98304"),
        "both sizes: {err}"
    );
    let mut m = header(24, 62000);
    m.extend_from_slice(&target_u16(8));
    m.extend_from_slice(&target_u16(12345));
    m.extend_from_slice(&[0; 4]);
    let (code, err) = bootstrap(&m);
    assert_eq!(code, Some(1));
    assert!(err.contains("12345"), "{err}");
    // The length in the other byte order is refused, not misread.
    let (code, _) = bootstrap(&header(16u32.swap_bytes(), 62000));
    assert_eq!(code, Some(1));
}

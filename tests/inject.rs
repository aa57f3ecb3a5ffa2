//! nsexec as real runtimes inject it: podman's `--init --init-path`
//! (started as `/run/podman-init -- PROGRAM`), Docker's `--init` through a
//! dockerd this file starts with `--init-path` (`/sbin/docker-init --
//! PROGRAM`, and `docker info`'s "init version"), and a podman pod whose
//! infra container runs nsexec as its pause process (`/pause`,
//! `/catatonit -P`). The podman tests run once with runc and once with crun.
//! Debian 12's podman, docker.io, crun and busybox-static are needed:
//! `sh tests/inject/setup.sh` (as root) installs them; without them these
//! tests fail, they do not skip.

mod support;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use support::*;

const PODMAN: &str = "/usr/bin/podman";
const DOCKERD: &str = "/usr/sbin/dockerd";
/// Debian's client, the daemon's own version (not whatever is first in PATH).
const DOCKER: &str = "/usr/bin/docker";
const RUNC: &str = "/usr/sbin/runc";
const CRUN: &str = "/usr/bin/crun";
const BUSYBOX: &str = "/bin/busybox";

/// The program every init test runs. It prints its pid and its parent's,
/// then makes an orphan (the subshell that started it exits first), waits
/// until the orphan is re-parented, lets it exit and waits until it is
/// gone, then counts the zombies left in the container. Then it traps USR1
/// (prints) and TERM (prints, exits 3), says `ready` and waits.
const APP: &str = r#"echo "pid=$$"
echo "ppid=$PPID"
o=$( (sh -c 'while [ ! -e /tmp/go ]; do sleep 0.05; done' >/dev/null 2>&1 & echo $!) )
ppid() { awk '/^PPid:/ {print $2}' /proc/$o/status 2>/dev/null; }
i=0; while [ "$(ppid)" != 1 ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done
echo "orphan-ppid=$(ppid)"
touch /tmp/go
i=0; while [ -e /proc/$o ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done
echo "orphan-left=$(cat /proc/$o/stat 2>/dev/null)"
echo "zombies=$(cat /proc/[0-9]*/stat 2>/dev/null | awk '$3 == "Z"' | wc -l)"
trap 'echo got USR1' USR1
trap 'echo got TERM; exit 3' TERM
echo ready
while :; do sleep 0.1; done"#;

/// podman's store is one for all tests, and the machine has two cores:
/// one test at a time.
static ONE: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    ONE.lock().unwrap_or_else(|e| e.into_inner())
}

fn skip() -> bool {
    skip_under_qemu("podman and Docker run the host's binaries only")
}

/// A missing tool fails the test: CI runs the setup first.
fn need(paths: &[&str]) {
    for p in paths {
        assert!(
            Path::new(p).exists(),
            "{p} is missing: run `sh tests/inject/setup.sh` as root first \
             (Debian 12's podman, docker.io, crun, catatonit, busybox-static)"
        );
    }
}

/// `c` with a deadline, in its own process group (so that a hung one can
/// be killed with what it started).
fn exec(mut c: Command) -> Output {
    c.process_group(0);
    run(c, Duration::from_secs(120))
}

fn ok(c: Command) -> String {
    let what = format!("{c:?}");
    let o = exec(c);
    assert!(
        o.status.success(),
        "{what}: {:?}\n{}{}",
        o.status,
        stdout(&o),
        stderr(&o)
    );
    stdout(&o).trim_end().to_owned()
}

/// The value of the `KEY=...` line of `logs`.
fn field<'a>(logs: &'a str, key: &str) -> &'a str {
    logs.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {key}= in:\n{logs}"))
}

/// Polls `logs` until it has the line `line`; returns them.
fn wait_line(logs: impl Fn() -> String, line: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let l = logs();
        if l.lines().any(|x| x == line) {
            return l;
        }
        assert!(Instant::now() < deadline, "no line {line:?} in:\n{l}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A directory holding `bin/busybox` (with the applets `APP` uses) when
/// `busybox`, and nsexec at each of `nsexec_at`, packed as `dir/NAME.tar`
/// for `podman import` or `docker import`.
fn image_tar(dir: &str, name: &str, busybox: bool, nsexec_at: &[&str]) -> PathBuf {
    let root = Path::new(dir).join(name);
    for d in ["bin", "tmp", "proc", "sys", "dev", "etc"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    if busybox {
        std::fs::copy(BUSYBOX, root.join("bin/busybox")).unwrap();
        for a in [
            "sh", "sleep", "cat", "awk", "touch", "wc", "tr", "readlink", "kill", "true",
        ] {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(a)).unwrap();
        }
    }
    for at in nsexec_at {
        std::fs::copy(init_nsexec(), root.join(at.trim_start_matches('/'))).unwrap();
    }
    let tar = Path::new(dir).join(format!("{name}.tar"));
    let mut c = Command::new("tar");
    c.arg("-C").arg(&root).arg("-cf").arg(&tar).arg(".");
    ok(c);
    tar
}

/// What the host sees of a container's PID 1: nsexec's own bytes, started
/// as `argv`, and PID 1 in its namespace.
fn assert_nsexec_is_pid1(pid: u32, argv: &[&str]) {
    let exe = std::fs::read(format!("/proc/{pid}/exe")).unwrap();
    assert!(
        exe == std::fs::read(init_nsexec()).unwrap(),
        "the container's PID 1 (host pid {pid}) is not nsexec"
    );
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let want: Vec<u8> = argv
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    assert_eq!(
        String::from_utf8_lossy(&cmdline),
        String::from_utf8_lossy(&want)
    );
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let nspid = status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .unwrap();
    assert_eq!(nspid.split_whitespace().last(), Some("1"), "{nspid}");
}

/// What `APP` printed up to `ready`: the orphan it made went to PID 1 and
/// was reaped, and no zombie stayed, in the container and seen from the
/// host under `init` (nsexec's host pid).
fn assert_orphan_reaped(logs: &str, init: u32) {
    assert_eq!(field(logs, "orphan-ppid"), "1", "{logs}");
    assert_eq!(field(logs, "orphan-left"), "", "the orphan stays: {logs}");
    assert_eq!(field(logs, "zombies"), "0", "{logs}");
    assert_eq!(
        zombies_of(init),
        0,
        "zombies under nsexec (host pid {init})"
    );
}

/// The runtime podman is given: runc, or crun through tests/inject/crun.sh
/// (which hides the v2 hierarchy of a hybrid cgroup host from crun).
fn runtime(name: &str) -> String {
    match name {
        "runc" => {
            need(&[RUNC]);
            RUNC.to_owned()
        }
        "crun" => {
            need(&[CRUN]);
            format!("{}/tests/inject/crun.sh", env!("CARGO_MANIFEST_DIR"))
        }
        _ => unreachable!(),
    }
}

/// podman with one runtime and what a test made with it, removed on drop.
struct Podman {
    test: String,
    runtime: String,
    dir: String,
    conf: PathBuf,
    containers: Vec<String>,
    pods: Vec<String>,
    /// Of the pods made: what their cgroups are named by.
    pod_ids: Vec<String>,
    images: Vec<String>,
}

impl Podman {
    fn new(test: &str, runtime_name: &str) -> Podman {
        need(&[PODMAN, BUSYBOX]);
        let runtime = runtime(runtime_name);
        let dir = tempdir(test);
        // Root here cannot raise its hard limits, and podman's defaults ask
        // for more: what `--ulimit nofile=1024:1024 --ulimit nproc=4096:4096`
        // gives a `podman run`, and the only way to give it to a pod's infra
        // container.
        let conf = Path::new(&dir).join("containers.conf");
        std::fs::write(
            &conf,
            "[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=4096:4096\"]\n",
        )
        .unwrap();
        Podman {
            test: marker(test),
            runtime,
            dir,
            conf,
            containers: vec![],
            pods: vec![],
            pod_ids: vec![],
            images: vec![],
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(PODMAN);
        c.env("CONTAINERS_CONF", &self.conf)
            .args(["--runtime", &self.runtime, "--cgroup-manager", "cgroupfs"])
            .args(args);
        c
    }

    fn ok(&self, args: &[&str]) -> String {
        ok(self.cmd(args))
    }

    /// A name unique to this test run.
    fn name(&self, what: &str) -> String {
        format!("{}-{what}", self.test)
    }

    /// `podman import` of [`image_tar`]; returns the image's name.
    fn import(&mut self, what: &str, busybox: bool, nsexec_at: &[&str]) -> String {
        let tar = image_tar(&self.dir, what, busybox, nsexec_at);
        let image = format!("localhost/{}:latest", self.name(what));
        self.images.push(image.clone());
        self.ok(&["import", &tar.display().to_string(), &image]);
        image
    }

    fn inspect(&self, what: &str, format: &str) -> String {
        self.ok(&["inspect", "--format", format, what])
    }

    /// A container's stdout and stderr so far.
    fn logs(&self, name: &str) -> String {
        let o = exec(self.cmd(&["logs", name]));
        assert!(o.status.success(), "podman logs {name}: {}", stderr(&o));
        stdout(&o) + &stderr(&o)
    }

    /// `podman run --rm --init --init-path NSEXEC IMAGE ARGV...`'s exit code.
    fn run_code(&self, image: &str, argv: &[&str]) -> Option<i32> {
        let init = init_nsexec().display().to_string();
        let mut c = self.cmd(&[
            "run",
            "--rm",
            "--network",
            "none",
            "--init",
            "--init-path",
            &init,
            image,
        ]);
        c.args(argv);
        exec(c).status.code()
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = exec(self.cmd(&["rm", "-f", "-t", "0", c]));
        }
        for p in &self.pods {
            let _ = exec(self.cmd(&["pod", "rm", "-f", "-t", "0", p]));
        }
        for id in &self.pod_ids {
            remove_pod_cgroup_leftovers(id);
        }
        for i in &self.images {
            let _ = exec(self.cmd(&["image", "rm", "-f", i]));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// podman 4.3 (cgroup v1) takes each directory in /sys/fs/cgroup for a
/// hierarchy and makes a pod's cgroup in all of them. Where one is a plain
/// directory of the tmpfs, not a mounted hierarchy, what it makes there are
/// plain directories and files, which it then cannot rmdir: `podman pod rm`
/// fails ("directory not empty") though the pod is gone. This removes those
/// of pod `id`, and says whether there were any.
fn remove_pod_cgroup_leftovers(id: &str) -> bool {
    const TMPFS_MAGIC: i64 = 0x0102_1994;
    let mut any = false;
    let Ok(dir) = std::fs::read_dir("/sys/fs/cgroup") else {
        return false;
    };
    for e in dir.flatten() {
        let path = e.path();
        let c = std::ffi::CString::new(path.display().to_string()).unwrap();
        let mut st: libc::statfs = unsafe { std::mem::zeroed() };
        if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 || st.f_type as i64 != TMPFS_MAGIC {
            continue;
        }
        let left = path.join("libpod_parent").join(id);
        if left.exists() {
            any = true;
            let _ = std::fs::remove_dir_all(left);
        }
    }
    any
}

/// podman's `--init`: nsexec is PID 1 and the program its child, an
/// orphan is reaped, `podman kill` and `podman stop` reach the program, and
/// the program's exit status is podman's.
fn podman_init(runtime: &str) {
    let _one = serial();
    let mut p = Podman::new(&format!("inject-init-{runtime}"), runtime);
    let image = p.import("busybox", true, &[]);
    let name = p.name("app");
    p.containers.push(name.clone());
    let init = init_nsexec().display().to_string();
    p.ok(&[
        "run",
        "-d",
        "--name",
        &name,
        "--network",
        "none",
        "--init",
        "--init-path",
        &init,
        &image,
        "sh",
        "-c",
        APP,
    ]);
    let logs = wait_line(|| p.logs(&name), "ready");
    let pid: u32 = p.inspect(&name, "{{.State.Pid}}").parse().unwrap();
    assert_nsexec_is_pid1(pid, &["/run/podman-init", "--", "sh", "-c", APP]);
    assert_ne!(field(&logs, "pid"), "1", "{logs}");
    assert_eq!(field(&logs, "ppid"), "1", "{logs}");
    assert_orphan_reaped(&logs, pid);

    p.ok(&["kill", "-s", "USR1", &name]);
    wait_line(|| p.logs(&name), "got USR1");
    // Had TERM not reached the program, podman would kill it after 10 s
    // and report 137.
    p.ok(&["stop", "-t", "10", &name]);
    assert_eq!(p.inspect(&name, "{{.State.ExitCode}}"), "3");
    let logs = p.logs(&name);
    assert!(logs.lines().any(|l| l == "got TERM"), "{logs}");
    let id = p.inspect(&name, "{{.Id}}");
    p.ok(&["rm", &name]);
    p.containers.clear();
    // Nothing of the container stays: no conmon, no mount.
    assert_gone(&id, Duration::from_secs(10));
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(&id), "{mounts}");

    assert_exit_codes(|argv| p.run_code(&image, argv));
}

/// The program's exit status is the runtime's, as tini gives it.
fn assert_exit_codes(run_code: impl Fn(&[&str]) -> Option<i32>) {
    let sh = |script: &str| run_code(&["sh", "-c", script]);
    assert_eq!(sh("exit 7"), Some(7));
    assert_eq!(sh("exit 0"), Some(0));
    // Killed by a signal: 128 + its number, as a shell reports it.
    assert_eq!(sh("kill -USR2 $$"), Some(128 + libc::SIGUSR2));
    // nsexec ends with the program, not with the last of what it left
    // (those the kernel kills with the PID namespace); waiting for them
    // would outlast the 120 s that `exec` allows.
    assert_eq!(sh("(sleep 1000 &); sleep 1000 & exit 5"), Some(5));
    // A program that cannot start: 127 or 126, as a shell and tini say.
    assert_eq!(run_code(&["/no/such/program"]), Some(127));
    assert_eq!(run_code(&["/tmp"]), Some(126));
}

#[test]
fn podman_init_with_runc() {
    if skip() {
        return;
    }
    podman_init("runc");
}

#[test]
fn podman_init_with_crun() {
    if skip() {
        return;
    }
    podman_init("crun");
}

/// The second container of a pod: the namespaces it is in, the command
/// line of its PID 1, then `APP`.
fn member_script() -> String {
    let ns: String = ["net", "ipc", "uts", "pid", "mnt"]
        .iter()
        .map(|n| format!("echo \"{n}=$(readlink /proc/self/ns/{n})\"\n"))
        .collect();
    format!("{ns}echo \"init=$(tr '\\0' ' ' </proc/1/cmdline)\"\n{APP}")
}

/// A pod whose infra container runs nsexec as its pause process, under
/// each name podman's infra images use: a second container joins its
/// namespaces, its orphans go to nsexec and are reaped, and `podman pod
/// stop` stops both, nsexec with 0.
fn pod(runtime: &str) {
    let _one = serial();
    let mut p = Podman::new(&format!("inject-pod-{runtime}"), runtime);
    let busybox = p.import("busybox", true, &[]);
    // No shell, no busybox: the pause process alone, by both names.
    let infra = p.import("infra", false, &["/pause", "/catatonit"]);
    let member = member_script();
    for (variant, command, argv) in [
        ("pause", "/pause", &["/pause"][..]),
        ("catatonit", "/catatonit -P", &["/catatonit", "-P"][..]),
    ] {
        let pod = p.name(variant);
        p.pods.push(pod.clone());
        let id = p.ok(&[
            "pod",
            "create",
            "--name",
            &pod,
            "--infra-image",
            &infra,
            "--infra-command",
            command,
            "--share",
            "ipc,net,uts,pid",
            "--network",
            "none",
        ]);
        p.pod_ids.push(id.clone());
        p.ok(&["pod", "start", &pod]);
        let infra_id = p.ok(&["pod", "inspect", "--format", "{{.InfraContainerID}}", &pod]);
        let state = p.inspect(&infra_id, "{{.State.Status}} {{.State.ExitCode}}");
        assert_eq!(state, "running 0", "{variant}: {}", p.logs(&infra_id));
        let pid: u32 = p.inspect(&infra_id, "{{.State.Pid}}").parse().unwrap();
        assert_nsexec_is_pid1(pid, argv);
        // A pause process ignores all but INT and TERM: the member below
        // would find no namespaces to join, and the pod's stop no nsexec to
        // exit 0, had these ended it.
        for sig in ["USR1", "HUP", "USR2"] {
            p.ok(&["kill", "-s", sig, &infra_id]);
        }

        let name = p.name(&format!("{variant}-member"));
        p.containers.push(name.clone());
        p.ok(&[
            "run", "-d", "--pod", &pod, "--name", &name, &busybox, "sh", "-c", &member,
        ]);
        let logs = wait_line(|| p.logs(&name), "ready");
        let host = pid.to_string();
        for n in ["net", "ipc", "uts", "pid"] {
            assert_eq!(field(&logs, n), ns_link(&host, n), "{variant}: {n}\n{logs}");
        }
        assert_ne!(field(&logs, "mnt"), ns_link(&host, "mnt"), "{variant}");
        assert_eq!(field(&logs, "init"), argv.join(" ") + " ", "{variant}");
        assert_orphan_reaped(&logs, pid);

        // podman 4.3 sends TERM to every container of the pod at once. Had
        // it not ended nsexec (with the member still in its PID namespace),
        // podman would kill it after 10 s and report 137. The member exits
        // by its trap (3), or is killed (137) when nsexec, the namespace's
        // init, exits first.
        p.ok(&["pod", "stop", "-t", "10", &pod]);
        assert_eq!(
            p.inspect(&infra_id, "{{.State.Status}} {{.State.ExitCode}}"),
            "exited 0",
            "{variant}"
        );
        let member_end = p.inspect(&name, "{{.State.Status}} {{.State.ExitCode}}");
        assert!(
            ["exited 3", "exited 137"].contains(&member_end.as_str()),
            "{variant}: member {member_end}"
        );

        let o = exec(p.cmd(&["pod", "rm", "-f", &pod]));
        if !o.status.success() {
            // Only what podman could not remove from plain directories in
            // /sys/fs/cgroup may fail it.
            assert!(
                stderr(&o).contains("directory not empty") && remove_pod_cgroup_leftovers(&id),
                "podman pod rm {pod}: {}",
                stderr(&o)
            );
        }
        let gone = exec(p.cmd(&["pod", "exists", &pod]));
        assert_eq!(gone.status.code(), Some(1), "{}", stderr(&gone));
        p.pods.retain(|x| *x != pod);
        p.containers.retain(|x| *x != name);
        assert_gone(&infra_id, Duration::from_secs(10));
    }
}

#[test]
fn pod_with_nsexec_as_pause_with_runc() {
    if skip() {
        return;
    }
    pod("runc");
}

#[test]
fn pod_with_nsexec_as_pause_with_crun() {
    if skip() {
        return;
    }
    pod("crun");
}

/// A dockerd of the test's own: its data, state and socket in one directory
/// (kept short: containerd's sockets go below it), no bridge, no iptables,
/// and nsexec as its init, named `docker-init`.
struct Dockerd {
    dir: String,
    child: Option<Child>,
    containers: Vec<String>,
}

impl Dockerd {
    fn start() -> Dockerd {
        need(&[DOCKERD, DOCKER, BUSYBOX]);
        let dir = format!("/tmp/{}", marker("dockerd"));
        if Path::new(&dir).exists() {
            release_mounts(&dir);
            std::fs::remove_dir_all(&dir).unwrap();
        }
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink(init_nsexec(), format!("{dir}/docker-init")).unwrap();
        let log = std::fs::File::create(format!("{dir}/dockerd.log")).unwrap();
        let mut c = Command::new(DOCKERD);
        c.arg(format!("--data-root={dir}/data"))
            .arg(format!("--exec-root={dir}/exec"))
            .arg(format!("--host=unix://{dir}/docker.sock"))
            .arg(format!("--pidfile={dir}/docker.pid"))
            .arg(format!("--init-path={dir}/docker-init"))
            .args([
                "--bridge=none",
                "--iptables=false",
                "--ip6tables=false",
                "--ip-masq=false",
                "--storage-driver=overlay2",
                "--exec-opt=native.cgroupdriver=cgroupfs",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0);
        let mut d = Dockerd {
            child: Some(c.spawn().expect("dockerd")),
            dir,
            containers: vec![],
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(st) = d.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("dockerd exited {st}: {}", d.log());
            }
            let mut v = d.docker(&["version"]);
            v.stdout(Stdio::null()).stderr(Stdio::null());
            if v.status().unwrap().success() {
                return d;
            }
            assert!(Instant::now() < deadline, "dockerd not up: {}", d.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(format!("{}/dockerd.log", self.dir)).unwrap_or_default()
    }

    fn docker(&self, args: &[&str]) -> Command {
        let mut c = Command::new(DOCKER);
        c.arg("--host")
            .arg(format!("unix://{}/docker.sock", self.dir))
            .args(args);
        c
    }

    fn ok(&self, args: &[&str]) -> String {
        ok(self.docker(args))
    }

    fn logs(&self, name: &str) -> String {
        let o = exec(self.docker(&["logs", name]));
        assert!(o.status.success(), "docker logs {name}: {}", stderr(&o));
        stdout(&o) + &stderr(&o)
    }

    /// `docker run --rm --init IMAGE ARGV...`'s exit code.
    fn run_code(&self, image: &str, argv: &[&str]) -> Option<i32> {
        let mut c = self.docker(&["run", "--rm", "--network", "none", "--init", image]);
        c.args(argv);
        exec(c).status.code()
    }

    /// SIGTERM, as an init system stops it; its exit status.
    fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(st) = child.try_wait().unwrap() {
                return st;
            }
            if Instant::now() > deadline {
                unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
                let _ = child.wait();
                panic!("dockerd did not stop on SIGTERM: {}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The mount points at or below `dir`, deepest first.
fn mounts_under(dir: &str) -> Vec<String> {
    let mut m: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(str::to_owned))
        .filter(|p| p == dir || p.starts_with(&format!("{dir}/")))
        .collect();
    m.sort_by_key(|p| std::cmp::Reverse(p.len()));
    m
}

fn release_mounts(dir: &str) {
    for m in mounts_under(dir) {
        let c = std::ffi::CString::new(m).unwrap();
        unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        if self.child.is_some() {
            for c in &self.containers {
                let _ = exec(self.docker(&["rm", "-f", c]));
            }
            if !std::thread::panicking() {
                self.stop();
            } else if let Some(mut child) = self.child.take() {
                unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
                let deadline = Instant::now() + Duration::from_secs(30);
                while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
                unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
                let _ = child.wait();
            }
        }
        for p in pids_matching(&self.dir) {
            unsafe { libc::kill(p as i32, libc::SIGKILL) };
        }
        release_mounts(&self.dir);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Docker's `--init`: the same as podman's, through a dockerd started
/// with nsexec as its docker-init, which `docker info` shows by nsexec's
/// commit; dockerd then stops cleanly and leaves nothing behind.
#[test]
fn docker_init_through_dockerd() {
    if skip() {
        return;
    }
    let _one = serial();
    let mut d = Dockerd::start();

    // `nsexec version 0.1.0 - git.COMMIT`, which dockerd parses.
    let mut v = Command::new(format!("{}/docker-init", d.dir));
    v.arg("--version");
    let version = ok(v);
    let commit = version
        .rsplit_once(" - git.")
        .map(|x| x.1)
        .unwrap_or_else(|| panic!("{version}"));
    assert!(version.starts_with("nsexec version "), "{version}");
    assert!(!commit.is_empty() && !commit.contains(' '), "{version}");
    assert_eq!(d.ok(&["info", "--format", "{{.InitCommit.ID}}"]), commit);
    let info = d.ok(&["info"]);
    assert!(
        info.lines()
            .any(|l| l.trim() == format!("init version: {commit}")),
        "{info}"
    );

    let tar = image_tar(&d.dir, "busybox", true, &[]);
    let image = format!("{}-busybox:latest", marker("inject-docker"));
    d.ok(&["import", &tar.display().to_string(), &image]);
    let name = marker("inject-docker-app");
    d.containers.push(name.clone());
    d.ok(&[
        "run",
        "-d",
        "--name",
        &name,
        "--network",
        "none",
        "--init",
        &image,
        "sh",
        "-c",
        APP,
    ]);
    let logs = wait_line(|| d.logs(&name), "ready");
    let pid: u32 = d
        .ok(&["inspect", "--format", "{{.State.Pid}}", &name])
        .parse()
        .unwrap();
    assert_nsexec_is_pid1(pid, &["/sbin/docker-init", "--", "sh", "-c", APP]);
    assert_ne!(field(&logs, "pid"), "1", "{logs}");
    assert_eq!(field(&logs, "ppid"), "1", "{logs}");
    assert_orphan_reaped(&logs, pid);

    d.ok(&["kill", "-s", "USR1", &name]);
    wait_line(|| d.logs(&name), "got USR1");
    // Had TERM not reached the program, Docker would kill it after 10 s
    // and report 137.
    d.ok(&["stop", "-t", "10", &name]);
    assert_eq!(
        d.ok(&["inspect", "--format", "{{.State.ExitCode}}", &name]),
        "3"
    );
    let logs = d.logs(&name);
    assert!(logs.lines().any(|l| l == "got TERM"), "{logs}");
    d.ok(&["rm", &name]);
    d.containers.clear();

    assert_exit_codes(|argv| d.run_code(&image, argv));

    let st = d.stop();
    assert!(st.success(), "dockerd: {st}: {}", d.log());
    assert!(!Path::new(&format!("{}/docker.pid", d.dir)).exists());
    // No containerd, no shim, nothing else that was started for it.
    assert_gone(&d.dir, Duration::from_secs(10));
    // No container's mount (overlay, shm, netns). dockerd's bind mount of
    // its data root onto itself it removes only while that is still shared
    // (anything on the host that makes / private again leaves it).
    let data = format!("{}/data", d.dir);
    let left: Vec<String> = mounts_under(&d.dir)
        .into_iter()
        .filter(|m| *m != data)
        .collect();
    assert!(left.is_empty(), "mounts left: {left:?}");
}

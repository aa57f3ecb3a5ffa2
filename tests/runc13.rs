//! runc 1.3.6 (and, for the attack, 1.1.5) itself driving nsexec: built
//! with `CGO_ENABLED=0` and nsexec as its bootstrap by `tests/runc/build.sh`,
//! and from the same source with runc's own C as the peer each test also
//! runs. What broke when runc
//! 1.3 first drove nsexec, each against real containers: the descriptors of
//! `runc exec`'s init read from inside the container, stage 0 killed with
//! the Go thread that started it, the runtime binary copied into the
//! container's memory, and runc's own log lines.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::Duration;
use support::*;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn skip() -> bool {
    skip_under_qemu("runc runs natively only")
}

/// The runc binary of `flavour` (`GEN-nsexec` or `GEN-c`, GEN 1.3 or 1.1)
/// that tests/runc/build.sh made; tests/run builds them before the tests.
fn runc_binary(flavour: &str) -> PathBuf {
    let cache = std::env::var_os("NSEXEC_RUNC_CACHE").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/runc"),
        PathBuf::from,
    );
    let bin = cache.join(format!("bin/{flavour}/runc"));
    assert!(
        bin.exists(),
        "{} is missing: build it with `bash tests/runc/build.sh GEN`",
        bin.display()
    );
    bin
}

/// A container of one runc flavour: its bundle (runc's default spec over a
/// shared read-only busybox rootfs) and its own state directory.
struct Ct {
    runc: PathBuf,
    dir: PathBuf,
    id: String,
}

impl Ct {
    fn new(flavour: &str, name: &str, args: &[&str], edit: impl Fn(&mut serde_json::Value)) -> Ct {
        let runc = runc_binary(flavour);
        let rootfs = support::rootfs::busybox_rootfs("runc13-rootfs");
        let dir = std::env::temp_dir().join(marker(&format!("runc13-{name}-{flavour}")));
        std::fs::create_dir_all(&dir).unwrap();
        let st = Command::new(&runc)
            .arg("spec")
            .current_dir(&dir)
            .status()
            .unwrap();
        assert!(st.success());
        let path = dir.join("config.json");
        let mut spec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        spec["root"]["path"] = rootfs.display().to_string().into();
        spec["process"]["args"] = serde_json::json!(args);
        spec["process"]["terminal"] = false.into();
        edit(&mut spec);
        std::fs::write(&path, spec.to_string()).unwrap();
        Ct {
            runc,
            id: dir.file_name().unwrap().to_string_lossy().into_owned(),
            dir,
        }
    }

    fn runc(&self) -> Command {
        let mut c = Command::new(&self.runc);
        c.arg("--root").arg(self.dir.join("state"));
        c.stdin(Stdio::null());
        c
    }

    /// `runc [--debug] run` in the foreground, to the end.
    fn run(&self, debug: bool) -> Output {
        let mut c = self.runc();
        if debug {
            c.arg("--debug");
        }
        c.args(["run", "-b"]).arg(&self.dir).arg(&self.id);
        run(c, Duration::from_secs(60))
    }

    /// `runc run -d`, the container's stdout and stderr going to `out`.
    fn start_detached(&self, out: &std::fs::File) {
        let mut c = self.runc();
        c.args(["run", "-d", "-b"]).arg(&self.dir).arg(&self.id);
        c.stdout(out.try_clone().unwrap())
            .stderr(out.try_clone().unwrap());
        let o = c.output().unwrap();
        assert!(o.status.success(), "runc run -d: {}", stderr(&o));
    }

    /// The host pid of the container's init.
    fn state_pid(&self) -> i64 {
        let o = self.runc().args(["state", &self.id]).output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["pid"].as_i64().expect("a running container")
    }

    /// `runc GLOBAL... exec OPTS... ID ARGS...`.
    fn exec(&self, global: &[&str], opts: &[&str], args: &[&str]) -> Output {
        let mut c = self.runc();
        c.args(global)
            .arg("exec")
            .args(opts)
            .arg(&self.id)
            .args(args);
        run(c, Duration::from_secs(60))
    }
}

impl Drop for Ct {
    fn drop(&mut self) {
        let _ = self.runc().args(["delete", "-f", &self.id]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn runc_exec_with_a_cpu_affinity_works_twenty_times_in_a_row() {
    if skip() {
        return;
    }
    let _g = serial();
    // runc 1.3 starts this init from a locked Go thread that ends right
    // after: a PR_SET_PDEATHSIG in stage 0 killed it 6 to 7 times in 10.
    for flavour in ["1.3-nsexec", "1.3-c"] {
        let ct = Ct::new(flavour, "affinity", &["sleep", "1000"], |_| {});
        let log = std::fs::File::create(ct.dir.join("out")).unwrap();
        ct.start_detached(&log);
        let proc = ct.dir.join("process.json");
        let p = serde_json::json!({
            "terminal": false,
            "execCPUAffinity": {"initial": "0", "final": "0"},
            "args": ["grep", "-F", "Cpus_allowed_list:", "/proc/self/status"],
            "cwd": "/",
            "env": ["PATH=/bin"],
        });
        std::fs::write(&proc, p.to_string()).unwrap();
        for i in 0..20 {
            let o = ct.exec(&["--debug"], &["--process", proc.to_str().unwrap()], &[]);
            let (out, err) = (stdout(&o), stderr(&o));
            assert!(o.status.success(), "{flavour}: exec {i}: {err}");
            assert!(out.contains("Cpus_allowed_list:\t0\n"), "{flavour}: {out}");
            // What runc's cpu_affinity.bats looks for.
            assert!(
                err.contains("nsexec") && err.contains(": affinity: 0x1"),
                "{flavour}: {err}"
            );
        }
    }
}

#[test]
fn runc_debug_shows_runcs_own_nsexec_lines() {
    if skip() {
        return;
    }
    let _g = serial();
    for flavour in ["1.3-nsexec", "1.3-c"] {
        let ct = Ct::new(flavour, "debug", &["true"], |_| {});
        let o = ct.run(true);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(0), "{flavour}: {err}");
        // runc's debug.bats and exec.bats look for these.
        for line in ["=> nsexec container setup", "<= nsexec container setup"] {
            assert!(err.contains(line), "{flavour}: no {line:?} in {err}");
        }
    }
}

/// The container's memory limit; the memory cgroup is runc's to make.
fn limit_memory(bytes: u64) -> impl Fn(&mut serde_json::Value) {
    move |spec| {
        spec["linux"]["resources"]["memory"] = serde_json::json!({"limit": bytes});
    }
}

#[test]
fn a_container_limited_to_16_mib_starts_as_root() {
    if skip() {
        return;
    }
    let _g = serial();
    // runc 1.3 as root hands its 14 MB binary over on a read-only overlayfs;
    // copying it charged the container's cgroup beyond its limit
    // ("unable to set memory limit ... current usage: 17047552").
    for flavour in ["1.3-nsexec", "1.3-c"] {
        let ct = Ct::new(
            flavour,
            "memory",
            &["sh", "-c", "echo started"],
            limit_memory(16 << 20),
        );
        let o = ct.run(false);
        assert_eq!(o.status.code(), Some(0), "{flavour}: {}", stderr(&o));
        assert_eq!(stdout(&o), "started\n", "{flavour}");
    }
}

#[test]
fn a_container_cannot_read_the_descriptors_of_a_runc_init_joining_it() {
    if skip() {
        return;
    }
    let _g = serial();
    // The container's process, root with runc's default capabilities (no
    // CAP_SYS_PTRACE), reads the descriptors of every other process it can
    // see, over and over. It can read those of an exec'd `sleep` (the
    // attack works), and must never meet the sockets to the host's runc
    // that runc's Go init holds until it executes the process.
    let attacker = r#"
while :; do
  for d in /proc/[0-9]*; do
    [ "${d#/proc/}" = 1 ] && continue
    l=$(ls -l "$d/fd" 2>/dev/null) || continue
    case "$l" in
    *socket:*) echo "LEAK $(cat "$d/comm" 2>/dev/null): $l" ;;
    *) case "$(cat "$d/comm" 2>/dev/null)" in sleep) echo SEEN ;; esac ;;
    esac
  done
done"#;
    for flavour in ["1.3-nsexec", "1.3-c", "1.1-nsexec", "1.1-c"] {
        let ct = Ct::new(flavour, "attack", &["sh", "-c", attacker], |_| {});
        let path = ct.dir.join("out");
        let out = std::fs::File::create(&path).unwrap();
        ct.start_detached(&out);
        // `runc exec`, ten times...
        for i in 0..10 {
            let o = ct.exec(&[], &[], &["sleep", "0.2"]);
            assert!(o.status.success(), "{flavour}: exec {i}: {}", stderr(&o));
        }
        // ...and `runc run` of containers that join its namespaces, as the
        // containers of a pod join its infra's: their init is in the
        // attacker's pid namespace while it sets up.
        let pid = ct.state_pid();
        for i in 0..10 {
            let member = Ct::new(flavour, &format!("member{i}"), &["sleep", "0.2"], |spec| {
                for ns in spec["linux"]["namespaces"].as_array_mut().unwrap() {
                    let t = ns["type"].as_str().unwrap().to_owned();
                    let name = if t == "network" {
                        "net".to_owned()
                    } else {
                        t.clone()
                    };
                    if ["pid", "network", "ipc", "uts"].contains(&t.as_str()) {
                        ns["path"] = format!("/proc/{pid}/ns/{name}").into();
                    }
                }
            });
            let o = member.run(false);
            assert_eq!(
                o.status.code(),
                Some(0),
                "{flavour}: run {i}: {}",
                stderr(&o)
            );
        }
        let _ = ct.runc().args(["kill", &ct.id, "KILL"]).output();
        let seen = std::fs::read_to_string(&path).unwrap();
        assert!(!seen.contains("LEAK"), "{flavour}: {seen}");
        assert!(
            seen.contains("SEEN"),
            "{flavour}: the attacker read nothing: {seen}"
        );
    }
}

//! A runc bundle whose rootfs holds only `/nsexec` and a static busybox,
//! run by Debian's `runc` with `process.args` = `/nsexec --init -- APP...`.

use super::{init_nsexec, marker};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct Bundle {
    pub dir: PathBuf,
    pub root: PathBuf,
    pub id: String,
}

impl Bundle {
    /// A bundle from `runc spec` with the given app command line behind
    /// `/nsexec --init --`.
    pub fn new(name: &str, app: &[&str]) -> Bundle {
        let dir = std::env::temp_dir().join(marker(name));
        let rootfs = dir.join("rootfs");
        std::fs::create_dir_all(&rootfs).unwrap();
        // The init build: an image ships only the PID 1.
        std::fs::copy(init_nsexec(), rootfs.join("nsexec")).unwrap();
        let busybox = ["/bin/busybox", "/usr/bin/busybox"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap();
        std::fs::copy(busybox, rootfs.join("busybox")).unwrap();
        for d in ["proc", "dev", "sys", "tmp"] {
            std::fs::create_dir_all(rootfs.join(d)).unwrap();
        }
        let st = Command::new("runc")
            .arg("spec")
            .current_dir(&dir)
            .status()
            .expect("runc (Debian's runc; tests/run installs it)");
        assert!(st.success());
        let path = dir.join("config.json");
        let mut spec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut args = vec!["/nsexec", "--init", "--"];
        args.extend_from_slice(app);
        spec["process"]["args"] = serde_json::json!(args);
        spec["process"]["terminal"] = false.into();
        // The apps write (mkdir) into their own rootfs.
        spec["root"]["readonly"] = false.into();
        std::fs::write(&path, spec.to_string()).unwrap();
        Bundle {
            root: dir.join("state"),
            id: marker(name).replace('/', "-"),
            dir,
        }
    }

    /// Sets `linux.seccomp` of the bundle's config.
    pub fn set_seccomp(&self, profile: &serde_json::Value) {
        let path = self.dir.join("config.json");
        let mut spec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        spec["linux"]["seccomp"] = profile.clone();
        std::fs::write(&path, spec.to_string()).unwrap();
    }

    pub fn runc(&self) -> Command {
        let mut c = Command::new("runc");
        c.arg("--root").arg(&self.root);
        c
    }

    /// `runc run`, in the foreground, with piped stdio.
    pub fn spawn(&self) -> std::process::Child {
        self.runc()
            .args(["run", "-b"])
            .arg(&self.dir)
            .arg(&self.id)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    pub fn state(&self) -> serde_json::Value {
        let o = self.runc().args(["state", &self.id]).output().unwrap();
        serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null)
    }

    /// Waits until the container's init runs; returns its host pid.
    pub fn wait_running(&self) -> i64 {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.state();
            if s["status"] == "running" {
                return s["pid"].as_i64().unwrap();
            }
            assert!(Instant::now() < deadline, "never running: {s}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        let _ = self.runc().args(["delete", "-f", &self.id]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

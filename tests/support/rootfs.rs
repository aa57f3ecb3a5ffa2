//! A minimal container rootfs built from Debian's busybox-static, and the Go
//! programs built from Debian's packages in GOPATH mode (no module proxy).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

static BUILD: Mutex<()> = Mutex::new(());

/// `target/<name>`: a busybox rootfs with the applets the tests use, world-
/// readable so that a mapped root (uid 100000) can use it. Built once.
pub fn busybox_rootfs(name: &str) -> PathBuf {
    let _g = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(name);
    if root.join("bin/sh").exists() {
        return root;
    }
    for d in ["bin", "proc", "dev", "sys", "mnt/host", "etc", "tmp"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("busybox (Debian's busybox-static; tests/run installs it)");
    std::fs::copy(busybox, root.join("bin/busybox")).unwrap();
    for applet in [
        "sh", "echo", "cat", "hostname", "id", "readlink", "ls", "grep", "sleep", "tty", "true",
        "test", "kill", "ps",
    ] {
        let _ = std::os::unix::fs::symlink("busybox", root.join("bin").join(applet));
    }
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/:/bin/sh\n").unwrap();
    std::fs::write(root.join("etc/group"), "root:x:0:\n").unwrap();
    let st = Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(&root)
        .status()
        .unwrap();
    assert!(st.success());
    root
}

/// Builds the Go program in `tests/go/<dir>` with CGO_ENABLED=0 against
/// Debian's packaged sources (GO111MODULE=off, GOPATH with /usr/share/gocode),
/// into `target/<dir>`.
pub fn go_build_gopath(dir: &str) -> PathBuf {
    let _g = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = top.join("target").join(dir);
    let o = Command::new("go")
        .args(["build", "-o"])
        .arg(&out)
        .arg(".")
        .current_dir(top.join("tests/go").join(dir))
        .env("GO111MODULE", "off")
        .env(
            "GOPATH",
            format!("{}:/usr/share/gocode", top.join("target/gopath").display()),
        )
        .env("CGO_ENABLED", "0")
        .env("GOCACHE", top.join("target/gocache"))
        .output()
        .expect("go (Debian's golang-go; tests/run installs it)");
    assert!(
        o.status.success(),
        "go build {dir}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

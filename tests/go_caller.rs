//! The headline use: a Go program built with CGO_ENABLED=0 spawns nsexec the
//! way libcontainer spawns `runc init`, writes the bootstrap message, reads
//! the pid JSON, and talks to its payload (itself, continuing inside seven
//! new namespaces) over the inherited init pipe.

mod support;

use std::process::Command;
use std::time::Duration;
use support::*;

#[test]
fn a_cgo_free_go_runtime_drives_nsexec_into_new_namespaces() {
    if skip_under_qemu("stages use CLONE_PARENT") {
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    // Under target/, readable by the payload's mapped root.
    let out = format!("{root}/target/gocaller");
    let go = Command::new("go")
        .args(["build", "-o", &out, "."])
        .current_dir(format!("{root}/tests/go/gocaller"))
        .env("CGO_ENABLED", "0")
        // A CI shell may have no HOME for Go's default cache.
        .env("GOCACHE", format!("{root}/target/gocache"))
        .env("GOPATH", format!("{root}/target/gopath"))
        .output()
        .expect("go (Debian's golang-go; tests/run installs it)");
    assert!(
        go.status.success(),
        "go build: {}",
        String::from_utf8_lossy(&go.stderr)
    );
    let mut c = Command::new(&out);
    c.arg(bootstrap_nsexec());
    let o = run(c, Duration::from_secs(30));
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).starts_with("gocaller: ok: payload pid 1 uid 0 uid_map \"0 100000 65536\""),
        "{}",
        stdout(&o)
    );
}

//! Link flags for the freestanding `nsexec` binary only (never for test
//! harnesses, which link against the host libc as usual).
use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=linker.ld");
    // Under an init's name, `--version` names the commit as tini does
    // (dockerd parses it for `docker info`); "unknown" outside a checkout.
    let commit = Command::new("git")
        .args(["rev-parse", "--short=7", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=NSEXEC_COMMIT={commit}");
    for git in [".git/HEAD", ".git/refs/heads", ".git/packed-refs"] {
        println!("cargo:rerun-if-changed={git}");
    }
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    let script = format!("{}/linker.ld", env::var("CARGO_MANIFEST_DIR").unwrap());
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    // targets/*.toml link with rust-lld directly; a plain host `cargo build`
    // goes through the cc driver (which itself runs the toolchain's lld).
    let direct_lld = flags.contains("linker-flavor=ld.lld");
    let args: &[&str] = if direct_lld {
        &[
            "-static",
            "--no-dynamic-linker",
            "--build-id=none",
            "-z",
            "norelro",
            "-T",
            &script,
        ]
    } else {
        &[
            "-nostartfiles",
            "-nostdlib",
            "-static",
            "-Wl,--build-id=none",
            "-Wl,-z,norelro",
            "-Wl,-T",
            &script,
        ]
    };
    for a in args {
        println!("cargo:rustc-link-arg-bins={a}");
    }
}

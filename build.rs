//! Link flags for the freestanding `nsexec` binary only (never for test
//! harnesses, which link against the host libc as usual).
use std::env;

fn main() {
    println!("cargo:rerun-if-changed=linker.ld");
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

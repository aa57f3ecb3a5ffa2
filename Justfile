# nsexec tasks. `bash tests/run` installs what these need on a fresh machine.
set shell := ["bash", "-euo", "pipefail", "-c"]

arches := "x86_64 aarch64 powerpc64le s390x"

# Build nsexec and run a shell inside fresh namespaces.
demo:
    cargo run --release -- -U -r -p -m -u -i -n --mount-proc --hostname demo -- \
        /bin/sh -c 'echo "uid $(id -u) on $(hostname), pid $$"; ls -l /proc/self/ns'

# Host build (target/release/nsexec).
build:
    cargo build --release

# The triple an architecture's targets/ file names.
triple arch:
    @sed -n 's/^\[target\.\(.*\)\]$/\1/p' targets/{{arch}}.toml

# The emulator an architecture's targets/ file names (empty when native).
emulator arch:
    @sed -n 's/^runner = "\(.*\)"$/\1/p' targets/{{arch}}.toml

# Release binary for one architecture, linked by the toolchain's rust-lld.
build-arch arch:
    cargo build --release --target "$(just triple {{arch}})" --config targets/{{arch}}.toml

# Release binaries for all four architectures.
build-all:
    for a in {{arches}}; do just build-arch "$a"; done

# The four release binary sizes, each held to the budget its targets/ file
# names: a binary past it fails.
size: build-all
    #!/usr/bin/env bash
    set -euo pipefail
    over=0
    for a in {{arches}}; do
        t=$(just triple "$a")
        n=$(stat -c %s "target/$t/release/nsexec")
        budget=$(sed -n 's/^# size-budget = //p' "targets/$a.toml")
        verdict=ok; [ "$n" -le "$budget" ] || { verdict="OVER BUDGET"; over=1; }
        printf '%-12s %6d bytes  budget %6d  %s  target/%s/release/nsexec\n' "$a" "$n" "$budget" "$verdict" "$t"
    done
    exit $over

# Where the bytes go: sections, and the 40 largest functions, of an
# unstripped x86_64 (or ARCH) release build.
size-report arch="x86_64":
    #!/usr/bin/env bash
    set -euo pipefail
    t=$(just triple {{arch}})
    CARGO_PROFILE_RELEASE_STRIP=false cargo build -q --release --target "$t" --config targets/{{arch}}.toml --target-dir target/sizes
    b="target/sizes/$t/release/nsexec"
    size -A "$b"
    nm --size-sort -S -C "$b" | grep -iE ' [tT] ' | tail -40 | while read -r _ sz _ name; do printf '%6d  %s\n' "$((16#$sz))" "$name"; done

# Host tests: unit tests and the integration suite, on x86_64.
test-host: build
    cargo build --release --features selftest --target-dir target/selftest
    NSEXEC_SELFTEST_BIN="$PWD/target/selftest/release/nsexec" cargo test --release -- --test-threads=2

# The whole suite: host tests, every architecture under qemu-user, then
# under its own Debian 6.1 kernel.
test: test-host cross vm-all

# Each architecture under qemu-user: the arch selftest, then the
# integration tests that qemu can run (user namespaces are native-only).
cross:
    for a in aarch64 powerpc64le s390x; do just cross-arch "$a"; done

cross-arch arch:
    #!/usr/bin/env bash
    set -euo pipefail
    t=$(just triple {{arch}}); emu=$(just emulator {{arch}})
    cargo build --release --target "$t" --config targets/{{arch}}.toml
    cargo build --release --features selftest --target "$t" --config targets/{{arch}}.toml --target-dir target/selftest
    echo "== {{arch}}: selftest under $emu"
    NSEXEC_SELFTEST_ENV="x y" "$emu" "target/selftest/$t/release/nsexec" selftest "a b" c
    echo "== {{arch}}: integration tests under $emu"
    NSEXEC_ARCH={{arch}} NSEXEC_BIN="$PWD/target/$t/release/nsexec" NSEXEC_SELFTEST_BIN="$PWD/target/selftest/$t/release/nsexec" \
        cargo test --release --test cross -- --test-threads=2

# One architecture's release and selftest binaries under Debian 12's 6.1
# kernel in qemu-system (TCG); downloads are cached in target/vm/cache.
vm arch:
    #!/usr/bin/env bash
    set -euo pipefail
    t=$(just triple {{arch}})
    cargo build --release --target "$t" --config targets/{{arch}}.toml
    cargo build --release --features selftest --target "$t" --config targets/{{arch}}.toml --target-dir target/selftest
    python3 tests/vm/vm.py {{arch}}

# Every architecture under its real 6.1 kernel.
vm-all:
    for a in {{arches}}; do just vm "$a"; done

# Formatting and lints, as CI wants them.
lint:
    cargo fmt --check
    cargo clippy --release -- -D warnings
    cargo clippy --release --tests -- -D warnings
    # Each role build is its own cfg world: lint it as it ships.
    for r in bootstrap init; do cargo clippy --release --no-default-features --features "$r" --target-dir "target/roles/$r" -- -D warnings; done
    # The fuzz targets include the parsers' sources: keep them compiling.
    cargo check -q --manifest-path fuzz/Cargo.toml

# Fuzz each parser for SECS seconds (nightly cargo-fuzz, installed if missing).
fuzz secs="60":
    command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
    cd fuzz && for t in bootstrap_message command_line; do cargo +nightly fuzz run "$t" -- -max_total_time={{secs}}; done

# The benchmarks (writes BENCHMARKS.md).
bench: build-all
    python3 bench/run.py --runs 200
    python3 bench/containers.py --rounds 10 --batch 20 --write
    python3 bench/relay.py --mib 100 --rounds 5 --write
    python3 bench/runc_generations.py --rounds 5 --batch 20 --write
    python3 bench/pause.py --samples 10 --write

# A few runs of each benchmark, no file written: keeps the bench working.
bench-quick: build
    python3 bench/run.py --runs 5 --quick
    python3 bench/containers.py --rounds 1 --batch 3
    python3 bench/relay.py --mib 5 --rounds 1
    python3 bench/runc_generations.py --rounds 1 --batch 2
    python3 bench/pause.py --samples 1

# runc's own integration suite (bats) with nsexec as runc's bootstrap. The
# scripts in tests/runc build runc 1.1.5 (bookworm) and 1.3.6 (sid) from
# Debian's sources, CGO-free with target/release/nsexec baked in as the
# bootstrap, and with runc's C for comparison; all under target/runc.
# runc's sources, the packages and Go dependencies, from Debian (idempotent).
runc-setup:
    bash tests/runc/setup.sh

# runc GEN (1.1 or 1.3), both flavours, then one busybox `runc run` with each.
runc-build gen: runc-setup
    bash tests/runc/build.sh {{gen}}

# Failures are judged by tests/runc/expected-failures-GEN.txt; the logs are
# in target/runc/logs/GEN-nsexec.
# runc GEN's bats suite, or FILES of it (run exec ...), nsexec the bootstrap.
runc-suite gen *files: build (runc-build gen)
    bash tests/runc/suite.sh {{gen}} nsexec {{files}}

# The same with runc's own C bootstrap, to compare with (logs: GEN-c).
runc-suite-c gen *files: (runc-build gen)
    bash tests/runc/suite.sh {{gen}} c {{files}}

# The files of runc's suite that exercise the bootstrap, and quick ones
# beside them; idmap.bats (about 200 s: a Debian rootfs per test) and
# mounts_recursive.bats (30 s) are left to runc-suite.
runc_ci_files := "run exec create start start_detached start_hello userns tty kill delete debug cpu_affinity mounts mounts_propagation update cgroups timens cwd env dev mask umask root no_pivot capabilities pidfd-socket personality host-mntns hooks list ps pause state"

# runc_ci_files for runc 1.1, then 1.3, nsexec the bootstrap.
runc-ci: build (runc-build "1.1") (runc-build "1.3")
    bash tests/runc/ci.sh {{runc_ci_files}}

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

# The builds, one per role: `full` (the default: every mode), `bootstrap`
# (runc's drop-in: stage 0 to the payload) and `init` (the PID 1 and its
# named lines, tini, catatonit and pause). The role builds live under
# target/roles/ROLE.
roles := "full bootstrap init"

# Release binaries for all four architectures.
build-all:
    for a in {{arches}}; do just build-arch "$a"; done

# The role builds for the host (target/roles/ROLE/release/nsexec), which the
# host tests and the runc suites run as a runtime or an image would.
build-roles:
    for r in bootstrap init; do cargo build --release --no-default-features --features "$r" --target-dir "target/roles/$r"; done

# Every role on every architecture.
build-roles-all:
    for r in {{roles}}; do for a in {{arches}}; do just build-role "$r" "$a"; done; done

# One role's release binary for one architecture (full is `build-arch`).
build-role role arch:
    #!/usr/bin/env bash
    set -euo pipefail
    if [ {{role}} = full ]; then exec just build-arch {{arch}}; fi
    cargo build --release --no-default-features --features {{role}} --target "$(just triple {{arch}})" \
        --config targets/{{arch}}.toml --target-dir target/roles/{{role}}

# Where a role's release binary for an architecture lands.
role-bin role arch:
    #!/usr/bin/env bash
    t=$(just triple {{arch}})
    if [ {{role}} = full ]; then echo "target/$t/release/nsexec"; else echo "target/roles/{{role}}/$t/release/nsexec"; fi

# Every role on every architecture, each held to the budget its targets/
# file names (`# size-budget-ROLE = N`, bytes; a binary past it fails). The
# goals (issue 20) are the `# size-goal-ROLE` lines and 1.3 times the same
# role's x86_64 size: reported, not enforced, until they are met.
size:
    #!/usr/bin/env bash
    set -euo pipefail
    over=0
    for r in {{roles}}; do
        for a in {{arches}}; do just build-role "$r" "$a" >/dev/null 2>&1 || just build-role "$r" "$a"; done
        b=$(just role-bin "$r" x86_64); base=$(stat -c %s "$b")
        for a in {{arches}}; do
            b=$(just role-bin "$r" "$a"); n=$(stat -c %s "$b")
            budget=$(sed -n "s/^# size-budget-$r = //p" "targets/$a.toml")
            goal=$(sed -n "s/^# size-goal-$r = //p" "targets/$a.toml")
            [ -n "$budget" ] || { echo "size: targets/$a.toml names no size-budget-$r"; exit 1; }
            verdict=ok
            [ "$n" -le "$budget" ] || { verdict="OVER BUDGET"; over=1; }
            g=; [ -z "$goal" ] || { [ "$n" -le "$goal" ] && g="goal $goal met" || g="goal $goal: $((n - goal)) over"; }
            [ $((n * 10)) -le $((base * 13)) ] || g="$g; over 1.3x x86_64"
            printf '%-9s %-12s %6d bytes  %4s%% of x86_64  budget %6d  %-4s %s\n' \
                "$r" "$a" "$n" "$((n * 100 / base))" "$budget" "$verdict" "$g"
        done
    done
    exit $over

# Where the bytes go: sections, and the 40 largest functions, of an
# unstripped release build of ROLE for ARCH.
size-report role="full" arch="x86_64":
    #!/usr/bin/env bash
    set -euo pipefail
    t=$(just triple {{arch}})
    f=(); [ {{role}} = full ] || f=(--no-default-features --features {{role}})
    CARGO_PROFILE_RELEASE_STRIP=false cargo build -q --release "${f[@]}" --target "$t" --config targets/{{arch}}.toml --target-dir target/sizes/{{role}}
    b="target/sizes/{{role}}/$t/release/nsexec"
    size -A "$b"
    nm --size-sort -S -C "$b" | grep -iE ' [tT] ' | tail -40 | while read -r _ sz _ name; do printf '%6d  %s\n' "$((16#$sz))" "$name"; done

# Host tests: unit tests and the integration suite, on x86_64.
test-host: build build-roles
    cargo build --release --features selftest --target-dir target/selftest
    NSEXEC_SELFTEST_BIN="$PWD/target/selftest/release/nsexec" \
    NSEXEC_BOOTSTRAP_BIN="$PWD/target/roles/bootstrap/release/nsexec" NSEXEC_INIT_BIN="$PWD/target/roles/init/release/nsexec" \
        cargo test --release -- --test-threads=2

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
    for r in {{roles}}; do just build-role "$r" {{arch}}; done
    cargo build --release --features selftest --target "$t" --config targets/{{arch}}.toml --target-dir target/selftest
    echo "== {{arch}}: selftest under $emu"
    NSEXEC_SELFTEST_ENV="x y" "$emu" "target/selftest/$t/release/nsexec" selftest "a b" c
    echo "== {{arch}}: integration tests under $emu"
    NSEXEC_ARCH={{arch}} NSEXEC_BIN="$PWD/$(just role-bin full {{arch}})" NSEXEC_SELFTEST_BIN="$PWD/target/selftest/$t/release/nsexec" \
    NSEXEC_BOOTSTRAP_BIN="$PWD/$(just role-bin bootstrap {{arch}})" NSEXEC_INIT_BIN="$PWD/$(just role-bin init {{arch}})" \
        cargo test --release --test cross -- --test-threads=2

# One architecture's release and selftest binaries under Debian 12's 6.1
# kernel in qemu-system (TCG); downloads are cached in target/vm/cache.
vm arch:
    #!/usr/bin/env bash
    set -euo pipefail
    t=$(just triple {{arch}})
    for r in {{roles}}; do just build-role "$r" {{arch}}; done
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
bench: build-roles-all build-roles
    python3 bench/run.py --runs 200
    python3 bench/containers.py --rounds 10 --batch 20 --write
    python3 bench/relay.py --mib 100 --rounds 5 --write
    python3 bench/runc_generations.py --rounds 5 --batch 20 --write
    python3 bench/pause.py --samples 10 --write

# A few runs of each benchmark, no file written: keeps the bench working.
bench-quick: build build-roles
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
runc-suite gen *files: build build-roles (runc-build gen)
    bash tests/runc/suite.sh {{gen}} nsexec {{files}}

# The same with runc's own C bootstrap, to compare with (logs: GEN-c).
runc-suite-c gen *files: (runc-build gen)
    bash tests/runc/suite.sh {{gen}} c {{files}}

# The files of runc's suite that exercise the bootstrap, and quick ones
# beside them; idmap.bats (about 200 s: a Debian rootfs per test) and
# mounts_recursive.bats (30 s) are left to runc-suite.
runc_ci_files := "run exec create start start_detached start_hello userns tty kill delete debug cpu_affinity mounts mounts_propagation update cgroups timens cwd env dev mask umask root no_pivot capabilities pidfd-socket personality host-mntns hooks list ps pause state"

# runc_ci_files for runc 1.1, then 1.3, nsexec the bootstrap.
runc-ci: build build-roles (runc-build "1.1") (runc-build "1.3")
    bash tests/runc/ci.sh {{runc_ci_files}}

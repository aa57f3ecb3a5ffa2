#!/usr/bin/env python3
"""nsexec side by side with the tools people use instead.

    python3 bench/run.py [--runs N] [--quick] [--nsexec PATH] [--arch-bins GLOB ...] [--role-bins GLOB ...]

Scenarios (shared/PROTOCOL.md is the contract the bootstrap rows speak):
  S1  create user (root mapped to a 65536 range) + pid + mnt + uts + ipc + net
      namespaces and run /bin/true;
  S2  join those six namespaces of a running process and run /bin/true;
  S3  an init running /bin/true, and the init's VmRSS while its payload runs
      (nsexec's full build and its init build, beside the peers);
  Size  nsexec's release binaries, each role build (full, bootstrap, init) on
      each of the four architectures, and the peers'.

How each number is taken (BENCHMARKS.md repeats it):
  wall time   bench/driver.c's own clock, fork of the command to the reap of
              the last process of its tree (the driver is a child subreaper),
              one run per command per round; each round runs every command of
              the scenario, in rotated order. Neither the driver's exec nor the
              runner's spawn is on the clock.
  set-up      bootstrap rows only: fork to the pid JSON on the init pipe.
  floor       bench/floor.c built twice, with static glibc and with no C
              library (x86_64, aarch64); same system calls, so the two rows
              differ by libc's start-up alone. --floor picks the reference.
  syscalls    `strace -f` traces through the same driver (1 quick, median of 3
              otherwise); each call entered counts once, in every process of
              the tree but the caller (the driver, and its child until it execs
              the command). Bootstrap rows split the count where the payload
              starts: stage 2's execve of it for nsexec, the first call of the
              Go runtime (sched_getaffinity) in stage 2 for runc.
  RSS         VmRSS of the process the command starts (the one that stays
              while the payload runs: the init, the waiting parent), read from
              /proc/PID/status once a `sleep` payload is running under it.
  size        bytes of the program's file (shared libraries not counted); the
              Size table also divides each role build by the same role's x86_64.

Writes BENCHMARKS.md at the repository root, or with --quick (CI: a few runs,
so it keeps working) bench/out/BENCHMARKS.quick.md; --output overrides.
bench/notes.md, when present, is the "Where the time goes" section.
The C helpers are compiled into bench/out with gcc -static -O2 when stale;
missing Debian peers are apt-get installed when running as root.

Benchmarks are not tests: nothing here fails on a missed goal. A command
that fails is reported as failed; the run carries on.
"""

from __future__ import annotations

import argparse
import datetime
import fcntl
import glob
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
OUT = os.path.join(BENCH, "out")

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
SIX_NAMESPACES = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET
ID_RANGE_ARG = "0 100000 65536\\n"  # the driver turns a written \n into a newline
# runc's Go side lists namespaces user first (configs.NamespaceTypes order).
JOIN_ORDER = ("user", "ipc", "uts", "net", "pid", "mnt")

PAYLOAD = ["/bin/true"]
RSS_PAYLOAD = ["/bin/sleep", "0.3"]
RUN_TIMEOUT = 60

ARCHES = ("x86_64", "aarch64", "powerpc64le", "s390x")
# The role builds (Justfile `roles`): full is the default build, under
# target/TRIPLE; the others live under target/roles/ROLE/TRIPLE.
ROLES = ("full", "bootstrap", "init")
DEFAULT_ARCH_BINS = [f"target/{a}-unknown-linux-gnu/release/nsexec" for a in ARCHES]
DEFAULT_ROLE_BINS = ["target/roles/*/*/release/nsexec"]
# The role builds for the host (Justfile build-roles); S3 runs the init one
# beside the full build's --init.
HOST_ROLE_BINS = "target/roles/*/release/nsexec"
HOST_INIT_BIN = "target/roles/init/release/nsexec"

# Tool -> Debian 12 package. tini ships both tini and tini-static.
PEER_PACKAGES = {
    "unshare": "util-linux", "nsenter": "util-linux", "bwrap": "bubblewrap", "runc": "runc",
    "tini": "tini", "tini-static": "tini", "catatonit": "catatonit", "dumb-init": "dumb-init",
    "strace": "strace", "gcc": "gcc",
}

GOAL_FLOOR_RATIO = 1.00
GOAL_PEER_SPEEDUP = 1.25
GOAL_SYSCALL_SHARE = 1 / 3
GOAL_INIT_SPEEDUP = 1.15
GOAL_INIT_RSS_KIB = 32
# Issue 20: each role's x86_64 size, and every architecture within 1.3 times it.
GOAL_X86_64_BYTES = {"full": 56 * 1024, "bootstrap": 24 * 1024, "init": 12 * 1024}
GOAL_ARCH_RATIO = 1.30


# ---------------------------------------------------------------- set-up

def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def static_libc_present() -> bool:
    return bool(glob.glob("/usr/lib/*/libc.a") or glob.glob("/usr/lib/libc.a"))


def install_missing_peers(allowed: bool) -> None:
    """apt-get installs the Debian packages whose tools are missing (root only)."""
    missing = sorted({pkg for tool, pkg in PEER_PACKAGES.items() if not shutil.which(tool)})
    if not static_libc_present():
        missing.append("libc6-dev")
    if not missing:
        return
    if not allowed or os.geteuid() != 0 or not shutil.which("apt-get"):
        log(f"missing packages, not installing: {' '.join(missing)} (their rows report 'not installed')")
        return
    log(f"installing {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env, check=False)


HELPER_BUILDS = {
    "driver": ("driver.c", []),
    "floor": ("floor.c", []),
    # The same floor without any C library: x86_64 and aarch64 only.
    "floor-nolibc": ("floor.c", ["-nostdlib", "-ffreestanding", "-fno-stack-protector", "-DFLOOR_NOLIBC"]),
}


def build_helpers() -> dict[str, str | None]:
    """Compiles the C helpers into bench/out (gcc -static -O2) when stale;
    a helper that does not build is None (the floor without libc is
    optional, the others are not)."""
    os.makedirs(OUT, exist_ok=True)
    built: dict[str, str | None] = {}
    for name, (source, extra) in HELPER_BUILDS.items():
        src, exe = os.path.join(BENCH, source), os.path.join(OUT, name)
        built[name] = exe
        newest_input = max(os.path.getmtime(src), os.path.getmtime(__file__))  # the flags live here
        if os.path.exists(exe) and os.path.getmtime(exe) >= newest_input:
            continue
        if name == "floor-nolibc" and platform.machine() not in ("x86_64", "aarch64"):
            built[name] = None
            continue
        r = subprocess.run(["gcc", "-static", "-O2", "-Wall", *extra, "-o", exe, src],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode:
            if name == "floor-nolibc":
                log(f"cannot build {name}, its row reports 'not built':\n{r.stdout}")
                built[name] = None
                continue
            sys.exit(f"bench: cannot build {name}: gcc -static -O2 {' '.join(extra)} {src}\n{r.stdout}")
    return built


# ---------------------------------------------------------------- ELF facts

def elf_facts(path: str) -> tuple[str | None, bool | None]:
    """(architecture, statically linked) of an ELF64 file, or (None, None)."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if len(head) < 64 or head[:4] != b"\x7fELF" or head[4] != 2:
                return None, None
            order = "little" if head[5] == 1 else "big"
            machine = int.from_bytes(head[18:20], order)
            arch = {62: "x86_64", 183: "aarch64", 22: "s390x"}.get(machine)
            if machine == 21:
                arch = "powerpc64le" if order == "little" else "powerpc64"
            phoff = int.from_bytes(head[32:40], order)
            phentsize = int.from_bytes(head[54:56], order)
            phnum = int.from_bytes(head[56:58], order)
            f.seek(phoff)
            table = f.read(phentsize * phnum)
            PT_INTERP = 3
            has_interp = any(int.from_bytes(table[i * phentsize:i * phentsize + 4], order) == PT_INTERP
                             for i in range(phnum))
            return arch, not has_interp
    except OSError:
        return None, None


def build_role(path: str) -> str:
    """The role a binary was built for, from where the Justfile puts it:
    target/roles/ROLE/... is ROLE's build, anything else the full one."""
    shown = os.path.relpath(path, ROOT) if path.startswith(ROOT + "/") else path
    m = re.search(r"(?:^|/)target/roles/([^/]+)/", shown)
    return m.group(1) if m else "full"


def find_release_bins(patterns: list[str]) -> dict[tuple[str, str], str]:
    """(role, architecture) -> first release binary matching the globs
    (relative to the repo), in the order given: an earlier glob wins."""
    found: dict[tuple[str, str], str] = {}
    for pattern in patterns:
        full = pattern if os.path.isabs(pattern) else os.path.join(ROOT, pattern)
        for path in sorted(glob.glob(full)):
            arch, _ = elf_facts(path)
            if arch:
                found.setdefault((build_role(path), arch), path)
    return found


def file_size(path: str | None) -> int | None:
    try:
        return os.path.getsize(os.path.realpath(path)) if path else None
    except OSError:
        return None


# ---------------------------------------------------------------- commands

@dataclass
class Command:
    key: str                       # stable id the goals refer to
    label: str                     # what the table shows
    program: Callable[[list[str]], list[str]]  # payload argv -> argv the driver execs
    driver_opts: list[str]         # ["--plain"] or the bootstrap message options
    binary: str | None             # file whose size the row shows
    unavailable: str | None = None  # "not installed" / "not built"
    rss: bool = True               # a process of the command stays while the payload runs
    setup_marker: str | None = None  # bootstrap rows: the trace line that starts the payload
    pass_fds: tuple = ()
    # results
    totals: list[float] = field(default_factory=list)   # ms
    setups: list[float] = field(default_factory=list)   # ms, bootstrap rows
    faults: list[int] = field(default_factory=list)     # page faults of the run's tree
    failure: str | None = None
    syscalls: int | None = None
    setup_syscalls: int | None = None
    rss_kib: int | None = None
    rss_parts: dict[str, int] | None = None  # KiB by kind of mapping, from smaps

    @property
    def bootstrap(self) -> bool:
        return "--plain" not in self.driver_opts

    def argv(self, payload: list[str] = PAYLOAD) -> list[str]:
        return self.program(payload)

    def status(self) -> str | None:
        return self.unavailable or (self.failure and "failed") or (None if self.totals else "failed")


def tool(name: str) -> str | None:
    return shutil.which(name)


def plain(key, label, program, binary, unavailable=None, rss=True, pass_fds=()):
    return Command(key, label, program, ["--plain"], binary, unavailable, rss=rss, pass_fds=pass_fds)


def installed(path: str | None) -> str | None:
    return None if path else "not installed"


def bootstrap_opts(clone_flags: int = 0, ns_paths: str | None = None, id_map: str | None = None,
                   setgroups: bool = False) -> list[str]:
    opts = ["--clone-flags", f"{clone_flags:x}"]
    if ns_paths:
        opts += ["--ns-paths", ns_paths]
    if id_map:
        opts += ["--uid-map", id_map, "--gid-map", id_map]
    if setgroups:
        opts.append("--setgroups")
    return opts


def runc_label() -> str:
    """"runc 1.1.5 C nsexec ...", with the installed version."""
    version = "?"
    if tool("runc"):
        out = subprocess.run([tool("runc"), "--version"], capture_output=True, text=True).stdout
        m = re.match(r"runc version (\d+\.\d+\.\d+)", out)
        version = m.group(1) if m else version
    return f"runc {version} C nsexec (driver; payload: its Go `--version`)"


def nsexec_status(nsexec: str) -> str | None:
    return None if os.access(nsexec, os.X_OK) else "not built"


def floor_rows(helpers: dict[str, str | None], verb: list[str]) -> list[Command]:
    nolibc, glibc = helpers["floor-nolibc"], helpers["floor"]
    shown = "join PID" if verb[0] == "join" else " ".join(verb)
    return [
        plain("floor-nolibc", f"C floor, no libc (bench/floor.c {shown})",
              lambda p: [nolibc, *verb, "--", *p], nolibc, None if nolibc else "not built"),
        plain("floor-glibc", f"C floor, static glibc (bench/floor.c {shown})",
              lambda p: [glibc, *verb, "--", *p], glibc),
    ]


def staged_floor_rows(helpers: dict[str, str | None], opts: list[str]) -> list[Command]:
    """The staged C floor (bench/floor.c bootstrap): runc's three stages by
    hand, driven with the same message as nsexec's bootstrap row."""
    nolibc, glibc = helpers["floor-nolibc"], helpers["floor"]
    marker = f'["{PAYLOAD[0]}"'  # its execveat of the payload, as nsexec's
    return [
        Command("staged-floor-nolibc", "staged C floor, no libc (driver, bench/floor.c bootstrap)",
                lambda p: [nolibc, "bootstrap", "--", *p], opts, nolibc, None if nolibc else "not built",
                rss=False, setup_marker=marker),
        Command("staged-floor-glibc", "staged C floor, static glibc (driver, bench/floor.c bootstrap)",
                lambda p: [glibc, "bootstrap", "--", *p], opts, glibc, None if glibc else "not built",
                rss=False, setup_marker=marker),
    ]


def s1_commands(nsexec: str, helpers: dict[str, str | None]) -> list[Command]:
    unshare, bwrap, runc = tool("unshare"), tool("bwrap"), tool("runc")
    create = bootstrap_opts(SIX_NAMESPACES, id_map=ID_RANGE_ARG, setgroups=True)
    rest = ["--pid", "--mount", "--uts", "--ipc", "--net"]
    return [
        *floor_rows(helpers, ["create"]),
        *staged_floor_rows(helpers, create),
        Command("nsexec-bootstrap", "nsexec bootstrap (driver, 0:100000:65536)", lambda p: [nsexec, *p], create,
                nsexec, nsexec_status(nsexec), rss=False, setup_marker=f'["{PAYLOAD[0]}"'),
        plain("nsexec-root", "nsexec --user --map-root-user --pid --mount --uts --ipc --net",
              lambda p: [nsexec, "--user", "--map-root-user", *rest, "--", *p], nsexec, nsexec_status(nsexec)),
        plain("nsexec-range", "nsexec --user --map-users/--map-groups=0:100000:65536 --pid ...",
              lambda p: [nsexec, "--user", "--map-users=0:100000:65536", "--map-groups=0:100000:65536",
                         *rest, "--", *p], nsexec, nsexec_status(nsexec)),
        plain("unshare", "unshare --user --map-root-user --pid --fork --mount --uts --ipc --net",
              lambda p: [unshare, "--user", "--map-root-user", "--pid", "--fork", "--mount", "--uts", "--ipc",
                         "--net", *p], unshare, installed(unshare)),
        plain("bwrap", "bwrap --unshare-user --uid 0 --gid 0 --unshare-pid/ipc/net/uts --bind / /",
              lambda p: [bwrap, "--unshare-user", "--uid", "0", "--gid", "0", "--unshare-pid", "--unshare-ipc",
                         "--unshare-net", "--unshare-uts", "--bind", "/", "/", *p], bwrap, installed(bwrap)),
        # runc's payload is its own Go code: PAYLOAD does not apply.
        Command("runc", runc_label(), lambda p: [runc, "--version"], create, runc, installed(runc), rss=False,
                setup_marker="sched_getaffinity("),
    ]


def s2_commands(nsexec: str, helpers: dict[str, str | None], target: int, sealed_fd: int | None) -> list[Command]:
    nsenter, runc = tool("nsenter"), tool("runc")
    paths = ",".join(f"{ns}:/proc/{target}/ns/{ns}" for ns in JOIN_ORDER)
    join = bootstrap_opts(0, ns_paths=paths)
    flags = ["-U", "-p", "-m", "-u", "-i", "-n"]
    commands = [
        *floor_rows(helpers, ["join", str(target)]),
        *staged_floor_rows(helpers, join),
        Command("nsexec-bootstrap", "nsexec bootstrap (driver, NS_PATHS)", lambda p: [nsexec, *p], join, nsexec,
                nsexec_status(nsexec), rss=False, setup_marker=f'["{PAYLOAD[0]}"'),
        plain("nsexec-join", "nsexec -t PID -U -p -m -u -i -n",
              lambda p: [nsexec, "-t", str(target), *flags, "--", *p], nsexec, nsexec_status(nsexec)),
    ]
    if sealed_fd is not None:
        sealed = f"/proc/self/fd/{sealed_fd}"
        commands.append(plain("nsexec-join-sealed", "nsexec -t PID ... started from a sealed memfd (no re-exec)",
                              lambda p: [sealed, "-t", str(target), *flags, "--", *p], nsexec,
                              nsexec_status(nsexec), rss=False, pass_fds=(sealed_fd,)))
    commands += [
        plain("nsenter", "nsenter -t PID -U -p -m -u -i -n", lambda p: [nsenter, "-t", str(target), *flags, *p],
              nsenter, installed(nsenter)),
        Command("runc", runc_label(), lambda p: [runc, "--version"], join, runc, installed(runc), rss=False,
                setup_marker="sched_getaffinity("),
    ]
    return commands


def host_init_bin() -> str:
    """The init role build S3 runs: the host build, or else the cross build
    for the host's architecture (`just size` makes those)."""
    host = os.path.join(ROOT, HOST_INIT_BIN)
    if os.path.exists(host):
        return host
    arch = {"ppc64le": "powerpc64le"}.get(platform.machine(), platform.machine())
    return os.path.join(ROOT, f"target/roles/init/{arch}-unknown-linux-gnu/release/nsexec")


def s3_commands(nsexec: str, init_bin: str) -> list[Command]:
    tini, tini_static, catatonit, dumb_init = tool("tini"), tool("tini-static"), tool("catatonit"), tool("dumb-init")
    return [
        plain("payload", "/bin/true alone", lambda p: list(p), PAYLOAD[0], rss=False),
        plain("nsexec-init", "nsexec --init", lambda p: [nsexec, "--init", "--", *p], nsexec, nsexec_status(nsexec)),
        # The same init from the build that holds nothing else (what an image ships as its init).
        plain("nsexec-init-build", "nsexec init build --init", lambda p: [init_bin, "--init", "--", *p], init_bin,
              nsexec_status(init_bin)),
        plain("tini", "tini -s", lambda p: [tini, "-s", "--", *p], tini, installed(tini)),
        plain("tini-static", "tini-static -s", lambda p: [tini_static, "-s", "--", *p], tini_static,
              installed(tini_static)),
        plain("catatonit", "catatonit", lambda p: [catatonit, "--", *p], catatonit, installed(catatonit)),
        plain("dumb-init", "dumb-init", lambda p: [dumb_init, *p], dumb_init, installed(dumb_init)),
    ]


# ---------------------------------------------------------------- measuring

def driver_argv(driver: str, cmd: Command, extra: list[str]) -> list[str]:
    return [driver, *cmd.driver_opts, *extra, "--timeout", str(RUN_TIMEOUT - 5), "--", *cmd.argv()]


def failure_summary(stderr: str) -> str:
    """The lines that say what failed, without the driver's closing one."""
    lines = [l.strip() for l in stderr.splitlines() if l.strip() and not re.match(r"driver: run \d+ of", l)]
    text = "; ".join(lines[:3]) or "no message"
    return text if len(text) <= 240 else text[:237] + "..."


def time_once(driver: str, cmd: Command) -> tuple[float, float | None, int | None] | str:
    """One timed run: (total ms, set-up ms or None, page faults), or what failed."""
    try:
        r = subprocess.run(driver_argv(driver, cmd, ["--iterations", "1"]), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=RUN_TIMEOUT, pass_fds=cmd.pass_fds)
    except subprocess.TimeoutExpired:
        return "timed out"
    if r.returncode:
        return f"{failure_summary(r.stderr)} (exit {r.returncode})"
    fields = dict(re.findall(r"(\w+)_ns=(\d+)", r.stdout))
    if "total" not in fields:
        return f"no timing from the driver: {r.stdout.strip()[:100]!r}"
    setup = int(fields["setup"]) / 1e6 if "setup" in fields else None
    faults = re.search(r"faults=(\d+)", r.stdout)
    return int(fields["total"]) / 1e6, setup, int(faults.group(1)) if faults else None


def run_interleaved(name: str, driver: str, commands: list[Command], runs: int, warmup: int) -> None:
    live = [c for c in commands if not c.unavailable]
    for rnd in range(warmup + runs):
        shift = rnd % len(live) if live else 0
        for cmd in live[shift:] + live[:shift]:
            if cmd.failure:
                continue
            result = time_once(driver, cmd)
            if isinstance(result, str):
                cmd.failure = result
                log(f"{name}: {cmd.label}: failed: {result}")
            elif rnd >= warmup:
                cmd.totals.append(result[0])
                if result[1] is not None:
                    cmd.setups.append(result[1])
                if result[2] is not None:
                    cmd.faults.append(result[2])


TRACE_LINE = re.compile(r"^(\d+)\s+(?!<\.\.\.)([a-z_0-9]+|\?\?\?)\(")


def count_syscalls(trace: str, driver_pid: int, marker: str | None) -> tuple[int, int | None]:
    """(calls of the tree without the caller, calls before the payload started).

    Each call entered counts once: an "<unfinished ...>" line counts, its
    "<... resumed>" line does not. The caller is the driver and what its
    forked child does before it execs the command (glibc's fork, redirecting
    stdout, placing the init pipe). With a marker, the calls of the marker's
    process from the marker on, and of every process first seen after it,
    belong to the payload."""
    total = setup = 0
    caller_child, child_execed = None, False
    marker_pid, seen_before = None, set()
    for line in trace.splitlines():
        m = TRACE_LINE.match(line)
        if not m:
            continue
        pid = int(m.group(1))
        if pid == driver_pid:
            continue
        if caller_child is None:
            caller_child = pid
        if pid == caller_child and not child_execed:
            if not m.group(2).startswith("execve"):
                continue
            child_execed = True
        total += 1
        if marker and marker_pid is None and marker in line:
            marker_pid = pid
        if marker_pid is None:
            seen_before.add(pid)
            setup += 1
        elif pid != marker_pid and pid in seen_before:
            setup += 1
    return total, (setup if marker and marker_pid is not None else None)


def trace_once(driver: str, cmd: Command) -> tuple[int, int | None] | None:
    with tempfile.TemporaryDirectory(prefix="nsexec-bench-") as tmp:
        out = os.path.join(tmp, "trace")
        argv = ["strace", "-f", "-qq", "-o", out, *driver_argv(driver, cmd, ["--iterations", "1"])]
        try:
            r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               timeout=RUN_TIMEOUT * 2, pass_fds=cmd.pass_fds)
        except subprocess.TimeoutExpired:
            return None
        if r.returncode or not os.path.exists(out):
            log(f"strace of {cmd.label} failed: {failure_summary(r.stderr)}")
            return None
        with open(out, errors="replace") as f:
            trace = f.read()
    first = TRACE_LINE.match(trace)
    if not first:
        return None
    return count_syscalls(trace, int(first.group(1)), cmd.setup_marker)


def count_all_syscalls(driver: str, commands: list[Command], traces: int) -> None:
    if not tool("strace"):
        return
    for cmd in commands:
        if cmd.status():
            continue
        results = [r for r in (trace_once(driver, cmd) for _ in range(traces)) if r]
        if not results:
            continue
        cmd.syscalls = round(statistics.median(r[0] for r in results))
        setups = [r[1] for r in results if r[1] is not None]
        cmd.setup_syscalls = round(statistics.median(setups)) if setups else None


def children(pid: int) -> list[int]:
    kids = []
    for task in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            with open(task) as f:
                kids += [int(k) for k in f.read().split()]
        except OSError:
            pass
    return kids


def descendants(pid: int) -> list[int]:
    found, todo = [], children(pid)
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children(p)
    return found


def read_proc(pid: int, name: str) -> str:
    try:
        with open(f"/proc/{pid}/{name}") as f:
            return f.read()
    except OSError:
        return ""


def vm_rss_kib(pid: int) -> int | None:
    m = re.search(r"^VmRSS:\s+(\d+)\s+kB", read_proc(pid, "status"), re.M)
    return int(m.group(1)) if m else None


RSS_PARTS = ("own code", "own data", "anonymous", "stack", "libraries")


def rss_parts(pid: int, binary: str | None) -> dict[str, int]:
    """Resident KiB of a process by kind of mapping (smaps): the program's
    own file mappings, executable or not; anonymous memory (.bss, heap);
    the stack; other files (shared libraries)."""
    own = os.path.realpath(binary) if binary else None
    parts = dict.fromkeys(RSS_PARTS, 0)
    kind = None
    for line in read_proc(pid, "smaps").splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and not fields[0].endswith(":"):
            path = fields[5] if len(fields) > 5 else ""
            if own and os.path.realpath(path) == own:
                kind = "own code" if "x" in fields[1] else "own data"
            elif path == "[stack]":
                kind = "stack"
            elif path in ("", "[heap]"):
                kind = "anonymous"
            elif path.startswith("["):
                kind = None  # vdso, vvar: the kernel's, not counted in VmRSS
            else:
                kind = "libraries"
        elif fields and fields[0] == "Rss:" and kind:
            parts[kind] += int(fields[1])
    return parts


def sample_rss(cmd: Command) -> int | None:
    """VmRSS of the process the command starts, once its sleep payload runs;
    its smaps breakdown goes into cmd.rss_parts."""
    payload_comm = os.path.basename(RSS_PAYLOAD[0])
    proc = subprocess.Popen(cmd.argv(RSS_PAYLOAD), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            pass_fds=cmd.pass_fds)
    rss, deadline = None, time.monotonic() + 5
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if any(read_proc(p, "comm").strip() == payload_comm for p in descendants(proc.pid)):
                time.sleep(0.05)  # let the parent settle into its wait
                rss = vm_rss_kib(proc.pid)
                cmd.rss_parts = rss_parts(proc.pid, cmd.binary)
                break
            time.sleep(0.002)
        proc.wait(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None
    return rss if proc.returncode == 0 else None


def measure_all_rss(commands: list[Command], samples: int) -> None:
    for cmd in commands:
        if cmd.rss and not cmd.status():
            values = [v for v in (sample_rss(cmd) for _ in range(samples)) if v is not None]
            cmd.rss_kib = round(statistics.median(values)) if values else None


def measure_scenario(name, driver, commands, args) -> list[Command]:
    log(f"{name}: {len([c for c in commands if not c.unavailable])} commands, {args.runs} interleaved runs")
    run_interleaved(name, driver, commands, args.runs, args.warmup)
    count_all_syscalls(driver, commands, args.traces)
    measure_all_rss(commands, args.rss_samples)
    return commands


# ---------------------------------------------------------------- the S2 target

class JoinTarget:
    """pid 1 of fresh user (0:100000:65536), pid, mnt, uts, ipc and net
    namespaces, made by the floor and sleeping, for S2 to join."""

    def __init__(self, floor: str):
        self.parent = subprocess.Popen([floor, "create", "--", "/bin/sleep", "3600"])
        self.pid = None
        own_user = os.readlink("/proc/self/ns/user")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.parent.poll() is None:
            kids = children(self.parent.pid)
            if kids and read_proc(kids[0], "comm").strip() == "sleep":
                try:
                    if os.readlink(f"/proc/{kids[0]}/ns/user") != own_user:
                        self.pid = kids[0]
                        break
                except OSError:
                    pass
            time.sleep(0.005)
        if self.pid is None:
            self.close()
            raise RuntimeError("the S2 target (floor create -- sleep) did not start")

    def close(self) -> None:
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.parent.poll() is None:
            self.parent.kill()
        self.parent.wait()


def sealed_copy(path: str) -> int | None:
    """A sealed memfd holding nsexec, as nsexec's own re-exec makes."""
    if not os.access(path, os.R_OK):
        return None
    F_ADD_SEALS, SEALS = 1033, 0x1 | 0x2 | 0x4 | 0x8  # SEAL, SHRINK, GROW, WRITE
    fd = os.memfd_create("nsexec", os.MFD_ALLOW_SEALING)  # no CLOEXEC needed: pass_fds decides
    with open(path, "rb") as f:
        os.write(fd, f.read())
    fcntl.fcntl(fd, F_ADD_SEALS, SEALS)
    return fd


# ---------------------------------------------------------------- report

def fmt_ms(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}"


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[round(q * (len(s) - 1))]


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def row_median(cmd: Command | None) -> float | None:
    return median(cmd.totals) if cmd and not cmd.status() else None


def size_cell(path: str | None) -> str:
    n = file_size(path)
    return "—" if n is None else f"{n:,}".replace(",", " ")


def scenario_table(commands: list[Command], reference: Command | None) -> str:
    ref = row_median(reference)
    lines = ["| command | median ms | p10–p90 ms | ratio | syscalls | page faults | RSS KiB | size bytes |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for c in commands:
        status = c.status()
        if status:
            lines.append(f"| {c.label} | {status} | | | | | | {size_cell(c.binary)} |")
            continue
        med = median(c.totals)
        spread = f"{percentile(c.totals, 0.1):.2f}–{percentile(c.totals, 0.9):.2f}"
        ratio = "—" if not ref else f"{med / ref:.2f}"
        syscalls = "—" if c.syscalls is None else str(c.syscalls)
        rss = "—" if c.rss_kib is None else str(c.rss_kib)
        faults = "—" if not c.faults else f"{statistics.median(c.faults):.0f}"
        lines.append(f"| {c.label} | {med:.2f} | {spread} | {ratio} | {syscalls} | {faults} | {rss} "
                     f"| {size_cell(c.binary)} |")
    failures = [f"- {c.label}: {c.failure}" for c in commands if c.failure]
    if failures:
        lines += ["", "Failed:", *failures]
    return "\n".join(lines)


def rss_table(commands: list[Command]) -> str:
    """The inits' resident set by kind of mapping (the last sample)."""
    rows = [c for c in commands if c.rss_parts and not c.status()]
    if not rows:
        return ""
    lines = ["| init | " + " | ".join(f"{p} KiB" for p in RSS_PARTS) + " | VmRSS KiB |",
             "|---|" + "---:|" * (len(RSS_PARTS) + 1)]
    for c in rows:
        cells = " | ".join(str(c.rss_parts[p]) for p in RSS_PARTS)
        lines.append(f"| {c.label} | {cells} | {c.rss_kib} |")
    return "\n".join(lines)


def setup_table(commands: list[Command]) -> str:
    rows = [c for c in commands if c.bootstrap and not c.status()]
    if not rows:
        return ""
    lines = ["| bootstrap | set-up ms (fork → pid JSON) | rest ms (→ last reap) | set-up syscalls "
             "| rest syscalls |", "|---|---:|---:|---:|---:|"]
    for c in rows:
        setup, total = median(c.setups), median(c.totals)
        rest = None if setup is None or total is None else total - setup
        rest_calls = None if c.syscalls is None or c.setup_syscalls is None else c.syscalls - c.setup_syscalls
        lines.append(f"| {c.label} | {fmt_ms(setup)} | {fmt_ms(rest)} | "
                     f"{'—' if c.setup_syscalls is None else c.setup_syscalls} | "
                     f"{'—' if rest_calls is None else rest_calls} |")
    return "\n".join(lines)


GOAL_NAMES = {
    "nsexec-bootstrap": "nsexec bootstrap", "nsexec-root": "nsexec --map-root-user",
    "nsexec-range": "nsexec --map-users range", "nsexec-join": "nsexec -t PID", "nsexec-init": "nsexec --init",
    "nsexec-init-build": "nsexec init build",
    "floor-nolibc": "the no-libc C floor", "floor-glibc": "the static-glibc C floor",
    "staged-floor-nolibc": "the staged no-libc C floor", "staged-floor-glibc": "the staged static-glibc C floor",
}


def goal_name(cmd: Command | None) -> str:
    return GOAL_NAMES.get(cmd.key, cmd.label) if cmd else "?"


def by_key(commands: list[Command], key: str) -> Command | None:
    return next((c for c in commands if c.key == key), None)


class Goals:
    def __init__(self):
        self.rows: list[tuple[str, str, str]] = []

    def add(self, goal: str, measured: str, met: bool | None) -> None:
        self.rows.append((goal, measured, "n/a" if met is None else ("met" if met else "missed")))

    def at_most_floor(self, scenario: str, cmd: Command | None, floor: Command | None,
                      other_floor: Command | None) -> None:
        a, b, c = row_median(cmd), row_median(floor), row_median(other_floor)
        r = a / b if a and b else None
        measured = "—" if r is None else f"{r:.2f} ×"
        if r is not None and c:
            measured += f" ({a / c:.2f} × {goal_name(other_floor)})"
        self.add(f"{scenario} {goal_name(cmd)} ≤ {GOAL_FLOOR_RATIO:.2f} × {goal_name(floor)}",
                 measured, None if r is None else r <= GOAL_FLOOR_RATIO)

    def faster_than(self, scenario: str, cmd: Command | None, peer: Command | None, peer_name: str,
                    factor: float) -> None:
        a, b = row_median(cmd), row_median(peer)
        r = b / a if a and b else None
        self.add(f"{scenario} {goal_name(cmd)} ≥ {factor:.2f}× faster than {peer_name}",
                 "—" if r is None else f"{r:.2f}×", None if r is None else r >= factor)

    def at_most_staged_floor(self, scenario: str, ours: Command | None, floor: Command | None) -> None:
        """Bootstrap against the staged floor, set-up and total, each on the
        driver's clock."""
        for what, pick in (("set-up", lambda c: median(c.setups)), ("total", lambda c: median(c.totals))):
            a = pick(ours) if ours and not ours.status() else None
            b = pick(floor) if floor and not floor.status() else None
            r = a / b if a and b else None
            self.add(f"{scenario} nsexec bootstrap {what} ≤ {GOAL_FLOOR_RATIO:.2f} × {goal_name(floor)}",
                     "—" if r is None else f"{r:.2f} × ({a:.2f} vs {b:.2f} ms)",
                     None if r is None else r <= GOAL_FLOOR_RATIO)

    def syscall_share(self, scenario: str, ours: Command | None, runc: Command | None) -> None:
        a = ours.setup_syscalls if ours else None
        b = runc.setup_syscalls if runc else None
        share = a / b if a and b else None
        self.add(f"{scenario} nsexec bootstrap set-up ≤ 1/3 of runc's set-up syscalls",
                 "—" if share is None else f"{a} vs {b} ({share:.2f})",
                 None if share is None else share <= GOAL_SYSCALL_SHARE)

    def rss_at_most(self, scenario: str, cmd: Command | None, kib: int) -> None:
        rss = cmd.rss_kib if cmd else None
        self.add(f"{scenario} {goal_name(cmd)} VmRSS ≤ {kib} KiB", "—" if rss is None else f"{rss} KiB",
                 None if rss is None else rss <= kib)

    def x86_64_size(self, role: str, path: str | None, limit: int) -> None:
        size = file_size(path)
        self.add(f"x86_64 {role} build ≤ {limit // 1024} KiB ({limit} bytes)",
                 "not built" if size is None else f"{size} bytes", None if size is None else size <= limit)

    def arch_ratio(self, role: str, bins: dict[tuple[str, str], str]) -> None:
        """Every architecture's build of the role within GOAL_ARCH_RATIO of
        its x86_64 one; measured is the worst. A missing build leaves the
        goal open unless a built one already misses it."""
        goal = f"{role} build: every architecture ≤ {GOAL_ARCH_RATIO:.2f} × its x86_64 size"
        base = file_size(bins.get((role, "x86_64")))
        if base is None:
            self.add(goal, "x86_64 not built", None)
            return
        sizes = {a: file_size(bins.get((role, a))) for a in ARCHES if a != "x86_64"}
        ratios = {a: n / base for a, n in sizes.items() if n is not None}
        missing = [a for a in sizes if a not in ratios]
        worst = max(ratios, key=ratios.get) if ratios else None
        measured = f"{worst} {ratios[worst]:.2f} ×" if worst else "—"
        if missing:
            measured += f" (not built: {', '.join(missing)})"
        over = worst is not None and ratios[worst] > GOAL_ARCH_RATIO
        if over:  # a ratio just past the goal rounds to it: say by how much
            measured += f", {sizes[worst] - int(base * GOAL_ARCH_RATIO)} bytes over"
        self.add(goal, measured, False if over else (None if missing else True))

    def missed(self) -> list[str]:
        return [g for g, _, status in self.rows if status == "missed"]

    def table(self) -> str:
        lines = ["| goal | measured | |", "|---|---|---|"]
        lines += [f"| {g} | {m} | {s} |" for g, m, s in self.rows]
        return "\n".join(lines)


def reference_floor(rows: list[Command], preferred: str) -> tuple[Command | None, Command | None]:
    """(the floor the ratios use, the other one): the preferred build unless
    it is unavailable."""
    first, second = by_key(rows, f"floor-{preferred}"), by_key(rows, "floor-glibc" if preferred == "nolibc"
                                                                  else "floor-nolibc")
    if first is None or first.status():
        first, second = second, first
    return first, second


def evaluate_goals(s1, s2, s3, bins: dict[tuple[str, str], str], preferred_floor: str) -> Goals:
    g = Goals()
    for scenario, rows, peer_key, peer_name, ours in (
            ("S1", s1, "unshare", "unshare", ("nsexec-bootstrap", "nsexec-root", "nsexec-range")),
            ("S2", s2, "nsenter", "nsenter", ("nsexec-bootstrap", "nsexec-join"))):
        floor, other_floor = reference_floor(rows, preferred_floor)
        for key in ours:
            g.at_most_floor(scenario, by_key(rows, key), floor, other_floor)
        for key in ours:
            g.faster_than(scenario, by_key(rows, key), by_key(rows, peer_key), peer_name, GOAL_PEER_SPEEDUP)
        staged = by_key(rows, f"staged-floor-{preferred_floor}")
        if staged is None or staged.status():
            staged = by_key(rows, "staged-floor-glibc" if preferred_floor == "nolibc" else "staged-floor-nolibc")
        g.at_most_staged_floor(scenario, by_key(rows, "nsexec-bootstrap"), staged)
        g.syscall_share(scenario, by_key(rows, "nsexec-bootstrap"), by_key(rows, "runc"))
    g.faster_than("S3", by_key(s3, "nsexec-init"), by_key(s3, "tini-static"), "tini-static -s",
                  GOAL_INIT_SPEEDUP)
    g.rss_at_most("S3", by_key(s3, "nsexec-init"), GOAL_INIT_RSS_KIB)
    g.rss_at_most("S3", by_key(s3, "nsexec-init-build"), GOAL_INIT_RSS_KIB)
    for role in ROLES:
        g.x86_64_size(role, bins.get((role, "x86_64")), GOAL_X86_64_BYTES[role])
    for role in ROLES:
        g.arch_ratio(role, bins)
    return g


def size_section(bins: dict[tuple[str, str], str]) -> str:
    """Every role build on every architecture (by role, then architecture),
    each also as a multiple of the same role's x86_64 build; then the peers."""
    lines = ["| binary | bytes | KiB | × x86_64 | linked | path |", "|---|---:|---:|---:|---|---|"]

    def row(name: str, path: str | None, base: int | None = None) -> None:
        size = file_size(path)
        if size is None:
            lines.append(f"| {name} | {'not built' if name.startswith('nsexec') else 'not installed'} | | | | |")
            return
        _, static = elf_facts(os.path.realpath(path))
        linked = "static" if static else ("dynamic" if static is False else "?")
        shown = os.path.relpath(path, ROOT) if path.startswith(ROOT) else path
        ratio = f"{size / base:.2f}" if base else ""
        lines.append(f"| {name} | {size} | {size / 1024:.1f} | {ratio} | {linked} | `{shown}` |")

    for role in ROLES:
        base = file_size(bins.get((role, "x86_64")))
        for arch in ARCHES:
            row(f"nsexec {role} {arch}", bins.get((role, arch)), base)
    for name in ("tini-static", "catatonit", "dumb-init", "runc"):
        row(name, tool(name))
    return "\n".join(lines)


def cpu_model() -> str:
    text = ""
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        pass
    # x86 "model name", powerpc "cpu", s390x "processor 0: ... machine"; aarch64 has none, lscpu knows.
    for key in ("model name", "cpu"):
        m = re.search(rf"^{key}\s*:\s*(.+)$", text, re.M)
        if m:
            return m.group(1).strip()
    if tool("lscpu"):
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"^Model name:\s*(.+)$", out, re.M)
        if m:
            return m.group(1).strip()
    return platform.machine()


def git_revision() -> str:
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return f"{rev}{' (with uncommitted changes)' if dirty else ''}" if rev else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def commands_section(scenarios: list[tuple[str, list[Command]]], driver: str) -> str:
    def show(argv: list[str]) -> str:
        return shlex.join(os.path.relpath(a, ROOT) if a.startswith(ROOT + "/") else a for a in argv)

    lines = []
    for name, commands in scenarios:
        for c in commands:
            if not c.unavailable:
                lines.append(f"- {name} {c.label}: `{show(driver_argv(driver, c, []))}`")
    return "\n".join(lines)


def difference(a: Command | None, b: Command | None) -> float | None:
    x, y = row_median(a), row_median(b)
    return x - y if x is not None and y is not None else None


def facts_of_this_run(s1, s2, s3) -> str:
    """Differences between rows that isolate one cost each."""
    facts = []
    libc = difference(by_key(s1, "floor-glibc"), by_key(s1, "floor-nolibc"))
    if libc is not None:
        facts.append(f"C library start-up: {libc:.2f} ms per process (S1 static-glibc floor minus no-libc floor, "
                     "the same system calls); every glibc program here pays it, /bin/true included.")
    payload = row_median(by_key(s3, "payload"))
    if payload is not None:
        facts.append(f"The payload alone: /bin/true costs {payload:.2f} ms fork to reap (S3), in every S1/S2 row "
                     "but runc's.")
    reexec = difference(by_key(s2, "nsexec-join"), by_key(s2, "nsexec-join-sealed"))
    if reexec is not None:
        facts.append(f"nsexec's sealed-memfd copy and re-exec before joining: {reexec:.2f} ms (S2 -t row minus "
                     "the row started from a sealed memfd).")
    for name, rows in (("S1", s1), ("S2", s2)):
        ours, runc = by_key(rows, "nsexec-bootstrap"), by_key(rows, "runc")
        if ours and runc and ours.setups and runc.setups and not ours.status() and not runc.status():
            facts.append(f"{name} bootstrap set-up (fork → pid JSON): nsexec {median(ours.setups):.2f} ms, "
                         f"runc {median(runc.setups):.2f} ms.")
    return "Facts from this run:\n\n" + "\n".join(f"- {f}" for f in facts) if facts else ""


def where_the_time_goes(goals: Goals, s1, s2, s3) -> str:
    parts = [facts_of_this_run(s1, s2, s3)]
    missed = goals.missed()
    if missed:
        parts.append("Goals missed in this run:\n\n" + "\n".join(f"- {g}" for g in missed))
    notes = os.path.join(BENCH, "notes.md")
    if os.path.exists(notes):
        with open(notes) as f:
            parts.append(f.read().strip())
    else:
        parts.append("_Placeholder: profiling notes go here (bench/notes.md is included verbatim when it "
                     "exists)._")
    return "\n\n".join(p for p in parts if p)


def report(args, driver, nsexec, bins, s1, s2, s3, goals, s2_note) -> str:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = shlex.join(["python3", os.path.relpath(os.path.abspath(__file__), ROOT), *sys.argv[1:]])
    size = file_size(nsexec)
    shown_nsexec = os.path.relpath(nsexec, ROOT) if nsexec.startswith(ROOT + "/") else nsexec
    floor_kind = "without a C library" if args.floor == "nolibc" else "linked with static glibc"
    header = f"""# Benchmarks

Measured {now} on Linux {platform.release()} ({platform.machine()}), {cpu_model()}, {os.cpu_count()} CPUs.
{args.runs} interleaved runs per command after {args.warmup} warm-up round(s). nsexec: `{shown_nsexec}`
({'not built' if size is None else f'{size} bytes'}), commit {git_revision()}.
Produced by `{command}`.

- **Wall time**: the C driver's own clock (`bench/driver.c`), from the fork of the command to the reap of
  the last process of its tree; each round runs every command of the scenario once, in rotated order.
  Median and p10–p90 over the runs.
- **Ratio**: to the scenario's reference. S1, S2: the C floor {floor_kind} (`bench/floor.c`, built
  twice: the same system calls either way, so its two rows differ by the C library's start-up alone).
  S3: tini-static.
- **Syscalls**: every call entered by the command's process tree under `strace -f`, the caller (the driver,
  and its child until it execs the command) left out; median of {args.traces} trace(s).
- **RSS**: VmRSS of the process the command starts, read from `/proc/PID/status` while a `sleep` payload
  runs under it; — where nothing of it stays (a bootstrap's stages are gone once the payload runs).
- **Page faults**: minor and major faults of every process of the run, as `wait4` reports them to the driver
  (each reaped process with what it reaped itself); median over the runs.
- **Size**: the program's file; shared libraries not counted.

Benchmarks are not tests: nothing here fails on a missed goal."""

    sections = [
        header,
        "## S1: create user (0 → 100000, 65536 ids) + pid + mnt + uts + ipc + net, run /bin/true",
        scenario_table(s1, reference_floor(s1, args.floor)[0]),
        "Bootstrap rows from the driver's clock and trace: set-up is everything before the payload starts "
        "(nsexec: stage 2's execveat of /bin/true from its sealed copy; runc: the first call of its Go runtime in stage 2, "
        "so runc's rest is its Go start-up for `--version`).",
        setup_table(s1),
        "`--map-root-user` rows map one id (root → the caller); the others map the 65536-id range. bwrap "
        "cannot map a range; it also pivots into a tmpfs and brings up loopback.",
        "## S2: join the six namespaces of a running process, run /bin/true",
        s2_note,
        scenario_table(s2, reference_floor(s2, args.floor)[0]),
        setup_table(s2),
        "## S3: an init running /bin/true; the init's VmRSS while its payload runs",
        scenario_table(s3, by_key(s3, "tini-static")),
        "The inits' resident set while the payload runs, by kind of mapping (`/proc/PID/smaps`): the "
        "program's own file (code, data), anonymous memory (.bss, heap), the stack, shared libraries. "
        "nsexec's loop runs from a mapping of its own, and gives back the rest of its image and its dead "
        "stack as it starts (`tests/memory.rs` checks that the set-up code is no longer resident).",
        rss_table(s3),
        "## Size",
        size_section(bins),
        "## Goals",
        goals.table(),
        "## Where the time goes",
        where_the_time_goes(goals, s1, s2, s3),
        "## Commands",
        "Each run is the driver running the command once (`--iterations 1` added for timing):\n\n"
        + commands_section([("S1", s1), ("S2", s2), ("S3", s3)], driver),
    ]
    return "\n\n".join(s for s in sections if s) + "\n"


# ---------------------------------------------------------------- main

def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=200, help="interleaved runs per command (default 200)")
    ap.add_argument("--quick", action="store_true",
                    help="CI mode: one trace and one RSS sample per command; writes bench/out/BENCHMARKS.quick.md")
    ap.add_argument("--nsexec", default="target/release/nsexec", help="the nsexec the scenarios run")
    ap.add_argument("--arch-bins", nargs="+", default=DEFAULT_ARCH_BINS, metavar="GLOB",
                    help="globs of the full build's release binaries for the size table (architecture read "
                         "from the ELF header)")
    ap.add_argument("--role-bins", nargs="+", default=DEFAULT_ROLE_BINS, metavar="GLOB",
                    help="globs of the role builds' release binaries (role from target/roles/ROLE/ in the path, "
                         "else full; default %(default)s); --arch-bins wins where both find one")
    ap.add_argument("--warmup", type=int, default=None, help="unmeasured rounds first (default 2, quick 1)")
    ap.add_argument("--floor", choices=("nolibc", "glibc"), default="nolibc",
                    help="which build of bench/floor.c the S1/S2 ratios use (default nolibc; falls back to glibc)")
    ap.add_argument("--no-install", action="store_true", help="do not apt-get install missing peers")
    ap.add_argument("--output", help="write the report here instead (default BENCHMARKS.md, "
                                     "quick: bench/out/BENCHMARKS.quick.md)")
    args = ap.parse_args()
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 2)
    args.traces = 1 if args.quick else 3
    args.rss_samples = 1 if args.quick else 3
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    return args


def main() -> None:
    args = parse_args()
    install_missing_peers(not args.no_install)
    helpers = build_helpers()
    driver = helpers["driver"]
    nsexec = args.nsexec if os.path.isabs(args.nsexec) else os.path.join(ROOT, args.nsexec)
    init_bin = host_init_bin()
    # The host builds come last: they stand in for a cross build that is missing.
    bins = find_release_bins([*args.arch_bins, *args.role_bins, nsexec, HOST_ROLE_BINS])

    s1 = measure_scenario("S1", driver, s1_commands(nsexec, helpers), args)

    sealed_fd = sealed_copy(nsexec)
    try:
        target = JoinTarget(helpers["floor-nolibc"] or helpers["floor"])
    except RuntimeError as e:
        log(f"S2: {e}")
        s2 = s2_commands(nsexec, helpers, 0, sealed_fd)
        for cmd in s2:
            cmd.failure = cmd.failure or str(e)
    else:
        try:
            s2 = measure_scenario("S2", driver, s2_commands(nsexec, helpers, target.pid, sealed_fd), args)
        finally:
            target.close()
    if sealed_fd is not None:
        os.close(sealed_fd)
    s2_note = ("The target is `floor create -- /bin/sleep 3600`: pid 1 of fresh namespaces, uid and gid "
               "0 → 100000 (65536 ids). Before joining, nsexec re-executes itself from a sealed memfd copy "
               "(the CVE-2019-5736 defence), in both modes; the \"sealed memfd\" row starts it from one "
               "already, so the difference between it and the -t row is that copy and re-exec.")

    s3 = measure_scenario("S3", driver, s3_commands(nsexec, init_bin), args)

    goals = evaluate_goals(s1, s2, s3, bins, args.floor)
    text = report(args, driver, nsexec, bins, s1, s2, s3, goals, s2_note)
    print(text)
    dest = args.output or (os.path.join(OUT, "BENCHMARKS.quick.md") if args.quick
                           else os.path.join(ROOT, "BENCHMARKS.md"))
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "w") as f:
        f.write(text)
    log(f"written to {dest}")
    failed = [f"{n} {c.label}" for n, rows in (("S1", s1), ("S2", s2), ("S3", s3)) for c in rows
              if c.status() == "failed"]
    if failed:
        log("failed rows: " + "; ".join(failed))


if __name__ == "__main__":
    main()

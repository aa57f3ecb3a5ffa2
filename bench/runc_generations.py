#!/usr/bin/env python3
"""runc itself on nsexec against runc on its own C: runc 1.3.6 (as root
and rootless) and runc 1.1.5, each built from the same Debian source twice
by tests/runc/build.sh (CGO-free with nsexec as its bootstrap, and with cgo
and runc's C). Their payload is runc's own binary, 12 to 14 MB.

- containers per second: `runc run` of `sh -c 'exit 0'` over a read-only
  busybox rootfs, runc's default spec (new pid, mnt, uts, ipc, net
  namespaces; rootless: runc's `spec --rootless`, with a user namespace);
  batches of each flavour interleaved, median over the rounds;
- memory charged: the peak of the container's memory cgroup above what its
  parent held before, per container (cgroup v1's memory.max_usage_in_bytes
  of a parent cgroup reset before each run, or v2's memory.peak where it
  can be reset); rootless containers have no memory cgroup on cgroup v1.

Writes its section into BENCHMARKS.md (between its markers) with --write;
otherwise prints it. Run `bash tests/runc/setup.sh` and
`bash tests/runc/build.sh 1.3` / `1.1` first.
"""
import argparse
import json
import os
import pwd
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from sections import write_section

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "<!-- runc generations: begin -->", "<!-- runc generations: end -->"
CACHE = os.environ.get("NSEXEC_RUNC_CACHE", os.path.join(ROOT, "target/runc"))
USER = "nsexec-test"  # tests/support makes it, with its subuid range


def runc_path(gen: str, flavour: str) -> str:
    return os.path.join(CACHE, "bin", f"{gen}-{flavour}", "runc")


def rootfs() -> str:
    """The busybox rootfs tests/runc13.rs builds (world-readable)."""
    r = os.path.join(ROOT, "target/runc13-rootfs")
    if not os.path.exists(os.path.join(r, "bin/sh")):
        subprocess.run(["cargo", "test", "--release", "--test", "runc13", "runc_debug"],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return r


class Memory:
    """A parent memory cgroup whose peak can be reset before each container."""

    def __init__(self, name: str):
        self.v2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
        base = "/sys/fs/cgroup" if self.v2 else "/sys/fs/cgroup/memory"
        self.rel = name
        self.dir = os.path.join(base, name)
        os.makedirs(self.dir, exist_ok=True)
        if self.v2:
            try:
                with open(os.path.join(self.dir, "cgroup.subtree_control"), "w") as f:
                    f.write("+memory")
            except OSError:
                pass
        self.usage, self.peak = (("memory.current", "memory.peak") if self.v2
                                 else ("memory.usage_in_bytes", "memory.max_usage_in_bytes"))

    def _read(self, f: str) -> int:
        with open(os.path.join(self.dir, f)) as fh:
            return int(fh.read().split()[0])

    def reset(self) -> int:
        """Resets the peak; returns the usage it starts from."""
        try:
            with open(os.path.join(self.dir, self.peak), "w") as fh:
                fh.write("0")
        except OSError:
            return -1
        return self._read(self.usage)

    def charged_since(self, base: int):
        return None if base < 0 else self._read(self.peak) - base

    def remove(self):
        try:
            os.rmdir(self.dir)
        except OSError:
            pass


def bundle(runc: str, root: str, rootless: bool, cgroup: str) -> str:
    d = tempfile.mkdtemp(prefix="nsexec-bench-gen-")
    os.chmod(d, 0o755)
    cmd = [runc, "spec"] + (["--rootless"] if rootless else [])
    subprocess.run(cmd, cwd=d, check=True)
    with open(os.path.join(d, "config.json")) as f:
        spec = json.load(f)
    spec["root"] = {"path": root, "readonly": True}
    spec["process"]["terminal"] = False
    spec["process"]["args"] = ["/bin/sh", "-c", "exit 0"]
    if cgroup:
        spec["linux"]["cgroupsPath"] = cgroup
    if rootless:
        pw = pwd.getpwnam(USER)
        sub = lambda path: next(int(l.split(":")[1]) for l in open(path) if l.startswith(USER + ":"))
        spec["linux"]["uidMappings"] = [{"containerID": 0, "hostID": pw.pw_uid, "size": 1},
                                        {"containerID": 1, "hostID": sub("/etc/subuid"), "size": 65536}]
        spec["linux"]["gidMappings"] = [{"containerID": 0, "hostID": pw.pw_gid, "size": 1},
                                        {"containerID": 1, "hostID": sub("/etc/subgid"), "size": 65536}]
        spec["process"]["user"] = {"uid": 0, "gid": 0}
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(spec, f)
    if rootless:
        subprocess.run(["chown", "-R", USER, d], check=True)
    return d


def one_run(runc: str, d: str, ident: str, rootless: bool) -> None:
    state = os.path.join(d, "state")
    cmd = [runc, "--root", state, "run", "-b", d, ident]
    if rootless:
        pw = pwd.getpwnam(USER)
        env = {"PATH": "/usr/bin:/bin", "HOME": d, "XDG_RUNTIME_DIR": d}
        subprocess.run(["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups",
                        "--"] + cmd, check=True, env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL)
    else:
        subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


def measure(gen: str, rootless: bool, rounds: int, batch: int, root: str) -> dict:
    """Per flavour: containers per second (median over rounds) and the
    memory charged per container (median)."""
    flavours = ("nsexec", "c")
    mem = {f: (None if rootless else Memory(f"nsexec-bench-{gen}-{f}-{os.getpid()}")) for f in flavours}
    dirs = {f: bundle(runc_path(gen, f), root, rootless,
                      "" if rootless else f"/{mem[f].rel}/ct") for f in flavours}
    rates = {f: [] for f in flavours}
    charged = {f: [] for f in flavours}
    try:
        n = 0
        for f in flavours:  # warm caches
            one_run(runc_path(gen, f), dirs[f], f"warm-{os.getpid()}-{f}", rootless)
        for _ in range(rounds):
            for f in flavours:
                start = time.perf_counter()
                for _ in range(batch):
                    n += 1
                    base = mem[f].reset() if mem[f] else -1
                    one_run(runc_path(gen, f), dirs[f], f"b{os.getpid()}-{n}", rootless)
                    c = mem[f].charged_since(base) if mem[f] else None
                    if c is not None:
                        charged[f].append(c)
                rates[f].append(batch / (time.perf_counter() - start))
    finally:
        for f in flavours:
            shutil.rmtree(dirs[f], ignore_errors=True)
            if mem[f]:
                mem[f].remove()
    return {f: (statistics.median(rates[f]),
                statistics.median(charged[f]) if charged[f] else None) for f in flavours}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--write", action="store_true", help="write the section into BENCHMARKS.md")
    args = ap.parse_args()
    cases = [("1.3", False), ("1.3", True), ("1.1", False)]
    for gen, _ in cases:
        for f in ("nsexec", "c"):
            if not os.path.exists(runc_path(gen, f)):
                sys.exit(f"runc_generations.py: {runc_path(gen, f)} is missing "
                         f"(bash tests/runc/setup.sh; bash tests/runc/build.sh {gen})")
    root = rootfs()
    rows = []
    for gen, rootless in cases:
        r = measure(gen, rootless, args.rounds, args.batch, root)
        size = os.path.getsize(runc_path(gen, "nsexec"))
        (on, mn), (oc, mc) = r["nsexec"], r["c"]
        mib = lambda b: "—" if b is None else f"{b / 1048576:.1f}"
        ratio = "—" if mn is None or not mc else f"{mn / mc:.2f}"
        rows.append(f"| runc {gen}{' rootless' if rootless else ''} | {size:,} | {on:.1f} | {oc:.1f} "
                    f"| {on / oc:.2f} | {mib(mn)} | {mib(mc)} | {ratio} |".replace(",", " "))
    kernel = os.uname().release
    lines = [
        BEGIN,
        "## runc itself: nsexec against runc's C (containers per second, memory charged)",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on Linux {kernel}; "
        f"{args.rounds} interleaved rounds of {args.batch} `runc run` per flavour. "
        "Both flavours are built from the same Debian source by tests/runc/build.sh: CGO-free "
        "with nsexec as the bootstrap, and with cgo (runc's C). The payload is runc's own "
        "binary. Memory: the container cgroup's peak above its parent's usage before the run, "
        "median per container (— where the container has no memory cgroup: rootless on cgroup v1).",
        f"Produced by `python3 bench/runc_generations.py --rounds {args.rounds} --batch {args.batch}`.",
        "",
        "| runtime | binary bytes (nsexec build) | containers/s, nsexec | containers/s, runc's C "
        "| ratio | MiB charged, nsexec | MiB charged, runc's C | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        END,
    ]
    section = "\n".join(lines) + "\n"
    if args.write:
        write_section(BEGIN, END, section)
    print(section)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A pod's pause process: resident memory of nsexec as `pause` (and as
`nsexec --init` with no program, and the init build as `pause`) against
Debian's catatonit -P, each PID 1
of a new pid namespace (`unshare -p -f`), measured once it has reaped an
orphan (so its loop has run), median over the samples.

Writes its section into BENCHMARKS.md (between its markers) with --write;
otherwise prints it. catatonit comes from Debian's `catatonit` package.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from sections import write_section

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "<!-- pause: begin -->", "<!-- pause: end -->"


def kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def pss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return -1


def children(pid: int) -> list:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return f.read().split()
    except OSError:
        return []


def wait(cond, what: str) -> None:
    deadline = time.monotonic() + 10
    while not cond():
        if time.monotonic() > deadline:
            sys.exit(f"pause.py: timed out waiting for {what}")
        time.sleep(0.005)


def sample(argv: list) -> tuple:
    """(VmRSS KiB, Pss KiB) of ARGV as PID 1 of a new pid namespace."""
    p = subprocess.Popen(["unshare", "-p", "-f", "--"] + argv, stdin=subprocess.DEVNULL)
    own = os.readlink("/proc/self/ns/pid")
    pid = None

    def found():
        nonlocal pid
        for c in children(p.pid):
            try:
                if os.readlink(f"/proc/{c}/ns/pid") != own and os.readlink(f"/proc/{c}/exe"):
                    pid = int(c)
                    return True
            except OSError:
                pass
        return False

    wait(found, "the pause process")
    # An orphan to reap: the loop runs at least once before the sample.
    subprocess.run(["nsenter", "-t", str(pid), "-p", "--", "/bin/sh", "-c", "true &"], check=True)
    wait(lambda: not children(pid), "the orphan's reaping")
    rss, pss = kib(pid, "VmRSS"), pss_kib(pid)
    os.kill(pid, 15)
    p.wait()
    return rss, pss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=10)
    ap.add_argument("--write", action="store_true", help="write the section into BENCHMARKS.md")
    args = ap.parse_args()
    nsexec = os.path.join(ROOT, "target/release/nsexec")
    tmp = tempfile.mkdtemp(prefix="nsexec-bench-pause-")
    try:
        pause = os.path.join(tmp, "pause")
        os.symlink(nsexec, pause)
        rows = [("nsexec as `pause`", [pause], nsexec),
                ("`nsexec --init` (no program)", [nsexec, "--init"], nsexec)]
        # The init build is what a pod would ship as its pause (`just build-roles`).
        init_build = os.path.join(ROOT, "target/roles/init/release/nsexec")
        if os.path.exists(init_build):
            init_pause = os.path.join(tmp, "init-build", "pause")
            os.makedirs(os.path.dirname(init_pause))
            os.symlink(init_build, init_pause)
            rows.append(("nsexec init build as `pause`", [init_pause], init_build))
        catatonit = shutil.which("catatonit") or "/usr/libexec/podman/catatonit"
        if os.path.exists(catatonit):
            rows.append(("catatonit -P (Debian 12)", [catatonit, "-P"], catatonit))
        lines = [BEGIN, "## A pod's pause process: resident memory", "",
                 f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on Linux "
                 f"{os.uname().release}; each PID 1 of a new pid namespace, sampled after it reaped "
                 f"an orphan; median of {args.samples}. "
                 f"Produced by `python3 bench/pause.py --samples {args.samples}`.", "",
                 "| pause process | VmRSS KiB | Pss KiB | ratio (VmRSS) | size bytes |",
                 "|---|---:|---:|---:|---:|"]
        results = []
        for label, argv, binary in rows:
            s = [sample(argv) for _ in range(args.samples)]
            results.append((label, statistics.median(r for r, _ in s),
                            statistics.median(p for _, p in s), os.path.getsize(binary)))
        peer = next((r for r in results if r[0].startswith("catatonit")), None)
        for label, rss, pss, size in results:
            ratio = f"{rss / peer[1]:.2f}" if peer else "—"
            lines.append(f"| {label} | {rss:.0f} | {pss:.0f} | {ratio} | {size:,} |".replace(",", " "))
        if not peer:
            lines.append("")
            lines.append("catatonit is not installed (apt-get install catatonit): no peer in this run.")
        lines += ["", END]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    section = "\n".join(lines) + "\n"
    if args.write:
        write_section(BEGIN, END, section)
    print(section)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Containers per second: runc's Go side (libcontainer 1.1.5, no cgo) with
nsexec as its init command, against `runc run` (Debian's runc, with its C
nsexec), on the same busybox rootfs, doing the same work (`sh -c 'exit 0'`
as PID 1 in new mnt, uts, ipc, pid, net and cgroup namespaces: the Go
program's config; runc's default spec has all but cgroup). Rounds are
interleaved: one batch of each per round.

Also the cost of the CVE-2019-5736 defence on its own: the same bootstrap
with a payload nsexec must copy into a sealed memfd, and with the same
payload handed over already sealed (no copy).

Writes its section into BENCHMARKS.md (between the containers markers) with
--write; otherwise prints it. Expects `target/release/nsexec`, `target/libct`
and `target/libct-rootfs` (cargo test --test libct builds the last two).
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

from sections import write_section

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "<!-- containers: begin -->", "<!-- containers: end -->"


def libct_batch(n: int, nsexec: str, libct: str, rootfs: str) -> float:
    out = subprocess.run([libct, "bench", nsexec, rootfs, str(n)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)["seconds"]


def runc_bundle(rootfs: str) -> str:
    d = tempfile.mkdtemp(prefix="nsexec-bench-runc-")
    subprocess.run(["runc", "spec"], cwd=d, check=True)
    with open(os.path.join(d, "config.json")) as f:
        spec = json.load(f)
    spec["root"] = {"path": rootfs, "readonly": True}
    spec["process"]["terminal"] = False
    spec["process"]["args"] = ["/bin/sh", "-c", "exit 0"]
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(spec, f)
    return d


def runc_batch(n: int, bundle: str) -> float:
    state = os.path.join(bundle, "state")
    start = time.perf_counter()
    for i in range(n):
        subprocess.run(["runc", "--root", state, "run", "-b", bundle, f"bench-{os.getpid()}-{i}"],
                       check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def bootstrap_once(nsexec: str, payload: list) -> float:
    """One bootstrap (new uts namespace) with PAYLOAD, as runc 1.2 calls it:
    seconds from start to the payload's exit."""
    def attr(t, v):
        b = struct.pack("=HH", 4 + len(v), t) + v
        return b + b"\0" * (-len(b) % 4)
    body = attr(27281, struct.pack("=I", 0x04000000))
    msg = struct.pack("=IHHII", 16 + len(body), 62000, 1, 0, 0) + body
    a, b = socket.socketpair()
    env = dict(os.environ, _LIBCONTAINER_INITPIPE=str(b.fileno()))
    start = time.perf_counter()
    p = subprocess.Popen([nsexec] + payload, pass_fds=(b.fileno(),), env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    b.close()
    a.sendall(msg)
    pids = json.loads(a.makefile().readline())
    p.wait()
    os.waitpid(pids["stage1_pid"], 0)
    os.waitpid(pids["stage2_pid"], 0)
    elapsed = time.perf_counter() - start
    a.close()
    return elapsed


def sealing_cost(nsexec: str, program: str, runs: int) -> tuple:
    """Median bootstrap time with PROGRAM copied by nsexec, and handed over
    as an already sealed memfd (nsexec uses it as it is)."""
    fd = os.memfd_create("bench-sealed", os.MFD_ALLOW_SEALING)
    with open(program, "rb") as f:
        os.write(fd, f.read())
    import fcntl
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK
                | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE)
    sealed = f"/proc/{os.getpid()}/fd/{fd}"
    copied, given = [], []
    for _ in range(runs):
        copied.append(bootstrap_once(nsexec, [program, "--version"]))
        given.append(bootstrap_once(nsexec, [sealed, "--version"]))
    os.close(fd)
    return statistics.median(copied), statistics.median(given)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=10, help="interleaved rounds")
    ap.add_argument("--batch", type=int, default=20, help="containers per batch")
    ap.add_argument("--write", action="store_true", help="write the section into BENCHMARKS.md")
    args = ap.parse_args()
    nsexec = os.path.join(ROOT, "target/release/nsexec")
    libct = os.path.join(ROOT, "target/libct")
    rootfs = os.path.join(ROOT, "target/libct-rootfs")
    if not (os.path.exists(libct) and os.path.exists(rootfs)):
        # The libct tests build both (Debian's libcontainer, GOPATH mode).
        subprocess.run(["cargo", "test", "--release", "--test", "libct", "run_gives"],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    for p in (nsexec, libct, rootfs):
        if not os.path.exists(p):
            sys.exit(f"containers.py: {p} is missing (just build; cargo test --test libct)")
    bundle = runc_bundle(rootfs)
    try:
        ours, theirs = [], []
        libct_batch(2, nsexec, libct, rootfs)  # warm caches
        runc_batch(2, bundle)
        for _ in range(args.rounds):
            ours.append(args.batch / libct_batch(args.batch, nsexec, libct, rootfs))
            theirs.append(args.batch / runc_batch(args.batch, bundle))
    finally:
        shutil.rmtree(bundle, ignore_errors=True)
    small = shutil.which("true")
    big = libct
    s_copy, s_given = sealing_cost(nsexec, small, max(args.rounds * 5, 10))
    b_copy, b_given = sealing_cost(nsexec, big, max(args.rounds * 5, 10))
    size = lambda p: os.path.getsize(p)
    mo, mt = statistics.median(ours), statistics.median(theirs)
    lines = [
        BEGIN,
        "## Containers per second: libcontainer + nsexec vs `runc run`",
        "",
        f"`python3 bench/containers.py --rounds {args.rounds} --batch {args.batch} --write`"
        f" ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}): {args.rounds} interleaved"
        f" rounds of {args.batch} containers each, same busybox rootfs, `sh -c 'exit 0'` as PID 1."
        " Medians of the per-round rates.",
        "",
        "| caller | containers/s | ratio |",
        "|---|---|---|",
        f"| libcontainer 1.1.5 (Go, no cgo) + nsexec, in-process | {mo:.1f} | {mo / mt:.2f} |",
        f"| `runc run` (Debian runc 1.1.5, C nsexec), a process each | {mt:.1f} | 1.00 |",
        "",
        "The libcontainer caller is one long-lived process, so it does not pay",
        "runc's own start-up (a 10 MB Go binary exec'd per container, plus its",
        "C nsexec's sealed self-copy); the runc row does. Both create, start,",
        "wait for and destroy the container, cgroups included.",
        "",
        "The CVE-2019-5736 defence on its own: one bootstrap (new uts",
        "namespace), median seconds from start to the payload's exit, with the",
        "payload copied into a sealed memfd by nsexec vs handed over already",
        "sealed (used as it is).",
        "",
        "| payload | size | copied | already sealed | cost of the copy |",
        "|---|---|---|---|---|",
        f"| `{small}` | {size(small)} B | {s_copy * 1e3:.2f} ms | {s_given * 1e3:.2f} ms"
        f" | {(s_copy - s_given) * 1e3:+.2f} ms |",
        f"| `target/libct` (Go) | {size(big)} B | {b_copy * 1e3:.2f} ms | {b_given * 1e3:.2f} ms"
        f" | {(b_copy - b_given) * 1e3:+.2f} ms |",
        END,
    ]
    section = "\n".join(lines) + "\n"
    if not args.write:
        print(section)
        return
    write_section(BEGIN, END, section)
    print(section)


if __name__ == "__main__":
    main()

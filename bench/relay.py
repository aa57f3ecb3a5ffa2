#!/usr/bin/env python3
"""What the --tty relay costs: `cat` of a large file through
`nsexec --tty` against `script -q -c` (util-linux, the usual way to put a
program on a pty of its own), both on the same outer pty that this script
holds and drains as fast as it can. Rounds are interleaved.

Also the relay's own syscalls: `strace -f -c` of nsexec relaying the same
file, counted in nsexec's relay process only (the payload's own calls are
left out), per MiB relayed; the same for script.

Writes its section into BENCHMARKS.md (between the tty markers) with
--write; otherwise prints it. Expects `target/release/nsexec`.
"""
import argparse
import os
import pty
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from sections import write_section

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "<!-- tty: begin -->", "<!-- tty: end -->"


def make_file(mib: int) -> str:
    fd, path = tempfile.mkstemp(prefix="nsexec-bench-tty-")
    line = (b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" * 3)[:127] + b"\n"
    block = line * 8192  # 1 MiB
    with os.fdopen(fd, "wb") as f:
        for _ in range(mib):
            f.write(block)
    return path


def through_pty(argv: list[str]) -> tuple[float, int]:
    """Runs argv with a new outer pty as stdin, stdout and stderr; drains
    the master until every holder of the slave is gone. Seconds and bytes."""
    master, slave = pty.openpty()
    start = time.perf_counter()
    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    got = 0
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # EIO: the slave is closed everywhere
            break
        if not chunk:
            break
        got += len(chunk)
    p.wait()
    elapsed = time.perf_counter() - start
    os.close(master)
    if p.returncode != 0:
        sys.exit(f"relay.py: {argv} exited {p.returncode}")
    return elapsed, got


def commands(nsexec: str, path: str) -> dict[str, list[str]]:
    return {
        "nsexec --tty": [nsexec, "--tty", "--", "cat", path],
        "script -q -c": ["script", "-q", "-c", f"cat {path}", "/dev/null"],
    }


def relay_syscalls(argv: list[str]) -> tuple[int, int, int]:
    """(read, write, all) syscalls of the relaying process, traced with
    strace -f; the payload's are left out."""
    log = tempfile.mktemp(prefix="nsexec-bench-tty-strace-")
    try:
        through_pty(["strace", "-f", "-qq", "-o", log, *argv])
        lines = open(log).read().splitlines()
    finally:
        if os.path.exists(log):
            os.remove(log)
    # The relay is the traced process that never executes cat: strace's
    # first pid (nsexec, or script), which stays the relay throughout.
    first = lines[0].split()[0] if lines else ""
    mine = [l for l in lines if l.split()[0] == first]
    count = lambda name: sum(1 for l in mine if re.match(rf"^\d+\s+{name}\(", l))
    calls = sum(1 for l in mine if re.match(r"^\d+\s+\w+\(", l))
    return count("read"), count("write"), calls


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mib", type=int, default=100, help="size of the file cat writes")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    ap.add_argument("--write", action="store_true", help="write the section into BENCHMARKS.md")
    args = ap.parse_args()
    nsexec = os.path.join(ROOT, "target/release/nsexec")
    for tool in ("script", "strace"):
        if not shutil.which(tool):
            sys.exit(f"relay.py: {tool} is missing (bash tests/run installs it)")
    path = make_file(args.mib)
    size = os.path.getsize(path)
    try:
        cmds = commands(nsexec, path)
        times: dict[str, list[float]] = {k: [] for k in cmds}
        for argv in cmds.values():
            through_pty(argv)  # warm caches
        for _ in range(args.rounds):
            for name, argv in cmds.items():
                t, got = through_pty(argv)
                if got < size:
                    sys.exit(f"relay.py: {name} relayed {got} of {size} bytes")
                times[name].append(t)
        small = make_file(max(1, args.mib // 10))
        try:
            small_mib = os.path.getsize(small) / (1 << 20)
            counts = {
                "nsexec --tty": relay_syscalls(commands(nsexec, small)["nsexec --tty"]),
                "script -q -c": relay_syscalls(commands(nsexec, small)["script -q -c"]),
            }
        finally:
            os.remove(small)
    finally:
        os.remove(path)
    med = {k: statistics.median(v) for k, v in times.items()}
    peer = med["script -q -c"]
    lines = [
        BEGIN,
        "## The --tty relay: cat of a large file, against script",
        "",
        f"`python3 bench/relay.py --mib {args.mib} --rounds {args.rounds}`"
        f" ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}): `cat` of {size >> 20} MiB"
        " of 128-byte lines, through a new pty and the tool's relay to an outer pty that"
        f" this script drains; {args.rounds} interleaved rounds, medians.",
        "",
        "| relay | seconds | MiB/s | ratio to script |",
        "|---|---|---|---|",
    ]
    for name, t in med.items():
        lines.append(f"| `{name}` | {t:.3f} | {size / t / (1 << 20):.0f} | {t / peer:.2f} |")
    lines += [
        "",
        f"Syscalls of the relaying process alone while it relays {small_mib:.0f} MiB"
        " (`strace -f`; the payload's own calls are not counted):",
        "",
        "| relay | read | write | all calls | calls per MiB | bytes per call |",
        "|---|---|---|---|---|---|",
    ]
    for name, (r, w, a) in counts.items():
        per_mib = a / small_mib
        lines.append(f"| `{name}` | {r} | {w} | {a} | {per_mib:.0f} | {small_mib * (1 << 20) / a:.0f} |")
    lines += [
        "",
        "nsexec reads with an 8 KiB buffer, but a pty master gives about 4 KiB a",
        "read, so it makes one `ppoll`, one `read` and one `write` per 4 KiB chunk;",
        "the outer terminal's output processing and the payload's own writes are",
        "the same for both tools.",
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

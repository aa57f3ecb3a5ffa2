#!/usr/bin/env python3
"""Cost of the sealed-memfd re-exec (the CVE-2019-5736 defence): the same
join, once started from the binary on disk (nsexec copies itself into a
sealed memfd and re-executes) and once started from an already sealed memfd
(nsexec sees the seals and goes straight on). Interleaved runs; prints the
two medians and their difference in ms."""
import fcntl, os, statistics, subprocess, sys, time

F_ADD_SEALS, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE = 1033, 1, 2, 4, 8


def main():
    ns = sys.argv[1] if len(sys.argv) > 1 else "target/release/nsexec"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    fd = os.memfd_create("nsexec", os.MFD_ALLOW_SEALING)
    os.write(fd, open(ns, "rb").read())
    fcntl.fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
    args = ["--join", "uts=/proc/self/ns/uts", "--", "/bin/true"]
    on_disk, sealed = [], []
    for _ in range(runs):
        for label, argv, out in (("disk", [ns] + args, on_disk), ("memfd", [f"/proc/self/fd/{fd}"] + args, sealed)):
            t0 = time.perf_counter_ns()
            r = subprocess.run(argv, pass_fds=(fd,))
            out.append((time.perf_counter_ns() - t0) / 1e6)
            if r.returncode:
                sys.exit(f"{label} run failed")
    a, b = statistics.median(on_disk), statistics.median(sealed)
    print(f"{a:.3f} {b:.3f} {a - b:.3f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The kernel's own syscall numbers for one architecture, from Debian's
linux-libc-dev:<arch> (downloaded once into target/headers/<arch>): the
second source the syscall-number test holds our table against.

    python3 tests/kernel_headers.py ARCH     # prints `name number` lines
"""
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEB = {"x86_64": "amd64", "aarch64": "arm64", "powerpc64le": "ppc64el", "s390x": "s390x"}
# The header that defines (or includes the definitions of) __NR_* for 64-bit.
HEADER = {"x86_64": "x86_64-linux-gnu/asm/unistd_64.h",
          "aarch64": "asm-generic/unistd.h",
          "powerpc64le": "powerpc64le-linux-gnu/asm/unistd_64.h",
          "s390x": "s390x-linux-gnu/asm/unistd_64.h"}


def fetch(arch: str) -> str:
    dest = os.path.join(ROOT, "target/headers", arch)
    include = os.path.join(dest, "usr/include")
    if os.path.exists(os.path.join(include, HEADER[arch])):
        return include
    deb_arch = DEB[arch]
    native = subprocess.run(["dpkg", "--print-architecture"], capture_output=True,
                            text=True).stdout.strip()
    if deb_arch != native and deb_arch not in subprocess.run(
            ["dpkg", "--print-foreign-architectures"], capture_output=True, text=True).stdout.split():
        subprocess.run(["dpkg", "--add-architecture", deb_arch], check=True)
        subprocess.run(["apt-get", "update", "-qq"])  # a mirror mid-sync may fail one index
    dl = os.path.join(dest, "deb")
    os.makedirs(dl, exist_ok=True)
    os.chmod(dl, 0o777)
    subprocess.run(["apt-get", "download", "-q", f"linux-libc-dev:{deb_arch}"], cwd=dl,
                   check=True, stdout=subprocess.DEVNULL)
    for deb in glob.glob(os.path.join(dl, "*.deb")):
        subprocess.run(["dpkg-deb", "-x", deb, dest], check=True)
    return include


def numbers(arch: str) -> dict:
    """Every __NR_name the header defines, aliases (__NR3264_*) resolved."""
    path = os.path.join(fetch(arch), HEADER[arch])
    defs = {}
    for line in open(path):
        m = re.match(r"#define\s+(__NR(?:3264)?_\w+)\s+(\S+)", line)
        if m:
            defs[m.group(1)] = m.group(2)

    def value(v, depth=0):
        v = v.strip("()")
        if re.fullmatch(r"\d+", v):
            return int(v)
        if depth < 8 and v in defs:
            return value(defs[v], depth + 1)
        return None

    out = {}
    for k, v in defs.items():
        if k.startswith("__NR_"):
            n = value(v)
            if n is not None:
                out[k[5:]] = n
    return out


if __name__ == "__main__":
    for name, n in sorted(numbers(sys.argv[1]).items()):
        print(name, n)

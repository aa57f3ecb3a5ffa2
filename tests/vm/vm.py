#!/usr/bin/env python3
"""Boots Debian 12's 6.1 kernel for one architecture under qemu-system (TCG)
with an initramfs holding only a static busybox, that architecture's release
nsexec and its selftest variant, and the in-VM runner (tests/vm/init). The
runner prints one `VMTEST ok|FAIL NAME ...` line a case; this script reports
them, with a closing `N passed, N failed`, and exits non-zero on a failure
or when the VM does not finish.

    python3 tests/vm/vm.py ARCH [--timeout SECS]

Downloads (the kernel and busybox-static packages for ARCH, by package name
from Debian's archive) are cached under target/vm/cache/ARCH.
"""
import argparse
import gzip
import glob
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# arch -> (Debian arch, kernel flavour, kernel image glob, qemu command, console)
ARCHES = {
    "x86_64": ("amd64", "amd64", "boot/vmlinuz-*",
               ["qemu-system-x86_64", "-M", "q35", "-accel", "tcg"], "ttyS0"),
    "aarch64": ("arm64", "arm64", "boot/vmlinuz-*",
                ["qemu-system-aarch64", "-M", "virt", "-cpu", "max"], "ttyAMA0"),
    "powerpc64le": ("ppc64el", "powerpc64le", "boot/vmlinux-*",
                    ["qemu-system-ppc64", "-M", "pseries", "-cpu", "power9"], "hvc0"),
    "s390x": ("s390x", "s390x", "boot/vmlinuz-*",
              ["qemu-system-s390x", "-M", "s390-ccw-virtio"], "ttysclp0"),
}


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def fetch(arch: str) -> tuple:
    """The kernel image and busybox for ARCH, downloaded once."""
    deb_arch, flavour, image_glob, _, _ = ARCHES[arch]
    cache = os.path.join(ROOT, "target/vm/cache", arch)
    kernel = glob.glob(os.path.join(cache, "kernel", image_glob))
    busybox = os.path.join(cache, "busybox", "bin/busybox")
    if kernel and os.path.exists(busybox):
        return kernel[0], busybox
    os.makedirs(cache, exist_ok=True)
    native = subprocess.run(["dpkg", "--print-architecture"], capture_output=True,
                            text=True, check=True).stdout.strip()
    if deb_arch != native:
        foreign = subprocess.run(["dpkg", "--print-foreign-architectures"],
                                 capture_output=True, text=True).stdout.split()
        if deb_arch not in foreign:
            sh("dpkg", "--add-architecture", deb_arch)
            # A mirror mid-sync can fail one index; the packages still resolve.
            subprocess.run(["apt-get", "update", "-qq"])
    # The metapackage names the current 6.1 image.
    deps = subprocess.run(["apt-cache", "depends", f"linux-image-{flavour}:{deb_arch}"],
                          capture_output=True, text=True).stdout
    m = re.search(r"Depends: (linux-image-6\.1\.\S+)", deps)
    if not m:
        subprocess.run(["apt-get", "update", "-qq"])
        deps = subprocess.run(["apt-cache", "depends", f"linux-image-{flavour}:{deb_arch}"],
                              capture_output=True, text=True).stdout
        m = re.search(r"Depends: (linux-image-6\.1\.\S+)", deps)
    if not m:
        sys.exit(f"vm: no Debian 6.1 kernel package for {arch}:\n{deps}")
    image_pkg = m.group(1).split(":")[0]
    dl = os.path.join(cache, "debs")
    os.makedirs(dl, exist_ok=True)
    os.chmod(dl, 0o777)  # apt's sandbox user writes here
    sh("apt-get", "download", "-q", f"{image_pkg}:{deb_arch}", f"busybox-static:{deb_arch}",
       cwd=dl, stdout=subprocess.DEVNULL)
    for deb in glob.glob(os.path.join(dl, "*.deb")):
        dest = "kernel" if os.path.basename(deb).startswith("linux-image") else "busybox"
        sh("dpkg-deb", "-x", deb, os.path.join(cache, dest))
    shutil.rmtree(dl)
    kernel = glob.glob(os.path.join(cache, "kernel", image_glob))
    if not kernel or not os.path.exists(busybox):
        sys.exit(f"vm: {arch}: kernel or busybox missing after unpacking")
    return kernel[0], busybox


def cpio_newc(entries) -> bytes:
    """An initramfs: (name, mode, data-or-link-target) in the newc format."""
    out = bytearray()
    ino = 1
    for name, mode, data in list(entries) + [("TRAILER!!!", 0, b"")]:
        name_b = name.encode() + b"\0"
        hdr = "070701" + "".join(f"{v:08x}" for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0))
        out += hdr.encode() + name_b
        out += b"\0" * (-len(out) % 4)
        out += data
        out += b"\0" * (-len(out) % 4)
        ino += 1
    return bytes(out)


def initramfs(arch: str, busybox: str, path: str) -> None:
    triple = {"x86_64": "x86_64-unknown-linux-gnu", "aarch64": "aarch64-unknown-linux-gnu",
              "powerpc64le": "powerpc64le-unknown-linux-gnu", "s390x": "s390x-unknown-linux-gnu"}[arch]
    nsexec = os.path.join(ROOT, "target", triple, "release/nsexec")
    selftest = os.path.join(ROOT, "target/selftest", triple, "release/nsexec")
    roles = {r: os.path.join(ROOT, "target/roles", r, triple, "release/nsexec")
             for r in ("bootstrap", "init")}
    for p in (nsexec, selftest, *roles.values()):
        if not os.path.exists(p):
            sys.exit(f"vm: {p} is missing (just vm builds it)")
    read = lambda p: open(p, "rb").read()
    d, f, x = 0o040755, 0o100644, 0o100755
    entries = [(n, d, b"") for n in ("bin", "dev", "proc", "sys", "tmp", "run", "mnt")]
    entries += [
        ("bin/busybox", x, read(busybox)),
        ("nsexec", x, read(nsexec)),
        ("nsexec-selftest", x, read(selftest)),
        ("nsexec-bootstrap", x, read(roles["bootstrap"])),
        ("nsexec-init", x, read(roles["init"])),
        ("init", x, read(os.path.join(ROOT, "tests/vm/init"))),
    ]
    with open(path, "wb") as out:
        out.write(gzip.compress(cpio_newc(entries), 6))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("arch", choices=sorted(ARCHES))
    ap.add_argument("--timeout", type=int, default=600)
    args = ap.parse_args()
    kernel, busybox = fetch(args.arch)
    work = os.path.join(ROOT, "target/vm", args.arch)
    os.makedirs(work, exist_ok=True)
    initrd = os.path.join(work, "initramfs.gz")
    initramfs(args.arch, busybox, initrd)
    _, _, _, qemu, console = ARCHES[args.arch]
    cmd = qemu + ["-m", "1024", "-smp", "1", "-nographic", "-no-reboot",
                  "-kernel", kernel, "-initrd", initrd,
                  "-append", f"console={console} panic=-1 quiet loglevel=3"]
    print(f"== vm {args.arch}: {os.path.basename(kernel)}", flush=True)
    start = time.time()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=args.timeout)
        console_out = p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        console_out = (e.stdout or b"").decode(errors="replace")
        console_out += f"\nvm: timed out after {args.timeout} s\n"
    with open(os.path.join(work, "console.log"), "w") as f:
        f.write(console_out)
    passed = failed = 0
    for line in console_out.splitlines():
        line = line.strip("\r")
        if line.startswith("VMTEST ok "):
            passed += 1
            print(f"  ok    {line[10:]}")
        elif line.startswith("VMTEST FAIL "):
            failed += 1
            print(f"  FAIL  {line[12:]}")
        elif line.startswith("VMTEST info "):
            print(f"  info  {line[12:]}")
    finished = "VMTEST done" in console_out
    if not finished:
        failed += 1
        print(f"  FAIL  the runner did not finish; last console lines:")
        for line in console_out.splitlines()[-25:]:
            print(f"        {line}")
    print(f"vm {args.arch}: {time.time() - start:.0f} s")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# The suite's two images, made here instead of downloaded (kept in
# $CACHE/images; suite.sh puts them where get-images.sh finds them):
#   busybox-amd64.tar.xz  busybox-static in docker-library's layout: bin/ with
#                         a hard link per applet, etc/passwd, etc/group, and
#                         no /proc or /sys (mask.bats makes those symlinks)
#   debian-amd64.tar.xz   debootstrap --variant=minbase bookworm (about 30 s)
# Usage: tests/runc/images.sh
source "$(dirname "$0")/lib.sh"
log=$LOGS/images.log
: >"$log"
img=$CACHE/images
mkdir -p "$img"
arch=$(dpkg --print-architecture)

if [ ! -s "$img/busybox-$arch.tar.xz" ]; then
  step "image: busybox-$arch.tar.xz from busybox-static"
  r=$(mktemp -d)
  chmod 755 "$r" # the image's / (mktemp's is 0700)
  mkdir -p "$r"/{bin,dev,etc,home,root,tmp,usr/sbin,var/spool/mail,var/www}
  chmod 1777 "$r/tmp"
  chmod 700 "$r/root"
  cp /bin/busybox "$r/bin/busybox"
  for a in $(/bin/busybox --list); do
    [ -e "$r/bin/$a" ] || ln "$r/bin/busybox" "$r/bin/$a"
  done
  cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
  cat >"$r/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
EOF
  logged "$log" tar --numeric-owner --owner=0 --group=0 -C "$r" -cJf "$img/busybox-$arch.tar.xz.new" .
  mv "$img/busybox-$arch.tar.xz.new" "$img/busybox-$arch.tar.xz"
  rm -rf "$r"
fi

if [ ! -s "$img/debian-$arch.tar.xz" ] && [ -z "${NSEXEC_RUNC_NO_DEBIAN:-}" ]; then
  step "image: debian-$arch.tar.xz (debootstrap --variant=minbase bookworm)"
  r=$(mktemp -d)
  chmod 755 "$r"
  logged "$log" debootstrap --variant=minbase bookworm "$r" http://deb.debian.org/debian
  rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/*
  # As a container image: no /proc, /sys or /dev content.
  logged "$log" tar --numeric-owner -C "$r" --exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' \
    -I 'xz -T0 -1' -cf "$img/debian-$arch.tar.xz.new" .
  mv "$img/debian-$arch.tar.xz.new" "$img/debian-$arch.tar.xz"
  rm -rf "$r"
fi

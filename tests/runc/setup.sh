#!/usr/bin/env bash
# Everything runc's integration suite needs here, offline but for Debian's
# archive: the packages, runc 1.1.5 (bookworm) and 1.3.6 (sid) as source,
# sid's Go dependencies of 1.3.6 in a private tree, and cilium/ebpf 0.17.3.
# Idempotent: a second run finds it all under $CACHE and does nothing.
# Usage: tests/runc/setup.sh   (as root; NSEXEC_RUNC_CACHE moves the cache)
source "$(dirname "$0")/lib.sh"
log=$LOGS/setup.log
: >"$log"
export DEBIAN_FRONTEND=noninteractive

# --- System packages: bookworm, and Go 1.23 from bookworm-backports.
# The golang-*-dev packages are runc 1.1.5's Build-Depends (its Go deps).
pkgs=(bats gawk jq busybox-static debootstrap bsdutils util-linux tini
  golang-go gcc libc6-dev libseccomp-dev pkg-config dpkg-dev xz-utils git
  golang-dbus-dev golang-github-checkpoint-restore-go-criu-dev
  golang-github-cilium-ebpf-dev golang-github-containerd-console-dev
  golang-github-coreos-go-systemd-dev golang-github-cyphar-filepath-securejoin-dev
  golang-github-docker-go-units-dev golang-github-moby-sys-dev
  golang-github-mrunalp-fileutils-dev golang-github-opencontainers-selinux-dev
  golang-github-opencontainers-specs-dev golang-github-seccomp-libseccomp-golang-dev
  golang-github-sirupsen-logrus-dev golang-github-urfave-cli-dev
  golang-github-vishvananda-netlink-dev golang-gocapability-dev
  golang-golang-x-net-dev golang-google-protobuf-dev)
bpo_pkgs=(golang-1.23-go golang-1.23-src)

missing() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || echo "$p"
  done
}

apt_src=/etc/apt/sources.list.d/nsexec-runc.sources
sources_files=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources)
has_src=0 has_bpo=0
grep -qsE '^[[:space:]]*(deb-src[[:space:]]|Types:.*deb-src)' "${sources_files[@]}" && has_src=1
grep -qsE '^[^#]*bookworm-backports' "${sources_files[@]}" && has_bpo=1
wrote=0
if [ $has_src = 0 ] || [ $has_bpo = 0 ]; then
  step "apt: writing $apt_src (bookworm deb-src, bookworm-backports)"
  {
    echo "# Written by nsexec's tests/runc/setup.sh: runc's sources, Go 1.23."
    for want in src bpo; do
      if [ $want = src ] && [ $has_src = 0 ]; then
        printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\n'
      elif [ $want = bpo ] && [ $has_bpo = 0 ]; then
        printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\n'
      else
        continue
      fi
      printf 'Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n'
    done
  } >"$apt_src"
  wrote=1
fi

mapfile -t need < <(missing "${pkgs[@]}")
mapfile -t need_bpo < <(missing "${bpo_pkgs[@]}")
if [ $wrote = 1 ] || [ ${#need[@]} -gt 0 ] || [ ${#need_bpo[@]} -gt 0 ] || [ ! -e "$CACHE/src/.v11" ]; then
  step "apt-get update"
  # A mirror mid-sync can fail one index; what is needed may still resolve,
  # so go on (an install that then fails says so).
  apt-get update -q >>"$log" 2>&1 || echo "warning: apt-get update failed (log: $log); going on" >&2
fi
if [ ${#need[@]} -gt 0 ]; then
  step "apt-get install ${#need[@]} packages"
  logged "$log" apt-get install -y -q --no-install-recommends "${need[@]}"
fi
if [ ${#need_bpo[@]} -gt 0 ]; then
  step "apt-get install -t bookworm-backports ${need_bpo[*]}"
  logged "$log" apt-get install -y -q --no-install-recommends -t bookworm-backports "${need_bpo[@]}"
fi

# --- runc 1.1.5's source (bookworm).
mkdir -p "$CACHE/src"
if [ ! -e "$CACHE/src/.v11" ]; then
  step "apt-get source runc=$V11"
  rm -rf "$CACHE/src/runc-1.1.5+ds1"
  (cd "$CACHE/src" && logged "$log" apt-get source -q "runc=$V11")
  echo "$V11" >"$CACHE/src/.v11"
fi

# --- The private apt configuration for sid: never the system's sources.
if [ ! -e "$PAPT/.updated" ]; then
  step "private apt (sid): update"
  mkdir -p "$PAPT/lists/partial" "$PAPT/cache/archives/partial"
  : >"$PAPT/status"
  key=/usr/share/keyrings/debian-archive-keyring.gpg
  cat >"$PAPT/sources.list" <<EOF
deb [signed-by=$key] http://deb.debian.org/debian sid main
deb-src [signed-by=$key] http://deb.debian.org/debian sid main
deb-src [signed-by=$key] http://deb.debian.org/debian trixie main
EOF
  logged "$log" apt-get "${papt_opts[@]}" update -q
  touch "$PAPT/.updated"
fi

# --- runc 1.3.6's source (sid).
if [ ! -e "$CACHE/src/.v13" ]; then
  step "apt-get source runc=$V13 (private apt)"
  rm -rf "$CACHE/src/runc-1.3.6+ds1"
  (cd "$CACHE/src" && logged "$log" apt-get "${papt_opts[@]}" source -q "runc=$V13")
  echo "$V13" >"$CACHE/src/.v13"
fi

# --- sid's Go dependencies of runc 1.3.6, unpacked into a private tree.
# cilium/ebpf comes from 0.17.3 instead (below), and runc from our tree.
if [ ! -e "$CACHE/sid/.done" ]; then
  step "sid: golang-*-dev of golang-github-opencontainers-runc-dev=$V13"
  rm -rf "$CACHE/sid" "$CACHE/debs"
  mkdir -p "$CACHE/sid" "$CACHE/debs"
  apt-cache "${papt_opts[@]}" depends --recurse --no-recommends --no-suggests \
    --no-conflicts --no-breaks --no-replaces --no-enhances \
    "golang-github-opencontainers-runc-dev=$V13" 2>>"$log" |
    grep -E '^golang-.*-dev$' | grep -vxE 'golang-github-(opencontainers-runc|cilium-ebpf)-dev' |
    sort -u >"$CACHE/sid/packages.txt"
  mapfile -t sid_pkgs <"$CACHE/sid/packages.txt"
  (cd "$CACHE/debs" && logged "$log" apt-get "${papt_opts[@]}" download -q "${sid_pkgs[@]}")
  for d in "$CACHE"/debs/*.deb; do logged "$log" dpkg-deb -x "$d" "$CACHE/sid"; done
  echo "   $(wc -l <"$CACHE/sid/packages.txt") packages"
  touch "$CACHE/sid/.done"
fi

# --- cilium/ebpf 0.17.3 (its orig tarball), a GOPATH entry before sid's.
if [ ! -e "$CACHE/ebpf/.done" ]; then
  step "cilium/ebpf $VEBPF (private apt, source)"
  rm -rf "$CACHE/ebpf" "$CACHE/ebpf-dl"
  mkdir -p "$CACHE/ebpf/src/github.com/cilium" "$CACHE/ebpf-dl"
  # The mirror may lack this old .dsc and .debian.tar.xz: the orig tarball,
  # which is all we need, still comes.
  (cd "$CACHE/ebpf-dl" && apt-get "${papt_opts[@]}" source -q --download-only \
    "golang-github-cilium-ebpf=$VEBPF" >>"$log" 2>&1) || true
  ls "$CACHE"/ebpf-dl/golang-github-cilium-ebpf_*.orig.tar.xz >/dev/null 2>&1 ||
    { echo "FAILED: no cilium/ebpf orig tarball (log: $log)" >&2; exit 1; }
  tar -xJf "$CACHE"/ebpf-dl/golang-github-cilium-ebpf_*.orig.tar.xz -C "$CACHE/ebpf/src/github.com/cilium"
  mv "$CACHE"/ebpf/src/github.com/cilium/golang-github-cilium-ebpf-* "$CACHE/ebpf/src/github.com/cilium/ebpf"
  touch "$CACHE/ebpf/.done"
fi

step "setup done: $CACHE (log: $log)"

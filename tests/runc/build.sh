#!/usr/bin/env bash
# Builds one runc generation twice from the same (patched) source, and the
# helpers its bats suite runs:
#   $CACHE/bin/GEN-nsexec/runc  CGO_ENABLED=0: nsexec is the bootstrap
#                               (its path baked in: $NSEXEC, default the
#                               repository's bootstrap build,
#                               target/roles/bootstrap/release/nsexec)
#   $CACHE/bin/GEN-c/runc       cgo and libseccomp: runc's own C nsexec
# With cgo our patches change nothing: the nsenter import moves to a cgo-only
# file, and so does the C half of libcontainer/internal/userns.
# Ends with smoke.sh: one busybox `runc run` with each binary.
# Usage: tests/runc/build.sh GEN   (GEN: 1.1 or 1.3; run setup.sh first)
source "$(dirname "$0")/lib.sh"
[ $# = 1 ] || { echo "usage: $0 1.1|1.3" >&2; exit 2; }
gen_vars "$1"
log=$LOGS/build-$GEN.log
: >"$log"
[ -d "$SRC" ] || { echo "no $SRC: run tests/runc/setup.sh first" >&2; exit 1; }

# The nsexecs the CGO-free build bakes in. Only a missing default one is
# built: a given NSEXEC_BOOTSTRAP_BIN or NSEXEC_BIN, or an existing binary,
# is the caller's to keep up to date (runc need not be rebuilt when nsexec
# is: the path stays).
if [ ! -x "$NSEXEC" ]; then
  if [ "$NSEXEC" != "$REPO/target/roles/bootstrap/release/nsexec" ]; then
    echo "no $NSEXEC (NSEXEC_BOOTSTRAP_BIN)" >&2
    exit 1
  fi
  step "nsexec: the bootstrap build"
  (cd "$REPO" && logged "$log" cargo build --release --no-default-features --features bootstrap --target-dir target/roles/bootstrap)
fi
if [ ! -x "$NSEXEC_FULL" ]; then
  if [ "$NSEXEC_FULL" != "$REPO/target/release/nsexec" ]; then
    echo "no $NSEXEC_FULL (NSEXEC_BIN)" >&2
    exit 1
  fi
  step "nsexec: cargo build --release"
  (cd "$REPO" && logged "$log" cargo build --release)
fi

# The patched tree, made anew when the source or a patch changes. The suite
# runs from it (its tests/integration and the helpers built into it).
stamp=$( (echo "$SRC"; cat "${PATCHES[@]}") | sha256sum | cut -c1-16)
if [ "$(cat "$TREE/.nsexec-stamp" 2>/dev/null)" != "$stamp" ]; then
  step "runc $VERSION: patched tree $TREE"
  rm -rf "$TREE"
  mkdir -p "$(dirname "$TREE")"
  cp -a "$SRC" "$TREE"
  for p in "${PATCHES[@]}"; do
    (cd "$TREE" && logged "$log" patch -p1 --no-backup-if-mismatch -i "$p")
  done
  echo "$stamp" >"$TREE/.nsexec-stamp"
fi

export GO111MODULE=off GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
export GOPATH=$GOPATH_ALL GOCACHE=$CACHE/gocache/$GEN
pkg=github.com/opencontainers/runc
ld="-X main.version=$VERSION -X main.gitCommit=debian-$GEN"
mkdir -p "$BIN/$GEN-nsexec" "$BIN/$GEN-c"

# gobuild CGO TAGS OUT PKG [LDFLAGS]
gobuild() {
  local cgo=$1 tags=$2 out=$3 p=$4 flags=${5:-}
  CGO_ENABLED=$cgo logged "$log" "$GOBIN_GO" build -trimpath -tags "$tags" \
    -ldflags "$flags" -o "$out" "$p"
}

t0=$SECONDS
step "runc $VERSION CGO-free, nsexec at $NSEXEC -> $BIN/$GEN-nsexec/runc"
nsx="-X main.nsexecPath=$NSEXEC"
[ "$GEN" = 1.1 ] || nsx+=" -X $pkg/libcontainer/internal/userns.nsexecPath=$NSEXEC_FULL"
gobuild 0 urfave_cli_no_docs "$BIN/$GEN-nsexec/runc" "$pkg" "$ld $nsx"

step "runc $VERSION with cgo and seccomp (runc's C) -> $BIN/$GEN-c/runc"
gobuild 1 "seccomp urfave_cli_no_docs" "$BIN/$GEN-c/runc" "$pkg" "$ld"

# The suite's helpers, where its helpers.bash looks for them. seccompagent
# needs libseccomp, hence cgo; the others build CGO-free.
if [ "$GEN" = 1.1 ]; then
  helpers=(recvtty sd-helper seccompagent)
  hdir() { echo "$TREE/contrib/cmd/$1"; }
else
  helpers=(recvtty sd-helper seccompagent fs-idmap pidfd-kill remap-rootfs)
  hdir() { echo "$TREE/tests/cmd/_bin"; }
fi
step "helpers: ${helpers[*]}"
for h in "${helpers[@]}"; do
  src=$pkg/contrib/cmd/$h
  [ "$GEN" = 1.1 ] || src=$pkg/tests/cmd/$h
  mkdir -p "$(hdir "$h")"
  if [ "$h" = seccompagent ]; then
    gobuild 1 seccomp "$(hdir "$h")/$h" "$src"
  else
    gobuild 0 "" "$(hdir "$h")/$h" "$src"
  fi
done
step "runc $GEN built in $((SECONDS - t0)) s (log: $log)"

# One container with each binary before any suite relies on them.
bash "$HERE/smoke.sh" "$GEN" nsexec
bash "$HERE/smoke.sh" "$GEN" c

#!/usr/bin/env bash
# Builds tests/go/libct13 against runc 1.3.6's libcontainer, CGO_ENABLED=0,
# in GOPATH mode with the Go 1.23 and the dependency trees that
# tests/runc/setup.sh fetched. runc comes from an unpatched copy of its
# Debian source in a GOPATH of our own (target/go13): libcontainer itself
# builds without cgo as it is (only specconv, which the program does not
# import, needs internal/userns's cgo half).
# Usage: tests/go/libct13/build.sh [NSEXEC [OUT]]
#   NSEXEC  the nsexec the program's init execs, baked in with -ldflags -X
#           (default target/release/nsexec; made absolute)
#   OUT     the binary (default target/libct13)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
CACHE=${NSEXEC_RUNC_CACHE:-$REPO/target/runc}
NSEXEC=$(realpath -m "${1:-$REPO/target/release/nsexec}")
OUT=$(realpath -m "${2:-$REPO/target/libct13}")
GO=/usr/lib/go-1.23/bin/go
SRC=$CACHE/src/runc-1.3.6+ds1
GOPATH13=$REPO/target/go13
TREE=$GOPATH13/src/github.com/opencontainers/runc

for need in "$GO" "$SRC" "$CACHE/ebpf/src" "$CACHE/sid/usr/share/gocode/src"; do
  [ -e "$need" ] || { echo "no $need: run tests/runc/setup.sh first" >&2; exit 3; }
done
[ -x "$NSEXEC" ] || { echo "no nsexec at $NSEXEC (cargo build --release)" >&2; exit 1; }

# The copy, made anew when it is missing or the source is another one.
if [ "$(cat "$TREE/.libct13-source" 2>/dev/null)" != "$SRC" ]; then
  rm -rf "$TREE"
  mkdir -p "$(dirname "$TREE")"
  cp -a "$SRC" "$TREE"
  echo "$SRC" >"$TREE/.libct13-source"
fi

cd "$HERE"
GO111MODULE=off GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0 \
  GOPATH=$GOPATH13:$CACHE/ebpf:$CACHE/sid/usr/share/gocode \
  GOCACHE=$GOPATH13/gocache \
  "$GO" build -trimpath -ldflags "-X main.nsexecPath=$NSEXEC" -o "$OUT" .
echo "$OUT (nsexec: $NSEXEC)"

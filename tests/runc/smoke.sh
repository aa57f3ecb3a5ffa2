#!/usr/bin/env bash
# smoke.sh GEN [FLAVOUR]: one `runc run` of a busybox container with a
# build.sh binary (default flavour nsexec), to catch a broken bootstrap in
# seconds rather than in a suite's first file. It passes when the container
# prints its hostname and PID 1 and exits 0; with nsexec, the debug log
# hold nsexec's path and none of runc's C (whose log says "~> nsexec stage-0").
# Usage: tests/runc/smoke.sh 1.1|1.3 [nsexec|c]
source "$(dirname "$0")/lib.sh"
if [ $# -lt 1 ] || [ $# -gt 2 ]; then echo "usage: $0 1.1|1.3 [nsexec|c]" >&2; exit 2; fi
gen_vars "$1"
flavour=${2:-nsexec}
RUNC=$BIN/$GEN-$flavour/runc
[ -x "$RUNC" ] || { echo "no $RUNC: run tests/runc/build.sh $GEN" >&2; exit 1; }
bash "$HERE/images.sh"

dir=$(mktemp -d)
name=nsexec-smoke-$GEN-$flavour-$$
cleanup() {
  "$RUNC" --root "$dir/state" delete -f "$name" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
mkdir "$dir/bundle" "$dir/bundle/rootfs"
tar -xJf "$CACHE/images/busybox-$(dpkg --print-architecture).tar.xz" -C "$dir/bundle/rootfs"
cd "$dir/bundle"
"$RUNC" spec
# No terminal (we have none to give), and a command that shows the
# container's view: the UTS namespace's hostname and the PID namespace.
jq '.process.terminal = false | .process.args = ["sh", "-c", "echo smoke: $(hostname) pid $$"]' \
  config.json >config.json.new
mv config.json.new config.json

rc=0
out=$(timeout 60 "$RUNC" --root "$dir/state" --debug run "$name" 2>&1 </dev/null) || rc=$?
if [ $rc != 0 ] || ! grep -qx 'smoke: runc pid 1' <<<"$out"; then
  echo "FAILED: $RUNC run (exit $rc):" >&2
  tail -n 30 <<<"$out" >&2
  exit 1
fi
if [ "$flavour" = nsexec ] && { ! grep -qaF "$NSEXEC" "$RUNC" || grep -qaF '~> nsexec stage-0' "$RUNC"; }; then
  echo "FAILED: $RUNC does not run $NSEXEC as its bootstrap (runc's C is linked in?)" >&2
  exit 1
fi
echo "smoke: runc $VERSION $flavour runs a busybox container ($(grep -c 'nsexec' <<<"$out") nsexec log lines)"

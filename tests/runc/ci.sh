#!/usr/bin/env bash
# ci.sh FILE...: the nsexec flavour's suite on FILES for runc 1.1 and 1.3, one
# generation after the other (two suites at once collide). A file that one
# generation lacks (cpu_affinity.bats is new in 1.2) is left out of that
# generation's run. Both generations run even if the first fails; exits 1
# if either had an unexpected failure. Expects setup.sh and build.sh done.
# Usage: tests/runc/ci.sh run exec ...
source "$(dirname "$0")/lib.sh"
[ $# -gt 0 ] || { echo "usage: $0 FILE..." >&2; exit 2; }
rc=0
t0=$SECONDS
summary=()
tp=0 tf=0 te=0 ts=0
for gen in 1.1 1.3; do
  gen_vars "$gen"
  files=()
  for f in "$@"; do
    f=$(basename "$f" .bats).bats
    if [ -e "$TREE/tests/integration/$f" ]; then files+=("$f"); fi
  done
  t=$SECONDS
  bash "$HERE/suite.sh" "$gen" nsexec "${files[@]}" || rc=1
  last=$(tail -n 1 "$LOGS/$gen-nsexec/summary.txt")
  summary+=("runc $gen: $last ($((SECONDS - t)) s)")
  # "N passed, N failed (M expected), N skipped"
  read -r p f e s < <(sed -E 's/^([0-9]+) passed, ([0-9]+) failed \(([0-9]+) expected\), ([0-9]+) skipped$/\1 \2 \3 \4/' <<<"$last")
  tp=$((tp + p)) tf=$((tf + f)) te=$((te + e)) ts=$((ts + s))
done
printf '%s\n' "${summary[@]}"
echo "both generations in $((SECONDS - t0)) s"
echo "runc-ci: $tp passed, $tf failed ($te expected), $ts skipped"
exit $rc

#!/usr/bin/env bash
# Runs runc's own tests/integration bats suite (from build.sh's patched
# tree) against one of build.sh's binaries, each file under `script` (some
# tests want a terminal on stdin) in cgroups of its own, and judges the
# result against expected-failures-GEN.txt.
# Usage: tests/runc/suite.sh GEN FLAVOUR [FILE...]
#   GEN      1.1 or 1.3
#   FLAVOUR  nsexec (CGO-free runc, nsexec its bootstrap) or c (runc's C)
#   FILE     run, run.bats, ...: default every file of that version's suite
# Writes $LOGS/GEN-FLAVOUR/ (target/runc/logs/...): FILE.tap (bats' TAP,
# with each failure's output), FILE.err, all.tap, results.txt (one line a
# test: ok|fail|skip | FILE | NAME), unexpected.txt, now-pass.txt and
# summary.txt.
# expected-failures-GEN.txt: one line a test, `FILE.bats: NAME  # KIND: why`.
# KIND seccomp means "CGO-free runc has no libseccomp": such a line holds
# for the nsexec flavour only. Exits 1 if a test fails that the list does
# not name; lists named tests that passed. NSEXEC_RUNC_FILE_TIMEOUT
# (seconds, default 1200) bounds one file, BATS_TEST_TIMEOUT (300) one test.
source "$(dirname "$0")/lib.sh"
[ $# -ge 2 ] || { echo "usage: $0 1.1|1.3 nsexec|c [FILE...]" >&2; exit 2; }
gen_vars "$1"
flavour=$2
shift 2
case $flavour in nsexec | c) ;; *) echo "flavour: nsexec or c" >&2; exit 2 ;; esac
RUNC=$BIN/$GEN-$flavour/runc
[ -x "$RUNC" ] || { echo "no $RUNC: run tests/runc/build.sh $GEN" >&2; exit 1; }
if [ "$flavour" = nsexec ]; then
  [ -x "$NSEXEC" ] || { echo "no $NSEXEC: just build-roles" >&2; exit 1; }
  # The path is baked in at build time: NSEXEC_BOOTSTRAP_BIN here cannot change it.
  grep -qaF "$NSEXEC" "$RUNC" || echo "warning: $RUNC was built for another nsexec than $NSEXEC" >&2
fi
itest=$TREE/tests/integration
expected=$HERE/expected-failures-$GEN.txt
out=$LOGS/$GEN-$flavour
rm -rf "$out"
mkdir -p "$out"

# The images, where get-images.sh finds them (so it downloads nothing).
bash "$HERE/images.sh"
arch=$(dpkg --print-architecture)
for i in busybox debian; do
  [ -e "$CACHE/images/$i-$arch.tar.xz" ] || continue
  ln -f "$CACHE/images/$i-$arch.tar.xz" "$itest/testdata/$i-$arch.tar.xz"
done

files=()
if [ $# = 0 ]; then
  for f in "$itest"/*.bats; do files+=("$(basename "$f")"); done
else
  for f in "$@"; do
    f=$(basename "$f" .bats).bats
    [ -e "$itest/$f" ] || { echo "no $itest/$f" >&2; exit 2; }
    files+=("$f")
  done
fi

step "runc $GEN $flavour: ${#files[@]} files; $RUNC; logs in $out"
{
  echo "runc: $RUNC ($(sha256sum <"$RUNC" | cut -c1-12))"
  [ "$flavour" = c ] || echo "nsexec: $NSEXEC ($(sha256sum <"$NSEXEC" | cut -c1-12), $(date -r "$NSEXEC" -u +%FT%TZ))"
  echo "files: ${files[*]}"
} >"$out/run-info.txt"
export RUNC
test_timeout=${BATS_TEST_TIMEOUT:-300}
unset BATS_TEST_TIMEOUT
# get-images.sh asks `go env GOARCH`; the generation's own Go answers.
PATH=$(dirname "$GOBIN_GO"):$PATH
timeout_file=${NSEXEC_RUNC_FILE_TIMEOUT:-1200}
t_all=$SECONDS

# reap N: after file N (or when interrupted in it). Kills what is left in
# the cgroups incgroup.sh made (a helper, a stuck runc, bats itself when
# interrupted: script and timeout put it in sessions and groups of its own,
# out of reach of our signals) and removes the cgroups; then deletes the
# containers a killed test left in its TMPDIR, and that directory (bats
# removes its own when it finishes normally).
reap() {
  local list=$out/$1.cgroups tmp=$tmpbase/$1 left _ d c
  if [ -s "$list" ]; then
    for _ in 1 2 3 4 5; do
      mapfile -t left < <(sed 's|$|/cgroup.procs|' "$list" | xargs cat 2>/dev/null | sort -u || true)
      [ ${#left[@]} -gt 0 ] || break
      kill -9 "${left[@]}" 2>/dev/null || true
      sleep 0.5
    done
    while read -r d; do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true; done <"$list"
  fi
  [ -d "$tmp" ] || return 0
  while read -r d; do
    for c in $("$RUNC" --root "$d" list -q 2>/dev/null); do "$RUNC" --root "$d" delete -f "$c" >/dev/null 2>&1 || true; done
  done < <(find "$tmp" -mindepth 3 -maxdepth 3 -type d -name state 2>/dev/null)
  # Mounts a test left there go first, so rm cannot reach through them.
  findmnt -rn -o TARGET | grep -F "$tmp/" | sort -r | xargs -r umount -l 2>/dev/null || true
  rm -rf --one-file-system "$tmp"
}
# bats' temporary directories, one per file: short, for the unix sockets
# the tests make in them (108 bytes at most); searchable by all, as /tmp
# is, since user-namespaced containers (uid 100000) reach their bundles there.
tmpbase=$(mktemp -d /tmp/nsexec-runc.XXXXXX)
chmod 755 "$tmpbase"
# script's own input: a FIFO we hold open for writing, so it never reads
# end-of-file. At end-of-file on /dev/null, script writes to the terminal,
# and the tests that read the output of a container sharing it find "^@"
# before their line (env.bats, timens.bats, mounts_propagation.bats).
mkfifo "$tmpbase/stdin"
exec 3<>"$tmpbase/stdin"
n='' tpid=''
trap '[ -z "$tpid" ] || kill $tpid 2>/dev/null; [ -z "$n" ] || reap "$n"; rm -f "$tmpbase/stdin"; rmdir "$tmpbase" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM

cd "$itest"
for f in "${files[@]}"; do
  n=${f%.bats}
  t0=$SECONDS
  # bats' per-test watchdog is a child of the test's shell, so a test that
  # waits with a bare `wait` (events.bats) would wait for it, the whole
  # timeout: such a file runs with the file's timeout only.
  tt=(env TMPDIR="$tmpbase/$n" BATS_TEST_TIMEOUT="$test_timeout")
  grep -qE '^[[:space:]]*wait([[:space:]]*(#.*)?)?$' "$itest/$f" && tt=(env -u BATS_TEST_TIMEOUT TMPDIR="$tmpbase/$n")
  mkdir -m 755 "$tmpbase/$n"
  # script gives bats a terminal; its own output is the typescript, unused.
  # tini -s reaps what the tests orphan (exec -d's processes, a container
  # without a PID namespace) at once, as systemd does on runc's CI: this
  # machine's PID 1 reaps about a second late, and "[host pidns + init
  # gone]" in kill.bats and delete.bats wait only 2 s for the zombies to go.
  cmd=$(printf '%q ' bash "$HERE/incgroup.sh" "$out/$n.cgroups" "nsexec-runc-$GEN-$flavour-$n" \
    "${tt[@]}" tini -s -- bats --tap "$itest/$f")
  # In the background, so that a signal to us runs our trap at once (bash
  # holds traps while a foreground child runs).
  timeout -k 10 "$timeout_file" script -q -e -c "$cmd >$(printf %q "$out/$n.tap") 2>$(printf %q "$out/$n.err")" \
    /dev/null <&3 >"$out/$n.script" 2>&1 &
  tpid=$!
  wait $tpid || true
  tpid=
  # What the file left behind goes with its cgroups: the next file starts clean.
  reap "$n"
  # results.txt: STATUS | FILE | NAME (a timeout's " # timeout after Ns"
  # is not part of the name).
  sed -nE 's/^not ok [0-9]+ (.*)$/fail | '"$f"' | \1/; s/ # timeout after [0-9]+ ?s$//; t p
      s/^ok [0-9]+ (.*) # skip.*$/skip | '"$f"' | \1/; t p
      s/^ok [0-9]+ (.*)$/ok | '"$f"' | \1/; t p
      d
      :p
      p' "$out/$n.tap" >"$out/$n.results"
  note=
  if ! grep -qE '^1\.\.[0-9]+' "$out/$n.tap" 2>/dev/null; then
    note=" (did not finish: see $n.err)"
    echo "fail | $f | (the file did not finish)" >>"$out/$n.results"
  fi
  cat "$out/$n.results" >>"$out/results.txt"
  printf '   %-28s %3d ok %3d not ok %3d skipped  %4d s%s\n' "$f" \
    "$(grep -c '^ok ' "$out/$n.results")" "$(grep -c '^fail ' "$out/$n.results")" \
    "$(grep -c '^skip ' "$out/$n.results")" $((SECONDS - t0)) "$note"
  { echo "# $f"; cat "$out/$n.tap"; } >>"$out/all.tap"
  rm -f "$out/$n.results"
done
n=
wall=$((SECONDS - t_all))

# Judge. The list's lines become "FILE | NAME" as results.txt has them.
: >"$out/expected.txt"
if [ -e "$expected" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    reason=${line#*  # }
    test=${line%%  # *}
    [ "$reason" != "$line" ] || echo "warning: $(basename "$expected"): no '  # reason': $line" >&2
    [ "$flavour" = c ] && [[ $reason == seccomp* ]] && continue
    file=${test%%: *}
    name=${test#*: }
    name=${name%"${name##*[![:space:]]}"}
    # Only files this run ran are judged.
    if [[ " ${files[*]} " == *" $file "* ]]; then echo "$file | $name"; fi
  done <"$expected" >"$out/expected.txt"
fi
sort -u "$out/expected.txt" -o "$out/expected.txt"
sed -n 's/^fail | //p' "$out/results.txt" | sort -u >"$out/failed.txt"
# A listed test that was skipped (criu absent, say) is no news: only an ok is.
sed -n 's/^ok | //p' "$out/results.txt" | sort -u >"$out/passed.txt"
comm -23 "$out/failed.txt" "$out/expected.txt" >"$out/unexpected.txt"
comm -12 "$out/passed.txt" "$out/expected.txt" >"$out/now-pass.txt"

passed=$(grep -c '^ok | ' "$out/results.txt" || true)
failed=$(grep -c '^fail | ' "$out/results.txt" || true)
skipped=$(grep -c '^skip | ' "$out/results.txt" || true)
expected_n=$(comm -12 "$out/failed.txt" "$out/expected.txt" | wc -l)
if [ -s "$out/now-pass.txt" ]; then
  echo "listed in $(basename "$expected"), but passed (remove them?):"
  sed 's/^/   /' "$out/now-pass.txt"
fi
rc=0
if [ -s "$out/unexpected.txt" ]; then
  echo "UNEXPECTED failures ($(wc -l <"$out/unexpected.txt")); their output is in $out/FILE.tap:"
  sed 's/^/   /' "$out/unexpected.txt"
  rc=1
fi
{
  echo "runc $GEN $flavour: ${#files[@]} files in $wall s"
  echo "$passed passed, $failed failed ($expected_n expected), $skipped skipped"
} | tee "$out/summary.txt"
exit $rc

#!/usr/bin/env bash
# incgroup.sh LIST NAME CMD...: moves this process into a new cgroup NAME
# below its own, in every cgroup hierarchy (v1 and v2), writes the
# directories made to LIST (for the caller to empty and remove), then
# executes CMD. suite.sh runs each bats file so.
set -euo pipefail
list=$1 name=$2
shift 2
: >"$list"
while read -r target fstype opts; do
  rel=
  if [ "$fstype" = cgroup2 ]; then
    rel=$(sed -n 's/^0:://p' /proc/self/cgroup)
  else
    # The v1 line whose controllers (or name=) are all this mount's options.
    while IFS=: read -r _ ctrls path; do
      [ -n "$ctrls" ] || continue
      ok=1
      IFS=, read -ra cs <<<"$ctrls"
      for c in "${cs[@]}"; do [[ ",$opts," == *",$c,"* ]] || ok=0; done
      if [ $ok = 1 ]; then rel=$path; break; fi
    done </proc/self/cgroup
  fi
  d=$target${rel%/}/$name
  mkdir -p "$d"
  # A v1 cpuset takes no task until it has cpus and mems.
  for f in cpuset.cpus cpuset.mems; do
    if [ -e "$d/$f" ] && [ -z "$(cat "$d/$f")" ]; then cat "$(dirname "$d")/$f" >"$d/$f"; fi
  done
  echo $$ >"$d/cgroup.procs"
  echo "$d" >>"$list"
done < <(findmnt -rn -t cgroup,cgroup2 -o TARGET,FSTYPE,OPTIONS)
exec "$@"

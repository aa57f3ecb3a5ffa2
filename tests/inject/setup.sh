#!/bin/sh
# What tests/inject.rs needs: podman (with runc and crun as runtimes),
# Docker's daemon, catatonit and a static busybox for the images. Debian 12
# packages only; safe to run again.
set -eu
need=""
for p in podman docker.io crun runc catatonit busybox-static; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
        need="$need $p"
done
if [ -n "$need" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # No recommends: the tests start dockerd themselves and need no
    # network helpers beyond what podman depends on.
    apt-get install -y -qq --no-install-recommends $need
fi
# docker.io's package enables and starts its services where there is an
# init system to do it; the tests start their own dockerd.
for s in docker.socket docker.service containerd.service; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q "$s" 2>/dev/null; then
        systemctl stop "$s" || true
    fi
done

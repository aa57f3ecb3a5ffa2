#!/bin/sh
# crun as podman's runtime on a hybrid cgroup host. crun 1.8 refuses to
# start anything when /sys/fs/cgroup is v1 (a tmpfs of v1 hierarchies) and
# the v2 hierarchy beside it at /sys/fs/cgroup/unified holds a controller
# (here hugetlb, which no v1 hierarchy took): "cgroups in hybrid mode not
# supported, drop all controllers from cgroupv2". It then uses the v1
# hierarchies alone when it cannot see the unified one, so this runs crun
# in a mount namespace of its own (private: nothing propagates back) with
# that one mount taken away; the host keeps its cgroups as they are.
# Elsewhere it is crun itself. tests/inject.rs passes this file to podman's
# --runtime.
ctl=/sys/fs/cgroup/unified/cgroup.controllers
if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = tmpfs ] && [ -n "$(cat $ctl 2>/dev/null)" ]; then
    exec unshare --mount --propagation private \
        sh -c 'umount /sys/fs/cgroup/unified && exec /usr/bin/crun "$@"' crun "$@"
fi
exec /usr/bin/crun "$@"

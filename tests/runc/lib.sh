# shellcheck shell=bash
# Shared by the scripts here (sourced, not run): setup.sh, build.sh,
# smoke.sh, images.sh, suite.sh and ci.sh.
# Everything they make lives under $CACHE: NSEXEC_RUNC_CACHE, or the
# repository's target/runc.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${NSEXEC_RUNC_CACHE:-$REPO/target/runc}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
LOGS=$CACHE/logs
mkdir -p "$LOGS"

# The Debian sources: bookworm's runc 1.1, sid's runc 1.3 and the cilium/ebpf
# that builds with Go 1.23 (sid's 0.22 needs Go 1.24).
V11=1.1.5+ds1-1+deb12u1
V13=1.3.6+ds1-1
VEBPF=0.17.3+ds1-4

# nsexec as the CGO-free builds run it (the path is baked into the binary):
# the bootstrap build, runc's drop-in. runc 1.3's userns helper reads a file
# from inside a user namespace with nsexec's command line (`--join`), which
# is the full build's.
NSEXEC=${NSEXEC_BOOTSTRAP_BIN:-$REPO/target/roles/bootstrap/release/nsexec}
NSEXEC_FULL=${NSEXEC_BIN:-$REPO/target/release/nsexec}

# One line per step; the details go to a log file.
step() { printf '== %s\n' "$*"; }

# logged LOG CMD...: CMD's output appended to LOG; on failure its tail.
logged() {
  local log=$1
  shift
  if ! "$@" >>"$log" 2>&1; then
    echo "FAILED: $* (log: $log)" >&2
    tail -n 25 "$log" >&2
    exit 1
  fi
}

# The private apt configuration for sid (and trixie's sources): its own
# lists, cache and an empty dpkg status, so the system's apt never sees it.
PAPT=$CACHE/apt
papt_opts=(
  -o "Dir::Etc::sourcelist=$PAPT/sources.list" -o Dir::Etc::sourceparts=-
  -o "Dir::State::Lists=$PAPT/lists" -o "Dir::Cache=$PAPT/cache"
  -o "Dir::State::status=$PAPT/status" -o Debug::NoLocking=1
  -o APT::Get::List-Cleanup=0
)

# gen_vars GEN: the variables of one runc generation (1.1 or 1.3).
#   SRC    pristine source tree (apt-get source)
#   GOPATH_RUNC  our GOPATH entry holding the patched tree at TREE
#   GOBIN_GO     the go command; GOPATH_ALL the whole GOPATH
#   PATCHES      our patches, in order; VERSION  runc's version
#   BIN          where build.sh puts the binaries: BIN/GEN-FLAVOUR/runc (named
#                runc, as help.bats wants it named in its usage lines)
gen_vars() {
  case "$1" in
  1.1)
    VERSION=1.1.5
    SRC=$CACHE/src/runc-1.1.5+ds1
    GOBIN_GO=/usr/lib/go-1.19/bin/go
    GOPATH_DEPS=/usr/share/gocode
    PATCHES=("$HERE/runc-1.1-nsexec.patch")
    ;;
  1.3)
    VERSION=1.3.6
    SRC=$CACHE/src/runc-1.3.6+ds1
    GOBIN_GO=/usr/lib/go-1.23/bin/go
    GOPATH_DEPS=$CACHE/ebpf:$CACHE/sid/usr/share/gocode
    PATCHES=("$HERE/runc-1.3-nsexec.patch" "$HERE/runc-1.3-userns.patch")
    ;;
  *)
    echo "unknown runc generation '$1' (1.1 or 1.3)" >&2
    exit 2
    ;;
  esac
  GEN=$1
  GOPATH_RUNC=$CACHE/build/$GEN/gopath
  TREE=$GOPATH_RUNC/src/github.com/opencontainers/runc
  GOPATH_ALL=$GOPATH_RUNC:$GOPATH_DEPS
  BIN=$CACHE/bin
}

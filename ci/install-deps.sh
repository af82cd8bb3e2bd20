#!/bin/sh
# ci/install-deps.sh - install everything foliotorture needs from Debian
# 12's archive.
#
#   ci/install-deps.sh      (no arguments)
#
# Idempotent: nothing to do when every package is present.  Quiet: apt's
# output goes to a log that is printed only if the install fails.  Run as
# root (or with sudo available); used by the README's quick start and by
# .ci/run.
set -eu

# No flags: --help prints the comment above; anything else is a usage
# error, before apt is touched.
case $# in
0) ;;
*)	case $1 in
	-h|--help) sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "install-deps: unknown argument '$1' (it takes none; see --help)" >&2; exit 2 ;;
	esac ;;
esac

PKGS="build-essential cmake ninja-build pkg-config git \
      clang-14 clang llvm-14 libclang-rt-14-dev \
      liburcu-dev afl++ jq gnuplot-nox zip unzip"

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi
log=$(mktemp /tmp/foliotorture-install-deps.XXXXXX)
printf 'install-deps: installing%s ... ' "$missing"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if $SUDO apt-get update -q >"$log" 2>&1 &&
   $SUDO apt-get install -y -q --no-install-recommends $missing >>"$log" 2>&1; then
	echo "ok"
	rm -f "$log"
	exit 0
fi
echo "FAILED"
tail -n 30 "$log"
echo "install-deps: apt-get failed; full log: $log" >&2
exit 1

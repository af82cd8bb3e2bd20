#!/bin/sh
# Install everything foliotorture needs from Debian 12's archive.
# Idempotent: apt-get skips what is already installed.  Run as root (or
# with sudo available); used by the README's quick start and by .ci/run.
set -eu

PKGS="build-essential cmake ninja-build pkg-config git \
      clang-14 clang llvm-14 libclang-rt-14-dev \
      liburcu-dev afl++"

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
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# What "make bench" needs on top of tests/install-deps.sh (which "make check" runs): the
# kernel sources that mm/gup_test.c is extracted from at bench time
# (tests/bench/build-gup-test.sh).  linux-source-6.12 is the reference; 6.1's own
# gup_test.c is used for the 6.1 guest, where 6.12's does not build.
# Idempotent: installs only what is missing.  Needs root (or sudo).
set -eu
PKGS="linux-source-6.12 linux-source-6.1 xz-utils"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-bench-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null

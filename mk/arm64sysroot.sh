#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# arm64sysroot.sh DESTDIR PACKAGE...
#
# Unpack Debian's arm64 builds of PACKAGEs (the -dev packages that hold the
# static archives and headers wrapp links) into DESTDIR/usr, for the
# aarch64 cross build (`make ARCH=aarch64`, mk/aarch64.mk).
#
# The packages come from the archives the machine's apt already uses, at
# the versions its package lists name, but nothing is installed: apt runs
# with arm64 as its architecture and a private state and cache under
# DESTDIR/.apt, and the .debs are unpacked with dpkg-deb -x. Installing
# them as multiarch ":arm64" packages instead would make dpkg keep the
# native copies in lockstep (Multi-Arch: same), upgrading native libraries
# under everything else on the machine.
#
# Idempotent: exits at once when DESTDIR/.stamp names the same packages.
set -euo pipefail

prog=arm64sysroot
die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }

[[ $# -ge 2 ]] || die "usage: mk/arm64sysroot.sh DESTDIR PACKAGE... (e.g. build/aarch64/sysroot libhiredis-dev)"
dest_arg=$1
shift
want="$*"
[[ -f $dest_arg/.stamp && $(head -n 1 "$dest_arg/.stamp") == "packages=$want" ]] && exit 0

command -v apt-get >/dev/null 2>&1 || die "apt-get not found; this needs a Debian-based system"
command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb not found; install dpkg"
mkdir -p -- "$dest_arg" || die "cannot create '$dest_arg'"
dest=$(cd -- "$dest_arg" && pwd -P)
aptdir=$dest/.apt
debs=$aptdir/debs
log=$aptdir/arm64sysroot.log
mkdir -p -- "$aptdir/lists/partial" "$aptdir/cache/archives/partial" "$debs"

# The system's update hooks would touch system state; drop them.
conf=$aptdir/apt.conf
cat >"$conf" <<'EOF'
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
#clear APT::Architectures;
APT::Architecture "arm64";
APT::Architectures { "arm64"; };
EOF
apt_opts=(
	-qq
	-c "$conf"
	-o "Dir::State::Lists=$aptdir/lists"
	-o "Dir::Cache=$aptdir/cache"
	-o Dir::Cache::pkgcache=
	-o Dir::Cache::srcpkgcache=
)
# As root apt downloads as _apt, which cannot write here; files are still
# checked against the signed indices.
[[ $(id -u) -eq 0 ]] && apt_opts+=(-o APT::Sandbox::User=root)

: >"$log"
LC_ALL=C apt-get "${apt_opts[@]}" update >>"$log" 2>&1 ||
	echo "$prog: apt-get update reported errors (some repository has no arm64 index?); see $log" >&2
rm -f -- "$debs"/*.deb
# shellcheck disable=SC2086 # one word per package
(cd -- "$debs" && LC_ALL=C apt-get "${apt_opts[@]}" download $want) >>"$log" 2>&1 || {
	grep -E '^(E|W):' "$log" | head -n 8 | sed 's/^/  /' >&2
	die "cannot download the arm64 packages ($want) from the machine's apt sources; see $log"
}

rm -rf -- "${dest:?}/usr"
versions=
for deb in "$debs"/*.deb; do
	dpkg-deb -x "$deb" "$dest" || die "cannot unpack $deb"
	# shellcheck disable=SC2016 # dpkg-deb's own ${field} syntax
	versions="$versions $(dpkg-deb --show --showformat='${Package}=${Version}' "$deb")"
done
printf 'packages=%s\nversions=%s\n' "$want" "${versions# }" >"$dest/.stamp"
printf '%s: unpacked %s into %s\n' "$prog" "${versions# }" "$dest"

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mkbase.sh SUITE OUT.tar
#
# Build a minimal Debian root filesystem (debootstrap --variant=minbase) and
# pack it as OUT.tar for `podman import`: the local stand-in for the
# debian:12 base image, so image builds work without any image registry.
#
# The mirror is the machine's own: the Debian archive entry apt already
# uses for SUITE (found with `apt-get indextargets`, which reads apt's own
# parsed sources), so no archive host name is written here. The rootfs is
# built under OUT.tar's directory and removed afterwards; apt's downloaded
# packages and lists are dropped from it (an image fetches fresh ones).
# Needs root, debootstrap and debian-archive-keyring.
set -euo pipefail

prog=mkbase
die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }

[[ $# -eq 2 ]] ||
	die "usage: mk/mkbase.sh SUITE OUT.tar (e.g. mk/mkbase.sh bookworm build/images/bookworm.tar)"
suite=$1
out=$2
[[ $(id -u) -eq 0 ]] || die "debootstrap needs root; run as root"
command -v debootstrap >/dev/null || die "debootstrap not found; run: make image-deps"

# The archive entry for the suite itself (not -updates or -security).
# shellcheck disable=SC2016 # apt's format fields, not shell
mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(LABEL) $(TARGET_OF)' 2>/dev/null |
	awk -v s="$suite" '$2 == s && $3 == "Debian" && $4 == "deb" { print $1; exit }')
[[ -n $mirror ]] ||
	die "no Debian archive entry for '$suite' in apt's sources (or apt-get update never ran);" \
		"add one or run apt-get update"

outdir=$(dirname -- "$out")
mkdir -p -- "$outdir"
root=$outdir/rootfs-$suite.tmp
log=$outdir/debootstrap-$suite.log
# A previous interrupted run may have left proc mounted inside; debootstrap
# unmounts on success only.
if [[ -d $root ]]; then
	umount -R "$root/proc" 2>/dev/null || true
	rm -rf --one-file-system -- "$root"
fi

start=$SECONDS
debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$log" 2>&1 ||
	{ tail -n 20 "$log" >&2; die "debootstrap failed (full log: $log)"; }

# What an image must not carry: downloaded .debs and package lists (stale
# the day after), machine identity.
rm -rf -- "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
: >"$root/etc/machine-id"

tar --numeric-owner -C "$root" -cf "$out.tmp" .
mv -f -- "$out.tmp" "$out"
rm -rf --one-file-system -- "$root"
printf '%s: %s minbase from %s -> %s (%s bytes, %d s)\n' \
	"$prog" "$suite" "$mirror" "$out" "$(stat -c %s "$out")" $((SECONDS - start))

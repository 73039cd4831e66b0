#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# debsrc.sh PACKAGE DESTDIR
#
# Fetch Debian's *source* package PACKAGE and unpack it, with Debian's
# patches applied, into DESTDIR/PACKAGE (stable name, no version).
#
# The system's apt configuration and state are left untouched: deb-src
# entries are derived at run time from the machine's own `deb` entries
# (sources.list and sources.list.d/*.list / *.sources, located through
# apt-config) and written, together with private package lists and cache,
# under DESTDIR/.apt/.  Everything apt needs is redirected there with -o
# options; no archive host name is hard-coded here.
#
# Idempotent: once DESTDIR/PACKAGE/.debsrc-stamp exists the script exits 0
# at once.  Needs apt-get and dpkg-source (package dpkg-dev).
set -euo pipefail

prog=debsrc
die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }

# Print one error line, then the apt error/warning lines from LOG (indented),
# then exit.  $1 = log file, rest = message.
die_log() {
	local log=$1
	shift
	printf '%s: %s\n' "$prog" "$*" >&2
	if [[ -s $log ]]; then
		grep -E '^(E|W|Err):|error|failed' "$log" | head -n 8 | sed 's/^/  /' >&2 || true
	fi
	exit 1
}

[[ $# -eq 2 ]] || die "usage: mk/debsrc.sh PACKAGE DESTDIR (e.g. mk/debsrc.sh cjson build/src)"
pkg=$1
dest_arg=$2
[[ $pkg =~ ^[a-z0-9][a-z0-9+.-]+$ ]] ||
	die "invalid source package name '$pkg'; use a Debian source package name such as 'cjson'"

stamp_name=.debsrc-stamp

# Fast path: already unpacked.
[[ -f $dest_arg/$pkg/$stamp_name ]] && exit 0

command -v apt-get >/dev/null 2>&1 ||
	die "apt-get not found; this script needs a Debian-based system with apt"
command -v dpkg-source >/dev/null 2>&1 ||
	die "dpkg-source not found (needed to unpack source packages); install it with: apt-get install dpkg-dev"

mkdir -p -- "$dest_arg" || die "cannot create destination directory '$dest_arg'; check its parent's permissions"
dest=$(cd -- "$dest_arg" && pwd -P)
target=$dest/$pkg

aptdir=$dest/.apt
partsdir=$aptdir/sources.list.d
listsdir=$aptdir/lists
cachedir=$aptdir/cache
log=$aptdir/debsrc-$pkg.log
mkdir -p -- "$partsdir" "$listsdir/partial" "$cachedir/archives/partial" ||
	die "cannot create private apt directories under '$aptdir'; check permissions of '$dest'"

# Serialise concurrent runs sharing DESTDIR (they share the private lists).
if command -v flock >/dev/null 2>&1; then
	exec 9>"$aptdir/lock"
	flock -w 900 9 || die "timed out waiting for lock '$aptdir/lock' held by another debsrc run"
fi
[[ -f $target/$stamp_name ]] && exit 0
if [[ -e $target || -L $target ]]; then
	die "'$target' exists but was not unpacked by debsrc (no $stamp_name); remove it and re-run"
fi

# ---------------------------------------------------------------------------
# Derive deb-src entries from the system's deb entries.
# ---------------------------------------------------------------------------
sl=/etc/apt/sources.list
sp=/etc/apt/sources.list.d
cfg=$(apt-config shell sl Dir::Etc::sourcelist/f sp Dir::Etc::sourceparts/d 2>/dev/null) || cfg=
[[ -n $cfg ]] && eval "$cfg"
sp=${sp%/}

# Entries are kept if they have no Signed-By or are signed by a Debian
# archive keyring; other (third-party) repositories rarely carry sources.
keep_re='debian-archive'

# One-line format: "deb [opts] URI SUITE [COMPONENT...]" -> "deb-src ...".
# shellcheck disable=SC2016 # awk program, not shell
oneline_awk='
{
	sub(/#.*/, "")
	if ($1 != "deb") next
	s = $0
	sub(/^[ \t]*deb[ \t]+/, "", s)
	opts = ""; signed = ""
	if (substr(s, 1, 1) == "[") {
		e = index(s, "]")
		if (e == 0) next
		n = split(substr(s, 2, e - 2), o, /[ \t]+/)
		s = substr(s, e + 1)
		for (i = 1; i <= n; i++) {
			if (o[i] == "" || o[i] ~ /^arch[-+]?=/) continue
			if (o[i] ~ /^signed-by=/) signed = o[i]
			opts = opts (opts == "" ? "" : " ") o[i]
		}
	}
	sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s)
	if (s == "") next
	total++
	if (signed != "" && signed !~ keep) next
	line = "deb-src " (opts == "" ? "" : "[" opts "] ") s
	if (!(line in seen)) { seen[line] = 1; print line }
}
END { if (total > 0) print total > countfile }
'

# deb822 format: keep stanzas whose Types include "deb" (and not Enabled: no),
# rewrite Types to deb-src, drop Architectures, keep everything else
# (URIs, Suites, Components, Signed-By incl. multi-line inline keys, ...).
# shellcheck disable=SC2016 # awk program, not shell
deb822_awk='
function flush(   i, n, t, isdeb, out) {
	if (nf > 0) {
		n = split(val["types"], t, /[ \t\n]+/)
		isdeb = 0
		for (i = 1; i <= n; i++) if (t[i] == "deb") isdeb = 1
		if (isdeb && tolower(val["enabled"]) !~ /^[ \t]*no/) {
			total++
			if (val["signed-by"] == "" || val["signed-by"] ~ keep) {
				out = "Types: deb-src\n"
				for (i = 1; i <= nf; i++)
					if (key[i] != "types" && key[i] != "architectures")
						out = out text[i] "\n"
				printf "%s\n", out
			}
		}
	}
	nf = 0
	split("", val)
}
/^#/ { next }
/^[ \t]*$/ { flush(); next }
/^[ \t]/ {
	if (nf > 0) { text[nf] = text[nf] "\n" $0; val[key[nf]] = val[key[nf]] "\n" $0 }
	next
}
{
	c = index($0, ":")
	if (c == 0) next
	nf++
	key[nf] = tolower(substr($0, 1, c - 1))
	text[nf] = $0
	v = substr($0, c + 1); sub(/^[ \t]+/, "", v)
	val[key[nf]] = v
}
END { flush(); if (total > 0) print total > countfile }
'

countdir=$aptdir/count
rm -rf -- "$countdir"
mkdir -p -- "$countdir"
oneline_out=$partsdir/debsrc.list.new
deb822_out=$partsdir/debsrc.sources.new
: >"$oneline_out"
: >"$deb822_out"

shopt -s nullglob
list_files=()
[[ -f $sl ]] && list_files+=("$sl")
list_files+=("$sp"/*.list)
sources_files=("$sp"/*.sources)
shopt -u nullglob

if [[ ${#list_files[@]} -gt 0 ]]; then
	awk -v keep="$keep_re" -v countfile="$countdir/oneline" "$oneline_awk" \
		"${list_files[@]}" >"$oneline_out" || die "cannot parse apt sources in ${list_files[*]}"
fi
for f in ${sources_files[@]+"${sources_files[@]}"}; do
	# One awk run per file so a stanza never spans two files.
	awk -v keep="$keep_re" -v countfile="$countdir/${f##*/}" "$deb822_awk" \
		"$f" >>"$deb822_out" || die "cannot parse apt sources file '$f'"
done

found=0
for c in "$countdir"/*; do
	[[ -f $c ]] && found=$((found + $(<"$c")))
done
rm -rf -- "$countdir"

if [[ ! -s $oneline_out && ! -s $deb822_out ]]; then
	rm -f -- "$oneline_out" "$deb822_out"
	if [[ $found -eq 0 ]]; then
		die "no 'deb' entries found in $sl or $sp/*.{list,sources}; add a Debian archive source there, or vendor $pkg's sources into '$target' by hand"
	fi
	die "none of the $found 'deb' entries in $sl or $sp/*.{list,sources} is a Debian archive (no Signed-By, or Signed-By a debian-archive keyring); add one, or vendor $pkg's sources into '$target' by hand"
fi
for f in debsrc.list debsrc.sources; do
	if [[ -s $partsdir/$f.new ]]; then
		mv -f -- "$partsdir/$f.new" "$partsdir/$f"
	else
		rm -f -- "$partsdir/$f.new" "$partsdir/$f"
	fi
done

# ---------------------------------------------------------------------------
# Private apt run.
# ---------------------------------------------------------------------------
# Extra config read after the system's: drop update hooks (they would touch
# system state, e.g. periodic stamps or the AppStream cache).
conf=$aptdir/apt.conf
cat >"$conf" <<'EOF'
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
#clear APT::Update::Auth-Failure;
EOF

apt_opts=(
	-qq
	-c "$conf"
	-o Dir::Etc::SourceList=/dev/null
	-o "Dir::Etc::SourceParts=$partsdir"
	-o "Dir::State::Lists=$listsdir"
	-o "Dir::Cache=$cachedir"
	-o Dir::Cache::pkgcache=
	-o Dir::Cache::srcpkgcache=
	-o APT::Update::Error-Mode=any
)
# As root, apt drops privileges to _apt for downloads, which cannot write to
# root-owned private dirs and would warn; download as root instead (files are
# still verified against the signed Release/Sources indices).
if [[ $(id -u) -eq 0 ]]; then
	apt_opts+=(-o APT::Sandbox::User=root)
fi

: >"$log"
LC_ALL=C apt-get "${apt_opts[@]}" update >>"$log" 2>&1 ||
	die_log "$log" "apt-get update failed for the deb-src entries in '$partsdir' (derived from $sl and $sp; full log: $log); check network access to the archive and that the entries are valid"

stage=$aptdir/work-$pkg
rm -rf -- "$stage"
mkdir -p -- "$stage"
trap 'rm -rf -- "$stage"' EXIT

(cd -- "$stage" && LC_ALL=C apt-get "${apt_opts[@]}" --only-source source "$pkg") >>"$log" 2>&1 ||
	die_log "$log" "apt-get source '$pkg' failed (full log: $log); check that '$pkg' is a Debian *source* package name (not a binary package name) available in the suites listed in '$partsdir'"

shopt -s nullglob
dscs=("$stage"/*.dsc)
dirs=()
for d in "$stage"/*/; do dirs+=("${d%/}"); done
shopt -u nullglob
[[ ${#dscs[@]} -eq 1 && ${#dirs[@]} -eq 1 ]] ||
	die "unexpected result of apt-get source '$pkg' in '$stage' (${#dscs[@]} .dsc, ${#dirs[@]} directories); see $log"
src=${dirs[0]}
version=$(sed -n 's/^Version:[[:space:]]*//p' "${dscs[0]}" | head -n 1)
format=$(cat "$src/debian/source/format" 2>/dev/null || echo "1.0")

# For 3.0 (quilt), dpkg-source applies debian/patches/series; make sure it did.
npatches=0
if [[ $format == "3.0 (quilt)" && -f $src/debian/patches/series ]]; then
	npatches=$(grep -cvE '^[[:space:]]*(#|$)' "$src/debian/patches/series" || true)
	if [[ $npatches -gt 0 ]]; then
		applied=0
		[[ -f $src/.pc/applied-patches ]] && applied=$(grep -c . "$src/.pc/applied-patches" || true)
		[[ $applied -eq $npatches ]] ||
			die "only $applied of $npatches Debian patches were applied to '$pkg' in '$src'; see $log"
	fi
fi

printf 'package=%s\nversion=%s\nformat=%s\npatches=%s\n' \
	"$pkg" "$version" "$format" "$npatches" >"$src/$stamp_name"
mv -- "$src" "$target"
printf '%s: %s %s unpacked into %s (%s Debian patches applied)\n' \
	"$prog" "$pkg" "$version" "$target" "$npatches"

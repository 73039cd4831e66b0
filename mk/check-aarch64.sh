#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check-aarch64.sh WRAPP VERSION
#
# What can be checked of the aarch64 build on an x86_64 machine: the ELF
# header (ELF64, AArch64, no interpreter, no dynamic section: static), then,
# under qemu-aarch64 (user mode), --version and a run as a plain init
# streaming to a real redis-server: a line, a metric marker and the exit
# status. qemu-user implements neither ptrace nor PR_SET_CHILD_SUBREAPER, so
# the run has crash supervision and the subreaper turned off; those paths
# need a real aarch64 machine.
set -euo pipefail
prog=check-aarch64
wrapp=${1:?usage: mk/check-aarch64.sh build/aarch64/wrapp VERSION}
version=${2:?usage: mk/check-aarch64.sh build/aarch64/wrapp VERSION}
fail() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }

header=$(LC_ALL=C readelf -h "$wrapp" | tr -s ' ')
if ! grep -q 'Class: ELF64' <<<"$header" || ! grep -q 'Machine: AArch64' <<<"$header"; then
	fail "$wrapp is not an ELF64 AArch64 file"
fi
grep -q 'Type: EXEC' <<<"$header" || fail "$wrapp is not an executable (ET_EXEC)"
if LC_ALL=C readelf -l "$wrapp" | grep -q -e INTERP -e DYNAMIC; then
	fail "$wrapp has an interpreter or a dynamic section: not static"
fi
command -v qemu-aarch64 >/dev/null || fail "qemu-aarch64 not found; apt-get install qemu-user"
got=$(qemu-aarch64 "$wrapp" --version)
[[ $got == "tini version ${version}_wrapp" ]] || fail "qemu-aarch64 $wrapp --version printed \"$got\""
echo "$prog: $wrapp: static ELF64 AArch64 executable; --version under qemu-aarch64: $got"

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
	echo "$prog: skipped the Redis run: redis-server or redis-cli not installed (make deps)"
	exit 0
fi
work=$(mktemp -d)
redis_pid=
cleanup() { [[ -n $redis_pid ]] && kill "$redis_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
	--loglevel warning >/dev/null &
redis_pid=$!
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
printf '{"output": {"spool_dir": "%s/spool"}}\n' "$work" >"$work/wrapp.json"
set +e
WRAPP_REDIS_URL=redis://127.0.0.1:$port WRAPP_STREAM_NAME=aarch64 WRAPP_CRASH=0 WRAPP_SUBREAPER=0 \
	timeout 60 qemu-aarch64 "$wrapp" -c "$work/wrapp.json" -- \
	/bin/sh -c 'echo "hello from aarch64{{runs}}"; exit 3' >"$work/out" 2>"$work/err"
rc=$?
set -e
[[ $rc -eq 3 ]] || fail "the run under qemu-aarch64 exited $rc, not 3: $(cat "$work/err")"
lines=$(redis-cli -p "$port" -n 1 XRANGE logs:app:aarch64:info - + | grep -c '^hello from aarch64$' || true)
runs=$(redis-cli -p "$port" -n 2 GET wrapp:aarch64:runs)
[[ $lines -eq 1 && $runs == 1 ]] ||
	fail "Redis after the run under qemu-aarch64: $lines lines, wrapp:aarch64:runs=$runs; $(cat "$work/err")"
echo "$prog: under qemu-aarch64, as a plain init: the app's line in logs:app:aarch64:info," \
	"its marker in DB 2, exit status 3"

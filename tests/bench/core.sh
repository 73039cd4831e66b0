#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# core.sh WRAPP_BINARY CRASHAPP_BINARY: wrapp's own ELF core against gcore
# and the kernel's dump, for one app with 9 threads and 256 MiB / 2 GiB of
# written heap ("crashapp hog MB 8"), in the same run, interleaved:
#   wrapp   the app under wrapp gets SIGUSR1, whose handler writes through
#           NULL: the core's write time as wrapp reports it, its apparent
#           and allocated size;
#   gcore   gcore -o FILE PID on the same app left running: wall time;
#   kernel  core_pattern set to this run's directory for the kernel runs
#           only (restored on exit, whatever happens), RLIMIT_CORE unlimited,
#           the same SIGUSR1: wall time from the kill to the reaped exit.
# Page cache dropped before each dump; the order rotates every repeat.
# Medians of BENCH_REPEATS (default 3);
# BENCH_QUICK=1: one repeat, 256 MiB only. Exit 0 once measured.

set -euo pipefail

WRAPP=${1:?usage: core.sh WRAPP CRASHAPP}
APP=${2:?usage: core.sh WRAPP CRASHAPP}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

REPEATS=${BENCH_REPEATS:-3}
SIZES=${BENCH_SIZES:-256 2048}
if [ "${BENCH_QUICK:-0}" = 1 ]; then
    REPEATS=1 SIZES=256
fi
command -v gcore >/dev/null || { log "core.sh: gcore is missing (make deps: gdb)"; exit 1; }
WORK=$(mktemp -d /var/tmp/wrapp-corebench.XXXXXX)
PATTERN=$(cat /proc/sys/kernel/core_pattern)
REDIS=
restore() {
    echo "$PATTERN" >/proc/sys/kernel/core_pattern
    [ -z "$REDIS" ] || kill "$REDIS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap restore EXIT

now_ms() {
    date +%s.%N | awk '{ printf "%.3f", $1 * 1000 }'
}

drop_caches() {
    sync
    echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
}

sizes() { # FILE: "apparent allocated" in MB
    stat -c '%s %b %B' "$1" | awk '{ printf "%.1f %.1f", $1 / 1048576, $2 * $3 / 1048576 }'
}

run_wrapp() {
    rm -rf "$WORK/crashes"
    start_hog "$1" wrapp
    drop_caches
    kill -USR1 "$HOG_PID"
    wait "$HOG_TOP" 2>/dev/null || true
    local ms f
    ms=$(sed -n 's/.*threads, \([0-9.]*\) ms.*/\1/p' "$WORK/hog.err" | head -n 1)
    f=$(find "$WORK/crashes" -name core | head -n 1 || true)
    [ -n "$f" ] && [ -n "$ms" ] || { log "core.sh: no core from wrapp"; cat "$WORK/hog.err" >&2; exit 1; }
    echo "$ms $(sizes "$f")"
}

run_gcore() {
    start_hog "$1"
    drop_caches
    local t0 t1
    t0=$(now_ms)
    gcore -o "$WORK/gcore" "$HOG_PID" >/dev/null 2>&1 || true
    t1=$(now_ms)
    kill -KILL "$HOG_PID" 2>/dev/null || true
    wait "$HOG_TOP" 2>/dev/null || true
    echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') $(sizes "$WORK/gcore.$HOG_PID")"
    rm -f "$WORK/gcore.$HOG_PID"
}

run_kernel() {
    echo "$WORK/kcore.%p" >/proc/sys/kernel/core_pattern
    start_hog "$1" kernel
    drop_caches
    local t0 t1
    t0=$(now_ms)
    kill -USR1 "$HOG_PID"
    wait "$HOG_TOP" 2>/dev/null || true
    t1=$(now_ms)
    echo "$PATTERN" >/proc/sys/kernel/core_pattern
    [ -f "$WORK/kcore.$HOG_PID" ] || { log "core.sh: the kernel wrote no core"; exit 1; }
    echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') $(sizes "$WORK/kcore.$HOG_PID")"
    rm -f "$WORK/kcore.$HOG_PID"
}

log "== ELF core: 9 threads, written heap; $REPEATS repeat(s), medians; times in ms, sizes in MB"
printf '%-6s %-7s %10s %10s %10s\n' heap who time apparent allocated
for mb in $SIZES; do
    declare -A T=() A=() L=()
    for ((r = 0; r < REPEATS; r++)); do
        # The order rotates: on this VM the first big write after memory
        # was freed is slower (the host faults the guest's pages in).
        order=(wrapp gcore kernel wrapp gcore)
        for who in "${order[@]:r%3:3}"; do
            read -r t a l < <("run_$who" "$mb")
            T[$who]+="$t " A[$who]+="$a " L[$who]+="$l "
        done
    done
    for who in wrapp gcore kernel; do
        # shellcheck disable=SC2086
        printf '%-6s %-7s %10s %10s %10s\n' "${mb}M" "$who" "$(fmt "$(median ${T[$who]})")" \
            "$(fmt "$(median ${A[$who]})")" "$(fmt "$(median ${L[$who]})")"
    done
    # shellcheck disable=SC2086
    printf '%-6s wrapp/gcore time %sx (target <= 0.5), wrapp/kernel time %sx (<= 1.0), size %sx (<= 1.0)\n' \
        "${mb}M" "$(ratio "$(median ${T[wrapp]})" "$(median ${T[gcore]})")" \
        "$(ratio "$(median ${T[wrapp]})" "$(median ${T[kernel]})")" \
        "$(ratio "$(median ${A[wrapp]})" "$(median ${A[kernel]})")"
    unset T A L
done
log "(wrapp: the core's write time as wrapp logs it; kernel: kill -> exit reaped, the dump inside)"

# The upload (crash.core redis) to a private redis-server on loopback: the
# rate wrapp logs (core bytes per second of compressing and sending).
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
    --loglevel warning >/dev/null 2>&1 &
REDIS=$!
until redis-cli -p "$PORT" ping >/dev/null 2>&1; do sleep 0.05; done
printf '{"output": {"spool_dir": "%s/spool"}}\n' "$WORK" >"$WORK/up.json"
log "== core upload to Redis (zstd, 1 MiB chunks), $REPEATS repeat(s), medians"
printf '%-6s %12s %14s\n' heap "MB/s" "compressed"
for mb in $SIZES; do
    rates=() sizes=()
    for ((r = 0; r < REPEATS; r++)); do
        rm -rf "$WORK/crashes"
        redis-cli -p "$PORT" -n 3 FLUSHDB >/dev/null
        WRAPP_REDIS_URL=redis://127.0.0.1:$PORT WRAPP_CORE=redis WRAPP_STREAM_NAME=bench \
            WRAPP_CRASH_DIR="$WORK/crashes" "$WRAPP" -v -c "$WORK/up.json" -- "$APP" hog "$mb" 8 \
            >"$WORK/up.out" 2>"$WORK/up.err" &
        top=$!
        for ((i = 0; i < 12000; i++)); do grep -q '^ready' "$WORK/up.out" && break; sleep 0.01; done
        sleep 0.3
        kill -USR1 "$(awk '/^ready/ { print $2 }' "$WORK/up.out")"
        wait "$top" 2>/dev/null || true
        line=$(grep ' uploaded: ' "$WORK/up.err" | head -n 1)
        rates+=("$(sed -n 's/.*(\([0-9.]*\) MB\/s).*/\1/p' <<<"$line")")
        sizes+=("$(sed -n 's/.*uploaded: [^>]*-> \([^ ]* [A-Za-z]*\) in.*/\1/p' <<<"$line")")
    done
    printf '%-6s %12s %14s\n' "${mb}M" "$(fmt "$(median "${rates[@]}")" 0)" "${sizes[0]:-?}"
done
kill "$REDIS" 2>/dev/null || true
wait "$REDIS" 2>/dev/null || true

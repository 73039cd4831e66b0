#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# fleet.sh WRAPP_BINARY TESTAPP_BINARY: many wrapps sharing one Redis. On a
# private redis-server (127.0.0.1, a free port, no persistence) it measures
#   ceiling  redis-benchmark on ONE connection: XADD MAXLEN ~ 1000 with an
#            80-byte line, pipeline 1 and pipeline 256 (wrapp batches);
#   fleet    N = 1, 10, 100 wrapps (not PID 1, no ptrace), each streaming
#            "testapp lines" at FLEET_RATE lines/s for FLEET_SECONDS:
#            aggregate delivered lines/s, redis-server CPU (from
#            /proc/PID/stat over the run), and per-line latency p50/p99
#            (Redis entry ID time minus the line's "ts", when wrapp read it;
#            one clock), the worst instance's p99 and the median one's.
# The last column projects how many such instances one Redis core serves:
# the delivered rate divided by Redis CPU, over the per-instance rate.
# Knobs: FLEET_NS ("1 10 100"), FLEET_RATE (lines/s per instance, 1000),
# FLEET_SECONDS (10), REDIS_SERVER, REDIS_BENCHMARK, REDIS_CLI, PYTHON.

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
WRAPP=${1:?usage: fleet.sh WRAPP TESTAPP}
TESTAPP=${2:?usage: fleet.sh WRAPP TESTAPP}
NS=${FLEET_NS:-1 10 100}
RATE=${FLEET_RATE:-1000}
SECS=${FLEET_SECONDS:-10}
PYTHON=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d /tmp/wrapp-fleet.XXXXXX)
port=$($PYTHON -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
${REDIS_SERVER:-redis-server} --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$work" --maxclients 10000 --loglevel warning >"$work/redis.log" 2>&1 &
rpid=$!
cleanup() {
    kill "$rpid" 2>/dev/null || true
    wait "$rpid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 100); do ${REDIS_CLI:-redis-cli} -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
line=$(printf 'x%.0s' $(seq 80))

log "fleet: redis-benchmark, one connection"
for p in 1 256; do
    t0=$(cpu_ticks "$rpid"); s0=$(date +%s.%N)
    rps=$(${REDIS_BENCHMARK:-redis-benchmark} -p "$port" -c 1 -P "$p" -n 200000 -q \
        XADD bench:c1 MAXLEN '~' 1000 '*' message "$line" | tr '\r' '\n' |
        sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' | tail -1)
    t1=$(cpu_ticks "$rpid"); s1=$(date +%s.%N)
    cpu=$(awk -v a="$t0" -v b="$t1" -v s="$s0" -v e="$s1" -v hz="$hz" \
        'BEGIN { printf "%.0f", 100 * (b - a) / hz / (e - s) }')
    eval "rb_$p=$rps rbcpu_$p=$cpu"
done

cat >"$work/cfg.json" <<JSON
{"redis": {"maxlen": 0, "url": "redis://127.0.0.1:$port"},
 "output": {"passthrough": false, "spool_dir": "$work/spool"},
 "crash": {"enabled": false}}
JSON

measure() { # N: prints "lines secs cpu% p50 p99med p99worst"
    local n=$1 i pids=() t0 t1 s0 s1
    ${REDIS_CLI:-redis-cli} -p "$port" flushall >/dev/null
    t0=$(cpu_ticks "$rpid"); s0=$(date +%s.%N)
    for ((i = 0; i < n; i++)); do
        WRAPP_STREAM_NAME="fleet$i" "$WRAPP" -c "$work/cfg.json" -- \
            "$TESTAPP" lines $((RATE * SECS)) "$SECS" 80 >/dev/null 2>&1 &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || true; done
    t1=$(cpu_ticks "$rpid"); s1=$(date +%s.%N)
    $PYTHON - "$port" "$n" "$s0" "$s1" "$t0" "$t1" "$hz" <<'PY'
import sys, redis
port, n, s0, s1, t0, t1, hz = sys.argv[1:]
n = int(n); secs = float(s1) - float(s0)
c = redis.Redis(port=int(port), db=1)
total, lat, p99s = 0, [], []
for i in range(n):
    key = f"logs:app:fleet{i}:info"
    total += c.xlen(key)
    mine = []
    start = "-"
    while True:
        got = c.xrange(key, start, "+", count=20000)
        for eid, f in got:
            if b"ts" in f:
                mine.append(int(eid.split(b"-")[0]) - int(f[b"ts"]) / 1000)
        if len(got) < 20000:
            break
        start = "(" + got[-1][0].decode()
    mine.sort()
    if mine:
        p99s.append(mine[int(len(mine) * 0.99)])
    lat += mine
lat.sort(); p99s.sort()
q = lambda v, f: v[min(len(v) - 1, int(len(v) * f))] if v else float("nan")
cpu = 100 * (int(t1) - int(t0)) / int(hz) / secs
print(f"{total} {secs:.1f} {cpu:.0f} {q(lat, .5):.2f} {q(p99s, .5):.2f} {q(p99s, 1):.2f}")
PY
}

printf '\n%s\n' "Fleet: N wrapps x $RATE lines/s each, $SECS s, one redis-server (port $port)"
printf '| %-28s | %12s | %9s | %9s | %12s | %13s | %16s |\n' "run" "lines/s" "Redis CPU" \
    "p50 ms" "p99 ms (med)" "p99 ms (worst)" "instances/core"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' "------------------------------" "--------------" "-----------" \
    "-----------" "--------------" "---------------" "------------------"
printf '| %-28s | %12s | %8s%% | %9s | %12s | %13s | %16s |\n' "redis-benchmark c=1 P=1" \
    "$(fmt "$rb_1" 0)" "$rbcpu_1" "" "" "" ""
printf '| %-28s | %12s | %8s%% | %9s | %12s | %13s | %16s |\n' "redis-benchmark c=1 P=256" \
    "$(fmt "$rb_256" 0)" "$rbcpu_256" "" "" "" ""
for n in $NS; do
    log "fleet: N=$n"
    read -r lines secs cpu p50 p99m p99w < <(measure "$n")
    rate=$(awk -v l="$lines" -v s="$SECS" 'BEGIN { printf "%.0f", l / s }')
    per_core=$(awk -v r="$rate" -v c="$cpu" -v k="$RATE" \
        'BEGIN { if (c > 0) printf "%.0f", r / (c / 100) / k; else print "n/a" }')
    printf '| %-28s | %12s | %8s%% | %9s | %12s | %13s | %16s |\n' "wrapp N=$n ($lines lines)" \
        "$rate" "$cpu" "$p50" "$p99m" "$p99w" "$per_core"
done

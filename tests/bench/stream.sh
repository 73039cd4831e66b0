#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# stream.sh WRAPP_BINARY TESTAPP_BINARY: how fast wrapp streams an app's
# lines into Redis, against a ceiling and a baseline measured in the same
# run on a private redis-server (127.0.0.1, a free port, no persistence):
#   ceiling   redis-benchmark, one connection, pipeline 256, XADD MAXLEN ~ 1000
#             (and, for information, XADD with wrapp's 6 fields and no MAXLEN);
#   baseline  synclog: one synchronous XADD per line (what the Go wrapp does);
#   wrapp     streaming "testapp lines N 0 80" with maxlen 0: delivered lines/s
#             end to end (fork of wrapp -> Redis ID of the stream's last line),
#             wrapp's own CPU time per line and VmHWM (runstat); once with the
#             default output queue and once with a big one (no drops);
#   latency   line -> XREAD reader at RATE lines/s (linelat), p50/p99/max.
# Throughput runs are interleaved (order rotated every repeat), medians are
# printed with ratios and targets; exit 0 once measured.

set -euo pipefail

# Knobs (environment): BENCH_BUILD (build dir, default build/bench relative
# to the repo root), BENCH_QUICK=1 (smoke run, about half a minute),
# BENCH_REPEATS, BENCH_LINES (wrapp run), BENCH_RB_N (redis-benchmark -n),
# BENCH_SYNC_LINES, BENCH_LAT_RATE, BENCH_LAT_SECONDS, BENCH_BIG_QUEUE
# (output.queue_max_bytes of the second wrapp run, 0 skips it), BENCH_PIN,
# BENCH_REDIS_CPU, BENCH_CLIENT_CPU, CC, PYTHON (with the redis module),
# REDIS_SERVER, REDIS_BENCHMARK, REDIS_CLI.
#
# Pinning (BENCH_PIN).  On this 2-vCPU VM a wake-up across CPUs is costly:
# with redis-server on CPU 0 and the client on CPU 1 the synchronous loop
# ran at 9-16 k lines/s against ~52 k/s on the same CPU, redis-benchmark at
# 450 k/s against 750 k/s; unpinned, the loop flipped between the two from
# one repeat to the next.  So the default, "redis", pins redis-server to
# BENCH_REDIS_CPU and the two references (redis-benchmark, synclog) to the
# same CPU: their best and most stable case, which makes the targets
# conservative.  wrapp is not pinned: its reader thread, writer thread and
# the app need both CPUs (squeezed onto the other CPU it took twice as
# long), and the latency reader floats too.  For information the loop is
# also run on BENCH_CLIENT_CPU, across CPUs.  "split" pins redis-server to
# BENCH_REDIS_CPU and every client to BENCH_CLIENT_CPU (the info row then
# runs on the Redis CPU); "none" pins nothing.  Nothing puts wrapp and
# Redis on one CPU only: the writer thread and Redis would starve each other.

usage() {
    echo "usage: $0 WRAPP_BINARY TESTAPP_BINARY" >&2
    exit 2
}

[[ $# -eq 2 ]] || usage

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/bench/lib.sh
source "$script_dir/lib.sh"
repo_root=$(cd "$script_dir/../.." && pwd)

if [[ ${BENCH_QUICK:-0} == 1 ]]; then
    def_repeats=1 def_sync=30000 def_lat_s=5
else
    def_repeats=3 def_sync=100000 def_lat_s=10
fi
repeats=${BENCH_REPEATS:-$def_repeats}
lines=${BENCH_LINES:-2000000}
rb_n=${BENCH_RB_N:-2000000}
sync_lines=${BENCH_SYNC_LINES:-$def_sync}
lat_rate=${BENCH_LAT_RATE:-1000}
lat_seconds=${BENCH_LAT_SECONDS:-$def_lat_s}
big_queue=${BENCH_BIG_QUEUE:-2147483648}
pin_mode=${BENCH_PIN:-redis}
redis_cpu=${BENCH_REDIS_CPU:-0}
client_cpu=${BENCH_CLIENT_CPU:-1}
python=${PYTHON:-/usr/bin/python3}
redis_server=${REDIS_SERVER:-redis-server}
redis_benchmark=${REDIS_BENCHMARK:-redis-benchmark}
redis_cli=${REDIS_CLI:-redis-cli}
build=${BENCH_BUILD:-build/bench}
[[ $build == /* ]] || build=$repo_root/$build

for n in "$repeats" "$lines" "$rb_n" "$sync_lines" "$lat_rate" "$lat_seconds"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "stream: bad count '$n'" >&2; exit 2; }
done
[[ $big_queue =~ ^[0-9]+$ ]] || { echo "stream: bad BENCH_BIG_QUEUE '$big_queue'" >&2; exit 2; }
case $pin_mode in
redis | split | none) ;;
*) echo "stream: BENCH_PIN must be redis, split or none" >&2; exit 2 ;;
esac

abs_exe() {
    if [[ ! -x $1 || -d $1 ]]; then
        echo "stream: '$1' is not an executable file" >&2
        exit 2
    fi
    echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
}
wrapp=$(abs_exe "$1")
testapp=$(abs_exe "$2")

# The 80-byte line of the ceiling (testapp's and synclog's lines are 79
# bytes plus the newline wrapp strips: one byte apart, immaterial).
payload=$(printf '%080d' 0 | tr 0 x)

declare -A val samples
tmp=""
redis_pid=""
port=""

# ---- helpers -------------------------------------------------------------

# add KEY VALUE: one more sample of KEY (skipped if empty).
add() {
    [[ -n $2 ]] && samples[$1]+="$2 "
    return 0
}

# med KEY: the median of KEY's samples into val[KEY].
med() {
    # shellcheck disable=SC2086 # word splitting wanted
    [[ -n ${samples[$1]:-} ]] && val[$1]=$(median ${samples[$1]})
    return 0
}

rcli() {
    "$redis_cli" -h 127.0.0.1 -p "$port" "$@"
}

flush() {
    rcli flushall >/dev/null
}

# ---- setup ---------------------------------------------------------------

build_tools() {
    local cc=${CC:-gcc} tool
    local cflags=(-std=gnu17 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wshadow
        -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla -Wundef
        -Wwrite-strings -Wimplicit-fallthrough)

    mkdir -p "$build"
    "$cc" "${cflags[@]}" -o "$build/runstat" "$script_dir/runstat.c"
    for tool in synclog linelat; do
        "$cc" "${cflags[@]}" -o "$build/$tool" "$script_dir/$tool.c" -lhiredis
    done
}

check_tools() {
    local t
    for t in "$redis_server" "$redis_benchmark" "$redis_cli"; do
        command -v "$t" >/dev/null || { echo "stream: $t not found" >&2; exit 2; }
    done
    "$python" -c 'import redis' 2>/dev/null ||
        { echo "stream: $python has no redis module (python3-redis)" >&2; exit 2; }
}

# pin_redis: redis-server; pin_ref: the references; pin_client: wrapp, its
# app and the latency reader; pin_other (empty: skip): the info run of the
# synchronous loop on the other placement, described by other_label.
setup_pinning() {
    pin_redis=() pin_ref=() pin_client=() pin_other=() other_label=""
    if [[ $pin_mode == none ]]; then
        echo "pinning: none (BENCH_PIN=none)"
        return 0
    fi
    if ! taskset -c "$redis_cpu" true 2>/dev/null; then
        echo "pinning: none (taskset -c $redis_cpu failed)"
        return 0
    fi
    pin_redis=(taskset -c "$redis_cpu")
    if ! taskset -c "$client_cpu" true 2>/dev/null || [[ $client_cpu == "$redis_cpu" ]]; then
        pin_ref=("${pin_redis[@]}")
        echo "pinning: redis-server and the references on CPU $redis_cpu, wrapp unpinned" \
            "(no second CPU $client_cpu)"
        return 0
    fi
    if [[ $pin_mode == redis ]]; then
        pin_ref=("${pin_redis[@]}") pin_other=(taskset -c "$client_cpu")
        other_label="on CPU $client_cpu, across CPUs"
        echo "pinning: redis-server, redis-benchmark and synclog on CPU $redis_cpu;" \
            "wrapp, its app and the latency reader unpinned (BENCH_PIN=redis)"
    else
        pin_ref=(taskset -c "$client_cpu") pin_client=(taskset -c "$client_cpu")
        pin_other=("${pin_redis[@]}") other_label="on CPU $redis_cpu, with Redis"
        echo "pinning: redis-server on CPU $redis_cpu, every client on CPU $client_cpu" \
            "(BENCH_PIN=split)"
    fi
}

# Our own redis-server on a random free loopback port: a port somebody
# else holds makes ours exit (or answer with another process_id), and the
# next port is tried.
start_redis() {
    local try p i
    for ((try = 0; try < 20; try++)); do
        p=$((20000 + RANDOM % 30000))
        "${pin_redis[@]}" "$redis_server" --port "$p" --bind 127.0.0.1 --save '' \
            --appendonly no --daemonize no --dir "$tmp" --logfile "$tmp/redis.log" &
        redis_pid=$!
        port=$p
        for ((i = 0; i < 100; i++)); do
            kill -0 "$redis_pid" 2>/dev/null || break
            if [[ $(rcli info server 2>/dev/null | tr -d '\r' |
                sed -n 's/^process_id://p') == "$redis_pid" ]]; then
                echo "redis: 127.0.0.1:$port pid $redis_pid" \
                    "($("$redis_server" --version | awk '{ sub(/^v=/, "", $3); print $3 }'))"
                return 0
            fi
            sleep 0.05
        done
        stop_pid "$redis_pid"
        redis_pid=""
    done
    echo "stream: cannot start redis-server on a loopback port" >&2
    exit 1
}

cleanup() {
    [[ -n $redis_pid ]] && stop_pid "$redis_pid"
    [[ -n $tmp ]] && rm -rf "$tmp"
    return 0
}

# ---- 1. ceiling: redis-benchmark -----------------------------------------

# rb KEY XADD-ARGS...: one redis-benchmark run into samples[KEY].
rb() {
    local key=$1 out rps
    shift
    out=$(timeout 300 "${pin_ref[@]}" "$redis_benchmark" -h 127.0.0.1 -p "$port" -c 1 \
        -P 256 -n "$rb_n" -q XADD logs:bench "$@" 2>&1 | tr '\r' '\n') || true
    rps=$(grep -o '[0-9.]* requests per second' <<<"$out" | tail -n 1 | awk '{ print $1 }')
    echo "$key rps=${rps:-?}" >>"$raw_log"
    [[ -n $rps ]] || { log "redis-benchmark failed: $(tail -n 2 <<<"$out")"; return 0; }
    add "$key" "$rps"
}

run_rb() {
    rb rb:rps MAXLEN '~' 1000 '*' message "$payload"
}

# For information: the same with the fields wrapp sends and, like wrapp's
# throughput runs, no MAXLEN, so that Redis does the same work per entry.
run_rb_fields() {
    rb rbf:rps '*' message "$payload" fd out ts 1795386673740287 pid 22900 seq 1590193 \
        run 1795386673208536
}

# ---- 2. baseline: one synchronous XADD per line ------------------------

# sync KEY PIN...: one synclog run into samples[KEY].
sync_loop() {
    local key=$1 out
    shift
    if out=$(timeout 300 "$@" "$build/synclog" "$port" logs:sync "$sync_lines" 80); then
        echo "$key $out" >>"$raw_log"
        add "$key" "$(field lines_per_s "$out")"
    else
        echo "$key: synclog failed" | tee -a "$raw_log" >&2
    fi
}

run_sync() {
    sync_loop sync:lps "${pin_ref[@]}"
}

run_sync_other() {
    sync_loop sync_other:lps "${pin_other[@]}"
}

# ---- 3. wrapp streaming testapp ----------------------------------------

# stream_stat KEY START_US: "xlen= delivered= last_index= secs= lines_per_s="
# of wrapp's :info stream: the run markers at both ends are not lines, and
# secs runs from START_US to the ms in the ID of the newest line.
stream_stat() {
    "$python" - "$port" "$1" "$2" <<'EOF'
import sys
import redis

port, key, start_us = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
r = redis.Redis(host="127.0.0.1", port=port, db=1)
xlen = r.xlen(key)
markers, last = 0, None
first = r.xrange(key, count=1)
if first and first[0][1].get(b"message", b"").startswith(b"{{__"):
    markers += 1
for eid, f in r.xrevrange(key, count=4):
    msg = f.get(b"message", b"")
    if msg.startswith(b"{{__"):
        if first and eid != first[0][0]:
            markers += 1
        continue
    last = (eid, msg)
    break
if last is None:
    print("xlen=%d delivered=0" % xlen)
    sys.exit(0)
secs = (int(last[0].split(b"-")[0]) * 1000 - start_us) / 1e6
idx = last[1].split()[1].rstrip(b"x").decode()
n = xlen - markers
print("xlen=%d delivered=%d last_index=%s secs=%.3f lines_per_s=%.0f"
      % (xlen, n, idx, secs, n / secs if secs > 0 else 0))
EOF
}

# run_wrapp VARIANT CONFIG_JSON R
run_wrapp() {
    local v=$1 cfg=$tmp/wrapp-$1.json name=bench-$1-$3 st stat drops cpu_ms
    local spool=$tmp/spool-$1-$3
    mkdir -p "$spool"
    echo "${2//@SPOOL@/$spool}" >"$cfg"
    if ! WRAPP_STREAM_NAME=$name WRAPP_REDIS_URL=redis://127.0.0.1:$port timeout 600 \
        "$build/runstat" "$tmp/runstat.out" "${pin_client[@]}" "$wrapp" -c "$cfg" -- \
        "$testapp" lines "$lines" 0 80 >"$tmp/wrapp.out" 2>"$tmp/wrapp.err"; then
        echo "wrapp $v: runstat failed: $(tail -n 3 "$tmp/wrapp.err")" | tee -a "$raw_log" >&2
        rm -rf "$spool"
        flush
        return 0
    fi
    st=$(cat "$tmp/runstat.out")
    stat=$(stream_stat "logs:app:$name:info" "$(field start_us "$st")")
    # The last "N lines dropped so far" wrapp reported on its stderr.
    drops=$(sed -n 's/.* \([0-9][0-9]*\) lines dropped so far.*/\1/p' "$tmp/wrapp.err" |
        tail -n 1)
    {
        echo "wrapp $v $st $stat wrapp_dropped=${drops:-0}"
        sed 's/^/  stderr: /' "$tmp/wrapp.err"
    } >>"$raw_log"
    [[ $(field status "$st") == 0 ]] || log "wrapp $v: exit $(field status "$st")"
    cpu_ms=$(field cpu_ms "$st")
    add "$v:lps" "$(field lines_per_s "$stat")"
    add "$v:secs" "$(field secs "$stat")"
    add "$v:delivered" "$(field delivered "$stat")"
    add "$v:cpu_us" "$(awk -v c="$cpu_ms" -v n="$lines" 'BEGIN { print c * 1000 / n }')"
    add "$v:hwm_kb" "$(field hwm_kb "$st")"
    add "$v:wall_ms" "$(field wall_ms "$st")"
    rm -rf "$spool"
    flush
}

run_wrapp_default() {
    run_wrapp default \
        '{"redis": {"maxlen": 0}, "output": {"passthrough": false, "spool_dir": "@SPOOL@"}}' "$1"
}

run_wrapp_big() {
    run_wrapp big "{\"redis\": {\"maxlen\": 0}, \"output\": {\"passthrough\": false,
        \"spool_dir\": \"@SPOOL@\", \"queue_max_bytes\": $big_queue}}" "$1"
}

measure_throughput() {
    local r k v items=(run_rb run_rb_fields run_sync run_wrapp_default)
    ((${#pin_other[@]} > 0)) && items+=(run_sync_other)
    ((big_queue > 0)) && items+=(run_wrapp_big)
    log "throughput: $repeats interleaved repeats of: ${items[*]}"
    for ((r = 0; r < repeats; r++)); do
        for ((k = 0; k < ${#items[@]}; k++)); do
            "${items[(k + r) % ${#items[@]}]}" "$r"
            flush
        done
    done
    for k in rb:rps rbf:rps sync:lps sync_other:lps; do
        med "$k"
    done
    for v in default big; do
        for k in lps secs delivered cpu_us hwm_kb wall_ms; do
            med "$v:$k"
        done
    done
}

# ---- 4. latency at a fixed rate ----------------------------------------

measure_latency() {
    local n=$((lat_rate * lat_seconds)) cfg=$tmp/wrapp-lat.json rpid out st
    local name=bench-lat
    log "latency: $n lines at $lat_rate lines/s"
    mkdir -p "$tmp/spool-lat"
    # Default maxlen (~ 1000) and queue: the production setting.
    echo "{\"output\": {\"passthrough\": false, \"spool_dir\": \"$tmp/spool-lat\"}}" >"$cfg"
    # The reader reads from ID 0, so it may start before wrapp does.
    timeout $((lat_seconds + 60)) "${pin_client[@]}" "$build/linelat" read "$port" \
        "logs:app:$name:info" "$n" $((lat_seconds + 30)) >"$tmp/lat.out" 2>"$tmp/lat.err" &
    rpid=$!
    if ! WRAPP_STREAM_NAME=$name WRAPP_REDIS_URL=redis://127.0.0.1:$port \
        timeout $((lat_seconds + 60)) "${pin_client[@]}" "$wrapp" -c "$cfg" -- \
        "$build/linelat" write "$n" "$lat_rate" >/dev/null 2>"$tmp/wrapp-lat.err"; then
        log "latency: wrapp failed: $(tail -n 3 "$tmp/wrapp-lat.err")"
    fi
    if wait "$rpid"; then
        out=$(cat "$tmp/lat.out")
        val[lat:n]=$(field n "$out")
        val[lat:missing]=$(field missing "$out")
        for st in p50 p99 max; do
            val[lat:$st]=$(field "${st}_ms" "$out")
        done
    else
        log "latency: reader failed: $(cat "$tmp/lat.err")"
        out="failed"
    fi
    {
        echo "lat $out"
        sed 's/^/  stderr: /' "$tmp/wrapp-lat.err"
    } >>"$raw_log"
    flush
}

# ---- report --------------------------------------------------------------

print_wrapp_row() {
    local v=$1 label=$2 lps=${val[$1:lps]:-}
    [[ -n ${samples[$v:lps]:-} ]] || { printf '%-9s %-54s %s\n' wrapp "$label" "no data"; return; }
    printf '%-9s %-54s %9s lines/s  x_ceiling=%s x_sync=%s x_6fields=%s\n' wrapp "$label" \
        "$(fmt "$lps" 0)" "$(ratio "$lps" "${val[rb:rps]:-}")" \
        "$(ratio "$lps" "${val[sync:lps]:-}")" "$(ratio "$lps" "${val[rbf:rps]:-}")"
    printf '%-9s medians: delivered=%s/%s in %s s (exited after %s s), cpu=%s us/line read,' '' \
        "$(fmt "${val[$v:delivered]:-}" 0)" "$lines" "$(fmt "${val[$v:secs]:-}" 3)" \
        "$(fmt "$(awk -v w="${val[$v:wall_ms]:-0}" 'BEGIN { print w / 1000 }')" 3)" \
        "$(fmt "${val[$v:cpu_us]:-}" 3)"
    printf ' VmHWM=%s kB\n' "$(fmt "${val[$v:hwm_kb]:-}" 0)"
}

print_tables() {
    echo
    echo "== throughput (medians of $repeats interleaved repeats) =="
    printf '%-9s %-54s %9s req/s\n' ceiling "redis-benchmark -c 1 -P 256 XADD MAXLEN ~ 1000" \
        "$(fmt "${val[rb:rps]:-}" 0)"
    printf '%-9s %-54s %9s req/s  (info: as wrapp sends them)\n' ceiling \
        "same, 6 fields (message fd ts pid seq run), no MAXLEN" "$(fmt "${val[rbf:rps]:-}" 0)"
    printf '%-9s %-54s %9s lines/s  x_ceiling=%s\n' baseline \
        "synclog: $sync_lines sync XADDs MAXLEN ~ 1000" "$(fmt "${val[sync:lps]:-}" 0)" \
        "$(ratio "${val[sync:lps]:-}" "${val[rb:rps]:-}")"
    [[ -n ${val[sync_other:lps]:-} ]] &&
        printf '%-9s %-54s %9s lines/s  (info: placement matters)\n' baseline \
            "same, $other_label" "$(fmt "${val[sync_other:lps]}" 0)"
    print_wrapp_row default "testapp lines $lines 0 80, maxlen 0"
    ((big_queue > 0)) && print_wrapp_row big "same, queue_max_bytes $big_queue"
    echo
    echo "== latency (line -> XREAD BLOCK reader, $lat_rate lines/s for $lat_seconds s) =="
    if [[ -n ${val[lat:p99]:-} ]]; then
        echo "p50=$(fmt "${val[lat:p50]}" 3) ms p99=$(fmt "${val[lat:p99]}" 3) ms" \
            "max=$(fmt "${val[lat:max]}" 3) ms (lines=${val[lat:n]} missing=${val[lat:missing]})"
    else
        echo "no data"
    fi
}

# target LABEL VALUE OP LIMIT DETAIL: "met" when VALUE OP LIMIT holds.
target() {
    local verdict
    if [[ -z $2 || $2 == n/a ]]; then
        verdict=UNKNOWN
    elif awk -v a="$2" -v b="$4" -v op="$3" \
        'BEGIN { exit !(op == ">=" ? a >= b : a <= b) }'; then
        verdict=met
    else
        verdict=MISSED
    fi
    printf '  %-40s %-7s (target %s %s; %s)\n' "$1" "$verdict" "$3" "$4" "$5"
}

print_summary() {
    local v r lps dropped
    echo
    echo "== summary (targets) =="
    for v in default big; do
        [[ -n ${samples[$v:lps]:-} ]] || continue
        lps=${val[$v:lps]}
        r=$(ratio "$lps" "${val[rb:rps]:-}")
        target "wrapp ($v queue) / redis-benchmark" "$r" ">=" 0.8 \
            "$(fmt "$lps" 0) / $(fmt "${val[rb:rps]:-}" 0) = $r"
        r=$(ratio "$lps" "${val[sync:lps]:-}")
        target "wrapp ($v queue) / synchronous loop" "$r" ">=" 30 \
            "$(fmt "$lps" 0) / $(fmt "${val[sync:lps]:-}" 0) = $r"
        dropped=$(awk -v d="${val[$v:delivered]:-0}" -v n="$lines" 'BEGIN { print n - d }')
        target "wrapp ($v queue) lines lost" "$dropped" "<=" 0 "median $dropped of $lines"
    done
    target "line -> Redis p99 at $lat_rate lines/s" "${val[lat:p99]:-}" "<=" 2 \
        "p99 $(fmt "${val[lat:p99]:-}" 3) ms"
}

main() {
    local t0=$SECONDS
    check_tools
    build_tools
    raw_log=$build/stream-last.log
    : >"$raw_log"
    tmp=$(mktemp -d /tmp/wrapp-stream-bench.XXXXXX)
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    echo "stream: wrapp=$wrapp testapp=$testapp lines=$lines repeats=$repeats" \
        "sync=$sync_lines rb_n=$rb_n lat=${lat_rate}/s x ${lat_seconds} s (raw: $raw_log)"
    setup_pinning
    start_redis
    measure_throughput
    measure_latency
    print_tables
    print_summary
    echo "stream: done in $((SECONDS - t0)) s"
}

main

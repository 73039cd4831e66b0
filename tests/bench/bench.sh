#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench.sh WRAPP_BINARY [ROUNDS]: compares wrapp with tini-static, catatonit
# and dumb-init in one run, interleaving the inits within every metric and
# pinning to one CPU.  Metrics (lower is better): start-up overhead over a
# plain /bin/true, VmRSS of the init, SIGUSR1 forwarding latency, PID-1 CPU
# time to reap orphans, binary size.  Prints each metric with its ratio to
# the best peer plus a target summary; ratios are never asserted (exit 0
# once measured).  Missing peers are reported and skipped.

set -euo pipefail

# Knobs (environment): BENCH_BUILD (build dir, default build/bench relative
# to the repo root), BENCH_QUICK=1 (smoke run, well under a minute),
# BENCH_CPU (CPU to pin to with taskset, default 1; no pinning if taskset
# fails), BENCH_LAT_N, BENCH_LAT_REPEATS, BENCH_RSS_SAMPLES, BENCH_ORPHANS,
# BENCH_REAP_REPEATS, CC, and TINI / CATATONIT / DUMB_INIT to point at other
# peer binaries.
#
# Flags: none are passed to the inits besides "--".  For the runs where the
# init is not PID 1 (overhead, RSS, latency) TINI_SUBREAPER= is exported so
# that tini (and wrapp, which reads the same variable) register as child
# subreaper instead of printing the "not running as PID 1" warning on every
# start.  The reaping runs, where the init is PID 1 of a new pid namespace,
# unset it again.  dumb-init keeps its default (child in a new session,
# signals forwarded to its process group), which is fine for these metrics.

usage() {
    echo "usage: $0 WRAPP_BINARY [ROUNDS]" >&2
    exit 2
}

[[ $# -ge 1 && $# -le 2 ]] || usage

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/bench/lib.sh
source "$script_dir/lib.sh"
repo_root=$(cd "$script_dir/../.." && pwd)

if [[ ${BENCH_QUICK:-0} == 1 ]]; then
    def_rounds=300 def_lat_n=1000 def_lat_rep=5 def_rss=3 def_orphans=2000 def_reap=3
else
    def_rounds=3000 def_lat_n=2000 def_lat_rep=31 def_rss=5 def_orphans=10000 def_reap=5
fi
rounds=${2:-$def_rounds}
lat_n=${BENCH_LAT_N:-$def_lat_n}
lat_repeats=${BENCH_LAT_REPEATS:-$def_lat_rep}
rss_samples=${BENCH_RSS_SAMPLES:-$def_rss}
orphans_n=${BENCH_ORPHANS:-$def_orphans}
reap_repeats=${BENCH_REAP_REPEATS:-$def_reap}
cpu=${BENCH_CPU:-1}
build=${BENCH_BUILD:-build/bench}
[[ $build == /* ]] || build=$repo_root/$build

for n in "$rounds" "$lat_n" "$lat_repeats" "$rss_samples" "$orphans_n" "$reap_repeats"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bench: bad count '$n'" >&2; exit 2; }
done

wrapp=$1
if [[ ! -x $wrapp || -d $wrapp ]]; then
    echo "bench: '$wrapp' is not an executable file" >&2
    exit 2
fi
wrapp=$(cd "$(dirname "$wrapp")" && pwd)/$(basename "$wrapp")

names=(wrapp tini-static catatonit dumb-init)
bins=("$wrapp" "${TINI:-/usr/bin/tini-static}" "${CATATONIT:-/usr/bin/catatonit}"
    "${DUMB_INIT:-/usr/bin/dumb-init}")
peers=(tini-static catatonit dumb-init)
declare -A bin_of val
present=() # names of the inits that exist, in table order

# ---- helpers -------------------------------------------------------------

# rotated K: the present inits, rotated left by K (cheap interleaving).
rotated() {
    local k=$(($1 % ${#present[@]}))
    printf '%s\n' "${present[@]:k}" "${present[@]:0:k}"
}

# ---- setup ---------------------------------------------------------------

build_tools() {
    local cc=${CC:-gcc} tool
    local cflags=(-std=gnu17 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wshadow
        -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla -Wundef
        -Wwrite-strings -Wimplicit-fallthrough)

    mkdir -p "$build"
    for tool in orphans lat startalt; do
        "$cc" "${cflags[@]}" -o "$build/$tool" "$script_dir/$tool.c"
    done
}

find_inits() {
    local i
    for i in "${!names[@]}"; do
        if [[ -x ${bins[i]} && ! -d ${bins[i]} ]]; then
            bin_of[${names[i]}]=${bins[i]}
            present+=("${names[i]}")
        else
            echo "${names[i]}: missing (${bins[i]}), skipped"
        fi
    done
}

setup_pinning() {
    pin=()
    if taskset -c "$cpu" true 2>/dev/null; then
        pin=(taskset -c "$cpu")
        echo "pinning: taskset -c $cpu"
    else
        echo "pinning: none (taskset -c $cpu failed)"
    fi
}

# ---- a. start-up overhead ------------------------------------------------

measure_overhead() {
    local args=(/bin/true) name out line idx direct med
    local -a order=()

    for name in "${present[@]}"; do
        args+=(:: "${bin_of[$name]}" -- /bin/true)
        order+=("$name")
    done
    log "overhead: $rounds interleaved rounds of ${#args[@]} words"
    out=$(timeout 1800 "${pin[@]}" "$build/startalt" "$rounds" "${args[@]}") || {
        echo "overhead: startalt failed"
        return 0
    }
    echo "$out" >>"$raw_log"
    while read -r line; do
        idx=$(field idx "$line")
        med=$(field median_us "$line")
        if ((idx == 0)); then
            direct=$med
            val[direct:start_us]=$med
        else
            val[${order[idx - 1]}:start_us]=$med
        fi
    done <<<"$out"
    for name in "${present[@]}"; do
        val[$name:overhead_us]=$(awk -v a="${val[$name:start_us]}" -v b="$direct" \
            'BEGIN { if (a == "nan") print "nan"; else print a - b }')
    done
}

# ---- b. resident memory --------------------------------------------------

rss_once() {
    local name=$1 pid rss
    "${pin[@]}" "${bin_of[$name]}" -- sleep 5 >/dev/null &
    pid=$!
    sleep 0.3
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    stop_pid "$pid"
    echo "rss $name ${rss:-?}" >>"$raw_log"
    [[ -n $rss ]] && echo "$rss"
}

measure_rss() {
    local s name v
    declare -A samples=()
    log "rss: $rss_samples interleaved samples per init"
    for ((s = 0; s < rss_samples; s++)); do
        for name in $(rotated "$s"); do
            v=$(rss_once "$name") && samples[$name]+="$v "
        done
    done
    for name in "${present[@]}"; do
        # shellcheck disable=SC2086 # word splitting wanted
        [[ -n ${samples[$name]:-} ]] && val[$name:rss_kb]=$(median ${samples[$name]})
    done
}

# ---- c. forwarding latency -----------------------------------------------

measure_lat() {
    local r name out bin
    declare -A meds=()
    log "lat: $lat_repeats interleaved repeats of $lat_n signals (+1 warm-up)"
    # Repeat 0 is a warm-up whose results are logged but not used: the first
    # round was consistently ~20% slower than the rest in our runs.
    for ((r = 0; r <= lat_repeats; r++)); do
        for name in env $(rotated "$r"); do
            bin=${bin_of[$name]:-/usr/bin/env}
            if out=$(timeout 600 "${pin[@]}" "$build/lat" "$lat_n" "$bin" --); then
                echo "lat$((r == 0 ? 0 : 1)) $name $out" >>"$raw_log"
                ((r == 0)) || meds[$name]+="$(field median_us "$out") "
            else
                echo "lat $name: failed" | tee -a "$raw_log" >&2
            fi
        done
    done
    for name in env "${present[@]}"; do
        # shellcheck disable=SC2086 # word splitting wanted
        [[ -n ${meds[$name]:-} ]] && val[$name:lat_us]=$(median ${meds[$name]})
    done
}

# ---- d. reaping cost as PID 1 --------------------------------------------

measure_reap() {
    local r name out
    declare -A cpu_ms=() drain=()
    if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
        echo "reap: unshare --pid unavailable, skipped"
        return 0
    fi
    log "reap: $reap_repeats interleaved repeats of $orphans_n orphans"
    for ((r = 0; r < reap_repeats; r++)); do
        for name in $(rotated "$r"); do
            if out=$(env -u TINI_SUBREAPER timeout 300 "${pin[@]}" unshare --pid --fork \
                --mount-proc "${bin_of[$name]}" -- "$build/orphans" "$orphans_n"); then
                echo "reap $name $out" >>"$raw_log"
                cpu_ms[$name]+="$(field init_cpu_ms "$out") "
                drain[$name]+="$(field drain_ms "$out") "
            else
                echo "reap $name: failed" | tee -a "$raw_log" >&2
            fi
        done
    done
    for name in "${present[@]}"; do
        [[ -n ${cpu_ms[$name]:-} ]] || continue
        # shellcheck disable=SC2086 # word splitting wanted
        val[$name:reap_cpu_ms]=$(median ${cpu_ms[$name]})
        # shellcheck disable=SC2086
        val[$name:drain_ms]=$(median ${drain[$name]})
    done
}

# ---- e. binary size ------------------------------------------------------

measure_size() {
    local name
    for name in "${present[@]}"; do
        val[$name:size_bytes]=$(stat -L -c %s "${bin_of[$name]}")
    done
    cp "$wrapp" "$build/wrapp.stripped"
    if strip "$build/wrapp.stripped" 2>/dev/null; then
        val[wrapp:stripped_bytes]=$(stat -c %s "$build/wrapp.stripped")
    fi
}

# ---- report --------------------------------------------------------------

# best_peer METRIC: prints "NAME VALUE" of the lowest peer value, if any.
best_peer() {
    local name best="" best_name=""
    for name in "${peers[@]}"; do
        local v=${val[$name:$1]:-}
        [[ -n $v && $v != nan ]] || continue
        if [[ -z $best ]] || awk -v a="$v" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best=$v best_name=$name
        fi
    done
    [[ -n $best ]] && echo "$best_name $best"
}

# print_metric METRIC PRECISION [EXTRA]
print_metric() {
    local metric=$1 prec=$2 line name v best
    line=$(printf '%-12s' "$metric")
    for name in "${present[@]}"; do
        v=${val[$name:$metric]:-}
        [[ -n $v ]] && v=$(fmt "$v" "$prec") || v="?"
        line+=" $name=$v"
    done
    if best=$(best_peer "$metric"); then
        line+="  ratio_vs_best=$(ratio "${val[wrapp:$metric]:-}" "${best#* }") (best: ${best%% *})"
    fi
    echo "$line${3:+  $3}"
}

print_tables() {
    local extra
    echo
    echo "== results (lower is better; medians) =="
    extra="(direct /bin/true: $(fmt "${val[direct:start_us]:-nan}") us)"
    print_metric overhead_us 1 "$extra"
    print_metric rss_kb 0
    extra="(baseline /usr/bin/env: $(fmt "${val[env:lat_us]:-nan}" 2) us)"
    print_metric lat_us 2 "$extra"
    print_metric reap_cpu_ms 1 "($orphans_n orphans)"
    print_metric drain_ms 2 "(info only)"
    extra=""
    [[ -n ${val[wrapp:stripped_bytes]:-} ]] &&
        extra="(wrapp stripped: ${val[wrapp:stripped_bytes]})"
    print_metric size_bytes 0 "$extra"
}

# target LABEL VALUE REFERENCE REF_NAME
target() {
    local r verdict
    r=$(ratio "$2" "$3")
    if [[ $r == n/a ]]; then
        verdict="UNKNOWN"
    elif awk -v r="$r" 'BEGIN { exit !(r <= 1.0) }'; then
        verdict="met"
    else
        verdict="MISSED"
    fi
    printf '  %-12s wrapp/%-12s = %-5s target <= 1.00  %s\n' "$1" "$4" "$r" "$verdict"
}

print_summary() {
    local metric best
    echo
    echo "== summary (targets) =="
    for metric in overhead_us lat_us reap_cpu_ms; do
        best=$(best_peer "$metric") || best="none nan"
        target "$metric" "${val[wrapp:$metric]:-}" "${best#* }" "${best%% *}"
    done
    target rss_kb "${val[wrapp:rss_kb]:-}" "${val[tini-static:rss_kb]:-}" tini-static
}

main() {
    local t0=$SECONDS
    build_tools
    raw_log=$build/bench-last.log
    : >"$raw_log"
    echo "bench: wrapp=$wrapp rounds=$rounds lat=${lat_n}x$lat_repeats" \
        "rss=$rss_samples orphans=${orphans_n}x$reap_repeats (raw: $raw_log)"
    find_inits
    setup_pinning
    export TINI_SUBREAPER=
    measure_overhead
    measure_rss
    measure_lat
    measure_reap
    measure_size
    print_tables
    print_summary
    echo "bench: done in $((SECONDS - t0)) s"
}

main

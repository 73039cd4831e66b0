# SPDX-License-Identifier: MIT
# Helpers shared by the benchmark scripts (sourced, not run): messages,
# medians, key=value fields, number formatting and ratios.

log() {
    echo "$*" >&2
}

# median NUMBER...: prints the median (mean of the two middle ones if even).
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { if (NR == 0) exit 1
              if (NR % 2) print v[(NR + 1) / 2]
              else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# field KEY LINE: prints the value of KEY=VALUE in a space-separated line.
field() {
    tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p" | head -n 1
}

# fmt NUMBER [PRECISION]: the number with PRECISION decimals, "?" if missing.
fmt() {
    awk -v v="$1" -v p="${2:-1}" 'BEGIN {
        if (v == "" || v == "nan") print "?"; else printf "%.*f", p, v }'
}

# ratio A B: A / B with two decimals, or n/a.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a == "" || a == "nan" || b == "" || b == "nan" || b <= 0) print "n/a"
        else printf "%.2f", a / b }'
}

# stop_pid PID: SIGTERM, then SIGKILL after 2 s; reaps it.
stop_pid() {
    local i
    kill -TERM "$1" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.01
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# start_hog MB [wrapp|kernel]: "$APP hog MB 8" (9 threads, MB of written
# heap) bare, under "$WRAPP" (crash dir $WORK/crashes) or with RLIMIT_CORE
# unlimited for the kernel's dump; returns once it is ready and its threads
# sleep. Sets HOG_PID (the app) and HOG_TOP (what to wait for). Needs WORK,
# APP, WRAPP.
start_hog() {
    local out="$WORK/hog.out" i
    : >"$out"
    case ${2:-} in
    wrapp) WRAPP_CRASH_DIR="$WORK/crashes" "$WRAPP" -- "$APP" hog "$1" 8 >"$out" 2>"$WORK/hog.err" & ;;
    kernel) bash -c 'ulimit -c unlimited; exec "$0" hog "$1" 8' "$APP" "$1" >"$out" 2>/dev/null & ;;
    *) "$APP" hog "$1" 8 >"$out" 2>/dev/null & ;;
    esac
    HOG_TOP=$!
    for ((i = 0; i < 12000; i++)); do
        grep -q '^ready' "$out" && break
        sleep 0.01
    done
    HOG_PID=$(awk '/^ready/ { print $2 }' "$out")
    [ -n "$HOG_PID" ] || { log "bench: the app did not start"; exit 1; }
    # Until every thread sleeps (a thread still in clone is not a fair target).
    for ((i = 0; i < 500; i++)); do
        [ "$(grep -l '^State:.*S (sleeping)' /proc/"$HOG_PID"/task/*/status 2>/dev/null | wc -l)" -ge 9 ] && break
        sleep 0.01
    done
}

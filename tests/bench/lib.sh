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

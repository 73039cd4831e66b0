#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# crash.sh WRAPP_BINARY CRASHAPP_BINARY: what the crash supervisor costs.
#   report    an app with 9 threads and 256 MiB / 2 GiB of touched heap
#             ("crashapp hog MB 8") gets SIGUSR1, whose handler writes
#             through NULL. wrapp: the report's own timing (signal seen ->
#             report built) and the time from the kill to a complete
#             report.json on disk (polled). Peers, on the same app left running: eu-stack -p PID and
#             gdb -p PID -batch -ex 'thread apply all bt' (wall time, both
#             only print stacks: no report, no file).
#   overhead  "crashapp spawn threads 20000", "forks 5000", "signals 200000"
#             under wrapp with supervision (WRAPP_CRASH=1) against the same
#             wrapp without it (WRAPP_CRASH=0), pinned to one CPU (BENCH_CPU).
# Interleaved repeats (BENCH_REPEATS, default 3), medians, ratios; exit 0 once
# measured. BENCH_QUICK=1: one repeat, 256 MiB only, smaller workloads.

set -euo pipefail

WRAPP=${1:?usage: crash.sh WRAPP CRASHAPP}
APP=${2:?usage: crash.sh WRAPP CRASHAPP}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

QUICK=${BENCH_QUICK:-0}
REPEATS=${BENCH_REPEATS:-3}
SIZES=${BENCH_SIZES:-256 2048}
CPU=${BENCH_CPU:-0}
N_THREADS=20000 N_FORKS=5000 N_SIGNALS=200000 N_SYSCALLS=20000000
if [ "$QUICK" = 1 ]; then
    REPEATS=1 SIZES=256 N_THREADS=5000 N_FORKS=1000 N_SIGNALS=50000 N_SYSCALLS=5000000
fi
for tool in eu-stack gdb python3; do
    command -v "$tool" >/dev/null || { log "crash.sh: $tool is missing (make deps)"; exit 1; }
done
WORK=$(mktemp -d /tmp/wrapp-crashbench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

now_ms() {
    date +%s.%N | awk '{ printf "%.3f", $1 * 1000 }'
}

# wrapp_report MB: prints "total_ms wall_ms" for one crash under wrapp.
wrapp_report() {
    rm -rf "$WORK/crashes"
    start_hog "$1" wrapp
    # kill -> report.json complete on disk, polled every 0.2 ms from python
    # (one process, no fork per poll).
    python3 -c 'import glob, json, os, signal, sys, time
pid, d = int(sys.argv[1]), sys.argv[2]
t0 = time.monotonic()
os.kill(pid, signal.SIGUSR1)
while True:
    f = glob.glob(d + "/*/report.json")
    if f:
        try:
            r = json.load(open(f[0]))
            break
        except ValueError:
            pass
    if time.monotonic() - t0 > 30:
        sys.exit("crash.sh: no report")
    time.sleep(0.0002)
wall = (time.monotonic() - t0) * 1000
print("%.3f %.3f %.3f %d" % (r["timing_us"]["total"] / 1000, r["timing_us"]["stop"] / 1000,
                             wall, len(r["threads"])))' "$HOG_PID" "$WORK/crashes"
    wait "$HOG_TOP" 2>/dev/null || true
}

# peer_time MB TOOL: wall ms of TOOL on the running app.
peer_time() {
    start_hog "$1"
    local t0 t1
    t0=$(now_ms)
    case $2 in
    eu-stack) eu-stack -p "$HOG_PID" >/dev/null 2>&1 || true ;;
    gdb) gdb -p "$HOG_PID" -batch -nx -ex 'thread apply all bt' >/dev/null 2>&1 || true ;;
    esac
    t1=$(now_ms)
    kill -KILL "$HOG_PID" 2>/dev/null || true
    wait "$HOG_TOP" 2>/dev/null || true
    awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}

log "== crash report: 9 threads, touched heap; $REPEATS repeat(s), medians"
printf '%-8s %14s %12s %14s %12s %12s %10s %10s\n' heap "wrapp report" "  (stop)" "kill->file" \
    eu-stack gdb "vs eu" "vs gdb"
for mb in $SIZES; do
    tot=() stop=() wall=() eu=() gd=()
    for ((r = 0; r < REPEATS; r++)); do
        read -r a b c n < <(wrapp_report "$mb")
        tot+=("$a") stop+=("$b") wall+=("$c")
        eu+=("$(peer_time "$mb" eu-stack)")
        gd+=("$(peer_time "$mb" gdb)")
    done
    mt=$(median "${tot[@]}") ms=$(median "${stop[@]}") mw=$(median "${wall[@]}")
    me=$(median "${eu[@]}") mg=$(median "${gd[@]}")
    printf '%-8s %11s ms %9s ms %11s ms %9s ms %9s ms %9sx %9sx\n' "${mb}M" "$(fmt "$mt")" \
        "$(fmt "$ms" 2)" "$(fmt "$mw")" "$(fmt "$me")" "$(fmt "$mg")" "$(ratio "$mw" "$me")" \
        "$(ratio "$mw" "$mg")"
done
log "(wrapp report: signal seen -> report built, from the report; kill->file: SIGUSR1 sent ->"
log " report.json complete on disk (polled every 0.2 ms), through the app's handler, the stop,"
log " the capture, JSON and fsync; vs eu/gdb: kill->file against the peer's wall time)"

# Live snapshots (wrapp snapshot over the control socket) of the same app,
# left running: how long the app is stopped, as wrapp replies it.
log "== live snapshot of the running app (9 threads, 256 MiB); medians"
rm -rf "$WORK/crashes"
WRAPP_CONTROL="$WORK/ctl.sock" WRAPP_CRASH_DIR="$WORK/crashes" "$WRAPP" -- "$APP" hog 256 8 \
    >"$WORK/snap.out" 2>"$WORK/snap.err" &
SNAP_TOP=$!
for ((i = 0; i < 6000; i++)); do grep -q '^ready' "$WORK/snap.out" && break; sleep 0.01; done
sleep 0.3
stopped() { # [--core]: the ms the app was stopped
    WRAPP_CONTROL="$WORK/ctl.sock" "$WRAPP" snapshot "$@" | sed -n 's/.* stopped \([0-9.]*\) ms.*/\1/p'
}
plain=() cored=()
for ((r = 0; r < REPEATS + 2; r++)); do plain+=("$(stopped)"); done
for ((r = 0; r < REPEATS; r++)); do cored+=("$(stopped --core)"); done
printf '%-22s %10s ms   (target <= 20 ms)\n' "without core" "$(fmt "$(median "${plain[@]}")")"
printf '%-22s %10s ms\n' "with core (256 MiB)" "$(fmt "$(median "${cored[@]}")")"
stop_pid "$SNAP_TOP"
rm -rf "$WORK/crashes"

# run_secs ON KIND N: seconds for one run, supervised (ON 1, or "track":
# supervised with process tracking to a JSON-lines file) or not (0).
run_secs() {
    local s e track=0
    [[ $1 == track ]] && track=1
    rm -f "$WORK/track.jsonl"
    s=$(now_ms)
    WRAPP_CRASH=$((track ? 1 : $1)) WRAPP_TRACK=$track WRAPP_TRACK_FILE="$WORK/track.jsonl" \
        WRAPP_CRASH_DIR="$WORK/crashes" taskset -c "$CPU" "$WRAPP" -- "$APP" spawn "$2" "$3" \
        >/dev/null 2>&1
    e=$(now_ms)
    awk -v a="$s" -v b="$e" 'BEGIN { print (b - a) / 1000 }'
}

log "== supervision overhead, pinned to CPU $CPU; $REPEATS repeat(s), medians"
printf '%-12s %6s %10s %10s %8s %8s\n' workload n "off (s)" "on (s)" ratio target
for spec in "threads $N_THREADS 1.3 1" "forks $N_FORKS 1.3 1" "signals $N_SIGNALS 3 1" \
    "forks $N_FORKS - track"; do
    read -r kind n target mode <<<"$spec"
    on=() off=()
    for ((r = 0; r < REPEATS; r++)); do
        if ((r % 2)); then
            on+=("$(run_secs "$mode" "$kind" "$n")") off+=("$(run_secs 0 "$kind" "$n")")
        else
            off+=("$(run_secs 0 "$kind" "$n")") on+=("$(run_secs "$mode" "$kind" "$n")")
        fi
    done
    mon=$(median "${on[@]}") moff=$(median "${off[@]}")
    [[ $mode == track ]] && kind="$kind+track"
    printf '%-12s %6s %10s %10s %7sx %7sx\n' "$kind" "$n" "$(fmt "$moff" 3)" "$(fmt "$mon" 3)" \
        "$(ratio "$mon" "$moff")" "$target"
done
log "(forks+track: supervised with track.enabled, each fork's exit record, its shared"
log " objects read at the exit stop, written to a JSON-lines file; against no supervision)"

# A seccomp policy with "report" rules (the shipped deny-list) against no
# policy, both supervised: the cost on a loop of allowed syscalls is the
# BPF program's, run by the kernel on each call.
PROFILE=$(cd "$(dirname "$0")/../.." && pwd)/examples/seccomp/deny-dangerous.json
policy_secs() { # PROFILE-OR-EMPTY N
    local s e
    s=$(now_ms)
    env ${1:+WRAPP_SECCOMP_PROFILE=$1} WRAPP_CRASH_DIR="$WORK/crashes" taskset -c "$CPU" \
        "$WRAPP" -- "$APP" getpid "$2" >/dev/null 2>&1
    e=$(now_ms)
    awk -v a="$s" -v b="$e" 'BEGIN { print (b - a) / 1000 }'
}
# The floor: a filter of one rule for a syscall the loop never makes.
echo '{"rules": [{"syscall": "mkdir", "action": "errno"}]}' >"$WORK/one-rule.json"
for spec in "getpid+bpf $PROFILE" "getpid+1rule $WORK/one-rule.json"; do
    read -r kind profile <<<"$spec"
    on=() off=()
    for ((r = 0; r < REPEATS + 2; r++)); do
        if ((r % 2)); then
            on+=("$(policy_secs "$profile" "$N_SYSCALLS")") off+=("$(policy_secs "" "$N_SYSCALLS")")
        else
            off+=("$(policy_secs "" "$N_SYSCALLS")") on+=("$(policy_secs "$profile" "$N_SYSCALLS")")
        fi
    done
    mon=$(median "${on[@]}") moff=$(median "${off[@]}")
    printf '%-12s %6s %10s %10s %7sx %7sx\n' "$kind" "$N_SYSCALLS" "$(fmt "$moff" 3)" \
        "$(fmt "$mon" 3)" "$(ratio "$mon" "$moff")" "1.1"
done
log "(getpid+bpf: N getpid calls under the deny-list profile's filter (report rules) against"
log " the same supervised run without a policy; getpid+1rule: the same with a one-rule filter,"
log " the kernel's fixed cost of having any seccomp filter on this machine)"

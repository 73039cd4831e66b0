#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make demo: an example app under wrapp as PID 1 of a new pid namespace.
# Shows what the app sees, reaping of orphans, signal forwarding and the
# exit status; then a crash caught by the ptrace supervisor. Usage:
# examples/demo.sh WRAPP_BINARY TESTAPP_BINARY CRASHAPP_BINARY
set -euo pipefail
wrapp=${1:?usage: examples/demo.sh build/wrapp}
crashapp=${3:?usage: examples/demo.sh build/wrapp build/testapp build/crashapp}
here=$(cd "$(dirname "$0")" && pwd)
app=$here/apps/demo-app.sh
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

redis_pid=
cleanup() { [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null; rm -rf "$work"; }
work=$(mktemp -d)
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then
    echo "demo: needs root for a new pid namespace (unshare --pid); run: sudo make demo" >&2
    exit 1
fi

say "$wrapp: $(stat -c %s "$wrapp") bytes, $(ldd "$wrapp" >/dev/null 2>&1 && echo dynamic || echo static)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
    --loglevel warning >/dev/null &
redis_pid=$!
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.05; done
export WRAPP_REDIS_URL=redis://127.0.0.1:$port WRAPP_STREAM_NAME=demo
printf '{"output": {"spool_dir": "%s/spool"}}\n' "$work" >"$work/wrapp.json"
say "a real redis-server on 127.0.0.1:$port; WRAPP_REDIS_URL=$WRAPP_REDIS_URL"
say "starting: unshare --pid --fork --mount-proc $wrapp -v -t 3 -c wrapp.json -- $app"
unshare --pid --fork --mount-proc "$wrapp" -v -t 3 -c "$work/wrapp.json" -- "$app" &
outer=$!
for _ in $(seq 100); do
    init=$(cat /proc/$outer/task/$outer/children 2>/dev/null | awk '{print $1}')
    [ -n "$init" ] && break
    sleep 0.05
done
sleep 1.2
say "the process tree (host pids); wrapp is PID 1 inside"
tree() { echo "$1"; for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do tree "$c"; done; }
ps -o pid,ppid,stat,cmd --forest -p "$(tree "$init" | paste -sd, -)"
zombies=$(ps -e -o ppid=,stat= | awk -v p="$init" '$1 == p && $2 ~ /^Z/' | wc -l)
say "zombies under wrapp after the app left 5 orphans: $zombies"
say "kill -USR1 <wrapp>: forwarded to the app"
kill -USR1 "$init"
sleep 1.5
say "kill -TERM <wrapp>: forwarded; the app has 3 s (-t 3) to exit"
kill -TERM "$init"
set +e
wait "$outer"
rc=$?
set -e
say "wrapp exited with $rc (the app's own exit status: 42)"
say "wrapp logs --stream demo   (the app's lines, read back from Redis)"
"$wrapp" logs --stream demo
say "the newest entry as the Go wrapp's readers see it, plus wrapp's extra fields"
redis-cli -p "$port" -n 1 XREVRANGE logs:app:demo:info + - COUNT 2
say "metrics from {{requests}} and {{queue_depth:42}} (DB 2)"
for k in requests queue_depth; do
    printf 'wrapp:demo:%s = %s\n' "$k" "$(redis-cli -p "$port" -n 2 GET "wrapp:demo:$k")"
done
say "wrapp's own status stream"
redis-cli -p "$port" -n 1 XRANGE logs:app:demo:status - + | grep -v -E '^(ts|pid|seq|run|[0-9]+(-[0-9]+)?)$' | grep -v '^message$'
[ "$rc" -eq 42 ]

export WRAPP_STREAM_NAME=demo-crash WRAPP_CRASH_DIR=$work/crashes WRAPP_CORE=redis
say "a crash: unshare ... $wrapp -c wrapp.json -- crashapp print 3 threads 4 2"
say "(4 threads; thread 2 writes through a bad pointer; nobody handles SIGSEGV)"
set +e
unshare --pid --fork --mount-proc "$wrapp" -c "$work/wrapp.json" -- "$crashapp" print 3 threads 4 2 \
    2>"$work/crash.err" | sed 's/^/  app: /'
crc=${PIPESTATUS[0]}
set -e
grep '^wrapp:' "$work/crash.err" | sed 's/^/  /'
say "wrapp exited with $crc: 128+11, as if the app had died without wrapp (SIGSEGV)"
say "wrapp crashes --stream demo-crash   (the reports in Redis)"
"$wrapp" crashes --stream demo-crash
id=$(redis-cli -p "$port" -n 1 XREVRANGE logs:app:demo-crash:crash + - COUNT 1 | awk 'NR == 1')
say "wrapp crashes --stream demo-crash show $id   (every thread's backtrace)"
"$wrapp" crashes --stream demo-crash show "$id"
say "the same report on disk (report.json, 0600, backtrace.txt) and wrapp's own ELF core"
ls -ls "$work"/crashes/*/
python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
t = r["threads"][0]
print("signal %s (%s) at %s; thread %d \"%s\" crashed; %d threads; %d ms to the report" % (
    r["signal"]["name"], r["signal"]["code_name"], r["signal"]["addr"], t["tid"], t["name"],
    len(r["threads"]), r["timing_us"]["total"] // 1000))' "$work"/crashes/*/report.json
core_id=$(python3 -c 'import json, sys
r = json.load(open(sys.argv[1])); print("%d-%d" % (r["time_us"], r["pid"]))' "$work"/crashes/*/report.json)
say "wrapp core get $core_id   (the core, back from Redis: zstd chunks, sha256 checked)"
(cd "$work" && "$wrapp" core get "$core_id" --stream demo-crash -o core.fetched)
cmp "$work/core.fetched" "$work"/crashes/*/core && echo "  identical to the local core"
say "gdb $crashapp core.fetched   (no gdb in the container needed: this runs anywhere)"
gdb -batch -nx -ex 'info threads' -ex 'bt' -ex 'print/x crashapp_global' "$crashapp" "$work/core.fetched" 2>&1 |
    grep -v -E '^\[New LWP|^warning: Section|^$' | sed 's/^/  /'

export WRAPP_STREAM_NAME=demo-snapshot WRAPP_CONTROL=$work/control.sock WRAPP_CORE=local
say "a live snapshot: wrapp -- crashapp park 3 3 (3 threads parked; exits 0 after 3 s)"
unshare --pid --fork --mount-proc "$wrapp" -c "$work/wrapp.json" -- "$crashapp" park 3 3 \
    >"$work/park.out" 2>"$work/park.err" &
park=$!
for _ in $(seq 100); do grep -q parked "$work/park.out" 2>/dev/null && [ -S "$work/control.sock" ] && break; sleep 0.05; done
sleep 0.2
say "wrapp snapshot   (over the control socket: every thread stopped, unwound, resumed)"
"$wrapp" snapshot | sed 's/^/  /'
snap=$(ls -d "$work"/crashes/*/ | tail -n 1)
sed -n '1,/^#2/p' "$snap/backtrace.txt" | sed 's/^/  /'
set +e
wait "$park"
prc=$?
set -e
say "the app went on and exited with $prc, as if nothing had happened"
[ "$crc" -eq 139 ] && [ "$prc" -eq 0 ]

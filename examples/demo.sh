#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make demo: an example app under wrapp as PID 1 of a new pid namespace.
# Shows what the app sees, reaping of orphans, signal forwarding and the
# exit status. Usage: examples/demo.sh WRAPP_BINARY
set -euo pipefail
wrapp=${1:?usage: examples/demo.sh build/wrapp}
here=$(cd "$(dirname "$0")" && pwd)
app=$here/apps/demo-app.sh
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
    echo "demo: needs root for a new pid namespace (unshare --pid); run: sudo make demo" >&2
    exit 1
fi

say "$wrapp: $(stat -c %s "$wrapp") bytes, $(ldd "$wrapp" >/dev/null 2>&1 && echo dynamic || echo static)"
say "starting: unshare --pid --fork --mount-proc $wrapp -v -t 3 -- $app"
unshare --pid --fork --mount-proc "$wrapp" -v -t 3 -- "$app" &
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
[ "$rc" -eq 42 ]

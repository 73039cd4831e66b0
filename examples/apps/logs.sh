#!/bin/sh
# SPDX-License-Identifier: MIT
# Logs like a small service: LOGS_COUNT lines (default 10; 0: forever), one
# every LOGS_INTERVAL seconds (default 0.2), on stdout, and every fifth one a
# warning on stderr; then exits 0. Each line becomes one entry of
# logs:app:<stream>:info, field "message", with "fd" out or err.
count=${LOGS_COUNT:-10}
interval=${LOGS_INTERVAL:-0.2}
echo "logs: started as pid $$, $count lines every ${interval}s"
n=0
while [ "$count" -eq 0 ] || [ "$n" -lt "$count" ]; do
    n=$((n + 1))
    echo "logs: line $n: handled request id=$n status=200"
    if [ $((n % 5)) -eq 0 ]; then
        echo "logs: warning $n: slow request id=$n (stderr)" >&2
    fi
    sleep "$interval"
done
echo "logs: done after $n lines"

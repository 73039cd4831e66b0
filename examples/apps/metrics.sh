#!/bin/sh
# SPDX-License-Identifier: MIT
# A service that reports its metrics through markers: every METRICS_INTERVAL
# seconds (default 1) a request is counted ({{requests}}: INCR) and the queue
# depth and the last latency are set ({{queue_depth:N}}, {{latency_ms:N}}:
# SET), all in DB 2 under wrapp:<stream>:. METRICS_COUNT rounds (default 0:
# forever). Read them with: redis-cli -n 2 MGET wrapp:<stream>:requests ...
count=${METRICS_COUNT:-0}
interval=${METRICS_INTERVAL:-1}
n=0
while [ "$count" -eq 0 ] || [ "$n" -lt "$count" ]; do
    n=$((n + 1))
    depth=$(( (n * 7) % 23 ))
    latency=$(( 5 + (n * 13) % 40 ))
    echo "metrics: request $n served in ${latency} ms{{requests}}{{queue_depth:$depth}}{{latency_ms:$latency}}"
    [ $((n % 10)) -eq 0 ] && echo "{{errors}}metrics: request $n failed" >&2
    sleep "$interval"
done

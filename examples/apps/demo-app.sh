#!/bin/sh
# SPDX-License-Identifier: MIT
# A small application for the demo: it logs, leaves orphans behind (which
# wrapp, as PID 1, must reap), reacts to SIGUSR1, and shuts down cleanly on
# SIGTERM with the status it chooses.
echo "demo-app: started as pid $$ (parent $PPID)"
trap 'echo "demo-app: got SIGUSR1 (forwarded by wrapp)"' USR1
trap 'echo "demo-app: got SIGTERM, cleaning up"; exit 42' TERM
i=0
while [ $i -lt 5 ]; do
    # A double fork: the inner process is orphaned and reparented to PID 1.
    ( sleep 0.2 & )
    i=$((i + 1))
done
echo "demo-app: left 5 orphans behind"
echo "demo-app: a warning on stderr" >&2
echo "{{requests}}{{queue_depth:42}}demo-app: served a request (metrics in this line)"
printf '>>|\nTraceback (most recent call last):\n  File "app.py", line 1\n    boom()\n|<<\n'
n=0
while :; do
    n=$((n + 1))
    echo "demo-app: working ($n) {{requests}}"
    sleep 1 &
    wait $!
done

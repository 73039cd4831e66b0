#!/bin/sh
# SPDX-License-Identifier: MIT
# An app that hangs and ignores SIGTERM, for the grace period and for live
# snapshots: `podman stop` (or kill -TERM wrapp) is forwarded, ignored here,
# and wrapp SIGKILLs it when init.grace_seconds (-t) runs out: exit status
# 137. Meanwhile `wrapp snapshot` shows where it waits. HANG_SECONDS (default
# 0: forever) makes it exit 0 by itself after that long.
trap 'echo "hang: SIGTERM ignored, still here"' TERM
echo "hang: pid $$ waiting; SIGTERM is ignored, only the grace period ends it"
limit=${HANG_SECONDS:-0}
n=0
while [ "$limit" -eq 0 ] || [ "$n" -lt "$limit" ]; do
    sleep 1 &
    wait $! 2>/dev/null
    n=$((n + 1))
done
echo "hang: done after ${n}s"

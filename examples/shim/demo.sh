#!/bin/sh
# SPDX-License-Identifier: MIT
# Shim demo: wrapp in place of a copy of printf in a temporary directory.
# Usage: examples/shim/demo.sh [path/to/wrapp] [redis://127.0.0.1:6379]
# With a Redis URL, every call is recorded in logs:app:shims:info.
set -eu
WRAPP=${1:-build/wrapp}
URL=${2:-}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp /usr/bin/printf "$dir/printf"  # the binary, not the shell builtin
if [ -n "$URL" ]; then
    printf '{"redis": {"url": "%s"}, "app": {"stream_name": "shims"}}\n' "$URL" >"$dir/shim.json"
    "$WRAPP" shim install --config "$dir/shim.json" --append 'appended by the shim' "$dir/printf"
else
    "$WRAPP" shim install --append 'appended by the shim' "$dir/printf"
fi
echo "--- installed; the directory now holds:"
ls -la "$dir"
echo "--- called by PATH lookup with tricky arguments:"
PATH="$dir:$PATH" env printf '[%s]\n' 'a b' '' "$(printf 'two\nlines')"
"$WRAPP" shim list "$dir"
if [ -n "$URL" ] && command -v redis-cli >/dev/null; then
    echo "--- the invocation records:"
    redis-cli -u "$URL/1" XRANGE logs:app:shims:info - + | grep -A1 '^message$' || true
fi
"$WRAPP" shim uninstall "$dir/printf"
ls -la "$dir"

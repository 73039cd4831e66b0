#!/bin/sh
# SPDX-License-Identifier: MIT
# Multi-line blocks: everything between >>| and |<< is one entry of
# logs:app:<stream>:info with embedded newlines (a traceback, a JSON
# document, an indented report). Indentation and inner blank lines are kept;
# text after |<< is a line of its own. The last block is never closed: wrapp
# flushes it when the app exits (the Go wrapp lost it). Exits 0.
echo "multiline: three blocks follow"
printf '%s\n' '>>|Traceback (most recent call last):' \
    '  File "/srv/app.py", line 12, in handle' \
    '    reply = compute(request)' \
    'ZeroDivisionError: division by zero|<<after the block: a line of its own'
printf '%s\n' '>>|' '{' '  "user": "alice",' '' '  "roles": ["admin", "ops"]' '}' '|<<'
echo "multiline: {{blocks:2}}two blocks written; the next one is left open"
printf '%s\n' '>>|report (never closed):' '    disk   91%' '    memory 40%'

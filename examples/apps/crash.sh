#!/bin/sh
# SPDX-License-Identifier: MIT
# An app that logs a few lines and then dies of SIGSEGV (CRASH_SIGNAL: another
# signal name, e.g. ABRT) that it does not handle. Under wrapp: a crash report
# with the backtrace and these last lines (crash.dir and logs:app:<stream>:crash),
# the core next to it, and exit status 128+11 = 139, as without wrapp. A shell
# cannot fault by itself, so it sends the signal to itself; for a real fault in
# compiled code see tests/apps/crashapp.c (make demo).
sig=${CRASH_SIGNAL:-SEGV}
echo "crash: pid $$ starting"
echo "crash: loading the model {{loads}}"
echo "crash: warning: about to die of SIG$sig" >&2
kill -s "$sig" $$
echo "crash: not reached"

// SPDX-License-Identifier: MIT
/*
 * `wrapp crashes`: list the crashes wrapp recorded for an app in Redis
 * (logs:app:<stream>:crash), or print one of them (its backtrace, or its
 * JSON report). An operator command: it runs instead of the init, in the
 * main thread, and exits. It only reads; the supervisor writes the entries.
 */
#pragma once

#define CRASHES_EXIT_NOT_FOUND 1 /* Redis unreachable, or no such entry */
#define CRASHES_EXIT_USAGE     2

/* argv[0] is "crashes"; argv is borrowed. Prints to stdout, one-line
 * errors to stderr. Returns the process exit status: 0,
 * CRASHES_EXIT_NOT_FOUND or CRASHES_EXIT_USAGE. */
int crashes_main(int argc, char **argv);

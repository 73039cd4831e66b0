// SPDX-License-Identifier: MIT
/*
 * The install's check: `TOOL --version` through the new shim must end like
 * the real binary does (same wait status; same output too when the shim
 * appends no arguments), within SHIMVERIFY_MS. Both run with stdin from
 * /dev/null and stdout+stderr into one pipe. Operator command, main thread.
 */
#pragma once

#include <stdbool.h>

#define SHIMVERIFY_MS 10000 /* each run must end within this */
#define SHIMVERIFY_OUTPUT_MAX                                                                      \
    ((size_t)64 * 1024) /* output compared; the rest is read and dropped */

/* Run both and compare; logs what differed. Borrows the paths. Returns 0,
 * -EPROTO (they differ), -ETIMEDOUT, or -errno. */
int shimverify_run(const char *tool, const char *real, bool has_append);

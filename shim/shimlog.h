// SPDX-License-Identifier: MIT
/*
 * A shim's invocation record: who called the tool, with what (argv, cwd,
 * uid) and how it ended, as one XADD to Redis (stream logs:app:<stream>:info
 * or the registration's log_key; fields message, event "shim", json). One
 * short-lived connection bounded by the registration's timeout_ms: a slow
 * or dead Redis delays the call by at most that (twice: connect, write) and
 * never changes its outcome. Main thread of a shim; blocks no signal itself.
 */
#pragma once

#include "config.h"
#include "shimreg.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define SHIMLOG_ARGV_BYTES_MAX ((size_t)256 * 1024) /* argv bytes recorded; the rest is cut */

struct shimlog_call {
    const char *tool;  /* the shim's own path (/proc/self/exe) */
    const char *real;  /* the real binary's path */
    const char *cwd;   /* the caller's working directory; NULL: unknown */
    char *const *argv; /* what the real binary gets; NULL-terminated */
    size_t n_appended; /* how many of argv the registration appended */
    pid_t pid;         /* the tool's pid */
    uint64_t start_us; /* clock_real_us() at the call */
    uint64_t end_us;   /* at the exit; 0 with has_status false */
    bool has_status;   /* status is known (log "exit", supervise) */
    int status;        /* wait status */
    int exec_err;      /* > 0: errno of a failed exec (then no status) */
};

/* Load the registration's wrapp config into cfg (caller-owned, after
 * config_init), then the WRAPP_* environment, and default
 * app.stream_name to the tool's file name. A broken config is logged and
 * leaves cfg without Redis: the call itself proceeds. Borrows everything. */
void shimlog_config(const struct shimreg *reg, const char *tool, struct config *cfg);

/* The record as JSON (owned *ret) and its one-line summary (owned
 * *ret_text). 0 or -ENOMEM. Exposed for tests. */
int shimlog_format(const struct shimlog_call *c, char **ret, char **ret_text);

/* Send the record if cfg has Redis; failures are logged at info level
 * (not printed by default: the caller's stderr stays the tool's). */
void shimlog_send(const struct config *cfg, const struct shimreg *reg,
                  const struct shimlog_call *c);

// SPDX-License-Identifier: MIT
/*
 * A crash as the outside world sees it: the JSON report (schema version
 * 1, below), the gdb-like text that goes into the Redis :crash entry's
 * message and backtrace.txt, the report directories on disk with their
 * retention, and the summary `wrapp crashes` lists. It formats and saves;
 * it does not collect (trace, unwind, procinfo fill struct crash) and does
 * not talk to Redis. Supervisor thread (json, text, save) and operator
 * commands (summary); no global state.
 *
 * JSON schema 1 (members in this order; absent optional members are left
 * out rather than written as null, except a thread's "error"):
 *   version, time ("2026-11-22T23:59:59.123456Z"), time_us, pid, tid, ppid,
 *   signal {number, name, code, code_name, meaning, errno, addr (SEGV BUS
 *     ILL FPE TRAP only), sender_pid, sender_uid (SI_USER/TKILL/QUEUE only)},
 *   exe, build_id, argv [], uptime_s, hostname, stream,
 *   threads [{tid, name, state, crashed, unwinder, truncated, error,
 *     registers {name: "0x..."}, frames [{pc, sp, function, offset, module,
 *     build_id, module_offset, file, line}]}],
 *   modules [{path, build_id, base}], maps [{start, end, perms, offset,
 *     path}] (the first REPORT_MAPS_MAX), maps_total, last_lines [],
 *   timing_us {stop, unwind, total}.
 * Addresses and offsets are "0x..." strings (JSON numbers lose 64-bit
 * precision). Strings are made valid UTF-8 (bad bytes become U+FFFD).
 */
#pragma once

#include "crash.h"

#include <stddef.h>

#define REPORT_VERSION   1
#define REPORT_MAPS_MAX  512         /* maps written to the JSON; maps_total says how many */
#define REPORT_TEXT_MAX  (64u << 10) /* report_text's size cap, NUL included */
#define REPORT_JSON_NAME "report.json"
#define REPORT_TEXT_NAME "backtrace.txt"
#define REPORT_CORE_NAME "core"

/* The JSON report of c, unformatted. *ret returns owned (free()), written
 * only on success. Returns 0 or -ENOMEM. */
int report_json(const struct crash *c, char **ret);

/* One thread as report_json writes it (tid, name, registers, frames), as
 * a cJSON object the caller owns; NULL when out of memory. */
struct cJSON *report_thread_object(const struct crash_thread *t);

/* The readable backtrace: a header line, each thread with its frames, the
 * app's last lines. Below REPORT_TEXT_MAX bytes: frame lists, then
 * threads, are cut to fit, and the text says so. *ret returns owned
 * (free()). Returns 0 or -ENOMEM. */
int report_text(const struct crash *c, char **ret);

/* Save json and text (borrowed; a NULL one is not written) as
 * dir/<UTC YYYYmmddTHHMMSS>Z-<pid>/{report.json,backtrace.txt}: dir is
 * created as with mkdir -p (0700), the report directory 0700, the files
 * 0600, created exclusively and fsync'd. Then only the newest `keep`
 * report directories (by name) are kept, the new one always; keep 0
 * keeps all. Nothing else in dir is touched. *ret_path (returns owned)
 * is the report directory. Returns 0 or -errno (-EEXIST: that report
 * directory exists already); a failed save removes what it created.
 * Does not log: the caller logs one line. */
int report_save(const char *dir, unsigned keep, const struct crash *c, const char *json,
                const char *text, char **ret_path);

/* What `wrapp crashes` shows of one report. Strings are NUL-terminated,
 * cut to fit, control characters replaced by '?'; empty when absent. */
/* Replace path/report.json with json (a new file renamed over it, 0600,
 * fsync'd): the report once the core is written. Returns 0 or -errno. */
int report_update(const char *path, const char *json);

struct report_summary {
    char time[40];      /* "2026-11-22T23:59:59.123456Z" */
    int pid;            /* 0: absent */
    char signal[24];    /* "SIGSEGV" */
    char exe[256];      /* the executable's path */
    char function[256]; /* the crashed thread's top frame, "" when unknown */
};

/* Parse a JSON report of len bytes (borrowed, need not be NUL-terminated)
 * into *s (zeroed first). Returns 0, or -EINVAL when it is not a JSON
 * object (or memory ran out while parsing). Pure; any thread. */
int report_summary(const char *json, size_t len, struct report_summary *s);

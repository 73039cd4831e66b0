// SPDX-License-Identifier: MIT
/*
 * A shim's registration: the small JSON file `.TOOL.wrapp-shim.json` next
 * to a shimmed TOOL, written by `wrapp shim install`. It names the real
 * binary (moved aside to `.TOOL.wrapp-real` in the same directory) and what
 * the shim adds: appended arguments, an invocation record in Redis,
 * supervision. Parsing and formatting only; no file system changes here.
 * Pure functions on caller-owned storage; main thread, at start-up.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define SHIMREG_SUFFIX      ".wrapp-shim.json"  /* the registration: .TOOL<suffix> */
#define SHIMREG_REAL_SUFFIX ".wrapp-real"       /* the real binary: .TOOL<suffix> */
#define SHIMREG_FILE_MAX    ((size_t)64 * 1024) /* a larger registration is refused */
#define SHIMREG_APPEND_MAX  256                 /* appended arguments */
#define SHIMREG_TIMEOUT_DEF 300                 /* ms: Redis connect and write bound */
#define SHIMREG_TIMEOUT_MAX 10000
#define SHIMREG_FORMAT      1 /* the "wrapp_shim" version written and understood */

/* What the shim records about each call. */
enum shimreg_log {
    SHIMREG_LOG_OFF,   /* nothing: the shim is a plain execve */
    SHIMREG_LOG_START, /* argv, cwd, uid before the exec (same pid, no exit status) */
    SHIMREG_LOG_EXIT,  /* the same plus the exit status: the shim waits as the parent */
};

struct shimreg {
    char *target;  /* the shimmed path at install time (for messages and `list`) */
    char *real;    /* the real binary's file name, in the shim's directory (no '/') */
    char *config;  /* a wrapp config (redis, crash, app.stream_name); NULL: none */
    char **append; /* NULL-terminated; after the caller's arguments; owned */
    size_t n_append;
    int log;             /* enum shimreg_log */
    char *log_key;       /* stream for the records; NULL: <prefix><stream>:info */
    bool supervise;      /* run under wrapp's supervision (crash capture) */
    bool capture;        /* with supervise: the tool's stdout/stderr to Redis too */
    unsigned timeout_ms; /* Redis bound for the record */
};

/* Defaults into caller-owned storage (idempotent with shimreg_fini). */
void shimreg_init(struct shimreg *r);

/* Free what r holds; r is left as after shimreg_init. */
void shimreg_fini(struct shimreg *r);

/* dir/.base<suffix> for a tool path ("/usr/bin/tar" -> "/usr/bin/.tar.wrapp-real").
 * Borrows tool. Returns 0, -EINVAL (no file name: "", "/", "x/"), or
 * -ENAMETOOLONG when it does not fit buf. */
int shimreg_path(const char *tool, const char *suffix, char *buf, size_t size);

/* Parse JSON text (len bytes, need not be NUL-terminated) into r; name
 * labels messages. Unknown keys are ignored (a newer wrapp may add some).
 * Logs one line naming name, key, expected and found; returns 0, -EINVAL
 * or -ENOMEM. On error r keeps what was parsed (call shimreg_fini). */
int shimreg_parse(struct shimreg *r, const char *name, const char *text, size_t len);

/* Read fd (at most SHIMREG_FILE_MAX bytes) and shimreg_parse it. Borrows fd. */
int shimreg_load_fd(struct shimreg *r, const char *name, int fd);

/* The registration as JSON text, one key per line. *ret owned. 0 or -ENOMEM. */
int shimreg_format(const struct shimreg *r, char **ret);

/* "off" | "start" | "exit" -> enum shimreg_log, or -EINVAL. */
int shimreg_parse_log(const char *s);
const char *shimreg_log_name(int log);

// SPDX-License-Identifier: MIT
/*
 * wrapp's own diagnostics: one line per call, "wrapp: <level>: <msg>", one
 * write(2) to stderr. Not the application's output (that is stream/).
 * Called from the main thread; log_safe() alone is async-signal-safe and
 * may be used in a signal handler or between fork and exec.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum log_level {
    LOG_LEVEL_ERROR = 0, /* also tini's verbosity 0 */
    LOG_LEVEL_WARN = 1,  /* the default: an init is quiet */
    LOG_LEVEL_INFO = 2,
    LOG_LEVEL_DEBUG = 3,
};

/* Set the most verbose level that is printed; values are clamped. */
void log_set_level(int level);
int log_get_level(void);

/* Parse "error|warn|info|debug" or a number 0..3 (tini's TINI_VERBOSITY).
 * Returns the level, or -EINVAL. */
int log_parse_level(const char *s);

/* Is a message at this level printed? Lets callers skip costly formatting. */
bool log_enabled(enum log_level level);

/* printf-style; returns nothing. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like log_msg, appends ": strerror(-r)" and returns r (a -errno) so that
 * "return log_error_errno(r, ...)" logs once where the decision is made. */
int log_msg_errno(enum log_level level, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Also hand every message at info level or above (whatever the console
 * level) to fn, e.g. to queue it to Redis; fn must not block. Messages
 * logged from inside fn are not handed back. NULL removes the hook. */
typedef void (*log_hook_fn)(void *ctx, enum log_level level, const char *msg, size_t len);
void log_set_hook(log_hook_fn fn, void *ctx);

/* Async-signal-safe: writes "wrapp: <level>: <msg>\n" with write(2) only. */
void log_safe(enum log_level level, const char *msg);

/* Async-signal-safe: formats v in decimal into buf (>= 21 bytes); returns buf. */
char *log_fmt_int(char *buf, long v);

/* Async-signal-safe: writes "0x" and v in hex to buf (>= 19 bytes);
 * returns the end of buf (its NUL). */
char *log_fmt_hex(char *buf, unsigned long v);

/* Async-signal-safe: copies src (with its NUL) to dst; returns the end
 * of dst (its NUL), for building messages in handlers. */
char *log_fmt_str(char *dst, const char *src);

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#define log_error_errno(r, ...) log_msg_errno(LOG_LEVEL_ERROR, (r), __VA_ARGS__)
#define log_warn_errno(r, ...)  log_msg_errno(LOG_LEVEL_WARN, (r), __VA_ARGS__)
#define log_debug_errno(r, ...) log_msg_errno(LOG_LEVEL_DEBUG, (r), __VA_ARGS__)

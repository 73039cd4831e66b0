// SPDX-License-Identifier: MIT
/*
 * wrapp's own diagnostics (see log.h). Lines are formatted into a fixed
 * stack buffer (truncated with "...") and written with one write(2), so
 * lines from wrapp never interleave inside a line. Dev builds (WRAPP_DEV)
 * prefix each line with "[DEBUG HH:MM:SS.mmm] " and default to debug.
 * The logger never allocates and never reports its own failures.
 */
#include "log.h"

#include "ascii.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048

#ifdef WRAPP_DEV
static int log_level = LOG_LEVEL_DEBUG;
#else
static int log_level = LOG_LEVEL_WARN;
#endif

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static log_hook_fn hook;
static void *hook_ctx;
static __thread bool in_hook;

void log_set_hook(log_hook_fn fn, void *ctx)
{
    hook = fn;
    hook_ctx = ctx;
}

static bool wanted(enum log_level level)
{
    return log_enabled(level) || (hook && level <= LOG_LEVEL_INFO && !in_hook);
}

void log_set_level(int level)
{
    if (level < LOG_LEVEL_ERROR)
        level = LOG_LEVEL_ERROR;
    if (level > LOG_LEVEL_DEBUG)
        level = LOG_LEVEL_DEBUG;
    log_level = level;
}

int log_get_level(void)
{
    return log_level;
}

int log_parse_level(const char *s)
{
    char *end;
    long v;

    for (int i = 0; i <= LOG_LEVEL_DEBUG; i++)
        if (ascii_case_eq(s, level_names[i]))
            return i;
    if (ascii_case_eq(s, "warning"))
        return LOG_LEVEL_WARN;
    errno = 0;
    v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0 || v < 0)
        return -EINVAL;
    return v > LOG_LEVEL_DEBUG ? LOG_LEVEL_DEBUG : (int)v;
}

bool log_enabled(enum log_level level)
{
    return (int)level <= log_level;
}

static size_t prefix(char *buf, size_t size, enum log_level level)
{
    int n = 0;
#ifdef WRAPP_DEV
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    n = snprintf(buf, size, "[DEBUG %02d:%02d:%02d.%03ld] ", tm.tm_hour, tm.tm_min, tm.tm_sec,
                 ts.tv_nsec / 1000000);
#endif
    n += snprintf(buf + n, size - (size_t)n, "wrapp: %s: ", level_names[level]);
    return (size_t)n;
}

static void emit(enum log_level level, int r, const char *fmt, va_list ap)
{
    char buf[LOG_LINE_MAX];
    size_t start = prefix(buf, sizeof(buf) - 1, level), n = start;
    int m = vsnprintf(buf + n, sizeof(buf) - 1 - n, fmt, ap);

    n = m < 0 ? n : n + (size_t)m;
    if (r < 0 && n < sizeof(buf) - 1) {
        m = snprintf(buf + n, sizeof(buf) - 1 - n, ": %s", strerror(-r));
        n = m < 0 ? n : n + (size_t)m;
    }
    if (n > sizeof(buf) - 2) {
        n = sizeof(buf) - 2;
        buf[n - 3] = buf[n - 2] = buf[n - 1] = '.';
    }
    if (hook && level <= LOG_LEVEL_INFO && !in_hook) {
        in_hook = true;
        hook(hook_ctx, level, buf + start, n - start);
        in_hook = false;
    }
    buf[n++] = '\n';
    if (log_enabled(level))
        (void)!write(STDERR_FILENO, buf, n);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    int saved = errno;

    va_start(ap, fmt);
    if (wanted(level))
        emit(level, 0, fmt, ap);
    va_end(ap);
    errno = saved;
}

int log_msg_errno(enum log_level level, int r, const char *fmt, ...)
{
    va_list ap;
    int saved = errno;

    va_start(ap, fmt);
    if (wanted(level))
        emit(level, r, fmt, ap);
    va_end(ap);
    errno = saved;
    return r;
}

char *log_fmt_int(char *buf, long v)
{
    char tmp[21];
    size_t n = 0, i = 0;
    unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;

    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[i++] = '-';
    while (n)
        buf[i++] = tmp[--n];
    buf[i] = '\0';
    return buf;
}

char *log_fmt_hex(char *buf, unsigned long v)
{
    int shift = 60;

    *buf++ = '0';
    *buf++ = 'x';
    while (shift > 0 && !(v >> shift))
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        *buf++ = "0123456789abcdef"[(v >> shift) & 0xf];
    *buf = '\0';
    return buf;
}

char *log_fmt_str(char *dst, const char *src)
{
    while ((*dst = *src++))
        dst++;
    return dst;
}

void log_safe(enum log_level level, const char *msg)
{
    struct iovec_like {
        const char *p;
        size_t n;
    } parts[] = {
        {"wrapp: ", 7}, {level_names[level], strlen(level_names[level])},
        {": ", 2},      {msg, strlen(msg)},
        {"\n", 1},
    };
    char buf[512];
    size_t n = 0;
    int saved = errno;

    if (!log_enabled(level))
        return;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        size_t k = parts[i].n;
        if (k > sizeof(buf) - 1 - n)
            k = sizeof(buf) - 1 - n;
        memcpy(buf + n, parts[i].p, k);
        n += k;
    }
    if (buf[n - 1] != '\n')
        buf[n++] = '\n';
    (void)!write(STDERR_FILENO, buf, n);
    errno = saved;
}

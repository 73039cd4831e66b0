// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the crash report. Input starting with a NUL byte:
 * the rest is split at NULs into the exe, a symbol, a file, a comm and
 * last lines, a crash is built from them, and its JSON must parse back
 * (cJSON), summarise to the same pid, and its text stay under the cap
 * with no control bytes but '\n'. Any other input goes to report_summary,
 * which must return 0 or -EINVAL with NUL-terminated, control-free fields.
 */
#include "cJSON.h"
#include "report.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PARTS 8

static void check_field(const char *s, size_t size)
{
    size_t n = strnlen(s, size);

    if (n == size)
        __builtin_trap();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            __builtin_trap();
}

static void summary(const uint8_t *data, size_t size)
{
    struct report_summary s;
    int r = report_summary((const char *)data, size, &s);

    if (r != 0 && r != -EINVAL)
        __builtin_trap();
    check_field(s.time, sizeof(s.time));
    check_field(s.signal, sizeof(s.signal));
    check_field(s.exe, sizeof(s.exe));
    check_field(s.function, sizeof(s.function));
    if (s.pid < 0)
        __builtin_trap();
}

static void check_report(const struct crash *c)
{
    char *json = NULL, *text = NULL;
    struct report_summary s;
    cJSON *root;

    if (report_json(c, &json) < 0 || report_text(c, &text) < 0)
        goto out;
    root = cJSON_Parse(json);
    if (!root)
        __builtin_trap();
    cJSON_Delete(root);
    if (report_summary(json, strlen(json), &s) != 0 || s.pid != c->pid)
        __builtin_trap();
    if (strlen(text) >= REPORT_TEXT_MAX)
        __builtin_trap();
    for (const char *p = text; *p; p++)
        if (((unsigned char)*p < 0x20 && *p != '\n') || *p == 0x7f)
            __builtin_trap();
out:
    free(json);
    free(text);
}

static void build(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1), *part[PARTS + 1] = {0}; /* NULL-terminated: argv */
    struct crash_frame f[3] = {0};
    struct crash_thread t = {.tid = 7, .is_crashing = true, .frames = f, .n_frames = 3};
    struct crash c = {
        .pid = 7, .tid = 7, .sig = SIGSEGV, .si_code = 1, .threads = &t, .n_threads = 1};
    size_t n = 0;

    if (!buf)
        return;
    memcpy(buf, data, size);
    buf[size] = '\0';
    for (char *p = buf; n < PARTS && p <= buf + size; p += strlen(p) + 1)
        part[n++] = p;
    c.exe = part[0];
    f[0] = (struct crash_frame){
        .pc = 1, .symbol = part[1], .file = part[2], .line = 3, .module = part[0]};
    f[1] = (struct crash_frame){.pc = 2, .symbol = part[2]};
    if (part[3])
        strncpy(t.comm, part[3], sizeof(t.comm) - 1);
    t.unwind_error = part[4];
    c.last_lines = part + 5;
    while (c.n_last_lines < PARTS - 5 && part[5 + c.n_last_lines])
        c.n_last_lines++;
    c.argv = part + 5;
    t.frames = f;
    c.threads = &t;
    check_report(&c);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && data[0] == '\0')
        build(data + 1, size - 1);
    else
        summary(data, size);
    return 0;
}

// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the marker router, fed through the line splitter as
 * wrapp does. Input: byte 0 picks block_max (1..512), byte 1 max_line
 * (1..128), byte 2 the read sizes and whether a callback fails; the rest is
 * the pipe's bytes. The callbacks trap on any broken contract: empty or
 * untrimmed entries, '\n' outside a block, blank edge lines in a block, a
 * block over block_max + max_line + 1, metric names or values outside the
 * regex's classes, or an error that does not come back to the caller.
 */
#include "lines.h"
#include "marker.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct state {
    struct marker *m;
    size_t block_max;
    size_t max_line;
    unsigned calls;
    unsigned fail_at; /* 1-based callback to fail with -EPIPE, 0: none */
};

static bool is_word(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static bool all_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_space(s[i]))
            return false;
    return true;
}

static int fail_now(struct state *st)
{
    return ++st->calls == st->fail_at ? -EPIPE : 0;
}

static int on_metric(void *ctx, enum marker_metric op, const char *name, size_t name_len,
                     const char *value, size_t value_len)
{
    if (name_len == 0)
        __builtin_trap();
    for (size_t i = 0; i < name_len; i++)
        if (!is_word(name[i]))
            __builtin_trap();
    if (op == MARKER_INCR && (value || value_len))
        __builtin_trap();
    if (op == MARKER_SET && value_len == 0)
        __builtin_trap();
    for (size_t i = 0; i < value_len; i++)
        if (value[i] < '0' || value[i] > '9')
            __builtin_trap();
    return fail_now(ctx);
}

static void check_block(const struct state *st, const char *text, size_t len)
{
    const char *first = memchr(text, '\n', len);
    const char *last = memrchr(text, '\n', len);
    size_t first_len = first ? (size_t)(first - text) : len;

    if (len > st->block_max + st->max_line + 1)
        __builtin_trap();
    if (all_space(text, first_len))
        __builtin_trap();
    if (last && all_space(last + 1, len - (size_t)(last + 1 - text)))
        __builtin_trap();
}

static int on_message(void *ctx, const char *text, size_t len, unsigned flags)
{
    struct state *st = ctx;

    if (len == 0)
        __builtin_trap();
    if (flags == MARKER_WARNING) {
        if (len != strlen(MARKER_WARNING_TEXT) || memcmp(text, MARKER_WARNING_TEXT, len) != 0)
            __builtin_trap();
    } else if (flags == MARKER_BLOCK) {
        check_block(st, text, len);
    } else {
        if (flags & ~(LINES_PARTIAL | LINES_CONTINUED) || len > st->max_line ||
            memchr(text, '\n', len))
            __builtin_trap();
        if (!(flags & LINES_CONTINUED) && is_space(text[0]))
            __builtin_trap();
        if (!(flags & LINES_PARTIAL) && is_space(text[len - 1]))
            __builtin_trap();
    }
    return fail_now(st);
}

static const struct marker_ops ops = {.metric = on_metric, .message = on_message};

static int to_marker(void *ctx, const char *line, size_t len, unsigned flags)
{
    struct state *st = ctx;
    unsigned before = st->calls;
    int r = marker_line(st->m, line, len, flags, &ops, st);

    /* An error is exactly the injected one, and only when it was injected. */
    if (r != 0 && (r != -EPIPE || before >= st->fail_at || st->calls < st->fail_at))
        __builtin_trap();
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct state st = {0};
    struct lines *l = NULL;
    unsigned seed;
    size_t off = 3;
    int r;

    if (size < 3)
        return 0;
    st.block_max = 1 + data[0] % 512;
    st.max_line = 1 + data[1] % 128;
    st.fail_at = data[2] & 0x80 ? 1 + data[2] % 16 : 0;
    seed = data[2];
    if (marker_new(st.block_max, &st.m) < 0 || lines_new(st.max_line, &l) < 0)
        goto out;
    while (off < size) {
        size_t c;

        seed = seed * 1103515245u + 12345u;
        c = 1 + (seed >> 16) % (2 * st.max_line + 2);
        c = c < size - off ? c : size - off;
        r = lines_feed(l, (const char *)data + off, c, to_marker, &st);
        if (r != 0 && r != -EPIPE)
            __builtin_trap();
        off += c;
    }
    r = lines_finish(l, to_marker, &st);
    if (r == 0 || r == -EPIPE)
        r = marker_finish(st.m, &ops, &st);
    if (r != 0 && r != -EPIPE)
        __builtin_trap();
out:
    lines_free(l);
    marker_free(st.m);
    return 0;
}

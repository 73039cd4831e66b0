// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the line splitter. Input: byte 0 picks max_line
 * (1..64), byte 1 seeds the read sizes, the rest is the pipe's bytes. What is
 * delivered must equal a naive model of the contract (split at '\n', pieces of
 * max_line raw bytes, one '\r' off the end), whatever the read sizes; every
 * piece is at most max_line bytes and the flags chain up. Violations trap.
 */
#include "lines.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct out {
    char *buf; /* deliveries: bytes only; flags and lengths in lens/flags */
    size_t len;
    size_t *lens;
    unsigned *flags;
    size_t n;
    size_t max;
};

static void put(struct out *o, const char *line, size_t len, unsigned flags)
{
    if (len > o->max)
        __builtin_trap();
    memcpy(o->buf + o->len, line, len);
    o->len += len;
    o->lens[o->n] = len;
    o->flags[o->n] = flags;
    o->n++;
}

static int collect(void *ctx, const char *line, size_t len, unsigned flags)
{
    struct out *o = ctx;

    put(o, line, len, flags);
    return 0;
}

static void model(struct out *o, const char *in, size_t n)
{
    size_t start = 0;

    while (start < n) {
        const char *nl = memchr(in + start, '\n', n - start);
        size_t end = nl ? (size_t)(nl - in) : n;
        size_t len = end - start;
        unsigned cont = 0;

        while (len > o->max) {
            put(o, in + start, o->max, LINES_PARTIAL | cont);
            cont = LINES_CONTINUED;
            start += o->max;
            len -= o->max;
        }
        if (len > 0 && in[start + len - 1] == '\r')
            len--;
        put(o, in + start, len, cont | (nl ? 0 : LINES_NO_EOL));
        start = end + 1;
    }
}

static int out_init(struct out *o, size_t n, size_t max)
{
    /* At most one delivery per input byte, plus one. */
    o->buf = malloc(n + 1);
    o->lens = calloc(n + 1, sizeof(*o->lens));
    o->flags = calloc(n + 1, sizeof(*o->flags));
    o->len = o->n = 0;
    o->max = max;
    return o->buf && o->lens && o->flags ? 0 : -1;
}

static void out_fini(struct out *o)
{
    free(o->buf);
    free(o->lens);
    free(o->flags);
}

/* Flags chain: CONTINUED exactly after PARTIAL, PARTIAL pieces are full, NO_EOL last. */
static void check_flags(const struct out *o)
{
    for (size_t i = 0; i < o->n; i++) {
        unsigned f = o->flags[i];
        unsigned prev = i > 0 ? o->flags[i - 1] : 0;

        if (!(f & LINES_CONTINUED) != !(prev & LINES_PARTIAL))
            __builtin_trap();
        if ((f & LINES_PARTIAL) && o->lens[i] != o->max)
            __builtin_trap();
        if ((f & LINES_NO_EOL) && (i + 1 != o->n || (f & LINES_PARTIAL)))
            __builtin_trap();
    }
    if (o->n > 0 && (o->flags[o->n - 1] & LINES_PARTIAL))
        __builtin_trap();
}

static void run(struct out *o, const char *in, size_t n, unsigned seed)
{
    struct lines *l = NULL;
    size_t off = 0;

    if (lines_new(o->max, &l) < 0)
        return;
    while (off < n) {
        size_t c;

        seed = seed * 1103515245u + 12345u;
        c = 1 + (seed >> 16) % (2 * o->max + 2);
        c = c < n - off ? c : n - off;
        if (lines_feed(l, in + off, c, collect, o) != 0)
            __builtin_trap();
        off += c;
    }
    if (lines_finish(l, collect, o) != 0)
        __builtin_trap();
    lines_free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct out got = {0};
    struct out want = {0};
    const char *in = (const char *)data + 2;
    size_t n;

    if (size < 2)
        return 0;
    n = size - 2;
    if (out_init(&got, n, 1 + data[0] % 64) == 0 && out_init(&want, n, got.max) == 0) {
        run(&got, in, n, data[1]);
        model(&want, in, n);
        check_flags(&got);
        if (got.n != want.n || got.len != want.len || memcmp(got.buf, want.buf, got.len) != 0 ||
            memcmp(got.lens, want.lens, got.n * sizeof(*got.lens)) != 0 ||
            memcmp(got.flags, want.flags, got.n * sizeof(*got.flags)) != 0)
            __builtin_trap();
    }
    out_fini(&got);
    out_fini(&want);
    return 0;
}

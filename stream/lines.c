// SPDX-License-Identifier: MIT
/*
 * lines: the line splitter of one pipe (see lines.h for the contract).
 * Owns a tail buffer of max_line bytes allocated once; lines complete in the
 * caller's buffer are handed out from there (memchr, no per-byte loop), only
 * the unfinished tail is copied. Does not allocate after lines_new().
 * Invariants: len <= max; is_cont means pieces of the current line were
 * delivered, so len > 0 or more input is on hand whenever is_cont is set;
 * a max-sized piece leaves only once a following byte other than '\n' is seen.
 * Called by the thread reading that pipe only.
 */
#include "lines.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct lines {
    size_t max;   /* longest line or piece delivered */
    size_t len;   /* bytes of the unfinished line held in buf */
    bool is_cont; /* pieces of the current line were already delivered */
    char buf[];   /* max bytes */
};

int lines_new(size_t max_line, struct lines **ret)
{
    struct lines *l;

    if (max_line == 0 || max_line > SIZE_MAX / 2)
        return -EINVAL;
    l = malloc(sizeof(*l) + max_line);
    if (!l)
        return -ENOMEM;
    l->max = max_line;
    l->len = 0;
    l->is_cont = false;
    *ret = l;
    return 0;
}

struct lines *lines_free(struct lines *l)
{
    free(l);
    return NULL;
}

/* The last piece of a line: one trailing '\r' dropped, the line finished. */
static int deliver_end(struct lines *l, const char *p, size_t n, unsigned flags, lines_fn fn,
                       void *ctx)
{
    if (n > 0 && p[n - 1] == '\r')
        n--;
    if (l->is_cont)
        flags |= LINES_CONTINUED;
    l->is_cont = false;
    return fn(ctx, p, n, flags);
}

/* A max-sized piece of a line known to go on. */
static int deliver_piece(struct lines *l, const char *p, lines_fn fn, void *ctx)
{
    unsigned flags = LINES_PARTIAL | (l->is_cont ? LINES_CONTINUED : 0u);

    l->is_cont = true;
    return fn(ctx, p, l->max, flags);
}

/*
 * No tail held: delivers the line ending at the first '\n' of p straight from
 * p (in pieces if long), or keeps what is left of an unterminated line.
 * *used receives the bytes consumed.
 */
static int feed_direct(struct lines *l, const char *p, size_t n, lines_fn fn, void *ctx,
                       size_t *used)
{
    const char *nl = memchr(p, '\n', n);
    size_t seg = nl ? (size_t)(nl - p) : n;
    size_t off = 0;

    /* More than max bytes before the '\n' (or the end): p[off + max] exists and is no '\n'. */
    while (seg - off > l->max) {
        int r = deliver_piece(l, p + off, fn, ctx);

        if (r < 0)
            return r;
        off += l->max;
    }
    if (!nl) {
        memcpy(l->buf, p + off, seg - off);
        l->len = seg - off;
        *used = n;
        return 0;
    }
    *used = seg + 1;
    return deliver_end(l, p + off, seg - off, 0, fn, ctx);
}

/*
 * A tail is held: completes it from p if its '\n' comes within the room left,
 * else fills the buffer and delivers it as a piece. The tail is marked empty
 * before fn runs, so an error leaves a clean splitter.
 */
static int feed_tail(struct lines *l, const char *p, size_t n, lines_fn fn, void *ctx, size_t *used)
{
    size_t room = l->max - l->len;
    const char *nl = memchr(p, '\n', n < room + 1 ? n : room + 1);

    if (nl) {
        size_t seg = (size_t)(nl - p);
        size_t len = l->len + seg;

        memcpy(l->buf + l->len, p, seg);
        l->len = 0;
        *used = seg + 1;
        return deliver_end(l, l->buf, len, 0, fn, ctx);
    }
    if (n <= room) {
        memcpy(l->buf + l->len, p, n);
        l->len += n;
        *used = n;
        return 0;
    }
    /* p[room] exists and is no '\n': the line is longer than max. */
    memcpy(l->buf + l->len, p, room);
    l->len = 0;
    *used = room;
    return deliver_piece(l, l->buf, fn, ctx);
}

int lines_feed(struct lines *l, const char *buf, size_t n, lines_fn fn, void *ctx)
{
    while (n > 0) {
        size_t used = 0;
        int r = l->len > 0 ? feed_tail(l, buf, n, fn, ctx, &used)
                           : feed_direct(l, buf, n, fn, ctx, &used);

        if (r < 0) {
            l->len = 0;
            l->is_cont = false;
            return r;
        }
        buf += used;
        n -= used;
    }
    return 0;
}

int lines_finish(struct lines *l, lines_fn fn, void *ctx)
{
    size_t len = l->len;

    if (len == 0)
        return 0;
    l->len = 0;
    return deliver_end(l, l->buf, len, LINES_NO_EOL, fn, ctx);
}

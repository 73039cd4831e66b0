// SPDX-License-Identifier: MIT
/*
 * marker: metric markers, the multi-line block router and Go's whitespace
 * trimming for one fd (see marker.h for the contract and notes §7 for Go).
 * Owns the block buffer (grown on demand, released after a flush when it got
 * over 64 KiB) and a scratch buffer for a line with its markers cut out.
 * Does not trim entries again at the sink, talk to Redis or split lines.
 * Invariants: is_open is Go's "buffer not empty" (a ">>|" was seen and not
 * yet flushed); blk_len > block_max never outlives a marker_line() call.
 * Called by the thread reading that fd only.
 */
#include "marker.h"

#include "lines.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Buffers grown past this are released once their content is no longer needed. */
#define KEEP_MAX ((size_t)64 * 1024)
#define NONE     SIZE_MAX

struct marker {
    size_t block_max; /* a block over this is flushed */
    char *blk;        /* the open block: lines joined by '\n' */
    size_t blk_len;
    size_t blk_cap;
    bool is_open;
    char *tmp; /* the current line with its markers cut out */
    size_t tmp_cap;
};

struct span {
    size_t off;
    size_t len;
};

int marker_new(size_t block_max, struct marker **ret)
{
    struct marker *m;

    if (block_max == 0)
        return -EINVAL;
    m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->block_max = block_max;
    *ret = m;
    return 0;
}

struct marker *marker_free(struct marker *m)
{
    if (m) {
        free(m->blk);
        free(m->tmp);
        free(m);
    }
    return NULL;
}

/* Makes *buf hold at least need bytes, doubling, but not past limit unless need is. */
static int grow(char **buf, size_t *cap, size_t need, size_t limit)
{
    size_t n = *cap ? *cap : 256;
    char *p;

    if (need <= *cap)
        return 0;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    if (n > limit && need <= limit)
        n = limit;
    p = realloc(*buf, n);
    if (!p)
        return -ENOMEM;
    *buf = p;
    *cap = n;
    return 0;
}

/* Whitespace as Go's unicode.IsSpace sees it, on UTF-8 bytes. */
static bool is_ascii_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000 (3 bytes each). */
static bool is_space3(const unsigned char *s)
{
    if (s[0] == 0xe1)
        return s[1] == 0x9a && s[2] == 0x80;
    if (s[0] == 0xe3)
        return s[1] == 0x80 && s[2] == 0x80;
    if (s[0] != 0xe2)
        return false;
    if (s[1] == 0x81)
        return s[2] == 0x9f;
    return s[1] == 0x80 &&
           ((s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf);
}

/* Bytes of the whitespace character starting s (n > 0 bytes left), 0 if none. */
static size_t space_at(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return is_ascii_space(s[0]) ? 1 : 0;
    if (n >= 2 && s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
        return 2;
    return n >= 3 && is_space3(s) ? 3 : 0;
}

/*
 * Bytes of the whitespace character ending s + n (n > 0), 0 if none. Matching
 * the exact suffix is what Go's DecodeLastRune yields for these characters.
 */
static size_t space_before(const unsigned char *s, size_t n)
{
    unsigned char c = s[n - 1];

    if (c < 0x80)
        return is_ascii_space(c) ? 1 : 0;
    if (n >= 2 && s[n - 2] == 0xc2 && (c == 0x85 || c == 0xa0))
        return 2;
    return n >= 3 && is_space3(s + n - 3) ? 3 : 0;
}

/* Length of the leading whitespace of s. */
static size_t lead_space(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    size_t k;

    while (i < n && (k = space_at(u + i, n - i)) > 0)
        i += k;
    return i;
}

/* Length of s without its trailing whitespace. */
static size_t trim_end(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t k;

    while (n > 0 && (k = space_before(u, n)) > 0)
        n -= k;
    return n;
}

/*
 * An entry from one line: trimmed like Go's TrimSpace except at an end that is
 * a piece boundary (flags LINES_CONTINUED: start, LINES_PARTIAL: end); dropped
 * if empty.
 */
static int emit_trimmed(const char *s, size_t n, unsigned flags, const struct marker_ops *ops,
                        void *ctx)
{
    size_t lead = flags & LINES_CONTINUED ? 0 : lead_space(s, n);

    s += lead;
    n -= lead;
    if (!(flags & LINES_PARTIAL))
        n = trim_end(s, n);
    if (n == 0)
        return 0;
    return ops->message(ctx, s, n, flags);
}

static bool is_blank(const char *s, size_t n)
{
    return lead_space(s, n) == n;
}

/* Offset of the first line of b that is not blank (n if none). */
static size_t skip_blank_lines(const char *b, size_t n)
{
    size_t p = 0;

    while (p < n) {
        const char *nl = memchr(b + p, '\n', n - p);
        size_t end = nl ? (size_t)(nl - b) : n;

        if (!is_blank(b + p, end - p))
            return p;
        p = nl ? end + 1 : n;
    }
    return n;
}

/* End of b[p, q) without its trailing blank lines and the '\n's before them. */
static size_t cut_blank_lines(const char *b, size_t p, size_t q)
{
    while (q > p) {
        const char *nl = memrchr(b + p, '\n', q - p);
        size_t start = nl ? (size_t)(nl - b) + 1 : p;

        if (!is_blank(b + start, q - start))
            return q;
        q = nl ? start - 1 : p;
    }
    return p;
}

static void block_reset(struct marker *m)
{
    m->blk_len = 0;
    m->is_open = false;
    if (m->blk_cap > KEEP_MAX) {
        free(m->blk);
        m->blk = NULL;
        m->blk_cap = 0;
    }
}

/* Logs the block (blank lines at both ends cut, the rest kept) and closes it. */
static int flush_block(struct marker *m, const struct marker_ops *ops, void *ctx)
{
    size_t p = skip_blank_lines(m->blk, m->blk_len);
    size_t q = cut_blank_lines(m->blk, p, m->blk_len);
    int r = 0;

    if (q > p)
        r = ops->message(ctx, m->blk + p, q - p, MARKER_BLOCK);
    block_reset(m);
    return r;
}

static int block_append(struct marker *m, const char *s, size_t n, bool add_nl)
{
    int r;

    if (n > SIZE_MAX - 1 - m->blk_len)
        return -ENOMEM;
    r = grow(&m->blk, &m->blk_cap, m->blk_len + n + 1, m->block_max + 1);
    if (r < 0)
        return r;
    if (n > 0)
        memcpy(m->blk + m->blk_len, s, n);
    m->blk_len += n;
    if (add_nl)
        m->blk[m->blk_len++] = '\n';
    return 0;
}

static bool is_word(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

/* Length of the run of \w (digits_only: \d) characters starting s. */
static size_t run_of(const char *s, size_t n, bool digits_only)
{
    size_t i = 0;

    while (i < n && (digits_only ? s[i] >= '0' && s[i] <= '9' : is_word(s[i])))
        i++;
    return i;
}

/*
 * Length of the match of \{\{(\w+):?(\d*)\}\} at p (p starts with "{{"), 0 if
 * none. \w+ and \d* are greedy and '}' is neither, so the first match RE2
 * finds is the one with the longest name: name is the whole word run, value
 * the whole digit run after an optional ':'.
 */
static size_t match_at(const char *p, size_t n, struct span *name, struct span *value)
{
    size_t i = 2 + run_of(p + 2, n - 2, false);

    if (i == 2)
        return 0;
    *name = (struct span){2, i - 2};
    *value = (struct span){i, 0};
    if (i < n && p[i] == ':') {
        value->off = i + 1;
        value->len = run_of(p + i + 1, n - i - 1, true);
        i = value->off + value->len;
    }
    if (n - i >= 2 && p[i] == '}' && p[i + 1] == '}')
        return i + 2;
    return 0;
}

static int call_metric(const char *p, struct span name, struct span value,
                       const struct marker_ops *ops, void *ctx)
{
    if (value.len == 0)
        return ops->metric(ctx, MARKER_INCR, p + name.off, name.len, NULL, 0);
    return ops->metric(ctx, MARKER_SET, p + name.off, name.len, p + value.off, value.len);
}

/* The first "{{" in s, NULL if none: memchr, which beats memmem on short lines. */
static const char *find_braces(const char *s, size_t n)
{
    const char *end = s + n;
    const char *p;

    while (s < end && (p = memchr(s, '{', (size_t)(end - s)))) {
        if (end - p < 2)
            break;
        if (p[1] == '{')
            return p;
        s = p + 2; /* p[1] is no '{', so no "{{" starts there */
    }
    return NULL;
}

/*
 * Reports every marker of line, leftmost first, and gives the line with the
 * markers cut out: line itself if it has none, else the scratch buffer.
 */
static int cut_metrics(struct marker *m, const char *line, size_t len, const struct marker_ops *ops,
                       void *ctx, const char **ret, size_t *ret_len)
{
    size_t pos = 0;
    size_t done = 0; /* line[0, done) is copied or cut */
    size_t out = 0;
    const char *q;

    while (len - pos >= 5 && (q = find_braces(line + pos, len - pos))) {
        size_t at = (size_t)(q - line);
        struct span name;
        struct span value;
        size_t k = match_at(q, len - at, &name, &value);
        int r;

        pos = at + 1;
        if (k == 0)
            continue;
        r = grow(&m->tmp, &m->tmp_cap, len, len);
        if (r >= 0)
            r = call_metric(q, name, value, ops, ctx);
        if (r < 0)
            return r;
        memcpy(m->tmp + out, line + done, at - done);
        out += at - done;
        done = pos = at + k;
    }
    if (done == 0) {
        *ret = line;
        *ret_len = len;
        return 0;
    }
    memcpy(m->tmp + out, line + done, len - done);
    *ret = m->tmp;
    *ret_len = out + len - done;
    return 0;
}

/* Offsets of the first ">>|" and the first "|<<" in s, NONE if absent. */
static void find_tokens(const char *s, size_t n, size_t *ret_start, size_t *ret_end)
{
    size_t st = NONE;
    size_t en = NONE;
    size_t i = 0;
    const char *bar;

    while ((st == NONE || en == NONE) && i < n && (bar = memchr(s + i, '|', n - i))) {
        size_t b = (size_t)(bar - s);

        if (st == NONE && b >= 2 && s[b - 2] == '>' && s[b - 1] == '>')
            st = b - 2;
        if (en == NONE && n - b >= 3 && s[b + 1] == '<' && s[b + 2] == '<')
            en = b;
        i = b + 1;
    }
    *ret_start = st;
    *ret_end = en;
}

/* ">>|a|<<b": a and b are entries; an open block stays as it is. */
static int route_inline(const char *s, size_t n, size_t st, size_t en, unsigned flags,
                        const struct marker_ops *ops, void *ctx)
{
    size_t from = st + 3 <= en ? st + 3 : en; /* ">>|<<" shares its '|': nothing between */
    int r = emit_trimmed(s + from, en - from, 0, ops, ctx);

    if (r < 0)
        return r;
    return emit_trimmed(s + en + 3, n - en - 3, flags & LINES_PARTIAL, ops, ctx);
}

/* "x>>|a" (maybe with an earlier "|<<"): flush an open block, start one with a. */
static int route_start(struct marker *m, const char *s, size_t n, size_t st, unsigned flags,
                       const struct marker_ops *ops, void *ctx)
{
    if (m->is_open) {
        int r = flush_block(m, ops, ctx);

        if (r < 0)
            return r;
    }
    m->is_open = true;
    return block_append(m, s + st + 3, n - st - 3, !(flags & LINES_PARTIAL));
}

/* "a|<<b": a ends the open block (or is an entry if none is open); b is an entry. */
static int route_end(struct marker *m, const char *s, size_t n, size_t en, unsigned flags,
                     const struct marker_ops *ops, void *ctx)
{
    int r;

    if (m->is_open) {
        int a = block_append(m, s, en, false);

        r = flush_block(m, ops, ctx);
        if (a < 0 && r >= 0)
            r = a;
    } else {
        r = emit_trimmed(s, en, flags & LINES_CONTINUED, ops, ctx);
    }
    if (r < 0)
        return r;
    return emit_trimmed(s + en + 3, n - en - 3, flags & LINES_PARTIAL, ops, ctx);
}

static int route(struct marker *m, const char *s, size_t n, unsigned flags,
                 const struct marker_ops *ops, void *ctx)
{
    size_t st;
    size_t en;

    find_tokens(s, n, &st, &en);
    if (st != NONE && en != NONE && st < en)
        return route_inline(s, n, st, en, flags, ops, ctx);
    if (st != NONE)
        return route_start(m, s, n, st, flags, ops, ctx);
    if (en != NONE)
        return route_end(m, s, n, en, flags, ops, ctx);
    if (m->is_open)
        return block_append(m, s, n, !(flags & LINES_PARTIAL));
    return emit_trimmed(s, n, flags, ops, ctx);
}

/* Go's cap: a block over block_max gives the warning and is flushed. */
static int overflow(struct marker *m, const struct marker_ops *ops, void *ctx)
{
    int r = ops->message(ctx, MARKER_WARNING_TEXT, sizeof(MARKER_WARNING_TEXT) - 1, MARKER_WARNING);

    if (r < 0) {
        block_reset(m);
        return r;
    }
    return flush_block(m, ops, ctx);
}

int marker_line(struct marker *m, const char *line, size_t len, unsigned flags,
                const struct marker_ops *ops, void *ctx)
{
    const char *s = line;
    size_t n = len;
    int r;

    flags &= LINES_PARTIAL | LINES_CONTINUED;
    r = cut_metrics(m, line, len, ops, ctx, &s, &n);
    if (r >= 0)
        r = route(m, s, n, flags, ops, ctx);
    if (r >= 0 && m->blk_len > m->block_max)
        r = overflow(m, ops, ctx);
    if (m->tmp_cap > KEEP_MAX) {
        free(m->tmp);
        m->tmp = NULL;
        m->tmp_cap = 0;
    }
    return r < 0 ? r : 0;
}

int marker_finish(struct marker *m, const struct marker_ops *ops, void *ctx)
{
    if (!m->is_open)
        return 0;
    return flush_block(m, ops, ctx);
}

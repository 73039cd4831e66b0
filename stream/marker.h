// SPDX-License-Identifier: MIT
/*
 * marker: what the Go wrapp does to each line of the app's output before it
 * becomes a Redis entry: {{metric}} markers, the ">>|" ... "|<<" multi-line
 * block router and whitespace trimming (notes §7), with the documented fixes:
 * state per fd, a block open at EOF is flushed, block entries keep their
 * indentation. Owns the block buffer (at most block_max plus one line) and a
 * scratch copy of a line with markers removed; it does not talk to Redis or
 * split lines (lines.h), its ops callbacks do. One instance per fd, used by
 * the thread reading that fd only; no locking. Binary-safe: lengths only.
 */
#pragma once

#include <stddef.h>

/* What a metric marker asks for: {{name}} or {{name:}} INCR, {{name:42}} SET. */
enum marker_metric {
    MARKER_INCR,
    MARKER_SET,
};

/*
 * The consumers of markers and entries. Every pointer passed is borrowed and
 * valid only during the call; text is not NUL-terminated. A callback returns
 * >= 0 to go on or a -errno to abort marker_line()/marker_finish() with it.
 */
struct marker_ops {
    /*
     * A metric marker, in the order found in the line. name: [A-Za-z0-9_]+.
     * MARKER_INCR: value NULL, value_len 0. MARKER_SET: value is the ASCII
     * digits exactly as written ("007" stays "007").
     */
    int (*metric)(void *ctx, enum marker_metric op, const char *name, size_t name_len,
                  const char *value, size_t value_len);
    /*
     * One entry for the :info stream, never empty. flags: MARKER_BLOCK for the
     * content of a multi-line block (may hold '\n'; must not be trimmed
     * again), MARKER_WARNING for wrapp's own size warning, else the
     * LINES_PARTIAL/LINES_CONTINUED of the line when the entry's text reaches
     * that end of a piece of a long line (see marker_line()).
     */
    int (*message)(void *ctx, const char *text, size_t len, unsigned flags);
};

/* message(): the entry is the content of a multi-line block. */
#define MARKER_BLOCK 0x100u
/* message(): the entry is MARKER_WARNING_TEXT, logged before an oversized block. */
#define MARKER_WARNING 0x200u
/* Go's text for the oversized-block warning, kept for readers that look for it. */
#define MARKER_WARNING_TEXT "Warning: Multi-line log exceeded maximum size"
/* Go's block cap: a block over this many bytes is flushed. */
#define MARKER_BLOCK_MAX_DEFAULT ((size_t)10 * 1024 * 1024)

struct marker;

/*
 * A router whose block is flushed once it holds more than block_max (>= 1)
 * bytes. *ret receives an owned object (free with marker_free()), written only
 * on success. Returns 0, -EINVAL (block_max 0) or -ENOMEM.
 */
int marker_new(size_t block_max, struct marker **ret);

/* Frees m (takes it; NULL is fine), dropping an open block; returns NULL. */
struct marker *marker_free(struct marker *m);

/*
 * Handles one line or piece from lines_feed() (line borrowed; flags: LINES_*).
 * (a) Every match of \{\{(\w+):?(\d*)\}\} (\w = [A-Za-z0-9_], \d = [0-9]),
 *     leftmost first, calls ops->metric and is cut out; the rest is joined.
 * (b) Tokens: S = first ">>|", E = first "|<<" of the joined text.
 *     S before E: the text between, trimmed, is an entry (the open block is
 *     untouched); the text after E, trimmed, is an entry. (">>|<<", which
 *     makes Go panic, counts as S..E with nothing between.)
 *     S only, or E before S: an open block is flushed; a new block starts
 *     with the text after S and '\n'; the text before S is dropped.
 *     E only: with a block open, the text before E is appended and the block
 *     flushed; with none, the text before E, trimmed, is an entry. The text
 *     after E, trimmed, is an entry.
 *     No token, block open: the line, untrimmed, and '\n' are appended.
 * (c) Otherwise the line, trimmed, is an entry. Trimming is Go's
 *     strings.TrimSpace (Unicode White_Space in UTF-8; invalid bytes are not
 *     space); an entry left empty is dropped.
 * A block is flushed as one MARKER_BLOCK entry without its leading and
 * trailing blank (empty or all-space) lines and final '\n's; every other byte
 * is kept (Go trimmed the whole block, losing the first line's indentation);
 * nothing is logged if that leaves it empty. After the line, a block over
 * block_max bytes gives a MARKER_WARNING entry and is flushed.
 * Pieces of a long line (LINES_PARTIAL/LINES_CONTINUED) are handled one by
 * one, so markers and tokens split across pieces are not seen; a piece is
 * appended to a block without '\n' unless it ends its line, and an entry is
 * not trimmed at an end that is a piece boundary (it carries the flag
 * instead), so the pieces join back into the line.
 * Returns 0, -ENOMEM (the line's remaining work is dropped) or a callback's
 * negative value (the same; a block being flushed is gone).
 */
int marker_line(struct marker *m, const char *line, size_t len, unsigned flags,
                const struct marker_ops *ops, void *ctx);

/*
 * EOF of this fd: an open block is flushed as one entry (a fix: Go loses it)
 * and the router is empty again. Returns 0 or a callback's negative value.
 */
int marker_finish(struct marker *m, const struct marker_ops *ops, void *ctx);

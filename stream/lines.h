// SPDX-License-Identifier: MIT
/*
 * lines: splits the bytes read from one of the app's pipes into lines, like
 * Go's bufio.Scanner with ScanLines ('\n' ends a line, one trailing '\r' is
 * dropped, a last line without '\n' is delivered at EOF), but without Go's
 * 64 KiB failure: a longer line is delivered in pieces of max_line bytes.
 * Owns only the tail of an unfinished line (at most max_line bytes); it does
 * not read fds, parse markers or trim. One instance per fd, used by the one
 * thread reading that fd; no locking. Bytes are data: NULs and invalid UTF-8
 * pass through, lengths are never taken with strlen.
 */
#pragma once

#include <stddef.h>

/* This piece of a long line is continued by the next piece. */
#define LINES_PARTIAL 1u
/* This piece continues the previous piece of the same line. */
#define LINES_CONTINUED 2u
/* The last line at EOF had no trailing newline. */
#define LINES_NO_EOL 4u

/* The line length callers use unless configured otherwise (1 MiB). */
#define LINES_MAX_DEFAULT (1024u * 1024u)

/*
 * Receives one line or piece: line borrows either the caller's input buffer
 * or the splitter's tail buffer and is valid only during the call; it is not
 * NUL-terminated and may contain NULs. flags: LINES_*. Return >= 0 to go on,
 * < 0 (a -errno) to make lines_feed()/lines_finish() stop and return it.
 */
typedef int (*lines_fn)(void *ctx, const char *line, size_t len, unsigned flags);

struct lines;

/*
 * A splitter delivering lines of at most max_line bytes (>= 1). *ret receives
 * an owned object (free with lines_free()), written only on success.
 * Returns 0, -EINVAL (max_line 0 or absurd) or -ENOMEM. Any thread.
 */
int lines_new(size_t max_line, struct lines **ret);

/* Frees l (takes it; NULL is fine) and returns NULL. */
struct lines *lines_free(struct lines *l);

/*
 * Feeds n bytes read from the pipe (buf borrowed). Calls fn once per complete
 * line, without the '\n' and with one trailing '\r' removed; flags 0 for an
 * ordinary line. Lines complete in buf are passed straight from buf; only an
 * unfinished tail is copied. A line longer than max_line bytes (counting a
 * final '\r') comes in pieces of max_line bytes: all but the last have
 * LINES_PARTIAL, all but the first LINES_CONTINUED; the '\r' is only removed
 * from the last piece, which may therefore be empty. A piece is delivered as
 * soon as a following byte shows the line goes on, so a line of exactly
 * max_line bytes is one line. Never allocates. Returns 0, or the first
 * negative value fn returned: the rest of buf is then dropped and the
 * splitter starts afresh at the next byte fed.
 */
int lines_feed(struct lines *l, const char *buf, size_t n, lines_fn fn, void *ctx);

/*
 * EOF: delivers the unterminated rest, if any, with LINES_NO_EOL (plus
 * LINES_CONTINUED if it ends a long line), one trailing '\r' removed, as Go
 * does. The splitter is then empty and reusable. Returns 0 or fn's negative
 * value.
 */
int lines_finish(struct lines *l, lines_fn fn, void *ctx);

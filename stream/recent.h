// SPDX-License-Identifier: MIT
/*
 * The app's last lines, kept for crash reports: a ring of the newest N
 * lines (each cut at RECENT_LINE_MAX bytes), written by the capture in the
 * main thread and copied out by the crash supervisor's thread. Owns its
 * lock; any thread.
 */
#pragma once

#include <stddef.h>

#define RECENT_LINE_MAX 1024

struct recent;

/* A ring of n lines; n == 0 keeps nothing. Returns 0 or -ENOMEM. */
int recent_new(size_t n, struct recent **ret);
struct recent *recent_free(struct recent *r);

/* Keep one line; tag 'o' (stdout), 'e' (stderr) or 0 (wrapp). Never fails:
 * without memory the line is not kept. Takes NULL. */
void recent_push(struct recent *r, char tag, const char *text, size_t len);

/* Copy the lines, oldest first, as "out: text" / "err: text" into a
 * NULL-terminated vector (owned by the caller). Returns the count, or
 * -ENOMEM. Takes NULL (0 lines). */
long recent_copy(struct recent *r, char ***ret);

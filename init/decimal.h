// SPDX-License-Identifier: MIT
/*
 * Strict decimal numbers for command-line values, config strings and URLs:
 * digits only (no sign, no spaces, no trailing text), within a range.
 * Pure; any thread.
 */
#pragma once

#include <errno.h>
#include <stdlib.h>

/* The value of s if it is all digits and within [lo, hi] (lo >= 0), else
 * -EINVAL. */
static inline long decimal_parse(const char *s, long lo, long hi)
{
    char *end;
    long v;

    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtol(s, &end, 10);
    if (*end || errno || v < lo || v > hi)
        return -EINVAL;
    return v;
}

// SPDX-License-Identifier: MIT
/*
 * ASCII-only, locale-free case-insensitive comparisons for keys, names and
 * flags (config keys, signal names, log levels). Small on purpose: libc's
 * strcasecmp brings several ifunc variants and locale tables into a static
 * binary, which an init pays for in size and resident memory.
 * Pure functions; any thread; async-signal-safe.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

static inline unsigned char ascii_lower(char c)
{
    unsigned char u = (unsigned char)c;

    return u >= 'A' && u <= 'Z' ? (unsigned char)(u | 0x20) : u;
}

/* Equal ignoring ASCII case, over at most n bytes (n = (size_t)-1: whole). */
static inline bool ascii_ncase_eq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ascii_lower(a[i]) != ascii_lower(b[i]))
            return false;
        if (a[i] == '\0')
            return true;
    }
    return true;
}

static inline bool ascii_case_eq(const char *a, const char *b)
{
    return ascii_ncase_eq(a, b, (size_t)-1);
}

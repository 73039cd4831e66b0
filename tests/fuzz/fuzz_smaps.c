// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the /proc/PID/smaps and coredump_filter parsers
 * behind the ELF core: any bytes give a mapping count or -ENOMEM, never a
 * crash, an over-read or a leak. Every mapping kept has start <= end, a
 * valid perms string, a path that is NULL or non-empty, and a rule.
 */
#include "coremaps.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct coremaps m = {0};
    int r = coremaps_parse_smaps((const char *)data, size, &m);
    unsigned filter = 0;

    if (r < 0 && r != -ENOMEM)
        __builtin_trap();
    if (r >= 0 && (size_t)r != m.n)
        __builtin_trap();
    for (size_t i = 0; i < m.n; i++) {
        const struct coremaps_map *e = &m.v[i];
        enum coremaps_dump d = coremaps_rule(e, COREMAPS_FILTER_DEFAULT);
        if (e->start > e->end || strlen(e->perms) != 4 || (e->path && !*e->path) ||
            (d != COREMAPS_NONE && d != COREMAPS_WHOLE && d != COREMAPS_HEADER))
            __builtin_trap();
    }
    coremaps_fini(&m);
    if (coremaps_parse_filter((const char *)data, size, &filter) == 0 && size > 0 &&
        (data[0] < '0' || data[0] > 'f'))
        __builtin_trap();
    return 0;
}

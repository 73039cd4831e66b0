// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the /proc/PID/maps line parser: any bytes give 0,
 * -EINVAL or -ENOMEM, never a crash, an over-read or a leak. A parsed line
 * has start <= end, perms of [r-][w-][x-][ps], and a path that is NULL or
 * non-empty without NUL or newline.
 */
#include "procinfo.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct crash_map m = {0};
    int r = procinfo_parse_maps_line((const char *)data, size, &m);

    if (r != 0 && r != -EINVAL && r != -ENOMEM)
        __builtin_trap();
    if (r != 0)
        return 0;
    if (m.start > m.end || strlen(m.perms) != 4 || !strchr("r-", m.perms[0]) ||
        !strchr("w-", m.perms[1]) || !strchr("x-", m.perms[2]) || !strchr("ps", m.perms[3]))
        __builtin_trap();
    if (m.path && (!*m.path || strchr(m.path, '\n') || strlen(m.path) >= size))
        __builtin_trap();
    free(m.path);
    return 0;
}

// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the Redis URL parser: any bytes give 0 or -EINVAL
 * (or -ENOMEM), never a crash or leak; a parsed URL has a host or a
 * socket path, a port in 1..65535 and a DB in 0..1023.
 */
#include "rconn.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rconn_target t = {.port = 6379, .db = 1};
    char *url = malloc(size + 1);
    int r;

    if (!url)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    r = rconn_parse_url(url, &t);
    if (r != 0 && r != -EINVAL && r != -ENOMEM)
        __builtin_trap();
    if (r == 0 &&
        ((!t.host && !t.unix_path) || t.port < 1 || t.port > 65535 || t.db < 0 || t.db > 1023))
        __builtin_trap();
    rconn_target_fini(&t);
    free(url);
    return 0;
}

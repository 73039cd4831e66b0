// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the Redis URL parser (redis://, unix://,
 * redis-sentinel://, redis-cluster://): any bytes give 0 or -EINVAL (or
 * -E2BIG for too many nodes, -ENOMEM), never a crash or leak; a parsed
 * URL has a host or a socket path, or nodes (and a master name for
 * Sentinel), ports in 1..65535 and a DB in 0..1023.
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
    if (r != 0 && r != -EINVAL && r != -E2BIG && r != -ENOMEM)
        __builtin_trap();
    if (r == 0 && t.mode == RCONN_DIRECT &&
        ((!t.host && !t.unix_path) || t.port < 1 || t.port > 65535 || t.db < 0 || t.db > 1023))
        __builtin_trap();
    if (r == 0 && t.mode != RCONN_DIRECT &&
        (t.n_nodes == 0 || t.n_nodes > RCONN_NODES_MAX || (t.mode == RCONN_SENTINEL && !t.master)))
        __builtin_trap();
    for (size_t i = 0; r == 0 && i < t.n_nodes; i++)
        if (!t.nodes[i].host || t.nodes[i].port < 1 || t.nodes[i].port > 65535)
            __builtin_trap();
    rconn_target_fini(&t);
    free(url);
    return 0;
}

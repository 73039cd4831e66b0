// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the replies wrapp interprets itself in Sentinel
 * and Cluster modes: any bytes, read as RESP by hiredis's reader, give a
 * CLUSTER SLOTS map (every lookup inside a range, ports 1..65535) or
 * -EPROTO, a sentinel address or an error; the same bytes as a MOVED/ASK
 * error text and as a key to lay out never crash or overflow.
 */
#include "cluster.h"
#include "crc16.h"
#include "sentinel.h"

#include <errno.h>
#include <hiredis.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reply(const redisReply *rep)
{
    struct cluster_map *m = NULL;
    char host[256];
    const char *h;
    int port, r = cluster_map_parse(rep, "seed", &m);

    if (r != 0 && r != -EPROTO && r != -ENOMEM)
        __builtin_trap();
    for (unsigned slot = 0; r == 0 && slot < CRC16_SLOTS; slot += 97)
        if (cluster_map_lookup(m, slot, &h, &port) == 0 && (port < 1 || port > 65535 || !*h))
            __builtin_trap();
    cluster_map_free(m);
    r = sentinel_parse_addr(rep, host, sizeof(host), &port);
    if (r == 0 && (port < 1 || port > 65535 || strlen(host) >= sizeof(host)))
        __builtin_trap();
    (void)sentinel_is_master(rep);
}

/* hiredis 0.14's reader allocates what an array or bulk header announces
 * (it has no maxelements): keep announced sizes small, so the harness
 * tests wrapp's code and not the allocator. */
static bool is_small(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        unsigned long v = 0;
        if (data[i] != '*' && data[i] != '$')
            continue;
        for (size_t j = i + 1; j < size && data[j] >= '0' && data[j] <= '9' && v < 1000000; j++)
            v = v * 10 + (data[j] - '0');
        if (v > 65536)
            return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const prefixes[] = {"logs:app:", "wrapp:", NULL};
    redisReader *rd = redisReaderCreate();
    void *rep = NULL;
    char host[256], key[600];
    unsigned slot;
    bool is_ask;
    int port, n;

    if (rd && is_small(data, size) && redisReaderFeed(rd, (const char *)data, size) == REDIS_OK &&
        redisReaderGetReply(rd, &rep) == REDIS_OK && rep) {
        check_reply(rep);
        freeReplyObject(rep);
    }
    redisReaderFree(rd);
    if (cluster_parse_redirect((const char *)data, size, &is_ask, &slot, host, sizeof(host),
                               &port) == 0 &&
        (slot >= CRC16_SLOTS || port < 1 || port > 65535))
        __builtin_trap();
    n = cluster_key("db", 1, "app", prefixes, (const char *)data, size < 512 ? size : 512, key,
                    sizeof(key));
    if (n > (int)sizeof(key) || (n < 0 && n != -ENAMETOOLONG))
        __builtin_trap();
    if (crc16_slot((const char *)data, size) >= CRC16_SLOTS)
        __builtin_trap();
    return 0;
}

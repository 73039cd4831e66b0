// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for what the sink reads back from its spool: the input
 * is one spool record (a bundle, a compressed bundle, or a bare record).
 * record_unpack must return a count whose records all lie inside the input
 * or the decompressed buffer, and each record decodes or is refused
 * cleanly. Inputs starting with 'C' are packed, compressed and unpacked
 * again first: the same records must come back.
 */
#include "record.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *data, size_t size, const struct spool_rec *recs, long n,
                  const uint8_t *raw, size_t raw_cap)
{
    for (long i = 0; i < n; i++) {
        const uint8_t *p = recs[i].data;
        const char *argv[RECORD_ARGC_MAX];
        size_t lens[RECORD_ARGC_MAX];
        int db;
        bool in_input = p >= data && p + recs[i].len <= data + size;
        bool in_raw = raw && p >= raw && p + recs[i].len <= raw + raw_cap;
        if (!in_input && !in_raw)
            __builtin_trap();
        if (record_decode(p, recs[i].len, &db, argv, lens, RECORD_ARGC_MAX) == -ENOMEM)
            __builtin_trap();
    }
}

static void roundtrip(const uint8_t *data, size_t size)
{
    struct record_list l = {0};
    uint8_t *buf = NULL, *z = NULL, *raw = NULL;
    size_t cap = 0, len = 0, zcap = 0, raw_cap = 0, ucap = 0, zlen, n;
    struct spool_rec *recs = NULL;
    void *zctx = NULL;
    long got;

    for (size_t off = 0; off < size;) {
        size_t k = 1 + data[off] % 64;
        struct record *r;
        if (k > size - off)
            k = size - off;
        r = malloc(sizeof(*r) + k);
        if (!r)
            break;
        r->len = k;
        memcpy(r->data, data + off, k);
        record_list_push(&l, r);
        off += k;
    }
    n = l.head ? record_pack(&l, 1 << 20, &buf, &cap, &len) : 0;
    zlen = n ? record_compress(buf, len, &z, &zcap, &zctx) : 0;
    if (zlen) {
        const struct record *r = l.head;
        got = record_unpack(z, zlen, &recs, &ucap, &raw, &raw_cap);
        if (got != (long)n)
            __builtin_trap();
        for (size_t i = 0; i < n; i++, r = r->next)
            if (recs[i].len != r->len || memcmp(recs[i].data, r->data, r->len) != 0)
                __builtin_trap();
    }
    record_compress_free(zctx);
    record_list_free(&l);
    free(buf);
    free(z);
    free(raw);
    free(recs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct spool_rec *recs = NULL;
    uint8_t *raw = NULL;
    size_t cap = 0, raw_cap = 0;
    long n;

    if (size > 0 && data[0] == 'C') {
        roundtrip(data + 1, size - 1);
        return 0;
    }
    n = record_unpack(data, size, &recs, &cap, &raw, &raw_cap);
    if (n < 0 && n != -ENOMEM)
        __builtin_trap();
    check(data, size, recs, n, raw, raw_cap);
    free(recs);
    free(raw);
    return 0;
}

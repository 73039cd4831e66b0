// SPDX-License-Identifier: MIT
/*
 * See record.h. Lengths are checked against the buffer at every step, so a
 * damaged record or bundle (from a disk) is rejected or cut, never read
 * past its end.
 */
#include "record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

long record_encode(int db, int argc, const char *const *argv, const size_t *lens, uint8_t *buf,
                   size_t size)
{
    size_t n = 4;

    for (int i = 0; i < argc; i++)
        n += 4 + lens[i];
    if (n > size || argc > RECORD_ARGC_MAX || db < 0 || db > 255)
        return -E2BIG;
    buf[0] = RECORD_VERSION;
    buf[1] = (uint8_t)db;
    buf[2] = (uint8_t)argc;
    buf[3] = (uint8_t)(argc >> 8);
    n = 4;
    for (int i = 0; i < argc; i++) {
        put32(buf + n, (uint32_t)lens[i]);
        memcpy(buf + n + 4, argv[i], lens[i]);
        n += 4 + lens[i];
    }
    return (long)n;
}

int record_decode(const uint8_t *rec, size_t len, int *ret_db, const char **argv, size_t *lens,
                  int max)
{
    size_t off = 4;
    int argc;

    if (len < 4 || rec[0] != RECORD_VERSION)
        return -EINVAL;
    argc = rec[2] | rec[3] << 8;
    if (argc < 1 || argc > max)
        return -EINVAL;
    for (int i = 0; i < argc; i++) {
        uint32_t n;
        if (len - off < 4)
            return -EINVAL;
        n = get32(rec + off);
        if (len - off - 4 < n)
            return -EINVAL;
        argv[i] = (const char *)rec + off + 4;
        lens[i] = n;
        off += 4 + n;
    }
    if (off != len)
        return -EINVAL;
    *ret_db = rec[1];
    return argc;
}

const char *record_xadd_field(const char **argv, const size_t *lens, int argc, const char *name,
                              size_t *ret_len)
{
    int i = 2;

    while (i < argc && !(lens[i] == 1 && argv[i][0] == '*'))
        i++;
    for (i++; i + 1 < argc; i += 2)
        if (lens[i] == strlen(name) && memcmp(argv[i], name, lens[i]) == 0) {
            *ret_len = lens[i + 1];
            return argv[i + 1];
        }
    return NULL;
}

void record_list_push(struct record_list *l, struct record *r)
{
    r->next = NULL;
    if (l->tail)
        l->tail->next = r;
    else
        l->head = r;
    l->tail = r;
    l->n++;
    l->bytes += r->len;
}

struct record *record_list_pop(struct record_list *l)
{
    struct record *r = l->head;

    if (!r)
        return NULL;
    l->head = r->next;
    if (!l->head)
        l->tail = NULL;
    l->n--;
    l->bytes -= r->len;
    return r;
}

void record_list_append(struct record_list *to, struct record_list *from)
{
    if (!from->head)
        return;
    if (to->tail)
        to->tail->next = from->head;
    else
        to->head = from->head;
    to->tail = from->tail;
    to->n += from->n;
    to->bytes += from->bytes;
    *from = (struct record_list){0};
}

void record_list_free(struct record_list *l)
{
    struct record *r;

    while ((r = record_list_pop(l)))
        free(r);
}

size_t record_pack(const struct record_list *l, size_t max, uint8_t **buf, size_t *cap,
                   size_t *ret_len)
{
    size_t len = 5, n = 0;

    for (const struct record *r = l->head; r; r = r->next) {
        if (n > 0 && len + 4 + r->len > max)
            break;
        if (len + 4 + r->len > *cap) {
            uint8_t *b = realloc(*buf, len + 4 + r->len);
            if (!b)
                return 0;
            *buf = b;
            *cap = len + 4 + r->len;
        }
        put32(*buf + len, (uint32_t)r->len);
        memcpy(*buf + len + 4, r->data, r->len);
        len += 4 + r->len;
        n++;
    }
    (*buf)[0] = RECORD_BUNDLE;
    put32(*buf + 1, (uint32_t)n);
    *ret_len = len;
    return n;
}

size_t record_compress(const uint8_t *in, size_t len, uint8_t **out, size_t *cap, void **cctx)
{
    size_t bound = ZSTD_compressBound(len) + 5, n;

    if (!*cctx) {
        *cctx = ZSTD_createCCtx();
        /* Level 1: the writer thread compresses a burst as fast as it
         * comes; a checksum, so a damaged frame is not taken for lines. */
        if (*cctx && (ZSTD_isError(ZSTD_CCtx_setParameter(*cctx, ZSTD_c_compressionLevel, 1)) ||
                      ZSTD_isError(ZSTD_CCtx_setParameter(*cctx, ZSTD_c_checksumFlag, 1)))) {
            ZSTD_freeCCtx(*cctx);
            *cctx = NULL;
        }
    }
    if (!*cctx || len > RECORD_RAW_MAX)
        return 0;
    if (bound > *cap) {
        uint8_t *b = realloc(*out, bound);
        if (!b)
            return 0;
        *out = b;
        *cap = bound;
    }
    n = ZSTD_compress2(*cctx, *out + 5, *cap - 5, in, len);
    if (ZSTD_isError(n) || n + 5 > len - len / 10)
        return 0;
    (*out)[0] = RECORD_BUNDLE_Z;
    put32(*out + 1, (uint32_t)len);
    return n + 5;
}

void record_compress_free(void *cctx)
{
    ZSTD_freeCCtx(cctx);
}

/* A RECORD_BUNDLE_Z's bundle into *raw; its length, or 0 when damaged. */
static size_t inflate(const uint8_t *p, size_t len, uint8_t **raw, size_t *raw_cap)
{
    size_t want = get32(p + 1), n;

    if (want < 5 || want > RECORD_RAW_MAX)
        return 0;
    if (want > *raw_cap) {
        uint8_t *b = realloc(*raw, want);
        if (!b)
            return 0;
        *raw = b;
        *raw_cap = want;
    }
    n = ZSTD_decompress(*raw, want, p + 5, len - 5);
    return !ZSTD_isError(n) && n == want && (*raw)[0] == RECORD_BUNDLE ? want : 0;
}

long record_unpack(const void *data, size_t len, struct spool_rec **arr, size_t *cap, uint8_t **raw,
                   size_t *raw_cap)
{
    const uint8_t *p = data;
    size_t off = 5, n;

    if (len >= 5 && p[0] == RECORD_BUNDLE_Z) {
        len = inflate(p, len, raw, raw_cap);
        if (len == 0)
            return 0;
        p = *raw;
        data = p;
    }
    if (len < 5 || p[0] != RECORD_BUNDLE)
        n = 1;
    else if ((n = get32(p + 1)) > (len - 5) / 4)
        n = (len - 5) / 4; /* a damaged count: no more than the bytes can hold */
    if (n > *cap) {
        struct spool_rec *a = realloc(*arr, n * sizeof(*a));
        if (!a)
            return -ENOMEM;
        *arr = a;
        *cap = n;
    }
    if (len < 5 || p[0] != RECORD_BUNDLE) {
        (*arr)[0] = (struct spool_rec){data, len};
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        size_t rlen;
        if (len - off < 4 || len - off - 4 < (rlen = get32(p + off)))
            return (long)i;
        (*arr)[i] = (struct spool_rec){p + off + 4, rlen};
        off += 4 + rlen;
    }
    return (long)n;
}

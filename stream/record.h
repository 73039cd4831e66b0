// SPDX-License-Identifier: MIT
/*
 * The sink's unit of work: one Redis command, encoded once by the producer
 * and kept as the same bytes in the memory queue and on disk. Record: u8
 * version, u8 DB, u16 argc, then argc × (u32 length, bytes), little endian.
 * Bundle (what the spool stores): u8 RECORD_BUNDLE, u32 count, then count ×
 * (u32 length, record); or, compressed, u8 RECORD_BUNDLE_Z, u32 the
 * bundle's length, then a zstd frame of the bundle. Also the FIFO of
 * records. Pure functions; the caller provides any locking.
 */
#pragma once

#include "spool.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RECORD_VERSION  1
#define RECORD_BUNDLE   0xB1
#define RECORD_BUNDLE_Z 0xB2
#define RECORD_RAW_MAX  (64u << 20) /* a compressed bundle's length, at most */
#define RECORD_ARGC_MAX 24

struct record {
    struct record *next;
    size_t len;
    uint8_t data[];
};

struct record_list {
    struct record *head, *tail;
    size_t n, bytes;
};

/* Encode argv for db into buf; returns the length, or -E2BIG. */
long record_encode(int db, int argc, const char *const *argv, const size_t *lens, uint8_t *buf,
                   size_t size);

/* Decode rec into argv (pointing into rec); returns argc or -EINVAL. */
int record_decode(const uint8_t *rec, size_t len, int *ret_db, const char **argv, size_t *lens,
                  int max);

/* The value of field name in an XADD's argv (after the ID), or NULL. */
const char *record_xadd_field(const char **argv, const size_t *lens, int argc, const char *name,
                              size_t *ret_len);

void record_list_push(struct record_list *l, struct record *r);
struct record *record_list_pop(struct record_list *l);
void record_list_append(struct record_list *to, struct record_list *from); /* empties from */
void record_list_free(struct record_list *l);

/* Pack records from the head of l into *buf (grown as needed, owned by
 * the caller) until max bytes (at least one record). Returns how many were
 * packed (0 on -ENOMEM) and the bundle's length in *ret_len. */
size_t record_pack(const struct record_list *l, size_t max, uint8_t **buf, size_t *cap,
                   size_t *ret_len);

/* Compress the bundle in (len bytes) into *out (grown as needed, owned by
 * the caller) as a RECORD_BUNDLE_Z, with *cctx a zstd context kept by the
 * caller (created on first use; free it with record_compress_free).
 * Returns the compressed length, or 0 when compressing did not save a
 * tenth or failed: store in as it is. */
size_t record_compress(const uint8_t *in, size_t len, uint8_t **out, size_t *cap, void **cctx);
void record_compress_free(void *cctx);

/* The records of a spool record: a bundle's (decompressed into *raw, grown
 * as needed, owned by the caller), or the record itself (spools written
 * without bundles). Fills (*arr)[0..n) pointing into data or *raw, growing
 * *arr; returns n (0 for a compressed bundle that does not decompress), or
 * -ENOMEM. A damaged tail is cut. */
long record_unpack(const void *data, size_t len, struct spool_rec **arr, size_t *cap, uint8_t **raw,
                   size_t *raw_cap);

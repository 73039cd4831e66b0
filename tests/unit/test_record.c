// SPDX-License-Identifier: MIT
/* record: the queued command's encoding and the spool bundles. */
#include "record.h"
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct record *make(int db, int argc, const char *const *argv)
{
    size_t lens[RECORD_ARGC_MAX], n = 4;
    struct record *r;

    for (int i = 0; i < argc; i++) {
        lens[i] = strlen(argv[i]);
        n += 4 + lens[i];
    }
    r = malloc(sizeof(*r) + n);
    ck_assert_ptr_nonnull(r);
    r->len = (size_t)record_encode(db, argc, argv, lens, r->data, n);
    ck_assert_uint_eq(r->len, n);
    return r;
}

START_TEST(record_round_trips_binary_arguments)
{
    const char *argv[4] = {"XADD", "k", "*", "a\0b"};
    size_t lens[4] = {4, 1, 1, 3}, out_lens[RECORD_ARGC_MAX];
    const char *out[RECORD_ARGC_MAX];
    uint8_t buf[64];
    long n = record_encode(7, 4, argv, lens, buf, sizeof(buf));
    int db;

    ck_assert_int_eq(n, 4 + 4 * 4 + 9);
    ck_assert_int_eq(record_decode(buf, (size_t)n, &db, out, out_lens, RECORD_ARGC_MAX), 4);
    ck_assert_int_eq(db, 7);
    ck_assert_uint_eq(out_lens[3], 3);
    ck_assert_int_eq(memcmp(out[3], "a\0b", 3), 0);
    ck_assert_int_eq(record_encode(7, 4, argv, lens, buf, 10), -E2BIG);
    ck_assert_int_eq(record_decode(buf, (size_t)n - 1, &db, out, out_lens, RECORD_ARGC_MAX),
                     -EINVAL);
    buf[0] = 9;
    ck_assert_int_eq(record_decode(buf, (size_t)n, &db, out, out_lens, RECORD_ARGC_MAX), -EINVAL);
}
END_TEST

START_TEST(record_bundles_pack_in_order_up_to_the_limit)
{
    struct record_list l = {0};
    const char *a[] = {"INCR", "wrapp:x:a"}, *b[] = {"SET", "wrapp:x:b", "42"};
    uint8_t *buf = NULL, *raw = NULL, *z = NULL;
    size_t cap = 0, len = 0, ucap = 0, raw_cap = 0, zcap = 0, zlen;
    struct spool_rec *recs = NULL;
    void *zctx = NULL;
    long n;

    for (int i = 0; i < 10; i++)
        record_list_push(&l, make(2, i % 2 ? 3 : 2, i % 2 ? b : a));
    /* header 5, then 4 + 25 (INCR), 4 + 30 (SET), 4 + 25: 97 bytes */
    ck_assert_uint_eq(record_pack(&l, 100, &buf, &cap, &len), 3);
    ck_assert_uint_eq(len, 97);
    ck_assert_uint_eq(record_pack(&l, 96, &buf, &cap, &len), 2);
    ck_assert_uint_eq(record_pack(&l, 1 << 20, &buf, &cap, &len), 10);
    n = record_unpack(buf, len, &recs, &ucap, &raw, &raw_cap);
    ck_assert_int_eq(n, 10);
    ck_assert_uint_eq(recs[1].len, l.head->next->len);
    ck_assert_int_eq(memcmp(recs[1].data, l.head->next->data, recs[1].len), 0);
    /* damaged tail cut; a record on its own (spools without bundles) */
    ck_assert_int_eq(record_unpack(buf, len - 3, &recs, &ucap, &raw, &raw_cap), 9);
    ck_assert_int_eq(record_unpack(l.head->data, l.head->len, &recs, &ucap, &raw, &raw_cap), 1);
    /* Compressed: the same records back; damaged: none. */
    zlen = record_compress(buf, len, &z, &zcap, &zctx);
    ck_assert_uint_gt(zlen, 0);
    ck_assert_uint_lt(zlen, len);
    ck_assert_int_eq(z[0], RECORD_BUNDLE_Z);
    n = record_unpack(z, zlen, &recs, &ucap, &raw, &raw_cap);
    ck_assert_int_eq(n, 10);
    ck_assert_uint_eq(recs[9].len, l.tail->len);
    ck_assert_int_eq(memcmp(recs[9].data, l.tail->data, recs[9].len), 0);
    z[zlen / 2] ^= 0x55;
    ck_assert_int_eq(record_unpack(z, zlen, &recs, &ucap, &raw, &raw_cap), 0);
    ck_assert_uint_eq(record_compress(buf, 20, &z, &zcap, &zctx), 0); /* nothing saved */
    record_compress_free(zctx);
    record_list_free(&l);
    ck_assert_ptr_null(l.head);
    free(buf);
    free(raw);
    free(z);
    free(recs);
}
END_TEST

START_TEST(record_finds_xadd_fields_after_the_id)
{
    const char *argv[] = {"XADD", "k", "MAXLEN", "~", "10", "*", "message", "seq", "seq", "5"};
    size_t lens[10], flen = 0;
    const char *v;

    for (int i = 0; i < 10; i++)
        lens[i] = strlen(argv[i]);
    v = record_xadd_field(argv, lens, 10, "seq", &flen);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(memcmp(v, "5", flen), 0); /* "message" is a field whose value is "seq" */
    ck_assert_ptr_null(record_xadd_field(argv, lens, 10, "run", &flen));
}
END_TEST

Suite *record_suite(void)
{
    Suite *s = suite_create("record");
    TCase *tc = tcase_create("record");

    tcase_add_test(tc, record_round_trips_binary_arguments);
    tcase_add_test(tc, record_bundles_pack_in_order_up_to_the_limit);
    tcase_add_test(tc, record_finds_xadd_fields_after_the_id);
    suite_add_tcase(s, tc);
    return s;
}

// SPDX-License-Identifier: MIT
/*
 * spool: order across segments and runs, the cursor, torn and damaged files,
 * the cap, the limits, the errno of unusable directories, the file format
 * and a concurrent appender and reader. Real files in a fresh temporary
 * directory per test; records carry their index so order is checked exactly.
 */
#include "crc32c.h"
#include "spool.h"
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define KIB 1024u
#define MIB (1024u * 1024u)

/* Record i: its index in 8 digits, then a pattern, len bytes (>= 8) in all. */
static size_t make_rec(char *buf, size_t i, size_t len)
{
    snprintf(buf, 9, "%08zu", i);
    for (size_t k = 8; k < len; k++)
        buf[k] = (char)('a' + (i + k) % 26);
    return len;
}

/* A length from 8 to 8 + spread - 1 that varies with i. */
static size_t rec_len(size_t i, size_t spread)
{
    return 8 + (i * 7919) % spread;
}

static void append_n(struct spool *s, size_t from, size_t n, size_t spread)
{
    static char buf[64 * 1024];

    for (size_t i = from; i < from + n; i++)
        ck_assert_int_eq(spool_append(s, buf, make_rec(buf, i, rec_len(i, spread))), 0);
}

static void check_rec(const struct spool_rec *r, size_t i, size_t spread)
{
    static char want[64 * 1024];
    size_t len = make_rec(want, i, rec_len(i, spread));

    ck_assert_uint_eq(r->len, len);
    ck_assert_msg(memcmp(r->data, want, len) == 0, "record %zu differs", i);
}

/* Peek and pop until empty, in batches that vary in count and bytes; every
 * record must be the next index. Returns the index after the last. */
static size_t drain(struct spool *s, size_t next, size_t spread)
{
    struct spool_rec recs[97];

    for (size_t round = 0;; round++) {
        size_t max = 1 + round % 97, max_bytes = 1 + (round * 613) % 9000;
        int n = spool_peek(s, recs, max, max_bytes);
        ck_assert_int_ge(n, 0);
        if (n == 0)
            break;
        ck_assert_uint_le((size_t)n, max);
        for (int k = 0; k < n; k++)
            check_rec(&recs[k], next + (size_t)k, spread);
        /* Sometimes deliver only part of a batch: the rest comes again. */
        if (round % 5 == 4 && n > 1)
            n /= 2;
        ck_assert_int_eq(spool_pop(s, (size_t)n), 0);
        next += (size_t)n;
    }
    ck_assert(spool_is_empty(s));
    return next;
}

static struct spool *open_ok(const char *dir, uint64_t cap)
{
    struct spool *s = NULL;

    ck_assert_int_eq(spool_open(dir, cap, &s), 0);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* How many segment files dir holds, and the name of the newest into last. */
static int count_segs(const char *dir, char *last, size_t last_size)
{
    DIR *d = opendir(dir);
    const struct dirent *de;
    int n = 0;

    ck_assert_ptr_nonnull(d);
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, "seg-", 4) != 0)
            continue;
        n++;
        if (last && strcmp(de->d_name, last) > 0)
            snprintf(last, last_size, "%s", de->d_name);
    }
    closedir(d);
    return n;
}

static off_t file_size(const char *dir, const char *name)
{
    char path[512];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_size;
}

START_TEST(spool_delivers_records_in_order_across_many_segments)
{
    const char *dir = unit_tmpdir();
    struct spool *s = open_ok(dir, 1 * MIB); /* 64 KiB segments */
    struct spool_stats st;

    append_n(s, 0, 3000, 400);
    ck_assert_int_ge(count_segs(dir, NULL, 0), 8);
    spool_stats(s, &st);
    ck_assert_uint_eq(st.records, 3000);
    ck_assert_uint_eq(st.dropped_records, 0);
    ck_assert_uint_eq(drain(s, 0, 400), 3000);
    /* Appends after a drain continue the order. */
    append_n(s, 3000, 500, 400);
    ck_assert_uint_eq(drain(s, 3000, 400), 3500);
    spool_stats(s, &st);
    ck_assert_uint_eq(st.records, 0);
    ck_assert_uint_eq(st.bytes, 0);
    ck_assert_uint_eq(st.disk_bytes, 0);
    ck_assert_int_eq(count_segs(dir, NULL, 0), 0);
    ck_assert_ptr_null(spool_free(s));
}
END_TEST

START_TEST(spool_reopen_resumes_after_popped_records)
{
    const char *dir = unit_tmpdir();
    struct spool *s = open_ok(dir, 1 * MIB);
    struct spool_rec recs[100];
    struct spool_stats st;
    size_t popped = 0;

    append_n(s, 0, 2000, 300);
    while (popped < 1234) {
        int n = spool_peek(s, recs, 1234 - popped < 100 ? 1234 - popped : 100, 1 * MIB);
        ck_assert_int_gt(n, 0);
        check_rec(&recs[0], popped, 300);
        ck_assert_int_eq(spool_pop(s, (size_t)n), 0);
        popped += (size_t)n;
    }
    s = spool_free(s);
    s = open_ok(dir, 1 * MIB);
    spool_stats(s, &st);
    ck_assert_uint_eq(st.records, 2000 - 1234);
    ck_assert_uint_eq(drain(s, 1234, 300), 2000);
    /* Everything delivered: a third run finds nothing, and appends work. */
    s = spool_free(s);
    s = open_ok(dir, 1 * MIB);
    ck_assert(spool_is_empty(s));
    append_n(s, 0, 10, 300);
    ck_assert_uint_eq(drain(s, 0, 300), 10);
    spool_free(s);
}
END_TEST

START_TEST(spool_restart_after_a_crash_replays_no_popped_record)
{
    const char *dir = unit_tmpdir();
    struct spool_stats st;
    struct spool *s;
    int status;
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* A run that dies without spool_free: what the cursor says must hold. */
        struct spool_rec recs[100];
        s = open_ok(dir, 1 * MIB);
        append_n(s, 0, 2000, 300);
        for (size_t popped = 0; popped < 1500;) {
            int n = spool_peek(s, recs, 100, 1 * MIB);
            ck_assert_int_eq(spool_pop(s, (size_t)n), 0);
            popped += (size_t)n;
        }
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(status, 0);
    s = open_ok(dir, 1 * MIB);
    spool_stats(s, &st);
    ck_assert_uint_eq(st.records, 500);
    ck_assert_uint_eq(drain(s, 1500, 300), 2000);
    spool_free(s);
}
END_TEST

START_TEST(spool_reopen_without_pop_replays_everything)
{
    const char *dir = unit_tmpdir();
    struct spool *s = open_ok(dir, 1 * MIB);
    struct spool_rec recs[10];

    append_n(s, 0, 700, 200);
    ck_assert_int_eq(spool_peek(s, recs, 10, 1 * MIB), 10); /* peeked, not popped */
    s = spool_free(s);
    s = open_ok(dir, 1 * MIB);
    append_n(s, 700, 50, 200); /* a new run's records come after the old ones */
    ck_assert_uint_eq(drain(s, 0, 200), 750);
    spool_free(s);
}
END_TEST

/* Records of one size len, from index from on. */
static void append_fixed(struct spool *s, size_t from, size_t n, size_t len)
{
    static char buf[4096];

    for (size_t i = from; i < from + n; i++)
        ck_assert_int_eq(spool_append(s, buf, make_rec(buf, i, len)), 0);
}

/* Peek and pop n records of size len one by one: indexes from .. from + n - 1. */
static void expect_fixed(struct spool *s, size_t from, size_t n, size_t len)
{
    static char want[4096];
    struct spool_rec r;

    for (size_t i = from; i < from + n; i++) {
        ck_assert_int_eq(spool_peek(s, &r, 1, 1), 1);
        ck_assert_uint_eq(r.len, len);
        ck_assert_int_eq(memcmp(r.data, want, make_rec(want, i, len)), 0);
        ck_assert_int_eq(spool_pop(s, 1), 0);
    }
}

/* Flip one bit of the byte at off of the only segment file in dir. */
static void flip_byte(const char *dir, off_t off)
{
    char last[64] = "", path[512], c;
    int fd;

    ck_assert_int_eq(count_segs(dir, last, sizeof(last)), 1);
    snprintf(path, sizeof(path), "%s/%s", dir, last);
    fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, &c, 1, off), 1);
    c ^= 0x40;
    ck_assert_int_eq(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

/* How many bytes to cut off the end of the segment of 50-byte records (58
 * on disk): into the last one's data, or into its header. */
static const off_t torn_cuts[] = {1, 3, 49, 55};

START_TEST(spool_reopen_keeps_every_record_before_a_torn_tail_and_warns)
{
    const char *dir = unit_tmpdir();
    struct spool *s = open_ok(dir, 1 * MIB);
    char last[64] = "", path[512];
    const char *err;

    append_fixed(s, 0, 100, 50);
    s = spool_free(s);
    ck_assert_int_eq(count_segs(dir, last, sizeof(last)), 1);
    snprintf(path, sizeof(path), "%s/%s", dir, last);
    ck_assert_int_eq(truncate(path, file_size(dir, last) - torn_cuts[_i]), 0);

    unit_stderr_begin();
    s = open_ok(dir, 1 * MIB);
    err = unit_stderr_end();
    ck_assert_msg(strstr(err, "wrapp: warn: spool ") && strstr(err, "torn or damaged record"),
                  "no warning: %s", err);
    ck_assert_uint_eq(file_size(dir, last), 16 + 99 * 58);
    expect_fixed(s, 0, 99, 50);
    ck_assert(spool_is_empty(s));
    /* The next run's records follow. */
    append_fixed(s, 99, 3, 50);
    expect_fixed(s, 99, 3, 50);
    spool_free(s);
}
END_TEST

START_TEST(spool_reopen_cuts_a_segment_at_a_checksum_mismatch)
{
    const char *dir = unit_tmpdir();
    struct spool *s = open_ok(dir, 1 * MIB);
    struct spool_stats st;
    const char *err;

    append_fixed(s, 0, 50, 50);
    s = spool_free(s);
    flip_byte(dir, 16 + 10 * 58 + 8 + 20); /* in record 10's data */
    unit_stderr_begin();
    s = open_ok(dir, 1 * MIB);
    err = unit_stderr_end();
    ck_assert_msg(strstr(err, "torn or damaged record at offset 596"), "no warning: %s", err);
    spool_stats(s, &st);
    ck_assert_uint_eq(st.records, 10);
    expect_fixed(s, 0, 10, 50);
    ck_assert(spool_is_empty(s));
    spool_free(s);
}
END_TEST

START_TEST(spool_peek_drops_and_counts_the_rest_of_a_segment_damaged_under_it)
{
    const char *dir = unit_tmpdir();
    struct spool *s = open_ok(dir, 1 * MIB);
    struct spool_rec recs[100];
    struct spool_stats st;
    const char *err;

    append_fixed(s, 0, 50, 50);
    flip_byte(dir, 16 + 10 * 58 + 4); /* record 10's checksum */
    unit_stderr_begin();
    ck_assert_int_eq(spool_peek(s, recs, 100, 1 * MIB), 10);
    err = unit_stderr_end();
    ck_assert_msg(strstr(err, "is damaged at offset 596; dropping its last 40 records"),
                  "no warning: %s", err);
    spool_stats(s, &st);
    ck_assert_uint_eq(st.records, 10);
    ck_assert_uint_eq(st.dropped_records, 40);
    ck_assert_uint_eq(st.dropped_bytes, 40 * 50);
    ck_assert_int_eq(spool_pop(s, 10), 0);
    ck_assert(spool_is_empty(s));
    /* Appends go on, into a new segment. */
    append_fixed(s, 50, 2, 50);
    expect_fixed(s, 50, 2, 50);
    spool_free(s);
}
END_TEST

START_TEST(spool_cap_drops_oldest_whole_segments_and_counts_them)
{
    const char *dir = unit_tmpdir();
    struct spool *s = open_ok(dir, 64 * KIB); /* 4 KiB segments: 37 records of 100 bytes */
    struct spool_rec r;
    struct spool_stats st;
    char buf[100];

    for (size_t i = 0; i < 2000; i++)
        ck_assert_int_eq(spool_append(s, buf, make_rec(buf, i, sizeof(buf))), 0);
    spool_stats(s, &st);
    ck_assert_uint_gt(st.dropped_records, 0);
    ck_assert_uint_eq(st.dropped_records % 37, 0);
    ck_assert_uint_eq(st.dropped_records + st.records, 2000);
    ck_assert_uint_eq(st.dropped_bytes, st.dropped_records * 100);
    ck_assert_uint_eq(st.bytes, st.records * 100);
    ck_assert_uint_le(st.disk_bytes, 64 * KIB);
    ck_assert_uint_gt(st.disk_bytes, 64 * KIB - 2 * 4 * KIB);
    /* The survivors are the newest, in order, from a segment start. */
    for (size_t i = st.dropped_records; i < 2000; i++) {
        char want[100];
        ck_assert_int_eq(spool_peek(s, &r, 1, 1000), 1);
        ck_assert_int_eq(memcmp(r.data, want, make_rec(want, i, sizeof(want))), 0);
        ck_assert_int_eq(spool_pop(s, 1), 0);
    }
    ck_assert_int_eq(spool_peek(s, &r, 1, 1000), 0);
    spool_free(s);
}
END_TEST

START_TEST(spool_pop_after_a_cap_drop_removes_no_newer_record)
{
    const char *dir = unit_tmpdir();
    struct spool *s = open_ok(dir, 64 * KIB);
    struct spool_rec recs[10];
    struct spool_stats st = {0};
    char buf[100];
    size_t i = 0;

    for (; i < 37 * 3; i++)
        ck_assert_int_eq(spool_append(s, buf, make_rec(buf, i, sizeof(buf))), 0);
    ck_assert_int_eq(spool_peek(s, recs, 10, 1 * MIB), 10);
    ck_assert_int_eq(spool_pop(s, 11), -EINVAL);
    while (st.dropped_records == 0 && i < 10000) {
        ck_assert_int_eq(spool_append(s, buf, make_rec(buf, i++, sizeof(buf))), 0);
        spool_stats(s, &st);
    }
    ck_assert_uint_eq(st.dropped_records, 37); /* records 0..36: the peeked ones too */
    ck_assert_int_eq(spool_pop(s, 10), 0);
    ck_assert_int_eq(spool_peek(s, recs, 1, 1000), 1);
    ck_assert_int_eq(memcmp(recs[0].data, "00000037", 8), 0);
    spool_stats(s, &st);
    ck_assert_uint_eq(st.records, i - 37);
    ck_assert_int_eq(spool_pop(s, 0), 0);
    spool_free(s);
}
END_TEST

START_TEST(spool_peek_limits_count_and_bytes_but_returns_one_oversized_record)
{
    const char *dir = unit_tmpdir();
    struct spool *s = open_ok(dir, 64 * KIB);
    struct spool_rec recs[10];
    static char big[10000];
    char buf[100];

    for (size_t i = 0; i < 5; i++)
        ck_assert_int_eq(spool_append(s, buf, make_rec(buf, i, sizeof(buf))), 0);
    ck_assert_int_eq(spool_peek(s, recs, 3, 1 * MIB), 3);
    ck_assert_int_eq(spool_peek(s, recs, 10, 250), 2);
    ck_assert_int_eq(spool_peek(s, recs, 10, 50), 1);
    ck_assert_int_eq(spool_peek(s, recs, 0, 1 * MIB), 0);
    ck_assert_int_eq(spool_peek(s, recs, 10, 1 * MIB), 5);
    ck_assert_int_eq(memcmp(recs[4].data, "00000004", 8), 0);
    ck_assert_int_eq(spool_pop(s, 5), 0);
    /* A record larger than a segment (4 KiB) gets one of its own. */
    ck_assert_int_eq(spool_append(s, big, make_rec(big, 7, sizeof(big))), 0);
    ck_assert_int_eq(spool_append(s, buf, make_rec(buf, 8, sizeof(buf))), 0);
    ck_assert_int_eq(count_segs(dir, NULL, 0), 2);
    ck_assert_int_eq(spool_peek(s, recs, 10, 10), 1);
    ck_assert_uint_eq(recs[0].len, sizeof(big));
    ck_assert_int_eq(memcmp(recs[0].data, big, sizeof(big)), 0);
    ck_assert_int_eq(spool_peek(s, recs, 10, 20000), 2);
    ck_assert_int_eq(memcmp(recs[1].data, "00000008", 8), 0);
    spool_free(s);
}
END_TEST

START_TEST(spool_refuses_records_too_large_with_efbig_and_empty_ones_with_einval)
{
    const char *dir = unit_tmpdir();
    struct spool *s = open_ok(dir, 64 * KIB);
    static char buf[64 * KIB];
    struct spool_stats st;

    ck_assert_int_eq(spool_append(s, buf, 64 * KIB - 24 + 1), -EFBIG);
    ck_assert_int_eq(spool_append(s, buf, (size_t)SPOOL_REC_MAX + 1), -EFBIG);
    ck_assert_int_eq(spool_append(s, buf, 0), -EINVAL);
    ck_assert(spool_is_empty(s));
    ck_assert_int_eq(spool_append(s, buf, 100), 0);
    /* The largest record that fits the cap replaces everything before it. */
    ck_assert_int_eq(spool_append(s, buf, 64 * KIB - 24), 0);
    spool_stats(s, &st);
    ck_assert_uint_eq(st.records, 1);
    ck_assert_uint_eq(st.dropped_records, 1);
    ck_assert_uint_eq(st.disk_bytes, 64 * KIB);
    spool_free(s);
    ck_assert_int_eq(spool_open(dir, SPOOL_MAX_BYTES_MIN - 1, &s), -EINVAL);
}
END_TEST

START_TEST(spool_file_format_is_pinned)
{
    const char *dir = unit_tmpdir();
    struct spool *s = open_ok(dir, 1 * MIB);
    static const unsigned char want[] = {'W', 'S', 'P', 'L', 1,    0,    0,    0,    1,
                                         0,   0,   0,   0,   0,    0,    0, /* header, seq 1 */
                                         9,   0,   0,   0,   0x78, 0xd2, 0x17, 0x57, '1',
                                         '2', '3', '4', /* len, CRC32C */
                                         '5', '6', '7', '8', '9'};
    unsigned char got[sizeof(want) + 1];
    char path[512];
    int fd;

    ck_assert_int_eq(spool_append(s, "123456789", 9), 0);
    snprintf(path, sizeof(path), "%s/seg-0000000000000001.wsp", dir);
    fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(read(fd, got, sizeof(got)), sizeof(want));
    close(fd);
    ck_assert_int_eq(memcmp(got, want, sizeof(want)), 0);
    spool_free(s);
    ck_assert_int_eq(file_size(dir, "cursor"), 32);
}
END_TEST

START_TEST(spool_open_under_proc_fails_with_enoent)
{
    struct spool *s = NULL;

    ck_assert_int_eq(spool_open("/proc/wrapp-spool-test/x", 1 * MIB, &s), -ENOENT);
    ck_assert_ptr_null(s);
}
END_TEST

/* Run spool_open on dir + sub in a child, as nobody (how 0) or with a read-only
 * tmpfs mounted on dir (how 1); the child exits with -r. */
static int open_in_child(const char *dir, const char *sub, int how)
{
    pid_t pid = fork();
    int status;

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct spool *s = NULL;
        char path[512];
        if (how == 0 && (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0))
            _exit(200);
        if (how == 1 &&
            (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
             mount("tmpfs", dir, "tmpfs", MS_RDONLY, NULL) < 0))
            _exit(201);
        snprintf(path, sizeof(path), "%s%s", dir, sub);
        _exit(-spool_open(path, 1 * MIB, &s));
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

START_TEST(spool_open_in_a_dir_the_user_cannot_write_fails_with_eacces)
{
    const char *tmp = unit_tmpdir();
    char dir[256];

    ck_assert_int_eq(chmod(tmp, 0755), 0);
    snprintf(dir, sizeof(dir), "%s/ro", tmp);
    ck_assert_int_eq(mkdir(dir, 0555), 0);
    /* Root ignores mode bits: open as nobody. */
    ck_assert_int_eq(open_in_child(dir, "", 0), EACCES);       /* no cursor file in it */
    ck_assert_int_eq(open_in_child(dir, "/spool", 0), EACCES); /* no subdirectory */
}
END_TEST

START_TEST(spool_open_on_a_read_only_mount_fails_with_erofs)
{
    char dir[256];

    snprintf(dir, sizeof(dir), "%s/mnt", unit_tmpdir());
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ck_assert_int_eq(open_in_child(dir, "/spool", 1), EROFS);
}
END_TEST

START_TEST(spool_second_open_of_a_dir_fails_with_ebusy)
{
    const char *dir = unit_tmpdir();
    struct spool *s = open_ok(dir, 1 * MIB), *t = NULL;

    ck_assert_int_eq(spool_open(dir, 1 * MIB, &t), -EBUSY);
    ck_assert_ptr_null(t);
    s = spool_free(s);
    t = open_ok(dir, 1 * MIB);
    spool_free(t);
    ck_assert_ptr_null(spool_free(NULL));
}
END_TEST

#define CONC_RECORDS 200000u

struct conc {
    struct spool *s;
    size_t got;
    bool is_bad;
    atomic_bool is_appending;
    bool has_overlapped; /* popped while the appender was still at it */
};

/* The sink thread: peek, check the next indexes, pop, until all arrived. */
static void *conc_reader(void *arg)
{
    struct conc *c = arg;
    struct spool_rec recs[256];

    while (c->got < CONC_RECORDS && !c->is_bad) {
        int n = spool_peek(c->s, recs, 256, 64 * KIB);
        if (n <= 0) {
            c->is_bad = n < 0;
            sched_yield();
            continue;
        }
        for (int k = 0; k < n; k++) {
            char want[16];
            snprintf(want, sizeof(want), "%08zu", c->got + (size_t)k);
            c->is_bad |=
                recs[k].len != 8 + (c->got + (size_t)k) % 9 || memcmp(recs[k].data, want, 8) != 0;
        }
        c->is_bad |= spool_pop(c->s, (size_t)n) != 0;
        c->got += (size_t)n;
        c->has_overlapped |= atomic_load(&c->is_appending);
    }
    return NULL;
}

START_TEST(spool_concurrent_appender_and_reader_deliver_every_record_once_in_order)
{
    const char *dir = unit_tmpdir();
    struct conc c = {.s = open_ok(dir, SPOOL_MAX_BYTES_DEF), .is_appending = true};
    pthread_t reader;
    char buf[32];

    ck_assert_int_eq(pthread_create(&reader, NULL, conc_reader, &c), 0);
    for (size_t i = 0; i < CONC_RECORDS; i++) {
        snprintf(buf, sizeof(buf), "%08zu--------", i);
        ck_assert_int_eq(spool_append(c.s, buf, 8 + i % 9), 0);
    }
    atomic_store(&c.is_appending, false);
    ck_assert_int_eq(pthread_join(reader, NULL), 0);
    ck_assert(!c.is_bad);
    ck_assert(c.has_overlapped);
    ck_assert_uint_eq(c.got, CONC_RECORDS);
    ck_assert(spool_is_empty(c.s));
    spool_free(c.s);
}
END_TEST

/* Bit by bit, straight from the definition. */
static uint32_t crc32c_reference(const unsigned char *p, size_t len)
{
    uint32_t crc = ~0u;

    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    return ~crc;
}

START_TEST(crc32c_fast_path_matches_the_definition)
{
    unsigned char buf[1000];

    ck_assert_uint_eq(~crc32c_update(~0u, "123456789", 9), 0xE3069283u);
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(i * 131 + 7);
    for (size_t off = 0; off < 9; off++)
        for (size_t len = 0; len + off <= sizeof(buf); len += 37) {
            uint32_t want = crc32c_reference(buf + off, len);
            ck_assert_uint_eq(~crc32c_update(~0u, buf + off, len), want);
            ck_assert_uint_eq(~crc32c_update_table(~0u, buf + off, len), want);
        }
}
END_TEST

Suite *spool_suite(void)
{
    Suite *s = suite_create("spool");
    TCase *tc = tcase_create("files");
    TCase *slow = tcase_create("threads");

    tcase_add_test(tc, spool_delivers_records_in_order_across_many_segments);
    tcase_add_test(tc, spool_reopen_resumes_after_popped_records);
    tcase_add_test(tc, spool_restart_after_a_crash_replays_no_popped_record);
    tcase_add_test(tc, spool_reopen_without_pop_replays_everything);
    tcase_add_loop_test(tc, spool_reopen_keeps_every_record_before_a_torn_tail_and_warns, 0,
                        (int)(sizeof(torn_cuts) / sizeof(torn_cuts[0])));
    tcase_add_test(tc, spool_reopen_cuts_a_segment_at_a_checksum_mismatch);
    tcase_add_test(tc, spool_peek_drops_and_counts_the_rest_of_a_segment_damaged_under_it);
    tcase_add_test(tc, spool_cap_drops_oldest_whole_segments_and_counts_them);
    tcase_add_test(tc, spool_pop_after_a_cap_drop_removes_no_newer_record);
    tcase_add_test(tc, spool_peek_limits_count_and_bytes_but_returns_one_oversized_record);
    tcase_add_test(tc, spool_refuses_records_too_large_with_efbig_and_empty_ones_with_einval);
    tcase_add_test(tc, spool_file_format_is_pinned);
    tcase_add_test(tc, spool_open_under_proc_fails_with_enoent);
    tcase_add_test(tc, spool_open_in_a_dir_the_user_cannot_write_fails_with_eacces);
    tcase_add_test(tc, spool_open_on_a_read_only_mount_fails_with_erofs);
    tcase_add_test(tc, spool_second_open_of_a_dir_fails_with_ebusy);
    tcase_add_test(tc, crc32c_fast_path_matches_the_definition);
    suite_add_tcase(s, tc);
    tcase_set_timeout(slow, 60);
    tcase_add_test(slow, spool_concurrent_appender_and_reader_deliver_every_record_once_in_order);
    suite_add_tcase(s, slow);
    return s;
}

// SPDX-License-Identifier: MIT
/*
 * lines: Go's ScanLines splitting (\n, one trailing \r, last line at EOF),
 * long lines in max_line pieces with their flags, and that how the bytes are
 * chunked into reads never changes what is delivered (checked against a
 * naive model of the contract on pseudo-random input).
 */
#include "lines.h"
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LIT(s) (s), (sizeof(s) - 1)

/* Every delivery, serialised as flags, length and bytes, so runs compare with memcmp. */
struct log {
    char *buf;
    size_t len;
    size_t cap;
    size_t calls;
    size_t fail_at; /* 1-based call to fail with -EPIPE, 0: never */
};

static void log_put(struct log *g, const void *p, size_t n)
{
    if (g->len + n > g->cap) {
        g->cap = (g->len + n) * 2 + 64;
        g->buf = realloc(g->buf, g->cap);
        ck_assert_ptr_nonnull(g->buf);
    }
    memcpy(g->buf + g->len, p, n);
    g->len += n;
}

static void log_line(struct log *g, const char *line, size_t len, unsigned flags)
{
    log_put(g, &flags, sizeof(flags));
    log_put(g, &len, sizeof(len));
    log_put(g, line, len);
}

static int record(void *ctx, const char *line, size_t len, unsigned flags)
{
    struct log *g = ctx;

    g->calls++;
    if (g->fail_at == g->calls)
        return -EPIPE;
    log_line(g, line, len, flags);
    return 0;
}

/* The contract, written naively: split at '\n', pieces of max raw bytes, '\r' off the last. */
static void model(struct log *g, const char *in, size_t n, size_t max)
{
    size_t start = 0;

    while (start < n) {
        const char *nl = memchr(in + start, '\n', n - start);
        size_t end = nl ? (size_t)(nl - in) : n;
        size_t len = end - start;
        unsigned cont = 0;

        while (len > max) {
            log_line(g, in + start, max, LINES_PARTIAL | cont);
            cont = LINES_CONTINUED;
            start += max;
            len -= max;
        }
        if (len > 0 && in[start + len - 1] == '\r')
            len--;
        log_line(g, in + start, len, cont | (nl ? 0 : LINES_NO_EOL));
        start = end + 1;
    }
}

/* Feeds in, in chunks of the sizes cycling through chunks[] (0-terminated), then EOF. */
static void run(struct log *g, size_t max, const char *in, size_t n, const size_t *chunks)
{
    struct lines *l = NULL;
    size_t off = 0;
    size_t i = 0;

    ck_assert_int_eq(lines_new(max, &l), 0);
    while (off < n) {
        size_t c = chunks[i] ? chunks[i++] : n;

        if (!chunks[i])
            i = 0;
        c = c < n - off ? c : n - off;
        ck_assert_int_eq(lines_feed(l, in + off, c, record, g), 0);
        off += c;
    }
    ck_assert_int_eq(lines_finish(l, record, g), 0);
    ck_assert_ptr_null(lines_free(l));
}

static const size_t all_at_once[] = {0};
static const size_t byte_by_byte[] = {1, 0};
static const size_t odd_reads[] = {3, 1, 7, 2, 11, 5, 0};

/* Expected deliveries, built by hand. */
static void want(struct log *g, const char *line, size_t len, unsigned flags)
{
    log_line(g, line, len, flags);
}

static void check_same(const struct log *got, const struct log *exp)
{
    ck_assert_uint_eq(got->len, exp->len);
    ck_assert(got->len == 0 || memcmp(got->buf, exp->buf, got->len) == 0);
}

/* Runs in with every chunking and checks each against exp. */
static void check_all_chunkings(size_t max, const char *in, size_t n, const struct log *exp)
{
    const size_t *ways[] = {all_at_once, byte_by_byte, odd_reads};

    for (size_t w = 0; w < sizeof(ways) / sizeof(ways[0]); w++) {
        struct log got = {0};

        run(&got, max, in, n, ways[w]);
        check_same(&got, exp);
        free(got.buf);
    }
}

START_TEST(splitter_delivers_lines_without_newline_and_keeps_empty_ones)
{
    struct log exp = {0};

    want(&exp, LIT("a"), 0);
    want(&exp, LIT("bb"), 0);
    want(&exp, LIT(""), 0);
    want(&exp, LIT("ccc"), 0);
    check_all_chunkings(64, LIT("a\nbb\n\nccc\n"), &exp);
    free(exp.buf);
}
END_TEST

START_TEST(splitter_strips_one_trailing_cr_and_keeps_a_bare_cr_inside)
{
    struct log exp = {0};

    want(&exp, LIT("crlf"), 0);
    want(&exp, LIT("two\r"), 0);
    want(&exp, LIT("mid\rdle"), 0);
    want(&exp, LIT(""), 0);
    want(&exp, LIT("\rlead"), 0);
    check_all_chunkings(64, LIT("crlf\r\ntwo\r\r\nmid\rdle\n\r\n\rlead\n"), &exp);
    free(exp.buf);
}
END_TEST

START_TEST(splitter_passes_nul_bytes_as_data)
{
    struct log exp = {0};

    want(&exp, LIT("a\0b"), 0);
    want(&exp, LIT("\0"), 0);
    want(&exp, LIT("\0\0x"), LINES_NO_EOL);
    check_all_chunkings(4, LIT("a\0b\n\0\n\0\0x"), &exp);
    free(exp.buf);
}
END_TEST

START_TEST(splitter_delivers_last_line_without_newline_only_at_finish)
{
    struct log got = {0};
    struct lines *l = NULL;

    ck_assert_int_eq(lines_new(64, &l), 0);
    ck_assert_int_eq(lines_feed(l, LIT("done\nrest\r"), record, &got), 0);
    ck_assert_uint_eq(got.calls, 1);
    ck_assert_int_eq(lines_finish(l, record, &got), 0);
    ck_assert_uint_eq(got.calls, 2);
    ck_assert_int_eq(lines_finish(l, record, &got), 0);
    ck_assert_uint_eq(got.calls, 2);
    lines_free(l);

    struct log exp = {0};

    want(&exp, LIT("done"), 0);
    want(&exp, LIT("rest"), LINES_NO_EOL);
    check_same(&got, &exp);
    free(got.buf);
    free(exp.buf);
}
END_TEST

START_TEST(splitter_finish_without_a_tail_delivers_nothing)
{
    struct log got = {0};

    run(&got, 8, LIT("x\n"), all_at_once);
    ck_assert_uint_eq(got.calls, 1);
    free(got.buf);
}
END_TEST

START_TEST(splitter_line_of_exactly_max_line_bytes_is_one_line)
{
    struct log exp = {0};

    want(&exp, LIT("12345678"), 0);
    want(&exp, LIT("1234567"), 0);
    want(&exp, LIT("abcdefgh"), LINES_NO_EOL);
    check_all_chunkings(8, LIT("12345678\n1234567\r\nabcdefgh"), &exp);
    free(exp.buf);
}
END_TEST

START_TEST(splitter_line_of_max_line_plus_one_comes_in_two_pieces)
{
    struct log exp = {0};

    want(&exp, LIT("12345678"), LINES_PARTIAL);
    want(&exp, LIT("9"), LINES_CONTINUED);
    want(&exp, LIT("next"), 0);
    check_all_chunkings(8, LIT("123456789\nnext\n"), &exp);
    free(exp.buf);
}
END_TEST

START_TEST(splitter_line_of_three_and_a_half_max_comes_in_four_pieces)
{
    struct log exp = {0};

    want(&exp, LIT("aaaaaaaa"), LINES_PARTIAL);
    want(&exp, LIT("bbbbbbbb"), LINES_PARTIAL | LINES_CONTINUED);
    want(&exp, LIT("cccccccc"), LINES_PARTIAL | LINES_CONTINUED);
    want(&exp, LIT("dddd"), LINES_CONTINUED);
    check_all_chunkings(8, LIT("aaaaaaaabbbbbbbbccccccccdddd\r\n"), &exp);
    free(exp.buf);
}
END_TEST

START_TEST(splitter_strips_cr_only_at_the_real_end_of_a_long_line)
{
    struct log exp = {0};

    want(&exp, LIT("abc\r"), LINES_PARTIAL);
    want(&exp, LIT("def"), LINES_CONTINUED);
    want(&exp, LIT("wxyz"), LINES_PARTIAL);
    want(&exp, LIT(""), LINES_CONTINUED);
    want(&exp, LIT("1234"), LINES_PARTIAL);
    want(&exp, LIT("5"), LINES_CONTINUED | LINES_NO_EOL);
    check_all_chunkings(4, LIT("abc\rdef\r\nwxyz\r\n12345\r"), &exp);
    free(exp.buf);
}
END_TEST

START_TEST(splitter_max_line_of_one_splits_every_byte)
{
    struct log exp = {0};

    want(&exp, LIT("a"), LINES_PARTIAL);
    want(&exp, LIT("b"), LINES_CONTINUED);
    want(&exp, LIT("c"), 0);
    want(&exp, LIT(""), 0);
    check_all_chunkings(1, LIT("ab\nc\n\n"), &exp);
    free(exp.buf);
}
END_TEST

START_TEST(splitter_returns_callback_error_and_restarts_cleanly)
{
    struct log got = {.fail_at = 2};
    struct lines *l = NULL;

    ck_assert_int_eq(lines_new(4, &l), 0);
    ck_assert_int_eq(lines_feed(l, LIT("one\ntwo\nthree\n"), record, &got), -EPIPE);
    ck_assert_uint_eq(got.calls, 2);
    ck_assert_int_eq(lines_feed(l, LIT("ta"), record, &got), 0);
    ck_assert_int_eq(lines_feed(l, LIT("il\n"), record, &got), 0);
    lines_free(l);

    struct log exp = {0};

    want(&exp, LIT("one"), 0);
    want(&exp, LIT("tail"), 0);
    check_same(&got, &exp);
    free(got.buf);
    free(exp.buf);
}
END_TEST

START_TEST(splitter_rejects_a_zero_max_line)
{
    struct lines *l = NULL;

    ck_assert_int_eq(lines_new(0, &l), -EINVAL);
    ck_assert_ptr_null(l);
    ck_assert_ptr_null(lines_free(NULL));
}
END_TEST

/* xorshift: deterministic pseudo-random input full of '\n', '\r' and long runs. */
static unsigned next_rand(unsigned *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

START_TEST(splitter_output_does_not_depend_on_read_sizes)
{
    static const char alphabet[] = "\n\r\0ab";
    static char in[6000];
    unsigned seed = 0x9e3779b9u + (unsigned)_i;
    size_t max = 1 + next_rand(&seed) % 40;
    size_t chunks[8];

    for (size_t i = 0; i < sizeof(in); i++) {
        unsigned v = next_rand(&seed);
        in[i] = v % 7 == 0 ? alphabet[v % 3] : (char)('a' + v % 26);
    }
    for (size_t i = 0; i < 7; i++)
        chunks[i] = 1 + next_rand(&seed) % (2 * max + 3);
    chunks[7] = 0;

    struct log exp = {0};
    struct log got = {0};

    model(&exp, in, sizeof(in), max);
    check_all_chunkings(max, in, sizeof(in), &exp);
    run(&got, max, in, sizeof(in), chunks);
    check_same(&got, &exp);
    free(exp.buf);
    free(got.buf);
}
END_TEST

Suite *lines_suite(void)
{
    Suite *s = suite_create("lines");
    TCase *tc = tcase_create("split");

    tcase_add_test(tc, splitter_delivers_lines_without_newline_and_keeps_empty_ones);
    tcase_add_test(tc, splitter_strips_one_trailing_cr_and_keeps_a_bare_cr_inside);
    tcase_add_test(tc, splitter_passes_nul_bytes_as_data);
    tcase_add_test(tc, splitter_delivers_last_line_without_newline_only_at_finish);
    tcase_add_test(tc, splitter_finish_without_a_tail_delivers_nothing);
    tcase_add_test(tc, splitter_line_of_exactly_max_line_bytes_is_one_line);
    tcase_add_test(tc, splitter_line_of_max_line_plus_one_comes_in_two_pieces);
    tcase_add_test(tc, splitter_line_of_three_and_a_half_max_comes_in_four_pieces);
    tcase_add_test(tc, splitter_strips_cr_only_at_the_real_end_of_a_long_line);
    tcase_add_test(tc, splitter_max_line_of_one_splits_every_byte);
    tcase_add_test(tc, splitter_returns_callback_error_and_restarts_cleanly);
    tcase_add_test(tc, splitter_rejects_a_zero_max_line);
    tcase_add_loop_test(tc, splitter_output_does_not_depend_on_read_sizes, 0, 20);
    suite_add_tcase(s, tc);
    return s;
}

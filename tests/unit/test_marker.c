// SPDX-License-Identifier: MIT
/*
 * marker: every row of Go's table (notes §7) for metric markers and the
 * multi-line router, Go's Unicode TrimSpace, and the documented fixes (state
 * per instance, block flushed at EOF, block indentation kept, size cap).
 * A recording ops struct keeps every callback; tests assert on exact bytes.
 */
#include "lines.h"
#include "marker.h"
#include "unit.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define LIT(s) (s), (sizeof(s) - 1)

enum { CALL_METRIC, CALL_MESSAGE };

struct call {
    int kind;
    enum marker_metric op;
    unsigned flags;
    char name[32];
    size_t name_len;
    char text[512];
    size_t len; /* of text: the value of a metric, or the message */
    bool has_value;
};

/* The calls of one test (each test runs in its own process). */
static struct {
    struct call c[32];
    size_t n;
    int fail_metric; /* returned by metric() when non-zero */
    int fail_message;
} rec;

static int on_metric(void *ctx, enum marker_metric op, const char *name, size_t name_len,
                     const char *value, size_t value_len)
{
    struct call *c = &rec.c[rec.n];

    (void)ctx;
    if (rec.fail_metric)
        return rec.fail_metric;
    ck_assert_uint_lt(rec.n, 32);
    ck_assert_uint_lt(name_len, sizeof(c->name));
    ck_assert_uint_lt(value_len, sizeof(c->text));
    rec.n++;
    c->kind = CALL_METRIC;
    c->op = op;
    memcpy(c->name, name, name_len);
    c->name_len = name_len;
    c->has_value = value != NULL;
    if (value_len > 0)
        memcpy(c->text, value, value_len);
    c->len = value_len;
    return 0;
}

static int on_message(void *ctx, const char *text, size_t len, unsigned flags)
{
    struct call *c = &rec.c[rec.n];

    (void)ctx;
    if (rec.fail_message)
        return rec.fail_message;
    ck_assert_uint_lt(rec.n, 32);
    ck_assert_uint_lt(len, sizeof(c->text));
    ck_assert_uint_gt(len, 0);
    rec.n++;
    c->kind = CALL_MESSAGE;
    c->flags = flags;
    memcpy(c->text, text, len);
    c->len = len;
    return 0;
}

static const struct marker_ops ops = {.metric = on_metric, .message = on_message};

static struct marker *new_marker(size_t block_max)
{
    struct marker *m = NULL;

    memset(&rec, 0, sizeof(rec));
    ck_assert_int_eq(marker_new(block_max, &m), 0);
    return m;
}

/* Feeds NUL-free lines (flags 0) and expects every call to succeed. */
static void feed(struct marker *m, const char *const *lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(marker_line(m, lines[i], strlen(lines[i]), 0, &ops, NULL), 0);
}
#define FEED(m, ...)                                                                               \
    do {                                                                                           \
        const char *const lines_[] = {__VA_ARGS__};                                                \
        feed(m, lines_, sizeof(lines_) / sizeof(lines_[0]));                                       \
    } while (0)

static void expect_message(size_t i, const char *text, size_t len, unsigned flags)
{
    const struct call *c = &rec.c[i];

    ck_assert_uint_lt(i, rec.n);
    ck_assert_int_eq(c->kind, CALL_MESSAGE);
    ck_assert_msg(c->len == len && memcmp(c->text, text, len) == 0,
                  "call %zu: got \"%.*s\" (%zu bytes), want \"%.*s\" (%zu bytes)", i, (int)c->len,
                  c->text, c->len, (int)len, text, len);
    ck_assert_uint_eq(c->flags, flags);
}

static void expect_metric(size_t i, enum marker_metric op, const char *name, const char *value)
{
    const struct call *c = &rec.c[i];

    ck_assert_uint_lt(i, rec.n);
    ck_assert_int_eq(c->kind, CALL_METRIC);
    ck_assert_int_eq(c->op, op);
    ck_assert_uint_eq(c->name_len, strlen(name));
    ck_assert(memcmp(c->name, name, c->name_len) == 0);
    ck_assert(c->has_value == (value != NULL));
    ck_assert_uint_eq(c->len, value ? strlen(value) : 0);
    ck_assert(c->len == 0 || memcmp(c->text, value, c->len) == 0);
}

/* A whole entry: text is a NUL-free string literal. */
#define EXPECT_MSG(i, text, flags) expect_message(i, LIT(text), flags)

START_TEST(router_trims_a_normal_line_and_drops_an_empty_one)
{
    struct marker *m = new_marker(1024);

    FEED(m, "  hello  world \t", "", " \t\v\f\r ", "x");
    ck_assert_uint_eq(rec.n, 2);
    EXPECT_MSG(0, "hello  world", 0);
    EXPECT_MSG(1, "x", 0);
    ck_assert_int_eq(marker_finish(m, &ops, NULL), 0);
    ck_assert_uint_eq(rec.n, 2);
    marker_free(m);
}
END_TEST

START_TEST(marker_incr_and_set_are_reported_and_cut_from_the_line)
{
    struct marker *m = new_marker(1024);

    FEED(m, "{{hits}}", "{{hits:}}", "{{temp:42}} ok", "{{n:007}}");
    ck_assert_uint_eq(rec.n, 5);
    expect_metric(0, MARKER_INCR, "hits", NULL);
    expect_metric(1, MARKER_INCR, "hits", NULL);
    expect_metric(2, MARKER_SET, "temp", "42");
    EXPECT_MSG(3, "ok", 0);
    expect_metric(4, MARKER_SET, "n", "007");
    marker_free(m);
}
END_TEST

START_TEST(marker_handles_every_match_in_order_and_joins_the_rest)
{
    struct marker *m = new_marker(1024);

    FEED(m, "a{{x}}b{{y:1}}c", "{{a}}{{b:1}}", "{{{w_9}}}", " {{A1}} ", "{z{{b}}{");
    ck_assert_uint_eq(rec.n, 10);
    expect_metric(0, MARKER_INCR, "x", NULL);
    expect_metric(1, MARKER_SET, "y", "1");
    EXPECT_MSG(2, "abc", 0);
    expect_metric(3, MARKER_INCR, "a", NULL);
    expect_metric(4, MARKER_SET, "b", "1");
    expect_metric(5, MARKER_INCR, "w_9", NULL);
    EXPECT_MSG(6, "{}", 0);
    expect_metric(7, MARKER_INCR, "A1", NULL);
    expect_metric(8, MARKER_INCR, "b", NULL);
    EXPECT_MSG(9, "{z{", 0);
    marker_free(m);
}
END_TEST

START_TEST(marker_non_matches_stay_in_the_text)
{
    static const char *const kept[] = {"{{ name }}", "{{t:-5}}", "{{t:1.5}}", "{{t:abc}}", "{{}}",
                                       "{{:5}}",     "{{a-b}}",  "{{a}",      "{a}}",      "{{a:1}",
                                       "{{a::1}}",   "{{a:1:}}", "{{é}}",     "{{a b}}",   "{{a",
                                       "x{{",        "{{a:12 }}"};

    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
        struct marker *m = new_marker(1024);

        FEED(m, kept[i]);
        ck_assert_msg(rec.n == 1, "%s: %zu calls", kept[i], rec.n);
        expect_message(0, kept[i], strlen(kept[i]), 0);
        marker_free(m);
    }
}
END_TEST

START_TEST(marker_nul_byte_breaks_a_marker_and_is_kept)
{
    struct marker *m = new_marker(1024);

    ck_assert_int_eq(marker_line(m, LIT("{{a\0}} {{b}}\0"), 0, &ops, NULL), 0);
    ck_assert_uint_eq(rec.n, 2);
    expect_metric(0, MARKER_INCR, "b", NULL);
    expect_message(1, LIT("{{a\0}} \0"), 0);
    marker_free(m);
}
END_TEST

START_TEST(router_logs_text_between_start_and_end_and_drops_text_before)
{
    struct marker *m = new_marker(1024);

    FEED(m, "pre >>|  mid  |<<  post  ", "x>>| only |<<", ">>|  |<< tail");
    ck_assert_uint_eq(rec.n, 4);
    EXPECT_MSG(0, "mid", 0);
    EXPECT_MSG(1, "post", 0);
    EXPECT_MSG(2, "only", 0);
    EXPECT_MSG(3, "tail", 0);
    marker_free(m);
}
END_TEST

START_TEST(router_inline_pair_leaves_an_open_block_alone)
{
    struct marker *m = new_marker(1024);

    FEED(m, ">>|first", ">>|one|<<two", "second", "|<<");
    ck_assert_uint_eq(rec.n, 3);
    EXPECT_MSG(0, "one", 0);
    EXPECT_MSG(1, "two", 0);
    EXPECT_MSG(2, "first\nsecond", MARKER_BLOCK);
    marker_free(m);
}
END_TEST

START_TEST(router_overlapping_tokens_count_as_an_empty_pair)
{
    struct marker *m = new_marker(1024);

    FEED(m, ">>|<<", "a>>|<< rest", "after");
    ck_assert_uint_eq(rec.n, 2);
    EXPECT_MSG(0, "rest", 0);
    EXPECT_MSG(1, "after", 0);
    marker_free(m);
}
END_TEST

START_TEST(router_block_keeps_inner_lines_raw_and_drops_text_before_start)
{
    struct marker *m = new_marker(1024);

    FEED(m, "junk >>|first", "  second", "", "   ", "\tthird  ", "end|<<");
    ck_assert_uint_eq(rec.n, 1);
    EXPECT_MSG(0, "first\n  second\n\n   \n\tthird  \nend", MARKER_BLOCK);
    marker_free(m);
}
END_TEST

START_TEST(router_block_keeps_first_line_indentation_but_drops_blank_edge_lines)
{
    struct marker *m = new_marker(1024);

    FEED(m, ">>|", "    indented:", "  more  ", "|<<", ">>|  ", "", "\xe3\x80\x80", "  x  ", " ",
         "\t|<<");
    ck_assert_uint_eq(rec.n, 2);
    EXPECT_MSG(0, "    indented:\n  more  ", MARKER_BLOCK);
    EXPECT_MSG(1, "  x  ", MARKER_BLOCK);
    marker_free(m);
}
END_TEST

START_TEST(router_blank_block_logs_nothing)
{
    struct marker *m = new_marker(1024);

    FEED(m, ">>|  ", "", "\t", "|<<", "|<<", "next");
    ck_assert_uint_eq(rec.n, 1);
    EXPECT_MSG(0, "next", 0);
    marker_free(m);
}
END_TEST

START_TEST(router_start_in_an_open_block_flushes_it_and_starts_anew)
{
    struct marker *m = new_marker(1024);

    FEED(m, ">>|a", "b", "x >>|c", "|<<");
    ck_assert_uint_eq(rec.n, 2);
    EXPECT_MSG(0, "a\nb", MARKER_BLOCK);
    EXPECT_MSG(1, "c", MARKER_BLOCK);
    marker_free(m);
}
END_TEST

START_TEST(router_end_before_start_flushes_without_it_and_loses_the_middle)
{
    struct marker *m = new_marker(1024);

    /* Go: for a|<<b>>|c the old block is flushed without a, b is lost, c starts a block. */
    FEED(m, ">>|old", "a|<<b>>|c", "d|<<");
    ck_assert_uint_eq(rec.n, 2);
    EXPECT_MSG(0, "old", MARKER_BLOCK);
    EXPECT_MSG(1, "c\nd", MARKER_BLOCK);
    marker_free(m);
}
END_TEST

START_TEST(router_end_closes_the_block_and_logs_the_rest_as_a_normal_line)
{
    struct marker *m = new_marker(1024);

    FEED(m, ">>|x", "tail |<<  after  ", "plain");
    ck_assert_uint_eq(rec.n, 3);
    EXPECT_MSG(0, "x\ntail ", MARKER_BLOCK);
    EXPECT_MSG(1, "after", 0);
    EXPECT_MSG(2, "plain", 0);
    marker_free(m);
}
END_TEST

START_TEST(router_stray_end_without_a_block_logs_the_text_before_it)
{
    struct marker *m = new_marker(1024);

    FEED(m, "  x |<<  y ", "|<<", "  z|<<");
    ck_assert_uint_eq(rec.n, 3);
    EXPECT_MSG(0, "x", 0);
    EXPECT_MSG(1, "y", 0);
    EXPECT_MSG(2, "z", 0);
    marker_free(m);
}
END_TEST

START_TEST(router_handles_markers_inside_blocks_before_tokens)
{
    struct marker *m = new_marker(1024);

    FEED(m, ">>|  start", "  x {{m}} y", ">>{{n:5}}|next", "|{{q}}<<");
    ck_assert_uint_eq(rec.n, 5);
    expect_metric(0, MARKER_INCR, "m", NULL);
    expect_metric(1, MARKER_SET, "n", "5");
    EXPECT_MSG(2, "  start\n  x  y", MARKER_BLOCK);
    expect_metric(3, MARKER_INCR, "q", NULL);
    EXPECT_MSG(4, "next", MARKER_BLOCK);
    marker_free(m);
}
END_TEST

START_TEST(router_marker_only_line_in_a_block_adds_an_empty_line)
{
    struct marker *m = new_marker(1024);

    FEED(m, ">>|a", "{{m}}", "b|<<");
    ck_assert_uint_eq(rec.n, 2);
    expect_metric(0, MARKER_INCR, "m", NULL);
    EXPECT_MSG(1, "a\n\nb", MARKER_BLOCK);
    marker_free(m);
}
END_TEST

START_TEST(router_finish_flushes_an_open_block)
{
    struct marker *m = new_marker(1024);

    FEED(m, ">>|  open", "  tail", "");
    ck_assert_uint_eq(rec.n, 0);
    ck_assert_int_eq(marker_finish(m, &ops, NULL), 0);
    ck_assert_uint_eq(rec.n, 1);
    EXPECT_MSG(0, "  open\n  tail", MARKER_BLOCK);
    ck_assert_int_eq(marker_finish(m, &ops, NULL), 0);
    FEED(m, "  normal ");
    ck_assert_uint_eq(rec.n, 2);
    EXPECT_MSG(1, "normal", 0);
    marker_free(m);
}
END_TEST

START_TEST(router_state_is_per_instance)
{
    struct marker *out = new_marker(1024);
    struct marker *err = NULL;

    ck_assert_int_eq(marker_new(1024, &err), 0);
    FEED(out, ">>|block");
    FEED(err, "  err line ");
    FEED(out, "more", "|<<");
    ck_assert_uint_eq(rec.n, 2);
    EXPECT_MSG(0, "err line", 0);
    EXPECT_MSG(1, "block\nmore", MARKER_BLOCK);
    marker_free(out);
    marker_free(err);
}
END_TEST

START_TEST(router_block_over_the_cap_warns_and_is_flushed)
{
    struct marker *m = new_marker(16);

    /* "0123456789\n" is 11 bytes, within 16; the next line makes 22. */
    FEED(m, ">>|0123456789", "abcdefghij", "  after ");
    ck_assert_uint_eq(rec.n, 3);
    EXPECT_MSG(0, MARKER_WARNING_TEXT, MARKER_WARNING);
    EXPECT_MSG(1, "0123456789\nabcdefghij", MARKER_BLOCK);
    EXPECT_MSG(2, "after", 0);
    FEED(m, ">>|0123456789abcdef", "|<<"); /* 17 bytes: over at once */
    ck_assert_uint_eq(rec.n, 5);
    EXPECT_MSG(3, MARKER_WARNING_TEXT, MARKER_WARNING);
    EXPECT_MSG(4, "0123456789abcdef", MARKER_BLOCK);
    ck_assert_int_eq(marker_finish(m, &ops, NULL), 0);
    ck_assert_uint_eq(rec.n, 5);
    marker_free(m);
}
END_TEST

START_TEST(router_block_of_exactly_the_cap_is_kept_open)
{
    struct marker *m = new_marker(16);

    FEED(m, ">>|0123456789abcde", "|<<"); /* 15 bytes + '\n': 16, not over 16 */
    ck_assert_uint_eq(rec.n, 1);
    EXPECT_MSG(0, "0123456789abcde", MARKER_BLOCK);
    marker_free(m);
}
END_TEST

START_TEST(trim_follows_go_unicode_white_space)
{
    struct marker *m = new_marker(1024);

    /* U+00A0, U+3000, U+2029, U+0085, U+1680, U+2000, U+200A, U+202F, U+205F, U+2028. */
    FEED(m, "\xc2\xa0\xe3\x80\x80 hi \xe2\x80\xa9", "\xc2\x85x\xc2\x85",
         "\xe1\x9a\x80\xe2\x80\x80y\xe2\x80\x8a\xe2\x80\xaf\xe2\x81\x9f\xe2\x80\xa8",
         ">>|\xc2\xa0 z \xe3\x80\x80|<<");
    ck_assert_uint_eq(rec.n, 4);
    EXPECT_MSG(0, "hi", 0);
    EXPECT_MSG(1, "x", 0);
    EXPECT_MSG(2, "y", 0);
    EXPECT_MSG(3, "z", 0);
    marker_free(m);
}
END_TEST

START_TEST(trim_keeps_invalid_utf8_and_non_space_characters)
{
    static const char *const kept[] = {
        "\xa0 hi \xc2",              /* lone continuation byte, truncated sequence */
        "\x85x\xe3\x80",             /* U+0085 without its lead byte, truncated U+3000 */
        "\xc0\xa0x\xe2\x80\x8b",     /* overlong space, U+200B (not White_Space) */
        "\xe2\x80\xa0y\xe2\x81\xa0", /* U+2020, U+2060 */
    };

    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
        struct marker *m = new_marker(1024);

        FEED(m, kept[i]);
        ck_assert_uint_eq(rec.n, 1);
        expect_message(0, kept[i], strlen(kept[i]), 0);
        marker_free(m);
    }
}
END_TEST

START_TEST(pieces_of_a_long_line_are_trimmed_only_at_the_real_line_ends)
{
    struct marker *m = new_marker(1024);

    ck_assert_int_eq(marker_line(m, LIT("  abc  "), LINES_PARTIAL, &ops, NULL), 0);
    ck_assert_int_eq(marker_line(m, LIT("  d  "), LINES_PARTIAL | LINES_CONTINUED, &ops, NULL), 0);
    ck_assert_int_eq(marker_line(m, LIT(" ef  "), LINES_CONTINUED | LINES_NO_EOL, &ops, NULL), 0);
    ck_assert_uint_eq(rec.n, 3);
    EXPECT_MSG(0, "abc  ", LINES_PARTIAL);
    EXPECT_MSG(1, "  d  ", LINES_PARTIAL | LINES_CONTINUED);
    EXPECT_MSG(2, " ef", LINES_CONTINUED);
    marker_free(m);
}
END_TEST

START_TEST(pieces_of_a_long_line_join_back_inside_a_block)
{
    struct marker *m = new_marker(1024);

    ck_assert_int_eq(marker_line(m, LIT("x >>|ab "), LINES_PARTIAL, &ops, NULL), 0);
    ck_assert_int_eq(marker_line(m, LIT(" cd"), LINES_CONTINUED, &ops, NULL), 0);
    ck_assert_int_eq(marker_line(m, LIT("ef"), LINES_PARTIAL, &ops, NULL), 0);
    ck_assert_int_eq(marker_line(m, LIT(" g|<< h "), LINES_PARTIAL | LINES_CONTINUED, &ops, NULL),
                     0);
    ck_assert_int_eq(marker_line(m, LIT(" i "), LINES_CONTINUED, &ops, NULL), 0);
    ck_assert_uint_eq(rec.n, 3);
    EXPECT_MSG(0, "ab  cd\nef g", MARKER_BLOCK);
    EXPECT_MSG(1, "h ", LINES_PARTIAL);
    EXPECT_MSG(2, " i", LINES_CONTINUED);
    marker_free(m);
}
END_TEST

START_TEST(callback_errors_abort_and_propagate)
{
    struct marker *m = new_marker(1024);

    rec.fail_metric = -EIO;
    ck_assert_int_eq(marker_line(m, LIT("{{m}} text"), 0, &ops, NULL), -EIO);
    ck_assert_uint_eq(rec.n, 0);
    rec.fail_metric = 0;
    rec.fail_message = -EPIPE;
    ck_assert_int_eq(marker_line(m, LIT("text"), 0, &ops, NULL), -EPIPE);
    FEED(m, ">>|open");
    ck_assert_int_eq(marker_finish(m, &ops, NULL), -EPIPE);
    rec.fail_message = 0;
    ck_assert_int_eq(marker_finish(m, &ops, NULL), 0);
    ck_assert_uint_eq(rec.n, 0);
    marker_free(m);
}
END_TEST

START_TEST(marker_rejects_a_zero_cap)
{
    struct marker *m = NULL;

    ck_assert_int_eq(marker_new(0, &m), -EINVAL);
    ck_assert_ptr_null(m);
    ck_assert_ptr_null(marker_free(NULL));
}
END_TEST

struct pipeline {
    struct marker *m;
};

static int to_marker(void *ctx, const char *line, size_t len, unsigned flags)
{
    struct pipeline *p = ctx;

    return marker_line(p->m, line, len, flags, &ops, NULL);
}

START_TEST(splitter_feeds_the_router_end_to_end)
{
    static const char out[] = "{{boot}}\r\n>>|Traceback:\r\n  File \"x\"\n\n|<< done \n >>|open";
    struct pipeline p = {.m = new_marker(1024)};
    struct lines *l = NULL;

    ck_assert_int_eq(lines_new(64, &l), 0);
    for (size_t i = 0; i < sizeof(out) - 1; i++)
        ck_assert_int_eq(lines_feed(l, out + i, 1, to_marker, &p), 0);
    ck_assert_int_eq(lines_finish(l, to_marker, &p), 0);
    ck_assert_int_eq(marker_finish(p.m, &ops, NULL), 0);
    ck_assert_uint_eq(rec.n, 4);
    expect_metric(0, MARKER_INCR, "boot", NULL);
    EXPECT_MSG(1, "Traceback:\n  File \"x\"", MARKER_BLOCK);
    EXPECT_MSG(2, "done", 0);
    EXPECT_MSG(3, "open", MARKER_BLOCK);
    lines_free(l);
    marker_free(p.m);
}
END_TEST

Suite *marker_suite(void)
{
    Suite *s = suite_create("marker");
    TCase *metrics = tcase_create("metrics");
    TCase *router = tcase_create("router");
    TCase *trim = tcase_create("trim");

    tcase_add_test(metrics, marker_incr_and_set_are_reported_and_cut_from_the_line);
    tcase_add_test(metrics, marker_handles_every_match_in_order_and_joins_the_rest);
    tcase_add_test(metrics, marker_non_matches_stay_in_the_text);
    tcase_add_test(metrics, marker_nul_byte_breaks_a_marker_and_is_kept);
    tcase_add_test(metrics, marker_rejects_a_zero_cap);
    tcase_add_test(router, router_trims_a_normal_line_and_drops_an_empty_one);
    tcase_add_test(router, router_logs_text_between_start_and_end_and_drops_text_before);
    tcase_add_test(router, router_inline_pair_leaves_an_open_block_alone);
    tcase_add_test(router, router_overlapping_tokens_count_as_an_empty_pair);
    tcase_add_test(router, router_block_keeps_inner_lines_raw_and_drops_text_before_start);
    tcase_add_test(router, router_block_keeps_first_line_indentation_but_drops_blank_edge_lines);
    tcase_add_test(router, router_blank_block_logs_nothing);
    tcase_add_test(router, router_start_in_an_open_block_flushes_it_and_starts_anew);
    tcase_add_test(router, router_end_before_start_flushes_without_it_and_loses_the_middle);
    tcase_add_test(router, router_end_closes_the_block_and_logs_the_rest_as_a_normal_line);
    tcase_add_test(router, router_stray_end_without_a_block_logs_the_text_before_it);
    tcase_add_test(router, router_handles_markers_inside_blocks_before_tokens);
    tcase_add_test(router, router_marker_only_line_in_a_block_adds_an_empty_line);
    tcase_add_test(router, router_finish_flushes_an_open_block);
    tcase_add_test(router, router_state_is_per_instance);
    tcase_add_test(router, router_block_over_the_cap_warns_and_is_flushed);
    tcase_add_test(router, router_block_of_exactly_the_cap_is_kept_open);
    tcase_add_test(router, callback_errors_abort_and_propagate);
    tcase_add_test(router, splitter_feeds_the_router_end_to_end);
    tcase_add_test(trim, trim_follows_go_unicode_white_space);
    tcase_add_test(trim, trim_keeps_invalid_utf8_and_non_space_characters);
    tcase_add_test(trim, pieces_of_a_long_line_are_trimmed_only_at_the_real_line_ends);
    tcase_add_test(trim, pieces_of_a_long_line_join_back_inside_a_block);
    suite_add_tcase(s, metrics);
    suite_add_tcase(s, router);
    suite_add_tcase(s, trim);
    return s;
}

// SPDX-License-Identifier: MIT
/* The supervisor's pid map and the recent-lines ring. */
#include "macro.h"
#include "pidmap.h"
#include "ps.h"
#include "recent.h"
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(pidmap_sets_gets_and_removes)
{
    struct pidmap m = {0};
    pid_t v = 0;

    for (pid_t p = 1000; p > 0; p -= 7)
        ck_assert_int_eq(pidmap_set(&m, p, p % 3), 0);
    ck_assert_int_eq(pidmap_get(&m, 993, -1), 993 % 3);
    ck_assert_int_eq(pidmap_get(&m, 992, -1), -1);
    ck_assert_int_eq(pidmap_set(&m, 993, 77), 0); /* replaces */
    ck_assert_int_eq(pidmap_get(&m, 993, -1), 77);
    ck_assert(pidmap_del(&m, 993, &v));
    ck_assert_int_eq(v, 77);
    ck_assert(!pidmap_del(&m, 993, NULL));
    for (size_t i = 1; i < m.n; i++)
        ck_assert_int_lt(m.v[i - 1].key, m.v[i].key);
    /* Every child of process 1 at once (it exited: they are orphans now). */
    {
        size_t before = m.n, gone = pidmap_del_value(&m, 1);
        ck_assert_uint_gt(gone, 0);
        ck_assert_uint_eq(m.n, before - gone);
        for (size_t i = 0; i < m.n; i++)
            ck_assert_int_ne(m.v[i].value, 1);
    }
    pidmap_fini(&m);
    ck_assert_uint_eq(m.n, 0);
}
END_TEST

START_TEST(recent_keeps_the_newest_lines_in_order)
{
    struct recent *r = NULL;
    char **v = NULL, line[32];
    char big[RECENT_LINE_MAX + 100];

    ck_assert_int_eq(recent_new(3, &r), 0);
    ck_assert_int_eq(recent_copy(r, &v), 0);
    ck_assert_ptr_null(v[0]);
    free(v);
    for (int i = 1; i <= 5; i++) {
        int n = snprintf(line, sizeof(line), "line %d", i);
        recent_push(r, i % 2 ? 'o' : 'e', line, (size_t)n);
    }
    ck_assert_int_eq(recent_copy(r, &v), 3);
    ck_assert_str_eq(v[0], "out: line 3");
    ck_assert_str_eq(v[1], "err: line 4");
    ck_assert_str_eq(v[2], "out: line 5");
    ck_assert_ptr_null(v[3]);
    for (int i = 0; v[i]; i++)
        free(v[i]);
    free(v);
    /* A long line is cut; an empty one is kept. */
    memset(big, 'x', sizeof(big));
    recent_push(r, 'o', big, sizeof(big));
    recent_push(r, 'e', "", 0);
    ck_assert_int_eq(recent_copy(r, &v), 3);
    ck_assert_uint_eq(strlen(v[1]), strlen("out: ") + RECENT_LINE_MAX);
    ck_assert_str_eq(v[2], "err: ");
    for (int i = 0; v[i]; i++)
        free(v[i]);
    free(v);
    recent_free(r);
    /* A ring of 0 keeps nothing; NULL is taken. */
    ck_assert_int_eq(recent_new(0, &r), 0);
    recent_push(r, 'o', "x", 1);
    ck_assert_int_eq(recent_copy(r, &v), 0);
    free(v);
    recent_free(r);
    recent_push(NULL, 'o', "x", 1);
}
END_TEST

static char *tree_of(const char *const *records, size_t n)
{
    struct ps_run run = {.id = "1795402409934061"};
    char *text = NULL;
    size_t len = 0;
    FILE *out;

    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(ps_add(&run, records[i], strlen(records[i])), 0);
    out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    ps_print(&run, out);
    fclose(out);
    ps_run_fini(&run);
    return text;
}

START_TEST(ps_tree_links_parents_reused_pids_and_loops)
{
    static const char *const recs[] = {
        "{\"event\":\"exec\",\"pid\":4,\"ppid\":1,\"time_us\":1,\"argv\":[\"sh\",\"-c\",\"x\"]}",
        /* a subshell's child, seen before the subshell's own exit record */
        "{\"event\":\"exec\",\"pid\":6,\"ppid\":5,\"time_us\":2,\"argv\":[\"ls\"]}",
        "{\"event\":\"exit\",\"pid\":6,\"ppid\":5,\"time_us\":3,\"code\":0}",
        "{\"event\":\"exit\",\"pid\":5,\"ppid\":4,\"time_us\":4,\"code\":0,"
        "\"duration_us\":1500}",
        /* pid 6 again: a new process */
        "{\"event\":\"exec\",\"pid\":6,\"ppid\":4,\"time_us\":5,\"argv\":[\"a\",\"b\"]}",
        "{\"event\":\"exec\",\"pid\":6,\"ppid\":4,\"time_us\":6,\"argv\":[\"c\"]}",
        "{\"event\":\"exit\",\"pid\":6,\"time_us\":7,\"signal\":\"SIGSEGV\",\"core\":true}",
        /* two records naming each other parents */
        "{\"event\":\"exec\",\"pid\":8,\"ppid\":9,\"time_us\":8,\"argv\":[\"p\"]}",
        "{\"event\":\"exec\",\"pid\":9,\"ppid\":8,\"time_us\":9,\"argv\":[\"q\"]}",
    };
    char *text = tree_of(recs, ARRAY_SIZE(recs));

    ck_assert_str_eq(text, "run 1795402409934061 (2026-11-23 02:53:29 UTC): 6 processes, 0 failed "
                           "execs\n"
                           "4 sh -c x  [no exit seen]\n"
                           "|- 5 (no exec)  [exit 0, 1.5 ms]\n"
                           "|  `- 6 ls  [exit 0]\n"
                           "`- 6 a b => c  [SIGSEGV (core)]\n"
                           "9 q  [no exit seen]\n"
                           "`- 8 p  [no exit seen]\n");
    free(text);
    ck_assert_int_eq(ps_add(&(struct ps_run){.id = ""}, "[1]", 3), -EINVAL);
}
END_TEST

Suite *pidmap_suite(void)
{
    Suite *s = suite_create("pidmap");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, pidmap_sets_gets_and_removes);
    tcase_add_test(tc, recent_keeps_the_newest_lines_in_order);
    tcase_add_test(tc, ps_tree_links_parents_reused_pids_and_loops);
    suite_add_tcase(s, tc);
    return s;
}

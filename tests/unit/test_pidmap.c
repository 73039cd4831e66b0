// SPDX-License-Identifier: MIT
/* The supervisor's pid map and the recent-lines ring. */
#include "pidmap.h"
#include "recent.h"
#include "unit.h"

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

Suite *pidmap_suite(void)
{
    Suite *s = suite_create("pidmap");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, pidmap_sets_gets_and_removes);
    tcase_add_test(tc, recent_keeps_the_newest_lines_in_order);
    suite_add_tcase(s, tc);
    return s;
}

// SPDX-License-Identifier: MIT
/* signame, tree, loop and log: the small modules, with real kernel objects. */
#include "log.h"
#include "loop.h"
#include "signame.h"
#include "tree.h"
#include "unit.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

START_TEST(signame_parses_names_numbers_and_rt)
{
    char buf[24];

    ck_assert_int_eq(signame_parse("SIGKILL"), 9);
    ck_assert_int_eq(signame_parse("term"), 15);
    ck_assert_int_eq(signame_parse("9"), 9);
    ck_assert_int_eq(signame_parse("SIGRTMIN+3"), 35);
    ck_assert_int_eq(signame_parse("RTMAX-1"), 63);
    ck_assert_int_eq(signame_parse("SIGRTMIN"), 32);
    ck_assert_int_eq(signame_parse("65"), -EINVAL);
    ck_assert_int_eq(signame_parse("0"), -EINVAL);
    ck_assert_int_eq(signame_parse("SIGNOPE"), -EINVAL);
    ck_assert_int_eq(signame_parse("RTMIN+40"), -EINVAL);
    ck_assert_str_eq(signame_name(15, buf), "SIGTERM");
    ck_assert_str_eq(signame_name(35, buf), "SIGRTMIN+3");
    ck_assert_str_eq(signame_name(99, buf), "SIG99");
}
END_TEST

START_TEST(tree_finds_grandchildren)
{
    int pfd[2];
    pid_t child, grandchild = 0, *pids = NULL;
    size_t n = 0;
    bool has_child = false, has_grandchild = false;

    ck_assert_int_eq(pipe(pfd), 0);
    child = fork();
    if (child == 0) {
        pid_t g = fork();
        if (g == 0) {
            pause();
            _exit(0);
        }
        (void)!write(pfd[1], &g, sizeof(g));
        pause();
        _exit(0);
    }
    ck_assert_int_eq(read(pfd[0], &grandchild, sizeof(grandchild)), (ssize_t)sizeof(grandchild));
    ck_assert_int_eq(tree_descendants("/proc", getpid(), &pids, &n), 0);
    for (size_t i = 0; i < n; i++) {
        has_child |= pids[i] == child;
        has_grandchild |= pids[i] == grandchild;
    }
    ck_assert(has_child && has_grandchild);
    free(pids);
    kill(grandchild, SIGKILL);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
}
END_TEST

static int on_pipe(struct loop_source *src, uint32_t events)
{
    char c;
    int *hits = src->data;

    ck_assert(events & EPOLLIN);
    ck_assert_int_eq(read(src->fd, &c, 1), 1);
    (*hits)++;
    return 0;
}

struct timer_ctx {
    struct loop *loop;
    struct timespec fired;
    int count;
};

static int on_timer(struct loop_timer *t)
{
    struct timer_ctx *c = t->data;

    clock_gettime(CLOCK_MONOTONIC, &c->fired);
    c->count++;
    loop_quit(c->loop, 42);
    return 0;
}

static int never(struct loop_timer *t)
{
    (void)t;
    ck_abort_msg("a disarmed timer fired");
    return 0;
}

START_TEST(loop_dispatches_fds_and_fires_timers)
{
    struct loop *l = NULL;
    struct loop_timer timer, other;
    struct timer_ctx t = {0};
    struct timespec start;
    int pfd[2], hits = 0;
    struct loop_source src;
    long ms;

    ck_assert_int_eq(loop_new(&l), 0);
    ck_assert_int_eq(pipe(pfd), 0);
    src = (struct loop_source){.fd = pfd[0], .fn = on_pipe, .data = &hits};
    ck_assert_int_eq(loop_add(l, &src, EPOLLIN), 0);
    t.loop = l;
    loop_timer_init(l, &timer, on_timer, &t);
    loop_timer_init(l, &other, never, NULL);
    loop_timer_arm(&other, 10);
    loop_timer_disarm(&other);
    ck_assert_int_eq(write(pfd[1], "ab", 2), 2);
    clock_gettime(CLOCK_MONOTONIC, &start);
    loop_timer_arm(&timer, 500);
    loop_timer_arm(&timer, 50); /* re-arming moves the deadline */
    ck_assert_int_eq(loop_run(l), 42);
    ck_assert_int_eq(hits, 2);
    ck_assert_int_eq(t.count, 1);
    ms = (t.fired.tv_sec - start.tv_sec) * 1000 + (t.fired.tv_nsec - start.tv_nsec) / 1000000;
    ck_assert_int_ge(ms, 50);
    ck_assert_int_lt(ms, 450);
    ck_assert(!timer.is_armed);
    loop_free(l);
}
END_TEST

static int wait_once(struct loop_source *src, int timeout_ms)
{
    int *calls = src->data;

    ck_assert_int_ge(timeout_ms, 0); /* a timer is armed: the wait is bounded */
    (*calls)++;
    return 0;
}

START_TEST(loop_lets_a_lone_source_wait_with_the_timer_as_timeout)
{
    struct loop *l = NULL;
    struct loop_timer timer;
    struct timer_ctx t = {0};
    int pfd[2], calls = 0;
    struct loop_source src;

    ck_assert_int_eq(loop_new(&l), 0);
    ck_assert_int_eq(pipe(pfd), 0);
    src = (struct loop_source){.fd = pfd[0], .fn = on_pipe, .wait = wait_once, .data = &calls};
    ck_assert_int_eq(loop_add(l, &src, EPOLLIN), 0);
    t.loop = l;
    loop_timer_init(l, &timer, on_timer, &t);
    loop_timer_arm(&timer, 20);
    ck_assert_int_eq(loop_run(l), 42);
    ck_assert_int_ge(calls, 1);
    ck_assert_int_eq(t.count, 1);
    loop_free(l);
}
END_TEST

static int failing(struct loop_source *src, uint32_t events)
{
    (void)src;
    (void)events;
    return -EPIPE;
}

START_TEST(loop_stops_on_handler_error)
{
    struct loop *l = NULL;
    int pfd[2];
    struct loop_source src;

    ck_assert_int_eq(loop_new(&l), 0);
    ck_assert_int_eq(pipe(pfd), 0);
    src = (struct loop_source){.fd = pfd[0], .fn = failing};
    ck_assert_int_eq(loop_add(l, &src, EPOLLIN), 0);
    ck_assert_int_eq(write(pfd[1], "x", 1), 1);
    ck_assert_int_eq(loop_run(l), -EPIPE);
    loop_free(l);
}
END_TEST

START_TEST(log_lines_and_levels)
{
    const char *out;
    char num[24];

    log_set_level(LOG_LEVEL_WARN);
    unit_stderr_begin();
    log_info("hidden");
    log_warn("shown %d", 1);
    ck_assert_int_eq(log_error_errno(-ENOENT, "file %s", "x"), -ENOENT);
    log_safe(LOG_LEVEL_ERROR, "safe");
    out = unit_stderr_end();
    ck_assert_str_eq(out, "wrapp: warn: shown 1\nwrapp: error: file x: No such file or directory\n"
                          "wrapp: error: safe\n");
    ck_assert_int_eq(log_parse_level("DEBUG"), LOG_LEVEL_DEBUG);
    ck_assert_int_eq(log_parse_level("7"), LOG_LEVEL_DEBUG);
    ck_assert_int_eq(log_parse_level("x"), -EINVAL);
    ck_assert_str_eq(log_fmt_int(num, -1234567), "-1234567");
    ck_assert_str_eq(log_fmt_int(num, 0), "0");
    ck_assert_ptr_eq(log_fmt_hex(num, 0x42aaf4), num + 8);
    ck_assert_str_eq(num, "0x42aaf4");
    log_fmt_hex(num, 0);
    ck_assert_str_eq(num, "0x0");
    log_fmt_hex(num, ~0UL);
    ck_assert_str_eq(num, "0xffffffffffffffff");
}
END_TEST

START_TEST(log_truncates_long_lines_to_one_line)
{
    char big[5000];
    const char *out;

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    unit_stderr_begin();
    log_error("%s", big);
    out = unit_stderr_end();
    ck_assert_uint_lt(strlen(out), 2100);
    ck_assert_ptr_nonnull(strstr(out, "...\n"));
    ck_assert_ptr_eq(strchr(out, '\n'), out + strlen(out) - 1);
}
END_TEST

Suite *signame_suite(void)
{
    Suite *s = suite_create("signame");
    TCase *tc = tcase_create("signame");

    tcase_add_test(tc, signame_parses_names_numbers_and_rt);
    suite_add_tcase(s, tc);
    return s;
}

Suite *tree_suite(void)
{
    Suite *s = suite_create("tree");
    TCase *tc = tcase_create("tree");

    tcase_add_test(tc, tree_finds_grandchildren);
    suite_add_tcase(s, tc);
    return s;
}

Suite *loop_suite(void)
{
    Suite *s = suite_create("loop");
    TCase *tc = tcase_create("loop");

    tcase_add_test(tc, loop_dispatches_fds_and_fires_timers);
    tcase_add_test(tc, loop_stops_on_handler_error);
    tcase_add_test(tc, loop_lets_a_lone_source_wait_with_the_timer_as_timeout);
    suite_add_tcase(s, tc);
    return s;
}

Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log");

    tcase_add_test(tc, log_lines_and_levels);
    tcase_add_test(tc, log_truncates_long_lines_to_one_line);
    suite_add_tcase(s, tc);
    return s;
}

// SPDX-License-Identifier: MIT
/* unwind: real stack traces of a forked child stopped with ptrace (seized
 * and interrupted like the supervisor does), named with file:line. */
#include "arch.h"
#include "crash.h"
#include "unit.h"
#include "unwind.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define THREADS_MAX 16

static volatile int sink;    /* keeps the calls below from becoming tail calls */
static volatile int is_done; /* never set: the chains only look as if they could return */
static int ready_fd = -1;    /* the child's end of the readiness pipe */

/* The bottom of every chain: say so, then wait to be unwound. */
__attribute__((noinline)) static void unwind_level3(void)
{
    char c = 'r';

    if (write(ready_fd, &c, 1) != 1)
        _exit(3);
    while (!is_done)
        pause();
}

__attribute__((noinline)) static void unwind_level2(void)
{
    unwind_level3();
    sink++;
}

__attribute__((noinline)) static void unwind_level1(void)
{
    unwind_level2();
    sink++;
}

__attribute__((noinline)) static void unwind_recurse(int n)
{
    if (n > 0)
        unwind_recurse(n - 1);
    else
        unwind_level1();
    sink++;
}

static void *chain_thread(void *arg)
{
    (void)arg;
    unwind_level1();
    return NULL;
}

/* Fork a child that runs fn(arg) and reports ready `ready` times; wait for
 * that, then seize and interrupt all its threads. Returns the pid; tids
 * (the thread ids, stopped) and *n_tids are filled. */
static pid_t start_stopped(void (*fn)(int), int arg, int ready, pid_t *tids, size_t *n_tids)
{
    int p[2];
    pid_t pid;
    char path[64];
    DIR *d;
    const struct dirent *e;

    ck_assert_int_eq(pipe(p), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(p[0]);
        ready_fd = p[1];
        fn(arg);
        _exit(0);
    }
    close(p[1]);
    for (int i = 0; i < ready; i++) {
        char c;

        ck_assert_int_eq(read(p[0], &c, 1), 1);
    }
    close(p[0]);
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    d = opendir(path);
    ck_assert_ptr_nonnull(d);
    *n_tids = 0;
    while ((e = readdir(d)) && *n_tids < THREADS_MAX) {
        if (e->d_name[0] == '.')
            continue;
        tids[*n_tids] = (pid_t)atoi(e->d_name);
        ck_assert_int_eq(ptrace(PTRACE_SEIZE, tids[*n_tids], NULL, NULL), 0);
        ck_assert_int_eq(ptrace(PTRACE_INTERRUPT, tids[*n_tids], NULL, NULL), 0);
        (*n_tids)++;
    }
    closedir(d);
    for (size_t i = 0; i < *n_tids; i++) {
        int st;

        ck_assert_int_eq(waitpid(tids[i], &st, __WALL), tids[i]);
        ck_assert(WIFSTOPPED(st));
    }
    return pid;
}

/* Detach from the stopped threads (else the tracer would have to reap each
 * one before the leader), then kill the child and reap it. */
static void stop_child(pid_t pid, const pid_t *tids, size_t n_tids)
{
    int st;

    for (size_t i = 0; i < n_tids; i++)
        ptrace(PTRACE_DETACH, tids[i], NULL, NULL);
    kill(pid, SIGKILL);
    waitpid(pid, &st, __WALL);
}

static void run_chain(int arg)
{
    (void)arg;
    unwind_level1();
}

static void run_threads(int n)
{
    for (int i = 0; i < n; i++) {
        pthread_t t;

        if (pthread_create(&t, NULL, chain_thread, NULL) != 0)
            _exit(4);
    }
    unwind_level1();
}

static void run_recursion(int depth)
{
    unwind_recurse(depth);
}

/* The index of the first frame named sym at or after from, or -1. */
static long find_frame(const struct crash_thread *t, size_t from, const char *sym)
{
    for (size_t i = from; i < t->n_frames; i++)
        if (t->frames[i].symbol && strcmp(t->frames[i].symbol, sym) == 0)
            return (long)i;
    return -1;
}

/* level3, level2, level1 in a row, each with this file and a line. */
static void assert_chain(const struct crash_thread *t)
{
    static const char *const names[] = {"unwind_level3", "unwind_level2", "unwind_level1"};
    long at = find_frame(t, 0, names[0]);

    ck_assert_msg(at >= 0, "no unwind_level3 in %zu frames (%s)", t->n_frames,
                  t->unwind_error ? t->unwind_error : "no error");
    for (size_t i = 0; i < 3; i++) {
        const struct crash_frame *f = &t->frames[at + (long)i];

        ck_assert_ptr_nonnull(f->symbol);
        ck_assert_str_eq(f->symbol, names[i]);
        ck_assert_ptr_nonnull(f->file);
        ck_assert_ptr_nonnull(strstr(f->file, "test_unwind.c"));
        ck_assert_int_gt(f->line, 20);
        ck_assert_ptr_nonnull(f->module);
        ck_assert_uint_ne(f->pc, 0);
        ck_assert_uint_gt(f->sym_off, 0); /* a return address, inside its function */
        if (i > 0)                        /* callers sit higher on a stack growing down */
            ck_assert_uint_gt(f->sp, t->frames[at + (long)i - 1].sp);
    }
}

START_TEST(unwind_names_the_call_chain_with_file_and_line)
{
    pid_t tids[THREADS_MAX];
    size_t n;
    pid_t pid = start_stopped(run_chain, 0, 1, tids, &n);
    struct unwinder *u = NULL;
    struct crash_thread t = {.tid = pid};
    struct crash c = {0};
    const char *self;
    bool has_self = false;

    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(unwind_open(pid, false, &u), 0);
    ck_assert_int_eq(unwind_thread(u, pid, CRASH_FRAMES_MAX, &t), 0);
    ck_assert_uint_gt(t.regs.n, 0);
    ck_assert_uint_eq(t.frames[0].pc, arch_pc(&t.regs));
    ck_assert_uint_eq(t.frames[0].sp, arch_sp(&t.regs));
    ck_assert_ptr_nonnull(t.unwinder);
    ck_assert(!t.is_truncated);
    assert_chain(&t);
    /* a second call replaces the frames */
    ck_assert_int_eq(unwind_thread(u, pid, CRASH_FRAMES_MAX, &t), 0);
    assert_chain(&t);

    self = t.frames[find_frame(&t, 0, "unwind_level3")].module;
    ck_assert_int_gt(unwind_modules(u, &c), 0);
    for (size_t i = 0; i < c.n_modules; i++) {
        ck_assert_ptr_nonnull(c.modules[i].path);
        ck_assert_int_eq(c.modules[i].path[0], '/');
        if (strcmp(c.modules[i].path, self) == 0) {
            has_self = true;
            ck_assert_ptr_nonnull(c.modules[i].build_id);
            ck_assert_uint_ne(c.modules[i].base, 0);
        }
    }
    ck_assert(has_self);
    crash_thread_fini(&t);
    crash_fini(&c);
    unwind_close(u);
    stop_child(pid, tids, n);
}
END_TEST

START_TEST(unwind_walks_every_stopped_thread)
{
    enum { N = 4 };
    pid_t tids[THREADS_MAX];
    size_t n;
    pid_t pid = start_stopped(run_threads, N, N + 1, tids, &n);
    struct unwinder *u = NULL;
    struct timespec a, b;

    ck_assert_uint_eq(n, N + 1);
    ck_assert_int_eq(unwind_open(pid, false, &u), 0);
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (size_t i = 0; i < n; i++) {
        struct crash_thread t = {.tid = tids[i]};

        ck_assert_int_eq(unwind_thread(u, tids[i], CRASH_FRAMES_MAX, &t), 0);
        assert_chain(&t);
        crash_thread_fini(&t);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    /* generous: sanitizers, and a cold libc debug file if installed */
    ck_assert_int_lt((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000, 2000);
    unwind_close(u);
    stop_child(pid, tids, n);
}
END_TEST

START_TEST(unwind_caps_deep_recursion_quickly)
{
    pid_t tids[THREADS_MAX];
    size_t n;
    pid_t pid = start_stopped(run_recursion, 20000, 1, tids, &n);
    struct unwinder *u = NULL;
    struct crash_thread t = {.tid = pid};
    struct timespec a, b;

    ck_assert_int_eq(unwind_open(pid, false, &u), 0);
    clock_gettime(CLOCK_MONOTONIC, &a);
    ck_assert_int_eq(unwind_thread(u, pid, 256, &t), 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    ck_assert_uint_eq(t.n_frames, 256);
    ck_assert(t.is_truncated);
    ck_assert_int_ge(find_frame(&t, 0, "unwind_recurse"), 0);
    ck_assert_int_lt((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000, 1000);
    crash_thread_fini(&t);
    ck_assert_ptr_null(t.frames);
    unwind_close(u);
    stop_child(pid, tids, n);
}
END_TEST

START_TEST(unwind_refuses_a_thread_it_has_not_stopped)
{
    int p[2];
    pid_t pid;
    char c;
    struct unwinder *u = NULL;
    struct crash_thread t = {0};

    ck_assert_int_eq(pipe(p), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(p[0]);
        ready_fd = p[1];
        run_chain(0);
    }
    close(p[1]);
    ck_assert_int_eq(read(p[0], &c, 1), 1);
    close(p[0]);
    ck_assert_int_eq(unwind_open(pid, false, &u), 0);
    ck_assert_int_eq(unwind_thread(u, pid, CRASH_FRAMES_MAX, &t), -ESRCH);
    ck_assert_uint_eq(t.n_frames, 0);
    ck_assert_ptr_nonnull(t.unwind_error);
    ck_assert_int_eq(unwind_thread(u, pid, 0, &t), -EINVAL);
    unwind_close(u);
    unwind_close(NULL);
    stop_child(pid, NULL, 0);
}
END_TEST

START_TEST(crash_fini_frees_everything_and_can_repeat)
{
    struct crash c = {0};

    c.exe = strdup("/bin/app");
    c.argv = calloc(3, sizeof(*c.argv));
    ck_assert_ptr_nonnull(c.argv);
    c.argv[0] = strdup("app");
    c.argv[1] = strdup("-x");
    c.n_threads = 1;
    c.threads = calloc(1, sizeof(*c.threads));
    ck_assert_ptr_nonnull(c.threads);
    c.threads[0].n_frames = 1;
    c.threads[0].frames = calloc(1, sizeof(*c.threads[0].frames));
    ck_assert_ptr_nonnull(c.threads[0].frames);
    c.threads[0].frames[0].symbol = strdup("main");
    c.threads[0].frames[0].file = strdup("app.c");
    c.n_maps = 1;
    c.maps = calloc(1, sizeof(*c.maps));
    ck_assert_ptr_nonnull(c.maps);
    c.maps[0].path = strdup("/bin/app");
    c.n_modules = 1;
    c.modules = calloc(1, sizeof(*c.modules));
    ck_assert_ptr_nonnull(c.modules);
    c.modules[0].path = strdup("/bin/app");
    c.modules[0].build_id = strdup("abcd");
    c.n_last_lines = 2;
    c.last_lines = calloc(2, sizeof(*c.last_lines));
    ck_assert_ptr_nonnull(c.last_lines);
    c.last_lines[0] = strdup("out: a");
    c.last_lines[1] = strdup("err: b");
    c.hostname = strdup("h");
    c.stream = strdup("s");
    c.build_id = strdup("ef");
    crash_fini(&c);
    ck_assert_ptr_null(c.threads);
    ck_assert_uint_eq(c.n_modules, 0);
    crash_fini(&c);
    crash_fini(NULL);
    crash_thread_fini(NULL);
}
END_TEST

Suite *unwind_suite(void)
{
    Suite *s = suite_create("unwind");
    TCase *tc = tcase_create("unwind");

    tcase_add_test(tc, unwind_names_the_call_chain_with_file_and_line);
    tcase_add_test(tc, unwind_walks_every_stopped_thread);
    tcase_add_test(tc, unwind_caps_deep_recursion_quickly);
    tcase_add_test(tc, unwind_refuses_a_thread_it_has_not_stopped);
    tcase_add_test(tc, crash_fini_frees_everything_and_can_repeat);
    suite_add_tcase(s, tc);
    return s;
}

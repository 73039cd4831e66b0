// SPDX-License-Identifier: MIT
/*
 * Crashes on demand, for the crash supervisor's tests and benchmarks.
 * Built -O0 -g (dynamic, static without --eh-frame-hdr, musl) so that the
 * frames named below are the frames a report must show, in this order.
 *
 *   crashapp null                 NULL write in crash_null <- level2 <- level1 <- main
 *   crashapp threads N K          N threads run; thread K crashes in thread_crash
 *   crashapp abort                abort() from do_abort
 *   crashapp fpe                  integer division by zero in do_divide
 *   crashapp trap                 __builtin_trap in do_trap (SIGILL)
 *   crashapp grandchild           a grandchild crashes (crash_null); parents exit 0
 *   crashapp handled N            N SIGSEGVs caught and recovered from; exit 0
 *   crashapp reraise              a SIGSEGV handler that resets and re-raises
 *   crashapp recurse              unbounded recursion in recurse: stack overflow
 *   crashapp print N CMD...       print N lines, then run CMD
 *   crashapp hog MB THREADS       touch MB of heap over THREADS threads, print "ready",
 *                                 crash on SIGUSR1
 *   crashapp spawn threads N      N thread create+join; forks N: N fork+wait;
 *                                 signals N: N handled raises
 *   crashapp syscalls DIR [N]  N times: mkdir DIR/made (make_dir), socket(AF_PACKET)
 *                              (packet_socket), unshare(CLONE_NEWUTS) (new_uts),
 *                              ptrace(TRACEME) (trace_me); "NAME ok" / "NAME errno ENAME"
 *   crashapp getpid N          N getpid syscalls (a loop of allowed calls)
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static volatile int sink;

/* A known value in .data that a debugger must read back from a core. */
volatile long crashapp_global = 0x5eed1234;

NOINLINE static void crash_null(void)
{
    volatile int *p = NULL;

    *p = 42;
}

NOINLINE static void level2(void)
{
    crash_null();
    sink++;
}

NOINLINE static void level1(void)
{
    level2();
    sink++;
}

static volatile int crash_index = -1;
static volatile int started;

NOINLINE static void thread_crash(void)
{
    volatile char *p = (char *)16;

    *p = 1;
}

NOINLINE static void thread_work(int me)
{
    __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
    for (;;) {
        struct timespec ts = {0, 1000000};
        if (me == crash_index && __atomic_load_n(&started, __ATOMIC_SEQ_CST) >= me)
            thread_crash();
        nanosleep(&ts, NULL);
    }
}

static void *thread_main(void *arg)
{
    thread_work((int)(intptr_t)arg);
    return NULL;
}

static int threads(int n, int k)
{
    pthread_t t;

    crash_index = -1;
    for (int i = 0; i < n; i++)
        if (pthread_create(&t, NULL, thread_main, (void *)(intptr_t)i) != 0)
            return 1;
    while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < n)
        usleep(1000);
    crash_index = k;
    for (;;)
        pause();
}

NOINLINE static void do_abort(void)
{
    abort();
}

NOINLINE static int do_divide(int a)
{
    volatile int zero = 0;

    return a / zero;
}

NOINLINE static void do_trap(void)
{
    __builtin_trap();
}

static int grandchild(void)
{
    pid_t child = fork();
    int status;

    if (child == 0) {
        pid_t g = fork();
        if (g == 0) {
            level1();
            _exit(0);
        }
        waitpid(g, &status, 0);
        printf("grandchild %d: %s %d\n", (int)g, WIFSIGNALED(status) ? "signal" : "exit",
               WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        fflush(stdout);
        _exit(0);
    }
    waitpid(child, &status, 0);
    return 0;
}

static sigjmp_buf recover;

static void on_segv_recover(int sig)
{
    (void)sig;
    siglongjmp(recover, 1);
}

static int handled(int n)
{
    struct sigaction sa = {.sa_handler = on_segv_recover};
    int caught = 0;

    sigaction(SIGSEGV, &sa, NULL);
    for (int i = 0; i < n; i++) {
        if (sigsetjmp(recover, 1) == 0)
            crash_null();
        else
            caught++;
    }
    printf("caught %d\n", caught);
    return caught == n ? 0 : 1;
}

static void on_segv_reraise(int sig)
{
    signal(sig, SIG_DFL);
    raise(sig);
}

static int reraise(void)
{
    signal(SIGSEGV, on_segv_reraise);
    level1();
    return 0;
}

static volatile int recurse_limit = -1; /* never reached: the stack ends first */

NOINLINE static int recurse(int depth)
{
    volatile char pad[64];

    pad[0] = (char)depth;
    if (depth == recurse_limit)
        return 0;
    return recurse(depth + 1) + pad[0];
}

static char **hog_blocks;

static void *hog_thread(void *arg)
{
    for (;;)
        pause();
    return arg;
}

static void on_usr1(int sig)
{
    (void)sig;
    crash_null();
}

/* MB of heap, filled with non-zero data over THREADS threads that park. */
static int hog(int mb, int nthreads)
{
    pthread_t t;
    uint64_t x = 88172645463325252ULL;

    hog_blocks = calloc((size_t)mb, sizeof(*hog_blocks));
    for (int i = 0; i < mb; i++) {
        uint64_t *b = malloc(1 << 20);
        for (size_t j = 0; j < (1 << 20) / 8; j++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b[j] = x;
        }
        hog_blocks[i] = (char *)b;
    }
    for (int i = 0; i < nthreads; i++)
        pthread_create(&t, NULL, hog_thread, NULL);
    signal(SIGUSR1, on_usr1);
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    for (;;)
        pause();
    return 0;
}

static int park(int n, int seconds)
{
    pthread_t t;

    for (int i = 0; i < n; i++)
        pthread_create(&t, NULL, hog_thread, NULL);
    printf("parked %d\n", (int)getpid());
    fflush(stdout);
    sleep((unsigned)seconds);
    return 0;
}

static void *nothing(void *arg)
{
    return arg;
}

static void on_usr2(int sig)
{
    (void)sig;
    sink++;
}

static int spawn(const char *what, int n)
{
    if (strcmp(what, "threads") == 0) {
        for (int i = 0; i < n; i++) {
            pthread_t t;
            if (pthread_create(&t, NULL, nothing, NULL) != 0 || pthread_join(t, NULL) != 0)
                return 1;
        }
    } else if (strcmp(what, "forks") == 0) {
        for (int i = 0; i < n; i++) {
            pid_t p = fork();
            if (p == 0)
                _exit(0);
            waitpid(p, NULL, 0);
        }
    } else {
        signal(SIGUSR2, on_usr2);
        for (int i = 0; i < n; i++)
            raise(SIGUSR2);
    }
    return 0;
}

/* The errno names the tests expect (musl has no strerrorname_np). */
static const char *errno_name(int e)
{
    static const struct {
        int e;
        const char *name;
    } names[] = {{EPERM, "EPERM"},   {EACCES, "EACCES"}, {EAFNOSUPPORT, "EAFNOSUPPORT"},
                 {ENOSYS, "ENOSYS"}, {EEXIST, "EEXIST"}, {EINVAL, "EINVAL"},
                 {ENOENT, "ENOENT"}};
    static char num[16];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].e == e)
            return names[i].name;
    snprintf(num, sizeof(num), "%d", e);
    return num;
}

static void outcome(const char *name, long r)
{
    if (r < 0)
        printf("%s errno %s\n", name, errno_name(errno));
    else
        printf("%s ok\n", name);
}

NOINLINE static long make_dir(const char *dir)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/made", dir);
    return mkdir(path, 0755);
}

NOINLINE static long packet_socket(void)
{
    int fd = socket(AF_PACKET, SOCK_RAW, 0);

    if (fd >= 0)
        close(fd);
    return fd;
}

NOINLINE static long new_uts(void)
{
    return unshare(CLONE_NEWUTS);
}

NOINLINE static long trace_me(void)
{
    return ptrace(PTRACE_TRACEME, 0, 0, 0);
}

static int syscalls(const char *dir, int times)
{
    for (int i = 0; i < times; i++) {
        outcome("mkdir", make_dir(dir));
        outcome("socket", packet_socket());
        outcome("unshare", new_uts());
        outcome("ptrace", trace_me());
    }
    return 0;
}

static int getpids(long n)
{
    for (long i = 0; i < n; i++)
        syscall(SYS_getpid);
    return 0;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    int n = argc > 2 ? atoi(argv[2]) : 0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(cmd, "print") == 0) {
        for (int i = 0; i < n; i++)
            printf("line %d before the crash\n", i + 1);
        return argc > 3 ? main(argc - 2, argv + 2) : 0;
    }
    if (strcmp(cmd, "null") == 0)
        level1();
    else if (strcmp(cmd, "threads") == 0)
        return threads(n, argc > 3 ? atoi(argv[3]) : n / 2);
    else if (strcmp(cmd, "abort") == 0)
        do_abort();
    else if (strcmp(cmd, "fpe") == 0)
        return do_divide(n);
    else if (strcmp(cmd, "trap") == 0)
        do_trap();
    else if (strcmp(cmd, "grandchild") == 0)
        return grandchild();
    else if (strcmp(cmd, "handled") == 0)
        return handled(n);
    else if (strcmp(cmd, "reraise") == 0)
        return reraise();
    else if (strcmp(cmd, "recurse") == 0)
        return recurse(0);
    else if (strcmp(cmd, "hog") == 0)
        return hog(n, argc > 3 ? atoi(argv[3]) : 8);
    else if (strcmp(cmd, "park") == 0)
        return park(n, argc > 3 ? atoi(argv[3]) : 5);
    else if (strcmp(cmd, "syscalls") == 0)
        return syscalls(argc > 2 ? argv[2] : "/tmp", argc > 3 ? atoi(argv[3]) : 1);
    else if (strcmp(cmd, "getpid") == 0)
        return getpids(argc > 2 ? atol(argv[2]) : 0);
    else if (strcmp(cmd, "spawn") == 0)
        return spawn(argc > 2 ? argv[2] : "", argc > 3 ? atoi(argv[3]) : 0);
    fprintf(stderr, "crashapp: unknown command \"%s\"\n", cmd);
    return 2;
}

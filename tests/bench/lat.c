// SPDX-License-Identifier: MIT
//
// lat N INIT [INIT-ARGS...]: signal-forwarding latency of an init.
// Runs "INIT [INIT-ARGS...] <this program> --child FIFO"; the child installs
// a SIGUSR1 handler that stamps CLOCK_MONOTONIC and writes the stamp to the
// FIFO (a named pipe survives inits that close inherited descriptors).  The
// parent sends N SIGUSR1 to the init's pid, one at a time, each after the
// previous one arrived, and prints "median_us=... p90_us=... min_us=...".
// With INIT=/usr/bin/env (which execs) the signal goes straight to the child
// and gives the baseline.  Every wait is bounded by a timeout.

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READY_TIMEOUT_MS  10000
#define SIGNAL_TIMEOUT_MS 5000
#define EXIT_TIMEOUT_MS   5000
#define CHILD_ALARM_S     600
#define MAX_SIGNALS       10000000L

// One record on the FIFO: readiness (a = pid, b = ppid) or a stamp
// (a = handler invocation count, b = CLOCK_MONOTONIC in ns).
struct record {
    int64_t a;
    int64_t b;
};

static int child_fd = -1;
static volatile sig_atomic_t child_seq;

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// ---- child side -------------------------------------------------------

static void on_usr1(int sig)
{
    int saved = errno;
    struct record rec;

    (void)sig;
    rec.b = now_ns();
    rec.a = ++child_seq;
    if (write(child_fd, &rec, sizeof(rec)) < 0) {
        // Nothing sensible to do: the parent times out and reports.
    }
    errno = saved;
}

static int setup_child_signals(void)
{
    struct sigaction sa;
    sigset_t set;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGUSR1, &sa, NULL) < 0)
        return -1;
    sa.sa_handler = SIG_DFL;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    // An init may hand us a non-empty mask; make sure ours can arrive.
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGALRM);
    return sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static int run_child(const char *fifo)
{
    struct record ready;

    // Die with our parent (the init) and never outlive a stuck benchmark.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    alarm(CHILD_ALARM_S);
    child_fd = open(fifo, O_WRONLY | O_CLOEXEC);
    if (child_fd < 0 || setup_child_signals() < 0) {
        perror("lat --child");
        return 1;
    }
    ready.a = getpid();
    ready.b = getppid();
    if (write(child_fd, &ready, sizeof(ready)) != (ssize_t)sizeof(ready))
        return 1;
    for (;;)
        pause();
}

// ---- parent side ------------------------------------------------------

static int read_record(int fd, struct record *rec, int timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int r;

    do {
        r = poll(&pfd, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    if (r <= 0)
        return -1;
    do {
        r = (int)read(fd, rec, sizeof(*rec));
    } while (r < 0 && errno == EINTR);
    return r == (int)sizeof(*rec) ? 0 : -1;
}

static pid_t spawn_init(char **init_argv, const char *fifo)
{
    static char self[PATH_MAX];
    int argc = 0;
    ssize_t n;
    pid_t pid;

    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n < 0)
        return -1;
    self[n] = '\0';
    while (init_argv[argc])
        argc++;
    char **argv = calloc((size_t)argc + 4, sizeof(*argv));
    if (!argv)
        return -1;
    memcpy(argv, init_argv, (size_t)argc * sizeof(*argv));
    argv[argc] = self;
    argv[argc + 1] = (char *)"--child";
    argv[argc + 2] = (char *)fifo;
    pid = fork();
    if (pid == 0) {
        execvp(argv[0], argv);
        perror(argv[0]);
        _exit(127);
    }
    free(argv);
    return pid;
}

// Waits up to timeout_ms for pid; returns its wait status or -1.
static int wait_timeout(pid_t pid, int timeout_ms)
{
    int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000LL;
    struct timespec nap = {.tv_sec = 0, .tv_nsec = 1000000L};
    int status;

    while (now_ns() < deadline) {
        pid_t r = waitpid(pid, &status, WNOHANG);

        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return -1;
        nanosleep(&nap, NULL);
    }
    return -1;
}

static void stop_init(pid_t pid)
{
    kill(pid, SIGTERM);
    if (wait_timeout(pid, EXIT_TIMEOUT_MS) >= 0)
        return;
    fprintf(stderr, "lat: init %d ignored SIGTERM, killing it\n", (int)pid);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

// Reads the child's readiness record; stores the child's pid in *child.
static int check_ready(int fd, pid_t init_pid, pid_t *child)
{
    struct record rec;

    if (read_record(fd, &rec, READY_TIMEOUT_MS) < 0) {
        fprintf(stderr, "lat: child did not report ready\n");
        return -1;
    }
    *child = (pid_t)rec.a;
    if (rec.a != init_pid && rec.b != init_pid) {
        fprintf(stderr, "lat: child %lld (parent %lld) is not the init %d or its direct child\n",
                (long long)rec.a, (long long)rec.b, (int)init_pid);
        return -1;
    }
    return 0;
}

static int measure(int fd, pid_t init_pid, int64_t *lat, long n)
{
    struct record rec;

    for (long i = 0; i < n; i++) {
        int64_t t0 = now_ns();

        if (kill(init_pid, SIGUSR1) < 0) {
            perror("lat: kill");
            return -1;
        }
        if (read_record(fd, &rec, SIGNAL_TIMEOUT_MS) < 0 || rec.a != i + 1) {
            fprintf(stderr, "lat: signal %ld was not delivered in time\n", i + 1);
            return -1;
        }
        lat[i] = rec.b - t0;
    }
    return 0;
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

    return (a > b) - (a < b);
}

static void report(int64_t *lat, long n)
{
    double sum = 0;

    qsort(lat, (size_t)n, sizeof(*lat), cmp_i64);
    for (long i = 0; i < n; i++)
        sum += (double)lat[i];
    printf("median_us=%.2f p90_us=%.2f min_us=%.2f p99_us=%.2f mean_us=%.2f n=%ld\n",
           (double)lat[n / 2] / 1e3, (double)lat[n * 9 / 10] / 1e3, (double)lat[0] / 1e3,
           (double)lat[n * 99 / 100] / 1e3, sum / (double)n / 1e3, n);
}

static int run_parent(long n, char **init_argv)
{
    char dir[] = "/tmp/lat.XXXXXX", fifo[sizeof(dir) + 8];
    int64_t *lat = calloc((size_t)n, sizeof(*lat));
    int fd = -1, rc = 1;
    pid_t pid = -1, child = -1;

    if (!lat || !mkdtemp(dir)) {
        perror("lat");
        free(lat);
        return 1;
    }
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    // O_RDWR keeps the FIFO open without a writer, so open never blocks.
    if (mkfifo(fifo, 0600) < 0 || (fd = open(fifo, O_RDWR | O_CLOEXEC)) < 0)
        perror("lat: fifo");
    else if ((pid = spawn_init(init_argv, fifo)) < 0)
        perror("lat: spawn");
    else if (check_ready(fd, pid, &child) == 0 && measure(fd, pid, lat, n) == 0)
        rc = 0;
    if (pid > 0)
        stop_init(pid);
    // On failure the child may not be the init's: make sure it is gone.
    if (rc != 0 && child > 0 && child != pid)
        kill(child, SIGKILL);
    if (rc == 0)
        report(lat, n);
    if (fd >= 0)
        close(fd);
    unlink(fifo);
    rmdir(dir);
    free(lat);
    return rc;
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s N INIT [INIT-ARGS...]   (runs INIT [INIT-ARGS...] %s --child FIFO)\n"
            "       use INIT=/usr/bin/env for the no-init baseline\n",
            prog, prog);
}

int main(int argc, char **argv)
{
    char *end;
    long n;

    if (argc == 3 && strcmp(argv[1], "--child") == 0)
        return run_child(argv[2]);
    if (argc < 3) {
        usage(argv[0]);
        return 2;
    }
    errno = 0;
    n = strtol(argv[1], &end, 10);
    if (errno || *end || n < 1 || n > MAX_SIGNALS) {
        usage(argv[0]);
        return 2;
    }
    // Ignore SIGPIPE-like surprises; the only signals we expect are ours.
    signal(SIGPIPE, SIG_IGN);
    return run_parent(n, argv + 2);
}

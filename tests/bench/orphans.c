// SPDX-License-Identifier: MIT
//
// orphans N: zombie-reaping benchmark helper, meant to run as the direct
// child of an init that is PID 1 of a fresh pid namespace.  It creates N
// orphans (fork -> fork -> grandchild _exit(0); the middle child exits at
// once and is waited for), so every grandchild is reparented to PID 1.  It
// then polls /proc until no zombie (and no leftover grandchild) remains and
// prints "reaped=N drain_ms=X init_cpu_ms=Y total_ms=Z", where init_cpu_ms
// is the CPU time PID 1 consumed meanwhile.  Gives up after 30 s (exit 1).

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DRAIN_TIMEOUT_NS (30LL * 1000000000LL)
#define POLL_SLEEP_NS    200000L
#define FORK_RETRIES     1000

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ns(long ns)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = ns};

    nanosleep(&ts, NULL);
}

static ssize_t read_small_file(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return n;
}

// Returns a pointer just past the ")" that closes the comm field of a
// /proc/PID/stat line, or NULL if malformed.
static const char *stat_after_comm(const char *buf)
{
    const char *p = strrchr(buf, ')');

    return p ? p + 1 : NULL;
}

// CPU time of PID 1 in nanoseconds: schedstat when available (ns
// resolution), otherwise utime+stime from /proc/1/stat (clock ticks).
static int64_t init_cpu_ns(void)
{
    char buf[1024];
    unsigned long long ut, st;
    const char *p;

    if (read_small_file("/proc/1/schedstat", buf, sizeof(buf)) > 0)
        return (int64_t)strtoull(buf, NULL, 10);
    if (read_small_file("/proc/1/stat", buf, sizeof(buf)) <= 0)
        return -1;
    p = stat_after_comm(buf);
    // Fields after comm: state ppid pgrp session tty tpgid flags minflt
    // cminflt majflt cmajflt utime stime.
    if (!p || sscanf(p, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (int64_t)((ut + st) * (1000000000ULL / (unsigned long long)sysconf(_SC_CLK_TCK)));
}

static pid_t fork_retry(void)
{
    for (int i = 0; i < FORK_RETRIES; i++) {
        pid_t pid = fork();

        if (pid >= 0 || errno != EAGAIN)
            return pid;
        sleep_ns(1000000L);
    }
    return -1;
}

static int make_one_orphan(void)
{
    pid_t mid = fork_retry();
    int status;

    if (mid < 0)
        return -1;
    if (mid == 0) {
        pid_t grand = fork_retry();

        if (grand == 0)
            _exit(0);
        _exit(grand < 0 ? 1 : 0);
    }
    while (waitpid(mid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

// True if /proc/PID/stat names a zombie or a process of our process group.
static int pid_is_pending(const char *name, pid_t pgrp)
{
    char path[64], buf[1024];
    const char *p;
    char state;
    int grp;

    snprintf(path, sizeof(path), "/proc/%s/stat", name);
    if (read_small_file(path, buf, sizeof(buf)) <= 0)
        return 0;
    p = stat_after_comm(buf);
    if (!p || sscanf(p, " %c %*d %d", &state, &grp) != 2)
        return 0;
    return state == 'Z' || grp == pgrp;
}

// True while some process other than us and PID 1 is a zombie or still
// belongs to our process group (a grandchild that has not exited yet).
// Stops at the first hit so that scans stay cheap while zombies abound.
static int work_pending(pid_t self, pid_t pgrp)
{
    DIR *dir = opendir("/proc");
    struct dirent *de;
    int pending = 0;

    if (!dir)
        return -1;
    while (!pending && (de = readdir(dir)) != NULL) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        pid_t pid = (pid_t)atoi(de->d_name);
        if (pid == self || pid == 1)
            continue;
        pending = pid_is_pending(de->d_name, pgrp);
    }
    closedir(dir);
    return pending;
}

static int wait_drained(int64_t deadline)
{
    pid_t self = getpid(), pgrp = getpgrp();
    int r;

    while ((r = work_pending(self, pgrp)) > 0) {
        if (now_ns() > deadline)
            return -1;
        sleep_ns(POLL_SLEEP_NS);
    }
    return r;
}

static long parse_count(const char *s)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(s, &end, 10);
    if (errno || *end || n < 0 || n > 1000000)
        return -1;
    return n;
}

int main(int argc, char **argv)
{
    int64_t t0, t1, t2, cpu0, cpu1;
    long n;

    if (argc != 2 || (n = parse_count(argv[1])) < 0) {
        fprintf(stderr, "usage: %s N   (0 <= N <= 1000000)\n", argv[0]);
        return 2;
    }
    if (getpid() == 1)
        fprintf(stderr, "orphans: warning: running as PID 1, nothing to measure\n");
    cpu0 = init_cpu_ns();
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
        if (make_one_orphan() < 0) {
            fprintf(stderr, "orphans: failed to create orphan %ld: %s\n", i, strerror(errno));
            return 1;
        }
    }
    t1 = now_ns();
    if (wait_drained(t1 + DRAIN_TIMEOUT_NS) < 0) {
        fprintf(stderr, "orphans: zombies still present after 30 s\n");
        return 1;
    }
    t2 = now_ns();
    cpu1 = init_cpu_ns();
    printf("reaped=%ld drain_ms=%.3f init_cpu_ms=%.3f total_ms=%.3f\n", n, (double)(t2 - t1) / 1e6,
           cpu0 < 0 || cpu1 < 0 ? -1.0 : (double)(cpu1 - cpu0) / 1e6, (double)(t2 - t0) / 1e6);
    return 0;
}

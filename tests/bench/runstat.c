// SPDX-License-Identifier: MIT
/*
 * runstat OUTFILE CMD [ARGS...]: runs CMD as a child and writes one line
 * "start_us= wall_ms= cpu_ms= utime_ms= stime_ms= hwm_kb= status=" about
 * CMD's own process to OUTFILE. cpu_ms is utime+stime from /proc/PID/stat
 * read while CMD is a zombie (waitid WNOWAIT): all its threads, none of its
 * children, not runstat. hwm_kb is VmHWM sampled every SAMPLE_MS while CMD
 * lives (a zombie has no mm). start_us is CLOCK_REALTIME just before fork,
 * to compare with Redis stream IDs. CMD (or a taskset it execs) keeps the
 * pid; its stdio is inherited. Single-threaded.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SAMPLE_MS 10

static int64_t now_us(clockid_t clk)
{
    struct timespec ts;

    clock_gettime(clk, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* VmHWM of pid in kB, or -1 (gone, or a zombie). */
static long read_hwm(pid_t pid)
{
    char path[64], line[256];
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmHWM: %ld", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* utime and stime (clock ticks) of pid's whole thread group; 0 or -1. */
static int read_cpu(pid_t pid, unsigned long long *ret_utime, unsigned long long *ret_stime)
{
    char path[64], buf[1024];
    unsigned long long ut, st;
    const char *p;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* comm may hold spaces and parentheses: fields restart after the last ')'. */
    p = strrchr(buf, ')');
    /* Fields 3..15: state ppid pgrp session tty tpgid flags minflt cminflt
     * majflt cmajflt utime stime. */
    if (!p ||
        sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    *ret_utime = ut;
    *ret_stime = st;
    return 0;
}

/* Waits (without reaping) until pid exits, sampling VmHWM; returns the last
 * sample, or -1 if there was none. */
static long wait_exit(pid_t pid)
{
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    long hwm = -1, kb;
    siginfo_t si;

    for (;;) {
        kb = read_hwm(pid);
        if (kb >= 0)
            hwm = kb;
        memset(&si, 0, sizeof(si));
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT | WNOHANG) == 0 && si.si_pid == pid)
            break;
        if (pidfd >= 0) {
            struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
            poll(&pfd, 1, SAMPLE_MS);
        } else {
            usleep(SAMPLE_MS * 1000);
        }
    }
    if (pidfd >= 0)
        close(pidfd);
    return hwm;
}

int main(int argc, char **argv)
{
    unsigned long long ut = 0, st = 0;
    int64_t start_us, t0, wall_us;
    long hwm, tck = sysconf(_SC_CLK_TCK);
    int status = 0, has_cpu;
    FILE *out;
    pid_t pid;

    if (argc < 3) {
        fprintf(stderr, "usage: runstat OUTFILE CMD [ARGS...]\n");
        return 2;
    }
    out = fopen(argv[1], "we");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    start_us = now_us(CLOCK_REALTIME);
    t0 = now_us(CLOCK_MONOTONIC);
    pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        /* A killed benchmark must not leave CMD behind. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    hwm = wait_exit(pid);
    wall_us = now_us(CLOCK_MONOTONIC) - t0;
    has_cpu = read_cpu(pid, &ut, &st) == 0;
    if (waitpid(pid, &status, 0) != pid) {
        perror("waitpid");
        return 1;
    }
    if (!has_cpu || tck <= 0) {
        fprintf(stderr, "runstat: cannot read /proc/%d/stat of the zombie\n", (int)pid);
        return 1;
    }
    fprintf(out, "start_us=%lld wall_ms=%.1f cpu_ms=%.0f utime_ms=%.0f stime_ms=%.0f hwm_kb=%ld ",
            (long long)start_us, (double)wall_us / 1000.0, (double)(ut + st) * 1000.0 / tck,
            (double)ut * 1000.0 / tck, (double)st * 1000.0 / tck, hwm);
    if (WIFEXITED(status))
        fprintf(out, "status=%d\n", WEXITSTATUS(status));
    else
        fprintf(out, "status=sig%d\n", WTERMSIG(status));
    return fclose(out) == 0 ? 0 : 1;
}

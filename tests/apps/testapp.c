// SPDX-License-Identifier: MIT
/*
 * One helper application for the integration tests, with subcommands
 * (exit, die, sigrecord, tree, orphans, ignore-term, args, ids, sigstate,
 * tty, sleep). It is what wrapp runs as PID 1's child; every subcommand
 * reports what it saw on stdout or into a file so tests assert on it.
 * Built static so it also runs in a bare root with no libraries.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int record_fd = -1;

static void put_int(char *buf, size_t *n, long v)
{
    char tmp[24];
    size_t k = 0;

    if (v < 0) {
        buf[(*n)++] = '-';
        v = -v;
    }
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k)
        buf[(*n)++] = tmp[--k];
}

/* Async-signal-safe: appends "<sig> <pid>\n" to the record file. */
static void on_signal(int sig)
{
    char buf[64];
    size_t n = 0;
    int saved = errno;

    put_int(buf, &n, sig);
    buf[n++] = ' ';
    put_int(buf, &n, getpid());
    buf[n++] = '\n';
    (void)!write(record_fd, buf, n);
    errno = saved;
    if (sig == SIGTERM)
        _exit(0);
}

static void catch_all(void)
{
    struct sigaction sa = {.sa_handler = on_signal};

    sigemptyset(&sa.sa_mask);
    for (int sig = 1; sig <= SIGRTMAX; sig++)
        if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD)
            sigaction(sig, &sa, NULL);
}

static void open_record(const char *path)
{
    record_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (record_fd < 0) {
        perror(path);
        exit(2);
    }
}

static void mark_ready(const char *path)
{
    char ready[4096];
    int fd;

    snprintf(ready, sizeof(ready), "%s.ready", path);
    fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0)
        close(fd);
}

static void idle(int seconds)
{
    struct timespec end, now;

    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += seconds;
    do {
        pause();
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec < end.tv_sec);
}

/* sigrecord FILE: record every signal into FILE, exit 0 on SIGTERM. */
static int cmd_sigrecord(const char *file)
{
    open_record(file);
    catch_all();
    mark_ready(file);
    alarm(60);
    signal(SIGALRM, on_signal);
    idle(60);
    return 3;
}

/* tree FILE: a child records signals; this parent only waits for it. */
static int cmd_tree(const char *file)
{
    int status;
    pid_t pid = fork();

    if (pid == 0)
        return cmd_sigrecord(file);
    signal(SIGUSR1, SIG_IGN);
    signal(SIGUSR2, SIG_IGN);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int count_zombies(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d))) {
        char path[300], line[1024];
        FILE *f;
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        f = fopen(path, "r");
        if (f && fgets(line, sizeof(line), f)) {
            char *rp = strrchr(line, ')');
            n += rp && rp[1] == ' ' && rp[2] == 'Z';
        }
        if (f)
            fclose(f);
    }
    closedir(d);
    return n;
}

/* orphans N: make N orphans for wrapp to reap, then wait until no zombie
 * is left (up to 20 s). Prints "zombies=<n>" and exits 0 only if none. */
static int cmd_orphans(int n)
{
    int z = -1;

    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            if (fork() == 0)
                _exit(0);
            _exit(0);
        }
        if (pid > 0)
            waitpid(pid, NULL, 0);
    }
    for (int tries = 0; tries < 200; tries++) {
        z = count_zombies();
        if (z == 0)
            break;
        usleep(100000);
    }
    printf("zombies=%d\n", z);
    return z == 0 ? 0 : 1;
}

static int cmd_args(int argc, char **argv)
{
    /* argv[0] and every argument, hex-encoded: byte-exact. */
    for (int i = 0; i < argc; i++) {
        for (const unsigned char *p = (const unsigned char *)argv[i]; *p; p++)
            printf("%02x", *p);
        printf("\n");
    }
    return 0;
}

static int cmd_ids(void)
{
    gid_t groups[256];
    int n = getgroups(256, groups);
    char cwd[4096];
    const char *vars[] = {"HOME", "USER", "LOGNAME", "WRAPP_TEST_VAR"};

    printf("uid=%u euid=%u gid=%u egid=%u\ngroups=", getuid(), geteuid(), getgid(), getegid());
    for (int i = 0; i < n; i++)
        printf("%s%u", i ? "," : "", groups[i]);
    printf("\ncwd=%s\n", getcwd(cwd, sizeof(cwd)) ? cwd : "?");
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        printf("%s=%s\n", vars[i], getenv(vars[i]) ? getenv(vars[i]) : "<unset>");
    return 0;
}

static int cmd_sigstate(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];

    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "SigBlk", 6) || !strncmp(line, "SigIgn", 6) ||
            !strncmp(line, "SigCgt", 6))
            fputs(line, stdout);
    if (f)
        fclose(f);
    return 0;
}

static int cmd_die(const char *how)
{
    if (!strcmp(how, "segv")) {
        volatile int *p = NULL;
        *p = 1;
    }
    if (!strcmp(how, "abort"))
        abort();
    signal(atoi(how), SIG_DFL);
    kill(getpid(), atoi(how));
    pause();
    return 99;
}

static int cmd_ignore_term(void)
{
    signal(SIGTERM, SIG_IGN);
    printf("ready\n");
    fflush(stdout);
    idle(120);
    return 0;
}

/* lines N SECONDS [WIDTH]: "line <i>" padded with 'x' to WIDTH bytes, N of
 * them spread evenly over SECONDS (0: as fast as possible). */
static int cmd_lines(long n, double seconds, int width)
{
    static char buf[1 << 16];
    size_t used = 0;
    long step = seconds > 0 ? (long)(n / (seconds * 100)) + 1 : n + 1;

    for (long i = 0; i < n; i++) {
        int k = snprintf(buf + used, sizeof(buf) - used, "line %ld", i);
        while (k < width - 1 && used + (size_t)k < sizeof(buf) - 2)
            buf[used + (size_t)k++] = 'x';
        buf[used + (size_t)k++] = '\n';
        used += (size_t)k;
        if (used > sizeof(buf) - 4096 || i + 1 == n || (i + 1) % step == 0) {
            if (fwrite(buf, 1, used, stdout) != used)
                return 1;
            used = 0;
            fflush(stdout);
            if ((i + 1) % step == 0)
                usleep(10000);
        }
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_tty(void)
{
    pid_t fg = tcgetpgrp(STDIN_FILENO);

    printf("isatty=%d fg=%d pgrp=%d\n", isatty(STDIN_FILENO), fg == getpgrp(), (int)getpgrp());
    return 0;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(cmd, "exit") && argc > 2)
        return atoi(argv[2]);
    if (!strcmp(cmd, "die") && argc > 2)
        return cmd_die(argv[2]);
    if (!strcmp(cmd, "sigrecord") && argc > 2)
        return cmd_sigrecord(argv[2]);
    if (!strcmp(cmd, "tree") && argc > 2)
        return cmd_tree(argv[2]);
    if (!strcmp(cmd, "orphans") && argc > 2)
        return cmd_orphans(atoi(argv[2]));
    if (!strcmp(cmd, "args"))
        return cmd_args(argc, argv);
    if (!strcmp(cmd, "ids"))
        return cmd_ids();
    if (!strcmp(cmd, "sigstate"))
        return cmd_sigstate();
    if (!strcmp(cmd, "ignore-term"))
        return cmd_ignore_term();
    if (!strcmp(cmd, "tty"))
        return cmd_tty();
    if (!strcmp(cmd, "lines") && argc > 3)
        return cmd_lines(atol(argv[2]), atof(argv[3]), argc > 4 ? atoi(argv[4]) : 0);
    if (!strcmp(cmd, "sleep") && argc > 2) {
        sleep((unsigned)atoi(argv[2]));
        return 0;
    }
    fprintf(stderr, "testapp: unknown subcommand \"%s\"\n", cmd);
    return 64;
}

// SPDX-License-Identifier: MIT
/*
 * See shimverify.h. The real binary is run as the caller of the shim would
 * see it: argv[0] is TOOL's path, not the hidden name it now has.
 */
#include "shimverify.h"

#include "clock.h"
#include "log.h"
#include "macro.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct outcome {
    int status;
    char *out; /* owned */
    size_t len;
};

static noreturn void child(const char *path, const char *argv0, int out_fd)
{
    char *argv[] = {(char *)argv0, (char *)"--version", NULL};
    int null = open("/dev/null", O_RDONLY);

    if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
        dup2(out_fd, STDERR_FILENO) < 0)
        _exit(126);
    execve(path, argv, environ);
    _exit(errno == ENOENT ? 127 : 126);
}

/* Read the pipe until EOF or the deadline; keeps the first OUTPUT_MAX bytes. */
static int drain(int fd, struct outcome *o, uint64_t deadline)
{
    char buf[4096];

    for (;;) {
        uint64_t now = clock_mono_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t n;
        int r;

        if (now >= deadline)
            return -ETIMEDOUT;
        r = poll(&p, 1, (int)(deadline - now));
        if (r < 0 && errno != EINTR)
            return neg_errno();
        if (r <= 0)
            continue;
        n = RETRY_EINTR(read(fd, buf, sizeof(buf)));
        if (n <= 0)
            return n < 0 ? neg_errno() : 0;
        if (o->len < SHIMVERIFY_OUTPUT_MAX) {
            size_t take = (size_t)n < SHIMVERIFY_OUTPUT_MAX - o->len
                              ? (size_t)n
                              : SHIMVERIFY_OUTPUT_MAX - o->len;
            memcpy(o->out + o->len, buf, take);
            o->len += take;
        }
    }
}

static int run_one(const char *path, const char *argv0, struct outcome *o)
{
    uint64_t deadline = clock_mono_ms() + SHIMVERIFY_MS;
    int fds[2], r;
    pid_t pid, w = 0;

    o->out = malloc(SHIMVERIFY_OUTPUT_MAX);
    if (!o->out)
        return -ENOMEM;
    if (pipe2(fds, O_CLOEXEC) < 0)
        return neg_errno();
    pid = fork();
    if (pid == 0)
        child(path, argv0, fds[1]);
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        return neg_errno();
    }
    r = drain(fds[0], o, deadline);
    close(fds[0]);
    /* Its output closed is not its exit: wait within the same bound. */
    while (r == 0 && (w = waitpid(pid, &o->status, WNOHANG)) == 0) {
        if (clock_mono_ms() >= deadline)
            r = -ETIMEDOUT;
        else
            usleep(10000);
    }
    if (r == 0 && w < 0)
        r = neg_errno();
    if (r < 0) {
        kill(pid, SIGKILL);
        RETRY_EINTR(waitpid(pid, &o->status, 0));
    }
    return r;
}

static void describe(int status, char *buf, size_t size)
{
    if (WIFSIGNALED(status))
        snprintf(buf, size, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(buf, size, "exit %d", WEXITSTATUS(status));
}

/* Same ending, and the same output unless the shim appends arguments. */
static int compare(const char *tool, const struct outcome *want, const struct outcome *got,
                   bool has_append)
{
    if (got->status != want->status) {
        char a[48], b[48];
        describe(want->status, a, sizeof(a));
        describe(got->status, b, sizeof(b));
        log_error("shim install %s: `--version` ends with %s through the shim but %s without", tool,
                  b, a);
        return -EPROTO;
    }
    if (!has_append && (got->len != want->len || memcmp(got->out, want->out, got->len) != 0)) {
        log_error("shim install %s: `--version` prints something else through the shim (%zu "
                  "bytes, %zu without): %.*s",
                  tool, got->len, want->len, (int)(got->len < 200 ? got->len : 200), got->out);
        return -EPROTO;
    }
    return 0;
}

int shimverify_run(const char *tool, const char *real, bool has_append)
{
    struct outcome want = {0}, got = {0};
    int r = run_one(real, tool, &want);

    if (r == 0) {
        r = run_one(tool, tool, &got);
        if (r == -ETIMEDOUT)
            log_error("shim install %s: `%s --version` through the shim did not end in %d s", tool,
                      tool, SHIMVERIFY_MS / 1000);
    } else if (r == -ETIMEDOUT) {
        log_error("shim install %s: `%s --version` did not end in %d s, so the shim cannot be "
                  "checked; use --no-verify for a tool that must not be run",
                  tool, tool, SHIMVERIFY_MS / 1000);
    }
    if (r == 0)
        r = compare(tool, &want, &got, has_append);
    else if (r != -ETIMEDOUT)
        log_error_errno(r, "shim install %s: cannot run `--version`", tool);
    free(want.out);
    free(got.out);
    return r;
}

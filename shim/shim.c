// SPDX-License-Identifier: MIT
/*
 * Running as a shim (see shim.h). Three ways, chosen from the registration:
 * - exec: execve the real binary (same pid, fds, signals, process group);
 *   with log "start" the record is written first;
 * - parent (log "exit"): fork, wait and forward signals, record, then
 *   end the same way the tool ended;
 * - supervised: wrapp's normal run path (shimrun.c), then the same ending.
 * The caller's argv is passed byte for byte (argv[0] included), the
 * registration's arguments after it; the environment is not touched.
 */
#include "shim.h"

#include "clock.h"
#include "config.h"
#include "log.h"
#include "macro.h"
#include "shiminstall.h"
#include "shimlog.h"
#include "shimreg.h"
#include "shimrun.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* One call of the tool. */
struct call {
    char exe[PATH_MAX];  /* the shim (/proc/self/exe) */
    char real[PATH_MAX]; /* the real binary */
    char cwd[PATH_MAX];  /* the caller's (a supervised run leaves it) */
    char **argv;         /* caller's argv + appended; the strings are borrowed */
    size_t n_appended;
    struct shimreg reg;
};

/* The tool in parent mode. */
struct child {
    pid_t pid;
    bool is_stopped;
    int status;
};

noreturn void shim_exit_like(int status)
{
    struct rlimit none = {0, 0};
    sigset_t one;
    int sig;

    if (!WIFSIGNALED(status))
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
    sig = WTERMSIG(status);
    setrlimit(RLIMIT_CORE, &none);
    prctl(PR_SET_DUMPABLE, 0);
    signal(sig, SIG_DFL);
    sigemptyset(&one);
    sigaddset(&one, sig);
    kill(getpid(), sig);
    sigprocmask(SIG_UNBLOCK, &one, NULL);
    /* Only a signal that cannot kill (or glibc's reserved ones) gets here. */
    _exit(128 + sig);
}

/* Who may write the registration: the binary's owner or root, nobody else. */
static int check_owner(int fd, const char *exe, const char *path)
{
    struct stat st, self;

    if (fstat(fd, &st) < 0 || stat(exe, &self) < 0)
        return neg_errno();
    if (S_ISREG(st.st_mode) && (st.st_uid == 0 || st.st_uid == self.st_uid) &&
        !(st.st_mode & (S_IWGRP | S_IWOTH)))
        return 0;
    log_error("shim registration %s: not a regular file owned by root or %s's owner, writable "
              "by them only; ignored, so wrapp runs as an init (fix: chown and chmod go-w it)",
              path, exe);
    return -EPERM;
}

/* dir of exe + name, into buf. */
static int sibling(const char *exe, const char *name, char *buf, size_t size)
{
    const char *slash = strrchr(exe, '/');
    int dir_len = slash ? (int)(slash - exe) : 0, n;

    n = snprintf(buf, size, "%.*s/%s", dir_len, exe, name);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Fill c->real and c->argv. A registration that cannot be read still runs
 * the tool: the conventional real name, nothing added (the failure was
 * logged). */
static int fallback_real(struct call *c)
{
    char name[PATH_MAX];
    int r = shimreg_path(c->exe, SHIMREG_REAL_SUFFIX, name, sizeof(name));

    shimreg_fini(&c->reg);
    if (r < 0 || !(c->reg.real = strdup(strrchr(name, '/') ? strrchr(name, '/') + 1 : name)))
        return -ENOMEM;
    log_warn("shim %s: running %s without the registration's additions", c->exe, c->reg.real);
    return 0;
}

static int prepare(struct call *c, int fd, const char *reg_path, int argc, char **argv)
{
    struct stat real_st, self_st;
    size_t n = 0;
    int r;

    shimreg_init(&c->reg);
    if (shimreg_load_fd(&c->reg, reg_path, fd) < 0 && fallback_real(c) < 0)
        return -ENOMEM;
    r = sibling(c->exe, c->reg.real, c->real, sizeof(c->real));
    if (r < 0)
        return log_error_errno(r, "shim %s: real binary path", c->exe);
    /* Never run ourselves again (a loop of execs). */
    if (stat(c->real, &real_st) == 0 && stat(c->exe, &self_st) == 0 &&
        real_st.st_dev == self_st.st_dev && real_st.st_ino == self_st.st_ino) {
        log_error("shim %s: the real binary %s is wrapp itself; reinstall the tool and its shim",
                  c->exe, c->real);
        return -ELOOP;
    }
    /* argc 0 (an empty argv) is passed on as it is. */
    c->n_appended = argc > 0 ? c->reg.n_append : 0;
    c->argv = calloc((size_t)argc + c->n_appended + 1, sizeof(char *));
    if (!c->argv)
        return -ENOMEM;
    for (int i = 0; i < argc; i++)
        c->argv[n++] = argv[i];
    for (size_t i = 0; i < c->n_appended; i++)
        c->argv[n++] = c->reg.append[i];
    return 0;
}

static int exec_failed(const struct call *c, int err)
{
    log_error("shim %s: cannot run the real binary %s: %s; restore it with wrapp shim "
              "uninstall %s",
              c->exe, c->real, strerror(err), c->exe);
    return err == ENOENT ? 127 : 126;
}

static void fill_log(const struct call *c, struct shimlog_call *l)
{
    *l = (struct shimlog_call){.tool = c->exe,
                               .real = c->real,
                               .cwd = *c->cwd ? c->cwd : NULL,
                               .argv = c->argv,
                               .n_appended = c->n_appended,
                               .pid = getpid(),
                               .start_us = clock_real_us()};
}

/* Log "start": the record, then the exec. SIGPIPE (a socket Redis closed)
 * must not kill the call: blocked while sending, and one it raised is
 * taken back before the exec restores the mask. */
static void record_start(const struct call *c, const struct config *cfg)
{
    struct shimlog_call l;
    sigset_t pipe_set, old, pending;
    struct timespec zero = {0, 0};
    bool was_pending;

    fill_log(c, &l);
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigprocmask(SIG_BLOCK, &pipe_set, &old);
    sigpending(&pending);
    was_pending = sigismember(&pending, SIGPIPE);
    shimlog_send(cfg, &c->reg, &l);
    if (!was_pending && !sigismember(&old, SIGPIPE))
        sigtimedwait(&pipe_set, NULL, &zero);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Stop this process with sig, as the tool was stopped, so the caller's job
 * control sees the job stopped; returns once continued. */
static void stop_like(int sig)
{
    sigset_t one, pending;

    sigemptyset(&one);
    sigaddset(&one, sig);
    sigpending(&pending);
    if (sig == SIGSTOP || !sigismember(&pending, sig))
        kill(getpid(), sig);
    sigprocmask(SIG_UNBLOCK, &one, NULL);
    sigprocmask(SIG_BLOCK, &one, NULL);
}

/* Collect the tool's state changes. Returns 1 once it has ended. */
static int reap(struct child *ch)
{
    for (;;) {
        int st;
        pid_t p = waitpid(ch->pid, &st, WNOHANG | WUNTRACED | WCONTINUED);
        if (p == 0)
            return 0;
        if (p < 0) {
            if (errno == EINTR)
                continue;
            return log_error_errno(neg_errno(), "shim: waiting for the tool (pid %d)",
                                   (int)ch->pid);
        }
        if (WIFSTOPPED(st)) {
            ch->is_stopped = true;
            stop_like(WSTOPSIG(st));
        } else if (WIFCONTINUED(st)) {
            ch->is_stopped = false;
        } else {
            ch->status = st;
            return 1;
        }
    }
}

static bool is_tty_signal(int sig)
{
    return sig == SIGINT || sig == SIGQUIT || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU ||
           sig == SIGWINCH || sig == SIGHUP || sig == SIGCONT;
}

/* Pass sig on to the tool, unless it already has it: the terminal signals
 * the whole foreground process group (the tool is in the shim's), and a
 * tool signalling its own group (kill(0, ...)) reaches itself. */
static void forward(const struct child *ch, int sig, const siginfo_t *si)
{
    if (si->si_code == SI_KERNEL && is_tty_signal(sig))
        return;
    if (si->si_code <= 0 && si->si_pid == ch->pid)
        return;
    if (sig == SIGCONT && !ch->is_stopped)
        return;
    if (si->si_code == SI_QUEUE)
        sigqueue(ch->pid, sig, si->si_value);
    else
        kill(ch->pid, sig);
}

/* In the child: the caller's signal state back, then the tool. The pipe
 * gets errno if the exec fails. */
static noreturn void child_exec(const struct call *c, const sigset_t *mask, bool is_chld_ignored,
                                pid_t parent, int err_fd)
{
    int e;

    /* The tool dies with the shim (a SIGKILL it cannot forward). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        raise(SIGKILL);
    if (is_chld_ignored)
        signal(SIGCHLD, SIG_IGN);
    sigprocmask(SIG_SETMASK, mask, NULL);
    execve(c->real, c->argv, environ);
    e = errno;
    if (write(err_fd, &e, sizeof(e)) < 0)
        e = EIO;
    _exit(e == ENOENT ? 127 : 126);
}

static int start_child(const struct call *c, const sigset_t *mask, bool is_chld_ignored,
                       pid_t *ret_pid)
{
    int fds[2], e = 0;
    pid_t parent = getpid(), pid;
    ssize_t n;

    if (pipe2(fds, O_CLOEXEC) < 0)
        return neg_errno();
    pid = fork();
    if (pid == 0)
        child_exec(c, mask, is_chld_ignored, parent, fds[1]);
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        return neg_errno();
    }
    n = RETRY_EINTR(read(fds[0], &e, sizeof(e)));
    close(fds[0]);
    *ret_pid = pid;
    if (n == (ssize_t)sizeof(e) && e > 0) {
        int st;
        RETRY_EINTR(waitpid(pid, &st, 0));
        return -e;
    }
    return 0;
}

/* Parent mode: the tool as a child in the caller's process group. Returns
 * 0 with l->status, or -errno (l->exec_err set for a failed exec). */
static int run_parent(const struct call *c, struct shimlog_call *l)
{
    struct child ch = {0};
    sigset_t all, old;
    struct sigaction chld;
    bool is_chld_ignored;
    int r;

    /* An ignored SIGCHLD would reap the tool before we see its status. */
    sigaction(SIGCHLD, NULL, &chld);
    is_chld_ignored = chld.sa_handler == SIG_IGN;
    if (is_chld_ignored)
        signal(SIGCHLD, SIG_DFL);
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old);
    r = start_child(c, &old, is_chld_ignored, &ch.pid);
    if (r < 0) {
        l->exec_err = -r;
        return r;
    }
    l->pid = ch.pid;
    while ((r = reap(&ch)) == 0) {
        siginfo_t si;
        int sig = sigwaitinfo(&all, &si);
        if (sig > 0 && sig != SIGCHLD)
            forward(&ch, sig, &si);
    }
    if (r < 0)
        return r;
    l->has_status = true;
    l->status = ch.status;
    l->end_us = clock_real_us();
    return 0;
}

/* Record (when configured) and end like the tool. */
static int finish(const struct call *c, const struct config *cfg, struct shimlog_call *l, int r)
{
    if (c->reg.log != SHIMREG_LOG_OFF)
        shimlog_send(cfg, &c->reg, l);
    if (r < 0)
        return l->exec_err > 0 ? exec_failed(c, l->exec_err) : 126;
    shim_exit_like(l->status);
}

static int run_call(struct call *c)
{
    struct config cfg;
    struct shimlog_call l;
    int r;

    config_init(&cfg);
    if (c->reg.supervise || c->reg.log != SHIMREG_LOG_OFF) {
        shimlog_config(&c->reg, c->exe, &cfg);
        if (!getcwd(c->cwd, sizeof(c->cwd)))
            c->cwd[0] = '\0';
    }
    fill_log(c, &l);
    if (c->reg.supervise) {
        r = shimrun_supervised(&c->reg, &cfg, &l);
        r = finish(c, &cfg, &l, r);
    } else if (c->reg.log == SHIMREG_LOG_EXIT && cfg.redis.is_set) {
        r = finish(c, &cfg, &l, run_parent(c, &l));
    } else {
        if (c->reg.log != SHIMREG_LOG_OFF)
            record_start(c, &cfg);
        config_fini(&cfg);
        execve(c->real, c->argv, environ);
        return exec_failed(c, errno);
    }
    config_fini(&cfg);
    return r;
}

static int run_registered(int fd, const char *reg_path, int argc, char **argv, struct call *c)
{
    int r = check_owner(fd, c->exe, reg_path);

    if (r < 0) {
        close(fd);
        return -ENOENT;
    }
    r = prepare(c, fd, reg_path, argc, argv);
    close(fd);
    if (r >= 0)
        r = run_call(c);
    else
        r = r == -ENOMEM ? 1 : 126;
    free(c->argv);
    shimreg_fini(&c->reg);
    return r;
}

int shim_main(int argc, char **argv)
{
    static struct call c; /* PATH_MAX buffers: not on the stack */
    ssize_t n = readlink("/proc/self/exe", c.exe, sizeof(c.exe) - 1);

    if (n > 0) {
        char reg_path[PATH_MAX];
        c.exe[n] = '\0';
        if (shimreg_path(c.exe, SHIMREG_SUFFIX, reg_path, sizeof(reg_path)) == 0) {
            int fd = open(reg_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
            if (fd >= 0) {
                int r = run_registered(fd, reg_path, argc, argv, &c);
                if (r != -ENOENT)
                    return r;
            }
        }
    }
    if (argc > 1 && strcmp(argv[1], "shim") == 0)
        return shiminstall_main(argc - 1, argv + 1);
    return -ENOENT;
}

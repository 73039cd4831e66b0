// SPDX-License-Identifier: MIT
/*
 * See control.h. A command is read whole (it is one short line) right
 * after accept, with a receive timeout so a silent client cannot hold the
 * loop; the reply is written later by the supervisor, which owns the
 * connection from then on. While a request waits, a 10 ms timer kicks the
 * supervisor awake again (a wake-up sent just before it blocks is lost).
 */
#include "control.h"

#include "config.h"
#include "fdio.h"
#include "log.h"
#include "macro.h"
#include "procinfo.h"
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define CONTROL_KICK_MS 10

struct control {
    struct loop_source src;
    struct loop_timer kick;
    struct trace *trace;
    uid_t app_uid;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static void reply(int fd, const char *text)
{
    fdio_write_all(fd, text, strlen(text));
    close(fd);
}

bool control_parse(char *line, struct trace_request *r)
{
    char *save = NULL, *w = strtok_r(line, " \t\r\n", &save);

    if (!w || strcmp(w, "snapshot") != 0)
        return false;
    while ((w = strtok_r(NULL, " \t\r\n", &save))) {
        if (strcmp(w, "core") == 0) {
            r->has_core = true;
        } else if (strcmp(w, "pid") == 0) {
            char *end;
            w = strtok_r(NULL, " \t\r\n", &save);
            r->pid = w ? (pid_t)strtol(w, &end, 10) : 0;
            if (!w || *end || r->pid <= 0)
                return false;
        } else {
            return false;
        }
    }
    return true;
}

static void serve(struct control *c, int fd)
{
    struct timeval tv = {.tv_sec = 1};
    struct ucred cred;
    socklen_t len = sizeof(cred);
    char line[CONTROL_LINE_MAX];
    struct trace_request r = {.reply_fd = fd};
    ssize_t n;
    int e;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
        (cred.uid != 0 && cred.uid != c->app_uid)) {
        log_warn("control socket: refused a client of uid %u (only root and the app's user)",
                 (unsigned)cred.uid);
        reply(fd, "error only root and the app's user may ask\n");
        return;
    }
    n = RETRY_EINTR(read(fd, line, sizeof(line) - 1));
    if (n <= 0) {
        close(fd);
        return;
    }
    line[n] = '\0';
    if (!control_parse(line, &r)) {
        reply(fd, "error unknown command; expected: snapshot [core] [pid N]\n");
        return;
    }
    e = trace_request(c->trace, &r);
    if (e < 0) {
        reply(fd, e == -EBUSY ? "error busy: snapshots already waiting\n"
                              : "error no supervised app (crash supervision off?)\n");
        return;
    }
    loop_timer_arm(&c->kick, CONTROL_KICK_MS);
}

static int on_accept(struct loop_source *src, uint32_t events)
{
    struct control *c = src->data;
    int fd = accept4(src->fd, NULL, NULL, SOCK_CLOEXEC);

    (void)events;
    if (fd >= 0)
        serve(c, fd);
    return 0;
}

static int on_kick(struct loop_timer *t)
{
    struct control *c = t->data;

    if (trace_kick(c->trace))
        loop_timer_arm(&c->kick, CONTROL_KICK_MS);
    return 0;
}

/* Is a wrapp answering on path? */
static bool is_live(const struct sockaddr_un *sa)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool is_up = fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;

    if (fd >= 0)
        close(fd);
    return is_up;
}

static int listen_on(const char *path, int *ret_fd)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    cleanup_close int fd = -1;
    char dir[sizeof(sa.sun_path)];
    char *slash;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, path, strlen(path));
    memcpy(dir, path, strlen(path) + 1);
    slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        mkdir(dir, 0755); /* /run/wrapp: made once, then EEXIST */
    }
    if (is_live(&sa))
        return -EADDRINUSE;
    unlink(path); /* a stale socket of an earlier run */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return neg_errno();
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0666) < 0 ||
        listen(fd, 8) < 0)
        return neg_errno();
    *ret_fd = take_fd(&fd);
    return 0;
}

int control_start(struct loop *l, struct trace *t, uid_t app_uid, const char *path,
                  struct control **ret)
{
    struct control *c = calloc(1, sizeof(*c));
    const char *p = path ? path : getenv("WRAPP_CONTROL");
    int fd = -1, r;

    if (!c)
        return -ENOMEM;
    snprintf(c->path, sizeof(c->path), "%s", p && *p ? p : CONTROL_PATH);
    r = listen_on(c->path, &fd);
    if (r < 0) {
        free(c);
        return r;
    }
    c->trace = t;
    c->app_uid = app_uid;
    c->src = (struct loop_source){.fd = fd, .fn = on_accept, .data = c};
    loop_timer_init(l, &c->kick, on_kick, c);
    r = loop_add(l, &c->src, EPOLLIN);
    if (r < 0) {
        close(fd);
        unlink(c->path);
        free(c);
        return r;
    }
    *ret = c;
    return 0;
}

struct control *control_stop(struct control *c)
{
    if (!c)
        return NULL;
    loop_timer_disarm(&c->kick);
    loop_del(c->kick.loop, &c->src);
    close(c->src.fd);
    unlink(c->path);
    free(c);
    return NULL;
}

/* ---- wrapp snapshot ---- */

static const char usage[] =
    "Usage: wrapp snapshot [--core] [--pid N] [--socket PATH]\n"
    "Asks the running wrapp (its control socket: --socket, WRAPP_CONTROL or " CONTROL_PATH ")\n"
    "for a snapshot of the app (or of process N): every thread stopped, unwound, resumed;\n"
    "the report is kept and published like a crash report. With --pid and no wrapp\n"
    "answering (a sidecar sharing the pid namespace), wrapp seizes N itself.\n";

/* Through the socket: 0 ok, 1 failed, -ECONNREFUSED/-ENOENT nobody there. */
static int ask(const char *path, const char *line)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    char buf[1024];
    ssize_t n;

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return neg_errno();
    /* A refusal may come before the command is sent: read it anyway. */
    fdio_write_all(fd, line, strlen(line));
    n = RETRY_EINTR(read(fd, buf, sizeof(buf) - 1));
    if (n <= 0) {
        fprintf(stderr, "wrapp snapshot: no answer on %s\n", path);
        return 1;
    }
    buf[n] = '\0';
    fputs(buf, strncmp(buf, "ok ", 3) == 0 ? stdout : stderr);
    return strncmp(buf, "ok ", 3) == 0 ? 0 : 1;
}

static void no_gone(void *trace, pid_t pid, int status)
{
    (void)trace;
    (void)pid;
    (void)status;
}

static void no_event(void *trace, pid_t pid, int event)
{
    (void)trace;
    (void)pid;
    (void)event;
}

/* Sidecar: seize every thread of pid, snapshot, detach. */
static int direct(pid_t pid, bool has_core)
{
    struct config cfg;
    struct snapshot_ctx x = {.on_gone = no_gone, .on_event = no_event};
    cleanup_free pid_t *tids = NULL;
    size_t n = 0;
    const char *dir = getenv("WRAPP_CRASH_DIR");
    int out = dup(STDOUT_FILENO);

    config_init(&cfg);
    cfg.crash.dir = dir ? strdup(dir) : NULL;
    x.cfg = &cfg.crash;
    if (procinfo_tids(pid, &tids, &n) < 0 || n == 0) {
        fprintf(stderr, "wrapp snapshot: no process %d\n", (int)pid);
        config_fini(&cfg);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (ptrace(PTRACE_SEIZE, tids[i], 0, 0) < 0) {
            fprintf(stderr,
                    "wrapp snapshot: cannot trace pid %d (%s); run as root with "
                    "CAP_SYS_PTRACE, or ask the wrapp that runs it\n",
                    (int)pid, strerror(errno));
            for (size_t k = 0; k < i; k++)
                ptrace(PTRACE_DETACH, tids[k], 0, 0);
            config_fini(&cfg);
            return 1;
        }
    }
    snapshot_live(&x, pid, has_core, out);
    for (size_t i = 0; i < n; i++)
        ptrace(PTRACE_DETACH, tids[i], 0, 0);
    config_fini(&cfg);
    return 0;
}

int control_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"core", no_argument, NULL, 'c'},
        {"pid", required_argument, NULL, 'p'},
        {"socket", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = getenv("WRAPP_CONTROL");
    bool has_core = false;
    pid_t pid = 0;
    char line[CONTROL_LINE_MAX];
    int opt, r;

    signal(SIGPIPE, SIG_IGN); /* a refused command: the reply is read, not a signal */
    optind = 0;
    while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (opt == 'c')
            has_core = true;
        else if (opt == 'p')
            pid = (pid_t)strtol(optarg, NULL, 10);
        else if (opt == 's')
            path = optarg;
        else {
            fputs(usage, opt == 'h' ? stdout : stderr);
            return opt == 'h' ? 0 : 2;
        }
    }
    if (optind < argc || pid < 0) {
        fputs(usage, stderr);
        return 2;
    }
    snprintf(line, sizeof(line), "snapshot%s", has_core ? " core" : "");
    if (pid > 0)
        snprintf(line + strlen(line), sizeof(line) - strlen(line), " pid %d", (int)pid);
    snprintf(line + strlen(line), sizeof(line) - strlen(line), "\n");
    r = ask(path && *path ? path : CONTROL_PATH, line);
    if (r >= 0)
        return r;
    if (pid > 0)
        return direct(pid, has_core);
    fprintf(stderr,
            "wrapp snapshot: no wrapp answers on %s (%s); is wrapp running here? "
            "(--socket PATH, or --pid N to take a process directly)\n",
            path && *path ? path : CONTROL_PATH, strerror(-r));
    return 1;
}

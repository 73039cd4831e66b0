// SPDX-License-Identifier: MIT
/*
 * See handoff.h. The hand-over, at the app's exec stop:
 *   tgkill SIGSTOP, resume; at its signal-delivery stop PTRACE_DETACH with
 *   SIGSTOP: the app enters a group stop, untraced, before its first
 *   instruction (an exec event stop cannot carry a signal into detach);
 *   gdbserver --attach HOST:PORT PID, in its own process group (signals
 *   wrapp forwards to the app's group must not reach it);
 *   poll /proc/PID/status until TracerPid is gdbserver;
 *   SIGCONT: discards the SIGSTOP gdbserver would otherwise pass back at
 *   every `continue` (the app stays stopped: gdbserver holds it traced).
 * A client counts as connected when the kernel shows an ESTABLISHED TCP
 * connection whose local port is debug.port (/proc/net/tcp and tcp6 of
 * wrapp's own network namespace, which gdbserver shares): gdbserver itself
 * says nothing wrapp could read, and TracerPid is set before any client.
 */
#include "handoff.h"

#include "fdio.h"
#include "log.h"
#include "macro.h"
#include "procinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HANDOFF_ATTACH_MS 5000 /* gdbserver must attach within this */
#define HANDOFF_POLL_MS   10
#define HANDOFF_PATH_DEF  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

void handoff_init(struct handoff *h, const struct config_debug *cfg, handoff_gone_fn on_gone,
                  void *ctx)
{
    *h = (struct handoff){.cfg = cfg, .on_gone = on_gone, .ctx = ctx};
}

static const char *host_of(const struct handoff *h)
{
    return h->cfg->host && h->cfg->host[0] ? h->cfg->host : CONFIG_DEBUG_HOST;
}

static bool is_loopback(const char *host)
{
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "localhost") == 0 ||
           strcmp(host, "::1") == 0;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* gdbserver's path from wrapp's PATH into buf. 0 or -ENOENT. */
static int find_server(char *buf, size_t size)
{
    const char *path = getenv("PATH");
    const char *p = path && path[0] ? path : HANDOFF_PATH_DEF;

    while (*p) {
        size_t n = strcspn(p, ":");
        int w = snprintf(buf, size, "%.*s/gdbserver", (int)n, n ? p : ".");
        if (w > 0 && (size_t)w < size && access(buf, X_OK) == 0)
            return 0;
        p += n;
        if (*p == ':')
            p++;
    }
    return -ENOENT;
}

/* From the exec event stop to an untraced group stop. 0, or 1 when the
 * app exited meanwhile (passed to on_gone), or -errno. */
static int detach_stopped(struct handoff *h, pid_t pid)
{
    if (syscall(SYS_tgkill, pid, pid, SIGSTOP) < 0 || ptrace(PTRACE_CONT, pid, 0, 0) < 0)
        return neg_errno();
    for (;;) {
        int status, sig;
        pid_t w = waitpid(pid, &status, __WALL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return neg_errno();
        }
        if (!WIFSTOPPED(status)) {
            h->on_gone(h->ctx, pid, status);
            return 1;
        }
        sig = WSTOPSIG(status);
        if ((status >> 16) == 0 && sig == SIGSTOP)
            break;
        /* Another signal first (one wrapp forwarded): as it would have. */
        ptrace(PTRACE_CONT, pid, 0, (status >> 16) == 0 ? sig : 0);
    }
    return ptrace(PTRACE_DETACH, pid, 0, SIGSTOP) < 0 ? neg_errno() : 0;
}

/* fork + exec gdbserver; between them only async-signal-safe calls. */
static int start_server(struct handoff *h, const char *path, pid_t pid)
{
    char comm[300], spid[24];
    sigset_t none;
    pid_t child;

    snprintf(comm, sizeof(comm), "%s:%d", host_of(h), h->cfg->port);
    snprintf(spid, sizeof(spid), "%d", (int)pid);
    sigemptyset(&none);
    child = fork();
    if (child < 0)
        return neg_errno();
    if (child == 0) {
        char *argv[] = {(char *)"gdbserver", (char *)"--attach", comm, spid, NULL};
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        setpgid(0, 0);
        if (fd >= 0)
            dup3(fd, STDIN_FILENO, 0);
        dup3(STDERR_FILENO, STDOUT_FILENO, 0);
        signal(SIGPIPE, SIG_DFL);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(path, argv, environ);
        log_safe(LOG_LEVEL_ERROR, "cannot run gdbserver");
        _exit(127);
    }
    h->server = child;
    return 0;
}

static pid_t tracer_of(pid_t pid)
{
    return (pid_t)procinfo_status_field(pid, "TracerPid", 10, -1);
}

/* Has gdbserver exited? Then it is reaped and handled here. */
static bool server_exited(struct handoff *h)
{
    int status;
    pid_t w;

    do
        w = waitpid(h->server, &status, WNOHANG | __WALL);
    while (w < 0 && errno == EINTR);
    if (w != h->server)
        return false;
    handoff_gone(h, w, status);
    return true;
}

/* The app gone for good (its exit waits for the supervisor's loop)? */
static bool app_exited(const struct handoff *h)
{
    siginfo_t si = {0};

    return waitid(P_PID, (id_t)h->app, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) == 0 &&
           si.si_pid == h->app;
}

/* 0 once gdbserver traces the app; -ESRCH: gdbserver exited (handled);
 * -ETIMEDOUT: it was killed and the app let go. */
static int wait_attached(struct handoff *h)
{
    for (unsigned ms = 0; ms < HANDOFF_ATTACH_MS; ms += HANDOFF_POLL_MS) {
        if (tracer_of(h->app) == h->server)
            return 0;
        if (server_exited(h))
            return -ESRCH;
        sleep_ms(HANDOFF_POLL_MS);
    }
    log_warn("gdbserver (pid %d) did not attach to the app (pid %d) within %d s; killed it, "
             "the app runs without a debugger",
             (int)h->server, (int)h->app, HANDOFF_ATTACH_MS / 1000);
    kill(h->server, SIGKILL);
    while (!server_exited(h))
        sleep_ms(HANDOFF_POLL_MS);
    return -ETIMEDOUT;
}

/* One /proc/net/tcp* line, "sl: LOCAL:PORT REMOTE:PORT ST ...": is it an
 * ESTABLISHED connection (state 01) on local port? */
static bool is_established_on(const char *line, int port)
{
    const char *p = strchr(line, ':'), *colon;
    char *end;
    unsigned long lport, state;

    if (!p)
        return false;
    colon = strchr(p + 1, ':'); /* in the local address */
    if (!colon)
        return false;
    lport = strtoul(colon + 1, &end, 16);
    if (end == colon + 1 || *end != ' ')
        return false;
    p = strchr(end + 1, ' '); /* past the remote address */
    if (!p)
        return false;
    state = strtoul(p + 1, &end, 16);
    return end != p + 1 && lport == (unsigned long)port && state == 1;
}

/* An ESTABLISHED connection on local port in one /proc/net/tcp* table. */
static bool has_connection(const char *table, int port)
{
    cleanup_free char *text = NULL;
    size_t len;
    const char *line;

    if (fdio_read_file(table, 1 << 22, &text, &len) < 0)
        return false;
    line = strchr(text, '\n'); /* the header */
    while (line && *++line) {
        if (is_established_on(line, port))
            return true;
        line = strchr(line, '\n');
    }
    return false;
}

static bool has_client(const struct handoff *h)
{
    return has_connection("/proc/net/tcp", h->cfg->port) ||
           has_connection("/proc/net/tcp6", h->cfg->port);
}

/* debug.wait_seconds: no client by then, gdbserver goes and the app runs. */
static void wait_client(struct handoff *h)
{
    for (unsigned ms = 0; ms < h->cfg->wait_ms; ms += HANDOFF_POLL_MS * 10) {
        if (has_client(h) || server_exited(h) || app_exited(h))
            return;
        sleep_ms(HANDOFF_POLL_MS * 10);
    }
    log_warn("no debugger connected to port %d within %u s (debug.wait_seconds); stopped "
             "gdbserver, the app runs",
             h->cfg->port, h->cfg->wait_ms / 1000);
    kill(h->server, SIGKILL);
    while (!server_exited(h))
        sleep_ms(HANDOFF_POLL_MS);
}

static void banner(const struct handoff *h, const char *exe)
{
    const char *host = host_of(h);
    const char *to = strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ? "127.0.0.1" : host;
    int port = h->cfg->port;

    log_warn("DEBUG MODE: app (pid %d) stopped at its first instruction, attached to gdbserver "
             "(pid %d) on port %d",
             (int)h->app, (int)h->server, port);
    log_warn("  gdb:   gdb %s -ex 'target remote %s:%d'   then: break main, continue", exe, to,
             port);
    log_warn("         the first continue may stop once with SIGCONT (wrapp's wake-up): "
             "continue again");
    log_warn("  CLion: Run | Edit Configurations | + Remote Debug: 'target remote' args %s:%d, "
             "symbol file %s",
             to, port, exe);
    log_warn("  crash reports are off for this run: gdbserver, not wrapp, traces the app");
    log_warn("  gdbserver listens on every interface (it ignores the host part), not only %s; "
             "publish the port only where you trust the network",
             host);
    if (!is_loopback(host))
        log_warn("debug.host %s is not a loopback address: anyone who reaches port %d can take "
                 "over the app",
                 host, port);
}

bool handoff_exec(struct handoff *h, pid_t pid)
{
    char server[PATH_MAX], exe[PATH_MAX], link[64];
    ssize_t n;
    int r;

    if (!h->cfg || !h->cfg->enabled || h->app)
        return false;
    h->app = pid;
    if (find_server(server, sizeof(server)) < 0) {
        log_warn("debug mode: gdbserver not found in PATH; install the gdbserver package "
                 "(Debian/Ubuntu) or use the ubuntu22 image; the app runs without a debugger");
        return false;
    }
    snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
    n = readlink(link, exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    r = detach_stopped(h, pid);
    if (r != 0) {
        if (r < 0)
            log_warn_errno(r, "debug mode: cannot stop the app (pid %d) for gdbserver", (int)pid);
        return r > 0;
    }
    r = start_server(h, server, pid);
    if (r < 0) {
        log_warn_errno(r, "debug mode: cannot start gdbserver; the app runs without a debugger");
        kill(pid, SIGCONT);
        return true;
    }
    if (wait_attached(h) < 0)
        return true;
    h->is_attached = true;
    kill(pid, SIGCONT);
    banner(h, exe[0] ? exe : "APP");
    if (h->cfg->wait_ms > 0)
        wait_client(h);
    return true;
}

bool handoff_gone(struct handoff *h, pid_t pid, int status)
{
    int code;

    if (pid == h->app && h->app) {
        h->is_app_gone = true;
        return false;
    }
    if (!h->server || pid != h->server)
        return false;
    h->server = 0;
    code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (h->is_app_gone || app_exited(h)) {
        log_info("gdbserver exited (status %d) after the app", code);
        return true;
    }
    if (!h->is_attached) {
        log_warn("gdbserver exited (status %d) before attaching to the app (port %d busy? see its "
                 "message above); the app runs without a debugger",
                 code, h->cfg->port);
        kill(h->app, SIGCONT);
    } else if (h->cfg->is_kill_after) {
        log_warn("gdbserver exited (status %d) before the app; killing the app "
                 "(debug.after_gdbserver \"kill\")",
                 code);
        kill(h->app, SIGKILL);
    } else {
        /* Status 0: the debugger detached, the usual end of a session. */
        log_msg(code == 0 ? LOG_LEVEL_INFO : LOG_LEVEL_WARN,
                code == 0 ? "gdbserver exited (status %d) after the debugger detached; the app "
                            "runs on"
                          : "gdbserver exited (status %d) before the app; the app continues "
                            "without a debugger",
                code);
        kill(h->app, SIGCONT);
    }
    return true;
}

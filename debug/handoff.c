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
 * Post-mortem enters at the gdbserver step: snapshot.c has already left
 * the crashed process in a group stop. There every thread, not only the
 * leader, must show gdbserver as its tracer before SIGCONT, which would
 * otherwise run the threads not yet attached. Its end is always the crash
 * signal again (tgkill to the crashing thread, then SIGCONT).
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
#include "signame.h"

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

#define HANDOFF_ATTACH_MS       5000 /* gdbserver must attach within this */
#define HANDOFF_POLL_MS         10
#define HANDOFF_TCP_ESTABLISHED 0x01 /* socket states in /proc/net/tcp */
#define HANDOFF_TCP_LISTEN      0x0a
#define HANDOFF_PATH_DEF        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

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

/* What becomes of the process without a debugger, for messages. */
static const char *fate(const struct handoff *h)
{
    return h->crash_sig ? "the crashed process dies with its signal"
                        : "the app runs without a debugger";
}

/* Let the process go on without gdbserver: the app runs; a crashed one
 * gets its crash signal again (pending before it runs: a fault would also
 * recur, a sent signal would not). */
static void release(const struct handoff *h)
{
    if (h->crash_sig)
        syscall(SYS_tgkill, h->app, h->crash_tid, h->crash_sig);
    kill(h->app, SIGCONT);
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

/* Does gdbserver trace every thread of the app? (One thread at exec.) */
static bool is_traced_by_server(const struct handoff *h)
{
    cleanup_free pid_t *tids = NULL;
    size_t n = 0;

    if (procinfo_tids(h->app, &tids, &n) < 0 || n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((pid_t)procinfo_status_field(tids[i], "TracerPid", 10, -1) != h->server)
            return false;
    return true;
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

/* One /proc/net/tcp* line, "sl: LOCAL:PORT REMOTE:PORT ST ...": is it a
 * socket in state (HANDOFF_TCP_*) on local port? */
static bool is_state_on(const char *line, int port, unsigned long want)
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
    return end != p + 1 && lport == (unsigned long)port && state == want;
}

/* A socket in state on local port in one /proc/net/tcp* table. */
static bool has_socket(const char *table, int port, unsigned long state)
{
    cleanup_free char *text = NULL;
    size_t len;
    const char *line;

    if (fdio_read_file(table, 1 << 22, &text, &len) < 0)
        return false;
    line = strchr(text, '\n'); /* the header */
    while (line && *++line) {
        if (is_state_on(line, port, state))
            return true;
        line = strchr(line, '\n');
    }
    return false;
}

static bool has_port_in(const struct handoff *h, unsigned long state)
{
    return has_socket("/proc/net/tcp", h->cfg->port, state) ||
           has_socket("/proc/net/tcp6", h->cfg->port, state);
}

static bool has_client(const struct handoff *h)
{
    return has_port_in(h, HANDOFF_TCP_ESTABLISHED);
}

/* 0 once gdbserver traces every thread of the app and listens (it does
 * after attaching to all); -ESRCH: gdbserver exited (handled);
 * -ETIMEDOUT: it was killed and the app let go. */
static int wait_attached(struct handoff *h)
{
    for (unsigned ms = 0; ms < HANDOFF_ATTACH_MS; ms += HANDOFF_POLL_MS) {
        if (is_traced_by_server(h) && has_port_in(h, HANDOFF_TCP_LISTEN))
            return 0;
        if (server_exited(h))
            return -ESRCH;
        sleep_ms(HANDOFF_POLL_MS);
    }
    log_warn("gdbserver (pid %d) did not attach to pid %d within %d s; killed it, %s",
             (int)h->server, (int)h->app, HANDOFF_ATTACH_MS / 1000, fate(h));
    kill(h->server, SIGKILL);
    while (!server_exited(h))
        sleep_ms(HANDOFF_POLL_MS);
    return -ETIMEDOUT;
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
             "gdbserver, %s",
             h->cfg->port, h->cfg->wait_ms / 1000, fate(h));
    kill(h->server, SIGKILL);
    while (!server_exited(h))
        sleep_ms(HANDOFF_POLL_MS);
}

/* The first banner lines: what is stopped where, and what to type. */
static void headline(const struct handoff *h, const char *exe, const char *to)
{
    int port = h->cfg->port;
    char name[24];

    if (!h->crash_sig) {
        log_warn("DEBUG MODE: app (pid %d) stopped at its first instruction, attached to "
                 "gdbserver (pid %d) on port %d",
                 (int)h->app, (int)h->server, port);
        log_warn("  gdb:   gdb %s -ex 'target remote %s:%d'   then: break main, continue", exe, to,
                 port);
        log_warn("         the first continue may stop once with SIGCONT (wrapp's wake-up): "
                 "continue again");
        return;
    }
    signame_name(h->crash_sig, name);
    log_warn("POST-MORTEM: pid %d (%s) crashed in thread %d with %s; every thread is stopped, "
             "that one before the signal, attached to gdbserver (pid %d) on port %d",
             (int)h->app, exe, (int)h->crash_tid, name, (int)h->server, port);
    log_warn("  gdb:   gdb %s -ex 'target remote %s:%d'   then: info threads, "
             "thread find %d, bt",
             exe, to, port, (int)h->crash_tid);
    log_warn("         continue re-raises the %s in thread %d, after 'handle SIGSTOP SIGCONT "
             "nostop noprint nopass' (each thread may stop once with the SIGSTOP of the attach)",
             name, (int)h->crash_tid);
    log_warn("         once gdbserver exits (kill, detach, debug.wait_seconds without a client) "
             "the process dies with %s, as without a debugger",
             name);
}

static void banner(const struct handoff *h, const char *exe)
{
    const char *host = host_of(h);
    const char *to = strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ? "127.0.0.1" : host;
    int port = h->cfg->port;

    headline(h, exe, to);
    log_warn("  CLion: Run | Edit Configurations | + Remote Debug: 'target remote' args %s:%d, "
             "symbol file %s",
             to, port, exe);
    log_warn("  crash reports are off for this %s: gdbserver, not wrapp, traces it",
             h->crash_sig ? "process" : "run");
    log_warn("  gdbserver listens on every interface (it ignores the host part), not only %s; "
             "publish the port only where you trust the network",
             host);
    if (!is_loopback(host))
        log_warn("debug.host %s is not a loopback address: anyone who reaches port %d can take "
                 "over the app",
                 host, port);
}

static void read_exe(pid_t pid, char *buf, size_t size)
{
    char link[64];
    ssize_t n;

    snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
    n = readlink(link, buf, size - 1);
    buf[n > 0 ? n : 0] = '\0';
}

/* h->app is in an untraced group stop: gdbserver on it, the banner, and
 * the wait for a client. Any failure lets the process go (release). */
static void hand_over(struct handoff *h, const char *server, const char *exe)
{
    int r = start_server(h, server, h->app);

    if (r < 0) {
        log_warn_errno(r, "debug mode: cannot start gdbserver; %s", fate(h));
        release(h);
        return;
    }
    if (wait_attached(h) < 0)
        return;
    h->is_attached = true;
    kill(h->app, SIGCONT);
    banner(h, exe[0] ? exe : "APP");
    if (h->cfg->wait_ms > 0)
        wait_client(h);
}

static void no_server(const struct handoff *h)
{
    log_warn("debug mode: gdbserver not found in PATH; install the gdbserver package "
             "(Debian/Ubuntu) or use the ubuntu22 image; %s",
             fate(h));
}

bool handoff_exec(struct handoff *h, pid_t pid)
{
    char server[PATH_MAX], exe[PATH_MAX];
    int r;

    if (!h->cfg || !h->cfg->enabled || h->app)
        return false;
    h->app = pid;
    if (find_server(server, sizeof(server)) < 0) {
        no_server(h);
        return false;
    }
    read_exe(pid, exe, sizeof(exe));
    r = detach_stopped(h, pid);
    if (r != 0) {
        if (r < 0)
            log_warn_errno(r, "debug mode: cannot stop the app (pid %d) for gdbserver", (int)pid);
        return r > 0;
    }
    hand_over(h, server, exe);
    return true;
}

bool handoff_takes_crash(struct handoff *h)
{
    char server[PATH_MAX];
    static bool is_told;

    if (!h || !h->cfg || !h->cfg->on_crash || h->server || h->crash_sig || h->is_attached)
        return false;
    if (find_server(server, sizeof(server)) == 0)
        return true;
    if (!is_told)
        log_warn("debug.on_crash: gdbserver not found in PATH; install the gdbserver package "
                 "(Debian/Ubuntu); the crash takes its course");
    is_told = true;
    return false;
}

void handoff_crash(struct handoff *h, pid_t pid, pid_t tid, int sig)
{
    char server[PATH_MAX], exe[PATH_MAX];

    h->app = pid;
    h->crash_tid = tid;
    h->crash_sig = sig;
    h->is_app_gone = false;
    if (find_server(server, sizeof(server)) < 0) {
        no_server(h);
        release(h);
        return;
    }
    read_exe(pid, exe, sizeof(exe));
    hand_over(h, server, exe);
}

int handoff_status(const struct handoff *h, pid_t pid, int status)
{
    if (h->crash_sig && pid == h->app && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        return h->crash_sig;
    return status;
}

/* gdbserver gone before a post-mortem process: it dies with its signal. */
static void crash_release(const struct handoff *h, int code)
{
    char name[24];

    log_msg(code == 0 ? LOG_LEVEL_INFO : LOG_LEVEL_WARN,
            "gdbserver exited (status %d); pid %d dies with %s, as without debug.on_crash", code,
            (int)h->app, signame_name(h->crash_sig, name));
    release(h);
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
    if (h->crash_sig) {
        crash_release(h, code);
    } else if (!h->is_attached) {
        if (has_port_in(h, HANDOFF_TCP_LISTEN))
            log_warn("gdbserver exited (status %d) before attaching to the app: port %d is "
                     "taken by another process; set debug.port. The app runs without a debugger",
                     code, h->cfg->port);
        else
            log_warn("gdbserver exited (status %d) before attaching to the app: ptrace refused? "
                     "(run the container with --cap-add=SYS_PTRACE; see gdbserver's message "
                     "above). The app runs without a debugger",
                     code);
        release(h);
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
        release(h);
    }
    return true;
}

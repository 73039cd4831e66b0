// SPDX-License-Identifier: MIT
/*
 * See trace.h. The thread blocks in waitpid(-1, __WALL): one wakeup and one
 * syscall per stop or exit; every stop is resumed before the next wait,
 * except while a crash is being captured (snapshot.c), which resumes what
 * it stopped itself.
 * Exits: wrapp, as tracer, is told of every traced thread's and process's
 * exit, but only its own children's (the app, orphans) concern the main
 * loop. Threads are known from their clone events; processes the app
 * started from their fork events, with their parent: such a process
 * becomes wrapp's child (an orphan) only once that parent has exited.
 */
#include "trace.h"

#include "arch.h"
#include "fdio.h"
#include "filter.h"
#include "handoff.h"
#include "log.h"
#include "macro.h"
#include "pidmap.h"
#include "sigs.h"
#include "snapshot.h"
#include "track.h"
#include "violation.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct trace {
    struct trace_opts o;
    pthread_t thread;
    bool has_thread;
    int req[2];  /* child -> supervisor: the child's pid; 0 from trace_stop: quit */
    int gate[2]; /* supervisor -> child: one byte once it is seized (or not) */
    int exits[2];
    bool is_active;        /* the app was seized */
    bool is_idle;          /* reading req (no app yet, or no child left); atomic */
    pid_t crashed;         /* the last process captured: never twice */
    pid_t app;             /* the app's pid */
    pid_t self;            /* wrapp's pid, as its children see it */
    struct pidmap threads; /* traced thread -> its process (clone events) */
    struct pidmap kin;     /* process the app started -> its parent process */
    struct snapshot_ctx snap;
    struct handoff handoff;        /* debug mode: the app goes to gdbserver */
    struct track *track;           /* track.enabled: exec/exit records; NULL: off */
    struct violations *violations; /* the policy's report and log-only calls; NULL */
    bool has_kill_rules;           /* ...and its kills, seen at exit stops */
    bool is_child_seized;          /* written by the child in trace_child_gate */
    const struct filter *filter;   /* the app's seccomp filter (trace_set_filter); NULL */
    /* Snapshot requests from other threads, served between waits. */
    pthread_mutex_t lock;
    struct trace_request queue[TRACE_QUEUE_MAX];
    size_t n_queued; /* under lock; read unlocked as a hint */
    pid_t thread_tid;
    pid_t self_pid; /* for tgkill */
};

/* Raw syscalls only: this runs in the child, on wrapp's memory. */
void trace_child_gate(void *ctx)
{
    struct trace *t = ctx;
    pid_t pid = (pid_t)syscall(SYS_getpid);
    char b;

    if (write(t->req[1], &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
        return;
    while (read(t->gate[0], &b, 1) < 0 && errno == EINTR)
        ;
    /* Seized: its exec stops will be taken. Not seized: a trace rule
     * would fail every execve, so no filter. */
    t->is_child_seized = b == 1;
    if (t->filter && !t->filter->is_policy)
        filter_load(t->filter, false, b == 1);
}

static void send_exit(struct trace *t, pid_t pid, int status)
{
    struct trace_exit e = {pid, status};

    while (write(t->exits[1], &e, sizeof(e)) < 0 && errno == EINTR)
        ;
}

static long options(const struct trace *t)
{
    long o = PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;

    if (!t->o.cfg->is_scope_main)
        o |= PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK;
    if (t->track || t->has_kill_rules) /* shared objects, and seccomp kills, at exit stops */
        o |= PTRACE_O_TRACEEXIT;
    if (t->filter && t->filter->has_trace) /* the filter's stops (exec, policy) */
        o |= PTRACE_O_TRACESECCOMP | PTRACE_O_TRACESYSGOOD;
    return o;
}

static void seize(struct trace *t, pid_t pid)
{
    char b = 2;

    if (ptrace(PTRACE_SEIZE, pid, 0, options(t)) == 0) {
        b = 1;
        t->is_active = true;
        log_debug("supervising pid %d with ptrace", (int)pid);
    } else {
        log_warn("crash reports are off: ptrace is not allowed here (%s); grant it with "
                 "--cap-add=SYS_PTRACE and a seccomp profile that allows ptrace, or set "
                 "crash.enabled to false",
                 strerror(errno));
        if (t->filter && t->filter->has_trace)
            log_warn("seccomp: \"report\" acts as its errno and \"log-only\" logs to the "
                     "kernel's audit log only: the supervisor cannot trace the app");
    }
    while (write(t->gate[1], &b, 1) < 0 && errno == EINTR)
        ;
}

/* A process's disposition for sig: caught, ignored, or the default. */
static bool is_crash(const struct trace *t, pid_t tid, int sig)
{
    if (!t->o.cfg->enabled || sig < 1 || sig > 64 || !((t->o.cfg->signals >> (sig - 1)) & 1))
        return false;
    return snapshot_is_fatal(tid, sig);
}

static unsigned long event_msg(pid_t pid)
{
    unsigned long msg = 0;

    return ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg) == 0 ? msg : 0;
}

/* The process tid belongs to. */
static pid_t process_of(const struct trace *t, pid_t tid)
{
    return pidmap_get(&t->threads, tid, tid);
}

/* A clone event is a new thread (a clone without SIGCHLD that is really a
 * process is taken for one too: its exit then goes uncounted). */
static void on_clone(struct trace *t, pid_t parent)
{
    pid_t tid = (pid_t)event_msg(parent);

    if (tid > 0 && pidmap_set(&t->threads, tid, process_of(t, parent)) < 0)
        log_debug("thread %d not tracked (out of memory)", (int)tid);
}

static void on_fork(struct trace *t, pid_t parent)
{
    pid_t pid = (pid_t)event_msg(parent);

    if (pid > 0 && pidmap_set(&t->kin, pid, process_of(t, parent)) < 0)
        log_debug("process %d not tracked (out of memory)", (int)pid);
    track_fork(t->track, pid);
}

static void on_exec(struct trace *t, pid_t pid)
{
    pid_t former = (pid_t)event_msg(pid);

    /* A non-leader thread that execs takes the leader's pid. */
    if (former > 0 && former != pid)
        pidmap_del(&t->threads, former, NULL);
    pidmap_del(&t->threads, pid, NULL);
    track_exec(t->track, pid);
}

static void on_signal(struct trace *t, pid_t tid, int sig)
{
    pid_t tgid;

    if (is_crash(t, tid, sig)) {
        tgid = snapshot_tgid(tid);
        if (tgid > 0 && tgid != t->crashed) {
            t->crashed = tgid;
            snapshot_crash(&t->snap, tid, sig);
            return; /* resumed, with sig, by the snapshot (or gdbserver's) */
        }
    }
    ptrace(PTRACE_CONT, tid, 0, sig);
}

/* A new tracee's first stop can come before its parent's clone or fork
 * event: learn from /proc what the event would have said. */
static void learn(struct trace *t, pid_t pid)
{
    char path[64];
    cleanup_free char *text = NULL;
    size_t len;
    const char *tgid, *ppid;
    pid_t process, parent;

    if (pid == t->app || pidmap_get(&t->threads, pid, 0) || pidmap_get(&t->kin, pid, 0))
        return;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if (fdio_read_file(path, 1 << 16, &text, &len) < 0)
        return;
    tgid = strstr(text, "\nTgid:");
    ppid = strstr(text, "\nPPid:");
    if (!tgid || !ppid)
        return;
    process = (pid_t)strtol(tgid + 6, NULL, 10);
    parent = (pid_t)strtol(ppid + 6, NULL, 10);
    if (process != pid)
        pidmap_set(&t->threads, pid, process);
    else if (parent != t->self)
        pidmap_set(&t->kin, pid, parent);
}

/* A thread's exit stop, with a policy that kills: was it killed by the
 * policy (SIGSYS, its registers rolled back to the call)? Then report the
 * call, from its stack as it was. */
static void on_exit_stop(struct trace *t, pid_t tid)
{
    unsigned long status = event_msg(tid);
    struct violation_call c = {.arch = 0 /* SCMP_ARCH_NATIVE */, .action = POLICY_KILL};

    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS ||
        arch_syscall_regs(tid, &c.nr, c.args, &c.ip) < 0 || !violation_is_kill(t->violations, c.nr))
        return;
    violation_seen(t->violations, process_of(t, tid), tid, &c);
}

/* What an event stop tells about the tree. */
static void note_event(struct trace *t, pid_t pid, int event)
{
    switch (event) {
    case PTRACE_EVENT_CLONE:
        on_clone(t, pid);
        break;
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK:
        on_fork(t, pid);
        break;
    case PTRACE_EVENT_EXEC:
        on_exec(t, pid);
        break;
    case PTRACE_EVENT_EXIT:
        if (!pidmap_get(&t->threads, pid, 0)) /* a process's main thread */
            track_exit_stop(t->track, pid);
        if (t->has_kill_rules)
            on_exit_stop(t, pid);
        break;
    default:
        break;
    }
}

/* A policy action for the supervisor: report (and fail the call with the
 * errno) or log-only (let it go on). */
static void on_violation(struct trace *t, pid_t tid, const struct __ptrace_syscall_info *si)
{
    uint32_t data = si->seccomp.ret_data;
    bool is_log = FILTER_KIND(data) == FILTER_LOG;
    struct violation_call c = {.arch = si->arch,
                               .nr = (int)si->seccomp.nr,
                               .ip = si->instruction_pointer,
                               .action = is_log ? POLICY_LOG : POLICY_REPORT,
                               .err = (int)FILTER_ERR(data)};

    if (!is_log && FILTER_KIND(data) != FILTER_REPORT) {
        ptrace(PTRACE_CONT, tid, 0, 0);
        return;
    }
    memcpy(c.args, si->seccomp.args, sizeof(c.args));
    if (t->violations)
        violation_seen(t->violations, process_of(t, tid), tid, &c);
    if (!is_log) {
        int r = arch_syscall_skip(tid, -(int64_t)c.err);
        if (r < 0) { /* the call must not happen: end the process as "kill" would */
            log_warn("seccomp: cannot deny a call of pid %d (%s); killing it", (int)tid,
                     strerror(-r));
            syscall(SYS_tgkill, process_of(t, tid), tid, SIGKILL);
        }
    }
    ptrace(PTRACE_CONT, tid, 0, 0);
}

/* An execve/execveat at the filter's stop: note what it tries, and stop
 * again when it returns (it only returns when it failed). */
static void on_exec_try(struct trace *t, pid_t tid)
{
    struct __ptrace_syscall_info si = {0};
    bool is_at;

    if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof(si), &si) <= 0 ||
        si.op != PTRACE_SYSCALL_INFO_SECCOMP) {
        ptrace(PTRACE_CONT, tid, 0, 0);
        return;
    }
    if (FILTER_KIND(si.seccomp.ret_data) != FILTER_EXEC) {
        on_violation(t, tid, &si);
        return;
    }
    is_at = si.seccomp.nr != (uint64_t)SYS_execve;
    track_exec_try(t->track, process_of(t, tid), tid, si.seccomp.args[is_at ? 1 : 0],
                   si.seccomp.args[is_at ? 2 : 1]);
    ptrace(PTRACE_SYSCALL, tid, 0, 0);
}

static void on_exec_return(struct trace *t, pid_t tid)
{
    struct __ptrace_syscall_info si = {0};

    if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof(si), &si) > 0 &&
        si.op == PTRACE_SYSCALL_INFO_EXIT && si.exit.is_error)
        track_exec_failed(t->track, process_of(t, tid), (int)-si.exit.rval);
    ptrace(PTRACE_CONT, tid, 0, 0);
}

static void on_stop(struct trace *t, pid_t pid, int status)
{
    int sig = WSTOPSIG(status), event = (status >> 16) & 0xff;

    if (event == 0 && sig == (SIGTRAP | 0x80)) {
        on_exec_return(t, pid);
    } else if (event == PTRACE_EVENT_SECCOMP) {
        on_exec_try(t, pid);
    } else if (event == 0) {
        on_signal(t, pid, sig);
    } else if (event == PTRACE_EVENT_STOP) {
        /* Group-stop: stay stopped as without a tracer, until SIGCONT. */
        if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
            ptrace(PTRACE_LISTEN, pid, 0, 0);
        } else {
            learn(t, pid);
            /* A new process's first stop: its start, when that comes
             * before the parent's fork event. */
            if (pid != t->app && !pidmap_get(&t->threads, pid, 0))
                track_fork(t->track, pid);
            /* Exit stops cost a stop per exit: only for programs that
             * exec'd (a thread, a fork that did not exec shares what its
             * parent loaded), set again at the exec event. */
            if (t->track && !t->has_kill_rules)
                ptrace(PTRACE_SETOPTIONS, pid, 0, options(t) & ~PTRACE_O_TRACEEXIT);
            ptrace(PTRACE_CONT, pid, 0, 0);
        }
    } else {
        note_event(t, pid, event);
        if (event == PTRACE_EVENT_EXEC && t->track)
            ptrace(PTRACE_SETOPTIONS, pid, 0, options(t));
        if (event == PTRACE_EVENT_EXEC && pid == t->app && handoff_exec(&t->handoff, pid))
            return; /* gdbserver's now */
        ptrace(PTRACE_CONT, pid, 0, 0);
    }
}

/* Is an exit of pid waiting to be collected? */
static bool has_exited(pid_t pid)
{
    siginfo_t si = {0};

    /* A tracee's ptrace stop is reported too, WEXITED or not. */
    return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) == 0 &&
           si.si_pid == pid &&
           (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED);
}

/* pid exited (already waited for): the main loop hears of it if it was
 * wrapp's own child. Its children that wrapp knew of are orphans now. */
static void on_gone(struct trace *t, pid_t pid, int status, const struct rusage *ru)
{
    pid_t parent = 0;
    bool is_foreign;

    if (pidmap_del(&t->threads, pid, NULL) || handoff_gone(&t->handoff, pid, status))
        return;
    track_exit(t->track, pid, pid == t->app ? t->self : pidmap_get(&t->kin, pid, 0), status, ru);
    /* Its parent may have exited just before it, with the news still
     * queued here: then it was reparented to wrapp already. */
    is_foreign = pidmap_del(&t->kin, pid, &parent) && !has_exited(parent);
    pidmap_del_value(&t->kin, pid);
    if (!is_foreign || pid == t->app)
        send_exit(t, pid, handoff_status(&t->handoff, pid, status));
}

/* Wait for the app's pid, seize it, let it go on. false: quit. */
static bool take_app(struct trace *t)
{
    pid_t pid = 0;
    ssize_t n;

    do
        n = read(t->req[0], &pid, sizeof(pid));
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(pid) || pid <= 0)
        return false;
    t->app = pid;
    seize(t, pid);
    return true;
}

/* Live snapshots asked for (trace_request): taken here, between waits. */
static void serve(struct trace *t)
{
    struct trace_request q[TRACE_QUEUE_MAX];
    size_t n;

    if (__atomic_load_n(&t->n_queued, __ATOMIC_ACQUIRE) == 0)
        return;
    pthread_mutex_lock(&t->lock);
    n = t->n_queued;
    memcpy(q, t->queue, n * sizeof(*q));
    __atomic_store_n(&t->n_queued, 0, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&t->lock);
    for (size_t i = 0; i < n; i++)
        snapshot_live(&t->snap, q[i].pid ? q[i].pid : t->app, q[i].has_core, q[i].reply_fd);
}

void trace_set_filter(struct trace *t, const struct filter *f)
{
    t->filter = f;
}

bool trace_child_seized(const struct trace *t)
{
    return t->is_child_seized;
}

int trace_request(struct trace *t, const struct trace_request *r)
{
    int e = 0;

    if (!t->is_active || __atomic_load_n(&t->is_idle, __ATOMIC_ACQUIRE))
        return -ESRCH;
    pthread_mutex_lock(&t->lock);
    if (t->n_queued == TRACE_QUEUE_MAX)
        e = -EBUSY;
    else
        t->queue[t->n_queued++] = *r;
    pthread_mutex_unlock(&t->lock);
    if (e == 0)
        trace_kick(t);
    return e;
}

bool trace_kick(struct trace *t)
{
    if (__atomic_load_n(&t->n_queued, __ATOMIC_ACQUIRE) == 0)
        return false;
    /* Interrupts its waitpid (EINTR); a kick landing just before the wait
     * is lost, hence the caller's repeat while requests are pending. */
    syscall(SYS_tgkill, t->self_pid, t->thread_tid, SIGS_WAKE);
    return true;
}

static void *run(void *arg)
{
    struct trace *t = arg;

    t->thread_tid = (pid_t)syscall(SYS_gettid);
    if (sigs_wake_install(SIGS_WAKE) < 0)
        log_debug("no wake-up signal: live snapshots are off");
    __atomic_store_n(&t->is_idle, true, __ATOMIC_RELEASE);
    if (!take_app(t))
        return NULL;
    __atomic_store_n(&t->is_idle, false, __ATOMIC_RELEASE);
    for (;;) {
        struct rusage ru;
        int status;
        pid_t pid;
        serve(t);
        pid = wait4(-1, &status, __WALL, t->track ? &ru : NULL);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (WIFSTOPPED(status))
            on_stop(t, pid, status);
        else
            on_gone(t, pid, status, t->track ? &ru : NULL);
    }
    /* ECHILD: no child left, and none will come (the app is started once). */
    __atomic_store_n(&t->is_idle, true, __ATOMIC_RELEASE);
    send_exit(t, 0, 0);
    take_app(t);
    return NULL;
}

static void on_snapshot_gone(void *ctx, pid_t pid, int status)
{
    on_gone(ctx, pid, status, NULL);
}

static void on_snapshot_event(void *ctx, pid_t pid, int event)
{
    note_event(ctx, pid, event);
}

int trace_start(const struct trace_opts *o, struct trace **ret)
{
    struct trace *t = calloc(1, sizeof(*t));
    int r;

    if (!t)
        return -ENOMEM;
    t->o = *o;
    t->self = getpid();
    t->self_pid = t->self;
    pthread_mutex_init(&t->lock, NULL);
    t->req[0] = t->req[1] = t->gate[0] = t->gate[1] = t->exits[0] = t->exits[1] = -1;
    if (pipe2(t->req, O_CLOEXEC) < 0 || pipe2(t->gate, O_CLOEXEC) < 0 ||
        pipe2(t->exits, O_CLOEXEC) < 0) {
        r = neg_errno();
        trace_stop(t);
        return r;
    }
    fcntl(t->exits[0], F_SETFL, O_NONBLOCK);
    t->snap = (struct snapshot_ctx){.cfg = o->cfg,
                                    .stream = o->stream,
                                    .recent = o->recent,
                                    .on_report = o->on_report,
                                    .settle = o->settle,
                                    .core_up = o->core_up,
                                    .ctx = o->ctx,
                                    .on_gone = on_snapshot_gone,
                                    .on_event = on_snapshot_event,
                                    .trace = t,
                                    .handoff = &t->handoff};
    handoff_init(&t->handoff, o->debug, on_snapshot_gone, t);
    if (o->track && track_new(o->track, &t->track) < 0)
        log_warn("process tracking is off: cannot start it (out of memory)");
    if (o->violations && violation_new(o->violations, &t->violations) < 0)
        log_warn("seccomp reports are off: out of memory");
    t->has_kill_rules = violation_has_kill(t->violations);
    r = -pthread_create(&t->thread, NULL, run, t);
    if (r < 0) {
        trace_stop(t);
        return r;
    }
    t->has_thread = true;
    *ret = t;
    return 0;
}

int trace_fd(const struct trace *t)
{
    return t->exits[0];
}

size_t trace_read(struct trace *t, struct trace_exit *ev, size_t max)
{
    ssize_t n = read(t->exits[0], ev, max * sizeof(*ev));

    return n > 0 ? (size_t)n / sizeof(*ev) : 0;
}

struct trace *trace_stop(struct trace *t)
{
    if (!t)
        return NULL;
    if (t->has_thread) {
        pid_t quit = 0;
        /* A thread reading req (before the app started, or after the last
         * child) ends on quit; one still in waitpid ends with wrapp. */
        if (write(t->req[1], &quit, sizeof(quit)) != (ssize_t)sizeof(quit) ||
            !__atomic_load_n(&t->is_idle, __ATOMIC_ACQUIRE)) {
            pthread_detach(t->thread);
            return NULL;
        }
        pthread_join(t->thread, NULL);
    }
    violation_finish(t->violations);
    t->violations = violation_free(t->violations);
    for (int i = 0; i < 2; i++) {
        if (t->req[i] >= 0)
            close(t->req[i]);
        if (t->gate[i] >= 0)
            close(t->gate[i]);
        if (t->exits[i] >= 0)
            close(t->exits[i]);
    }
    pidmap_fini(&t->threads);
    pidmap_fini(&t->kin);
    track_free(t->track);
    free(t);
    return NULL;
}

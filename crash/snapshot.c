// SPDX-License-Identifier: MIT
/*
 * See snapshot.h. Every other thread gets PTRACE_INTERRUPT and is waited
 * for by tid, whatever stop it reports first (a signal it was about to
 * receive, a clone, a group-stop): that stop is remembered and restored on
 * resume, so the app sees no difference. New threads found in
 * /proc/PID/task are stopped in further rounds.
 */
#include "snapshot.h"

#include "clock.h"
#include "core.h"
#include "coreup.h"
#include "crash.h"
#include "fdio.h"
#include "handoff.h"
#include "log.h"
#include "macro.h"
#include "procinfo.h"
#include "recent.h"
#include "report.h"
#include "signame.h"
#include "unwind.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STOP_ROUNDS 8 /* rounds of /proc/PID/task while threads keep appearing */

enum held_kind {
    HELD_EVENT,  /* an event or interrupt stop: resume with no signal */
    HELD_SIGNAL, /* it was about to get sig: resume with it */
    HELD_GROUP,  /* in a group-stop: stay stopped (PTRACE_LISTEN) */
    HELD_GONE,   /* exited meanwhile */
    HELD_LOST,   /* did not stop in time */
};

struct held {
    pid_t tid;
    enum held_kind kind;
    int sig;
    char comm[17];
    char state;
};

struct world {
    struct held *v;
    size_t n, cap;
};

static unsigned long long status_mask(const char *text, const char *key)
{
    const char *p = strstr(text, key);

    return p ? strtoull(p + strlen(key), NULL, 16) : 0;
}

bool snapshot_is_fatal(pid_t tid, int sig)
{
    char path[64];
    cleanup_free char *text = NULL;
    size_t len;
    unsigned long long bit = 1ULL << (sig - 1);

    snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
    if (fdio_read_file(path, 1 << 16, &text, &len) < 0)
        return false;
    return !(status_mask(text, "\nSigCgt:") & bit) && !(status_mask(text, "\nSigIgn:") & bit);
}

pid_t snapshot_tgid(pid_t tid)
{
    return (pid_t)procinfo_status_field(tid, "Tgid", 10, -ESRCH);
}

/* /proc/PID/exe, maps and mem ask for the app's uid and gid (or
 * CAP_SYS_PTRACE) of whoever reads them, by fsuid: take the app's for the
 * reading, in this thread only (the raw syscalls are per thread), when it
 * runs as another user. Returns whether ids were switched. */
static bool read_as_app(pid_t pid)
{
    char path[64];
    cleanup_free char *text = NULL;
    size_t len;
    const char *u, *g;
    long uid, gid;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if (fdio_read_file(path, 1 << 16, &text, &len) < 0)
        return false;
    u = strstr(text, "\nUid:");
    g = strstr(text, "\nGid:");
    if (!u || !g)
        return false;
    uid = strtol(u + 5, NULL, 10);
    gid = strtol(g + 5, NULL, 10);
    if (uid == (long)geteuid() && gid == (long)getegid())
        return false;
    syscall(SYS_setfsgid, (gid_t)gid);
    syscall(SYS_setfsuid, (uid_t)uid);
    return true;
}

static void read_as_self(void)
{
    syscall(SYS_setfsuid, geteuid());
    syscall(SYS_setfsgid, getegid());
}

static bool is_stop_signal(int sig)
{
    return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static void classify(const struct snapshot_ctx *x, struct held *h, int status)
{
    int sig = WSTOPSIG(status), event = (status >> 16) & 0xff;

    if (!WIFSTOPPED(status)) {
        h->kind = HELD_GONE;
        x->on_gone(x->trace, h->tid, status);
        return;
    }
    if (event == PTRACE_EVENT_STOP) {
        h->kind = is_stop_signal(sig) ? HELD_GROUP : HELD_EVENT;
        return;
    }
    if (event == 0) {
        h->kind = HELD_SIGNAL;
        h->sig = sig;
        return;
    }
    x->on_event(x->trace, h->tid, event);
    h->kind = HELD_EVENT;
}

static void sleep_us(long us)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = us * 1000};

    nanosleep(&ts, NULL);
}

/* Wait for the threads [from, n) to report a stop, polling by tid. */
static void wait_stopped(const struct snapshot_ctx *x, struct world *w, size_t from)
{
    uint64_t deadline = clock_mono_ms() + SNAPSHOT_STOP_MS;
    size_t left = w->n - from;
    long nap = 20;

    for (size_t i = from; i < w->n; i++)
        w->v[i].kind = HELD_LOST;
    while (left > 0) {
        for (size_t i = from; i < w->n; i++) {
            struct held *h = &w->v[i];
            int status;
            pid_t r;
            if (h->kind != HELD_LOST)
                continue;
            r = waitpid(h->tid, &status, __WALL | WNOHANG);
            if (r == 0)
                continue;
            left--;
            if (r < 0)
                h->kind = HELD_GONE; /* already reaped: nothing to resume */
            else
                classify(x, h, status);
        }
        if (left == 0 || clock_mono_ms() > deadline)
            break;
        sleep_us(nap);
        nap = nap < 1000 ? nap * 2 : 1000;
    }
}

static bool is_held(const struct world *w, pid_t tid)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->v[i].tid == tid)
            return true;
    return false;
}

static int hold(struct world *w, pid_t pid, pid_t tid)
{
    struct held *h;

    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        struct held *v = realloc(w->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        w->v = v;
        w->cap = cap;
    }
    h = &w->v[w->n++];
    *h = (struct held){.tid = tid};
    /* Name and state before the stop changes the state to 't'. */
    {
        struct crash_thread t = {0};
        if (procinfo_thread(pid, tid, &t) == 0) {
            memcpy(h->comm, t.comm, sizeof(h->comm));
            h->state = t.state;
        }
    }
    return 0;
}

/* Stop every thread of pid but crashing; returns how many were held. */
static void stop_world(const struct snapshot_ctx *x, pid_t pid, pid_t crashing, struct world *w)
{
    for (int round = 0; round < STOP_ROUNDS; round++) {
        cleanup_free pid_t *tids = NULL;
        size_t n = 0, from = w->n;
        if (procinfo_tids(pid, &tids, &n) < 0)
            return;
        for (size_t i = 0; i < n; i++) {
            if (tids[i] == crashing || is_held(w, tids[i]))
                continue;
            if (hold(w, pid, tids[i]) < 0)
                return;
            ptrace(PTRACE_INTERRUPT, tids[i], 0, 0);
        }
        if (w->n == from)
            return;
        wait_stopped(x, w, from);
    }
}

static void resume_world(const struct world *w)
{
    for (size_t i = 0; i < w->n; i++) {
        const struct held *h = &w->v[i];
        switch (h->kind) {
        case HELD_EVENT:
            ptrace(PTRACE_CONT, h->tid, 0, 0);
            break;
        case HELD_SIGNAL:
            ptrace(PTRACE_CONT, h->tid, 0, h->sig);
            break;
        case HELD_GROUP:
            ptrace(PTRACE_LISTEN, h->tid, 0, 0);
            break;
        case HELD_GONE:
        case HELD_LOST:
            break;
        }
    }
}

/* debug.on_crash: every thread into one group stop, untraced, for
 * gdbserver. The crashing thread goes first, its signal replaced by
 * SIGSTOP, which starts the group stop; each other thread, detached,
 * joins it before running (a held signal stays with it). A fault recurs
 * when the crashing thread runs again; a sent signal (abort, raise) is
 * queued again first, so the debugger sees it too. */
static void detach_world(const struct world *w, const struct crash *c)
{
    if (c->si_code <= 0)
        syscall(SYS_tgkill, c->pid, c->tid, c->sig);
    ptrace(PTRACE_DETACH, c->tid, 0, SIGSTOP);
    for (size_t i = 0; i < w->n; i++) {
        const struct held *h = &w->v[i];
        if (h->kind == HELD_EVENT || h->kind == HELD_GROUP || h->kind == HELD_SIGNAL)
            ptrace(PTRACE_DETACH, h->tid, 0, h->kind == HELD_SIGNAL ? h->sig : 0);
    }
}

static void read_siginfo(struct crash *c)
{
    siginfo_t si;

    if (ptrace(PTRACE_GETSIGINFO, c->tid, 0, &si) < 0)
        return;
    c->si_code = si.si_code;
    c->si_errno = si.si_errno;
    if (si.si_code == SI_USER || si.si_code == SI_TKILL || si.si_code == SI_QUEUE) {
        c->sender_pid = si.si_pid;
        c->sender_uid = si.si_uid;
    } else {
        c->addr = (uint64_t)(uintptr_t)si.si_addr;
    }
}

/* Every thread's frames: the crashing one first, then in /proc order. */
static void unwind_all(const struct snapshot_ctx *x, struct crash *c, const struct world *w)
{
    struct unwinder *u = NULL;
    size_t max = (size_t)x->cfg->max_frames;
    int r;

    c->threads = calloc(w->n + 1, sizeof(*c->threads));
    if (!c->threads)
        return;
    c->threads[0] = (struct crash_thread){.tid = c->tid, .is_crashing = !c->is_snapshot};
    procinfo_thread(c->pid, c->tid, &c->threads[0]);
    c->n_threads = 1;
    for (size_t i = 0; i < w->n; i++) {
        struct crash_thread *t = &c->threads[c->n_threads];
        if (w->v[i].kind == HELD_GONE || w->v[i].tid == c->tid)
            continue;
        *t = (struct crash_thread){.tid = w->v[i].tid, .state = w->v[i].state};
        memcpy(t->comm, w->v[i].comm, sizeof(t->comm));
        if (w->v[i].kind == HELD_LOST)
            t->unwind_error = "the thread did not stop";
        c->n_threads++;
    }
    r = unwind_open(c->pid, x->cfg->system_lines, &u);
    if (r < 0) {
        log_warn_errno(r, "cannot unwind the crashed process %d", (int)c->pid);
        return;
    }
    for (size_t i = 0; i < c->n_threads; i++)
        if (!c->threads[i].unwind_error)
            unwind_thread(u, c->threads[i].tid, max, &c->threads[i]);
    unwind_modules(u, c);
    unwind_close(u);
}

static void find_build_id(struct crash *c)
{
    for (size_t i = 0; c->exe && i < c->n_modules; i++) {
        if (c->modules[i].build_id && c->modules[i].path &&
            strcmp(c->modules[i].path, c->exe) == 0) {
            c->build_id = strdup(c->modules[i].build_id);
            return;
        }
    }
}

static char *save(const struct snapshot_ctx *x, const struct crash *c, const char *json,
                  const char *text)
{
    const char *dirs[2] = {x->cfg->dir ? x->cfg->dir : SNAPSHOT_DIR, SNAPSHOT_DIR_FALLBACK};
    char *path = NULL;

    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
        int r = report_save(dirs[i], (unsigned)x->cfg->keep, c, json, text, &path);
        if (r == 0)
            return path;
        log_warn_errno(r, "cannot write the crash report to %s%s", dirs[i],
                       i == 0 ? "; trying the fallback" : "");
    }
    return NULL;
}

/* The ELF core next to the report (dir), while every thread is still
 * stopped: /proc is read with the app's ids, the file written with ours. */
static int dump_core(const struct snapshot_ctx *x, struct crash *c, const char *dir)
{
    struct core *k = NULL;
    struct core_result res;
    bool is_switched = read_as_app(c->pid);
    int r = core_prepare(c, &k);

    if (is_switched)
        read_as_self();
    if (r >= 0)
        r = core_write(k, dir, (uint64_t)x->cfg->core_max_bytes, &res);
    core_free(k);
    if (r < 0) {
        return log_warn_errno(r, "cannot write the core of pid %d to %s/%s", (int)c->pid, dir,
                              CORE_FILE_NAME);
    }
    log_warn("core %s/%s: %llu bytes (%llu allocated), %zu threads, %llu ms%s", dir, CORE_FILE_NAME,
             (unsigned long long)res.size, (unsigned long long)res.allocated, res.n_threads,
             (unsigned long long)res.ms,
             res.is_truncated ? "; truncated (crash.core_max_bytes or a full disk)" : "");
    c->has_core = true;
    c->is_core_truncated = res.is_truncated;
    c->core_size = res.size;
    c->core_allocated = res.allocated;
    c->core_ms = res.ms;
    return 0;
}

/* The local report, with the core's size and whether it is complete. */
static void note_core(const struct crash *c, const char *dir, char **json)
{
    char *j = NULL;
    int r = report_json(c, &j);

    if (r == 0)
        r = report_update(dir, j);
    if (r < 0) {
        log_warn_errno(r, "cannot add the core to the report in %s", dir);
        free(j);
        return;
    }
    free(*json);
    *json = j;
}

/* With crash.core "redis": the core goes to Redis from a thread of its own,
 * after the process is released. */
static void upload_core(const struct snapshot_ctx *x, const struct crash *c, const char *dir,
                        const char *json)
{
    char id[COREUP_ID_MAX], core[4096];
    int r;

    snprintf(core, sizeof(core), "%s/%s", dir, CORE_FILE_NAME);
    coreup_id(id, sizeof(id), c->time_us, c->pid);
    r = coreup_start(x->core_up, core, id, json);
    if (r < 0)
        log_warn_errno(r, "core of pid %d not uploaded to Redis; it stays at %s", (int)c->pid,
                       core);
}

/* One line for the console and :error, naming the place of the crash. */
static void announce(const struct crash *c, const char *path)
{
    const struct crash_frame *f = NULL;
    char name[24], where[512] = "";
    const char *meaning = NULL, *code = procinfo_si_code_name(c->sig, c->si_code, &meaning);

    if (c->is_snapshot) {
        log_warn("snapshot of pid %d (%s) on request: threads captured: %zu; report %s",
                 (int)c->pid, c->exe ? c->exe : "?", c->n_threads, path ? path : "not saved");
        return;
    }
    if (c->n_threads > 0 && c->threads[0].n_frames > 0)
        f = &c->threads[0].frames[0];
    if (f && f->symbol && f->file)
        snprintf(where, sizeof(where), " in %s (%s:%d)", f->symbol, f->file, f->line);
    else if (f && f->symbol)
        snprintf(where, sizeof(where), " in %s", f->symbol);
    log_warn("pid %d (%s) crashed: %s (%s) at 0x%llx%s; threads captured: %zu; report %s",
             (int)c->pid, c->exe ? c->exe : "?", signame_name(c->sig, name), code ? code : "?",
             (unsigned long long)c->addr, where, c->n_threads, path ? path : "not saved");
}

/* What needs the world stopped: /proc and every thread's frames. */
static void capture_state(const struct snapshot_ctx *x, struct crash *c, const struct world *w,
                          uint64_t t0)
{
    bool is_switched;

    c->stop_us = (clock_mono_ns() - t0) / 1000;
    is_switched = c->pid > 0 && read_as_app(c->pid);
    procinfo_fill(c->pid, c);
    unwind_all(x, c, w);
    if (is_switched)
        read_as_self();
    c->unwind_us = (clock_mono_ns() - t0) / 1000 - c->stop_us;
}

/* The report from the captured state: saved, announced, handed on.
 * Fills *json and *path (owned); false without a report. */
static bool publish(const struct snapshot_ctx *x, struct crash *c, uint64_t t0, char **json,
                    char **path)
{
    cleanup_free char *text = NULL;
    long n;

    find_build_id(c);
    if (x->stream)
        c->stream = strdup(x->stream);
    if (x->settle)
        x->settle(x->ctx);
    n = recent_copy(x->recent, &c->last_lines);
    c->n_last_lines = n > 0 ? (size_t)n : 0;
    c->total_us = (clock_mono_ns() - t0) / 1000;
    if (report_json(c, json) < 0 || report_text(c, &text) < 0) {
        log_warn("cannot build the report of pid %d (out of memory)", (int)c->pid);
        return false;
    }
    *path = save(x, c, *json, text);
    announce(c, *path);
    if (x->on_report)
        x->on_report(x->ctx, c, *json, text);
    return *path != NULL;
}

/* The core, while the world is still stopped; true if written. */
static bool capture_core(const struct snapshot_ctx *x, struct crash *c, const char *path,
                         char **json)
{
    if (!path || c->pid <= 0 || dump_core(x, c, path) < 0)
        return false;
    note_core(c, path, json);
    return true;
}

void snapshot_crash(const struct snapshot_ctx *x, pid_t tid, int sig)
{
    uint64_t t0 = clock_mono_ns();
    struct crash c = {.tid = tid, .sig = sig, .time_us = clock_real_us()};
    struct world w = {0};
    cleanup_free char *json = NULL;
    cleanup_free char *path = NULL;
    bool has_core;

    c.pid = snapshot_tgid(tid);
    read_siginfo(&c);
    if (c.pid > 0)
        stop_world(x, c.pid, tid, &w);
    capture_state(x, &c, &w, t0);
    has_core = publish(x, &c, t0, &json, &path) && x->cfg->core != CONFIG_CORE_OFF &&
               capture_core(x, &c, path, &json);
    if (c.pid > 0 && handoff_takes_crash(x->handoff)) {
        /* Post-mortem: the process waits, stopped, for a debugger. */
        detach_world(&w, &c);
        handoff_crash(x->handoff, c.pid, tid, sig);
    } else {
        /* Let the process die as it would have: the others first, so none
         * is left stopped, then the signal. */
        resume_world(&w);
        ptrace(PTRACE_CONT, tid, 0, sig);
    }
    if (has_core && x->core_up && x->cfg->core == CONFIG_CORE_REDIS)
        upload_core(x, &c, path, json);
    free(w.v);
    crash_fini(&c);
}

void snapshot_live(const struct snapshot_ctx *x, pid_t pid, bool want_core, int reply_fd)
{
    uint64_t t0 = clock_mono_ns();
    struct crash c = {.is_snapshot = true, .pid = pid, .tid = pid, .time_us = clock_real_us()};
    struct world w = {0};
    cleanup_free char *json = NULL;
    cleanup_free char *path = NULL;
    bool has_core;
    double stopped_ms;

    if (x->handoff && x->handoff->app == pid && !x->handoff->is_app_gone) {
        dprintf(reply_fd,
                x->handoff->server
                    ? "error pid %d is under gdbserver (debug mode): take it from gdb "
                      "(thread apply all bt, gcore)\n"
                    : "error pid %d was handed to gdbserver (debug mode) and is no longer "
                      "traced by wrapp\n",
                (int)pid);
        close(reply_fd);
        return;
    }
    stop_world(x, pid, 0, &w);
    if (w.n == 0) {
        dprintf(reply_fd, "error pid %d is not a process wrapp traces\n", (int)pid);
        close(reply_fd);
        return;
    }
    /* Stopped only as long as needed: the frames, and the core if asked. */
    capture_state(x, &c, &w, t0);
    if (want_core) {
        has_core = publish(x, &c, t0, &json, &path) && capture_core(x, &c, path, &json);
        resume_world(&w);
        stopped_ms = (double)(clock_mono_ns() - t0) / 1e6;
    } else {
        resume_world(&w);
        stopped_ms = (double)(clock_mono_ns() - t0) / 1e6;
        has_core = false;
        publish(x, &c, t0, &json, &path);
    }
    log_info("snapshot of pid %d: the app was stopped for %.1f ms", (int)pid, stopped_ms);
    if (path)
        dprintf(reply_fd, "ok %s stopped %.1f ms%s\n", path, stopped_ms, has_core ? " core" : "");
    else
        dprintf(reply_fd, "error the report of pid %d could not be saved\n", (int)pid);
    close(reply_fd);
    if (has_core && x->core_up && x->cfg->core == CONFIG_CORE_REDIS)
        upload_core(x, &c, path, json);
    free(w.v);
    crash_fini(&c);
}

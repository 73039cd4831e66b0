// SPDX-License-Identifier: MIT
/*
 * The ptrace supervisor. One thread of wrapp, started before the app, owns
 * every ptrace call and every wait for a child: it seizes the app between
 * clone and exec (trace_child_gate), follows its threads and, with scope
 * "tree", every process it starts; resumes each stop at once with the
 * signal it carried; and, when a thread gets a crash signal the process
 * does not handle, stops the process's threads, captures the crash (see
 * capture.h) and lets the signal do what it would have done (with
 * debug.on_crash, once gdbserver is done with the process). Exits (pid,
 * wait status) are handed to the main loop through trace_fd(), since the
 * main thread must no longer call waitpid itself.
 * When ptrace is refused (no CAP_SYS_PTRACE where needed, a seccomp
 * profile), wrapp says so once and the thread only waits for children.
 */
#pragma once

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct crash;
struct recent;
struct coreup_opts;
struct track_opts;
struct violation_opts;
struct filter;

/* Called in the supervisor's thread with the finished report. */
typedef void (*trace_report_fn)(void *ctx, const struct crash *c, const char *json,
                                const char *text);

struct trace_opts {
    const struct config_crash *cfg; /* borrowed; outlives the trace */
    const char *stream;             /* the Redis stream name, for the report; NULL */
    struct recent *recent;          /* the app's last lines; NULL */
    trace_report_fn on_report;      /* NULL: local report only */
    /* Called before the last lines are copied: let the capture read what
     * the crashed app wrote. NULL: none. */
    void (*settle)(void *ctx);
    void *ctx;
    const struct coreup_opts *core_up;       /* crash.core "redis": where to; NULL: none */
    const struct config_debug *debug;        /* debug mode (debug/handoff.h); NULL: off */
    const struct track_opts *track;          /* exec/exit records (track.h); NULL: off */
    const struct violation_opts *violations; /* seccomp report/log-only (violation.h); NULL */
};

/* An exit the main loop must know about. pid 0: wrapp has no child left. */
struct trace_exit {
    pid_t pid;
    int status;
};

struct trace;

/* Start the supervisor's thread. Returns 0 or -errno (then run without). */
int trace_start(const struct trace_opts *o, struct trace **ret);

/* Between clone and exec, first thing in the child (async-signal-safe, the
 * child shares wrapp's memory): wait until the supervisor has seized it.
 * ctx is the struct trace. */
void trace_child_gate(void *ctx);

/* The app's seccomp filter (borrowed; outlives t), before the app starts:
 * a tracking-only filter is loaded by trace_child_gate once the child is
 * seized, and the trace actions' stops are asked for when seizing. */
void trace_set_filter(struct trace *t, const struct filter *f);

/* In the child, after trace_child_gate: was it seized? */
bool trace_child_seized(const struct trace *t);

/* Readable when exits are waiting. */
int trace_fd(const struct trace *t);

/* Exits waiting, without blocking: up to max into ev; returns the count. */
size_t trace_read(struct trace *t, struct trace_exit *ev, size_t max);

/* A live snapshot of a running process: stop its threads, capture,
 * resume. The outcome, one line ("ok <report dir> stopped <ms> ms" or
 * "error <why>"), is written to reply_fd, which the supervisor closes. */
#define TRACE_QUEUE_MAX 8
struct trace_request {
    pid_t pid; /* a traced process; 0: the app */
    bool has_core;
    int reply_fd;
};

/* Queue r (any thread). 0, -EBUSY (queue full), -ESRCH (nothing traced). */
int trace_request(struct trace *t, const struct trace_request *r);

/* Wake the supervisor again while requests wait (a wake-up can be lost
 * just before its wait): call every few ms until it returns false. */
bool trace_kick(struct trace *t);

/* End the thread if it is idle and free everything; a thread still
 * waiting for children is left to end with the process. Takes NULL. */
struct trace *trace_stop(struct trace *t);

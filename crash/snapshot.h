// SPDX-License-Identifier: MIT
/*
 * Capturing one crash, in the supervisor's thread: stop every other thread
 * of the crashing process (PTRACE_INTERRUPT, so the snapshot is
 * consistent), read /proc, unwind every thread, write the report locally
 * and hand it on, then resume every thread as it was and the crashing one
 * with its signal, so the process dies exactly as it would have (with
 * debug.on_crash: after gdbserver, see debug/handoff.h).
 */
#pragma once

#include "trace.h"

#include <stdbool.h>

struct coreup_opts;
struct handoff;
#include <sys/types.h>

#define SNAPSHOT_DIR          "/var/lib/wrapp/crashes"
#define SNAPSHOT_DIR_FALLBACK "/tmp/wrapp-crashes"
#define SNAPSHOT_STOP_MS      500 /* a thread that does not stop by then is reported as such */

struct snapshot_ctx {
    const struct config_crash *cfg;
    const char *stream;
    struct recent *recent;
    trace_report_fn on_report;
    void (*settle)(void *ctx);
    void *ctx;
    const struct coreup_opts *core_up; /* NULL: no upload */
    /* Back to the supervisor: a tracee exited, or stopped at an event
     * (clone, fork, exec), while the world was being stopped. */
    void (*on_gone)(void *trace, pid_t pid, int status);
    void (*on_event)(void *trace, pid_t pid, int event);
    void *trace;
    /* debug.on_crash: a crash goes to gdbserver instead of its signal
     * (debug/handoff.h); borrowed from the supervisor; NULL: never. */
    struct handoff *handoff;
};

/* Will sig kill tid's process? Not caught and not ignored (/proc status). */
bool snapshot_is_fatal(pid_t tid, int sig);

/* The process (tgid) thread tid belongs to; -errno. */
pid_t snapshot_tgid(pid_t tid);

/* A live snapshot of pid (a process the supervisor traces): stop every
 * thread, capture and report as for a crash (kind "snapshot"), with a
 * core if want_core, resume; one line to reply_fd (then closed): "ok
 * <report dir> stopped <ms> ms[ core]" or "error <why>". */
void snapshot_live(const struct snapshot_ctx *x, pid_t pid, bool want_core, int reply_fd);

/* tid is in its signal-delivery-stop for sig: capture, report, resume;
 * or, with debug.on_crash, leave the process stopped for gdbserver. */
void snapshot_crash(const struct snapshot_ctx *x, pid_t tid, int sig);

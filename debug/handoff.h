// SPDX-License-Identifier: MIT
/*
 * Debug mode (debug.enabled): at the app's exec stop, hand the app, still
 * stopped before its first instruction, to `gdbserver --attach` and tell
 * the user how to connect. Post-mortem (debug.on_crash): a crashed process,
 * every thread stopped and the crashing one at its faulting instruction,
 * goes to gdbserver the same way; once gdbserver is gone it dies with its
 * crash signal. One hand-over per run. Owns gdbserver's pid and its exit; does not own
 * the app's exit, which still reaches the main loop, so wrapp exits with
 * the app's status. Called only from the crash supervisor's thread (the one
 * thread that ptraces and waits). Invariant: once handed over, the app is
 * never ptraced by wrapp again (gdbserver is its tracer).
 */
#pragma once

#include "config.h"

#include <stdbool.h>
#include <sys/types.h>

/* An exit the handoff waited for itself (the app, killed while being
 * stopped for gdbserver): the supervisor's usual exit handling. */
typedef void (*handoff_gone_fn)(void *ctx, pid_t pid, int status);

struct handoff {
    const struct config_debug *cfg; /* borrowed; NULL or !enabled: off */
    handoff_gone_fn on_gone;
    void *ctx;        /* for on_gone */
    pid_t app;        /* the process handed over; 0: none yet */
    pid_t server;     /* gdbserver while it runs; 0: none */
    bool is_attached; /* gdbserver traces the app */
    bool is_app_gone; /* the app's exit was seen */
    pid_t crash_tid;  /* post-mortem: the thread that crashed; 0: exec mode */
    int crash_sig;    /* post-mortem: its signal, delivered once gdbserver is gone */
};

/* Prepare h (caller-owned storage); cfg is borrowed and outlives h. */
void handoff_init(struct handoff *h, const struct config_debug *cfg, handoff_gone_fn on_gone,
                  void *ctx);

/* pid (the app) is in its PTRACE_EVENT_EXEC stop, traced by this thread.
 * With debug mode on, detach it into a group stop, start gdbserver on it
 * and print the banner. Returns true when the app is no longer this
 * thread's to resume (handed over, or its exit already passed to
 * on_gone); false: debug mode is off or gdbserver cannot be used (logged
 * once), so resume it as usual. Blocks up to 5 s for gdbserver to attach,
 * and up to debug.wait_seconds for a client. */
bool handoff_exec(struct handoff *h, pid_t pid);

/* Will a crash go to gdbserver (debug.on_crash, no hand-over yet,
 * gdbserver found; logged once if not)? Then the caller puts the crashed
 * process into an untraced group stop, the crashing thread's signal
 * dropped (a fault recurs when the thread runs again) or sent again, and
 * calls handoff_crash. */
bool handoff_takes_crash(struct handoff *h);

/* Post-mortem: pid is group-stopped and untraced; its thread tid crashed
 * with sig. Start gdbserver on it and print the banner; blocks like
 * handoff_exec. Whenever gdbserver cannot be used, or is gone while pid
 * lives, pid is continued with sig sent to tid again: it dies as it would
 * have without a debugger. */
void handoff_crash(struct handoff *h, pid_t pid, pid_t tid, int sig);

/* The wait status to report for pid's exit: a post-mortem process killed
 * by SIGKILL (the debugger's kill) counts as killed by its crash signal;
 * any other status is returned as is. */
int handoff_status(const struct handoff *h, pid_t pid, int status);

/* A child's exit (already waited for). Returns true if it was gdbserver:
 * handled here (the app, if still stopped, is continued or killed per
 * debug.after_gdbserver; a post-mortem process is made to die with its
 * crash signal), and the main loop must not hear of it. */
bool handoff_gone(struct handoff *h, pid_t pid, int status);

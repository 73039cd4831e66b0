// SPDX-License-Identifier: MIT
/*
 * One run of the application as an init: start it, forward signals, reap,
 * shut down (TERM -> grace -> KILL of the tree) and compute wrapp's exit
 * status. Owns the signalfd source and the grace timer on the loop.
 * Main thread only.
 */
#pragma once

#include "config.h"
#include "control.h"
#include "coreup.h"
#include "ctlstream.h"
#include "filter.h"
#include "loop.h"
#include "output.h"
#include "policy.h"
#include "rconn.h"
#include "reap.h"
#include "sigs.h"
#include "spawn.h"
#include "trace.h"

#include <stdbool.h>
#include <sys/types.h>

enum run_state {
    RUN_RUNNING,  /* the app runs */
    RUN_STOPPING, /* a shutdown signal was forwarded; grace timer armed */
    RUN_KILLED,   /* the grace ran out; the tree was SIGKILLed */
    RUN_DRAINING, /* the app exited; the rest of the tree is being ended */
};

struct run {
    const struct config *cfg;
    struct sigs *sigs;
    struct loop *loop;
    struct loop_source sig_src;
    struct loop_timer grace;
    struct trace *trace;         /* the crash supervisor; NULL: off */
    struct control *control;     /* the control socket; NULL: none */
    struct ctlstream *ctlstream; /* commands through Redis; NULL: none */
    bool has_core_target;
    struct rconn_target core_target; /* crash.core "redis": where cores go */
    struct coreup_opts core_opts;
    char core_stream[256];
    struct loop_source trace_src;
    struct policy policy; /* seccomp: the app's syscall policy */
    struct filter filter; /* its BPF program (and process tracking's exec rule) */
    bool is_tracking;     /* track.enabled, with somewhere to record */
    struct reap reap;
    enum run_state state;
    bool is_pid1;
    pid_t self;
    bool is_tree_killed; /* SIGKILL already sent to the tree */
    bool is_own_session; /* the app runs in a session of its own */
    pid_t child;
    pid_t target; /* child, or -pgid with kill_process_group */
    int exit_code;
};

/* Start the app from plan and run the loop until the app and the tree
 * are gone; with out (NULL: output inherited), its stdout/stderr are
 * captured on the loop and drained at the end. Returns wrapp's exit status
 * (0..255, remapped with -e). */
#define RUN_UPLOAD_WAIT_MS 60000

/* After run_app, before the end marker: wait (up to ms) for the crash
 * cores still going to Redis, so their outcome lines reach :status. */
void run_finish_uploads(struct run *run, unsigned ms);

int run_app(struct run *run, const struct config *cfg, struct sigs *sigs,
            const struct spawn_plan *plan, struct output *out);

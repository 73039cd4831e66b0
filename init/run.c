// SPDX-License-Identifier: MIT
/*
 * The run's state machine (see run.h). Signals arrive on the signalfd:
 * SIGCHLD reaps; shutdown signals (TERM, INT, QUIT, and HUP unless the app
 * handles HUP itself, the reload convention) are forwarded and arm the
 * grace timer; every other catchable signal is forwarded as is. When the
 * app exits, what is left of the tree gets TERM, then KILL after the same
 * grace; wrapp exits once it has no child left.
 */
#include "run.h"

#include "crash.h"
#include "fdio.h"
#include "filter.h"
#include "log.h"
#include "macro.h"
#include "mem.h"
#include "policy.h"
#include "procinfo.h"
#include "signame.h"
#include "track.h"
#include "tree.h"
#include "violation.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* After SIGKILL of the tree, how long to wait for the last exits. */
#define RUN_KILL_WAIT_MS 2000
/* After this long, the start-up is over and wrapp sheds its start-up text. */
#define RUN_IDLE_MS 100

static bool is_shutdown_signal(const struct run *run, int sig)
{
    if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT)
        return true;
    return sig == SIGHUP && !procinfo_handles(run->child, SIGHUP);
}

static void kill_tree(struct run *run)
{
    int n;

    if (run->is_tree_killed)
        return;
    run->is_tree_killed = true;
    n = tree_signal(SIGKILL, run->is_pid1);
    if (n < 0)
        log_warn_errno(n, "cannot SIGKILL the remaining processes");
    loop_timer_arm(&run->grace, RUN_KILL_WAIT_MS);
}

static void forward(struct run *run, int sig)
{
    char name[24];

    if (run->state == RUN_DRAINING) {
        tree_signal(sig, run->is_pid1);
        return;
    }
    /* In its own session the app's process group is orphaned, and the
     * kernel discards SIGTSTP sent to it; do what its default action would
     * have done: stop it. An app that handles SIGTSTP gets SIGTSTP. */
    if (sig == SIGTSTP && run->is_own_session && !procinfo_handles(run->child, SIGTSTP))
        sig = SIGSTOP;
    if (kill(run->target, sig) < 0 && errno != ESRCH)
        log_warn_errno(neg_errno(), "cannot forward %s to the app (pid %d)",
                       signame_name(sig, name), (int)run->child);
    else if (log_enabled(LOG_LEVEL_DEBUG))
        log_debug("forwarded %s to %d", signame_name(sig, name), (int)run->target);
}

static void on_signal(struct run *run, int sig)
{
    char name[24];

    forward(run, sig);
    if (run->state != RUN_RUNNING || !is_shutdown_signal(run, sig))
        return;
    run->state = RUN_STOPPING;
    log_info("%s: stopping the app; grace period %u ms, then SIGKILL", signame_name(sig, name),
             run->cfg->init.grace_ms);
    loop_timer_arm(&run->grace, run->cfg->init.grace_ms);
}

/* The app has exited: record its status, end the rest of the tree
 * (is_alone: wrapp has no child left, so, as PID 1 or subreaper, it has
 * no descendant either and nothing needs signalling). */
static void on_main_exit(struct run *run, bool is_alone)
{
    int status = run->reap.main_status, code = reap_exit_code(status);

    if (WIFSIGNALED(status)) {
        char name[24];
        log_info("app (pid %d) killed by %s; exit status %d", (int)run->child,
                 signame_name(WTERMSIG(status), name), code);
    } else {
        log_info("app (pid %d) exited with code %d", (int)run->child, code);
    }
    run->exit_code = code;
    sigs_set_forward_target(0);
    if (run->state == RUN_KILLED) {
        run->state = RUN_DRAINING;
        return;
    }
    run->state = RUN_DRAINING;
    if (!is_alone && tree_signal(SIGTERM, run->is_pid1) > 0) {
        log_info("app exited; sent SIGTERM to the remaining processes, SIGKILL in %u ms",
                 run->cfg->init.grace_ms);
        loop_timer_arm(&run->grace, run->cfg->init.grace_ms);
    }
}

static void on_reap(struct run *run)
{
    int r = reap_all(&run->reap);

    if (r < 0) {
        log_warn_errno(r, "waitpid failed");
        return;
    }
    if (run->reap.has_main_exited && run->state != RUN_DRAINING)
        on_main_exit(run, r == 1);
    if (r == 1 && run->state == RUN_DRAINING)
        loop_quit(run->loop, 0);
}

/* Once the start-up is over wrapp is an idle init: keep resident only
 * the code that runs again. A one-shot ITIMER_REAL, armed once, says when:
 * its SIGALRM (si_code SI_KERNEL, unlike a kill's SI_USER) arrives through
 * the same wait as every other signal, so the wait itself needs no timeout
 * (a timed wait costs a timer per wakeup), and a short-lived app exits
 * before it fires and never pays for the faults. */
static void arm_idle(void)
{
    struct itimerval it = {.it_value = {.tv_sec = 0, .tv_usec = RUN_IDLE_MS * 1000L}};

    if (setitimer(ITIMER_REAL, &it, NULL) < 0)
        log_debug_errno(neg_errno(), "setitimer");
}

static void on_idle(void)
{
    int r = mem_release_text();

    if (r < 0)
        log_debug_errno(r, "releasing start-up text");
}

/* Exits from the crash supervisor's thread, which waits instead of us. */
static int on_trace(struct loop_source *src, uint32_t events)
{
    struct run *run = src->data;
    struct trace_exit ev[64];
    size_t n;
    bool is_alone = false;

    (void)events;
    while ((n = trace_read(run->trace, ev, ARRAY_SIZE(ev))) > 0) {
        for (size_t i = 0; i < n; i++) {
            if (ev[i].pid == 0)
                is_alone = true;
            else
                reap_record(&run->reap, ev[i].pid, ev[i].status);
        }
    }
    if (run->reap.has_main_exited && run->state != RUN_DRAINING)
        on_main_exit(run, is_alone);
    if (is_alone && run->state == RUN_DRAINING)
        loop_quit(run->loop, 0);
    return 0;
}

static void on_crash_report(void *ctx, const struct crash *c, const char *json, const char *text)
{
    char name[24];

    output_crash(ctx, text, json, c->is_snapshot ? "snapshot" : signame_name(c->sig, name));
}

/* The crashed app's last writes are in the capture's pipes: 100 ms for the
 * main loop to read them (it keeps running while the app is stopped). */
static void on_crash_settle(void *ctx)
{
    output_settle(ctx, 100);
}

static void to_stderr(const char *text)
{
    struct iovec v[3] = {
        {(void *)"wrapp: warn: ", 13}, {(void *)text, strlen(text)}, {(void *)"\n", 1}};

    if (writev(STDERR_FILENO, v, 3) < 0)
        return; /* nowhere else to say it */
}

/* A seccomp report: stderr, and :error with its JSON. */
static void on_violation(void *ctx, const char *text, const char *json)
{
    to_stderr(text);
    output_violation(ctx, text, json);
}

/* The end-of-run seccomp summary: stderr and :status (it can be longer
 * than a log line). */
static void on_violation_summary(void *ctx, const char *text)
{
    to_stderr(text);
    output_status(ctx, text);
}

static void on_track(void *ctx, const char *event, const char *text, const char *json)
{
    output_proc(ctx, text, event, json);
}

/* The supervisor, started before the app so it can seize it before exec;
 * without it wrapp is a plain init. */
static void start_trace(struct run *run, const struct config *cfg, struct output *out,
                        struct spawn_plan *plan)
{
    struct trace_opts o = {.cfg = &cfg->crash,
                           .stream = output_stream(out),
                           .recent = output_recent(out),
                           .on_report = out ? on_crash_report : NULL,
                           .settle = out ? on_crash_settle : NULL,
                           .ctx = out,
                           .debug = &cfg->debug};
    struct violation_opts vo = {.cfg = &cfg->crash,
                                .policy = &run->policy,
                                .emit = on_violation,
                                .summary = on_violation_summary,
                                .ctx = out};
    struct track_opts to = {.max_args = cfg->track.max_args,
                            .file = cfg->track.file,
                            .redact = cfg->track.redact,
                            .emit = on_track,
                            .ctx = out};
    int r;

    if (cfg->track.enabled && (out || cfg->track.file))
        o.track = &to; /* copied by the tracker */
    else if (cfg->track.enabled)
        log_warn("track.enabled, but there is nowhere to record: configure Redis or track.file "
                 "(WRAPP_TRACK_FILE)");
    run->is_tracking = o.track != NULL;
    if (policy_needs_tracer(&run->policy) || policy_has_kill(&run->policy))
        o.violations = &vo; /* copied */
    if (!cfg->crash.enabled && !cfg->debug.enabled && !o.track && !o.violations)
        return;
    if (out && cfg->crash.core == CONFIG_CORE_REDIS &&
        rconn_target_from_config(cfg, &run->core_target) == 0) {
        run->has_core_target = true;
        coreup_opts_from_config(cfg, &run->core_target, run->core_stream, sizeof(run->core_stream),
                                &run->core_opts);
        o.core_up = &run->core_opts;
    }
    r = trace_start(&o, &run->trace);
    if (r < 0) {
        log_warn_errno(r, "crash reports are off: cannot start the supervisor");
        return;
    }
    run->trace_src = (struct loop_source){.fd = trace_fd(run->trace), .fn = on_trace, .data = run};
    r = loop_add(run->loop, &run->trace_src, EPOLLIN);
    if (r < 0) {
        log_warn_errno(r, "crash reports are off");
        run->trace = trace_stop(run->trace);
        return;
    }
    plan->child_hook = trace_child_gate;
    plan->child_hook_ctx = run->trace;
    r = sigs_watch_children(run->sigs, false);
    if (r < 0)
        log_debug_errno(r, "cannot stop reading SIGCHLD");
}

static int load_policy_filter(void *ctx)
{
    struct run *run = ctx;

    return filter_load(&run->filter, true, run->trace && trace_child_seized(run->trace));
}

/* The app's seccomp filter: its policy, and process tracking's exec rule.
 * Trace actions only where the supervisor follows the whole tree. */
static int start_filter(struct run *run, const struct config *cfg, struct spawn_plan *p)
{
    bool can_trace = run->trace && !cfg->crash.is_scope_main && !cfg->debug.enabled;
    struct filter_spec spec = {.policy = &run->policy,
                               .trace_exec = run->is_tracking && can_trace,
                               .can_trace = can_trace};
    int r;

    if (run->is_tracking && !can_trace)
        log_debug("track: failed execs are not recorded (crash.scope main or debug mode)");
    if (!run->policy.is_set && spec.trace_exec && !filter_is_loadable()) {
        log_warn("track: failed execs are not recorded: the exec filter needs CAP_SYS_ADMIN or "
                 "no_new_privs; grant the capability to record them");
        spec.trace_exec = false;
    }
    if (policy_needs_tracer(&run->policy) && !can_trace)
        log_warn("seccomp: \"report\" acts as its errno and \"log-only\" logs to the kernel's "
                 "audit log only: reports need the supervisor on the whole tree (crash.enabled, "
                 "crash.scope tree, no debug mode)");
    r = filter_build(&spec, &run->filter);
    if (r < 0)
        return r;
    if (run->trace)
        trace_set_filter(run->trace, &run->filter);
    if (run->filter.is_policy) {
        p->pre_exec = load_policy_filter;
        p->pre_exec_ctx = run;
    }
    return 0;
}

static void on_signal_event(struct run *run, const struct sigs_event *ev)
{
    if (ev->sig == SIGCHLD) {
        if (!run->trace)
            on_reap(run);
        return;
    }
    if (ev->sig == SIGALRM && ev->code == SI_KERNEL) {
        on_idle();
        return;
    }
    /* A signal wrapp raised against itself (SIGPIPE from a write...). */
    if (ev->pid == run->self && (ev->code == SI_USER || ev->code == SI_TKILL))
        return;
    if (sigs_is_forwardable(ev->sig))
        on_signal(run, ev->sig);
}

/* Signals when other sources share the loop: the signalfd is readable. */
static int on_signalfd(struct loop_source *src, uint32_t events)
{
    struct run *run = src->data;
    struct sigs_event ev[SIGS_BATCH];
    int n = sigs_read(run->sigs, ev, SIGS_BATCH);

    (void)events;
    if (n < 0)
        return log_error_errno(n, "reading signals failed");
    for (int i = 0; i < n; i++)
        on_signal_event(run, &ev[i]);
    return 0;
}

/* Signals when they are the loop's only source: wait for one directly. */
static int on_signal_wait(struct loop_source *src, int timeout_ms)
{
    struct run *run = src->data;
    struct sigs_event ev;
    int n = sigs_wait(run->sigs, &ev, timeout_ms);

    if (n < 0)
        return log_error_errno(n, "waiting for signals failed");
    if (n > 0)
        on_signal_event(run, &ev);
    return n;
}

static int on_grace(struct loop_timer *t)
{
    struct run *run = t->data;

    if (run->is_tree_killed) {
        /* Processes that survived SIGKILL (stuck in the kernel): stop waiting. */
        log_warn("processes still running %d ms after SIGKILL (stuck in the kernel?); "
                 "exiting anyway",
                 RUN_KILL_WAIT_MS);
        loop_quit(run->loop, 0);
        return 0;
    }
    if (run->state == RUN_STOPPING) {
        log_warn("app (pid %d) still running %u ms after the shutdown signal; sending SIGKILL "
                 "to every process (raise the grace period with -t if it needs longer)",
                 (int)run->child, run->cfg->init.grace_ms);
        run->state = RUN_KILLED;
    } else {
        log_warn("processes left by the app still running %u ms after SIGTERM; sending SIGKILL",
                 run->cfg->init.grace_ms);
    }
    kill_tree(run);
    return 0;
}

static int setup(struct run *run, const struct config *cfg, struct sigs *sigs)
{
    int r;

    memset(run, 0, sizeof(*run));
    run->cfg = cfg;
    run->sigs = sigs;
    run->self = getpid();
    run->is_pid1 = run->self == 1;
    run->reap.warn_on_reap = cfg->init.warn_on_reap;
    r = loop_new(&run->loop);
    if (r < 0)
        return r;
    run->sig_src = (struct loop_source){
        .fd = sigs->fd, .fn = on_signalfd, .wait = on_signal_wait, .data = run};
    r = loop_add(run->loop, &run->sig_src, EPOLLIN);
    if (r < 0)
        return r;
    loop_timer_init(run->loop, &run->grace, on_grace, run);
    return 0;
}

void run_finish_uploads(struct run *run, unsigned ms)
{
    int n;

    if (!run->has_core_target)
        return;
    n = coreup_wait(ms);
    if (n > 0)
        log_warn("%d core upload(s) to Redis still running after %u s: given up; the cores "
                 "stay in crash.dir",
                 n, ms / 1000);
    else
        rconn_target_fini(&run->core_target); /* a running upload still uses it */
    run->has_core_target = false;
}

int run_app(struct run *run, const struct config *cfg, struct sigs *sigs,
            const struct spawn_plan *plan, struct output *out)
{
    struct spawn_plan p = *plan;
    int r = setup(run, cfg, sigs);

    if (r >= 0 && policy_load(&cfg->seccomp, &run->policy) < 0) {
        run->exit_code = 2; /* checked by main before: a profile changed since */
        return 2;
    }
    if (r >= 0) {
        start_trace(run, cfg, out, &p);
        r = start_filter(run, cfg, &p);
        if (r < 0)
            log_error_errno(r, "seccomp: cannot build the filter");
    }
    if (r >= 0)
        r = spawn_start(&p, sigs, &run->child);
    if (r < 0) {
        log_error_errno(r, "cannot start the app");
        run->exit_code = SPAWN_EXIT_CANNOT;
    } else {
        run->reap.main_pid = run->child;
        run->is_own_session = !plan->take_tty && !plan->keep_pgrp;
        run->target = cfg->init.kill_process_group && !plan->keep_pgrp ? -run->child : run->child;
        sigs_set_forward_target(run->target);
        log_info("app \"%s\" started as pid %d", plan->argv[0], (int)run->child);
        /* Do not pin the directory wrapp was started in (the app has its own cwd). */
        if (chdir("/") < 0)
            log_debug_errno(neg_errno(), "chdir /");
        if (out) {
            output_started(out, run->child);
            r = capture_start(output_capture(out), run->loop);
            if (r < 0)
                log_warn_errno(r, "cannot watch the app's output");
        }
        if (run->trace) {
            int e = control_start(run->loop, run->trace, p.switch_ids ? p.uid : getuid(), NULL,
                                  &run->control);
            if (e < 0)
                log_debug_errno(e, "no control socket (wrapp snapshot)");
            if (out &&
                (e = ctlstream_start(cfg, run->trace, output_stream(out), &run->ctlstream)) < 0)
                log_debug_errno(e, "no control stream in Redis");
        }
        arm_idle();
        r = loop_run(run->loop);
        if (out)
            capture_drain(output_capture(out));
        if (r < 0)
            run->exit_code = run->exit_code ? run->exit_code : 1;
    }
    ctlstream_stop(run->ctlstream);
    run->ctlstream = NULL;
    run->control = control_stop(run->control);
    run->trace = trace_stop(run->trace);
    filter_fini(&run->filter);
    policy_fini(&run->policy);
    run->loop = loop_free(run->loop);
    if (run->exit_code >= 0 && run->exit_code < 256 &&
        config_remap_exit_has(&cfg->init, (unsigned)run->exit_code))
        return 0;
    return run->exit_code & 0xff;
}

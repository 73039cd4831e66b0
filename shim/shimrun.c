// SPDX-License-Identifier: MIT
/*
 * Supervised shims (see shimrun.h): the same order of start-up as an init
 * in main.c (inherited fds, signals, plan, output, run), with the plan's
 * argv[0] set back to the caller's. The tool's stdout/stderr stay the
 * caller's fds unless the registration asks for capture to Redis.
 */
#include "shimrun.h"

#include "clock.h"
#include "log.h"
#include "output.h"
#include "run.h"
#include "sigs.h"
#include "spawn.h"
#include "strv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* app.executable = the real binary, app.args = the rest of argv. */
static int plan_call(struct config *cfg, const struct shimlog_call *l, struct spawn_plan *plan)
{
    size_t argc = strv_len(l->argv);
    char *argv0;
    int r;

    if (config_set_str(&cfg->app.executable, l->real) < 0 ||
        config_set_args(&cfg->app, argc > 0 ? l->argv + 1 : l->argv, argc > 0 ? argc - 1 : 0) < 0)
        return -ENOMEM;
    r = spawn_plan_build(cfg, "/etc", plan);
    if (r < 0)
        return r;
    /* The caller's argv[0], not the real binary's hidden name. */
    argv0 = strdup(argc > 0 ? l->argv[0] : "");
    if (!argv0) {
        spawn_plan_fini(plan);
        return -ENOMEM;
    }
    free(plan->argv[0]);
    plan->argv[0] = argv0;
    /* In the caller's process group, as the tool itself would be. */
    plan->take_tty = false;
    plan->keep_pgrp = true;
    return 0;
}

static void run_it(const struct shimreg *reg, struct config *cfg, struct sigs *sigs,
                   struct spawn_plan *plan, struct shimlog_call *l)
{
    struct output *out = NULL;
    struct run run;

    if (cfg->redis.is_set && output_open(cfg, &out) < 0)
        out = NULL; /* logged; the tool runs regardless */
    if (out && reg->capture)
        output_plan(out, plan);
    run_app(&run, cfg, sigs, plan, out);
    run_finish_uploads(&run, RUN_UPLOAD_WAIT_MS);
    if (out)
        output_finish(out, run.exit_code);
    output_close(out);
    l->end_us = clock_real_us();
    if (run.reap.has_main_exited) {
        l->has_status = true;
        l->status = run.reap.main_status;
        l->pid = run.child;
    } else {
        /* Not started (logged by spawn): end like a shell would. */
        l->has_status = true;
        l->status = (run.exit_code & 0xff) << 8;
    }
}

int shimrun_supervised(const struct shimreg *reg, struct config *cfg, struct shimlog_call *l)
{
    struct spawn_plan plan = {0};
    struct sigs sigs;
    int *handover = NULL, r;
    size_t n_handover = 0;

    r = spawn_inherited_fds(&handover, &n_handover);
    if (r < 0)
        return log_error_errno(r, "shim %s: cannot list the inherited file descriptors", l->tool);
    r = sigs_setup(&sigs);
    if (r < 0) {
        free(handover);
        return log_error_errno(r, "shim %s: cannot set up signal handling", l->tool);
    }
    if (cfg->init.log_level >= 0)
        log_set_level(cfg->init.log_level);
    r = plan_call(cfg, l, &plan);
    if (r < 0) {
        free(handover);
        sigs_fini(&sigs);
        return r == -ENOMEM ? log_error_errno(r, "shim %s", l->tool) : r;
    }
    plan.handover_fds = handover;
    plan.n_handover = n_handover;
    run_it(reg, cfg, &sigs, &plan, l);
    spawn_plan_fini(&plan);
    sigs_fini(&sigs);
    free(handover);
    return 0;
}

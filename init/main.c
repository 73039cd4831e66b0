// SPDX-License-Identifier: MIT
/*
 * wrapp's entry point: wires the modules together and owns the order of
 * start-up (signals first, before anything else; then command line and
 * config; then process attributes; then the run). No logic of its own.
 */
#include "cli.h"
#include "config.h"
#include "log.h"
#include "run.h"
#include "sigs.h"
#include "spawn.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

static void set_process_attrs(const struct config *cfg)
{
    if (cfg->init.pdeathsig > 0 && prctl(PR_SET_PDEATHSIG, cfg->init.pdeathsig) < 0)
        log_warn_errno(-errno, "cannot set the parent-death signal %d", cfg->init.pdeathsig);
    if (getpid() == 1 || !cfg->init.subreaper)
        return;
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        log_warn_errno(-errno, "not PID 1 and cannot become a subreaper, so orphans of the app "
                               "will not be reaped by wrapp; run wrapp as PID 1");
    else
        log_debug("not PID 1: registered as a subreaper");
}

int main(int argc, char **argv)
{
    struct sigs sigs;
    struct config cfg;
    struct spawn_plan plan = {0};
    struct run run;
    int r, code;

    r = sigs_setup(&sigs);
    if (r < 0) {
        log_error_errno(r, "cannot set up signal handling");
        return 1;
    }
    config_init(&cfg);
    r = cli_parse(argc, argv, environ, &cfg);
    if (r != CLI_RUN) {
        config_fini(&cfg);
        return r == CLI_EXIT_OK ? 0 : CLI_EXIT_USAGE;
    }
    if (cfg.redis.is_set)
        log_warn("redis is configured, but this build has no Redis sink yet: the app's output "
                 "goes to wrapp's stdout/stderr");
    set_process_attrs(&cfg);
    r = spawn_plan_build(&cfg, "/etc", &plan);
    if (r < 0) {
        config_fini(&cfg);
        return CLI_EXIT_USAGE;
    }
    code = run_app(&run, &cfg, &sigs, &plan);
    spawn_plan_fini(&plan);
    config_fini(&cfg);
    sigs_fini(&sigs);
    return code;
}

// SPDX-License-Identifier: MIT
/*
 * wrapp's entry point: wires the modules together and owns the order of
 * start-up (signals first, before anything else; then command line and
 * config; then process attributes; then the run). No logic of its own.
 */
#include "cli.h"
#include "config.h"
#include "control.h"
#include "coreget.h"
#include "crashes.h"
#include "filter.h"
#include "log.h"
#include "macro.h"
#include "output.h"
#include "ps.h"
#include "run.h"
#include "shim.h"
#include "sigs.h"
#include "spawn.h"
#include "tail.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
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

static void on_stop_signal(int sig)
{
    _exit(128 + sig);
}

/* An operator command run as PID 1 (a reader container's `wrapp logs -f`):
 * the kernel drops signals PID 1 has no handler for, so stop signals get
 * one that ends the command as their default action would. */
static void operator_signals(void)
{
    static const int stops[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};

    if (getpid() != 1)
        return;
    for (size_t i = 0; i < ARRAY_SIZE(stops); i++)
        signal(stops[i], on_stop_signal);
}

int main(int argc, char **argv)
{
    struct sigs sigs;
    struct config cfg;
    struct spawn_plan plan = {0};
    struct run run;
    struct output *out = NULL;
    int *handover = NULL, r, code;
    size_t n_handover = 0;

    /* A registered shim runs the real tool; "wrapp shim ..." manages shims. */
    if ((r = shim_main(argc, argv)) >= 0)
        return r;
    /* Operator commands: not an init, so no signal set-up. An app called
     * "logs" or "crashes" runs as "wrapp -- logs". */
    if (argc > 1 && (strcmp(argv[1], "logs") == 0 || strcmp(argv[1], "crashes") == 0 ||
                     strcmp(argv[1], "snapshot") == 0 || strcmp(argv[1], "core") == 0 ||
                     strcmp(argv[1], "ps") == 0))
        operator_signals();
    if (argc > 1 && strcmp(argv[1], "logs") == 0)
        return tail_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "crashes") == 0)
        return crashes_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "snapshot") == 0)
        return control_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "core") == 0)
        return coreget_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "ps") == 0)
        return ps_main(argc - 1, argv + 1);
    /* Before wrapp opens anything: which fds are the app's to inherit. */
    r = spawn_inherited_fds(&handover, &n_handover);
    if (r < 0) {
        log_error_errno(r, "cannot list the inherited file descriptors");
        return 1;
    }
    r = sigs_setup(&sigs);
    if (r < 0) {
        log_error_errno(r, "cannot set up signal handling");
        return 1;
    }
    config_init(&cfg);
    r = cli_parse(argc, argv, environ, &cfg);
    if (r == CLI_RUN && filter_check(&cfg.seccomp) < 0)
        r = CLI_EXIT_USAGE; /* the problem is logged */
    if (r != CLI_RUN) {
        free(handover);
        config_fini(&cfg);
        return r == CLI_EXIT_OK ? 0 : CLI_EXIT_USAGE;
    }
    set_process_attrs(&cfg);
    r = spawn_plan_build(&cfg, "/etc", &plan);
    if (r < 0) {
        free(handover);
        config_fini(&cfg);
        return CLI_EXIT_USAGE;
    }
    if (cfg.redis.is_set) {
        r = output_open(&cfg, &out);
        if (r < 0) {
            free(handover);
            spawn_plan_fini(&plan);
            config_fini(&cfg);
            return r == -ETIMEDOUT ? 1 : CLI_EXIT_USAGE;
        }
        output_plan(out, &plan);
    }
    plan.handover_fds = handover;
    plan.n_handover = n_handover;
    code = run_app(&run, &cfg, &sigs, &plan, out);
    run_finish_uploads(&run, RUN_UPLOAD_WAIT_MS);
    if (out)
        output_finish(out, run.exit_code);
    out = output_close(out);
    spawn_plan_fini(&plan);
    config_fini(&cfg);
    sigs_fini(&sigs);
    free(handover);
    return code;
}

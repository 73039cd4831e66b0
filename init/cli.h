// SPDX-License-Identifier: MIT
/*
 * The command line and the environment. Two forms: the Go wrapp's
 * "wrapp CONFIG.json" and tini's "wrapp [options] [--] CMD [ARG...]",
 * with tini's flags and variables meaning what they mean to tini.
 * Precedence: defaults < config file < environment < options. Main
 * thread, at start-up only.
 */
#pragma once

#include "config.h"

#define CLI_EXIT_USAGE 2 /* bad usage or config: nothing was started */

enum cli_action {
    CLI_RUN,     /* cfg is complete: run it */
    CLI_EXIT_OK, /* --help/--version printed */
};

/* Parse argv (and envp, NULL-terminated "K=V") into cfg, loading the
 * config file named by the command line or WRAPP_CONFIG. Logs or prints
 * every problem; returns a cli_action, or -EINVAL (exit CLI_EXIT_USAGE)
 * / -ENOMEM. */
int cli_parse(int argc, char **argv, char **envp, struct config *cfg);

/* Apply the WRAPP_* and TINI_* variables of envp to cfg (0 or -EINVAL,
 * logged). Used by cli_parse and by the operator commands. */
int cli_apply_env(char **envp, struct config *cfg);

/* Is path the Go form's config (ends in ".json", or a non-executable
 * regular file starting with '{')? */
bool cli_is_config_file(const char *path);

/* Print the usage text to stdout (help) or stderr. */
void cli_usage(int fd);

// SPDX-License-Identifier: MIT
/*
 * Shared pieces of the unit tests: one suite constructor per module and a
 * stderr capture (a memfd dup'ed over fd 2) so tests assert on wrapp's
 * exact diagnostics. Each Check test runs in its own forked process.
 */
#pragma once

#include <check.h>

Suite *config_suite(void);
Suite *cli_suite(void);
Suite *spawn_suite(void);
Suite *users_suite(void);
Suite *signame_suite(void);
Suite *tree_suite(void);
Suite *loop_suite(void);
Suite *log_suite(void);
Suite *lines_suite(void);
Suite *marker_suite(void);
Suite *spool_suite(void);
Suite *record_suite(void);
Suite *rconn_suite(void);
Suite *pidmap_suite(void);
Suite *control_suite(void);
Suite *unwind_suite(void);
Suite *report_suite(void);
Suite *procinfo_suite(void);
Suite *core_suite(void);
Suite *coreup_suite(void);
Suite *cluster_suite(void);

/* Start capturing fd 2; unit_stderr_end() returns what was written
 * (static buffer, NUL-terminated) and restores fd 2. */
void unit_stderr_begin(void);
const char *unit_stderr_end(void);

/* A fresh temporary directory (static buffer). */
const char *unit_tmpdir(void);

/* Write text to dir/name. */
void unit_write_file(const char *dir, const char *name, const char *text);

// SPDX-License-Identifier: MIT
/*
 * A shim under wrapp's supervision (registration "supervise": true): the
 * real binary runs through wrapp's ordinary run path (init/run.c) with the
 * shim's wrapp config, so its crashes are captured and reported like an
 * app's. Like any app wrapp runs, the tool gets a process group of its own
 * (the terminal's foreground when the caller had it) and processes it
 * leaves behind are ended at its exit; the exit status and death by signal
 * still reach the caller exactly. Main thread of a shim only.
 */
#pragma once

#include "config.h"
#include "shimlog.h"
#include "shimreg.h"

/* Run l->real with l->argv (argv[0] as the caller passed it) under
 * supervision, with cfg (borrowed; app.executable and args are set here).
 * On return l->status/has_status/end_us are set when the tool ran.
 * Returns 0, or -errno when nothing could be started (logged). */
int shimrun_supervised(const struct shimreg *reg, struct config *cfg, struct shimlog_call *l);

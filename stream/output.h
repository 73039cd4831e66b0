// SPDX-License-Identifier: MIT
/*
 * The app's output to Redis, assembled: the target, the spool, the sink,
 * the capture of stdout/stderr, wrapp's own messages to :status/:error, and
 * the run markers ({{__NEW_RUN_...}} / {{__END_RUN_..._exit_N}}) that
 * bracket every run, failed starts and SIGTERM included. main() calls it
 * in order: open, plan, started, finish, close. Main thread only.
 */
#pragma once

#include "capture.h"
#include "config.h"
#include "spawn.h"

#include <sys/types.h>

#define OUTPUT_SPOOL_DIR      "/var/lib/wrapp/spool"
#define OUTPUT_SPOOL_FALLBACK "/tmp/wrapp-spool"

struct output;

/* Connect the pieces and write the start marker. Logs its own errors:
 * -EINVAL (bad URL...) is a config error; -ETIMEDOUT when
 * redis.wait_at_start_seconds ran out (the Go behaviour: exit 1). */
int output_open(const struct config *cfg, struct output **ret);

/* Route the app's stdout/stderr into the capture pipes. */
void output_plan(struct output *o, struct spawn_plan *p);

/* The capture, for the run's loop. */
struct capture *output_capture(struct output *o);

/* The app runs as pid. */
void output_started(struct output *o, pid_t pid);

/* The app's last lines (for crash reports); any thread. */
struct recent *output_recent(struct output *o);

/* Any thread: let the capture catch up with what the app wrote (see
 * capture_settle). Takes NULL. */
void output_settle(struct output *o, unsigned timeout_ms);

/* A crash report to logs:app:<stream>:crash: message = text (the readable
 * backtrace), report = json, signal = its name. Any thread; never blocks. */
void output_crash(struct output *o, const char *text, const char *json, const char *signal);

/* A process tracking record to logs:app:<stream>:proc: message = text
 * (one line), event = "exec"/"exit", json = the record. Any thread; never
 * blocks; a full queue drops it (counted by the sink). Takes NULL o. */
void output_proc(struct output *o, const char *text, const char *event, const char *json);

/* A seccomp violation (crash/violation.h) to logs:app:<stream>:error:
 * message = text, kind = "seccomp", report = json. Any thread; never
 * blocks. Takes NULL o. */
void output_violation(struct output *o, const char *text, const char *json);

/* One line to logs:app:<stream>:status. Any thread; never blocks; NULL o. */
void output_status(struct output *o, const char *text);

/* The stream name (for reports). */
const char *output_stream(const struct output *o);

/* The run is over: "Executable exited with code N." and the end marker. */
void output_finish(struct output *o, int exit_code);

/* Flush (for at most output.flush_seconds), stop, free. Takes NULL. */
struct output *output_close(struct output *o);

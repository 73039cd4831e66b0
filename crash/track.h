// SPDX-License-Identifier: MIT
/*
 * Process tracking (track.enabled): one record per exec and per process
 * exit in the supervised tree, handed as a one-line summary plus a JSON
 * record to a callback (run.c queues both to the :proc stream). Owns a
 * bounded table of start times (pid -> when it was forked or exec'd); it
 * does not trace anything itself: trace.c calls the hooks from its events.
 * Supervisor thread only. Every hook takes a NULL tracker (tracking off)
 * and then costs one test.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct rusage;

#define TRACK_PROCS_MAX   65536 /* start times kept; beyond, durations are unknown */
#define TRACK_ARG_MAX     1024  /* bytes kept of each argument */
#define TRACK_ARGS_MAX    65536 /* the highest track.max_args */
#define TRACK_SUMMARY_MAX 2048  /* bytes of the one-line summary, cut with "..." */
#define TRACK_PENDING_MAX 1024  /* processes between their exit stop and exit */
#define TRACK_EARLY_MAX   64    /* exits remembered that came before their fork */

/* A finished record: event is "exec" or "exit", text the summary, json
 * the structured record (all borrowed for the call). Called in the supervisor's thread; must
 * not block (sink_line does not). */
typedef void (*track_emit_fn)(void *ctx, const char *event, const char *text, const char *json);

struct track_opts {
    int max_args;        /* argv entries kept per exec (1..TRACK_ARGS_MAX) */
    const char *file;    /* also appended to, one JSON record per line; NULL: none */
    char *const *redact; /* option names whose values are hidden; NULL: defaults */
    track_emit_fn emit;
    void *ctx;
};

struct track;

/* Returns 0 or -ENOMEM, -EINVAL (no emit); *ret owned (track_free). */
int track_new(const struct track_opts *o, struct track **ret);

/* pid was just forked: its lifetime starts now. */
void track_fork(struct track *t, pid_t pid);

/* pid (stopped at its exec event) has exec'd: emit the exec record from
 * /proc/PID (exe, cmdline, cwd, status). A process gone meanwhile gives a
 * record with what could be read. */
void track_exec(struct track *t, pid_t pid);

/* Thread tid of process pid, stopped at the seccomp stop of an execve or
 * execveat, tries path (an address in its memory) with argv (the
 * address of its argv array). */
void track_exec_try(struct track *t, pid_t pid, pid_t tid, uint64_t path, uint64_t argv);

/* That attempt returned the error err (> 0): if the process exits
 * without a successful exec, its exit is preceded by an exec_failed
 * record. */
void track_exec_failed(struct track *t, pid_t pid, int err);

/* pid (a process, stopped at its exit event) is exiting: note the shared
 * objects it has loaded (path, build-id) for its exit record. */
void track_exit_stop(struct track *t, pid_t pid);

/* Process pid (child of ppid, 0: unknown) has exited with wait status
 * status: emit the exit record, with ru's CPU times and max RSS (NULL:
 * unknown). */
void track_exit(struct track *t, pid_t pid, pid_t ppid, int status, const struct rusage *ru);

/* Free everything; takes NULL, returns NULL. */
struct track *track_free(struct track *t);

// SPDX-License-Identifier: MIT
/*
 * Seccomp violations seen by the supervisor: a call the policy's "report"
 * or "log-only" action stopped at the supervisor (filter.h). Each one
 * becomes a one-line message ("seccomp: mkdir(\"/x\", 0x1ed) denied in
 * app (tid 7) at make_dir") with a JSON report (syscall, arguments,
 * thread, backtrace) handed to a callback; the same call from the same
 * place again within VIOLATION_QUIET_MS is only counted, and the count
 * goes out with the next report or at the end. At the end, log-only also
 * gives a summary of the syscalls the policy would have blocked, and a
 * policy allowing exactly what ran, to paste into the config.
 * Supervisor thread only (violation_finish: any thread, after it).
 */
#pragma once

#include "config.h"
#include "policy.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define VIOLATION_QUIET_MS 10000
#define VIOLATION_KEYS_MAX 1024 /* distinct (syscall, place) pairs followed */

/* One call the policy acted on. */
struct violation_call {
    uint32_t arch; /* AUDIT_ARCH_* (libseccomp's SCMP_ARCH_*) */
    int nr;
    uint64_t args[6];
    uint64_t ip;               /* the instruction after the syscall */
    enum policy_action action; /* POLICY_REPORT, POLICY_LOG or POLICY_KILL */
    int err;                   /* POLICY_REPORT: what the call returns */
};

/* A report: text (one line) and json, borrowed for the call. */
typedef void (*violation_emit_fn)(void *ctx, const char *text, const char *json);
/* The end-of-run summary line(s), borrowed for the call. */
typedef void (*violation_summary_fn)(void *ctx, const char *text);

struct violation_opts {
    const struct config_crash *cfg; /* max_frames, system_lines */
    const struct policy *policy;    /* its allow rules join the generated allow-list */
    violation_emit_fn emit;
    violation_summary_fn summary;
    void *ctx;
};

struct violations;

/* 0 or -ENOMEM; *ret owned (violation_free). */
int violation_new(const struct violation_opts *o, struct violations **ret);

/* tid of process pid is stopped after making call c: at the seccomp stop
 * of a "report" (the call will fail) or "log-only" action (it goes on),
 * or at its exit stop after "kill". Report or count it. The caller
 * resumes the thread. */
void violation_seen(struct violations *v, pid_t pid, pid_t tid, const struct violation_call *c);

/* Does the policy kill on any call? Takes NULL (false). */
bool violation_has_kill(const struct violations *v);

/* Does the policy kill on call nr (SIGSYS, at its exit stop)? */
bool violation_is_kill(const struct violations *v, int nr);

/* The counts not reported yet, and log-only's summary. */
void violation_finish(struct violations *v);

/* Takes NULL; returns NULL. */
struct violations *violation_free(struct violations *v);

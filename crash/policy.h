// SPDX-License-Identifier: MIT
/*
 * The app's seccomp policy, from the config's `seccomp` section and its
 * optional profile file: a default action and rules by syscall name, each
 * with an action and optional argument conditions. Names are resolved for
 * the running architecture by libseccomp; anything wrong (an unknown
 * syscall, action or errno, a bad condition) is one line naming the rule
 * and the reason, and -EINVAL: a config error, before anything starts.
 * filter.h turns a policy into a BPF program.
 *
 * Actions: "allow"; "errno:ENAME" (fail with that errno; "errno" alone is
 * EPERM); "kill" (the process dies of SIGSYS, which the crash supervisor
 * reports with every thread's backtrace); "report[:ENAME]" (fail with the
 * errno and report the call with the thread's backtrace); "log-only"
 * (allow and report: an audit mode).
 */
#pragma once

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLICY_NAME_MAX  64
#define POLICY_CONDS_MAX 6
#define POLICY_RULES_MAX 1024

enum policy_action { POLICY_ALLOW, POLICY_ERRNO, POLICY_KILL, POLICY_REPORT, POLICY_LOG };

/* Condition ops, as libseccomp's enum scmp_compare numbers them. */
struct policy_cond {
    unsigned arg; /* 0..5 */
    int op;       /* SCMP_CMP_* */
    uint64_t value;
    uint64_t mask; /* for SCMP_CMP_MASKED_EQ: (arg & mask) == value */
};

struct policy_rule {
    char name[POLICY_NAME_MAX];
    int nr; /* for the native architecture */
    enum policy_action action;
    int err; /* POLICY_ERRNO, POLICY_REPORT */
    struct policy_cond conds[POLICY_CONDS_MAX];
    unsigned n_conds;
};

struct policy {
    bool is_set; /* a default or a rule was given */
    enum policy_action def;
    int def_err;
    struct policy_rule *rules;
    size_t n_rules;
};

/* Read c (and its profile) into *p. 0 (p->is_set false when there is no
 * policy), -EINVAL after logging the problem, -ENOMEM. */
int policy_load(const struct config_seccomp *c, struct policy *p);

/* Parse one action ("errno:EACCES"); -EINVAL when it is not one. */
int policy_parse_action(const char *s, enum policy_action *ret, int *ret_err);

/* Does the policy send anything to the supervisor (report, log-only)? */
bool policy_needs_tracer(const struct policy *p);

/* Does it kill on some call (or by default)? */
bool policy_has_kill(const struct policy *p);

/* "report", "log-only"... */
const char *policy_action_name(enum policy_action a);

void policy_fini(struct policy *p);

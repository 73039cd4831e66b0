// SPDX-License-Identifier: MIT
/*
 * The seccomp filter the supervised app starts under. Built in wrapp with
 * libseccomp, kept as a classic BPF program in wrapp's memory, and loaded
 * by the app's child with raw syscalls only (the child shares wrapp's
 * memory until execve). It holds the app's policy (policy.h) and, with
 * process tracking, a rule that stops execve and execveat at the
 * supervisor so a failed exec can be recorded.
 * A SECCOMP_RET_TRACE action makes the syscall fail with ENOSYS in a
 * process that is not traced with PTRACE_O_TRACESECCOMP, so trace actions
 * are only used when the supervisor follows the whole tree (can_trace);
 * otherwise "report" falls back to its errno and "log-only" to the
 * kernel's audit log (SECCOMP_RET_LOG).
 * Where it is loaded: a policy filter just before execve, after the user
 * switch, with no_new_privs (as a container runtime does); a tracking-only
 * filter right after the supervisor seized the child, without
 * no_new_privs (so setuid programs in the tree keep working), which needs
 * CAP_SYS_ADMIN or no_new_privs already set.
 */
#pragma once

#include "policy.h"

#include <linux/filter.h>
#include <stdbool.h>

/* SECCOMP_RET_DATA of the trace actions: the kind, and an errno. */
#define FILTER_EXEC    0x1000
#define FILTER_REPORT  0x2000 /* | the errno to fail with */
#define FILTER_LOG     0x3000
#define FILTER_KIND(d) ((d)&0xf000)
#define FILTER_ERR(d)  ((d)&0x0fff)

struct filter_spec {
    const struct policy *policy; /* NULL or not is_set: none */
    bool trace_exec;
    bool can_trace; /* the supervisor follows every process of the tree */
};

struct filter {
    struct sock_fprog prog;     /* .filter owned; len 0: no filter */
    struct sock_fprog untraced; /* with has_trace: what a child that could not be
                                   seized loads instead (no trace actions) */
    bool is_policy;             /* load late, with no_new_privs */
    bool has_trace;             /* prog has SECCOMP_RET_TRACE actions */
};

/* Build the filter for spec. Returns 0 (f->prog.len 0 when there is
 * nothing to filter), -EINVAL after logging which rule libseccomp
 * refused, or -errno. */
int filter_build(const struct filter_spec *spec, struct filter *f);

/* Is the policy in c (and its profile) usable: it loads, and libseccomp
 * takes every rule? 0, or -EINVAL / -ENOMEM after logging the problem (a
 * config error, before anything starts). */
int filter_check(const struct config_seccomp *c);

/* Can this process's children load a filter without no_new_privs?
 * no_new_privs already set, or CAP_SYS_ADMIN. */
bool filter_is_loadable(void);

/* In the child: raw syscalls only. with_nnp sets no_new_privs first;
 * is_traced says whether the supervisor seized it (else the untraced
 * program is loaded). 0 or -errno. */
int filter_load(const struct filter *f, bool with_nnp, bool is_traced);

void filter_fini(struct filter *f);

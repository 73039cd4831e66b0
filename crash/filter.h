// SPDX-License-Identifier: MIT
/*
 * The seccomp filter the supervised app starts under. Built in wrapp with
 * libseccomp (which resolves syscall names for the running architecture),
 * kept as a classic BPF program in wrapp's memory, and loaded by the app's
 * child between clone and execve with one raw syscall, so the child (which
 * shares wrapp's memory until execve) calls nothing else. Today's rule:
 * execve and execveat stop at the supervisor (SECCOMP_RET_TRACE with
 * FILTER_DATA_EXEC) so that a failed exec can be recorded; everything else
 * is allowed.
 * A SECCOMP_RET_TRACE rule makes the syscall fail with ENOSYS in a process
 * that is not traced with PTRACE_O_TRACESECCOMP: the filter is only for a
 * tree the supervisor follows whole (crash.scope "tree") and never hands
 * to another tracer.
 */
#pragma once

#include <linux/filter.h>
#include <stdbool.h>

#define FILTER_DATA_EXEC 1 /* SECCOMP_RET_DATA of the exec rule */

struct filter {
    struct sock_fprog prog; /* .filter owned; len 0: no filter */
};

/* Build the filter: trace_exec adds the exec rule. Returns 0 or -errno;
 * *f is then loadable (filter_fini frees it). */
int filter_build(bool trace_exec, struct filter *f);

/* Can this process's children load a filter? Needs no_new_privs already
 * set or CAP_SYS_ADMIN (setting no_new_privs would break setuid programs
 * in the app's tree, so the filter never sets it). */
bool filter_is_loadable(void);

/* In the child before execve: raw syscall only. 0 or -errno. */
int filter_load(const struct filter *f);

void filter_fini(struct filter *f);

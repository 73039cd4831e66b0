// SPDX-License-Identifier: MIT
/*
 * Starting the application. spawn_plan_build() does everything that can
 * allocate or fail politely before fork: PATH lookup, argv, envp, user and
 * groups, cwd, whether to take the terminal. spawn_start() clones with
 * vfork semantics (no copy of wrapp's memory); the child only calls
 * async-signal-safe functions, leaves a failed set-up or exec in shared
 * memory and exits 127 (not found) or 126 (cannot run).
 * Main thread only.
 */
#pragma once

#include "config.h"
#include "sigs.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SPAWN_DEFAULT_PATH  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define SPAWN_EXIT_NOTFOUND 127
#define SPAWN_EXIT_CANNOT   126
#define SPAWN_HANDOVER_MAX  1027  /* inherited fds above are left alone */
#define SPAWN_STACK_SIZE    32768 /* the child's stack before execve */

struct spawn_plan {
    char *path;      /* resolved executable, NULL if the lookup failed */
    int lookup_err;  /* -ENOENT/-EACCES when path is NULL */
    char **argv;     /* argv[0] = app.executable as written; owned */
    char **sh_argv;  /* /bin/sh fallback for ENOEXEC (like execvp); owned */
    char **envp;     /* owned */
    bool switch_ids; /* setgroups/setgid/setuid before exec */
    uid_t uid;
    gid_t gid;
    gid_t *groups;
    size_t n_groups;
    char *user_label; /* for messages: "archer (1000:1000)" */
    char *workdir;
    bool take_tty;           /* make the child the foreground process group */
    bool keep_pgrp;          /* stay in wrapp's process group and session (a shim) */
    int out_fd;              /* dup'ed onto the child's stdout; -1: inherited */
    int err_fd;              /* dup'ed onto the child's stderr; -1: inherited */
    const int *handover_fds; /* inherited fds closed in wrapp once the app has them */
    size_t n_handover;
    /* Called first thing in the child, before any set-up (async-signal-safe,
     * on wrapp's memory): the crash supervisor's seize handshake. */
    void (*child_hook)(void *ctx);
    void *child_hook_ctx;
    /* Called last in the child, just before execve, under the same rules:
     * the seccomp policy's filter. A negative errno fails the start. */
    int (*pre_exec)(void *ctx);
    void *pre_exec_ctx;
};

/* Build the plan from the config and the current environment (environ).
 * etc is where passwd/group live ("/etc"). Logs its own errors (unknown
 * user...). Returns 0 or -errno. A failed PATH lookup is not an error
 * here: the child reports it, so the run ends like any failed start. */
int spawn_plan_build(const struct config *c, const char *etc, struct spawn_plan *ret);

void spawn_plan_fini(struct spawn_plan *p);

/* Fork and exec. On success *ret_pid is the child (even when its exec
 * failed: it then exits 126/127 after wrapp logged why). -errno if clone
 * itself failed. */
int spawn_start(const struct spawn_plan *p, const struct sigs *s, pid_t *ret_pid);

/* The fds in [3, SPAWN_HANDOVER_MAX) wrapp was started with. Call first thing in main, before wrapp
 * opens any fd. The app inherits them; spawn_start closes wrapp's copies, so wrapp never holds a
 * socket or pipe end that was meant for the app. *ret is owned. */
int spawn_inherited_fds(int **ret, size_t *ret_n);

/* Exposed for tests: the environment for the child: base, then the
 * user's HOME/USER/LOGNAME (when name/home given), then overrides
 * ("K=V" sets, "K" unsets). Returns 0 or -ENOMEM; *ret is owned. */
int spawn_build_env(char *const *base, const char *name, const char *home, char *const *overrides,
                    char ***ret);

/* Exposed for tests: PATH search like execvp. Returns 0 with *ret owned,
 * -ENOENT or -EACCES. */
int spawn_lookup(const char *file, const char *path_env, char **ret);

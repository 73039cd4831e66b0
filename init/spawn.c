// SPDX-License-Identifier: MIT
/*
 * Starting the application (see spawn.h). Between fork and exec the child
 * touches only the prebuilt plan, makes raw id syscalls (no glibc setxid
 * broadcast) and reports failures as {stage, errno} over a CLOEXEC pipe,
 * which the parent turns into one log line naming the program and the fix.
 */
#include "spawn.h"

#include "fdio.h"
#include "log.h"
#include "macro.h"
#include "strv.h"
#include "users.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

enum stage {
    STAGE_LOOKUP,
    STAGE_GROUPS,
    STAGE_GID,
    STAGE_UID,
    STAGE_VERIFY,
    STAGE_CHDIR,
    STAGE_FILTER,
    STAGE_EXEC
};

struct child_err {
    int stage;
    int err; /* positive errno */
};

static bool same_name(const char *a, const char *b)
{
    size_t n = strcspn(a, "=");

    return strncmp(a, b, n) == 0 && (b[n] == '=' || b[n] == '\0');
}

/* Set ("K=V") or unset ("K") one variable in v (n entries, room for one more). */
static int env_apply(char **v, size_t *n, const char *kv)
{
    char *copy = NULL;
    size_t i;

    if (strchr(kv, '=')) {
        copy = strdup(kv);
        if (!copy)
            return -ENOMEM;
    }
    for (i = 0; i < *n && !same_name(kv, v[i]); i++)
        ;
    if (i < *n) {
        free(v[i]);
        if (copy) {
            v[i] = copy;
            return 0;
        }
        memmove(v + i, v + i + 1, (*n - i) * sizeof(*v));
        (*n)--;
        return 0;
    }
    if (copy)
        v[(*n)++] = copy;
    v[*n] = NULL;
    return 0;
}

static int env_set(char **v, size_t *n, const char *key, const char *value)
{
    cleanup_free char *kv = NULL;

    if (asprintf(&kv, "%s=%s", key, value) < 0)
        return -ENOMEM;
    return env_apply(v, n, kv);
}

int spawn_build_env(char *const *base, const char *name, const char *home, char *const *overrides,
                    char ***ret)
{
    size_t n = 0, cap = strv_len(base) + strv_len(overrides) + 4;
    char **v = calloc(cap, sizeof(*v));
    int r = 0;

    if (!v)
        return -ENOMEM;
    for (size_t i = 0; base && base[i] && r == 0; i++)
        r = env_apply(v, &n, base[i]);
    if (home && r == 0)
        r = env_set(v, &n, "HOME", home);
    if (name && r == 0)
        r = env_set(v, &n, "USER", name);
    if (name && r == 0)
        r = env_set(v, &n, "LOGNAME", name);
    for (size_t i = 0; overrides && overrides[i] && r == 0; i++)
        r = env_apply(v, &n, overrides[i]);
    if (r < 0) {
        strv_free(v);
        return r;
    }
    *ret = v;
    return 0;
}

/* 0 if path is a regular file we may execute, -EACCES if it exists but
 * is not, -ENOENT if it does not exist. */
static int check_exec(const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -EACCES;
    if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0)
        return -EACCES;
    return 0;
}

int spawn_lookup(const char *file, const char *path_env, char **ret)
{
    const char *p = path_env ? path_env : SPAWN_DEFAULT_PATH;
    int best = -ENOENT;

    if (!*file)
        return -ENOENT;
    if (strchr(file, '/')) {
        int r = check_exec(file);
        if (r < 0)
            return r;
        *ret = strdup(file);
        return *ret ? 0 : -ENOMEM;
    }
    for (;;) {
        size_t len = strcspn(p, ":");
        char *cand = NULL;
        int r;
        /* An empty PATH element means the current directory. */
        if (asprintf(&cand, "%.*s/%s", (int)(len ? len : 1), len ? p : ".", file) < 0)
            return -ENOMEM;
        r = check_exec(cand);
        if (r == 0) {
            *ret = cand;
            return 0;
        }
        free(cand);
        if (r == -EACCES)
            best = r;
        if (p[len] == '\0')
            return best;
        p += len + 1;
    }
}

static int build_argv(const struct config *c, struct spawn_plan *p)
{
    size_t n = c->app.n_args;

    p->argv = calloc(n + 2, sizeof(char *));
    p->sh_argv = calloc(n + 3, sizeof(char *));
    if (!p->argv || !p->sh_argv)
        return -ENOMEM;
    p->argv[0] = strdup(c->app.executable ? c->app.executable : "");
    p->sh_argv[0] = strdup("/bin/sh");
    p->sh_argv[1] = strdup(p->path ? p->path : p->argv[0] ? p->argv[0] : "");
    if (!p->argv[0] || !p->sh_argv[0] || !p->sh_argv[1])
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        p->argv[i + 1] = strdup(c->app.args[i]);
        p->sh_argv[i + 2] = strdup(c->app.args[i]);
        if (!p->argv[i + 1] || !p->sh_argv[i + 2])
            return -ENOMEM;
    }
    return 0;
}

/* Resolve ids; decide whether a switch happens at all. */
static int plan_ids(const struct config *c, const char *etc, struct users_ids *ids,
                    struct spawn_plan *p)
{
    int r;

    if (!c->app.user && !c->app.group)
        return 0;
    r = users_resolve(etc, c->app.user, c->app.group, ids);
    if (r < 0)
        return r;
    if (asprintf(&p->user_label, "%s (%u:%u)", c->app.user ? c->app.user : c->app.group,
                 (unsigned)ids->uid, (unsigned)ids->gid) < 0)
        return -ENOMEM;
    if (geteuid() != 0) {
        if (ids->uid != getuid() || ids->gid != getgid())
            log_warn("app.user %s ignored: wrapp runs as uid %u, not root; run wrapp as root to "
                     "switch users, or drop app.user",
                     p->user_label, (unsigned)getuid());
        return 0;
    }
    p->switch_ids = true;
    p->uid = ids->uid;
    p->gid = ids->gid;
    p->groups = take_ptr(&ids->groups);
    p->n_groups = ids->n_groups;
    return 1;
}

int spawn_plan_build(const struct config *c, const char *etc, struct spawn_plan *ret)
{
    struct spawn_plan p = {.out_fd = -1, .err_fd = -1};
    struct users_ids ids = {0};
    int r;

    r = plan_ids(c, etc, &ids, &p);
    if (r >= 0)
        r = spawn_build_env(environ, p.switch_ids ? ids.name : NULL, p.switch_ids ? ids.home : NULL,
                            c->app.env, &p.envp);
    users_ids_fini(&ids);
    if (r >= 0) {
        p.lookup_err = spawn_lookup(c->app.executable ? c->app.executable : "",
                                    strv_env_get(p.envp, "PATH"), &p.path);
        r = p.lookup_err == -ENOMEM ? -ENOMEM : build_argv(c, &p);
    }
    if (r >= 0 && c->app.workdir)
        r = config_set_str(&p.workdir, c->app.workdir);
    if (r < 0) {
        spawn_plan_fini(&p);
        return r == -ENOMEM ? log_error_errno(r, "cannot prepare the app") : r;
    }
    /* Take the terminal only if wrapp is in its foreground process group. */
    p.take_tty = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
    *ret = p;
    return 0;
}

void spawn_plan_fini(struct spawn_plan *p)
{
    free(p->path);
    strv_free(p->argv);
    strv_free(p->sh_argv);
    strv_free(p->envp);
    free(p->groups);
    free(p->user_label);
    free(p->workdir);
    *p = (struct spawn_plan){.out_fd = -1, .err_fd = -1};
}

static int switch_ids(const struct spawn_plan *p)
{
    uid_t ru, eu, su;
    gid_t rg, eg, sg;

    if (syscall(SYS_setgroups, p->n_groups, p->groups) < 0)
        return STAGE_GROUPS;
    if (syscall(SYS_setresgid, p->gid, p->gid, p->gid) < 0)
        return STAGE_GID;
    if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) < 0)
        return STAGE_UID;
    /* Verify: every id is what we asked for, and root cannot be regained. */
    if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
        return STAGE_VERIFY;
    if (ru != p->uid || eu != p->uid || su != p->uid || rg != p->gid || eg != p->gid ||
        sg != p->gid) {
        errno = EPERM;
        return STAGE_VERIFY;
    }
    if (p->uid != 0 && syscall(SYS_setresuid, 0, 0, 0) == 0) {
        errno = EPERM;
        return STAGE_VERIFY;
    }
    return -1;
}

/* What the child shares with the parent (CLONE_VM): its inputs, and the
 * error it leaves behind when it cannot exec. */
struct child_ctx {
    const struct spawn_plan *plan;
    const struct sigs *sigs;
    struct child_err err; /* stage < 0: none */
};

static void child_fail(struct child_ctx *ctx, int stage, int err)
{
    ctx->err = (struct child_err){stage, err};
    _exit(err == ENOENT && (stage == STAGE_LOOKUP || stage == STAGE_EXEC) ? SPAWN_EXIT_NOTFOUND
                                                                          : SPAWN_EXIT_CANNOT);
}

/* Runs on its own stack in wrapp's memory until execve (vfork semantics):
 * it writes nothing of the parent's but ctx->err, and calls only
 * async-signal-safe functions and raw syscalls. */
static int child_run(void *arg)
{
    struct child_ctx *ctx = arg;
    const struct spawn_plan *p = ctx->plan;

    /* Before the ids change: seizing a process of another user would need
     * CAP_SYS_PTRACE. */
    if (p->child_hook)
        p->child_hook(p->child_hook_ctx);
    /* With a terminal wrapp is the foreground of: a process group of its own
     * in wrapp's session, handed the terminal (SIGTTOU is ignored here, so
     * this cannot stop us). Without one: a session of its own, so the app's
     * processes never share wrapp's session (orphaned-group checks on every
     * exit in the tree then stay off wrapp's path). */
    if (p->keep_pgrp) {
        /* The caller's job control reaches it as it would the tool. */
    } else if (p->take_tty) {
        setpgid(0, 0);
        tcsetpgrp(STDIN_FILENO, getpid());
    } else {
        setsid();
    }
    if (!p->path)
        child_fail(ctx, STAGE_LOOKUP, -p->lookup_err);
    if (p->switch_ids) {
        int stage = switch_ids(p);
        if (stage >= 0)
            child_fail(ctx, stage, errno);
    }
    if ((p->out_fd >= 0 && dup2(p->out_fd, STDOUT_FILENO) < 0) ||
        (p->err_fd >= 0 && dup2(p->err_fd, STDERR_FILENO) < 0))
        child_fail(ctx, STAGE_EXEC, errno);
    if (p->workdir && chdir(p->workdir) < 0)
        child_fail(ctx, STAGE_CHDIR, errno);
    sigs_child_restore(ctx->sigs);
    if (p->pre_exec) {
        int e = p->pre_exec(p->pre_exec_ctx);
        if (e < 0)
            child_fail(ctx, STAGE_FILTER, -e);
    }
    execve(p->path, p->argv, p->envp);
    if (errno == ENOEXEC)
        execve("/bin/sh", p->sh_argv, p->envp);
    child_fail(ctx, STAGE_EXEC, errno);
    return 0;
}

static void report(const struct spawn_plan *p, const struct child_err *e)
{
    const char *prog = p->argv[0];
    const char *why = strerror(e->err);

    switch (e->stage) {
    case STAGE_LOOKUP:
        if (e->err == ENOENT)
            log_error("cannot run app \"%s\": not found%s; install it or fix app.executable", prog,
                      strchr(prog, '/') ? "" : " in PATH");
        else
            log_error("cannot run app \"%s\": not an executable file (permission denied); "
                      "chmod +x it or fix app.executable",
                      prog);
        break;
    case STAGE_GROUPS:
    case STAGE_GID:
    case STAGE_UID:
    case STAGE_VERIFY:
        log_error("cannot switch to user %s for app \"%s\": %s; run wrapp as root or fix "
                  "app.user/app.group",
                  p->user_label, prog, why);
        break;
    case STAGE_FILTER:
        log_error("cannot load the seccomp filter for app \"%s\": %s; check the seccomp "
                  "section (a kernel without seccomp filters cannot run a policy)",
                  prog, why);
        break;
    case STAGE_CHDIR:
        log_error("cannot enter app.workdir \"%s\" for app \"%s\": %s; create it or fix "
                  "app.workdir",
                  p->workdir, prog, why);
        break;
    default:
        log_error("cannot execute app \"%s\" (%s): %s; check the file and its interpreter", prog,
                  p->path, why);
        break;
    }
}

/* Which of fds [3, SPAWN_HANDOVER_MAX) are open: one poll(2) per 256 fds
 * (POLLNVAL marks a closed one), much cheaper than walking /proc. */
static int scan_fds(int **ret, size_t *ret_n)
{
    struct pollfd p[256];
    int *v = NULL;
    size_t n = 0, cap = 0;

    for (int base = 3; base < SPAWN_HANDOVER_MAX; base += 256) {
        for (int i = 0; i < 256; i++)
            p[i] = (struct pollfd){.fd = base + i};
        if (poll(p, 256, 0) < 0)
            break;
        for (int i = 0; i < 256; i++) {
            if (p[i].revents & POLLNVAL)
                continue;
            if (n == cap) {
                int *nv = realloc(v, (cap ? cap * 2 : 8) * sizeof(*v));
                if (!nv) {
                    free(v);
                    return -ENOMEM;
                }
                v = nv;
                cap = cap ? cap * 2 : 8;
            }
            v[n++] = base + i;
        }
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

int spawn_inherited_fds(int **ret, size_t *ret_n)
{
    *ret = NULL;
    *ret_n = 0;
    return scan_fds(ret, ret_n);
}

int spawn_start(const struct spawn_plan *p, const struct sigs *s, pid_t *ret_pid)
{
    /* The child's stack until execve: vfork-style, no copy of wrapp's
     * memory, the parent resumes once the child has exec'd or exited. */
    static char stack[SPAWN_STACK_SIZE] __attribute__((aligned(64)));
    struct child_ctx ctx = {.plan = p, .sigs = s, .err = {.stage = -1}};
    pid_t pid = clone(child_run, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, &ctx);

    if (pid < 0)
        return log_error_errno(neg_errno(), "cannot start the app \"%s\": clone", p->argv[0]);
    if (ctx.err.stage >= 0)
        report(p, &ctx.err);
    for (size_t i = 0; i < p->n_handover; i++)
        close(p->handover_fds[i]);
    *ret_pid = pid;
    return 0;
}

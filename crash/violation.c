// SPDX-License-Identifier: MIT
/*
 * See violation.h. A call is told apart by syscall, ABI and the
 * instruction that made it (the libc wrapper, usually): the thread is not
 * unwound for a call that is only counted, so a busy loop of denied calls
 * costs one stop each, not an unwind each.
 */
#include "violation.h"

#include "cJSON.h"
#include "clock.h"
#include "log.h"
#include "macro.h"
#include "procinfo.h"
#include "remote.h"
#include "report.h"
#include "unwind.h"

#include <errno.h>
#include <inttypes.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEXT_MAX   1024
#define PATH_SHOWN 256

struct key {
    uint32_t arch;
    int nr;
    uint64_t ip;
    enum policy_action action;
    int err;
    uint64_t last_ms; /* when last reported */
    unsigned pending; /* seen since, not reported */
};

/* A syscall log-only let through, for the summary. */
struct seen {
    uint32_t arch;
    int nr;
    unsigned long count;
};

struct violations {
    struct violation_opts o;
    struct key keys[VIOLATION_KEYS_MAX];
    size_t n_keys;
    struct seen seen[VIOLATION_KEYS_MAX];
    size_t n_seen;
};

/* How many arguments a syscall takes, and which one is a path worth
 * showing (-1: none); syscalls not listed show all six arguments. */
static const struct {
    const char *name;
    int n, path;
} shapes[] = {
    {"open", 3, 0},
    {"openat", 4, 1},
    {"openat2", 4, 1},
    {"creat", 2, 0},
    {"mkdir", 2, 0},
    {"mkdirat", 3, 1},
    {"rmdir", 1, 0},
    {"unlink", 1, 0},
    {"unlinkat", 3, 1},
    {"rename", 2, 0},
    {"renameat2", 5, 1},
    {"chdir", 1, 0},
    {"chroot", 1, 0},
    {"execve", 3, 0},
    {"execveat", 5, 1},
    {"mount", 5, 1},
    {"umount2", 2, 0},
    {"access", 2, 0},
    {"faccessat", 3, 1},
    {"faccessat2", 4, 1},
    {"statx", 5, 1},
    {"newfstatat", 4, 1},
    {"stat", 2, 0},
    {"lstat", 2, 0},
    {"chmod", 2, 0},
    {"chown", 3, 0},
    {"truncate", 2, 0},
    {"mknod", 3, 0},
    {"mknodat", 4, 1},
    {"symlink", 2, 1},
    {"link", 2, 1},
    {"readlink", 3, 0},
    {"readlinkat", 4, 1},
    {"pivot_root", 2, 0},
    {"swapon", 2, 0},
    {"swapoff", 1, 0},
    {"acct", 1, 0},
    {"socket", 3, -1},
    {"socketpair", 4, -1},
    {"connect", 3, -1},
    {"bind", 3, -1},
    {"listen", 2, -1},
    {"unshare", 1, -1},
    {"setns", 2, -1},
    {"clone", 5, -1},
    {"clone3", 2, -1},
    {"ptrace", 4, -1},
    {"kill", 2, -1},
    {"tkill", 2, -1},
    {"tgkill", 3, -1},
    {"bpf", 3, -1},
    {"perf_event_open", 5, -1},
    {"init_module", 3, -1},
    {"finit_module", 3, -1},
    {"delete_module", 2, -1},
    {"kexec_load", 4, -1},
    {"kexec_file_load", 5, -1},
    {"reboot", 4, -1},
    {"setuid", 1, -1},
    {"setgid", 1, -1},
    {"personality", 1, -1},
    {"keyctl", 5, -1},
    {"add_key", 5, -1},
    {"request_key", 4, -1},
    {"userfaultfd", 1, -1},
    {"ioctl", 3, -1},
    {"prctl", 5, -1},
    {"getpid", 0, -1},
    {"write", 3, -1},
    {"read", 3, -1},
    {"close", 1, -1},
    {"mmap", 6, -1},
    {"mprotect", 3, -1},
    {"sethostname", 2, -1},
    {"settimeofday", 2, -1},
    {"clock_settime", 2, -1},
    {"process_vm_readv", 6, -1},
    {"process_vm_writev", 6, -1},
};

int violation_new(const struct violation_opts *o, struct violations **ret)
{
    struct violations *v = calloc(1, sizeof(*v));

    if (!v)
        return -ENOMEM;
    v->o = *o;
    *ret = v;
    return 0;
}

struct violations *violation_free(struct violations *v)
{
    free(v);
    return NULL;
}

/* The syscall's name ("mkdir"), or "syscall_<nr>". */
static void syscall_name(uint32_t arch, int nr, char *buf, size_t size)
{
    char *name = seccomp_syscall_resolve_num_arch(arch, nr);

    if (name)
        snprintf(buf, size, "%s", name);
    else
        snprintf(buf, size, "syscall_%d", nr);
    free(name);
}

static struct key *find_key(struct violations *v, uint32_t arch, int nr, uint64_t ip)
{
    for (size_t i = 0; i < v->n_keys; i++)
        if (v->keys[i].arch == arch && v->keys[i].nr == nr && v->keys[i].ip == ip)
            return &v->keys[i];
    if (v->n_keys == VIOLATION_KEYS_MAX)
        return NULL;
    v->keys[v->n_keys] = (struct key){.arch = arch, .nr = nr, .ip = ip};
    return &v->keys[v->n_keys++];
}

static void note_seen(struct violations *v, uint32_t arch, int nr)
{
    for (size_t i = 0; i < v->n_seen; i++)
        if (v->seen[i].arch == arch && v->seen[i].nr == nr) {
            v->seen[i].count++;
            return;
        }
    if (v->n_seen < VIOLATION_KEYS_MAX)
        v->seen[v->n_seen++] = (struct seen){arch, nr, 1};
}

/* "mkdir(\"/x\", 0x1ed)": as many arguments as the syscall takes (all
 * six when unknown), a path argument read from the process. */
static void format_call(pid_t tid, const char *name, const uint64_t *args, char *out, size_t size,
                        char *path, size_t path_size)
{
    int n = 6, path_arg = -1;
    size_t len;

    path[0] = '\0';
    for (size_t i = 0; i < ARRAY_SIZE(shapes); i++)
        if (strcmp(shapes[i].name, name) == 0) {
            n = shapes[i].n;
            path_arg = shapes[i].path;
        }
    len = (size_t)snprintf(out, size, "%s(", name);
    for (int i = 0; i < n && len < size; i++) {
        const char *sep = i ? ", " : "";
        if (i == path_arg && remote_read_str(tid, args[i], path, path_size))
            len += (size_t)snprintf(out + len, size - len, "%s\"%.*s\"", sep, PATH_SHOWN, path);
        else
            len += (size_t)snprintf(out + len, size - len, "%s0x%" PRIx64, sep, args[i]);
    }
    if (len < size)
        snprintf(out + len, size - len, ")");
}

/* The first named frame in the exe, else the first named frame above the
 * syscall itself. */
static const char *place(const struct crash_thread *t, const char *exe)
{
    for (size_t i = 0; i < t->n_frames; i++)
        if (t->frames[i].symbol && t->frames[i].module && strcmp(t->frames[i].module, exe) == 0)
            return t->frames[i].symbol;
    for (size_t i = 1; i < t->n_frames; i++)
        if (t->frames[i].symbol)
            return t->frames[i].symbol;
    return t->n_frames && t->frames[0].symbol ? t->frames[0].symbol : "?";
}

static void add_u64(cJSON *j, const char *name, uint64_t v)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    cJSON_AddItemToObject(j, name, cJSON_CreateRaw(buf));
}

static const char *verdict(enum policy_action a)
{
    return a == POLICY_LOG    ? "allowed (log-only)"
           : a == POLICY_KILL ? "killed the process"
                              : "denied";
}

static void emit_report(struct violations *v, pid_t pid, pid_t tid, const struct violation_call *c,
                        const struct key *k, unsigned repeats)
{
    char name[64], call[TEXT_MAX], path[4096], exe[4096] = "", text[TEXT_MAX + 512], link[64];
    struct crash_thread t = {.tid = tid};
    struct unwinder *u = NULL;
    const char *errname = strerrorname_np(k->err);
    cJSON *j = cJSON_CreateObject();
    ssize_t n;
    char *json;

    syscall_name(c->arch, k->nr, name, sizeof(name));
    format_call(tid, name, c->args, call, sizeof(call), path, sizeof(path));
    snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
    n = readlink(link, exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    procinfo_thread(pid, tid, &t);
    if (unwind_open(pid, v->o.cfg->system_lines, &u) == 0) {
        unwind_thread(u, tid, v->o.cfg->max_frames > 0 ? (size_t)v->o.cfg->max_frames : 64, &t);
        unwind_close(u);
    }
    snprintf(text, sizeof(text), "seccomp: %s %s in %s (tid %d) at %s", call, verdict(k->action),
             t.comm[0] ? t.comm : "?", (int)tid, place(&t, exe));
    if (repeats)
        snprintf(text + strlen(text), sizeof(text) - strlen(text),
                 " (and %u more times since the last report)", repeats);
    if (j) {
        cJSON_AddStringToObject(j, "kind", "seccomp");
        add_u64(j, "time_us", clock_real_us());
        cJSON_AddNumberToObject(j, "pid", pid);
        cJSON_AddNumberToObject(j, "tid", tid);
        cJSON_AddStringToObject(j, "exe", exe);
        cJSON_AddStringToObject(j, "syscall", name);
        cJSON_AddNumberToObject(j, "nr", k->nr);
        cJSON *args = cJSON_AddArrayToObject(j, "args");
        for (int i = 0; args && i < 6; i++) {
            char hex[24];
            snprintf(hex, sizeof(hex), "0x%" PRIx64, c->args[i]);
            cJSON_AddItemToArray(args, cJSON_CreateString(hex));
        }
        if (path[0])
            cJSON_AddStringToObject(j, "path", path);
        cJSON_AddStringToObject(j, "action", policy_action_name(k->action));
        if (k->action == POLICY_REPORT)
            cJSON_AddStringToObject(j, "errno", errname ? errname : "");
        if (k->action == POLICY_KILL)
            cJSON_AddStringToObject(j, "signal", "SIGSYS");
        cJSON_AddNumberToObject(j, "repeats", repeats);
        cJSON_AddItemToObject(j, "thread", report_thread_object(&t));
    }
    json = j ? cJSON_PrintUnformatted(j) : NULL;
    v->o.emit(v->o.ctx, text, json ? json : "{}");
    free(json);
    cJSON_Delete(j);
    crash_thread_fini(&t);
}

void violation_seen(struct violations *v, pid_t pid, pid_t tid, const struct violation_call *c)
{
    uint64_t now = clock_mono_ns() / 1000000;
    struct key *k;
    unsigned repeats;

    if (c->action == POLICY_LOG)
        note_seen(v, c->arch, c->nr);
    k = find_key(v, c->arch, c->nr, c->ip);
    if (!k)
        return; /* too many distinct places: counted in the summary only */
    if (k->last_ms && now - k->last_ms < VIOLATION_QUIET_MS && c->action != POLICY_KILL) {
        k->pending++;
        return;
    }
    k->action = c->action;
    k->err = c->err;
    repeats = k->pending;
    k->pending = 0;
    k->last_ms = now;
    emit_report(v, pid, tid, c, k, repeats);
}

bool violation_has_kill(const struct violations *v)
{
    return v && v->o.policy && policy_has_kill(v->o.policy);
}

bool violation_is_kill(const struct violations *v, int nr)
{
    const struct policy *p = v ? v->o.policy : NULL;

    for (size_t i = 0; p && i < p->n_rules; i++)
        if (p->rules[i].nr == nr)
            return p->rules[i].action == POLICY_KILL;
    return p && p->def == POLICY_KILL;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the allowed and seen syscalls, sorted, unique; NULL-terminated. */
static char **allow_list(const struct violations *v, size_t *ret_n)
{
    const struct policy *p = v->o.policy;
    size_t cap = v->n_seen + (p ? p->n_rules : 0) + 1, n = 0, u = 0;
    char **names = calloc(cap, sizeof(char *));

    if (!names)
        return NULL;
    for (size_t i = 0; i < v->n_seen; i++) {
        char buf[64];
        syscall_name(v->seen[i].arch, v->seen[i].nr, buf, sizeof(buf));
        names[n++] = strdup(buf);
    }
    for (size_t i = 0; p && i < p->n_rules; i++)
        if (p->rules[i].action == POLICY_ALLOW && p->rules[i].n_conds == 0)
            names[n++] = strdup(p->rules[i].name);
    for (size_t i = 0; i < n; i++)
        if (!names[i])
            names[i] = strdup("?");
    qsort(names, n, sizeof(char *), by_name);
    for (size_t i = 0; i < n; i++) {
        if (u > 0 && names[i] && names[u - 1] && strcmp(names[i], names[u - 1]) == 0) {
            free(names[i]);
            continue;
        }
        names[u++] = names[i];
    }
    names[u] = NULL;
    *ret_n = u;
    return names;
}

static void summarize(struct violations *v)
{
    size_t n = 0;
    char **names = allow_list(v, &n);
    cJSON *root = cJSON_CreateObject(), *sec, *rules, *rule, *list;
    char *json = NULL, *text = NULL;

    if (!names || !root)
        goto out;
    sec = cJSON_AddObjectToObject(root, "seccomp");
    cJSON_AddStringToObject(sec, "default", "errno:EPERM");
    rules = cJSON_AddArrayToObject(sec, "rules");
    rule = cJSON_CreateObject();
    cJSON_AddItemToArray(rules, rule);
    list = cJSON_AddArrayToObject(rule, "syscalls");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(list, cJSON_CreateString(names[i]));
    cJSON_AddStringToObject(rule, "action", "allow");
    json = cJSON_PrintUnformatted(root);
    if (json && asprintf(&text,
                         "seccomp log-only: %zu syscalls the policy would have blocked were used; "
                         "a policy that allows what ran (%zu syscalls): %s",
                         v->n_seen, n, json) > 0)
        v->o.summary(v->o.ctx, text);
out:
    for (size_t i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
    free(json);
    free(text);
    cJSON_Delete(root);
}

void violation_finish(struct violations *v)
{
    char text[256], name[64];

    if (!v)
        return;
    for (size_t i = 0; i < v->n_keys; i++) {
        const struct key *k = &v->keys[i];
        if (!k->pending)
            continue;
        syscall_name(k->arch, k->nr, name, sizeof(name));
        snprintf(text, sizeof(text), "seccomp: %s %s %u more times since its last report", name,
                 verdict(k->action), k->pending);
        v->o.summary(v->o.ctx, text);
    }
    if (v->n_seen > 0)
        summarize(v);
}

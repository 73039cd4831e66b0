// SPDX-License-Identifier: MIT
/*
 * See track.h. Records:
 *   exec: {"event":"exec","pid","ppid","uid","time_us","exe","argv":[...],
 *          "argv_cut":true when args were dropped,"cwd"}
 *   exit: {"event":"exit","pid","time_us","code" | "signal"+"core",
 *          "duration_us" when the start is known}
 * argv is streamed from /proc/PID/cmdline in small reads, so a huge
 * command line costs at most max_args arguments of TRACK_ARG_MAX bytes.
 * Start times live in a sorted array (binary search, memmove), capped at
 * TRACK_PROCS_MAX: a full table leaves new processes without a duration.
 */
#include "track.h"

#include "cJSON.h"
#include "clock.h"
#include "macro.h"
#include "signame.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct start {
    pid_t pid;
    uint64_t ns; /* monotonic */
};

struct track {
    struct track_opts o;
    struct start *v; /* sorted by pid */
    size_t n, cap;
};

/* The one-line summary, cut with "..." when it would not fit. */
struct summary {
    char buf[TRACK_SUMMARY_MAX];
    size_t len;
    bool is_cut;
};

static void put(struct summary *s, const char *p, size_t n)
{
    size_t room = sizeof(s->buf) - 4 - s->len; /* "..." and the NUL */

    if (s->is_cut)
        return;
    if (n > room) {
        n = room;
        s->is_cut = true;
    }
    for (size_t i = 0; i < n; i++) { /* one line: control bytes become spaces */
        char c = p[i];
        if ((unsigned char)c < 0x20)
            c = ' ';
        s->buf[s->len++] = c;
    }
    if (s->is_cut) {
        memcpy(s->buf + s->len, "...", 3);
        s->len += 3;
    }
    s->buf[s->len] = '\0';
}

int track_new(const struct track_opts *o, struct track **ret)
{
    struct track *t;

    if (!o->emit || o->max_args < 1 || o->max_args > TRACK_ARGS_MAX)
        return -EINVAL;
    t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->o = *o;
    *ret = t;
    return 0;
}

struct track *track_free(struct track *t)
{
    if (t) {
        free(t->v);
        free(t);
    }
    return NULL;
}

/* Index of pid, or where it would go. */
static size_t find(const struct track *t, pid_t pid)
{
    size_t lo = 0, hi = t->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->v[mid].pid < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void set_start(struct track *t, pid_t pid, uint64_t ns)
{
    size_t i = find(t, pid);

    if (i < t->n && t->v[i].pid == pid) {
        t->v[i].ns = ns;
        return;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct start *v;
        if (t->n >= TRACK_PROCS_MAX)
            return;
        v = realloc(t->v, cap * sizeof(*v));
        if (!v)
            return; /* the duration will be unknown */
        t->v = v;
        t->cap = cap;
    }
    memmove(t->v + i + 1, t->v + i, (t->n - i) * sizeof(*t->v));
    t->v[i] = (struct start){pid, ns};
    t->n++;
}

/* Remove pid's start; true and *ret_ns if it was known. */
static bool take_start(struct track *t, pid_t pid, uint64_t *ret_ns)
{
    size_t i = find(t, pid);

    if (i == t->n || t->v[i].pid != pid)
        return false;
    *ret_ns = t->v[i].ns;
    memmove(t->v + i, t->v + i + 1, (t->n - i - 1) * sizeof(*t->v));
    t->n--;
    return true;
}

void track_fork(struct track *t, pid_t pid)
{
    if (t && pid > 0)
        set_start(t, pid, clock_mono_ns());
}

/* The target of /proc/PID/<name> into buf; "" when unreadable. */
static const char *proc_link(pid_t pid, const char *name, char *buf, size_t size)
{
    char path[64];
    ssize_t n;

    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
    n = readlink(path, buf, size - 1);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/* PPid and the real Uid from /proc/PID/status; -1 when unknown. */
static void proc_ids(pid_t pid, long *ret_ppid, long *ret_uid)
{
    char path[64], line[256];
    cleanup_fclose FILE *f = NULL;

    *ret_ppid = *ret_uid = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "PPid:", 5) == 0)
            *ret_ppid = strtol(line + 5, NULL, 10);
        else if (strncmp(line, "Uid:", 4) == 0)
            *ret_uid = strtol(line + 4, NULL, 10);
    }
}

/* One argument done: into argv and, after argv[0], the summary. */
static void add_arg(cJSON *argv, struct summary *s, const char *arg, size_t len)
{
    char buf[TRACK_ARG_MAX + 1];

    memcpy(buf, arg, len);
    buf[len] = '\0';
    if (cJSON_GetArraySize(argv) > 0) {
        put(s, " ", 1);
        put(s, buf, len);
    }
    cJSON_AddItemToArray(argv, cJSON_CreateString(buf));
}

/* Stream /proc/PID/cmdline into argv: at most max_args arguments, each
 * cut at TRACK_ARG_MAX bytes. true when arguments were dropped. */
static bool read_argv(const struct track *t, pid_t pid, cJSON *argv, struct summary *s)
{
    char path[64], chunk[4096], arg[TRACK_ARG_MAX];
    cleanup_close int fd = -1;
    size_t len = 0;
    int n_args = 0;
    ssize_t n;

    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (chunk[i] != '\0') {
                if (len < sizeof(arg))
                    arg[len++] = chunk[i];
                continue;
            }
            if (n_args == t->o.max_args)
                return true;
            add_arg(argv, s, arg, len);
            n_args++;
            len = 0;
        }
    }
    if (len > 0 && n_args < t->o.max_args) /* no final NUL (a rewritten title) */
        add_arg(argv, s, arg, len);
    return false;
}

static void emit(const struct track *t, const char *event, const struct summary *s, cJSON *j)
{
    char *json = cJSON_PrintUnformatted(j);

    if (json)
        t->o.emit(t->o.ctx, event, s->buf, json);
    free(json);
    cJSON_Delete(j);
}

/* The exec record's fields before argv. */
static void exec_head(cJSON *j, pid_t pid, long ppid, long uid, const char *exe)
{
    cJSON_AddStringToObject(j, "event", "exec");
    cJSON_AddNumberToObject(j, "pid", pid);
    cJSON_AddNumberToObject(j, "ppid", (double)ppid);
    cJSON_AddNumberToObject(j, "uid", (double)uid);
    cJSON_AddNumberToObject(j, "time_us", (double)clock_real_us());
    cJSON_AddStringToObject(j, "exe", exe);
}

void track_exec(struct track *t, pid_t pid)
{
    char exe[4096], cwd[4096], head[64];
    struct summary s = {.len = 0};
    long ppid, uid;
    cJSON *j, *argv;
    size_t i;

    if (!t)
        return;
    i = find(t, pid);
    if (i == t->n || t->v[i].pid != pid) /* not seen forking: the app, or untracked */
        set_start(t, pid, clock_mono_ns());
    proc_ids(pid, &ppid, &uid);
    proc_link(pid, "exe", exe, sizeof(exe));
    proc_link(pid, "cwd", cwd, sizeof(cwd));
    j = cJSON_CreateObject();
    argv = cJSON_CreateArray();
    if (!j || !argv) {
        cJSON_Delete(j);
        cJSON_Delete(argv);
        return;
    }
    exec_head(j, pid, ppid, uid, exe);
    snprintf(head, sizeof(head), "exec %d (ppid %ld) ", (int)pid, ppid);
    put(&s, head, strlen(head));
    put(&s, exe, strlen(exe));
    if (read_argv(t, pid, argv, &s))
        cJSON_AddTrueToObject(j, "argv_cut");
    cJSON_AddItemToObject(j, "argv", argv);
    cJSON_AddStringToObject(j, "cwd", cwd);
    emit(t, "exec", &s, j);
}

void track_exit(struct track *t, pid_t pid, int status)
{
    char text[64];
    struct summary s = {.len = 0};
    uint64_t start_ns = 0;
    bool has_start;
    cJSON *j;

    if (!t)
        return;
    has_start = take_start(t, pid, &start_ns);
    j = cJSON_CreateObject();
    if (!j)
        return;
    cJSON_AddStringToObject(j, "event", "exit");
    cJSON_AddNumberToObject(j, "pid", pid);
    cJSON_AddNumberToObject(j, "time_us", (double)clock_real_us());
    if (WIFSIGNALED(status)) {
        char name[24];
        const char *sig = signame_name(WTERMSIG(status), name);
        cJSON_AddStringToObject(j, "signal", sig);
        cJSON_AddBoolToObject(j, "core", WCOREDUMP(status));
        snprintf(text, sizeof(text), "exit %d signal %s", (int)pid, sig);
    } else {
        cJSON_AddNumberToObject(j, "code", WEXITSTATUS(status));
        snprintf(text, sizeof(text), "exit %d code %d", (int)pid, WEXITSTATUS(status));
    }
    put(&s, text, strlen(text));
    if (has_start) {
        uint64_t us = (clock_mono_ns() - start_ns) / 1000;
        cJSON_AddNumberToObject(j, "duration_us", (double)us);
        snprintf(text, sizeof(text), " after %" PRIu64 ".%" PRIu64 " ms", us / 1000,
                 us % 1000 / 100);
        put(&s, text, strlen(text));
    }
    emit(t, "exit", &s, j);
}

// SPDX-License-Identifier: MIT
/*
 * See track.h. Records:
 *   exec: {"event":"exec","pid","ppid","uid","time_us","exe","argv":[...],
 *          "argv_cut"/"argv_redacted" when so,"cwd","build_id","static"}
 *   exit: {"event":"exit","pid","ppid","time_us","code" | "signal"+"core",
 *          "duration_us" when the start is known,"user_us","sys_us",
 *          "maxrss_kb","libs":[{"path","build_id"}]}
 *   exec_failed: {"event":"exec_failed","pid","ppid","time_us","path",
 *          "argv","errno","error","tries"}
 * argv is streamed from /proc/PID/cmdline in small reads, so a huge
 * command line costs at most max_args arguments of TRACK_ARG_MAX bytes.
 * Start times live in a pidmap, capped at TRACK_PROCS_MAX entries: a full
 * table leaves new processes without a duration.
 */
#include "track.h"

#include "cJSON.h"
#include "clock.h"
#include "elfid.h"
#include "fdio.h"
#include "log.h"
#include "macro.h"
#include "pidmap.h"
#include "procinfo.h"
#include "remote.h"
#include "signame.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* The shared objects a process had loaded, read at its exit stop and
 * waiting for its exit. */
struct pending_libs {
    pid_t pid;
    cJSON *libs;
};

/* A process's last exec attempt (seen at its seccomp stop) and, once the
 * syscall returned, its error. Kept until the process execs or exits. */
struct attempt {
    pid_t pid;
    char *path;
    cJSON *argv;
    int err; /* 0: no result (yet) */
    int tries;
};

struct track {
    struct track_opts o;
    struct attempt attempts[TRACK_PENDING_MAX];
    size_t n_attempts;
    struct pidmap starts; /* pid -> when it was forked or exec'd (monotonic ns) */
    struct elfid_cache *ids;
    struct pending_libs libs[TRACK_PENDING_MAX];
    size_t n_libs;
    /* Processes that exited before their parent's fork event was read
     * (events of different processes come in any order). */
    pid_t early[TRACK_EARLY_MAX];
    size_t i_early;
    int file_fd; /* track.file, appended to; -1: none */
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
    t->ids = elfid_cache_new();
    t->file_fd = -1;
    if (o->file && *o->file) {
        t->file_fd = open(o->file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
        if (t->file_fd < 0)
            log_warn("process records are not written to %s: %s; check that its directory "
                     "exists and is writable (track.file)",
                     o->file, strerror(errno));
    }
    *ret = t;
    return 0;
}

struct track *track_free(struct track *t)
{
    if (t) {
        for (size_t i = 0; i < t->n_libs; i++)
            cJSON_Delete(t->libs[i].libs);
        for (size_t i = 0; i < t->n_attempts; i++) {
            free(t->attempts[i].path);
            cJSON_Delete(t->attempts[i].argv);
        }
        if (t->file_fd >= 0)
            close(t->file_fd);
        elfid_cache_free(t->ids);
        pidmap_fini(&t->starts);
        free(t);
    }
    return NULL;
}

static void set_start(struct track *t, pid_t pid, uint64_t ns)
{
    /* A full table or no memory: the duration will be unknown. */
    if (t->starts.n < TRACK_PROCS_MAX || pidmap_has(&t->starts, pid))
        pidmap_set64(&t->starts, pid, ns);
}

/* Remove pid's start; true and *ret_ns if it was known. */
static bool take_start(struct track *t, pid_t pid, uint64_t *ret_ns)
{
    return pidmap_del64(&t->starts, pid, ret_ns);
}

void track_fork(struct track *t, pid_t pid)
{
    if (!t || pid <= 0)
        return;
    for (size_t k = 0; k < TRACK_EARLY_MAX; k++)
        if (t->early[k] == pid) { /* gone already: no start to keep */
            t->early[k] = 0;
            return;
        }
    /* Its exec may have been read first: that start stays. */
    if (!pidmap_has(&t->starts, pid))
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

/* One argument done: into argv. */
static void add_arg(cJSON *argv, const char *arg, size_t len)
{
    char buf[TRACK_ARG_MAX + 1];

    memcpy(buf, arg, len);
    buf[len] = '\0';
    cJSON_AddItemToArray(argv, cJSON_CreateString(buf));
}

/* Does the option arg ("--db-password=x", "-token") name a secret? */
static bool is_secret_option(const struct track *t, const char *arg, size_t *ret_name_len)
{
    static const char *const defaults[] = {"password", "passwd",  "secret",  "token",
                                           "apikey",   "api-key", "api_key", NULL};
    const char *const *pats = t->o.redact ? (const char *const *)t->o.redact : defaults;
    size_t name_len = strcspn(arg, "=");

    *ret_name_len = name_len;
    if (arg[0] != '-')
        return false;
    for (size_t i = 0; pats[i]; i++) {
        const char *pat = pats[i] + strspn(pats[i], "-");
        size_t n = strlen(pat);
        for (size_t k = 0; n > 0 && k + n <= name_len; k++)
            if (strncasecmp(arg + k, pat, n) == 0)
                return true;
    }
    return false;
}

/* Hide the values of secret options: "--password=x" keeps its name,
 * "--password x" loses the next argument. true if anything was hidden. */
static bool redact(const struct track *t, cJSON *argv)
{
    bool is_done = false;
    cJSON *a = argv ? argv->child : NULL;

    for (; a; a = a->next) {
        size_t name_len;
        if (!cJSON_IsString(a) || !is_secret_option(t, a->valuestring, &name_len))
            continue;
        if (a->valuestring[name_len] == '=') {
            char buf[TRACK_ARG_MAX + 8];
            snprintf(buf, sizeof(buf), "%.*s=***", (int)name_len, a->valuestring);
            cJSON_SetValuestring(a, buf);
            is_done = true;
        } else if (a->next && cJSON_IsString(a->next)) {
            a = a->next;
            cJSON_SetValuestring(a, "***");
            is_done = true;
        }
    }
    return is_done;
}

/* argv after argv[0], into the summary. */
static void put_args(struct summary *s, const cJSON *argv)
{
    const cJSON *a;

    cJSON_ArrayForEach(a, argv)
    {
        if (a == argv->child || !cJSON_IsString(a))
            continue;
        put(s, " ", 1);
        put(s, a->valuestring, strlen(a->valuestring));
    }
}

/* Stream /proc/PID/cmdline into argv: at most max_args arguments, each
 * cut at TRACK_ARG_MAX bytes. true when arguments were dropped. */
static bool read_argv(const struct track *t, pid_t pid, cJSON *argv)
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
            add_arg(argv, arg, len);
            n_args++;
            len = 0;
        }
    }
    if (len > 0 && n_args < t->o.max_args) /* no final NUL (a rewritten title) */
        add_arg(argv, arg, len);
    return false;
}

static void emit(const struct track *t, const char *event, const struct summary *s, cJSON *j)
{
    char *json = cJSON_PrintUnformatted(j);

    if (json) {
        t->o.emit(t->o.ctx, event, s->buf, json);
        if (t->file_fd >= 0) { /* one line each: cJSON escapes newlines */
            size_t len = strlen(json);
            json[len] = '\n';
            if (fdio_write_all(t->file_fd, json, len + 1) < 0)
                log_debug("track.file: %s", strerror(errno));
        }
    }
    free(json);
    cJSON_Delete(j);
}

/* An exact integer member (a double would print 16-digit times as 1.7e+15). */
static void add_u64(cJSON *j, const char *name, uint64_t v)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    cJSON_AddItemToObject(j, name, cJSON_CreateRaw(buf));
}

/* The build-id and linkage of the file at path (a /proc link), as
 * members of j. */
static void add_elfid(struct track *t, cJSON *j, const char *path, const struct stat *st)
{
    const struct elfid *id = elfid_lookup(t->ids, st->st_dev, st->st_ino, path);

    if (!id || !id->is_elf)
        return;
    if (id->build_id[0])
        cJSON_AddStringToObject(j, "build_id", id->build_id);
    cJSON_AddBoolToObject(j, "static", !id->is_dynamic);
}

static struct attempt *find_attempt(struct track *t, pid_t pid)
{
    for (size_t i = 0; i < t->n_attempts; i++)
        if (t->attempts[i].pid == pid)
            return &t->attempts[i];
    return NULL;
}

static void drop_attempt(struct track *t, struct attempt *a)
{
    free(a->path);
    cJSON_Delete(a->argv);
    *a = t->attempts[--t->n_attempts];
}

/* The argv array at addr in tid's memory: up to max_args strings. */
static cJSON *read_remote_argv(const struct track *t, pid_t tid, uint64_t addr)
{
    cJSON *argv = cJSON_CreateArray();
    char arg[TRACK_ARG_MAX + 1];

    for (int i = 0; argv && addr && i < t->o.max_args; i++) {
        uint64_t p = 0;
        if (remote_read(tid, addr + 8 * (uint64_t)i, &p, sizeof(p)) != 8 || p == 0)
            break;
        if (!remote_read_str(tid, p, arg, sizeof(arg)))
            arg[0] = '\0';
        cJSON_AddItemToArray(argv, cJSON_CreateString(arg));
    }
    return argv;
}

void track_exec_try(struct track *t, pid_t pid, pid_t tid, uint64_t path, uint64_t argv)
{
    char buf[4096];
    struct attempt *a;

    if (!t)
        return;
    a = find_attempt(t, pid);
    if (!a) {
        if (t->n_attempts == TRACK_PENDING_MAX)
            return;
        a = &t->attempts[t->n_attempts++];
        *a = (struct attempt){.pid = pid};
    }
    free(a->path);
    cJSON_Delete(a->argv);
    a->path = strdup(remote_read_str(tid, path, buf, sizeof(buf)) ? buf : "");
    a->argv = read_remote_argv(t, tid, argv);
    redact(t, a->argv);
    a->err = 0;
}

void track_exec_failed(struct track *t, pid_t pid, int err)
{
    struct attempt *a = t ? find_attempt(t, pid) : NULL;

    if (a && err > 0) {
        a->err = err;
        a->tries++;
    }
}

/* At the exit of a process whose last exec attempt failed (a PATH search
 * that succeeds on a later directory is not a failure). */
static void emit_failed(struct track *t, pid_t pid, pid_t ppid)
{
    struct attempt *a = find_attempt(t, pid);
    struct summary s = {.len = 0};
    char head[96];
    const char *name;
    cJSON *j;

    if (!a)
        return;
    if (!a->err || !(j = cJSON_CreateObject())) {
        drop_attempt(t, a);
        return;
    }
    name = strerrorname_np(a->err);
    cJSON_AddStringToObject(j, "event", "exec_failed");
    cJSON_AddNumberToObject(j, "pid", pid);
    if (ppid > 0)
        cJSON_AddNumberToObject(j, "ppid", ppid);
    add_u64(j, "time_us", clock_real_us());
    cJSON_AddStringToObject(j, "path", a->path ? a->path : "");
    cJSON_AddItemToObject(j, "argv", a->argv);
    a->argv = NULL;
    cJSON_AddStringToObject(j, "errno", name ? name : "");
    cJSON_AddStringToObject(j, "error", strerror(a->err));
    cJSON_AddNumberToObject(j, "tries", a->tries);
    snprintf(head, sizeof(head), "exec failed %d (ppid %d) ", (int)pid, (int)ppid);
    put(&s, head, strlen(head));
    put(&s, a->path ? a->path : "", a->path ? strlen(a->path) : 0);
    put(&s, ": ", 2);
    put(&s, strerror(a->err), strlen(strerror(a->err)));
    drop_attempt(t, a);
    emit(t, "exec_failed", &s, j);
}

/* The exec record's fields before argv. */
static void exec_head(cJSON *j, pid_t pid, long ppid, long uid, const char *exe)
{
    cJSON_AddStringToObject(j, "event", "exec");
    cJSON_AddNumberToObject(j, "pid", pid);
    cJSON_AddNumberToObject(j, "ppid", (double)ppid);
    cJSON_AddNumberToObject(j, "uid", (double)uid);
    add_u64(j, "time_us", clock_real_us());
    cJSON_AddStringToObject(j, "exe", exe);
}

void track_exec(struct track *t, pid_t pid)
{
    char exe[4096], cwd[4096], head[64];
    struct summary s = {.len = 0};
    struct stat st;
    struct attempt *a;
    long ppid, uid;
    cJSON *j, *argv;

    if (!t)
        return;
    a = find_attempt(t, pid); /* it succeeded: no failure to tell */
    if (a)
        drop_attempt(t, a);
    if (!pidmap_has(&t->starts, pid)) /* not seen forking: the app, or untracked */
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
    if (read_argv(t, pid, argv))
        cJSON_AddTrueToObject(j, "argv_cut");
    if (redact(t, argv))
        cJSON_AddTrueToObject(j, "argv_redacted");
    put_args(&s, argv);
    cJSON_AddItemToObject(j, "argv", argv);
    cJSON_AddStringToObject(j, "cwd", cwd);
    snprintf(head, sizeof(head), "/proc/%d/exe", (int)pid);
    if (stat(head, &st) == 0)
        add_elfid(t, j, head, &st);
    emit(t, "exec", &s, j);
}

/* A shared object mapping: file-backed, from offset 0, not the exe. */
static bool is_object(const struct crash_map *m, const char *exe)
{
    return m->path && m->path[0] == '/' && m->offset == 0 && m->inode != 0 &&
           strcmp(m->path, exe) != 0;
}

/* One mapped file: {path, build_id} when it is ELF. The file is opened
 * through map_files (the mapping itself, whatever the mount namespace),
 * or through the process's root. */
static void add_object(struct track *t, pid_t pid, const struct crash_map *m, cJSON *libs)
{
    char path[4200];
    const struct elfid *id;
    cJSON *o;

    snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid, m->start,
             m->end);
    if (access(path, F_OK) < 0)
        snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, m->path);
    id = elfid_lookup(t->ids, m->dev, m->inode, path);
    if (!id || !id->is_elf)
        return;
    o = cJSON_CreateObject();
    if (!o)
        return;
    cJSON_AddStringToObject(o, "path", m->path);
    if (id->build_id[0])
        cJSON_AddStringToObject(o, "build_id", id->build_id);
    cJSON_AddItemToArray(libs, o);
}

/* The shared objects in /proc/PID/maps, each once. */
static cJSON *read_objects(struct track *t, pid_t pid)
{
    char path[64], exe[4096];
    cleanup_free char *text = NULL;
    size_t len;
    uint64_t last_dev = 0, last_ino = 0;
    cJSON *libs;

    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    if (fdio_read_file(path, 1 << 22, &text, &len) < 0)
        return NULL;
    proc_link(pid, "exe", exe, sizeof(exe));
    libs = cJSON_CreateArray();
    for (const char *p = text; libs && p < text + len;) {
        const char *nl = memchr(p, '\n', (size_t)(text + len - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(text + len - p);
        struct crash_map m;
        if (procinfo_parse_maps_line(p, n, &m) == 0) {
            /* A file's mappings are adjacent: offset 0 comes once per load. */
            if (is_object(&m, exe) && (m.dev != last_dev || m.inode != last_ino))
                add_object(t, pid, &m, libs);
            if (m.path) {
                last_dev = m.dev;
                last_ino = m.inode;
            }
            free(m.path);
        }
        p += n + 1;
    }
    return libs;
}

void track_exit_stop(struct track *t, pid_t pid)
{
    cJSON *libs;

    if (!t || t->n_libs == TRACK_PENDING_MAX)
        return;
    for (size_t i = 0; i < t->n_libs; i++)
        if (t->libs[i].pid == pid)
            return; /* seen at an earlier thread's exit stop */
    libs = read_objects(t, pid);
    if (libs)
        t->libs[t->n_libs++] = (struct pending_libs){pid, libs};
}

/* pid's shared objects, if its exit stop was seen: taken, or NULL. */
static cJSON *take_libs(struct track *t, pid_t pid)
{
    for (size_t i = 0; i < t->n_libs; i++)
        if (t->libs[i].pid == pid) {
            cJSON *libs = t->libs[i].libs;
            t->libs[i] = t->libs[--t->n_libs];
            return libs;
        }
    return NULL;
}

static uint64_t tv_us(const struct timeval *tv)
{
    return (uint64_t)tv->tv_sec * 1000000 + (uint64_t)tv->tv_usec;
}

void track_exit(struct track *t, pid_t pid, pid_t ppid, int status, const struct rusage *ru)
{
    char text[64];
    struct summary s = {.len = 0};
    uint64_t start_ns = 0;
    bool has_start;
    cJSON *j, *libs;

    if (!t)
        return;
    emit_failed(t, pid, ppid);
    has_start = take_start(t, pid, &start_ns);
    /* Pids are reused only after a wrap of pid_max: a late fork event
     * for one of the last exits is that exit's. */
    t->early[t->i_early] = pid;
    t->i_early = (t->i_early + 1) % TRACK_EARLY_MAX;
    libs = take_libs(t, pid);
    j = cJSON_CreateObject();
    if (!j) {
        cJSON_Delete(libs);
        return;
    }
    cJSON_AddStringToObject(j, "event", "exit");
    cJSON_AddNumberToObject(j, "pid", pid);
    if (ppid > 0)
        cJSON_AddNumberToObject(j, "ppid", ppid);
    add_u64(j, "time_us", clock_real_us());
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
        add_u64(j, "duration_us", us);
        snprintf(text, sizeof(text), " after %" PRIu64 ".%" PRIu64 " ms", us / 1000,
                 us % 1000 / 100);
        put(&s, text, strlen(text));
    }
    if (ru) {
        add_u64(j, "user_us", tv_us(&ru->ru_utime));
        add_u64(j, "sys_us", tv_us(&ru->ru_stime));
        cJSON_AddNumberToObject(j, "maxrss_kb", (double)ru->ru_maxrss);
    }
    if (libs)
        cJSON_AddItemToObject(j, "libs", libs);
    emit(t, "exit", &s, j);
}

// SPDX-License-Identifier: MIT
/*
 * See ps.h. Records are read with XRANGE in chunks and grouped by their
 * run field; the last run is shown unless --run or --all says otherwise.
 * A pid seen again after its exit record is a new process (pids wrap).
 * The tree is printed depth first, children in the order they were first
 * seen; a process whose parent is not among the records is a root.
 */
#include "ps.h"

#include "cJSON.h"
#include "clock.h"
#include "crashes.h"
#include "log.h"
#include "macro.h"
#include "rconn.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK       "1000"
#define CHUNK_N     1000
#define DEPTH_MAX   64 /* deeper levels print at this indentation */
#define PS_RUNS_MAX 4096

static const char usage[] =
    "Usage: wrapp ps [CONFIG.json | --stream NAME] [--url URL] [--run ID | --all] [--json]\n"
    "Prints the process tree of the app's last run (like pstree), from the process\n"
    "tracking records in Redis (logs:app:<stream>:proc, DB 1; written with\n"
    "track.enabled or WRAPP_TRACK=1): each process's pid, command line (\"=>\" the\n"
    "programs it exec'd next), exit code or signal, wall time and failed execs.\n"
    "--run ID shows that run (IDs are listed by --all), --all every run; --json\n"
    "prints the run's records, one JSON object a line. Redis comes from --url,\n"
    "WRAPP_REDIS_URL or the config; the stream from --stream or the config.\n"
    "Exit status: 0 ok, 1 Redis unreachable or no records, 2 bad usage.\n";

static struct ps_proc *find_live(struct ps_run *run, pid_t pid)
{
    pid_t i = pidmap_get(&run->latest, pid, 0);

    return i > 0 && !run->v[i - 1].has_exit ? &run->v[i - 1] : NULL;
}

static struct ps_proc *new_proc(struct ps_run *run, pid_t pid, uint64_t t_us)
{
    if (run->n == run->cap) {
        size_t cap = run->cap ? run->cap * 2 : 64;
        struct ps_proc *v = realloc(run->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        run->v = v;
        run->cap = cap;
    }
    if (run->n >= INT32_MAX || pidmap_set(&run->latest, pid, (pid_t)run->n + 1) < 0)
        return NULL;
    run->v[run->n] = (struct ps_proc){.pid = pid, .first_us = t_us};
    return &run->v[run->n++];
}

static double num(const cJSON *j, const char *name, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);

    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static const char *str(const cJSON *j, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);

    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Append text to buf (size PS_CMD_MAX), ending in "..." when cut. */
static void append(char *buf, const char *text)
{
    size_t len = strlen(buf), n = strlen(text);

    if (len + n < PS_CMD_MAX) {
        memcpy(buf + len, text, n + 1);
    } else if (len + 4 <= PS_CMD_MAX) {
        n = PS_CMD_MAX - 4 - len;
        snprintf(buf + len, PS_CMD_MAX - len, "%.*s...", (int)n, text);
    }
}

/* The argv array as one line (control bytes become spaces). */
static void add_argv(char *buf, const cJSON *argv)
{
    const cJSON *a;
    bool is_first = true;

    cJSON_ArrayForEach(a, argv)
    {
        if (!cJSON_IsString(a))
            continue;
        if (!is_first)
            append(buf, " ");
        is_first = false;
        for (const char *p = a->valuestring; *p; p++) {
            char c[2] = {(char)((unsigned char)*p < 0x20 ? ' ' : *p), '\0'};
            append(buf, c);
        }
    }
}

static void take_exec(struct ps_proc *p, const cJSON *j)
{
    if (p->n_execs++ > 0)
        append(p->cmd, " => ");
    add_argv(p->cmd, cJSON_GetObjectItemCaseSensitive(j, "argv"));
    p->failed[0] = '\0';
}

static void take_exit(struct ps_proc *p, const cJSON *j)
{
    const char *sig = str(j, "signal");

    p->has_exit = true;
    p->is_signal = *sig != '\0';
    snprintf(p->signal, sizeof(p->signal), "%s", sig);
    p->has_core = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "core"));
    p->code = (int)num(j, "code", -1);
    p->has_duration = cJSON_GetObjectItemCaseSensitive(j, "duration_us") != NULL;
    p->duration_us = (uint64_t)num(j, "duration_us", 0);
}

int ps_add(struct ps_run *run, const char *json, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(json, len);
    const char *event = j ? str(j, "event") : "";
    pid_t pid = j ? (pid_t)num(j, "pid", 0) : 0;
    struct ps_proc *p;
    int r = 0;

    if (!*event || pid <= 0) {
        cJSON_Delete(j);
        return -EINVAL;
    }
    p = find_live(run, pid);
    if (!p)
        p = new_proc(run, pid, (uint64_t)num(j, "time_us", 0));
    if (!p) {
        r = -ENOMEM;
    } else {
        if (num(j, "ppid", 0) > 0)
            p->ppid = (pid_t)num(j, "ppid", 0);
        if (strcmp(event, "exec") == 0) {
            take_exec(p, j);
        } else if (strcmp(event, "exit") == 0) {
            take_exit(p, j);
        } else if (strcmp(event, "exec_failed") == 0) {
            snprintf(p->failed, sizeof(p->failed), "%s %s", str(j, "errno"), str(j, "path"));
            if (p->n_execs == 0) /* what it tried, as it was called */
                add_argv(p->cmd, cJSON_GetObjectItemCaseSensitive(j, "argv"));
        } else {
            r = -EINVAL;
        }
    }
    cJSON_Delete(j);
    return r;
}

void ps_run_fini(struct ps_run *run)
{
    free(run->v);
    pidmap_fini(&run->latest);
    *run = (struct ps_run){.id = ""};
}

static void duration(uint64_t us, char *buf, size_t size)
{
    if (us < 1000000)
        snprintf(buf, size, "%" PRIu64 ".%" PRIu64 " ms", us / 1000, us % 1000 / 100);
    else if (us < 600000000)
        snprintf(buf, size, "%" PRIu64 ".%02" PRIu64 " s", us / 1000000, us % 1000000 / 10000);
    else
        snprintf(buf, size, "%" PRIu64 " min", us / 60000000);
}

static void print_proc(const struct ps_proc *p, const char *prefix, const char *branch, FILE *out)
{
    char status[64], dur[32] = "";

    if (!p->has_exit)
        snprintf(status, sizeof(status), "no exit seen");
    else if (p->is_signal)
        snprintf(status, sizeof(status), "%s%s", p->signal, p->has_core ? " (core)" : "");
    else
        snprintf(status, sizeof(status), "exit %d", p->code);
    if (p->has_duration) {
        dur[0] = ',';
        dur[1] = ' ';
        duration(p->duration_us, dur + 2, sizeof(dur) - 2);
    }
    fprintf(out, "%s%s%d %s  [%s%s%s%s]\n", prefix, branch, (int)p->pid,
            *p->cmd ? p->cmd : "(no exec)", status, dur, *p->failed ? "; exec failed: " : "",
            p->failed);
}

/* The tree as links: parent[i] (SIZE_MAX: a root), each process's first
 * child and next sibling, in the order first seen. */
struct links {
    size_t *parent, *child, *next;
};

/* Records that contradict each other (reused pids) can make parent
 * links loop: each loop is cut where it is found, that process becoming
 * a root. Each node is walked once; state is scratch of n entries. */
static void cut_cycles(size_t n, size_t *parent, size_t *state)
{
    enum { NEW = 0, ON_PATH = 1, DONE = 2 };

    for (size_t i = 0; i < n; i++)
        state[i] = NEW;
    for (size_t i = 0; i < n; i++) {
        size_t k = i, last = SIZE_MAX;
        while (k != SIZE_MAX && state[k] == NEW) {
            state[k] = ON_PATH;
            last = k;
            k = parent[k];
        }
        if (k != SIZE_MAX && state[k] == ON_PATH)
            parent[last] = SIZE_MAX;
        for (k = i; k != SIZE_MAX && state[k] == ON_PATH; k = parent[k])
            state[k] = DONE;
    }
}

/* A process's parent is the newest process with its ppid seen before it,
 * else (a parent that only wrote its exit record, as a subshell does)
 * the first one seen after it. */
static int link_tree(const struct ps_run *run, struct links *l)
{
    struct pidmap seen = {0};
    size_t *tail;

    l->parent = malloc(run->n * sizeof(size_t));
    l->child = malloc(run->n * sizeof(size_t));
    l->next = malloc(run->n * sizeof(size_t));
    tail = malloc(run->n * sizeof(size_t));
    if (!l->parent || !l->child || !l->next || !tail) {
        free(tail);
        return -ENOMEM;
    }
    for (size_t i = 0; i < run->n; i++) {
        pid_t k = run->v[i].ppid ? pidmap_get(&seen, run->v[i].ppid, 0) : 0;
        l->parent[i] = k > 0 ? (size_t)k - 1 : SIZE_MAX;
        l->child[i] = l->next[i] = tail[i] = SIZE_MAX;
        pidmap_set(&seen, run->v[i].pid, (pid_t)i + 1);
    }
    pidmap_fini(&seen);
    for (size_t i = run->n; i-- > 0;) {
        pid_t k =
            run->v[i].ppid && l->parent[i] == SIZE_MAX ? pidmap_get(&seen, run->v[i].ppid, 0) : 0;
        if (k > 0)
            l->parent[i] = (size_t)k - 1;
        pidmap_set(&seen, run->v[i].pid, (pid_t)i + 1);
    }
    pidmap_fini(&seen);
    cut_cycles(run->n, l->parent, tail);
    for (size_t i = 0; i < run->n; i++) {
        l->child[i] = l->next[i] = tail[i] = SIZE_MAX;
    }
    for (size_t i = 0; i < run->n; i++) {
        size_t p = l->parent[i];
        if (p == SIZE_MAX || p == i)
            continue;
        if (tail[p] == SIZE_MAX)
            l->child[p] = i;
        else
            l->next[tail[p]] = i;
        tail[p] = i;
    }
    free(tail);
    return 0;
}

/* root's descendants, depth first, each line after the branches of its
 * ancestors (prefix: 3 bytes a level). */
static void print_tree(const struct ps_run *run, const struct links *l, size_t root, FILE *out)
{
    char prefix[3 * DEPTH_MAX + 1] = "";
    size_t k = l->child[root], depth = 0;

    while (k != SIZE_MAX) {
        bool is_last = l->next[k] == SIZE_MAX;
        prefix[3 * depth] = '\0';
        print_proc(&run->v[k], prefix, is_last ? "`- " : "|- ", out);
        if (l->child[k] != SIZE_MAX && depth + 1 < DEPTH_MAX) {
            memcpy(prefix + 3 * depth, is_last ? "   " : "|  ", 3);
            depth++;
            k = l->child[k];
            continue;
        }
        if (l->child[k] != SIZE_MAX) {
            memcpy(prefix + 3 * depth, is_last ? "   " : "|  ", 4);
            fprintf(out, "%s`- ... (deeper levels not shown)\n", prefix);
        }
        /* The next sibling, of k or of its nearest ancestor below root. */
        while (k != SIZE_MAX && l->next[k] == SIZE_MAX) {
            k = l->parent[k];
            if (k == root)
                k = SIZE_MAX;
            else
                depth--;
        }
        if (k != SIZE_MAX)
            k = l->next[k];
    }
}

void ps_print(const struct ps_run *run, FILE *out)
{
    char when[40] = "?";
    size_t n_failed = 0;
    struct tm tm;
    uint64_t id = strtoull(run->id, NULL, 10);
    struct links l = {0};

    for (size_t i = 0; i < run->n; i++)
        n_failed += run->v[i].failed[0] != '\0';
    if (id && clock_utc(id, &tm))
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
    fprintf(out, "run %s (%s): %zu processes, %zu failed execs\n", run->id, when, run->n, n_failed);
    if (link_tree(run, &l) < 0) {
        fprintf(out, "(out of memory)\n");
    } else {
        for (size_t i = 0; i < run->n; i++)
            if (l.parent[i] == SIZE_MAX || l.parent[i] == i) {
                print_proc(&run->v[i], "", "", out);
                print_tree(run, &l, i, out);
            }
    }
    free(l.parent);
    free(l.child);
    free(l.next);
}

enum { OPT_RUN = CRASHES_OPT_NEXT, OPT_ALL, OPT_JSON };

struct ps {
    struct crashes_redis rd;
    struct crashes_args args;
    const char *run_id; /* --run; NULL: the last (or --all) */
    bool is_all, is_json;
    struct ps_run cur;
    char **lines; /* --json: the current run's records */
    size_t n_lines, cap_lines;
    size_t n_shown;
};

static int parse(int argc, char **argv, struct ps *ps)
{
    static const struct option opts[] = {
        {"run", required_argument, NULL, OPT_RUN},
        {"all", no_argument, NULL, OPT_ALL},
        {"json", no_argument, NULL, OPT_JSON},
        CRASHES_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    int opt;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (opt == OPT_RUN)
            ps->run_id = optarg;
        else if (opt == OPT_ALL)
            ps->is_all = true;
        else if (opt == OPT_JSON)
            ps->is_json = true;
        else if (!crashes_option(opt, optarg, &ps->args))
            return crashes_usage(opt == 'h' ? STDOUT_FILENO : STDERR_FILENO, usage);
    }
    if (argc - optind > 1 || (ps->run_id && ps->is_all))
        return crashes_usage(STDERR_FILENO, usage);
    ps->args.config_path = argc - optind == 1 ? argv[optind] : NULL;
    return 0;
}

static void drop_lines(struct ps *ps)
{
    for (size_t i = 0; i < ps->n_lines; i++)
        free(ps->lines[i]);
    ps->n_lines = 0;
}

/* The current run is complete: show it if it is one asked for. */
static void finish_run(struct ps *ps, bool is_last)
{
    bool is_wanted = ps->run_id ? strcmp(ps->run_id, ps->cur.id) == 0 : ps->is_all || is_last;

    if (is_wanted && (ps->cur.n > 0 || ps->n_lines > 0)) {
        if (ps->is_json)
            for (size_t i = 0; i < ps->n_lines; i++)
                printf("%s\n", ps->lines[i]);
        else
            ps_print(&ps->cur, stdout);
        if (ps->is_all && !ps->is_json)
            printf("\n");
        ps->n_shown++;
    }
    drop_lines(ps);
    ps_run_fini(&ps->cur);
}

static int keep_line(struct ps *ps, const redisReply *json)
{
    if (ps->n_lines == ps->cap_lines) {
        size_t cap = ps->cap_lines ? ps->cap_lines * 2 : 256;
        char **v = realloc(ps->lines, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        ps->lines = v;
        ps->cap_lines = cap;
    }
    ps->lines[ps->n_lines] = strndup(json->str, json->len);
    if (!ps->lines[ps->n_lines])
        return -ENOMEM;
    ps->n_lines++;
    return 0;
}

static int take_entry(struct ps *ps, const redisReply *e)
{
    const redisReply *fields = crashes_entry_fields(e), *run, *json;

    if (!fields)
        return 0;
    run = crashes_field(fields, "run");
    json = crashes_field(fields, "json");
    if (!json)
        return 0;
    if (!run || strncmp(run->str, ps->cur.id, run->len) != 0 || ps->cur.id[run->len] != '\0') {
        if (*ps->cur.id)
            finish_run(ps, false);
        snprintf(ps->cur.id, sizeof(ps->cur.id), "%.*s", run ? (int)run->len : 1,
                 run ? run->str : "?");
    }
    if (ps->is_json)
        return keep_line(ps, json);
    return ps_add(&ps->cur, json->str, json->len) == -ENOMEM ? -ENOMEM : 0;
}

static int read_records(struct ps *ps)
{
    char start[80] = "-", last[64] = "";

    for (;;) {
        redisReply *rep = NULL;
        size_t n;
        int r = rconn_query(&ps->rd.conn, 6,
                            (const char *[]){"XRANGE", ps->rd.key, start, "+", "COUNT", CHUNK},
                            ps->rd.key, &rep);
        if (r < 0)
            return r;
        if (rep->type != REDIS_REPLY_ARRAY) {
            freeReplyObject(rep);
            return -EPROTO;
        }
        n = rep->elements;
        for (size_t i = 0; i < n && r == 0; i++) {
            r = take_entry(ps, rep->element[i]);
            if (rep->element[i]->type == REDIS_REPLY_ARRAY && rep->element[i]->elements == 2)
                snprintf(last, sizeof(last), "%.*s", (int)rep->element[i]->element[0]->len,
                         rep->element[i]->element[0]->str);
        }
        freeReplyObject(rep);
        if (r < 0)
            return log_error_errno(r, "wrapp ps: reading %s", ps->rd.key);
        if (n < CHUNK_N || !*last)
            return 0;
        snprintf(start, sizeof(start), "(%s", last);
    }
}

int ps_main(int argc, char **argv)
{
    struct ps ps = {.cur = {.id = ""}};
    int r = parse(argc, argv, &ps);

    if (r == 0)
        r = crashes_redis_init(&ps.rd, "wrapp ps", &ps.args);
    if (r != 0) {
        crashes_redis_fini(&ps.rd);
        return r > 0 ? 0 : CRASHES_EXIT_USAGE;
    }
    snprintf(ps.rd.key, sizeof(ps.rd.key), "%s%s:proc",
             ps.rd.cfg.redis.stream_prefix ? ps.rd.cfg.redis.stream_prefix : "logs:app:",
             ps.rd.opts.stream);
    r = crashes_redis_logs(&ps.rd);
    if (r == 0)
        r = read_records(&ps);
    if (r == 0 && *ps.cur.id)
        finish_run(&ps, true);
    fflush(stdout);
    if (r == 0 && ps.n_shown == 0) {
        if (ps.run_id)
            log_error("no run %s in %s; list the runs with wrapp ps --all", ps.run_id, ps.rd.key);
        else
            log_error("no process records in %s; they are written when track.enabled is true "
                      "(or WRAPP_TRACK=1)",
                      ps.rd.key);
        r = -ENOENT;
    }
    drop_lines(&ps);
    free(ps.lines);
    ps_run_fini(&ps.cur);
    crashes_redis_fini(&ps.rd);
    return r < 0 ? CRASHES_EXIT_NOT_FOUND : 0;
}

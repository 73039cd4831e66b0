// SPDX-License-Identifier: MIT
/*
 * See crashes.h. The list reads the :crash stream with XRANGE in chunks
 * (it is capped near 1000 entries by the writer) and summarises each
 * entry's `report` field with report_summary, asking the cores' DB on a
 * second connection whether its core is there (EXISTS on the manifest);
 * `show` reads one entry with XRANGE ID ID. Settings go defaults < config
 * file < environment < options, as for the init itself.
 */
#include "crashes.h"

#include "cli.h"
#include "config.h"
#include "coreup.h"
#include "fdio.h"
#include "log.h"
#include "rconn.h"
#include "report.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK   "1000"
#define CHUNK_N 1000

struct crashes {
    struct crashes_redis rd;
    struct crashes_args args;
    const char *show_id; /* NULL: list */
    bool is_json;
    bool has_cores; /* the cores' DB answered */
    size_t n_listed;
    char last_id[64];
};

static const char usage[] =
    "Usage: wrapp crashes [CONFIG.json | --stream NAME] [--url URL]\n"
    "       wrapp crashes show ID [--json] [CONFIG.json | --stream NAME] [--url URL]\n"
    "Lists the crashes wrapp recorded for an app in Redis (logs:app:<stream>:crash,\n"
    "DB 1), oldest first, one a line: entry ID, \"core\" when its core is in Redis\n"
    "(see wrapp core get; \"-\" when not), time, pid, signal, executable and the\n"
    "function that crashed. \"show ID\" prints that crash's backtrace, or with --json\n"
    "its JSON report. Redis comes from --url, WRAPP_REDIS_URL or the config; the\n"
    "stream from --stream or the config's app.stream_name or app.executable.\n"
    "Exit status: 0 ok, 1 Redis unreachable or no such crash, 2 bad usage.\n";

bool crashes_is_entry_id(const char *s)
{
    size_t i = 0, ms = 0, seq = 0;

    for (; s[i] >= '0' && s[i] <= '9'; i++)
        ms++;
    if (s[i] == '-')
        for (i++; s[i] >= '0' && s[i] <= '9'; i++)
            seq++;
    if (ms == 0 || ms > 20 || seq > 20 || s[i] != '\0')
        return false;
    return s[i - 1] != '-';
}

bool crashes_option(int opt, const char *arg, struct crashes_args *a)
{
    if (opt == CRASHES_OPT_STREAM)
        a->stream = arg;
    else if (opt == CRASHES_OPT_URL)
        a->url = arg;
    return opt == CRASHES_OPT_STREAM || opt == CRASHES_OPT_URL;
}

enum { OPT_JSON = CRASHES_OPT_NEXT };

/* Returns 0, 1 (--help printed) or -EINVAL (usage printed or logged). */
static int parse(int argc, char **argv, struct crashes *cr)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, OPT_JSON},
        CRASHES_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    int opt, n;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (opt == OPT_JSON)
            cr->is_json = true;
        else if (!crashes_option(opt, optarg, &cr->args))
            return crashes_usage(opt == 'h' ? STDOUT_FILENO : STDERR_FILENO, usage);
    }
    argv += optind;
    n = argc - optind;
    if (n > 0 && strcmp(argv[0], "show") == 0) {
        if (n < 2)
            return crashes_usage(STDERR_FILENO, usage);
        cr->show_id = argv[1];
        argv += 2;
        n -= 2;
    }
    if (n > 1)
        return crashes_usage(STDERR_FILENO, usage);
    cr->args.config_path = n == 1 ? argv[0] : NULL;
    if (cr->show_id && !crashes_is_entry_id(cr->show_id))
        return log_error("crash ID \"%s\": not a stream entry ID; use one that `wrapp crashes` "
                         "lists, such as 1732319999123-0",
                         cr->show_id),
               -EINVAL;
    if (cr->is_json && !cr->show_id)
        return log_error("--json goes with \"show ID\"; see wrapp crashes --help"), -EINVAL;
    return 0;
}

/* Defaults < config file < environment < options. */
static int configure(struct crashes_redis *rd, const struct crashes_args *a)
{
    int r = 0;

    if (a->config_path)
        r = config_load_file(&rd->cfg, a->config_path);
    if (r == 0)
        r = cli_apply_env(environ, &rd->cfg);
    if (r == 0 && a->stream)
        r = config_set_str(&rd->cfg.app.stream_name, a->stream);
    if (r == 0 && a->url) {
        r = config_set_str(&rd->cfg.redis.url, a->url);
        rd->cfg.redis.is_set = true;
    }
    if (r == -ENOMEM)
        log_error_errno(r, "%s", rd->cmd);
    if (r == 0 && !rd->cfg.app.stream_name && !rd->cfg.app.executable) {
        log_error("no stream to read: give --stream NAME or a config with app.executable; "
                  "see %s --help",
                  rd->cmd);
        r = -EINVAL;
    }
    return r;
}

int crashes_redis_init(struct crashes_redis *rd, const char *cmd, const struct crashes_args *a)
{
    int r;

    rd->cmd = cmd;
    rd->conn.db = rd->core.db = -1;
    config_init(&rd->cfg);
    rd->is_inited = true;
    r = configure(rd, a);
    if (r == 0)
        r = rconn_target_from_config(&rd->cfg, &rd->target);
    if (r < 0)
        return r;
    coreup_opts_from_config(&rd->cfg, &rd->target, rd->stream, sizeof(rd->stream), &rd->opts);
    snprintf(
        rd->key, sizeof(rd->key), "%s%s:crash",
        rd->cfg.redis.stream_prefix ? rd->cfg.redis.stream_prefix : "logs:app:", rd->opts.stream);
    return 0;
}

void crashes_redis_fini(struct crashes_redis *rd)
{
    if (!rd->is_inited)
        return;
    rconn_close(&rd->conn);
    rconn_close(&rd->core);
    rconn_target_fini(&rd->target);
    config_fini(&rd->cfg);
    rd->is_inited = false;
}

/* Connect c to the target's server on db, for reading what. */
static int connect_db(struct crashes_redis *rd, struct rconn *c, int db, const char *what)
{
    char why[RCONN_WHY_MAX];
    int saved = rd->target.db, r;

    if (c->ctx)
        return 0;
    rd->target.db = db;
    r = rconn_open(&rd->target, c, why, sizeof(why));
    rd->target.db = saved;
    if (r < 0) {
        char name[300];
        log_error("cannot reach Redis at %s to read %s: %s; check --url, WRAPP_REDIS_URL or the "
                  "config's redis section",
                  rconn_target_name(&rd->target, name, sizeof(name)), what, why);
    }
    return r;
}

int crashes_redis_logs(struct crashes_redis *rd)
{
    return connect_db(rd, &rd->conn, rd->target.db, rd->key);
}

int crashes_redis_cores(struct crashes_redis *rd)
{
    char what[600];

    snprintf(what, sizeof(what), "the cores (DB %d)", rd->opts.db);
    return connect_db(rd, &rd->core, rd->opts.db, what);
}

static int command(struct crashes_redis *rd, int argc, const char **argv, redisReply **ret)
{
    int r = crashes_redis_logs(rd);

    if (r < 0)
        return r;
    r = rconn_query(&rd->conn, argc, argv, rd->key, ret);
    if (r == 0 && (*ret)->type != REDIS_REPLY_ARRAY) {
        log_error("reading %s from Redis: expected an array reply, got type %d; is it a stream?",
                  rd->key, (*ret)->type);
        freeReplyObject(*ret);
        r = -EPROTO;
    }
    return r;
}

/* An XRANGE entry's fields, or NULL when it is not [id, [k, v, ...]]. */
const redisReply *crashes_entry_fields(const redisReply *e)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
        e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_ARRAY)
        return NULL;
    return e->element[1];
}

const redisReply *crashes_field(const redisReply *fields, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        const redisReply *k = fields->element[i], *v = fields->element[i + 1];
        if (k->type == REDIS_REPLY_STRING && k->len == n && memcmp(k->str, name, n) == 0 &&
            v->type == REDIS_REPLY_STRING)
            return v;
    }
    return NULL;
}

/* "core" when the report's core is in Redis, "-" when not, "?" when
 * that cannot be told. */
static const char *core_mark(struct crashes *cr, const redisReply *report)
{
    char id[COREUP_ID_MAX], key[COREUP_KEY_MAX];
    const struct coreup_opts *o = &cr->rd.opts;
    redisReply *rep = NULL;
    const char *mark = "?";

    if (!cr->has_cores || !report ||
        coreup_id_from_report(report->str, report->len, id, sizeof(id)) < 0 ||
        coreup_key(key, sizeof(key), o->prefix, o->stream, id, -1) < 0)
        return mark;
    if (rconn_query(&cr->rd.core, 2, (const char *[]){"EXISTS", key}, key, &rep) < 0) {
        cr->has_cores = false;
        return mark;
    }
    if (rep->type == REDIS_REPLY_INTEGER)
        mark = rep->integer > 0 ? "core" : "-";
    freeReplyObject(rep);
    return mark;
}

static void print_summary(struct crashes *cr, const redisReply *e)
{
    const redisReply *fields = crashes_entry_fields(e), *report;
    struct report_summary s;
    const char *mark;

    if (!fields)
        return;
    snprintf(cr->last_id, sizeof(cr->last_id), "%.*s", (int)e->element[0]->len, e->element[0]->str);
    cr->n_listed++;
    report = crashes_field(fields, "report");
    mark = core_mark(cr, report);
    if (!report || report_summary(report->str, report->len, &s) < 0) {
        printf("%s  %-4s  (no readable report; try wrapp crashes show %s)\n", cr->last_id, mark,
               cr->last_id);
        return;
    }
    printf("%s  %-4s  %s  pid %d  %s  %s  %s\n", cr->last_id, mark, *s.time ? s.time : "?", s.pid,
           *s.signal ? s.signal : "?", *s.exe ? s.exe : "?", *s.function ? s.function : "??");
}

static int list(struct crashes *cr)
{
    char start[80] = "-";

    int r = crashes_redis_logs(&cr->rd);

    if (r < 0)
        return r;
    /* Without the cores' DB the list still says what crashed: "?". */
    cr->has_cores = crashes_redis_cores(&cr->rd) == 0;
    for (;;) {
        redisReply *rep = NULL;
        size_t n;
        r = command(&cr->rd, 6, (const char *[]){"XRANGE", cr->rd.key, start, "+", "COUNT", CHUNK},
                    &rep);
        if (r < 0)
            return r;
        n = rep->elements;
        for (size_t i = 0; i < n; i++)
            print_summary(cr, rep->element[i]);
        freeReplyObject(rep);
        if (n < CHUNK_N || !*cr->last_id)
            break;
        snprintf(start, sizeof(start), "(%s", cr->last_id);
    }
    fflush(stdout);
    if (cr->n_listed == 0)
        fprintf(stderr, "no crashes recorded in %s\n", cr->rd.key);
    return 0;
}

int crashes_entry_field(struct crashes_redis *rd, const char *id, const char *name,
                        redisReply **ret_reply, const redisReply **ret_value)
{
    redisReply *rep = NULL;
    const redisReply *fields, *v;
    int r = command(rd, 6, (const char *[]){"XRANGE", rd->key, id, id, "COUNT", "1"}, &rep);

    if (r < 0)
        return r;
    fields = rep->elements == 1 ? crashes_entry_fields(rep->element[0]) : NULL;
    v = fields ? crashes_field(fields, name) : NULL;
    if (!fields)
        log_error("crash %s not found in %s; list the IDs with wrapp crashes", id, rd->key);
    else if (!v)
        log_error("crash %s in %s has no %s field; it was not written by wrapp's crash handler", id,
                  rd->key, name);
    if (!v) {
        freeReplyObject(rep);
        return -ENOENT;
    }
    *ret_reply = rep;
    *ret_value = v;
    return 0;
}

static int show(struct crashes *cr)
{
    redisReply *rep = NULL;
    const redisReply *v = NULL;
    int r = crashes_entry_field(&cr->rd, cr->show_id, cr->is_json ? "report" : "message", &rep, &v);

    if (r < 0)
        return r;
    fdio_write_all(STDOUT_FILENO, v->str, v->len);
    if (v->len == 0 || v->str[v->len - 1] != '\n')
        fdio_write_all(STDOUT_FILENO, "\n", 1);
    freeReplyObject(rep);
    return 0;
}

int crashes_main(int argc, char **argv)
{
    struct crashes cr = {0};
    int r;

    r = parse(argc, argv, &cr);
    if (r == 0)
        r = crashes_redis_init(&cr.rd, "wrapp crashes", &cr.args);
    if (r != 0) {
        crashes_redis_fini(&cr.rd);
        return r > 0 ? 0 : CRASHES_EXIT_USAGE;
    }
    r = cr.show_id ? show(&cr) : list(&cr);
    crashes_redis_fini(&cr.rd);
    return r < 0 ? CRASHES_EXIT_NOT_FOUND : 0;
}

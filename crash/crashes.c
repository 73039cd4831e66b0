// SPDX-License-Identifier: MIT
/*
 * See crashes.h. The list reads the :crash stream with XRANGE in chunks
 * (it is capped near 1000 entries by the writer) and summarises each
 * entry's `report` field with report_summary; `show` reads one entry with
 * XRANGE ID ID. Settings go defaults < config file < environment <
 * options, as for the init itself.
 */
#include "crashes.h"

#include "cli.h"
#include "config.h"
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
    struct rconn conn;
    char key[512];
    const char *config_path; /* borrowed from argv; NULL: none */
    const char *stream;      /* --stream */
    const char *url;         /* --url */
    const char *show_id;     /* NULL: list */
    bool is_json;
    size_t n_listed;
    char last_id[64];
};

static const char usage[] =
    "Usage: wrapp crashes [CONFIG.json | --stream NAME] [--url URL]\n"
    "       wrapp crashes show ID [--json] [CONFIG.json | --stream NAME] [--url URL]\n"
    "Lists the crashes wrapp recorded for an app in Redis (logs:app:<stream>:crash,\n"
    "DB 1), oldest first, one a line: entry ID, time, pid, signal, executable and the\n"
    "function that crashed. \"show ID\" prints that crash's backtrace, or with --json\n"
    "its JSON report. Redis comes from --url, WRAPP_REDIS_URL or the config; the\n"
    "stream from --stream or the config's app.stream_name or app.executable.\n"
    "Exit status: 0 ok, 1 Redis unreachable or no such crash, 2 bad usage.\n";

static int print_usage(int fd)
{
    fdio_write_all(fd, usage, sizeof(usage) - 1);
    return fd == STDOUT_FILENO ? 1 : -EINVAL;
}

/* A stream entry ID as XADD makes them: "<ms>" or "<ms>-<seq>". */
static bool is_entry_id(const char *s)
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

enum { OPT_JSON = 0x100, OPT_STREAM, OPT_URL };

/* Returns 0, 1 (--help printed) or -EINVAL (usage printed or logged). */
static int parse(int argc, char **argv, struct crashes *cr)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, OPT_JSON},
        {"stream", required_argument, NULL, OPT_STREAM},
        {"url", required_argument, NULL, OPT_URL},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt, n;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (opt == OPT_JSON)
            cr->is_json = true;
        else if (opt == OPT_STREAM)
            cr->stream = optarg;
        else if (opt == OPT_URL)
            cr->url = optarg;
        else
            return print_usage(opt == 'h' ? STDOUT_FILENO : STDERR_FILENO);
    }
    argv += optind;
    n = argc - optind;
    if (n > 0 && strcmp(argv[0], "show") == 0) {
        if (n < 2)
            return print_usage(STDERR_FILENO);
        cr->show_id = argv[1];
        argv += 2;
        n -= 2;
    }
    if (n > 1)
        return print_usage(STDERR_FILENO);
    cr->config_path = n == 1 ? argv[0] : NULL;
    if (cr->show_id && !is_entry_id(cr->show_id))
        return log_error("crash ID \"%s\": not a stream entry ID; use one that `wrapp crashes` "
                         "lists, such as 1732319999123-0",
                         cr->show_id),
               -EINVAL;
    if (cr->is_json && !cr->show_id)
        return log_error("--json goes with \"show ID\"; see wrapp crashes --help"), -EINVAL;
    return 0;
}

/* Defaults < config file < environment < options. */
static int configure(const struct crashes *cr, struct config *cfg)
{
    int r = 0;

    if (cr->config_path)
        r = config_load_file(cfg, cr->config_path);
    if (r == 0)
        r = cli_apply_env(environ, cfg);
    if (r == 0 && cr->stream)
        r = config_set_str(&cfg->app.stream_name, cr->stream);
    if (r == 0 && cr->url) {
        r = config_set_str(&cfg->redis.url, cr->url);
        cfg->redis.is_set = true;
    }
    if (r == -ENOMEM)
        log_error_errno(r, "wrapp crashes");
    if (r == 0 && !cfg->app.stream_name && !cfg->app.executable) {
        log_error("no stream to read: give --stream NAME or a config with app.executable; "
                  "see wrapp crashes --help");
        r = -EINVAL;
    }
    return r;
}

/* The key <prefix><stream>:crash and a connection to its Redis. */
static int open_stream(struct crashes *cr, const struct config *cfg,
                       const struct rconn_target *target)
{
    char why[RCONN_WHY_MAX], buf[256];
    int r;

    snprintf(cr->key, sizeof(cr->key), "%s%s:crash",
             cfg->redis.stream_prefix ? cfg->redis.stream_prefix : "logs:app:",
             config_stream_name(cfg, buf, sizeof(buf)));
    r = rconn_open(target, &cr->conn, why, sizeof(why));
    if (r < 0) {
        char name[300];
        log_error("cannot reach Redis at %s to read %s: %s; check --url, WRAPP_REDIS_URL or the "
                  "config's redis section",
                  rconn_target_name(target, name, sizeof(name)), cr->key, why);
    }
    return r;
}

static int command(struct crashes *cr, int argc, const char **argv, redisReply **ret)
{
    int r = rconn_query(&cr->conn, argc, argv, cr->key, ret);

    if (r == 0 && (*ret)->type != REDIS_REPLY_ARRAY) {
        log_error("reading %s from Redis: expected an array reply, got type %d; is it a stream?",
                  cr->key, (*ret)->type);
        freeReplyObject(*ret);
        r = -EPROTO;
    }
    return r;
}

/* An XRANGE entry's fields, or NULL when it is not [id, [k, v, ...]]. */
static const redisReply *entry_fields(const redisReply *e)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
        e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_ARRAY)
        return NULL;
    return e->element[1];
}

static const redisReply *field(const redisReply *fields, const char *name)
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

static void print_summary(struct crashes *cr, const redisReply *e)
{
    const redisReply *fields = entry_fields(e), *report;
    struct report_summary s;

    if (!fields)
        return;
    snprintf(cr->last_id, sizeof(cr->last_id), "%.*s", (int)e->element[0]->len, e->element[0]->str);
    cr->n_listed++;
    report = field(fields, "report");
    if (!report || report_summary(report->str, report->len, &s) < 0) {
        printf("%s  (no readable report; try wrapp crashes show %s)\n", cr->last_id, cr->last_id);
        return;
    }
    printf("%s  %s  pid %d  %s  %s  %s\n", cr->last_id, *s.time ? s.time : "?", s.pid,
           *s.signal ? s.signal : "?", *s.exe ? s.exe : "?", *s.function ? s.function : "??");
}

static int list(struct crashes *cr)
{
    char start[80] = "-";

    for (;;) {
        redisReply *rep = NULL;
        size_t n;
        int r =
            command(cr, 6, (const char *[]){"XRANGE", cr->key, start, "+", "COUNT", CHUNK}, &rep);
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
        fprintf(stderr, "no crashes recorded in %s\n", cr->key);
    return 0;
}

static int show(struct crashes *cr)
{
    const char *name = cr->is_json ? "report" : "message";
    redisReply *rep = NULL;
    const redisReply *fields, *v;
    int r = command(
        cr, 6, (const char *[]){"XRANGE", cr->key, cr->show_id, cr->show_id, "COUNT", "1"}, &rep);

    if (r < 0)
        return r;
    fields = rep->elements == 1 ? entry_fields(rep->element[0]) : NULL;
    v = fields ? field(fields, name) : NULL;
    if (!fields)
        log_error("crash %s not found in %s; list the IDs with wrapp crashes", cr->show_id,
                  cr->key);
    else if (!v)
        log_error("crash %s in %s has no %s field; it was not written by wrapp's crash handler",
                  cr->show_id, cr->key, name);
    else {
        fdio_write_all(STDOUT_FILENO, v->str, v->len);
        if (v->len == 0 || v->str[v->len - 1] != '\n')
            fdio_write_all(STDOUT_FILENO, "\n", 1);
    }
    freeReplyObject(rep);
    return v ? 0 : -ENOENT;
}

int crashes_main(int argc, char **argv)
{
    struct crashes cr = {.conn = {.db = -1}};
    struct config cfg;
    struct rconn_target target;
    int r;

    config_init(&cfg);
    r = parse(argc, argv, &cr);
    if (r == 0)
        r = configure(&cr, &cfg);
    if (r == 0)
        r = rconn_target_from_config(&cfg, &target);
    if (r != 0) {
        config_fini(&cfg);
        return r > 0 ? 0 : CRASHES_EXIT_USAGE;
    }
    r = open_stream(&cr, &cfg, &target);
    if (r == 0)
        r = cr.show_id ? show(&cr) : list(&cr);
    rconn_close(&cr.conn);
    rconn_target_fini(&target);
    config_fini(&cfg);
    return r < 0 ? CRASHES_EXIT_NOT_FOUND : 0;
}

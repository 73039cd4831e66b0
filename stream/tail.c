// SPDX-License-Identifier: MIT
/*
 * See tail.h. History is read with XRANGE in chunks (or XREVRANGE for
 * -n), then, with -f, new entries with XREAD BLOCK from the last ID seen
 * (never "$" again, which would skip entries arriving between calls).
 */
#include "tail.h"

#include "cli.h"
#include "config.h"
#include "fdio.h"
#include "log.h"
#include "rconn.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TAIL_CHUNK   "1000"
#define TAIL_CHUNK_N 1000

struct tail {
    struct rconn conn;
    char key[512];
    char last_id[64];
    bool is_follow, is_stderr_only, is_stdout_only;
    long count; /* -n: the last N entries, 0: all */
    char since[32];
    const char *stream; /* --stream (argv) */
};

static const char usage[] =
    "Usage: wrapp logs [-f] [-n N] [--since 10m|2h|EPOCH] [--stderr-only|--stdout-only]\n"
    "                  [CONFIG.json | --stream NAME]\n"
    "Prints an app's output from Redis (logs:app:<stream>:info, DB 1). Redis comes from\n"
    "the config or WRAPP_REDIS_URL; the stream from --stream or the config.\n";

/* "10m", "2h", "30s", "1d" ago, or an epoch in seconds: a stream ID (ms). */
static int parse_since(const char *s, char *buf, size_t size)
{
    char *end;
    double v = strtod(s, &end);
    double mult = 0;
    time_t now = time(NULL);

    if (end == s || v < 0)
        return -EINVAL;
    if (!strcmp(end, "s"))
        mult = 1;
    else if (!strcmp(end, "m"))
        mult = 60;
    else if (!strcmp(end, "h"))
        mult = 3600;
    else if (!strcmp(end, "d"))
        mult = 86400;
    else if (*end)
        return -EINVAL;
    snprintf(buf, size, "%.0f", mult ? ((double)now - v * mult) * 1000.0 : v * 1000.0);
    return 0;
}

static void print_entry(struct tail *t, const redisReply *e)
{
    const redisReply *f;
    const char *msg = NULL;
    size_t len = 0;
    bool is_err = false;

    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
        return;
    snprintf(t->last_id, sizeof(t->last_id), "%.*s", (int)e->element[0]->len, e->element[0]->str);
    f = e->element[1];
    for (size_t i = 0; i + 1 < f->elements; i += 2) {
        const redisReply *k = f->element[i], *v = f->element[i + 1];
        if (k->len == 7 && !memcmp(k->str, "message", 7)) {
            msg = v->str;
            len = v->len;
        } else if (k->len == 2 && !memcmp(k->str, "fd", 2)) {
            is_err = v->len == 3 && !memcmp(v->str, "err", 3);
        }
    }
    if (!msg || (t->is_stderr_only && !is_err) || (t->is_stdout_only && is_err))
        return;
    fdio_write_all(is_err ? STDERR_FILENO : STDOUT_FILENO, msg, len);
    fdio_write_all(is_err ? STDERR_FILENO : STDOUT_FILENO, "\n", 1);
}

static int command(struct tail *t, int argc, const char **argv, redisReply **ret)
{
    return rconn_query(&t->conn, argc, argv, t->key, ret);
}

static int history(struct tail *t)
{
    redisReply *rep = NULL;
    char start[80];
    int r;

    if (t->count > 0) {
        char n[24];
        snprintf(n, sizeof(n), "%ld", t->count);
        r = command(t, 6, (const char *[]){"XREVRANGE", t->key, "+", "-", "COUNT", n}, &rep);
        for (size_t i = rep && r == 0 ? rep->elements : 0; i > 0; i--)
            print_entry(t, rep->element[i - 1]);
        freeReplyObject(rep);
        return r;
    }
    snprintf(start, sizeof(start), "%s", *t->since ? t->since : "-");
    for (;;) {
        r = command(t, 6, (const char *[]){"XRANGE", t->key, start, "+", "COUNT", TAIL_CHUNK},
                    &rep);
        if (r < 0)
            return r;
        for (size_t i = 0; i < rep->elements; i++)
            print_entry(t, rep->element[i]);
        r = (int)rep->elements;
        freeReplyObject(rep);
        if (r < TAIL_CHUNK_N)
            return 0;
        snprintf(start, sizeof(start), "(%s", t->last_id);
    }
}

static int follow(struct tail *t)
{
    if (!*t->last_id)
        snprintf(t->last_id, sizeof(t->last_id), "%s", *t->since ? t->since : "$");
    for (;;) {
        redisReply *rep = NULL;
        int r = command(t, 8,
                        (const char *[]){"XREAD", "COUNT", TAIL_CHUNK, "BLOCK", "2000", "STREAMS",
                                         t->key, t->last_id},
                        &rep);
        if (r < 0)
            return r;
        if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
            rep->element[0]->elements == 2) {
            const redisReply *list = rep->element[0]->element[1];
            for (size_t i = 0; i < list->elements; i++)
                print_entry(t, list->element[i]);
        }
        freeReplyObject(rep);
    }
}

enum { OPT_SINCE = 0x100, OPT_STDERR, OPT_STDOUT, OPT_STREAM };

static int parse(int argc, char **argv, struct tail *t, struct config *cfg)
{
    static const struct option opts[] = {
        {"follow", no_argument, NULL, 'f'},
        {"since", required_argument, NULL, OPT_SINCE},
        {"stderr-only", no_argument, NULL, OPT_STDERR},
        {"stdout-only", no_argument, NULL, OPT_STDOUT},
        {"stream", required_argument, NULL, OPT_STREAM},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "+fn:h", opts, NULL)) != -1) {
        if (opt == 'f')
            t->is_follow = true;
        else if (opt == 'n')
            t->count = strtol(optarg, NULL, 10);
        else if (opt == OPT_SINCE && parse_since(optarg, t->since, sizeof(t->since)) < 0)
            return log_error("--since \"%s\": expected 30s, 10m, 2h, 1d or an epoch in seconds",
                             optarg),
                   -EINVAL;
        else if (opt == OPT_STDERR)
            t->is_stderr_only = true;
        else if (opt == OPT_STDOUT)
            t->is_stdout_only = true;
        else if (opt == OPT_STREAM)
            t->stream = optarg;
        else if (opt == 'h' || opt == '?')
            return fdio_write_all(opt == 'h' ? STDOUT_FILENO : STDERR_FILENO, usage,
                                  sizeof(usage) - 1),
                   opt == 'h' ? 1 : -EINVAL;
    }
    /* Precedence as for the init: config file < environment < options. */
    if (optind < argc && config_load_file(cfg, argv[optind]) < 0)
        return -EINVAL;
    if (cli_apply_env(environ, cfg) < 0)
        return -EINVAL;
    if (t->stream && config_set_str(&cfg->app.stream_name, t->stream) < 0)
        return -ENOMEM;
    return 0;
}

int tail_main(int argc, char **argv)
{
    struct tail t = {.conn = {.db = -1}};
    struct config cfg;
    struct rconn_target target;
    char why[RCONN_WHY_MAX], buf[256];
    int r;

    config_init(&cfg);
    r = parse(argc, argv, &t, &cfg);
    if (r == 0 && !cfg.app.stream_name && !cfg.app.executable) {
        fdio_write_all(STDERR_FILENO, usage, sizeof(usage) - 1);
        r = -EINVAL;
    }
    if (r == 0)
        r = rconn_target_from_config(&cfg, &target);
    if (r != 0) {
        config_fini(&cfg);
        return r > 0 ? 0 : 2;
    }
    snprintf(t.key, sizeof(t.key), "%s%s:info",
             cfg.redis.stream_prefix ? cfg.redis.stream_prefix : "logs:app:",
             config_stream_name(&cfg, buf, sizeof(buf)));
    r = rconn_open(&target, &t.conn, why, sizeof(why));
    if (r < 0) {
        char name[300];
        log_error("cannot reach Redis at %s: %s", rconn_target_name(&target, name, sizeof(name)),
                  why);
    }
    if (r == 0)
        r = history(&t);
    if (r == 0 && t.is_follow)
        r = follow(&t);
    rconn_close(&t.conn);
    rconn_target_fini(&target);
    config_fini(&cfg);
    return r < 0 ? 1 : 0;
}

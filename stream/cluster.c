// SPDX-License-Identifier: MIT
/*
 * Redis Cluster helpers (see cluster.h). The map is a list of slot
 * ranges, looked up linearly: a cluster has a few ranges per master, and
 * a lookup happens once per connection or redirection, not per line.
 */
#include "cluster.h"

#include "crc16.h"
#include "decimal.h"
#include "rconn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct cluster_map *cluster_map_free(struct cluster_map *m)
{
    if (!m)
        return NULL;
    for (size_t i = 0; i < m->n; i++)
        free(m->ranges[i].host);
    free(m->ranges);
    free(m);
    return NULL;
}

static bool is_int(const redisReply *r, unsigned max)
{
    return r->type == REDIS_REPLY_INTEGER && r->integer >= 0 && r->integer <= (long long)max;
}

/* One [start, end, [host, port, ...], ...] entry. */
static int parse_range(const redisReply *e, const char *fallback, struct cluster_range *ret)
{
    const redisReply *node;

    if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 || !is_int(e->element[0], 16383) ||
        !is_int(e->element[1], 16383) || e->element[0]->integer > e->element[1]->integer)
        return -EPROTO;
    node = e->element[2];
    if (node->type != REDIS_REPLY_ARRAY || node->elements < 2 ||
        node->element[0]->type != REDIS_REPLY_STRING || !is_int(node->element[1], 65535) ||
        node->element[1]->integer == 0 || node->element[0]->len >= RCONN_HOST_MAX ||
        memchr(node->element[0]->str, '\0', node->element[0]->len))
        return -EPROTO;
    ret->start = (unsigned)e->element[0]->integer;
    ret->end = (unsigned)e->element[1]->integer;
    ret->port = (int)node->element[1]->integer;
    /* "" or "?": the node does not know how it is reached; use the seed. */
    if (node->element[0]->len == 0 || strcmp(node->element[0]->str, "?") == 0)
        ret->host = strdup(fallback);
    else
        ret->host = strndup(node->element[0]->str, node->element[0]->len);
    return ret->host ? 0 : -ENOMEM;
}

int cluster_map_parse(const redisReply *rep, const char *fallback_host, struct cluster_map **ret)
{
    struct cluster_map *m;
    int r = 0;

    if (rep->type != REDIS_REPLY_ARRAY || rep->elements > CLUSTER_RANGES_MAX)
        return -EPROTO;
    m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->ranges = calloc(rep->elements ? rep->elements : 1, sizeof(*m->ranges));
    if (!m->ranges)
        r = -ENOMEM;
    for (size_t i = 0; r == 0 && i < rep->elements; i++) {
        r = parse_range(rep->element[i], fallback_host, &m->ranges[m->n]);
        if (r == 0)
            m->n++;
    }
    if (r < 0) {
        cluster_map_free(m);
        return r;
    }
    *ret = m;
    return 0;
}

int cluster_map_lookup(const struct cluster_map *m, unsigned slot, const char **ret_host,
                       int *ret_port)
{
    for (size_t i = 0; m && i < m->n; i++)
        if (slot >= m->ranges[i].start && slot <= m->ranges[i].end) {
            *ret_host = m->ranges[i].host;
            *ret_port = m->ranges[i].port;
            return 0;
        }
    return -ENOENT;
}

int cluster_parse_redirect(const char *s, size_t len, bool *ret_is_ask, unsigned *ret_slot,
                           char *host, size_t host_size, int *ret_port)
{
    char buf[RCONN_HOST_MAX + 32], *sp, *colon;
    bool is_ask;
    long slot, port;

    if (len >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (strncmp(buf, "MOVED ", 6) == 0)
        is_ask = false;
    else if (strncmp(buf, "ASK ", 4) == 0)
        is_ask = true;
    else
        return -EINVAL;
    s = buf + (is_ask ? 4 : 6);
    sp = strchr(s, ' ');
    colon = sp ? strrchr(sp + 1, ':') : NULL;
    if (!colon || colon == sp + 1 || (size_t)(colon - sp - 1) >= host_size)
        return -EINVAL;
    *sp = *colon = '\0';
    slot = decimal_parse(s, 0, CRC16_SLOTS - 1);
    port = decimal_parse(colon + 1, 1, 65535);
    if (slot < 0 || port < 0)
        return -EINVAL;
    *ret_is_ask = is_ask;
    *ret_slot = (unsigned)slot;
    snprintf(host, host_size, "%s", sp + 1);
    *ret_port = (int)port;
    return 0;
}

/* Where the stream name (tag) starts in key: right after one of the
 * known prefixes when it is there, else the first ':'-delimited segment
 * equal to it; -1 when none. */
static long find_tag(const char *key, size_t len, const char *tag, const char *const *prefixes)
{
    size_t tlen = strlen(tag);

    for (size_t k = 0; tlen && prefixes && prefixes[k]; k++) {
        size_t p = strlen(prefixes[k]);
        if (p + tlen <= len && memcmp(key, prefixes[k], p) == 0 &&
            memcmp(key + p, tag, tlen) == 0 && (p + tlen == len || key[p + tlen] == ':'))
            return (long)p;
    }
    for (size_t i = 0; tlen && i + tlen <= len; i++)
        if ((i == 0 || key[i - 1] == ':') && memcmp(key + i, tag, tlen) == 0 &&
            (i + tlen == len || key[i + tlen] == ':'))
            return (long)i;
    return -1;
}

static bool has_tag(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);

    return open && memchr(open + 1, '}', len - (size_t)(open - key) - 1) != NULL;
}

int cluster_key(const char *db_prefix, int db, const char *tag, const char *const *prefixes,
                const char *key, size_t len, char *out, size_t size)
{
    size_t tlen = tag ? strlen(tag) : 0, n = 0;
    long at = has_tag(key, len) ? -1 : find_tag(key, len, tag ? tag : "", prefixes);
    int k = 0;

    if (db_prefix && *db_prefix)
        k = snprintf(out, size, "%s%d:", db_prefix, db);
    if (k < 0 || (size_t)k >= size || (size_t)k + len + 2 > size)
        return -ENAMETOOLONG;
    n = (size_t)k;
    if (at < 0) {
        memcpy(out + n, key, len);
        return (int)(n + len);
    }
    /* at >= 0 means tag was found in key: tag is not NULL. */
    memcpy(out + n, key, (size_t)at);
    n += (size_t)at;
    out[n++] = '{';
    memmove(out + n, key + at, tlen);
    n += tlen;
    out[n++] = '}';
    memcpy(out + n, key + at + (long)tlen, len - (size_t)at - tlen);
    return (int)(n + len - (size_t)at - tlen);
}

static bool is(const char *a, size_t alen, const char *b)
{
    return alen == strlen(b) && strncasecmp(a, b, alen) == 0;
}

int cluster_key_args(int argc, const char **argv, const size_t *lens, int *ret_first)
{
    static const char *const keyless[] = {"PING", "AUTH",   "SELECT",  "ROLE",    "INFO",
                                          "ECHO", "ASKING", "CLUSTER", "COMMAND", "CLIENT"};
    static const char *const multi[] = {"DEL", "UNLINK", "EXISTS", "TOUCH", "MGET"};

    *ret_first = 1;
    if (argc < 2)
        return 0;
    for (size_t i = 0; i < sizeof(keyless) / sizeof(keyless[0]); i++)
        if (is(argv[0], lens[0], keyless[i]))
            return 0;
    for (size_t i = 0; i < sizeof(multi) / sizeof(multi[0]); i++)
        if (is(argv[0], lens[0], multi[i]))
            return argc - 1;
    if (is(argv[0], lens[0], "XREAD") || is(argv[0], lens[0], "XREADGROUP")) {
        for (int i = 1; i < argc; i++)
            if (is(argv[i], lens[i], "STREAMS")) {
                *ret_first = i + 1;
                return (argc - i - 1) / 2;
            }
        return 0;
    }
    return 1;
}

void cluster_cmd_fini(struct cluster_cmd *w)
{
    free(w->argv);
    free(w->lens);
    free(w->buf);
    *w = (struct cluster_cmd){0};
}

int cluster_cmd_build(const struct rconn_target *t, int db, int argc, const char **argv,
                      const size_t *lens, struct cluster_cmd *w)
{
    const char *pre = t->db_prefix ? t->db_prefix : "";
    size_t extra = strlen(pre) + (t->tag ? strlen(t->tag) : 0) + 24, total = 1, off = 0;
    int first, n = cluster_key_args(argc, argv, lens, &first);

    if (first + n > argc)
        n = argc - first;
    for (int i = first; i < first + n; i++)
        total += lens[i] + extra;
    w->argv = malloc(sizeof(*w->argv) * (size_t)argc);
    w->lens = malloc(sizeof(*w->lens) * (size_t)argc);
    w->buf = malloc(total);
    if (!w->argv || !w->lens || !w->buf) {
        cluster_cmd_fini(w);
        return -ENOMEM;
    }
    memcpy(w->argv, argv, sizeof(*argv) * (size_t)argc);
    memcpy(w->lens, lens, sizeof(*lens) * (size_t)argc);
    for (int i = first; i < first + n; i++) {
        int k = cluster_key(pre, db, t->tag, (const char *const *)t->prefixes, argv[i], lens[i],
                            w->buf + off, total - off);
        if (k < 0) {
            cluster_cmd_fini(w);
            return k;
        }
        w->argv[i] = w->buf + off;
        w->lens[i] = (size_t)k;
        off += (size_t)k;
    }
    return 0;
}

/* One seed: dial it, CLUSTER SLOTS, find the slot's master. */
static int ask_seed(const struct rconn_target *t, const struct rconn_node *seed, unsigned slot,
                    struct cluster_map **ret_map, char *host, size_t host_size, int *ret_port,
                    char *why, size_t why_size)
{
    redisContext *ctx = NULL;
    redisReply *rep;
    struct cluster_map *m = NULL;
    const char *h;
    int r = rconn_dial(t, seed->host, seed->port, t->user, t->pass, &ctx, why, why_size);

    if (r < 0)
        return r;
    rep = redisCommand(ctx, "CLUSTER SLOTS");
    if (!rep) {
        snprintf(why, why_size, "%s:%d: %s", seed->host, seed->port, ctx->errstr);
        r = -EIO;
    } else if (rep->type == REDIS_REPLY_ERROR) {
        snprintf(why, why_size, "%s:%d: CLUSTER SLOTS: %s", seed->host, seed->port, rep->str);
        r = -EPROTO;
    } else {
        r = cluster_map_parse(rep, seed->host, &m);
        if (r == 0 && cluster_map_lookup(m, slot, &h, ret_port) < 0) {
            snprintf(why, why_size, "slot %u is not served (cluster incomplete?)", slot);
            r = -ENOENT;
        } else if (r == 0) {
            snprintf(host, host_size, "%s", h);
        } else {
            snprintf(why, why_size, "%s:%d: unexpected CLUSTER SLOTS reply", seed->host,
                     seed->port);
        }
    }
    freeReplyObject(rep);
    redisFree(ctx);
    if (r < 0)
        cluster_map_free(m);
    else
        *ret_map = m;
    return r;
}

int cluster_locate(const struct rconn_target *t, struct cluster_map **ret_map, char *host,
                   size_t host_size, int *ret_port, char *why, size_t why_size)
{
    const char *tag = t->tag && *t->tag ? t->tag : "";
    unsigned slot = crc16_slot(tag, strlen(tag));
    int r = -ENOENT;

    snprintf(why, why_size, "no cluster seed nodes");
    for (size_t i = 0; i < t->n_nodes; i++) {
        r = ask_seed(t, &t->nodes[i], slot, ret_map, host, host_size, ret_port, why, why_size);
        if (r == 0 || r == -EACCES)
            return r;
    }
    return r;
}

// SPDX-License-Identifier: MIT
/*
 * Redis targets and connections (see rconn.h). hiredis 0.14 is used in
 * blocking mode with socket timeouts, from one thread per connection. A
 * failed context is freed, never reused: a new connection re-authenticates
 * and re-selects from scratch (and asks the sentinels or the cluster
 * again where to go).
 */
#include "rconn.h"

#include "cluster.h"
#include "decimal.h"
#include "fdio.h"
#include "log.h"
#include "macro.h"
#include "sentinel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define RCONN_PASSWORD_MAX 4096

static void free_secret(char *p)
{
    if (p) {
        explicit_bzero(p, strlen(p));
        free(p);
    }
}

static void free_nodes(struct rconn_target *t)
{
    for (size_t i = 0; i < t->n_nodes; i++)
        free(t->nodes[i].host);
    t->n_nodes = 0;
}

void rconn_target_fini(struct rconn_target *t)
{
    free(t->host);
    free(t->unix_path);
    free(t->user);
    free_secret(t->pass);
    free_nodes(t);
    free(t->master);
    free(t->sentinel_user);
    free_secret(t->sentinel_pass);
    free(t->tag);
    free(t->db_prefix);
    for (size_t i = 0; i < RCONN_PREFIXES_MAX; i++)
        free(t->prefixes[i]);
    *t = (struct rconn_target){0};
}

static char *dup_or_null(const char *s, bool *is_oom)
{
    char *d = s ? strdup(s) : NULL;

    *is_oom |= s && !d;
    return d;
}

int rconn_target_copy(const struct rconn_target *src, struct rconn_target *ret)
{
    struct rconn_target t = *src;
    bool is_oom = false;

    t.host = dup_or_null(src->host, &is_oom);
    t.unix_path = dup_or_null(src->unix_path, &is_oom);
    t.user = dup_or_null(src->user, &is_oom);
    t.pass = dup_or_null(src->pass, &is_oom);
    for (size_t i = 0; i < src->n_nodes; i++)
        t.nodes[i].host = dup_or_null(src->nodes[i].host, &is_oom);
    t.master = dup_or_null(src->master, &is_oom);
    t.sentinel_user = dup_or_null(src->sentinel_user, &is_oom);
    t.sentinel_pass = dup_or_null(src->sentinel_pass, &is_oom);
    t.tag = dup_or_null(src->tag, &is_oom);
    t.db_prefix = dup_or_null(src->db_prefix, &is_oom);
    for (size_t i = 0; i < RCONN_PREFIXES_MAX; i++)
        t.prefixes[i] = dup_or_null(src->prefixes[i], &is_oom);
    if (is_oom) {
        rconn_target_fini(&t);
        return -ENOMEM;
    }
    *ret = t;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Copy [s, s+n) with %XX decoded into a new string. */
static int decode(const char *s, size_t n, char **ret)
{
    char *out = malloc(n + 1);
    size_t k = 0;

    if (!out)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[k++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[k++] = s[i];
        }
    }
    out[k] = '\0';
    free(*ret);
    *ret = out;
    return 0;
}

static int parse_db(const char *s, int *ret)
{
    long v = decimal_parse(s, 0, 1023);

    if (v < 0)
        return (int)v;
    *ret = (int)v;
    return 0;
}

static int parse_unix(const char *rest, struct rconn_target *t)
{
    const char *q = strchr(rest, '?');
    size_t n = q ? (size_t)(q - rest) : strlen(rest);
    int r;

    if (n == 0 || rest[0] != '/')
        return -EINVAL;
    r = decode(rest, n, &t->unix_path);
    if (r < 0)
        return r;
    if (q && strncmp(q, "?db=", 4) == 0)
        return parse_db(q + 4, &t->db);
    return q ? -EINVAL : 0;
}

/* "[user[:pass]@]" */
static int parse_userinfo(const char *s, size_t n, struct rconn_target *t)
{
    const char *colon = memchr(s, ':', n);
    size_t ulen = colon ? (size_t)(colon - s) : n;
    int r = 0;

    if (ulen > 0)
        r = decode(s, ulen, &t->user);
    if (r == 0 && colon)
        r = decode(colon + 1, n - ulen - 1, &t->pass);
    return r;
}

/* "host[:port][/db]" */
static int parse_hostport(const char *s, struct rconn_target *t)
{
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    const char *colon = memchr(s, ':', n);
    size_t hlen = colon ? (size_t)(colon - s) : n;
    int r;

    if (hlen == 0)
        return -EINVAL;
    r = decode(s, hlen, &t->host);
    if (r == 0 && colon) {
        char port[8] = "";
        size_t plen = n - hlen - 1;
        int p;
        if (plen == 0 || plen >= sizeof(port))
            return -EINVAL;
        memcpy(port, colon + 1, plen);
        p = (int)decimal_parse(port, 1, 65535);
        if (p < 0)
            return -EINVAL;
        t->port = p;
    }
    if (r == 0 && slash && slash[1])
        r = parse_db(slash + 1, &t->db);
    return r;
}

/* "host[:port]" of n bytes. */
static int parse_node(const char *s, size_t n, int def_port, struct rconn_node *ret)
{
    const char *colon = memchr(s, ':', n);
    size_t hlen = colon ? (size_t)(colon - s) : n;
    long p = def_port;

    if (hlen == 0 || hlen >= RCONN_HOST_MAX)
        return -EINVAL;
    if (colon) {
        char port[8];
        size_t plen = n - hlen - 1;
        if (plen == 0 || plen >= sizeof(port))
            return -EINVAL;
        memcpy(port, colon + 1, plen);
        port[plen] = '\0';
        p = decimal_parse(port, 1, 65535);
        if (p < 0)
            return -EINVAL;
    }
    ret->port = (int)p;
    ret->host = NULL;
    return decode(s, hlen, &ret->host);
}

static int parse_nodes(const char *s, size_t n, int def_port, struct rconn_target *t)
{
    const char *end = s + n;

    free_nodes(t);
    for (;;) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        size_t len = comma ? (size_t)(comma - s) : (size_t)(end - s);
        int r;
        if (t->n_nodes == RCONN_NODES_MAX)
            return -E2BIG;
        r = parse_node(s, len, def_port, &t->nodes[t->n_nodes]);
        if (r < 0)
            return r;
        t->n_nodes++;
        if (!comma)
            return 0;
        s = comma + 1;
    }
}

int rconn_parse_nodes(const char *list, int def_port, struct rconn_target *t)
{
    return parse_nodes(list, strlen(list), def_port, t);
}

static bool key_is(const char *k, size_t klen, const char *name)
{
    return klen == strlen(name) && memcmp(k, name, klen) == 0;
}

/* "k=v&k=v" after a sentinel or cluster URL's '?'. */
static int parse_query(const char *q, struct rconn_target *t)
{
    while (*q) {
        const char *amp = strchr(q, '&'), *eq, *v;
        size_t n = amp ? (size_t)(amp - q) : strlen(q), klen, vlen;
        char num[8];
        int r = -EINVAL;
        eq = memchr(q, '=', n);
        if (!eq)
            return -EINVAL;
        klen = (size_t)(eq - q), v = eq + 1, vlen = n - klen - 1;
        if (key_is(q, klen, "db") && vlen < sizeof(num)) {
            memcpy(num, v, vlen);
            num[vlen] = '\0';
            r = parse_db(num, &t->db);
        } else if (key_is(q, klen, "sentinel_user") && t->mode == RCONN_SENTINEL) {
            r = decode(v, vlen, &t->sentinel_user);
        } else if (key_is(q, klen, "sentinel_password") && t->mode == RCONN_SENTINEL) {
            r = decode(v, vlen, &t->sentinel_pass);
        } else if (key_is(q, klen, "db_prefix") && t->mode == RCONN_CLUSTER) {
            r = decode(v, vlen, &t->db_prefix);
        }
        if (r < 0)
            return r;
        q = amp ? amp + 1 : q + n;
    }
    return 0;
}

/* "[user[:pass]@]h1[:p1],h2[:p2][/master][?query]" */
static int parse_multi(const char *rest, struct rconn_target *t)
{
    const char *q = strchr(rest, '?'), *end = q ? q : rest + strlen(rest), *slash;
    const char *at = memrchr(rest, '@', (size_t)(end - rest));
    int r = 0;

    if (at) {
        r = parse_userinfo(rest, (size_t)(at - rest), t);
        rest = at + 1;
    }
    slash = memchr(rest, '/', (size_t)(end - rest));
    if (r == 0)
        r = parse_nodes(rest, (size_t)((slash ? slash : end) - rest),
                        t->mode == RCONN_SENTINEL ? 26379 : 6379, t);
    if (r == 0 && t->mode == RCONN_SENTINEL) {
        /* The master's name is required; it cannot hold '/'. */
        if (!slash || slash + 1 == end || memchr(slash + 1, '/', (size_t)(end - slash - 1)))
            return -EINVAL;
        r = decode(slash + 1, (size_t)(end - slash - 1), &t->master);
    } else if (r == 0 && slash && slash + 1 != end) {
        return -EINVAL;
    }
    if (r == 0 && q)
        r = parse_query(q + 1, t);
    return r;
}

int rconn_parse_url(const char *url, struct rconn_target *t)
{
    const char *rest, *at;

    if (strncmp(url, "unix://", 7) == 0)
        return parse_unix(url + 7, t);
    if (strncmp(url, "redis-sentinel://", 17) == 0) {
        t->mode = RCONN_SENTINEL;
        return parse_multi(url + 17, t);
    }
    if (strncmp(url, "redis-cluster://", 16) == 0) {
        t->mode = RCONN_CLUSTER;
        return parse_multi(url + 16, t);
    }
    if (strncmp(url, "redis://", 8) != 0)
        return -EINVAL;
    rest = url + 8;
    at = strrchr(rest, '@');
    if (at) {
        int r = parse_userinfo(rest, (size_t)(at - rest), t);
        if (r < 0)
            return r;
        rest = at + 1;
    }
    return parse_hostport(rest, t);
}

/* ridler: user = basename of the secrets dir, password = <dir>/password. */
static int ridler(const char *dir, char **ret_user, char **ret_pass)
{
    char path[4096];
    cleanup_free char *text = NULL;
    size_t len = strlen(dir), start = 0;
    const char *base;
    int r;

    while (len > 1 && dir[len - 1] == '/')
        len--;
    base = dir + len;
    while (base > dir && base[-1] != '/')
        base--;
    free(*ret_user);
    *ret_user = strndup(base, (size_t)(dir + len - base));
    snprintf(path, sizeof(path), "%.*s/password", (int)len, dir);
    r = fdio_read_file(path, RCONN_PASSWORD_MAX, &text, &len);
    if (r < 0) {
        /* Said once: every Redis user (logs, cores, control) reads it. */
        static char told[sizeof(path)];
        if (strcmp(told, path) != 0)
            log_error_errno(r, "failed to read password file %s; check redis.secrets_dir", path);
        snprintf(told, sizeof(told), "%s", path);
        return r;
    }
    while (start < len && strchr(" \t\r\n\v\f", text[start]) && text[start])
        start++;
    while (len > start && strchr(" \t\r\n\v\f", text[len - 1]) && text[len - 1])
        len--;
    if (len == start) {
        log_error("password file %s is empty; write the ACL user's password into it", path);
        return -EINVAL;
    }
    free_secret(*ret_pass);
    *ret_pass = strndup(text + start, len - start);
    explicit_bzero(text, len);
    return *ret_user && *ret_pass ? 0 : -ENOMEM;
}

static bool is_set(const char *s)
{
    return s && *s;
}

/* redis.sentinels + sentinel_master, or redis.cluster (without a URL). */
static int mode_from_config(const struct config_redis *rc, struct rconn_target *t)
{
    int r = 0;

    if (is_set(rc->sentinels) && is_set(rc->cluster)) {
        log_error("redis: both sentinels and cluster are set; keep one");
        return -EINVAL;
    }
    if (is_set(rc->sentinels)) {
        t->mode = RCONN_SENTINEL;
        r = rconn_parse_nodes(rc->sentinels, 26379, t);
        if (r == 0 && !is_set(rc->sentinel_master)) {
            log_error("redis.sentinels is set but redis.sentinel_master is not; name the master "
                      "the sentinels monitor");
            return -EINVAL;
        }
        t->master = r == 0 ? strdup(rc->sentinel_master) : NULL;
        r = r == 0 && !t->master ? -ENOMEM : r;
    } else if (is_set(rc->cluster)) {
        t->mode = RCONN_CLUSTER;
        r = rconn_parse_nodes(rc->cluster, 6379, t);
    }
    if (r == -EINVAL || r == -E2BIG)
        log_error("redis.%s: not host[:port],host[:port],... (at most %d)",
                  t->mode == RCONN_SENTINEL ? "sentinels" : "cluster", RCONN_NODES_MAX);
    return r;
}

/* What sentinel and cluster modes take from the config besides the URL. */
static int mode_extras(const struct config *cfg, struct rconn_target *t)
{
    const struct config_redis *rc = &cfg->redis;
    char buf[256];

    if (t->mode == RCONN_SENTINEL && !t->sentinel_pass && is_set(rc->sentinel_secrets_dir))
        return ridler(rc->sentinel_secrets_dir, &t->sentinel_user, &t->sentinel_pass);
    if (t->mode != RCONN_CLUSTER)
        return 0;
    t->tag = strdup(config_stream_name(cfg, buf, sizeof(buf)));
    if (!t->db_prefix)
        t->db_prefix = strdup(rc->cluster_db_prefix ? rc->cluster_db_prefix : "db");
    /* The Go layout's prefixes: streams, metrics and control, cores. */
    t->prefixes[0] = strdup(is_set(rc->stream_prefix) ? rc->stream_prefix : "logs:app:");
    t->prefixes[1] = strdup(is_set(rc->metric_prefix) ? rc->metric_prefix : "wrapp:");
    t->prefixes[2] = strdup("wrapp:");
    for (size_t i = 0; i < RCONN_PREFIXES_MAX; i++)
        if (!t->prefixes[i])
            return -ENOMEM;
    return t->tag && t->db_prefix ? 0 : -ENOMEM;
}

int rconn_target_from_config(const struct config *cfg, struct rconn_target *ret)
{
    struct rconn_target t = {.port = cfg->redis.port, .db = cfg->redis.db};
    int r = 0;

    t.timeout_ms = cfg->redis.timeout_ms ? cfg->redis.timeout_ms : 5000;
    if (cfg->redis.url && *cfg->redis.url) {
        r = rconn_parse_url(cfg->redis.url, &t);
        if (r == -EINVAL || r == -E2BIG)
            log_error("redis.url: not redis://[user[:password]@]host[:port][/db], "
                      "unix:///path[?db=N], redis-sentinel://[user[:password]@]host[:port],.../"
                      "master[?db=N] or redis-cluster://[user[:password]@]host[:port],...; fix "
                      "redis.url or WRAPP_REDIS_URL");
    } else {
        t.host = strdup(cfg->redis.host && *cfg->redis.host ? cfg->redis.host : "127.0.0.1");
        r = t.host ? 0 : -ENOMEM;
        if (r == 0)
            r = mode_from_config(&cfg->redis, &t);
        if (r == 0 && cfg->redis.secrets_dir && *cfg->redis.secrets_dir)
            r = ridler(cfg->redis.secrets_dir, &t.user, &t.pass);
    }
    if (r == 0)
        r = mode_extras(cfg, &t);
    if (r < 0) {
        rconn_target_fini(&t);
        return r;
    }
    if (!t.unix_path && !t.host)
        t.host = strdup("127.0.0.1");
    *ret = t;
    return 0;
}

const char *rconn_target_name(const struct rconn_target *t, char *buf, size_t size)
{
    const char *user = t->user ? t->user : "default";

    if (t->mode != RCONN_DIRECT && t->n_nodes) {
        snprintf(buf, size, "%s%s%s via %s:%d%s (user %s)",
                 t->mode == RCONN_SENTINEL ? "master " : "cluster",
                 t->mode == RCONN_SENTINEL ? t->master : "",
                 t->mode == RCONN_SENTINEL ? " (sentinels)" : "", t->nodes[0].host,
                 t->nodes[0].port, t->n_nodes > 1 ? ",..." : "", user);
    } else if (t->unix_path) {
        snprintf(buf, size, "%s (user %s)", t->unix_path, user);
    } else {
        snprintf(buf, size, "%s:%d (user %s)", t->host, t->port, user);
    }
    return buf;
}

void rconn_close(struct rconn *c)
{
    if (c->ctx)
        redisFree(c->ctx);
    if (c->side)
        redisFree(c->side);
    c->ctx = c->side = NULL;
    c->map = cluster_map_free(c->map);
    c->db = -1;
    c->is_stale = false;
}

static int ctx_error(struct rconn *c, char *why, size_t size)
{
    int r = c->ctx && c->ctx->err == REDIS_ERR_IO && errno ? -errno : -EIO;

    if (c->ctx && c->ctx->err == REDIS_ERR_EOF)
        r = -ECONNRESET;
    snprintf(why, size, "%s", c->ctx ? c->ctx->errstr : "out of memory");
    rconn_close(c);
    return r;
}

int rconn_query(struct rconn *c, int argc, const char **argv, const char *key, redisReply **ret)
{
    size_t lens[16];
    char why[RCONN_WHY_MAX];
    int r;

    if (argc > (int)ARRAY_SIZE(lens))
        return -E2BIG;
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    r = rconn_command(c, argc, argv, lens, ret, why, sizeof(why));
    if (r < 0)
        log_error("reading %s from Redis failed: %s", key, why);
    return r;
}

static bool is_cluster(const struct rconn *c)
{
    return c->t && c->t->mode == RCONN_CLUSTER;
}

static redisReply *command(struct rconn *c, int argc, const char **argv, const size_t *lens)
{
    struct cluster_cmd w = {0};
    redisReply *rep;

    if (!is_cluster(c))
        return redisCommandArgv(c->ctx, argc, argv, lens);
    if (cluster_cmd_build(c->t, c->db, argc, argv, lens, &w) < 0)
        return NULL;
    rep = redisCommandArgv(c->ctx, argc, w.argv, w.lens);
    cluster_cmd_fini(&w);
    return rep;
}

int rconn_command(struct rconn *c, int argc, const char **argv, const size_t *lens,
                  redisReply **ret, char *why, size_t why_size)
{
    redisReply *reply;

    if (!c->ctx) {
        snprintf(why, why_size, "not connected");
        return -ENOTCONN;
    }
    reply = command(c, argc, argv, lens);
    if (!reply)
        return ctx_error(c, why, why_size);
    if (is_cluster(c) && rconn_is_redirect(reply)) {
        redisReply *redir = reply;
        int r = rconn_redirect(c, redir, c->db, argc, argv, lens, &reply, why, why_size);
        freeReplyObject(redir);
        if (r < 0)
            return r;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        snprintf(why, why_size, "%.*s", (int)reply->len, reply->str);
        freeReplyObject(reply);
        return -EPROTO;
    }
    *ret = reply;
    return 0;
}

/* AUTH on a fresh context; -EACCES when refused. */
static int auth(redisContext *ctx, const char *user, const char *pass, const char *host, int port,
                char *why, size_t size)
{
    const char *argv[3] = {"AUTH", user ? user : pass, pass};
    size_t lens[3] = {4, strlen(argv[1]), strlen(pass)};
    redisReply *rep = redisCommandArgv(ctx, user ? 3 : 2, argv, lens);
    int r = 0;

    if (!rep) {
        snprintf(why, size, "%s", ctx->errstr);
        return -EIO;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        snprintf(why, size, "%s:%d: AUTH as %s: %.*s", host ? host : "socket", port,
                 user ? user : "default", (int)rep->len, rep->str);
        r = -EACCES;
    }
    freeReplyObject(rep);
    return r;
}

int rconn_dial(const struct rconn_target *t, const char *host, int port, const char *user,
               const char *pass, redisContext **ret, char *why, size_t size)
{
    struct timeval tv = {.tv_sec = t->timeout_ms / 1000,
                         .tv_usec = (suseconds_t)(t->timeout_ms % 1000) * 1000};
    redisContext *ctx = host ? redisConnectWithTimeout(host, port, tv)
                             : redisConnectUnixWithTimeout(t->unix_path, tv);
    int r = 0;

    if (!ctx || ctx->err) {
        r = ctx && ctx->err == REDIS_ERR_IO && errno ? -errno : -EIO;
        if (host)
            snprintf(why, size, "%s:%d: %s", host, port, ctx ? ctx->errstr : "out of memory");
        else
            snprintf(why, size, "%s", ctx ? ctx->errstr : "out of memory");
    } else {
        redisSetTimeout(ctx, tv);
        /* TCP only: on a unix socket it fails and marks the context failed. */
        if (host)
            redisEnableKeepAlive(ctx);
        if (pass)
            r = auth(ctx, user, pass, host, port, why, size);
    }
    if (r < 0) {
        if (ctx)
            redisFree(ctx);
        return r;
    }
    *ret = ctx;
    return 0;
}

static int select_ping(struct rconn *c, const struct rconn_target *t, char *why, size_t size)
{
    redisReply *reply = NULL;
    int r = rconn_select(c, t->db);

    if (r == -EACCES)
        snprintf(why, size, "it requires a password (NOAUTH) and none was given");
    else if (r == -EPROTO && c->ctx)
        snprintf(why, size, "SELECT %d refused", t->db);
    else if (r < 0)
        snprintf(why, size, "%s", "connection lost during SELECT");
    if (r == 0) {
        /* Ready to take writes? A restarting server answers LOADING. */
        const char *argv[1] = {"PING"};
        size_t lens[1] = {4};
        r = rconn_command(c, 1, argv, lens, &reply, why, size);
        freeReplyObject(reply);
        if (r == -EPROTO)
            r = -EAGAIN;
    }
    return r;
}

/* Where to connect: the target itself, the master the sentinels name, or
 * the cluster node owning the application's slot. */
static int locate(const struct rconn_target *t, struct rconn *c, char *why, size_t size)
{
    if (t->mode == RCONN_SENTINEL)
        return sentinel_resolve(t, c->host, sizeof(c->host), &c->port, why, size);
    if (t->mode == RCONN_CLUSTER)
        return cluster_locate(t, &c->map, c->host, sizeof(c->host), &c->port, why, size);
    snprintf(c->host, sizeof(c->host), "%s", t->host ? t->host : "");
    c->port = t->port;
    return 0;
}

int rconn_open(const struct rconn_target *t, struct rconn *c, char *why, size_t size)
{
    int r;

    *c = (struct rconn){.db = -1, .t = t};
    r = locate(t, c, why, size);
    if (r == 0)
        r = rconn_dial(t, t->unix_path && t->mode == RCONN_DIRECT ? NULL : c->host, c->port,
                       t->user, t->pass, &c->ctx, why, size);
    /* A sentinel may still name the old master while it is demoted. */
    if (r == 0 && t->mode == RCONN_SENTINEL)
        r = sentinel_check_role(c->ctx, why, size);
    if (r == 0)
        r = select_ping(c, t, why, size);
    if (r < 0)
        rconn_close(c);
    return r;
}

int rconn_append_select(struct rconn *c, int db)
{
    char buf[16];
    const char *argv[2] = {"SELECT", buf};
    size_t lens[2] = {6, 0};

    if (db == c->db)
        return 0;
    if (is_cluster(c)) {
        c->db = db;
        return 0;
    }
    lens[1] = (size_t)snprintf(buf, sizeof(buf), "%d", db);
    if (redisAppendCommandArgv(c->ctx, 2, argv, lens) != REDIS_OK)
        return -ENOMEM;
    c->db = db;
    return 1;
}

int rconn_select(struct rconn *c, int db)
{
    char buf[16], why[RCONN_WHY_MAX];
    const char *argv[2] = {"SELECT", buf};
    size_t lens[2] = {6, 0};
    redisReply *rep = NULL;
    int r;

    if (c->db == db || is_cluster(c)) {
        c->db = db;
        return 0;
    }
    lens[1] = (size_t)snprintf(buf, sizeof(buf), "%d", db);
    r = rconn_command(c, 2, argv, lens, &rep, why, sizeof(why));
    freeReplyObject(rep);
    if (r == 0)
        c->db = db;
    /* A server with a password, and none given: a credentials problem. */
    if (r == -EPROTO && strncmp(why, "NOAUTH", 6) == 0)
        r = -EACCES;
    return r;
}

int rconn_append(struct rconn *c, int argc, const char **argv, const size_t *lens)
{
    struct cluster_cmd w = {0};
    int r;

    if (!is_cluster(c))
        return redisAppendCommandArgv(c->ctx, argc, argv, lens) == REDIS_OK ? 0 : -ENOMEM;
    r = cluster_cmd_build(c->t, c->db, argc, argv, lens, &w);
    if (r == 0 && redisAppendCommandArgv(c->ctx, argc, w.argv, w.lens) != REDIS_OK)
        r = -ENOMEM;
    cluster_cmd_fini(&w);
    return r;
}

int rconn_verify(struct rconn *c, char *why, size_t why_size)
{
    return sentinel_watch(c, why, why_size);
}

bool rconn_is_redirect(const redisReply *rep)
{
    return rep->type == REDIS_REPLY_ERROR &&
           ((rep->len > 6 && memcmp(rep->str, "MOVED ", 6) == 0) ||
            (rep->len > 4 && memcmp(rep->str, "ASK ", 4) == 0));
}

/* The side connection to host:port, kept while redirections go there. */
static int side_to(struct rconn *c, const char *host, int port, char *why, size_t size)
{
    if (c->side && c->side_port == port && strcmp(c->side_host, host) == 0 && !c->side->err)
        return 0;
    if (c->side)
        redisFree(c->side);
    c->side = NULL;
    snprintf(c->side_host, sizeof(c->side_host), "%s", host);
    c->side_port = port;
    return rconn_dial(c->t, host, port, c->t->user, c->t->pass, &c->side, why, size);
}

int rconn_redirect(struct rconn *c, const redisReply *redir, int db, int argc, const char **argv,
                   const size_t *lens, redisReply **ret, char *why, size_t why_size)
{
    char host[RCONN_HOST_MAX];
    struct cluster_cmd w = {0};
    redisReply *asking = NULL;
    unsigned slot;
    bool is_ask;
    int port, r = cluster_parse_redirect(redir->str, redir->len, &is_ask, &slot, host, sizeof(host),
                                         &port);

    if (r < 0 || !is_cluster(c)) {
        snprintf(why, why_size, "%.*s", (int)redir->len, redir->str);
        return -EPROTO;
    }
    c->is_stale |= !is_ask;
    r = side_to(c, host, port, why, why_size);
    if (r == 0)
        r = cluster_cmd_build(c->t, db, argc, argv, lens, &w);
    if (r < 0)
        return r;
    /* ASKING holds for the next command only: both in one write. */
    if (is_ask)
        redisAppendCommand(c->side, "ASKING");
    redisAppendCommandArgv(c->side, argc, w.argv, w.lens);
    cluster_cmd_fini(&w);
    if (is_ask && redisGetReply(c->side, (void **)&asking) == REDIS_OK)
        freeReplyObject(asking);
    if (c->side->err || redisGetReply(c->side, (void **)ret) != REDIS_OK || !*ret) {
        snprintf(why, why_size, "%s:%d: %s", host, port, c->side->errstr);
        redisFree(c->side);
        c->side = NULL;
        return -EIO;
    }
    return 0;
}

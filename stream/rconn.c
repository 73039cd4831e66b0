// SPDX-License-Identifier: MIT
/*
 * Redis targets and connections (see rconn.h). hiredis 0.14 is used in
 * blocking mode with socket timeouts, from one thread per connection. A
 * failed context is freed, never reused: a new connection re-authenticates
 * and re-selects from scratch.
 */
#include "rconn.h"

#include "decimal.h"
#include "fdio.h"
#include "log.h"
#include "macro.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define RCONN_PASSWORD_MAX 4096

void rconn_target_fini(struct rconn_target *t)
{
    free(t->host);
    free(t->unix_path);
    free(t->user);
    if (t->pass) {
        explicit_bzero(t->pass, strlen(t->pass));
        free(t->pass);
    }
    *t = (struct rconn_target){0};
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

int rconn_parse_url(const char *url, struct rconn_target *t)
{
    const char *rest, *at;

    if (strncmp(url, "unix://", 7) == 0)
        return parse_unix(url + 7, t);
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
static int ridler(const char *dir, struct rconn_target *t)
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
    t->user = strndup(base, (size_t)(dir + len - base));
    snprintf(path, sizeof(path), "%.*s/password", (int)len, dir);
    r = fdio_read_file(path, RCONN_PASSWORD_MAX, &text, &len);
    if (r < 0)
        return log_error_errno(r, "failed to read password file %s; check redis.secrets_dir", path);
    while (start < len && strchr(" \t\r\n\v\f", text[start]) && text[start])
        start++;
    while (len > start && strchr(" \t\r\n\v\f", text[len - 1]) && text[len - 1])
        len--;
    if (len == start) {
        log_error("password file %s is empty; write the ACL user's password into it", path);
        return -EINVAL;
    }
    t->pass = strndup(text + start, len - start);
    explicit_bzero(text, len);
    return t->user && t->pass ? 0 : -ENOMEM;
}

int rconn_target_from_config(const struct config *cfg, struct rconn_target *ret)
{
    struct rconn_target t = {.port = cfg->redis.port, .db = cfg->redis.db};
    int r = 0;

    t.timeout_ms = cfg->redis.timeout_ms ? cfg->redis.timeout_ms : 5000;
    if (cfg->redis.url && *cfg->redis.url) {
        r = rconn_parse_url(cfg->redis.url, &t);
        if (r == -EINVAL)
            log_error("redis.url: not redis://[user[:password]@]host[:port][/db] or "
                      "unix:///path[?db=N]; fix redis.url or WRAPP_REDIS_URL");
    } else {
        t.host = strdup(cfg->redis.host && *cfg->redis.host ? cfg->redis.host : "127.0.0.1");
        r = t.host ? 0 : -ENOMEM;
        if (r == 0 && cfg->redis.secrets_dir && *cfg->redis.secrets_dir)
            r = ridler(cfg->redis.secrets_dir, &t);
    }
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
    if (t->unix_path)
        snprintf(buf, size, "%s (user %s)", t->unix_path, t->user ? t->user : "default");
    else
        snprintf(buf, size, "%s:%d (user %s)", t->host, t->port, t->user ? t->user : "default");
    return buf;
}

void rconn_close(struct rconn *c)
{
    if (c->ctx)
        redisFree(c->ctx);
    c->ctx = NULL;
    c->db = -1;
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

int rconn_command(struct rconn *c, int argc, const char **argv, const size_t *lens,
                  redisReply **ret, char *why, size_t why_size)
{
    redisReply *reply;

    if (!c->ctx) {
        snprintf(why, why_size, "not connected");
        return -ENOTCONN;
    }
    reply = redisCommandArgv(c->ctx, argc, argv, lens);
    if (!reply)
        return ctx_error(c, why, why_size);
    if (reply->type == REDIS_REPLY_ERROR) {
        snprintf(why, why_size, "%.*s", (int)reply->len, reply->str);
        freeReplyObject(reply);
        return -EPROTO;
    }
    *ret = reply;
    return 0;
}

static int auth_select(struct rconn *c, const struct rconn_target *t, char *why, size_t size)
{
    redisReply *reply = NULL;
    int r = 0;

    if (t->pass) {
        const char *argv[3] = {"AUTH", t->user ? t->user : t->pass, t->pass};
        size_t lens[3] = {4, strlen(argv[1]), strlen(t->pass)};
        r = rconn_command(c, t->user ? 3 : 2, argv, lens, &reply, why, size);
        if (r == -EPROTO)
            r = -EACCES;
        freeReplyObject(reply);
        reply = NULL;
    }
    if (r == 0) {
        char db[16];
        const char *argv[2] = {"SELECT", db};
        size_t lens[2] = {6, 0};
        lens[1] = (size_t)snprintf(db, sizeof(db), "%d", t->db);
        r = rconn_command(c, 2, argv, lens, &reply, why, size);
        freeReplyObject(reply);
        reply = NULL;
        if (r == 0)
            c->db = t->db;
    }
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

int rconn_open(const struct rconn_target *t, struct rconn *c, char *why, size_t size)
{
    struct timeval tv = {.tv_sec = t->timeout_ms / 1000,
                         .tv_usec = (suseconds_t)(t->timeout_ms % 1000) * 1000};
    int r;

    c->db = -1;
    c->ctx = t->unix_path ? redisConnectUnixWithTimeout(t->unix_path, tv)
                          : redisConnectWithTimeout(t->host, t->port, tv);
    if (!c->ctx || c->ctx->err)
        return ctx_error(c, why, size);
    redisSetTimeout(c->ctx, tv);
    /* TCP only: on a unix socket it fails and marks the context failed. */
    if (!t->unix_path)
        redisEnableKeepAlive(c->ctx);
    r = auth_select(c, t, why, size);
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
    lens[1] = (size_t)snprintf(buf, sizeof(buf), "%d", db);
    if (redisAppendCommandArgv(c->ctx, 2, argv, lens) != REDIS_OK)
        return -ENOMEM;
    c->db = db;
    return 1;
}

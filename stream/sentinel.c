// SPDX-License-Identifier: MIT
/*
 * Sentinel discovery (see sentinel.h). A sentinel that is down, refuses,
 * or does not know the name is skipped; the first useful answer is taken.
 * The sentinels' timeout is capped (SENTINEL_TIMEOUT_MS) so a dead one
 * costs little while the others are tried.
 */
#include "sentinel.h"

#include "decimal.h"
#include "rconn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define SENTINEL_TIMEOUT_MS 2000u

int sentinel_parse_addr(const redisReply *rep, char *host, size_t host_size, int *ret_port)
{
    char port[8];
    long p;

    if (rep->type == REDIS_REPLY_NIL)
        return -ENOENT;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_STRING ||
        rep->element[1]->type != REDIS_REPLY_STRING || rep->element[0]->len == 0 ||
        rep->element[0]->len >= host_size || rep->element[1]->len >= sizeof(port) ||
        memchr(rep->element[0]->str, '\0', rep->element[0]->len))
        return -EPROTO;
    memcpy(port, rep->element[1]->str, rep->element[1]->len);
    port[rep->element[1]->len] = '\0';
    p = decimal_parse(port, 1, 65535);
    if (p < 0)
        return -EPROTO;
    memcpy(host, rep->element[0]->str, rep->element[0]->len);
    host[rep->element[0]->len] = '\0';
    *ret_port = (int)p;
    return 0;
}

bool sentinel_is_master(const redisReply *rep)
{
    return rep->type == REDIS_REPLY_ARRAY && rep->elements >= 1 &&
           rep->element[0]->type == REDIS_REPLY_STRING && rep->element[0]->len == 6 &&
           memcmp(rep->element[0]->str, "master", 6) == 0;
}

/* SENTINEL get-master-addr-by-name on ctx (sentinel n). */
static int query(redisContext *ctx, const struct rconn_target *t, const struct rconn_node *n,
                 char *host, size_t host_size, int *ret_port, char *why, size_t why_size)
{
    redisReply *rep = redisCommand(ctx, "SENTINEL get-master-addr-by-name %s", t->master);
    int r;

    if (!rep) {
        snprintf(why, why_size, "sentinel %s:%d: %s", n->host, n->port, ctx->errstr);
        r = -EIO;
    } else if (rep->type == REDIS_REPLY_ERROR) {
        snprintf(why, why_size, "sentinel %s:%d: %s", n->host, n->port, rep->str);
        r = -EPROTO;
    } else {
        r = sentinel_parse_addr(rep, host, host_size, ret_port);
        if (r == -ENOENT)
            snprintf(why, why_size, "sentinel %s:%d does not know master \"%s\"", n->host, n->port,
                     t->master);
        else if (r < 0)
            snprintf(why, why_size, "sentinel %s:%d: unexpected reply", n->host, n->port);
    }
    freeReplyObject(rep);
    return r;
}

/* Dial sentinel n; *ret_ctx is kept open when keep is set and it answered. */
static int ask(const struct rconn_target *t, const struct rconn_node *n, char *host,
               size_t host_size, int *ret_port, redisContext **keep, char *why, size_t why_size)
{
    struct rconn_target st = *t;
    char tmp[RCONN_WHY_MAX];
    redisContext *ctx = NULL;
    int r;

    /* A dead sentinel must not cost the data nodes' whole timeout. */
    if (!st.timeout_ms || st.timeout_ms > SENTINEL_TIMEOUT_MS)
        st.timeout_ms = SENTINEL_TIMEOUT_MS;
    st.unix_path = NULL;
    r = rconn_dial(&st, n->host, n->port, t->sentinel_user, t->sentinel_pass, &ctx, tmp,
                   sizeof(tmp));
    if (r < 0) {
        snprintf(why, why_size, "sentinel %.240s", tmp);
        return r;
    }
    r = query(ctx, t, n, host, host_size, ret_port, why, why_size);
    if (r == 0 && keep)
        *keep = ctx;
    else
        redisFree(ctx);
    return r;
}

static int resolve(const struct rconn_target *t, char *host, size_t host_size, int *ret_port,
                   redisContext **keep, size_t *ret_which, char *why, size_t why_size)
{
    char last[RCONN_WHY_MAX];
    int r = -ENOENT, worst = 0;

    snprintf(why, why_size, "no sentinels configured");
    for (size_t i = 0; i < t->n_nodes; i++) {
        r = ask(t, &t->nodes[i], host, host_size, ret_port, keep, last, sizeof(last));
        if (r == 0) {
            *ret_which = i;
            return 0;
        }
        /* Report the most telling failure: credentials, then names. */
        if (worst == 0 || r == -EACCES || (r == -ENOENT && worst != -EACCES)) {
            worst = r;
            snprintf(why, why_size, "%s", last);
        }
    }
    return worst ? worst : r;
}

int sentinel_resolve(const struct rconn_target *t, char *host, size_t host_size, int *ret_port,
                     char *why, size_t why_size)
{
    size_t which;

    return resolve(t, host, host_size, ret_port, NULL, &which, why, why_size);
}

int sentinel_watch(struct rconn *c, char *why, size_t why_size)
{
    char host[RCONN_HOST_MAX];
    int port, r = -EIO;

    if (!c->ctx || !c->t || c->t->mode != RCONN_SENTINEL)
        return 0;
    if (c->side)
        r = query(c->side, c->t, &c->t->nodes[c->sentinel], host, sizeof(host), &port, why,
                  why_size);
    if (r < 0) {
        size_t which = 0;
        if (c->side)
            redisFree(c->side);
        c->side = NULL;
        r = resolve(c->t, host, sizeof(host), &port, &c->side, &which, why, why_size);
        c->sentinel = which;
    }
    if (r < 0)
        return 0; /* no sentinel answers: keep the master we have */
    if (port == c->port && strcmp(host, c->host) == 0)
        return 0;
    snprintf(why, why_size, "the sentinels name a new master, %s:%d (failover)", host, port);
    return -ESTALE;
}

int sentinel_check_role(redisContext *ctx, char *why, size_t why_size)
{
    redisReply *rep = redisCommand(ctx, "ROLE");
    int r = 0;

    if (!rep) {
        snprintf(why, why_size, "%s", ctx->errstr);
        return -EIO;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        snprintf(why, why_size, "ROLE: %s", rep->str);
        r = -EACCES;
    } else if (!sentinel_is_master(rep)) {
        snprintf(why, why_size,
                 "the node the sentinels named is not a master (yet): failover "
                 "in progress");
        r = -EAGAIN;
    }
    freeReplyObject(rep);
    return r;
}

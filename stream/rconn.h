// SPDX-License-Identifier: MIT
/*
 * The one place that knows where Redis is and how to talk to it: the
 * target (host/port or unix socket, ACL user and password from the ridler
 * secrets dir or a redis:// URL, the DB), connecting with timeouts,
 * authenticating (RESP2 AUTH), selecting the DB, and which server a command
 * goes to: one server, the master a set of Sentinels names (sentinel.c),
 * or the Redis Cluster node owning the application's slot (cluster.c). In
 * cluster mode "selecting DB n" means prefixing keys (cluster has DB 0
 * only) and every key carries the stream name as its hash tag, so one
 * application's keys share one slot and one connection. Used by the sink
 * thread and the operator commands; a connection belongs to one thread.
 * Never logs secrets; errors carry host and user only.
 */
#pragma once

#include "config.h"

#include <hiredis.h>
#include <stdbool.h>
#include <stddef.h>

#define RCONN_WHY_MAX      256
#define RCONN_NODES_MAX    16 /* sentinels or cluster seeds */
#define RCONN_HOST_MAX     256
#define RCONN_PREFIXES_MAX 3 /* streams, metrics, cores */

enum rconn_mode { RCONN_DIRECT, RCONN_SENTINEL, RCONN_CLUSTER };

struct rconn_node {
    char *host;
    int port;
};

struct rconn_target {
    enum rconn_mode mode;
    char *host; /* NULL for a unix socket */
    int port;
    char *unix_path; /* NULL for TCP */
    char *user;      /* ACL user, NULL for none (or password-only AUTH) */
    char *pass;      /* NULL for no AUTH; never printed */
    int db;          /* the log streams' DB */
    unsigned timeout_ms;
    /* RCONN_SENTINEL: the sentinels, the master's name, their own
     * credentials (NULL: no AUTH). RCONN_CLUSTER: the seed nodes. */
    struct rconn_node nodes[RCONN_NODES_MAX];
    size_t n_nodes;
    char *master;
    char *sentinel_user, *sentinel_pass; /* never printed */
    /* RCONN_CLUSTER: keys get "<db_prefix><db>:" in front and {tag} (the
     * stream name) as their hash tag. */
    char *tag;
    char *db_prefix;
    char *prefixes[RCONN_PREFIXES_MAX + 1]; /* the key prefixes the tag follows; NULL-ended */
};

/* Fill t from the config: redis.url (or WRAPP_REDIS_URL, already in cfg)
 * when set, else host/port with the ridler secrets dir (user = its
 * basename, password = <dir>/password trimmed). Logs one line naming the
 * problem and the fix; returns 0, -EINVAL (bad URL), -ENOENT/-EACCES/...
 * (password file). */
int rconn_target_from_config(const struct config *cfg, struct rconn_target *ret);

/* Parse "redis://[user[:pass]@]host[:port][/db]", "unix:///path[?db=N]",
 * "redis-sentinel://[user[:pass]@]h1[:p1],h2[:p2]/master[?db=N
 * &sentinel_user=U&sentinel_password=P]" (port 26379 by default) or
 * "redis-cluster://[user[:pass]@]h1[:p1],h2[:p2][?db_prefix=X]" into t
 * (fields not in the URL keep their value; user and password are the data
 * nodes'). -EINVAL on a bad URL, -E2BIG over RCONN_NODES_MAX nodes. */
int rconn_parse_url(const char *url, struct rconn_target *t);

/* Parse "h1[:p1],h2[:p2]..." into t->nodes (def_port where none). */
int rconn_parse_nodes(const char *list, int def_port, struct rconn_target *t);

/* A deep copy of src into *ret (takes nothing; -ENOMEM). */
int rconn_target_copy(const struct rconn_target *src, struct rconn_target *ret);

void rconn_target_fini(struct rconn_target *t);

/* "host:port" or the socket path, and the user, for messages. */
const char *rconn_target_name(const struct rconn_target *t, char *buf, size_t size);

struct cluster_map;

struct rconn {
    redisContext *ctx;
    int db; /* currently selected (cluster: the key prefix in use) */
    /* Set by rconn_open: */
    const struct rconn_target *t; /* borrowed: the target outlives c */
    char host[RCONN_HOST_MAX];    /* the node connected to (sentinel, cluster) */
    int port;
    struct cluster_map *map; /* cluster: the slot map, owned */
    redisContext *side;      /* cluster: the ASK/MOVED target; sentinel: a sentinel; owned */
    char side_host[RCONN_HOST_MAX];
    int side_port;
    size_t sentinel; /* which of t->nodes c->side is (sentinel mode) */
    bool is_stale;   /* a MOVED was seen: reconnect to refresh the map */
};

/* Connect, AUTH, SELECT t->db, set I/O timeouts and keepalive; through
 * the sentinels (then ROLE must say master) or the cluster's slot map when
 * t says so. On failure writes a one-line reason (no secrets) into why and
 * returns -ECONNREFUSED, -ETIMEDOUT, -EACCES (auth), -EAGAIN (no master
 * yet: a failover is in progress), -EIO... c is then closed. */
int rconn_open(const struct rconn_target *t, struct rconn *c, char *why, size_t why_size);

/* Connect to host:port (or t's unix socket when host is NULL) with t's
 * timeouts and keepalive, and AUTH as user/pass when pass is set. Used
 * for data nodes, sentinels and cluster seeds alike. -ECONNREFUSED,
 * -ETIMEDOUT, -EACCES (AUTH refused), -EIO (why set, no secrets). */
int rconn_dial(const struct rconn_target *t, const char *host, int port, const char *user,
               const char *pass, redisContext **ret, char *why, size_t why_size);

/* Close (takes a closed one). */
void rconn_close(struct rconn *c);

/* Queue SELECT db into the pipeline if db is not the selected one.
 * Returns the number of commands appended (0 or 1; always 0 in cluster
 * mode, where the DB is a key prefix), or -ENOMEM. */
int rconn_append_select(struct rconn *c, int db);

/* Select db now (a round trip unless already selected or in cluster
 * mode). 0, -EACCES (the server wants a password: NOAUTH) or
 * rconn_command's -errno. */
int rconn_select(struct rconn *c, int db);

/* Append one command for the selected DB to the pipeline, its keys
 * rewritten in cluster mode. 0 or -ENOMEM. */
int rconn_append(struct rconn *c, int argc, const char **argv, const size_t *lens);

/* Still connected to the right node? Sentinel mode: asks a sentinel
 * (one kept connection) whether the master changed. 0, or -ESTALE when c
 * should be closed and opened again (why set). */
int rconn_verify(struct rconn *c, char *why, size_t why_size);

/* An error reply that is a cluster redirection (MOVED or ASK)? */
bool rconn_is_redirect(const redisReply *rep);

/* Run the command a MOVED/ASK reply (redir, borrowed) sent away on the
 * node it names (with ASKING first for ASK), for DB db, on a side
 * connection kept for the next redirections; a MOVED marks c stale (the
 * caller reconnects when its pipeline is read). Returns 0 with *ret the
 * reply (an error reply included), or -EIO/-EPROTO/-ENOMEM (why set). */
int rconn_redirect(struct rconn *c, const redisReply *redir, int db, int argc, const char **argv,
                   const size_t *lens, redisReply **ret, char *why, size_t why_size);

/* Run one command and return its reply (owned by the caller, freed with
 * freeReplyObject). Keys are rewritten and MOVED/ASK followed in cluster
 * mode. -EIO when the connection failed (then closed), -EPROTO for an
 * error reply (reply text in why). */
int rconn_command(struct rconn *c, int argc, const char **argv, const size_t *lens,
                  redisReply **ret, char *why, size_t why_size);

/* The operator commands' form: argv of C strings (at most 16), and a
 * failure logged as one line naming key. Returns 0 or -errno. */
int rconn_query(struct rconn *c, int argc, const char **argv, const char *key, redisReply **ret);

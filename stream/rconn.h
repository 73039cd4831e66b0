// SPDX-License-Identifier: MIT
/*
 * The one place that knows where Redis is and how to talk to it: the
 * target (host/port or unix socket, ACL user and password from the ridler
 * secrets dir or a redis:// URL, the DB), connecting with timeouts,
 * authenticating (RESP2 AUTH), selecting the DB, and which server a command
 * goes to (one server today; Sentinel and Cluster slot in here). Used by
 * the sink thread and the operator commands; a connection belongs to one
 * thread. Never logs secrets; errors carry host and user only.
 */
#pragma once

#include "config.h"

#include <hiredis.h>
#include <stdbool.h>
#include <stddef.h>

#define RCONN_WHY_MAX 256

struct rconn_target {
    char *host; /* NULL for a unix socket */
    int port;
    char *unix_path; /* NULL for TCP */
    char *user;      /* ACL user, NULL for none (or password-only AUTH) */
    char *pass;      /* NULL for no AUTH; never printed */
    int db;          /* the log streams' DB */
    unsigned timeout_ms;
};

/* Fill t from the config: redis.url (or WRAPP_REDIS_URL, already in cfg)
 * when set, else host/port with the ridler secrets dir (user = its
 * basename, password = <dir>/password trimmed). Logs one line naming the
 * problem and the fix; returns 0, -EINVAL (bad URL), -ENOENT/-EACCES/...
 * (password file). */
int rconn_target_from_config(const struct config *cfg, struct rconn_target *ret);

/* Parse "redis://[user[:pass]@]host[:port][/db]" or "unix:///path[?db=N]"
 * into t (fields not in the URL keep their value). -EINVAL on a bad URL. */
int rconn_parse_url(const char *url, struct rconn_target *t);

void rconn_target_fini(struct rconn_target *t);

/* "host:port" or the socket path, and the user, for messages. */
const char *rconn_target_name(const struct rconn_target *t, char *buf, size_t size);

struct rconn {
    redisContext *ctx;
    int db; /* currently selected */
};

/* Connect, AUTH, SELECT t->db, set I/O timeouts and keepalive. On failure
 * writes a one-line reason (no secrets) into why and returns -ECONNREFUSED,
 * -ETIMEDOUT, -EACCES (auth), -EIO... c is then closed. */
int rconn_open(const struct rconn_target *t, struct rconn *c, char *why, size_t why_size);

/* Close (takes a closed one). */
void rconn_close(struct rconn *c);

/* Queue SELECT db into the pipeline if db is not the selected one.
 * Returns the number of commands appended (0 or 1), or -ENOMEM. */
int rconn_append_select(struct rconn *c, int db);

/* Run one command and return its reply (owned by the caller, freed with
 * freeReplyObject). -EIO when the connection failed (then closed),
 * -EPROTO for an error reply (reply text in why). */
int rconn_command(struct rconn *c, int argc, const char **argv, const size_t *lens,
                  redisReply **ret, char *why, size_t why_size);

/* The operator commands' form: argv of C strings (at most 16), and a
 * failure logged as one line naming key. Returns 0 or -errno. */
int rconn_query(struct rconn *c, int argc, const char **argv, const char *key, redisReply **ret);

// SPDX-License-Identifier: MIT
/*
 * Redis Sentinel for rconn: asks the sentinels, in turn, where the master
 * of a name is (SENTINEL get-master-addr-by-name), and checks that a node
 * really is a master (ROLE), since a sentinel can name a master that is
 * being demoted during a failover. The connections themselves (dial, the
 * sentinels' own credentials) are rconn's; replies are hiredis's. Called
 * from the thread that owns the connection being opened.
 */
#pragma once

#include <hiredis.h>
#include <stdbool.h>
#include <stddef.h>

struct rconn_target;

/* Interpret a get-master-addr-by-name reply (borrowed): [host, port].
 * -ENOENT for nil (the sentinel does not know the name), -EPROTO for
 * another shape. */
int sentinel_parse_addr(const redisReply *rep, char *host, size_t host_size, int *ret_port);

/* Whether a ROLE reply (borrowed) says "master". */
bool sentinel_is_master(const redisReply *rep);

/* Ask t's sentinels for t->master's address; the first sentinel that
 * knows it wins. -ECONNREFUSED... when none answered, -ENOENT when none
 * knows the name, -EACCES when they refused the sentinel credentials
 * (why set, without secrets). */
int sentinel_resolve(const struct rconn_target *t, char *host, size_t host_size, int *ret_port,
                     char *why, size_t why_size);

struct rconn;

/* Is c (open, sentinel mode) still connected to the master the sentinels
 * name? Keeps one sentinel connection in c->side (c->sentinel: which). 0 when yes (or no sentinel
 * answers: the master stays), -ESTALE when they name another (a failover: reconnect; why set). 0 at
 * once for other modes. */
int sentinel_watch(struct rconn *c, char *why, size_t why_size);

/* Ask ctx (a data node, authenticated) for its ROLE: 0 when master,
 * -EAGAIN when not (yet), -EIO when the link failed (why set). */
int sentinel_check_role(redisContext *ctx, char *why, size_t why_size);

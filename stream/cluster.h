// SPDX-License-Identifier: MIT
/*
 * Redis Cluster for rconn: the slot map (from CLUSTER SLOTS), finding the
 * master of the application's slot through the seed nodes, MOVED/ASK
 * reply parsing, and the key layout (cluster has DB 0 only, so the DB
 * becomes a key prefix, and the stream name becomes the hash tag). The
 * connection itself (dial, AUTH) stays rconn's; replies are hiredis's.
 * Pure functions except cluster_locate; a map belongs to one connection.
 */
#pragma once

#include <hiredis.h>
#include <stdbool.h>
#include <stddef.h>

struct rconn_target;

#define CLUSTER_RANGES_MAX 16384

struct cluster_range {
    unsigned start, end; /* inclusive */
    char *host;
    int port;
};

struct cluster_map {
    struct cluster_range *ranges;
    size_t n;
};

/* Build a map from a CLUSTER SLOTS reply (borrowed): [[start, end,
 * [host, port, id...], replicas...], ...]. An empty host (the node does
 * not know its address) becomes fallback_host. -EPROTO for a reply of
 * another shape, -ENOMEM. *ret owned (cluster_map_free). */
int cluster_map_parse(const redisReply *rep, const char *fallback_host, struct cluster_map **ret);

/* Free (takes NULL), returns NULL. */
struct cluster_map *cluster_map_free(struct cluster_map *m);

/* The master of slot: host (borrowed from m) and port; -ENOENT when no
 * range covers it (the cluster is not fully set up). */
int cluster_map_lookup(const struct cluster_map *m, unsigned slot, const char **ret_host,
                       int *ret_port);

/* Parse the text of a "MOVED <slot> <host>:<port>" or "ASK ..." error
 * reply (len bytes). -EINVAL when it is neither. */
int cluster_parse_redirect(const char *s, size_t len, bool *ret_is_ask, unsigned *ret_slot,
                           char *host, size_t host_size, int *ret_port);

/* The cluster form of key (len bytes): "<db_prefix><db>:" in front (no
 * prefix when db_prefix is ""), and tag (the stream name) wrapped in
 * braces where it follows one of prefixes (NULL-terminated, e.g.
 * "logs:app:"), else where it first is a whole ':'-delimited segment;
 * a key that has a hash tag already keeps it. Writes into out (not
 * NUL-terminated) and returns the length, or -ENAMETOOLONG. */
int cluster_key(const char *db_prefix, int db, const char *tag, const char *const *prefixes,
                const char *key, size_t len, char *out, size_t size);

/* Which arguments of a command are keys: *ret_first and the count (0:
 * none, e.g. PING). Knows the commands wrapp sends; any other command
 * has its key at 1. */
int cluster_key_args(int argc, const char **argv, const size_t *lens, int *ret_first);

/* A command with its keys in cluster form (heap copies). */
struct cluster_cmd {
    const char **argv;
    size_t *lens;
    char *buf;
};

/* Build w from argv with every key in cluster form for DB db (t's tag and
 * DB prefix). 0, -ENOMEM, -ENAMETOOLONG; w is freed with cluster_cmd_fini. */
int cluster_cmd_build(const struct rconn_target *t, int db, int argc, const char **argv,
                      const size_t *lens, struct cluster_cmd *w);
void cluster_cmd_fini(struct cluster_cmd *w);

/* Ask the seeds in turn for the slot map, and find the master of the
 * slot of the application's keys (t->tag). Writes host/port, and the map
 * into *ret_map (owned). -ECONNREFUSED... when no seed answered, -ENOENT
 * when the slot is not served (why set). */
int cluster_locate(const struct rconn_target *t, struct cluster_map **ret_map, char *host,
                   size_t host_size, int *ret_port, char *why, size_t why_size);

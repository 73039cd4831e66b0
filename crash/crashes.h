// SPDX-License-Identifier: MIT
/*
 * `wrapp crashes`: list the crashes wrapp recorded for an app in Redis
 * (logs:app:<stream>:crash), with whether each one's core is stored there
 * too, or print one of them (its backtrace, or its JSON report). An
 * operator command: it runs instead of the init, in the main thread, and
 * exits. It only reads; the supervisor writes the entries. Also how the
 * operator commands about crashes (this one, `wrapp core get`) find Redis,
 * the app's stream and a crash entry.
 */
#pragma once

#include "config.h"
#include "coreup.h"
#include "fdio.h"
#include "rconn.h"

#include <errno.h>
#include <getopt.h>
#include <hiredis.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#define CRASHES_EXIT_NOT_FOUND 1 /* Redis unreachable, or no such entry */
#define CRASHES_EXIT_USAGE     2

/* Where to look, as the command line says: each borrowed from argv,
 * NULL when not given. */
struct crashes_args {
    const char *config_path; /* CONFIG.json */
    const char *stream;      /* --stream NAME */
    const char *url;         /* --url URL */
};

enum { CRASHES_OPT_STREAM = 0x100, CRASHES_OPT_URL, CRASHES_OPT_NEXT };

/* The long options every operator command about crashes takes, for its
 * getopt_long table (before its NULL entry). */
/* clang-format off */
#define CRASHES_LONG_OPTIONS                                     \
    {"stream", required_argument, NULL, CRASHES_OPT_STREAM},     \
    {"url", required_argument, NULL, CRASHES_OPT_URL},           \
    {"help", no_argument, NULL, 'h'}
/* clang-format on */

/* Write text (a usage message) to fd. Returns 1 for stdout (--help
 * asked for it), -EINVAL for stderr (a usage error). */
static inline int crashes_usage(int fd, const char *text)
{
    fdio_write_all(fd, text, strlen(text));
    return fd == STDOUT_FILENO ? 1 : -EINVAL;
}

/* Take getopt_long's opt (with optarg) into a when it is one of
 * CRASHES_LONG_OPTIONS but --help; returns whether it was. */
bool crashes_option(int opt, const char *arg, struct crashes_args *a);

/* Where an operator command reads crashes and cores. Caller-owned; zero it,
 * then crashes_redis_init; crashes_redis_fini in any case. */
struct crashes_redis {
    const char *cmd; /* "wrapp crashes", for messages */
    struct config cfg;
    struct rconn_target target;
    struct rconn conn; /* the log streams' DB (crashes_redis_logs) */
    struct rconn core; /* the cores' DB (crashes_redis_cores) */
    struct coreup_opts opts;
    char stream[256];
    char key[512]; /* <stream_prefix><stream>:crash */
    bool is_inited;
};

/* Settings go defaults < a's config file < environment < a's options
 * (a borrowed). cmd borrowed (a literal). Logs one line naming the
 * problem and returns -EINVAL, -ENOMEM or the password file's -errno: a
 * usage error. Main thread. */
int crashes_redis_init(struct crashes_redis *rd, const char *cmd, const struct crashes_args *a);

/* Connect rd->conn (log streams) or rd->core (cores) unless connected.
 * Logs one line naming the server and what it was for, and returns
 * rconn_open's -errno on failure. */
int crashes_redis_logs(struct crashes_redis *rd);
int crashes_redis_cores(struct crashes_redis *rd);

/* Close the connections and free the config. Takes a zeroed one. */
void crashes_redis_fini(struct crashes_redis *rd);

/* Field name of the :crash entry id (a stream entry ID). *ret_reply
 * returns owned (freeReplyObject), *ret_value points into it. Returns 0,
 * or -ENOENT (no such entry or field), -EIO/-EPROTO..., after logging one
 * line naming the key. Connects rd->conn as needed. */
int crashes_entry_field(struct crashes_redis *rd, const char *id, const char *name,
                        redisReply **ret_reply, const redisReply **ret_value);

/* A stream entry's field array ([id, [k, v, ...]]), NULL when e is not
 * an entry; and the string value of field name in it, NULL when absent. */
const redisReply *crashes_entry_fields(const redisReply *e);
const redisReply *crashes_field(const redisReply *fields, const char *name);

/* Whether s is a stream entry ID as XADD makes them ("<ms>[-<seq>]"). */
bool crashes_is_entry_id(const char *s);

/* argv[0] is "crashes"; argv is borrowed. Prints to stdout, one-line
 * errors to stderr. Returns the process exit status: 0,
 * CRASHES_EXIT_NOT_FOUND or CRASHES_EXIT_USAGE. */
int crashes_main(int argc, char **argv);

// SPDX-License-Identifier: MIT
/*
 * See ctlstream.h. XREAD BLOCK on a connection of its own; stopping shuts
 * the socket down under the lock, so the blocked read returns at once and
 * wrapp's exit never waits for it. A snapshot's outcome comes back through
 * a pipe; while it is awaited the supervisor is kicked every 10 ms (see
 * trace_kick).
 */
#include "ctlstream.h"

#include "control.h"
#include "log.h"
#include "macro.h"
#include "rconn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CTLSTREAM_KICK_MS  10
#define CTLSTREAM_RETRY_MS 2000
#define CTLSTREAM_STOP_MS  200 /* at exit, how long to wait for the thread */

struct ctlstream {
    struct rconn_target target;
    struct trace *trace;
    char key[320];
    char last_id[64];
    pthread_t thread;
    pthread_mutex_t lock;
    bool is_stopping; /* under lock */
    int fd;           /* a duplicate of the connection's socket, -1: none; under lock */
};

static bool stopping(struct ctlstream *c)
{
    bool s;

    pthread_mutex_lock(&c->lock);
    s = c->is_stopping;
    pthread_mutex_unlock(&c->lock);
    return s;
}

/* The connection's socket, as ctlstream_stop may shut it down: a
 * duplicate of our own, so that hiredis closing its descriptor can never
 * leave us pointing at a number reused by another thread's file. */
static void watch_socket(struct ctlstream *c, int fd)
{
    pthread_mutex_lock(&c->lock);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -1;
    pthread_mutex_unlock(&c->lock);
}

/* Run one snapshot request and wait for its one-line outcome. */
static void run_request(struct ctlstream *c, const char *id, struct trace_request *r)
{
    int p[2], e;
    char out[512] = "";
    ssize_t n = 0;

    if (pipe2(p, O_CLOEXEC) < 0) {
        log_warn("control %s: cannot take the command (%s)", id, strerror(errno));
        return;
    }
    r->reply_fd = p[1];
    e = trace_request(c->trace, r);
    if (e < 0) {
        close(p[0]);
        close(p[1]);
        log_warn("control %s: %s", id,
                 e == -EBUSY ? "busy: snapshots already waiting" : "no supervised app");
        return;
    }
    for (int waited = 0; waited < CTLSTREAM_WAIT_MS && !stopping(c); waited += CTLSTREAM_KICK_MS) {
        struct pollfd pf = {.fd = p[0], .events = POLLIN};
        if (poll(&pf, 1, CTLSTREAM_KICK_MS) > 0) {
            n = read(p[0], out, sizeof(out) - 1);
            break;
        }
        trace_kick(c->trace);
    }
    close(p[0]);
    out[n > 0 ? n : 0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    if (strncmp(out, "ok ", 3) == 0)
        log_info("control %s: snapshot %s", id, out + 3);
    else
        log_warn("control %s: snapshot failed: %s", id, *out ? out : "no answer");
}

static void on_entry(struct ctlstream *c, const redisReply *e)
{
    const redisReply *id, *f;
    char cmd[CONTROL_LINE_MAX] = "", text[CONTROL_LINE_MAX];
    struct trace_request r = {0};

    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
        return;
    id = e->element[0];
    f = e->element[1];
    if (id->type != REDIS_REPLY_STRING)
        return;
    snprintf(c->last_id, sizeof(c->last_id), "%.*s", (int)id->len, id->str);
    for (size_t i = 0; f->type == REDIS_REPLY_ARRAY && i + 1 < f->elements; i += 2)
        if (f->element[i]->type == REDIS_REPLY_STRING &&
            strncmp(f->element[i]->str, "command", f->element[i]->len) == 0 &&
            f->element[i]->len == 7 && f->element[i + 1]->type == REDIS_REPLY_STRING)
            snprintf(cmd, sizeof(cmd), "%.*s", (int)f->element[i + 1]->len, f->element[i + 1]->str);
    memcpy(text, cmd, sizeof(text));
    if (!control_parse(cmd, &r)) {
        log_warn("control %s: ignored \"%.80s\": not a command; expected a \"command\" field "
                 "with snapshot [core] [pid N]",
                 c->last_id, text);
        return;
    }
    run_request(c, c->last_id, &r);
}

static void nap(struct ctlstream *c, unsigned ms)
{
    for (unsigned t = 0; t < ms && !stopping(c); t += 100) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Commands from wrapp's start on: the stream's newest id then ("$" in
 * every XREAD would miss those added between two reads). */
static void start_after_newest(struct ctlstream *c, struct rconn *conn)
{
    redisReply *rep = NULL;
    char why[RCONN_WHY_MAX];

    if (strcmp(c->last_id, "$") != 0)
        return;
    snprintf(c->last_id, sizeof(c->last_id), "0-0");
    if (rconn_command(conn, 6, (const char *[]){"XREVRANGE", c->key, "+", "-", "COUNT", "1"},
                      (const size_t[]){9, strlen(c->key), 1, 1, 5, 1}, &rep, why, sizeof(why)) < 0)
        return;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
        rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements == 2 &&
        rep->element[0]->element[0]->type == REDIS_REPLY_STRING)
        snprintf(c->last_id, sizeof(c->last_id), "%.*s", (int)rep->element[0]->element[0]->len,
                 rep->element[0]->element[0]->str);
    freeReplyObject(rep);
}

static void *run(void *arg)
{
    struct ctlstream *c = arg;
    struct rconn conn = {.db = -1};
    char why[RCONN_WHY_MAX], block[16];
    bool is_warned = false;

    snprintf(block, sizeof(block), "%d", CTLSTREAM_BLOCK_MS);
    while (!stopping(c)) {
        redisReply *rep = NULL;
        int r;
        if (!conn.ctx) {
            if (rconn_open(&c->target, &conn, why, sizeof(why)) < 0) {
                if (!is_warned)
                    log_debug("control stream %s: %s; retrying", c->key, why);
                is_warned = true;
                nap(c, CTLSTREAM_RETRY_MS);
                continue;
            }
            watch_socket(c, conn.ctx->fd);
            if (stopping(c))
                break;
            start_after_newest(c, &conn);
            if (!conn.ctx) { /* lost while asking (or shut down by ctlstream_stop) */
                watch_socket(c, -1);
                nap(c, CTLSTREAM_RETRY_MS);
                continue;
            }
        }
        r = rconn_command(
            &conn, 8,
            (const char *[]){"XREAD", "COUNT", "16", "BLOCK", block, "STREAMS", c->key, c->last_id},
            (const size_t[]){5, 5, 2, 5, strlen(block), 7, strlen(c->key), strlen(c->last_id)},
            &rep, why, sizeof(why));
        if (r < 0) {
            watch_socket(c, -1);
            rconn_close(&conn);
            nap(c, CTLSTREAM_RETRY_MS);
            continue;
        }
        /* [[key, [entry...]]] or nil on timeout */
        if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
            rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements == 2) {
            const redisReply *entries = rep->element[0]->element[1];
            for (size_t i = 0; entries->type == REDIS_REPLY_ARRAY && i < entries->elements; i++)
                on_entry(c, entries->element[i]);
        }
        freeReplyObject(rep);
    }
    watch_socket(c, -1);
    rconn_close(&conn);
    return NULL;
}

int ctlstream_start(const struct config *cfg, struct trace *t, const char *stream,
                    struct ctlstream **ret)
{
    struct ctlstream *c = calloc(1, sizeof(*c));
    int r;

    if (!c)
        return -ENOMEM;
    r = rconn_target_from_config(cfg, &c->target);
    if (r < 0) {
        free(c);
        return r;
    }
    c->target.db = CTLSTREAM_DB;
    c->trace = t;
    c->fd = -1;
    snprintf(c->key, sizeof(c->key), "%s%s:control",
             cfg->redis.metric_prefix ? cfg->redis.metric_prefix : "wrapp:", stream);
    snprintf(c->last_id, sizeof(c->last_id), "$"); /* commands from now on */
    pthread_mutex_init(&c->lock, NULL);
    r = -pthread_create(&c->thread, NULL, run, c);
    if (r < 0) {
        rconn_target_fini(&c->target);
        free(c);
        return r;
    }
    *ret = c;
    return 0;
}

void ctlstream_stop(struct ctlstream *c)
{
    struct timespec deadline;

    if (!c)
        return;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += CTLSTREAM_STOP_MS * 1000000L;
    deadline.tv_sec += deadline.tv_nsec / 1000000000L;
    deadline.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&c->lock);
    c->is_stopping = true;
    if (c->fd >= 0)
        shutdown(c->fd, SHUT_RDWR); /* the blocked XREAD returns now */
    pthread_mutex_unlock(&c->lock);
    /* A thread still connecting (Redis unreachable: up to
     * redis.timeout_seconds) must not hold up wrapp's exit: it is left to
     * end with the process, and what it uses stays allocated. */
    if (pthread_timedjoin_np(c->thread, NULL, &deadline) != 0) {
        pthread_detach(c->thread);
        return;
    }
    pthread_mutex_destroy(&c->lock);
    rconn_target_fini(&c->target);
    free(c);
}

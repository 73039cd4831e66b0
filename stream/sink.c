// SPDX-License-Identifier: MIT
/*
 * The Redis sink (see sink.h). Records are encoded commands: one byte
 * version, one byte DB, u16 argc, then argc × (u32 length, bytes), little
 * endian; the same bytes live in the queue and the spool. Delivery order
 * is spool, then the thread's pending list, then the queue: the thread
 * only sends from memory when the spool is empty, and when a send fails
 * what it holds goes to the end of the spool, so order is kept across
 * outages. Lock order: the queue mutex is never held across Redis or disk
 * I/O, and the thread never logs while holding it (the log hook queues).
 */
#include "sink.h"

#include "clock.h"
#include "log.h"
#include "macro.h"
#include "record.h"
#include "replay.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sink {
    struct sink_opts o;
    char *keys[SINK_CHANNELS];
    char *metric_base; /* "<metric_prefix><stream>:" */
    char run[24];      /* this run's id, in every line's "run" field */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_cond_t connected_cond;
    /* under lock */
    struct record_list queue;
    bool is_closing, is_connected, has_connected;
    uint64_t flush_deadline;
    uint64_t dropped;                        /* records refused because the queue was full */
    uint64_t spilled_lines, spilled_bundles; /* into the spool; writer thread */
    uint64_t seq;
    long pid;
    /* the thread's own */
    struct rconn conn;
    struct record_list pending;
    uint64_t next_attempt, next_ping;
    unsigned backoff_ms;
    unsigned n_failed_replies;
    struct replay replay; /* resync after reconnects, the failover window */
    uint8_t *bundle;      /* spill buffer */
    size_t bundle_cap;
    uint8_t *zbuf, *raw; /* a bundle compressed for the spool, and one read back */
    size_t zbuf_cap, raw_cap;
    void *zctx; /* zstd's, for zbuf */
    /* per round trip, on the heap (too large for the stack) */
    int which[SINK_BATCH_MAX * 2];
    bool skip[SINK_BATCH_MAX];
    struct spool_rec batch[SINK_BATCH_MAX];
    size_t bundle_max;          /* bytes per bundle: a fraction of a spool segment */
    struct spool_rec *unpacked; /* records of the bundle being replayed */
    size_t unpacked_cap;
    uint64_t rng;
};

/* Queue one encoded command; the caller holds the lock. */
static int push_locked(struct sink *s, int db, int argc, const char *const *argv,
                       const size_t *lens)
{
    size_t n = 4;
    struct record *r;

    for (int i = 0; i < argc; i++)
        n += 4 + lens[i];
    if (s->queue.bytes + n > s->o.queue_max_bytes && s->queue.n > 0) {
        s->dropped++;
        return -ENOBUFS;
    }
    r = malloc(sizeof(*r) + n);
    if (!r)
        return -ENOMEM;
    r->len = (size_t)record_encode(db, argc, argv, lens, r->data, n);
    record_list_push(&s->queue, r);
    if (s->queue.n == 1)
        pthread_cond_signal(&s->wake);
    return 0;
}

static int submit(struct sink *s, int db, int argc, const char *const *argv, const size_t *lens)
{
    int r;

    pthread_mutex_lock(&s->lock);
    r = push_locked(s, db, argc, argv, lens);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static const char *const channel_names[SINK_CHANNELS] = {"info", "status", "error", "crash",
                                                         "proc"};

struct xadd_bufs {
    char maxlen[16], ts[24], pid[24], seq[24];
};

/* XADD key [MAXLEN ~ n] * message text [fd f] ts t pid p seq s run r [split x] */
static int build_xadd(const struct sink *s, const struct sink_line *l, struct xadd_bufs *b,
                      const char **argv, size_t *lens)
{
    int argc = 0, maxlen = l->channel == SINK_PROC ? s->o.proc_maxlen : s->o.maxlen;

#define ARG(p, len) (argv[argc] = (p), lens[argc++] = (len))
#define ARGS(p)     ARG(p, strlen(p))
    ARGS("XADD");
    ARGS(s->keys[l->channel]);
    if (maxlen > 0) {
        snprintf(b->maxlen, sizeof(b->maxlen), "%d", maxlen);
        ARGS("MAXLEN");
        ARGS("~");
        ARGS(b->maxlen);
    }
    ARGS("*");
    ARGS("message");
    ARG(l->text, l->len);
    for (size_t i = 0; i < l->n_extra && i < SINK_EXTRA_MAX; i++) {
        ARGS(l->extra[2 * i]);
        ARGS(l->extra[2 * i + 1]);
    }
    if (!s->o.has_fields)
        return argc;
    snprintf(b->seq, sizeof(b->seq), "%llu", (unsigned long long)s->seq);
    snprintf(b->pid, sizeof(b->pid), "%ld", s->pid);
    snprintf(b->ts, sizeof(b->ts), "%llu",
             (unsigned long long)(l->ts_us ? l->ts_us : clock_real_us()));
    if (l->fd) {
        ARGS("fd");
        ARGS(l->fd == 'e' ? "err" : "out");
    }
    ARGS("ts");
    ARGS(b->ts);
    ARGS("pid");
    ARGS(b->pid);
    ARGS("seq");
    ARGS(b->seq);
    ARGS("run");
    ARGS(s->run);
    if (l->split) {
        ARGS("split");
        ARGS(l->split);
    }
#undef ARGS
#undef ARG
    return argc;
}

int sink_line(struct sink *s, const struct sink_line *l)
{
    const char *argv[RECORD_ARGC_MAX];
    size_t lens[RECORD_ARGC_MAX];
    struct xadd_bufs b;
    int argc, r;

    /* seq is taken and the record queued under one lock: queue order is
     * seq order, which the replay's duplicate check relies on. */
    pthread_mutex_lock(&s->lock);
    s->seq++;
    argc = build_xadd(s, l, &b, argv, lens);
    r = push_locked(s, s->o.db, argc, argv, lens);
    pthread_mutex_unlock(&s->lock);
    return r;
}

int sink_metric(struct sink *s, bool is_set, const char *name, size_t name_len, const char *value,
                size_t value_len)
{
    size_t blen = strlen(s->metric_base);
    char *key = malloc(blen + name_len + 1);
    const char *argv[3] = {is_set ? "SET" : "INCR", key, value};
    size_t lens[3] = {is_set ? 3 : 4, blen + name_len, value_len};
    int r;

    if (!key)
        return -ENOMEM;
    memcpy(key, s->metric_base, blen);
    memcpy(key + blen, name, name_len);
    key[blen + name_len] = '\0';
    r = submit(s, s->o.metrics_db, is_set ? 3 : 2, argv, lens);
    free(key);
    return r;
}

void sink_set_pid(struct sink *s, long pid)
{
    pthread_mutex_lock(&s->lock);
    s->pid = pid;
    pthread_mutex_unlock(&s->lock);
}

/* Replies that mean "try again later" rather than "this command is bad". */
static bool is_transient(const redisReply *rep)
{
    static const char *const prefixes[] = {"LOADING",    "BUSY",     "OOM",         "READONLY",
                                           "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS",
                                           "MOVED",      "ASK"};

    for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
        if (rep->len >= strlen(prefixes[i]) &&
            strncmp(rep->str, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

static void refused(struct sink *s, const redisReply *rep)
{
    s->n_failed_replies++;
    /* The first, then one in a thousand: a bad key type must not flood. */
    if (s->n_failed_replies == 1 || s->n_failed_replies % 1000 == 0)
        log_warn("Redis refused a write (%u so far), dropping it: %.*s; check the key type and "
                 "the ACL user's permissions",
                 s->n_failed_replies, (int)rep->len, rep->str);
}

static void lost(struct sink *s, const char *why_in)
{
    char name[300], why[RCONN_WHY_MAX];

    /* why may point into the context closed here: copy it first. */
    snprintf(why, sizeof(why), "%s", why_in);
    rconn_close(&s->conn);
    pthread_mutex_lock(&s->lock);
    s->is_connected = false;
    pthread_mutex_unlock(&s->lock);
    log_warn("lost the connection to Redis at %s: %s; output is kept and sent when it is back",
             rconn_target_name(s->o.target, name, sizeof(name)), why);
}

/* Append the batch's commands; returns how many commands were appended,
 * with which[k] = record index (or -1 for a SELECT), and in *ret_upto how
 * many records that covers (unreadable ones, from spool damage, skipped). */
static size_t append_batch(struct sink *s, const struct spool_rec *recs, size_t n, const bool *skip,
                           int *which, size_t *ret_upto)
{
    const char *argv[RECORD_ARGC_MAX];
    size_t lens[RECORD_ARGC_MAX], k = 0, i;

    for (i = 0; i < n; i++) {
        int db, argc = record_decode(recs[i].data, recs[i].len, &db, argv, lens, RECORD_ARGC_MAX);
        if (argc < 0 || skip[i])
            continue;
        if (rconn_append_select(&s->conn, db) == 1)
            which[k++] = -1;
        if (rconn_append(&s->conn, argc, argv, lens) < 0)
            break;
        which[k++] = (int)i;
    }
    *ret_upto = i;
    return k;
}

/* Cluster: run a command that MOVED/ASK sent away on the node named. */
static redisReply *redirect(struct sink *s, redisReply *rep, const struct spool_rec *rec)
{
    const char *argv[RECORD_ARGC_MAX];
    size_t lens[RECORD_ARGC_MAX];
    redisReply *got = NULL;
    char why[RCONN_WHY_MAX];
    int db, argc = record_decode(rec->data, rec->len, &db, argv, lens, RECORD_ARGC_MAX);

    if (argc > 0 && rconn_redirect(&s->conn, rep, db, argc, argv, lens, &got, why, sizeof(why)) < 0)
        log_debug("redirection failed: %s", why);
    if (!got)
        return rep; /* the redirection stays an error: transient, retried */
    freeReplyObject(rep);
    return got;
}

/* Read one reply; returns false when the connection was lost. */
static bool read_reply(struct sink *s, const struct spool_rec *recs, int which, size_t *done)
{
    redisReply *rep = NULL;

    if (redisGetReply(s->conn.ctx, (void **)&rep) != REDIS_OK || !rep) {
        lost(s, s->conn.ctx ? s->conn.ctx->errstr : "connection closed");
        return false;
    }
    if (which >= 0 && rconn_is_redirect(rep))
        rep = redirect(s, rep, &recs[which]);
    if (rep->type == REDIS_REPLY_ERROR && (which < 0 || is_transient(rep))) {
        char why[RCONN_WHY_MAX];
        snprintf(why, sizeof(why), "%.*s", (int)rep->len, rep->str);
        freeReplyObject(rep);
        lost(s, why);
        return false;
    }
    if (rep->type == REDIS_REPLY_ERROR)
        refused(s, rep);
    freeReplyObject(rep);
    if (which >= 0)
        *done = (size_t)which + 1;
    return true;
}

/* Write out what was appended (so Redis works while we read). */
static bool flush_out(struct sink *s)
{
    int is_done = 0;

    while (!is_done)
        if (redisBufferWrite(s->conn.ctx, &is_done) != REDIS_OK) {
            lost(s, s->conn.ctx->errstr);
            return false;
        }
    return true;
}

/* Pipeline round trips for n records, in slices of SINK_SLICE with two
 * slices in flight: Redis executes one while the replies of the other are
 * read. Returns how many records are done (delivered or refused for
 * good); fewer than n means the connection was lost. */
static size_t send_batch(struct sink *s, const struct spool_rec *recs, size_t n)
{
    int *which = s->which;
    bool *skip = s->skip;
    size_t sent = 0, k_total = 0, k_read = 0, done = 0;

    memset(skip, 0, n * sizeof(*skip));
    replay_skip(&s->replay, &s->conn, recs, n, skip);
    if (!s->conn.ctx)
        return 0;
    while (sent < n || k_read < k_total) {
        if (sent < n && k_total - k_read < 2 * SINK_SLICE) {
            size_t m = n - sent, upto = 0, k;
            if (m > SINK_SLICE)
                m = SINK_SLICE;
            k = append_batch(s, recs + sent, m, skip + sent, which + k_total, &upto);
            for (size_t j = k_total; j < k_total + k; j++)
                which[j] = which[j] < 0 ? -1 : which[j] + (int)sent;
            k_total += k;
            sent += upto;
            if (upto < m)
                n = sent; /* out of memory appending: send what is queued */
            if (!flush_out(s))
                return done;
            continue;
        }
        if (!read_reply(s, recs, which[k_read++], &done))
            return done;
    }
    return sent;
}

#define SINK_BUNDLE_MAX ((size_t)256 * 1024)

/* Move what the thread holds to the end of the spool (not connected, or
 * the queue filling up faster than Redis takes it), in bundles: one disk
 * write and one checksum per bundle, not per line. */
static void spill(struct sink *s)
{
    while (s->o.spool && s->pending.head) {
        size_t len = 0,
               n = record_pack(&s->pending, s->bundle_max, &s->bundle, &s->bundle_cap, &len);
        size_t zlen = n ? record_compress(s->bundle, len, &s->zbuf, &s->zbuf_cap, &s->zctx) : 0;
        int e =
            n ? spool_append(s->o.spool, zlen ? s->zbuf : s->bundle, zlen ? zlen : len) : -ENOMEM;
        if (e == 0) {
            s->spilled_lines += n;
            s->spilled_bundles++;
        }
        if (e == -EFBIG && n == 1) { /* one record larger than the whole spool */
            pthread_mutex_lock(&s->lock);
            s->dropped++;
            pthread_mutex_unlock(&s->lock);
        } else if (e < 0) {
            log_warn_errno(e, "cannot write to the spool; keeping output in memory");
            break;
        }
        while (n--)
            free(record_list_pop(&s->pending));
    }
    /* Memory only: keep the newest queue_max_bytes, count what goes. */
    while (s->pending.bytes > s->o.queue_max_bytes && s->pending.n > 1) {
        free(record_list_pop(&s->pending));
        pthread_mutex_lock(&s->lock);
        s->dropped++;
        pthread_mutex_unlock(&s->lock);
    }
}

/* Redis is behind: the queue is over half full. With a spool, move the
 * queue behind what the thread holds into it, so the queue never fills
 * while the disk keeps up; the spool is sent first from then on. */
static bool overflow(struct sink *s)
{
    bool high;

    if (!s->o.spool)
        return false;
    pthread_mutex_lock(&s->lock);
    high = s->queue.bytes > s->o.queue_max_bytes / 2;
    if (high)
        record_list_append(&s->pending, &s->queue);
    pthread_mutex_unlock(&s->lock);
    if (high)
        spill(s);
    return high;
}

/* Spool first: whatever is there is older than anything in memory. A
 * bundle is popped once all its records are delivered; after a cut link
 * the delivered part is skipped by resync. */
static bool send_spool(struct sink *s)
{
    struct spool_rec rec;

    while (s->conn.ctx && s->o.spool) {
        int got = spool_peek(s->o.spool, &rec, 1, 0);
        long n = got > 0 ? record_unpack(rec.data, rec.len, &s->unpacked, &s->unpacked_cap, &s->raw,
                                         &s->raw_cap)
                         : got;
        size_t off = 0;
        if (n < 0 || got <= 0)
            return got == 0;
        while (off < (size_t)n) {
            size_t k = (size_t)n - off, done;
            if (k > SINK_BATCH_MAX)
                k = SINK_BATCH_MAX;
            done = send_batch(s, s->unpacked + off, k);
            replay_keep(&s->replay, s->unpacked + off, done);
            if (done < k)
                return false;
            off += done;
        }
        spool_pop(s->o.spool, 1);
        overflow(s);
    }
    return false;
}

/* After a reconnect, first the window: the lines a new master lacks. */
static bool send_window(struct sink *s)
{
    struct record *r = s->replay.window.head;
    size_t resent = 0;

    while (r && s->conn.ctx && s->replay.is_window_due) {
        size_t n = 0;
        for (; r && n < SINK_BATCH_MAX; r = r->next)
            s->batch[n++] = (struct spool_rec){r->data, r->len};
        if (send_batch(s, s->batch, n) < n)
            return false;
        for (size_t i = 0; i < n; i++)
            resent += !s->skip[i];
    }
    if (resent)
        log_warn("Redis lacked %zu recently acknowledged lines (a failover lost them); sent them "
                 "again from the replay window",
                 resent);
    s->replay.is_window_due = false;
    return s->conn.ctx != NULL;
}

static bool send_pending(struct sink *s)
{
    struct spool_rec *recs = s->batch;
    struct record *r;

    while (s->conn.ctx && s->pending.head) {
        size_t n = 0, bytes = 0, done;
        for (r = s->pending.head; r && n < SINK_BATCH_MAX && bytes < SINK_BATCH_BYTES_MAX;
             r = r->next) {
            recs[n++] = (struct spool_rec){r->data, r->len};
            bytes += r->len;
        }
        done = send_batch(s, recs, n);
        replay_keep(&s->replay, recs, done);
        for (size_t i = 0; i < done; i++)
            free(record_list_pop(&s->pending));
        if (done < n || overflow(s))
            return false;
    }
    return s->conn.ctx != NULL;
}

/* xorshift: enough to keep a fleet of wrapps from retrying in lockstep. */
static unsigned jitter(struct sink *s)
{
    uint64_t x = s->rng ? s->rng : clock_real_us() ^ (uint64_t)(uintptr_t)s;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s->rng = x;
    return (unsigned)(x >> 32);
}

static void connect_now(struct sink *s)
{
    char why[RCONN_WHY_MAX], name[300];
    int r = rconn_open(s->o.target, &s->conn, why, sizeof(why));
    bool was;

    pthread_mutex_lock(&s->lock);
    was = s->has_connected;
    s->is_connected = r == 0;
    s->has_connected |= r == 0;
    if (r == 0)
        pthread_cond_broadcast(&s->connected_cond);
    pthread_mutex_unlock(&s->lock);
    rconn_target_name(s->o.target, name, sizeof(name));
    if (r == 0) {
        s->backoff_ms = 0;
        replay_reconnected(&s->replay);
        log_info("connected to Redis at %s", name);
        return;
    }
    /* One line per state change: the first failure, not every retry. */
    if (s->backoff_ms == 0 && r == -EACCES)
        log_error("Redis at %s refused the credentials: %s; fix the password file in "
                  "redis.secrets_dir (sentinels: redis.sentinel_secrets_dir) or the URL; output is "
                  "kept meanwhile",
                  name, why);
    else if (s->backoff_ms == 0)
        log_warn("cannot reach Redis at %s: %s; %s and retrying (check redis.host/port or "
                 "WRAPP_REDIS_URL, and that Redis runs)",
                 name, why, was ? "output is kept" : "the app runs anyway, its output is kept");
    /* Exponential backoff with jitter: 100 ms doubling to 30 s, ±25 %. */
    s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : 100;
    if (s->backoff_ms > 30000)
        s->backoff_ms = 30000;
    s->next_attempt = clock_mono_ms() + s->backoff_ms * 3 / 4 + jitter(s) % (s->backoff_ms / 2 + 1);
}

static void ping(struct sink *s)
{
    const char *argv[1] = {"PING"};
    size_t lens[1] = {4};
    redisReply *rep = NULL;
    char why[RCONN_WHY_MAX];

    s->next_ping = clock_mono_ms() + s->o.ping_ms;
    if (rconn_command(&s->conn, 1, argv, lens, &rep, why, sizeof(why)) == 0)
        freeReplyObject(rep);
    /* Lost during PING, or (sentinel) the master changed. */
    if (!s->conn.ctx || rconn_verify(&s->conn, why, sizeof(why)) < 0)
        lost(s, why);
}

/* Report drops (full queue, spool cap) once they happen, on :status. */
static void report_drops(struct sink *s, uint64_t *reported_queue, uint64_t *reported_spool)
{
    struct spool_stats st = {0};
    uint64_t q;

    pthread_mutex_lock(&s->lock);
    q = s->dropped;
    pthread_mutex_unlock(&s->lock);
    if (s->o.spool)
        spool_stats(s->o.spool, &st);
    if (q != *reported_queue) {
        log_warn("%llu lines dropped so far: the output queue was full (raise "
                 "output.queue_max_bytes, or check the spool directory)",
                 (unsigned long long)q);
        *reported_queue = q;
    }
    if (st.dropped_records != *reported_spool) {
        /* The spool holds bundles of lines: the count is this run's average. */
        uint64_t per = s->spilled_bundles ? s->spilled_lines / s->spilled_bundles : 1;
        log_warn("about %llu lines (%llu bundles) dropped so far from the spool at its size cap, "
                 "oldest first; raise output.spool_max_bytes",
                 (unsigned long long)(st.dropped_records * (per ? per : 1)),
                 (unsigned long long)st.dropped_records);
        *reported_spool = st.dropped_records;
    }
}

static void deadline_ts(uint64_t until, uint64_t now, struct timespec *ts)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)((until - now) / 1000);
    ts->tv_nsec += (long)((until - now) % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Wait for work (under the lock): new records, a backlog to send, a
 * reconnect or ping due, or the flush deadline. Returns with the queue
 * moved to pending and whether the sink is closing. */
static bool wait_work(struct sink *s)
{
    bool closing;

    pthread_mutex_lock(&s->lock);
    for (;;) {
        uint64_t now = clock_mono_ms(), until;
        bool has_backlog = s->pending.n || (s->o.spool && !spool_is_empty(s->o.spool));
        struct timespec ts;
        closing = s->is_closing;
        if (s->queue.n || (s->conn.ctx && (has_backlog || now >= s->next_ping)) ||
            (!s->conn.ctx && now >= s->next_attempt))
            break;
        if (closing && (!has_backlog || now >= s->flush_deadline))
            break;
        until = s->conn.ctx ? s->next_ping : s->next_attempt;
        if (closing && s->flush_deadline < until)
            until = s->flush_deadline;
        deadline_ts(until, now, &ts);
        pthread_cond_timedwait(&s->wake, &s->lock, &ts);
    }
    record_list_append(&s->pending, &s->queue);
    pthread_mutex_unlock(&s->lock);
    return closing;
}

static bool is_drained(struct sink *s)
{
    bool empty;

    pthread_mutex_lock(&s->lock);
    empty = s->queue.n == 0;
    pthread_mutex_unlock(&s->lock);
    return empty && !s->pending.n && (!s->o.spool || spool_is_empty(s->o.spool));
}

static void *thread_main(void *arg)
{
    struct sink *s = arg;
    uint64_t reported_queue = 0, reported_spool = 0;

    for (;;) {
        bool closing = wait_work(s);
        uint64_t now = clock_mono_ms();
        if (!s->conn.ctx && now >= s->next_attempt)
            connect_now(s);
        if (s->conn.ctx && now >= s->next_ping)
            ping(s);
        if (s->conn.ctx && send_window(s) && send_spool(s))
            send_pending(s);
        if (s->conn.ctx && s->conn.is_stale) { /* a MOVED: the slot map changed */
            rconn_close(&s->conn);
            log_info("Redis Cluster moved the stream's slot; reconnecting");
        }
        if (!s->conn.ctx)
            spill(s);
        report_drops(s, &reported_queue, &reported_spool);
        if (closing && (is_drained(s) || clock_mono_ms() >= s->flush_deadline))
            break;
    }
    pthread_mutex_lock(&s->lock);
    record_list_append(&s->pending, &s->queue);
    pthread_mutex_unlock(&s->lock);
    spill(s);
    rconn_close(&s->conn);
    return NULL;
}

static int make_keys(struct sink *s)
{
    for (int i = 0; i < SINK_CHANNELS; i++)
        if (asprintf(&s->keys[i], "%s%s:%s", s->o.stream_prefix, s->o.stream, channel_names[i]) < 0)
            return -ENOMEM;
    if (asprintf(&s->metric_base, "%s%s:", s->o.metric_prefix, s->o.stream) < 0)
        return -ENOMEM;
    snprintf(s->run, sizeof(s->run), "%llu", (unsigned long long)clock_real_us());
    return 0;
}

/* The spool makes segments of a sixteenth of its cap: keep a bundle well
 * inside one, so the cap drops little at a time. */
static size_t bundle_size(size_t spool_max)
{
    size_t n = spool_max / 64;

    if (n > SINK_BUNDLE_MAX)
        return SINK_BUNDLE_MAX;
    return n < 4096 ? 4096 : n;
}

static struct sink *sink_free(struct sink *s)
{
    for (int i = 0; i < SINK_CHANNELS; i++)
        free(s->keys[i]);
    free(s->metric_base);
    free(s->bundle);
    free(s->zbuf);
    free(s->raw);
    record_compress_free(s->zctx);
    free(s->unpacked);
    record_list_free(&s->queue);
    record_list_free(&s->pending);
    replay_fini(&s->replay);
    spool_free(s->o.spool);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->connected_cond);
    free(s);
    return NULL;
}

int sink_start(const struct sink_opts *o, struct sink **ret)
{
    struct sink *s = calloc(1, sizeof(*s));
    pthread_condattr_t ca;
    int r;

    if (!s)
        return -ENOMEM;
    s->o = *o;
    s->conn.db = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_cond_init(&s->connected_cond, &ca);
    pthread_condattr_destroy(&ca);
    r = make_keys(s);
    replay_init(&s->replay, (const char *const *)s->keys, SINK_CHANNELS, s->run, o->replay_bytes);
    s->bundle = malloc(SINK_BUNDLE_MAX);
    s->bundle_cap = SINK_BUNDLE_MAX;
    s->bundle_max = bundle_size(o->spool_max_bytes);
    s->unpacked = malloc(sizeof(*s->unpacked) * 64);
    s->unpacked_cap = 64;
    if (r == 0 && (!s->bundle || !s->unpacked))
        r = -ENOMEM;
    if (r == 0)
        r = -pthread_create(&s->thread, NULL, thread_main, s);
    if (r < 0) {
        s->o.spool = NULL; /* not taken on failure */
        sink_free(s);
        return r;
    }
    *ret = s;
    return 0;
}

int sink_wait_connected(struct sink *s, unsigned ms)
{
    struct timespec ts;
    bool ok;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->lock);
    while (!s->has_connected &&
           pthread_cond_timedwait(&s->connected_cond, &s->lock, &ts) != ETIMEDOUT)
        ;
    ok = s->has_connected;
    pthread_mutex_unlock(&s->lock);
    return ok;
}

void sink_close(struct sink *s, unsigned flush_ms)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->is_closing = true;
    s->flush_deadline = clock_mono_ms() + flush_ms;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    sink_free(s);
}

// SPDX-License-Identifier: MIT
/*
 * See output.h. The spool lives in <spool_dir>/<stream>, so each app's
 * backlog is replayed by its own next run; when the directory cannot be
 * used the fallback under /tmp is tried, then memory only (with a warning).
 */
#include "output.h"

#include "log.h"
#include "macro.h"
#include "rconn.h"
#include "sink.h"
#include "spool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct output {
    struct rconn_target target;
    struct sink *sink;
    struct capture *capture;
    unsigned flush_ms;
    char stamp[32];   /* the start marker's time */
    char stream[256]; /* the stream name */
};

static void on_log(void *ctx, enum log_level level, const char *msg, size_t len)
{
    struct output *o = ctx;
    struct sink_line l = {
        .channel = level <= LOG_LEVEL_WARN ? SINK_ERROR : SINK_STATUS, .text = msg, .len = len};

    sink_line(o->sink, &l);
}

/* The Go wrapp's marker time: local time to the second. */
static void stamp(char *buf, size_t size)
{
    time_t t = time(NULL);
    struct tm tm;

    localtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%d_%H-%M-%S", &tm);
}

/* A run marker goes to :info and :status. */
static void marker(struct output *o, const char *text)
{
    struct sink_line l = {.channel = SINK_INFO, .text = text, .len = strlen(text)};

    sink_line(o->sink, &l);
    l.channel = SINK_STATUS;
    sink_line(o->sink, &l);
}

static struct spool *open_spool(const struct config *cfg, const char *stream)
{
    const char *dirs[2] = {cfg->output.spool_dir ? cfg->output.spool_dir : OUTPUT_SPOOL_DIR,
                           OUTPUT_SPOOL_FALLBACK};
    uint64_t cap = (uint64_t)cfg->output.spool_max_bytes;
    char path[4096], safe[256];
    struct spool *sp = NULL;
    size_t i;

    snprintf(safe, sizeof(safe), "%s", stream);
    for (char *p = safe; *p; p++)
        if (*p == '/')
            *p = '_';
    for (i = 0; i < ARRAY_SIZE(dirs); i++) {
        int r;
        snprintf(path, sizeof(path), "%s/%s", dirs[i], safe);
        r = spool_open(path, cap, &sp);
        if (r == 0)
            return sp;
        log_warn_errno(r, "cannot use the spool directory %s%s", path,
                       i == 0 ? "; trying the fallback" : "");
    }
    log_warn("no spool directory: while Redis is down, output is kept in memory only (set "
             "output.spool_dir to a writable directory)");
    return NULL;
}

static int start_sink(struct output *o, const struct config *cfg, const char *stream)
{
    struct sink_opts so = {
        .target = &o->target,
        .stream = stream,
        .stream_prefix = cfg->redis.stream_prefix ? cfg->redis.stream_prefix : "logs:app:",
        .metric_prefix = cfg->redis.metric_prefix ? cfg->redis.metric_prefix : "wrapp:",
        .db = o->target.db,
        .metrics_db = cfg->redis.metrics_db,
        .maxlen = cfg->redis.maxlen,
        .proc_maxlen = cfg->track.maxlen,
        .queue_max_bytes = (size_t)cfg->output.queue_max_bytes,
        .ping_ms = cfg->redis.ping_ms ? cfg->redis.ping_ms : 10000,
        .has_fields = cfg->output.has_fields,
    };

    /* A failover shows first at the sentinels: ask them every second. */
    if (o->target.mode == RCONN_SENTINEL && so.ping_ms > 1000)
        so.ping_ms = 1000;
    if (o->target.mode != RCONN_DIRECT)
        so.replay_bytes = (size_t)cfg->redis.replay_bytes;
    so.spool = open_spool(cfg, stream);
    so.spool_max_bytes = (size_t)cfg->output.spool_max_bytes;
    return sink_start(&so, &o->sink);
}

int output_open(const struct config *cfg, struct output **ret)
{
    struct output *o = calloc(1, sizeof(*o));
    char buf[256], text[64];
    const char *stream = config_stream_name(cfg, buf, sizeof(buf));
    int r;

    if (!o)
        return -ENOMEM;
    o->flush_ms = cfg->output.flush_ms;
    snprintf(o->stream, sizeof(o->stream), "%s", stream);
    r = rconn_target_from_config(cfg, &o->target);
    if (r == 0)
        r = start_sink(o, cfg, stream);
    if (r == 0)
        r = capture_new(cfg, o->sink, &o->capture);
    if (r < 0) {
        output_close(o);
        return r;
    }
    log_set_hook(on_log, o);
    if (cfg->redis.wait_at_start_ms && !sink_wait_connected(o->sink, cfg->redis.wait_at_start_ms)) {
        log_error("Redis not available after %u s (redis.wait_at_start_seconds); exiting",
                  cfg->redis.wait_at_start_ms / 1000);
        output_close(o);
        return -ETIMEDOUT;
    }
    stamp(o->stamp, sizeof(o->stamp));
    snprintf(text, sizeof(text), "{{__NEW_RUN_%s}}", o->stamp);
    marker(o, text);
    *ret = o;
    return 0;
}

void output_plan(struct output *o, struct spawn_plan *p)
{
    capture_child_fds(o->capture, &p->out_fd, &p->err_fd);
}

struct capture *output_capture(struct output *o)
{
    return o ? o->capture : NULL;
}

void output_started(struct output *o, pid_t pid)
{
    sink_set_pid(o->sink, (long)pid);
}

struct recent *output_recent(struct output *o)
{
    return o ? capture_recent(o->capture) : NULL;
}

void output_settle(struct output *o, unsigned timeout_ms)
{
    if (o)
        capture_settle(o->capture, timeout_ms);
}

const char *output_stream(const struct output *o)
{
    return o ? o->stream : NULL;
}

void output_crash(struct output *o, const char *text, const char *json, const char *signal)
{
    const char *extra[4] = {"report", json, "signal", signal};
    struct sink_line l = {
        .channel = SINK_CRASH, .text = text, .len = strlen(text), .extra = extra, .n_extra = 2};

    if (o && sink_line(o->sink, &l) < 0)
        log_warn("the crash report could not be queued for Redis (queue full); it is kept in the "
                 "crash directory");
}

/* text on channel, with up to two extra fields (NULL names: none). */
static int send(struct output *o, enum sink_channel ch, const char *text, const char *k1,
                const char *v1, const char *k2, const char *v2)
{
    const char *extra[4] = {k1, v1, k2, v2};
    struct sink_line l = {.channel = ch,
                          .text = text,
                          .len = strlen(text),
                          .extra = extra,
                          .n_extra = k1 ? (k2 ? 2 : 1) : 0};

    return o ? sink_line(o->sink, &l) : 0;
}

void output_proc(struct output *o, const char *text, const char *event, const char *json)
{
    send(o, SINK_PROC, text, "event", event, "json", json);
}

void output_violation(struct output *o, const char *text, const char *json)
{
    send(o, SINK_ERROR, text, "kind", "seccomp", "report", json);
}

void output_status(struct output *o, const char *text)
{
    send(o, SINK_STATUS, text, NULL, NULL, NULL, NULL);
}

void output_finish(struct output *o, int exit_code)
{
    char text[96], now[32];
    struct sink_line l = {.channel = SINK_STATUS, .text = text};

    l.len = (size_t)snprintf(text, sizeof(text), "Executable exited with code %d.", exit_code);
    sink_line(o->sink, &l);
    stamp(now, sizeof(now));
    snprintf(text, sizeof(text), "{{__END_RUN_%s_exit_%d}}", now, exit_code);
    marker(o, text);
}

struct output *output_close(struct output *o)
{
    if (!o)
        return NULL;
    log_set_hook(NULL, NULL);
    capture_free(o->capture);
    sink_close(o->sink, o->flush_ms);
    rconn_target_fini(&o->target);
    free(o);
    return NULL;
}

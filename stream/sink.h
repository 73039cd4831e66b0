// SPDX-License-Identifier: MIT
/*
 * The Redis sink: everything wrapp writes to Redis (the app's lines, run
 * markers, metrics, wrapp's own status and errors) goes through one
 * bounded in-memory queue to one writer thread, which pipelines the
 * commands on one connection (rconn). When Redis is down or behind, the
 * thread moves records to the on-disk spool and replays it, in order,
 * before anything newer. Producers (any thread) never wait on Redis: a full
 * queue drops the newest record and counts it. Owns the writer thread.
 */
#pragma once

#include "rconn.h"
#include "spool.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SINK_BATCH_MAX       1024          /* records per send, in slices */
#define SINK_SLICE           ((size_t)128) /* records per write; two slices in flight */
#define SINK_EXTRA_MAX       2             /* extra field pairs per line */
#define SINK_BATCH_BYTES_MAX (1u << 20)    /* bytes per pipeline round trip */

/* SINK_PROC: process tracking records (crash/track.h), capped by proc_maxlen. */
enum sink_channel { SINK_INFO, SINK_STATUS, SINK_ERROR, SINK_CRASH, SINK_PROC, SINK_CHANNELS };

struct sink_opts {
    const struct rconn_target *target; /* borrowed; outlives the sink */
    const char *stream;                /* stream name (Go default: exe basename) */
    const char *stream_prefix;         /* "logs:app:" */
    const char *metric_prefix;         /* "wrapp:" */
    int db, metrics_db, maxlen;
    int proc_maxlen; /* MAXLEN ~ of the :proc stream; 0: none */
    size_t queue_max_bytes;
    struct spool *spool;    /* taken; NULL: no disk spool (memory only) */
    size_t spool_max_bytes; /* its cap, to size the bundles written to it */
    unsigned ping_ms;
    size_t replay_bytes; /* failover replay window (replay.h); 0: none */
    bool has_fields;     /* fd/ts/pid/seq/run after message */
};

/* One XADD to logs:app:<stream>:<channel>. */
struct sink_line {
    enum sink_channel channel;
    const char *text;
    size_t len;
    char fd;           /* 'o' (stdout), 'e' (stderr), 0: wrapp itself */
    uint64_t ts_us;    /* when wrapp read it; 0: now */
    const char *split; /* "P" (more follows), "F" (last piece), NULL: whole line */
    /* More fields after message: n_extra (name, value) pairs, at most SINK_EXTRA_MAX. */
    const char *const *extra;
    size_t n_extra;
};

struct sink;

/* Create (copies what it needs from o) and start the writer thread.
 * Returns 0 or -errno; *ret owned by the caller (sink_close). */
int sink_start(const struct sink_opts *o, struct sink **ret);

/* Queue one line / metric. Any thread; never blocks on Redis or disk.
 * Returns 0, or -ENOBUFS when the queue is full (the record is dropped and
 * counted), -ENOMEM. */
int sink_line(struct sink *s, const struct sink_line *l);
int sink_metric(struct sink *s, bool is_set, const char *name, size_t name_len, const char *value,
                size_t value_len);

/* The pid put in the "pid" field of later lines (the app's). */
void sink_set_pid(struct sink *s, long pid);

/* Wait up to ms for the first successful connection: 1 if connected. */
int sink_wait_connected(struct sink *s, unsigned ms);

/* Flush for at most flush_ms (what is left goes to the spool, replayed by
 * the next run), stop the thread, free everything. Takes NULL. */
void sink_close(struct sink *s, unsigned flush_ms);

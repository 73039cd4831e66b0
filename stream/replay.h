// SPDX-License-Identifier: MIT
/*
 * Exactly-once lines across reconnects and failovers, for the sink's
 * writer thread only. After a reconnect the backlog is checked against
 * what Redis already has (per stream: the newest entry's run and seq), so
 * lines that reached Redis before the link died are not written twice.
 * The replay window keeps copies of the most recently delivered lines
 * (XADDs; at most max_bytes, oldest dropped): after a failover the new
 * master may lack what the old one acknowledged but had not replicated,
 * and those lines are sent again, in order, before anything newer.
 * Metrics (INCR/SET) are not kept: they stay at-least-once.
 */
#pragma once

#include "rconn.h"
#include "record.h"
#include "spool.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REPLAY_KEYS_MAX 8

struct replay {
    const char *const *keys; /* borrowed: the streams' keys */
    size_t n_keys;
    const char *run;    /* borrowed: this run's id */
    bool is_active;     /* a reconnect happened and some stream is not checked yet */
    bool is_window_due; /* a reconnect happened: the window is to be checked */
    enum { REPLAY_UNKNOWN, REPLAY_SKIPPING, REPLAY_DONE } state[REPLAY_KEYS_MAX];
    uint64_t seq[REPLAY_KEYS_MAX]; /* per stream: the newest seq Redis has */
    struct record_list window;     /* delivered lines, oldest first */
    size_t max_bytes;              /* 0: no window */
};

/* Set up r (caller-owned storage); keys and run must outlive it. */
void replay_init(struct replay *r, const char *const *keys, size_t n_keys, const char *run,
                 size_t max_bytes);

/* Free the window (idempotent). */
void replay_fini(struct replay *r);

/* A new connection: every stream is to be checked again. */
void replay_reconnected(struct replay *r);

/* Mark in skip[] the records of recs[0..n) that Redis already has (asks
 * each stream once per connection, on c). Records are in seq order. */
void replay_skip(struct replay *r, struct rconn *c, const struct spool_rec *recs, size_t n,
                 bool *skip);

/* Keep copies of the delivered lines of recs[0..n) in the window.
 * Allocation failures only shorten the window. */
void replay_keep(struct replay *r, const struct spool_rec *recs, size_t n);

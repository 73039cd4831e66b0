// SPDX-License-Identifier: MIT
/*
 * Reconnect resync and the failover replay window (see replay.h). The
 * window is a record list like the sink's queue: one allocation per kept
 * line, trimmed from the front at max_bytes.
 */
#include "replay.h"

#include <stdlib.h>
#include <string.h>

void replay_init(struct replay *r, const char *const *keys, size_t n_keys, const char *run,
                 size_t max_bytes)
{
    *r = (struct replay){.keys = keys,
                         .n_keys = n_keys < REPLAY_KEYS_MAX ? n_keys : REPLAY_KEYS_MAX,
                         .run = run,
                         .max_bytes = max_bytes};
}

void replay_fini(struct replay *r)
{
    record_list_free(&r->window);
}

void replay_reconnected(struct replay *r)
{
    r->is_active = true;
    r->is_window_due = r->window.n > 0;
    memset(r->state, 0, sizeof(r->state));
}

/* The seq of the newest entry of key if this run wrote it, else 0. */
static uint64_t last_seq(const struct replay *r, struct rconn *c, const char *key, size_t key_len)
{
    const char *argv[6] = {"XREVRANGE", key, "+", "-", "COUNT", "1"};
    size_t lens[6] = {9, key_len, 1, 1, 5, 1}, flen;
    redisReply *rep = NULL, *fields;
    char why[RCONN_WHY_MAX];
    uint64_t seq = 0;

    if (rconn_command(c, 6, argv, lens, &rep, why, sizeof(why)) < 0)
        return 0;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 && rep->element[0]->elements == 2) {
        const char *fargv[RECORD_ARGC_MAX], *run, *v;
        size_t flens[RECORD_ARGC_MAX];
        int n;
        fields = rep->element[0]->element[1];
        n = (int)(fields->elements < RECORD_ARGC_MAX - 3 ? fields->elements : RECORD_ARGC_MAX - 3);
        fargv[0] = "XADD", fargv[1] = key, fargv[2] = "*";
        flens[0] = 4, flens[1] = key_len, flens[2] = 1;
        for (int i = 0; i < n; i++) {
            fargv[3 + i] = fields->element[i]->str;
            flens[3 + i] = fields->element[i]->len;
        }
        run = record_xadd_field(fargv, flens, n + 3, "run", &flen);
        if (run && flen == strlen(r->run) && memcmp(run, r->run, flen) == 0) {
            v = record_xadd_field(fargv, flens, n + 3, "seq", &flen);
            seq = v ? strtoull(v, NULL, 10) : 0;
        }
    }
    freeReplyObject(rep);
    return seq;
}

/* Which of the streams' keys argv[1] is, or n_keys. */
static size_t which_key(const struct replay *r, const char *key, size_t len)
{
    size_t k = 0;

    while (k < r->n_keys && !(strlen(r->keys[k]) == len && memcmp(r->keys[k], key, len) == 0))
        k++;
    return k;
}

/* The batch that was in flight may have reached Redis before the link
 * died, and the window holds lines Redis may or may not have: skip the
 * lines Redis already has (same run, seq not above the stream's newest).
 * Per stream: unknown (ask Redis once), skipping, then done at the first
 * line Redis does not have (the backlog is in seq order). */
void replay_skip(struct replay *r, struct rconn *c, const struct spool_rec *recs, size_t n,
                 bool *skip)
{
    const char *argv[RECORD_ARGC_MAX], *v;
    size_t lens[RECORD_ARGC_MAX], flen, k;
    bool active = false;
    int db;

    for (size_t i = 0; i < n && c->ctx && r->is_active; i++) {
        int argc = record_decode(recs[i].data, recs[i].len, &db, argv, lens, RECORD_ARGC_MAX);
        if (argc < 3 || lens[0] != 4 || memcmp(argv[0], "XADD", 4) != 0)
            continue;
        k = which_key(r, argv[1], lens[1]);
        if (k == r->n_keys || r->state[k] == REPLAY_DONE)
            continue;
        if (r->state[k] == REPLAY_UNKNOWN) {
            r->seq[k] = rconn_select(c, db) == 0 ? last_seq(r, c, argv[1], lens[1]) : 0;
            r->state[k] = r->seq[k] ? REPLAY_SKIPPING : REPLAY_DONE;
        }
        v = record_xadd_field(argv, lens, argc, "seq", &flen);
        if (r->state[k] == REPLAY_SKIPPING && v && strtoull(v, NULL, 10) <= r->seq[k])
            skip[i] = true;
        else
            r->state[k] = REPLAY_DONE;
    }
    for (k = 0; k < r->n_keys; k++)
        active |= r->state[k] != REPLAY_DONE;
    r->is_active &= active;
}

void replay_keep(struct replay *r, const struct spool_rec *recs, size_t n)
{
    for (size_t i = 0; i < n && r->max_bytes; i++) {
        struct record *rec;
        /* version, db, u16 argc, u32 length 4 (little endian), "XADD" */
        if (recs[i].len < 12 || memcmp((const uint8_t *)recs[i].data + 4, "\4\0\0\0XADD", 8) != 0)
            continue;
        rec = malloc(sizeof(*rec) + recs[i].len);
        if (!rec)
            break;
        rec->len = recs[i].len;
        memcpy(rec->data, recs[i].data, recs[i].len);
        record_list_push(&r->window, rec);
    }
    while (r->window.bytes > r->max_bytes && r->window.head)
        free(record_list_pop(&r->window));
}

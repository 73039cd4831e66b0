// SPDX-License-Identifier: MIT
/*
 * Preserving a crash's core file in Redis: zstd-compressed, in chunks
 * (SET <prefix><stream>:core:<id>:<n>, with a TTL), then the manifest
 * (SET <prefix><stream>:core:<id>, JSON, below) last, so that a reader
 * never finds a manifest without its chunks. Each upload runs in its own
 * thread on its own connection, so log lines never wait behind a core; the
 * file is streamed, never held in memory. It does not write the core
 * (snapshot.c does) and never removes the local file. Also the pure parts
 * `wrapp core get` and `wrapp crashes` share: ids, key names, the manifest.
 *
 * Manifest version 1 (members in this order):
 *   version, id, compression ("zstd"), chunks, chunk_bytes, compressed_bytes,
 *   size (of the core), sha256 (of the core, lowercase hex), pid, signal
 *   ("SIGSEGV"), signal_number, time, time_us, exe, build_id, modules
 *   [{path, build_id}] (those with a build-id). Every chunk but the last
 *   holds chunk_bytes bytes; together they are one zstd frame.
 */
#pragma once

#include "config.h"
#include "rconn.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COREUP_DB_DEF      3
#define COREUP_PREFIX_DEF  "wrapp:"
#define COREUP_TTL_S_DEF   (7u * 24u * 3600u)
#define COREUP_TTL_SLACK_S 3600u /* chunks outlive their manifest by this much */
#define COREUP_CHUNK_DEF   ((size_t)1 << 20)
#define COREUP_CHUNK_MIN   ((size_t)4 << 10)
#define COREUP_CHUNK_MAX   ((size_t)64 << 20) /* Redis takes 512 MB; memory is ours */
#define COREUP_CHUNKS_MAX  (1u << 24)
#define COREUP_PIPELINE    4 /* chunk SETs in flight on the connection */
#define COREUP_RUNNING_MAX 4 /* uploads at once; more are refused */
#define COREUP_ID_MAX      48
#define COREUP_KEY_MAX     768
#define COREUP_VERSION     1
#define COREUP_SIZE_MAX    ((uint64_t)1 << 53) /* JSON numbers stay exact below this */
#define COREUP_PROGRESS_MS 10000               /* a progress line this often */

struct coreup_opts {
    const struct rconn_target *target; /* borrowed; its db is replaced by db */
    int db;
    const char *prefix; /* borrowed: COREUP_PREFIX_DEF */
    const char *stream; /* borrowed: the app's stream name */
    unsigned ttl_s;     /* 0: COREUP_TTL_S_DEF */
    size_t chunk_bytes; /* 0: COREUP_CHUNK_DEF; clamped to [MIN, MAX] */
};

/* The defaults for cfg (db, prefix, TTL, chunk size, the stream name,
 * written into stream_buf, size >= 256) with target (borrowed, kept in
 * *ret). One place, so the upload and the readers agree. Pure. */
void coreup_opts_from_config(const struct config *cfg, const struct rconn_target *target,
                             char *stream_buf, size_t size, struct coreup_opts *ret);

/* The id of a crash: "<time_us>-<pid>" into buf. Returns its length, or
 * -ENAMETOOLONG. Pure. */
int coreup_id(char *buf, size_t size, uint64_t time_us, long pid);

/* The id of the crash a JSON report (len bytes, borrowed) describes, from
 * its "time_us" and "pid". Returns its length, or -EINVAL (not a report).
 * Pure; any thread. */
int coreup_id_from_report(const char *json, size_t len, char *buf, size_t size);

/* Whether s looks like an id ("<digits>-<digits>", at most COREUP_ID_MAX). */
bool coreup_is_id(const char *s);

/* The manifest key (chunk -1) or chunk n's key into buf. Returns its
 * length, -EINVAL (chunk < -1 or an id that is not one) or -ENAMETOOLONG. */
int coreup_key(char *buf, size_t size, const char *prefix, const char *stream, const char *id,
               long chunk);

/* How many chunks of chunk_bytes hold n bytes, and how long chunk i of
 * them is (0 past the end). chunk_bytes > 0. Pure. */
uint64_t coreup_chunk_count(uint64_t n, size_t chunk_bytes);
size_t coreup_chunk_len(uint64_t n, size_t chunk_bytes, uint64_t i);

/* The n bytes at src as 2n lowercase hex digits and a NUL into dst. */
void coreup_hex(char *dst, const unsigned char *src, size_t n);

/* "300 MB", "1.2 MB", "512 KB", "12 B" (decimal units) into buf; returns buf. */
const char *coreup_fmt_size(char *buf, size_t size, uint64_t n);

/* What a manifest says (strings NUL-terminated, cut to fit). */
struct coreup_manifest {
    int version;
    char id[COREUP_ID_MAX];
    uint64_t chunks;
    size_t chunk_bytes;
    uint64_t compressed; /* bytes in all chunks */
    uint64_t size;       /* the core's */
    char sha256[65];
    int pid;
    char signal[24];
    int signal_number;
    char time[40];
    uint64_t time_us;
    char exe[256];
};

/* The manifest JSON of m, with pid, signal, time, exe and the modules'
 * build-ids taken from report_json (borrowed; may be NULL or not JSON:
 * then m's own pid/signal/time only). *ret returns owned (free()). Returns
 * 0 or -ENOMEM. Pure. */
int coreup_manifest_json(const struct coreup_manifest *m, const char *report_json, char **ret);

/* Parse and check a manifest of len bytes (borrowed; need not be
 * NUL-terminated) into *ret (written only on success). Returns 0, or
 * -EINVAL with the problem in why ("chunks: expected 1..16777216, got 0"),
 * -EPROTONOSUPPORT for another version or compression. Pure. */
int coreup_manifest_parse(const char *json, size_t len, struct coreup_manifest *ret, char *why,
                          size_t why_size);

/* Start uploading the core file at core_path for the crash id (see
 * coreup_id) with its report (report_json: the manifest's pid, signal,
 * time and build-ids), in a new thread with every signal blocked. o and
 * the strings are borrowed: copied before it returns. The outcome is one
 * log line (info on success, warn naming the problem on failure). Returns
 * 0 (started), -EINVAL (bad id), -EBUSY (COREUP_RUNNING_MAX running),
 * -ENOMEM or -EAGAIN (no thread); nothing is logged then. Any thread. */
int coreup_start(const struct coreup_opts *o, const char *core_path, const char *id,
                 const char *report_json);

/* Wait up to timeout_ms for the running uploads to end. Returns how many
 * were still running when it gave up (0: all done); those log nothing
 * from then on, so the log hook (output_close) may go. Call it before
 * output_finish, so the outcome lines reach :status. Any thread but an
 * upload's. */
int coreup_wait(unsigned timeout_ms);

// SPDX-License-Identifier: MIT
/*
 * spool: the on-disk FIFO of sink records for when Redis is down or slow. Owns
 * one directory (segment files, a cursor file); not what records mean (the sink
 * encodes them), not Redis. Threads: spool_append in one thread (main) while
 * spool_peek/spool_pop run in one other (the sink), serialised by a mutex
 * inside; it logs with the mutex held, so a log hook must not call back in.
 * Invariants: records come out in append order, across runs, at least once;
 * the files stay within max_bytes (oldest whole segments dropped, counted).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPOOL_REC_MAX       (16u << 20)  /* largest record: 16 MiB */
#define SPOOL_SEG_MAX       (8u << 20)   /* segment size for caps >= 128 MiB */
#define SPOOL_MAX_BYTES_DEF (256u << 20) /* the callers' default cap */
#define SPOOL_MAX_BYTES_MIN (64u << 10)  /* the smallest cap spool_open takes */

/*
 * Durability: no fsync per record, so records survive wrapp's exit or crash
 * (the page cache) but not a power loss before write-back; spool_free syncs.
 *
 * Files in the spool directory, integers little-endian:
 *   seg-<seq, 16 decimal digits>.wsp: "WSPL", u32 version 1, u64 seq (16 bytes),
 *     then records: u32 len (1..SPOOL_REC_MAX), u32 CRC32C of the 4 bytes of
 *     len and the data, the data. Only the newest segment of a run is appended
 *     to (O_APPEND, one writev per record); a new run starts a new one.
 *   cursor: "WSPC", u32 version 1, u64 seq, u64 off, u32 CRC32C of the 24
 *     bytes before it, u32 0: segments below seq and the bytes below off in
 *     seq are consumed. Written as cursor.tmp, then renamed over cursor.
 */
struct spool;

/* A record returned by spool_peek: borrowed from the spool's reader buffer. */
struct spool_rec {
    const void *data;
    size_t len;
};

struct spool_stats {
    uint64_t records;         /* records waiting */
    uint64_t bytes;           /* their payload bytes */
    uint64_t dropped_records; /* dropped since spool_open: cap reached or corrupt */
    uint64_t dropped_bytes;   /* their payload bytes */
    uint64_t disk_bytes;      /* size of the segment files, what max_bytes caps */
};

/* Open the spool in dir (borrowed), creating it and missing parents with mode
 * 0700, capped at max_bytes of segment files (segments are max_bytes / 16,
 * 4 KiB .. SPOOL_SEG_MAX). Takes an exclusive flock on dir. Recovers what a
 * previous run left, first in line: every record is checked (CRC32C), consumed
 * segments are deleted, a segment is cut at a torn or damaged record (crash
 * mid-write; a log_warn line, the cut records are not counted), the oldest
 * segments are dropped (counted) while over the cap. Writes the cursor, so an
 * unwritable dir fails here. *ret is owned by the caller (spool_free).
 * Returns 0, -EINVAL (max_bytes < SPOOL_MAX_BYTES_MIN), -EBUSY (another open
 * spool holds dir), -ENOMEM or the filesystem's -errno (-EACCES, -EROFS,
 * -ENOENT, -ENOSPC, ...), so the caller can fall back to another dir.
 * Call before the threads that use the spool start. */
int spool_open(const char *dir, uint64_t max_bytes, struct spool **ret);

/* Flush the tail segment and the cursor to disk (fdatasync), keep the files
 * for the next run and free s. Takes NULL; returns NULL. No other call on s
 * may run concurrently. */
struct spool *spool_free(struct spool *s);

/* Append a copy of data[0..len) (borrowed) at the tail with one writev(2).
 * If the cap would be exceeded, first drops the oldest whole segments
 * (counted in spool_stats). Returns 0, -EINVAL (len 0), -EFBIG (len above
 * SPOOL_REC_MAX or too large for the cap), or the disk's -ENOSPC/-EIO/...
 * (the record is not stored; a partial write is cut back). Main thread;
 * safe against a concurrent peek/pop. */
int spool_append(struct spool *s, const void *data, size_t len);

/* Read up to max (at most INT_MAX) of the oldest records without removing
 * them: at most max_bytes of payload, but always one record if any. Fills
 * recs[0..count) (borrowed); their data stays valid until the next spool_peek,
 * spool_pop or spool_free (appends do not move it). Returns the count (0:
 * empty), -ENOMEM or a read -errno. A damaged record (CRC32C mismatch, file
 * changed or gone) ends its segment: the rest is dropped, counted and logged.
 * Reads from the files under the lock; the reader buffer holds about
 * max_bytes (or one record) plus 1 MiB. Reader thread only. */
int spool_peek(struct spool *s, struct spool_rec *recs, size_t max, size_t max_bytes);

/* Remove the first n records of the last spool_peek (after delivery; n may be
 * less than it returned, or 0); those the cap dropped since are not removed
 * twice. Rewrites the cursor (write + rename) before deleting consumed
 * segments, so a restart or crash does not redeliver them; a failed cursor
 * write is logged once and retried at the next pop (a restart may then
 * replay). Invalidates the peeked records: peek again before the next pop.
 * Returns 0, or -EINVAL if n exceeds the last peek's count. Reader thread. */
int spool_pop(struct spool *s, size_t n);

/* No records waiting? Any thread. */
bool spool_is_empty(const struct spool *s);

/* Counters into *ret. Any thread. */
void spool_stats(const struct spool *s, struct spool_stats *ret);

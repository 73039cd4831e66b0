// SPDX-License-Identifier: MIT
/*
 * Disk spool (see spool.h, also for the file format): segment files plus a
 * cursor file in one directory. Owns the files and their recovery; not what records mean.
 * Threads: any, serialised by one mutex; the reader buffer and ents belong to
 * peek/pop. Invariants: segs[] is in seq order, only the last one is appended
 * to, and disk_bytes (all segment bytes) stays within max_bytes.
 */
#include "spool.h"

#include "crc32c.h"
#include "fdio.h"
#include "log.h"
#include "macro.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define SPOOL_SEG_HDR    16u
#define SPOOL_REC_HDR    8u
#define SPOOL_VERSION    1u
#define SPOOL_NAME_MAX   32u          /* "seg-" + 16 digits + ".wsp" + NUL = 25 */
#define SPOOL_READ_CHUNK (1u << 20)   /* peek reads at most this beyond one record */
#define SPOOL_READ_SLACK (4u << 10)   /* and this past its byte budget */
#define SPOOL_SCAN_CHUNK (256u << 10) /* recovery's reads */
#define SPOOL_BUF_KEEP   (4u << 20)   /* a larger, mostly idle reader buffer is freed */

struct seg {
    uint64_t seq;
    uint64_t size;    /* bytes in the file: what the cap counts */
    uint64_t end;     /* end of the readable records (below size after damage) */
    uint64_t records; /* records not yet popped */
    uint64_t data;    /* their payload bytes */
};

/* One record of the last peek: where it ends in its segment, where it is in buf. */
struct ent {
    uint64_t seq;
    uint64_t end;
    size_t off;
    uint32_t len;
};

struct spool {
    pthread_mutex_t lock;
    char *dir;
    int dir_fd;
    uint64_t max_bytes, seg_max;
    struct seg *segs; /* oldest first */
    size_t n_segs, segs_cap;
    uint64_t head_off; /* the next record in segs[0] */
    uint64_t next_seq;
    int tail_fd; /* O_APPEND fd of the newest segment; -1: the next append starts one */
    uint64_t disk_bytes, records, data, dropped_records, dropped_data;
    bool is_cursor_failing;
    char *buf; /* the reader's: peek, pop and spool_open's recovery */
    size_t buf_len, buf_cap;
    struct ent *ents;
    size_t n_ents, ents_cap;
};

/* Reading the records of one segment through a window of the reader buffer:
 * file bytes [wpos, wpos + wlen) are at buf[wat ..). */
struct rd {
    int fd;
    uint64_t pos; /* the next record */
    uint64_t end; /* the end of the records */
    uint64_t wpos;
    size_t wat, wlen;
};

/* Integers in the files are little-endian. */
static uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const unsigned char *p)
{
    return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_le64(unsigned char *p, uint64_t v)
{
    put_le32(p, (uint32_t)v);
    put_le32(p + 4, (uint32_t)(v >> 32));
}

/* The checksum of a record: over its length field, then its data. */
static uint32_t rec_crc(uint32_t len, const void *data)
{
    unsigned char l[4];

    put_le32(l, len);
    return ~crc32c_update(crc32c_update(~0u, l, sizeof(l)), data, len);
}

/* The 16-byte header of a segment file or the first 16 bytes of the cursor. */
static void put_header(unsigned char *p, const char *magic, uint64_t seq)
{
    memcpy(p, magic, 4);
    put_le32(p + 4, SPOOL_VERSION);
    put_le64(p + 8, seq);
}

static bool is_header(const unsigned char *p, const char *magic)
{
    return memcmp(p, magic, 4) == 0 && get_le32(p + 4) == SPOOL_VERSION;
}

static void seg_name(char name[SPOOL_NAME_MAX], uint64_t seq)
{
    snprintf(name, SPOOL_NAME_MAX, "seg-%016" PRIu64 ".wsp", seq);
}

/* Read len bytes at off, fewer only at the end of the file: the count or -errno. */
static ssize_t pread_full(int fd, void *buf, size_t len, uint64_t off)
{
    size_t got = 0;
    ssize_t n = 1;

    while (got < len && n > 0) {
        n = RETRY_EINTR(pread(fd, (char *)buf + got, len - got, (off_t)(off + got)));
        got += n > 0 ? (size_t)n : 0;
    }
    return n < 0 ? neg_errno() : (ssize_t)got;
}

/* Delete a segment file; a failure only leaves it for the next run. */
static void seg_unlink(const struct spool *s, uint64_t seq)
{
    char name[SPOOL_NAME_MAX];

    seg_name(name, seq);
    if (unlinkat(s->dir_fd, name, 0) < 0 && errno != ENOENT)
        log_warn_errno(neg_errno(), "spool %s: cannot delete %s", s->dir, name);
}

/* Queue g as the newest segment, adding its counts. */
static int seg_push(struct spool *s, const struct seg *g)
{
    if (s->n_segs == s->segs_cap) {
        size_t cap = s->segs_cap ? s->segs_cap * 2 : 16;
        struct seg *p = reallocarray(s->segs, cap, sizeof(*p));
        if (!p)
            return -ENOMEM;
        s->segs = p;
        s->segs_cap = cap;
    }
    if (s->n_segs == 0)
        s->head_off = SPOOL_SEG_HDR;
    s->segs[s->n_segs++] = *g;
    s->disk_bytes += g->size;
    s->records += g->records;
    s->data += g->data;
    return 0;
}

/* Delete the oldest segment; is_drop: count what it still held as dropped.
 * Segments are few (the cap over the segment size), so memmove is cheap. */
static void seg_remove_head(struct spool *s, bool is_drop)
{
    const struct seg *g = &s->segs[0];

    assert(s->n_segs > 0);
    if (is_drop) {
        s->dropped_records += g->records;
        s->dropped_data += g->data;
    }
    s->disk_bytes -= g->size;
    s->records -= g->records;
    s->data -= g->data;
    seg_unlink(s, g->seq);
    if (s->n_segs == 1 && s->tail_fd >= 0)
        s->tail_fd = (close(s->tail_fd), -1);
    memmove(s->segs, s->segs + 1, --s->n_segs * sizeof(*s->segs));
    s->head_off = SPOOL_SEG_HDR;
}

/* Persist a read position (seq, off), by default (NULL) where the oldest
 * waiting record is; is_sync: fdatasync before the rename. */
static int cursor_store(const struct spool *s, const struct ent *pos, bool is_sync)
{
    uint64_t seq = pos ? pos->seq : s->n_segs ? s->segs[0].seq : s->next_seq;
    uint64_t off = pos ? pos->end : s->n_segs ? s->head_off : 0;
    unsigned char b[32] = {0};
    cleanup_close int fd = -1;
    int r;

    put_header(b, "WSPC", seq);
    put_le64(b + 16, off);
    put_le32(b + 24, ~crc32c_update(~0u, b, 24));
    fd = RETRY_EINTR(openat(s->dir_fd, "cursor.tmp",
                            O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd < 0)
        return neg_errno();
    r = fdio_write_all(fd, b, sizeof(b));
    if (r < 0)
        return r;
    if (is_sync && fdatasync(fd) < 0)
        return neg_errno();
    return renameat(s->dir_fd, "cursor.tmp", s->dir_fd, "cursor") < 0 ? neg_errno() : 0;
}

/* A new, empty newest segment, open for appends. */
static int seg_create(struct spool *s)
{
    char name[SPOOL_NAME_MAX];
    unsigned char hdr[SPOOL_SEG_HDR];
    cleanup_close int fd = -1;
    int r;

    seg_name(name, s->next_seq);
    fd = RETRY_EINTR(openat(s->dir_fd, name,
                            O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd < 0)
        return neg_errno();
    put_header(hdr, "WSPL", s->next_seq);
    r = fdio_write_all(fd, hdr, sizeof(hdr));
    if (r >= 0)
        r = seg_push(s, &(struct seg){.seq = s->next_seq, .size = sizeof(hdr), .end = sizeof(hdr)});
    if (r < 0) {
        unlinkat(s->dir_fd, name, 0);
        return r;
    }
    s->next_seq++;
    if (s->tail_fd >= 0)
        close(s->tail_fd);
    s->tail_fd = take_fd(&fd);
    return 0;
}

/* Must need more bytes go to a new segment? A record larger than a segment
 * gets one of its own. */
static bool needs_new_seg(const struct spool *s, uint64_t need)
{
    const struct seg *t = s->tail_fd < 0 ? NULL : &s->segs[s->n_segs - 1];

    return !t || (t->size > SPOOL_SEG_HDR && t->size + need > s->seg_max);
}

/* Drop the oldest segments until need more bytes fit, then make sure there is
 * a tail to append to. spool_append checked that need fits an empty spool. */
static int make_room(struct spool *s, uint64_t need)
{
    while (s->disk_bytes + need + (needs_new_seg(s, need) ? SPOOL_SEG_HDR : 0) > s->max_bytes)
        seg_remove_head(s, true);
    return needs_new_seg(s, need) ? seg_create(s) : 0;
}

/* Append under the lock. A failed or short write (disk full) is cut back; if
 * that fails too, later appends go to a new segment and the next run's
 * recovery cuts this one. */
int spool_append(struct spool *s, const void *data, size_t len)
{
    unsigned char hdr[SPOOL_REC_HDR];
    const struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)data, len}};
    struct seg *t;
    ssize_t w;
    int r;

    if (len == 0 || !data)
        return -EINVAL;
    if (len > SPOOL_REC_MAX || SPOOL_SEG_HDR + SPOOL_REC_HDR + len > s->max_bytes)
        return -EFBIG;
    put_le32(hdr, (uint32_t)len);
    put_le32(hdr + 4, rec_crc((uint32_t)len, data)); /* outside the lock */
    pthread_mutex_lock(&s->lock);
    r = make_room(s, SPOOL_REC_HDR + len);
    t = r < 0 ? NULL : &s->segs[s->n_segs - 1];
    w = r < 0 ? 0 : RETRY_EINTR(writev(s->tail_fd, iov, 2));
    if (r >= 0 && w != (ssize_t)(SPOOL_REC_HDR + len)) {
        r = w < 0 ? neg_errno() : -ENOSPC;
        if (ftruncate(s->tail_fd, (off_t)t->size) < 0)
            s->tail_fd = (close(s->tail_fd), -1);
    } else if (r >= 0) {
        t->size += SPOOL_REC_HDR + len;
        t->end = t->size;
        t->records++;
        t->data += len;
        s->disk_bytes += SPOOL_REC_HDR + len;
        s->records++;
        s->data += len;
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* Free a large reader buffer that the last peek hardly used. */
static void buf_trim(struct spool *s)
{
    if (s->buf_cap > SPOOL_BUF_KEEP && s->buf_len < s->buf_cap / 4) {
        free(s->buf);
        s->buf = NULL;
        s->buf_cap = 0;
    }
    s->buf_len = 0;
}

/* Make need bytes at rd->pos readable: from the window, else by reading at
 * least want bytes (up to rd->end) into buf[base ..). */
static int rd_fill(struct spool *s, struct rd *rd, size_t base, size_t need, size_t want)
{
    size_t w = want > need ? want : need;
    ssize_t n;

    if (rd->pos >= rd->wpos && rd->pos + need <= rd->wpos + rd->wlen)
        return 0;
    w = (size_t)(w < rd->end - rd->pos ? w : rd->end - rd->pos);
    if (base + w > s->buf_cap) {
        char *p = realloc(s->buf, base + w + (base + w) / 2);
        if (!p)
            return -ENOMEM;
        s->buf = p;
        s->buf_cap = base + w + (base + w) / 2;
    }
    n = pread_full(rd->fd, s->buf + base, w, rd->pos);
    if (n < 0)
        return (int)n;
    if ((size_t)n < need)
        return -EBADMSG; /* shorter than we wrote */
    rd->wpos = rd->pos;
    rd->wat = base;
    rd->wlen = (size_t)n;
    return 0;
}

/* Where the record at rd->pos is in buf (after rd_fill). */
static size_t rd_at(const struct rd *rd)
{
    return rd->wat + (size_t)(rd->pos - rd->wpos);
}

/* Read and check the record at rd->pos (reading at buf[base ..), want bytes
 * at once). Returns its length (its data at buf[rd_at(rd) + SPOOL_REC_HDR]),
 * 0 at the end, -E2BIG if longer than max_len (left unread), -EBADMSG if
 * damaged or cut short, or -errno. */
static int rd_next(struct spool *s, struct rd *rd, size_t base, size_t want, uint64_t max_len)
{
    const unsigned char *p;
    uint32_t len;
    int r;

    if (rd->pos >= rd->end)
        return 0;
    if (rd->end - rd->pos < SPOOL_REC_HDR)
        return -EBADMSG;
    r = rd_fill(s, rd, base, SPOOL_REC_HDR, want);
    if (r < 0)
        return r;
    len = get_le32((const unsigned char *)s->buf + rd_at(rd));
    if (len == 0 || len > SPOOL_REC_MAX || rd->end - rd->pos - SPOOL_REC_HDR < len)
        return -EBADMSG;
    if (len > max_len)
        return -E2BIG;
    r = rd_fill(s, rd, base, SPOOL_REC_HDR + len, want);
    if (r < 0)
        return r;
    p = (const unsigned char *)s->buf + rd_at(rd);
    return rec_crc(len, p + SPOOL_REC_HDR) == get_le32(p + 4) ? (int)len : -EBADMSG;
}

/* The record at off of g is damaged or missing: g ends there. The records the
 * peek took from g (the last ents) stay; the rest is dropped and counted. */
static void seg_damaged(struct spool *s, struct seg *g, uint64_t off)
{
    uint64_t lost = g->records, lost_data = g->data;

    for (size_t i = s->n_ents; i > 0 && s->ents[i - 1].seq == g->seq; i--) {
        lost--;
        lost_data -= s->ents[i - 1].len;
    }
    log_warn("spool %s: segment %" PRIu64 " is damaged at offset %" PRIu64
             "; dropping its last %" PRIu64 " records",
             s->dir, g->seq, off, lost);
    g->records -= lost;
    g->data -= lost_data;
    g->end = off;
    s->records -= lost;
    s->data -= lost_data;
    s->dropped_records += lost;
    s->dropped_data += lost_data;
    if (g == &s->segs[s->n_segs - 1] && s->tail_fd >= 0)
        s->tail_fd = (close(s->tail_fd), -1);
}

/* Add the records of g from off to the peek (*data: its payload so far).
 * Returns 1 when the peek is full, 0 when g is read to its end, or -errno. */
static int peek_seg(struct spool *s, struct seg *g, uint64_t off, size_t max, size_t max_bytes,
                    uint64_t *data)
{
    char name[SPOOL_NAME_MAX];
    struct rd rd = {.pos = off, .end = g->end};
    cleanup_close int fd = -1;
    int r = 0;

    seg_name(name, g->seq);
    rd.fd = fd = RETRY_EINTR(openat(s->dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd < 0)
        r = errno == ENOENT ? -EBADMSG : neg_errno();
    while (r >= 0 && s->n_ents < max) {
        uint64_t budget = max_bytes > *data ? max_bytes - *data : 0;
        size_t want = budget < SPOOL_READ_CHUNK ? budget + SPOOL_READ_SLACK : SPOOL_READ_CHUNK;
        struct ent *e = &s->ents[s->n_ents];
        r = rd_next(s, &rd, s->buf_len, want, s->n_ents ? budget : UINT32_MAX);
        if (r <= 0)
            break;
        *e = (struct ent){.seq = g->seq,
                          .end = rd.pos + SPOOL_REC_HDR + (uint32_t)r,
                          .off = rd_at(&rd) + SPOOL_REC_HDR,
                          .len = (uint32_t)r};
        s->n_ents++;
        s->buf_len = e->off + e->len;
        rd.pos = e->end;
        *data += e->len;
    }
    if (r == -EBADMSG)
        seg_damaged(s, g, rd.pos);
    if (r == -E2BIG || s->n_ents == max)
        return 1;
    return r == -EBADMSG ? 0 : r;
}

int spool_peek(struct spool *s, struct spool_rec *recs, size_t max, size_t max_bytes)
{
    uint64_t data = 0;
    size_t n;
    int r = 0;

    pthread_mutex_lock(&s->lock);
    s->n_ents = 0;
    s->buf_len = 0;
    /* A peek returns at most the records waiting: room for them all. */
    max = max < s->records ? max : (size_t)s->records;
    max = max < INT_MAX ? max : INT_MAX;
    if (max > s->ents_cap) {
        struct ent *p = reallocarray(s->ents, max, sizeof(*p));
        if (p) {
            s->ents = p;
            s->ents_cap = max;
        } else {
            r = -ENOMEM;
        }
    }
    for (size_t i = 0; r == 0 && i < s->n_segs; i++)
        r = peek_seg(s, &s->segs[i], i == 0 ? s->head_off : SPOOL_SEG_HDR, max, max_bytes, &data);
    if (r < 0)
        s->n_ents = 0;
    n = s->n_ents;
    for (size_t i = 0; i < n; i++)
        recs[i] = (struct spool_rec){.data = s->buf + s->ents[i].off, .len = s->ents[i].len};
    pthread_mutex_unlock(&s->lock);
    return r < 0 ? r : (int)n;
}

/* Remove one peeked record, unless the cap dropped it since the peek. */
static void pop_one(struct spool *s, const struct ent *e)
{
    /* Segments before e's were read to their end by the peek: all popped. */
    while (s->n_segs > 0 && s->segs[0].seq < e->seq) {
        assert(s->segs[0].records == 0);
        seg_remove_head(s, false);
    }
    if (s->n_segs == 0 || s->segs[0].seq != e->seq)
        return;
    s->head_off = e->end;
    s->segs[0].records--;
    s->segs[0].data -= e->len;
    s->records--;
    s->data -= e->len;
}

int spool_pop(struct spool *s, size_t n)
{
    const struct ent *last;

    pthread_mutex_lock(&s->lock);
    if (n > s->n_ents) {
        pthread_mutex_unlock(&s->lock);
        return -EINVAL;
    }
    assert(n == 0 || s->ents);
    /* The cursor first: a crash before the deletes only leaves files behind.
     * Records the cap dropped since the peek come first; if the last popped
     * one is gone, so are all. */
    last = n ? &s->ents[n - 1] : NULL;
    if (last && s->n_segs > 0 && s->segs[0].seq <= last->seq) {
        int r = cursor_store(s, last, false);
        if (r < 0 && !s->is_cursor_failing)
            log_warn_errno(r, "spool %s: cannot write the cursor; a restart may replay records",
                           s->dir);
        s->is_cursor_failing = r < 0;
    }
    for (size_t i = 0; i < n; i++)
        pop_one(s, &s->ents[i]);
    if (s->n_segs > 0 && s->segs[0].records == 0)
        seg_remove_head(s, false);
    s->n_ents = 0;
    buf_trim(s);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

void spool_stats(const struct spool *s, struct spool_stats *ret)
{
    /* Locking does not change the spool: a const getter may take the lock. */
    pthread_mutex_t *lock = (pthread_mutex_t *)&s->lock;

    pthread_mutex_lock(lock);
    *ret = (struct spool_stats){.records = s->records,
                                .bytes = s->data,
                                .dropped_records = s->dropped_records,
                                .dropped_bytes = s->dropped_data,
                                .disk_bytes = s->disk_bytes};
    pthread_mutex_unlock(lock);
}

bool spool_is_empty(const struct spool *s)
{
    struct spool_stats st;

    spool_stats(s, &st);
    return st.records == 0;
}

/* Walk and check the records of a segment: rd->pos ends after the last good
 * one; those from start on are counted into *g, the first one's offset is *head. */
static int walk_seg(struct spool *s, struct rd *rd, uint64_t start, struct seg *g, uint64_t *head)
{
    int r;

    while ((r = rd_next(s, rd, 0, SPOOL_SCAN_CHUNK, UINT32_MAX)) > 0) {
        if (rd->pos >= start) {
            *head = g->records++ ? *head : rd->pos;
            g->data += (uint32_t)r;
        }
        rd->pos += SPOOL_REC_HDR + (uint32_t)r;
    }
    g->size = g->end = rd->pos;
    return r == -EBADMSG ? 0 : r;
}

/* Open segment seq for recovery, its size into *ret_size. Returns the fd, or
 * -EBADMSG for a file too short for a header (deleted: wrapp stopped while
 * creating it) or with a foreign header (ignored, with a warning). */
static int seg_open_rw(const struct spool *s, uint64_t seq, uint64_t *ret_size)
{
    char name[SPOOL_NAME_MAX];
    unsigned char h[SPOOL_SEG_HDR];
    struct stat st;
    cleanup_close int fd = -1;
    ssize_t n;

    seg_name(name, seq);
    fd = RETRY_EINTR(openat(s->dir_fd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (fd < 0 || fstat(fd, &st) < 0)
        return neg_errno();
    n = pread_full(fd, h, sizeof(h), 0);
    if (n < 0)
        return (int)n;
    if (n < (ssize_t)sizeof(h)) {
        seg_unlink(s, seq);
        return -EBADMSG;
    }
    if (!is_header(h, "WSPL") || get_le64(h + 8) != seq) {
        log_warn("spool %s/%s: not a wrapp spool segment of version %u; ignoring it", s->dir, name,
                 SPOOL_VERSION);
        return -EBADMSG;
    }
    *ret_size = (uint64_t)st.st_size;
    return take_fd(&fd);
}

/* Recover segment seq: delete it if consumed or empty, ignore it if it is not
 * ours, cut a torn or damaged tail off, else queue it after the others. */
static int seg_load(struct spool *s, uint64_t seq, uint64_t cur_seq, uint64_t cur_off)
{
    struct seg g = {.seq = seq};
    struct rd rd = {.pos = SPOOL_SEG_HDR};
    uint64_t head = 0;
    cleanup_close int fd = -1;
    int r;

    if (seq < cur_seq) {
        seg_unlink(s, seq);
        return 0;
    }
    fd = seg_open_rw(s, seq, &rd.end);
    if (fd < 0)
        return fd == -EBADMSG ? 0 : fd;
    rd.fd = fd;
    r = walk_seg(s, &rd, seq == cur_seq ? cur_off : 0, &g, &head);
    if (r < 0)
        return r;
    if (rd.pos < rd.end) {
        log_warn("spool %s: segment %" PRIu64 ": discarding %" PRIu64
                 " bytes of a torn or damaged record at offset %" PRIu64
                 " (stopped while writing?)",
                 s->dir, seq, rd.end - rd.pos, rd.pos);
        if (ftruncate(fd, (off_t)rd.pos) < 0)
            return neg_errno();
    }
    if (g.records == 0) {
        seg_unlink(s, seq);
        return 0;
    }
    r = seg_push(s, &g);
    if (r >= 0 && s->n_segs == 1)
        s->head_off = head;
    return r;
}

/* scandir: the segment files, "seg-<16 digits>.wsp". */
static int is_seg_file(const struct dirent *de)
{
    const char *p = de->d_name;

    if (strlen(p) != 24 || strncmp(p, "seg-", 4) != 0 || strcmp(p + 20, ".wsp") != 0)
        return 0;
    return strspn(p + 4, "0123456789") == 16;
}

/* Take over what earlier runs left: the segments after the cursor, oldest
 * first. No or an invalid cursor means "from the start". */
static int recover(struct spool *s)
{
    struct dirent **des = NULL;
    unsigned char b[32];
    cleanup_close int fd = RETRY_EINTR(openat(s->dir_fd, "cursor", O_RDONLY | O_CLOEXEC));
    uint64_t cur_seq = 0, cur_off = 0, seq = 0;
    int n, r = 0;

    if (fd >= 0 && pread_full(fd, b, sizeof(b), 0) == (ssize_t)sizeof(b) && is_header(b, "WSPC") &&
        get_le32(b + 24) == ~crc32c_update(~0u, b, 24)) {
        cur_seq = get_le64(b + 8);
        cur_off = get_le64(b + 16);
    } else if (fd >= 0 || errno != ENOENT) {
        log_warn("spool %s: the cursor file is unreadable or invalid; replaying every record",
                 s->dir);
    }
    n = scandir(s->dir, &des, is_seg_file, alphasort); /* zero-padded: in seq order */
    if (n < 0)
        return neg_errno();
    for (int i = 0; i < n; i++) {
        seq = strtoull(des[i]->d_name + 4, NULL, 10);
        if (r >= 0)
            r = seg_load(s, seq, cur_seq, cur_off);
        free(des[i]);
    }
    free(des);
    s->next_seq = (seq > cur_seq ? seq : cur_seq) + 1;
    while (r >= 0 && s->disk_bytes > s->max_bytes)
        seg_remove_head(s, true);
    if (s->dropped_records > 0)
        log_warn("spool %s: over the cap: dropped the oldest %" PRIu64 " records", s->dir,
                 s->dropped_records);
    s->buf_len = s->buf_cap; /* recovery's reads: free a large buffer */
    buf_trim(s);
    return r;
}

/* mkdir -p, mode 0700. */
static int mkdir_parents(const char *dir)
{
    char p[PATH_MAX];
    char *c = p;

    if (snprintf(p, sizeof(p), "%s", dir) >= (int)sizeof(p))
        return -ENAMETOOLONG;
    for (;; *c = '/') {
        c = strchr(c + 1, '/');
        if (c)
            *c = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST)
            return neg_errno();
        if (!c)
            return 0;
    }
}

static void spool_destroy(struct spool *s)
{
    if (s->tail_fd >= 0)
        close(s->tail_fd);
    if (s->dir_fd >= 0)
        close(s->dir_fd);
    pthread_mutex_destroy(&s->lock);
    free(s->segs);
    free(s->buf);
    free(s->ents);
    free(s->dir);
    free(s);
}

int spool_open(const char *dir, uint64_t max_bytes, struct spool **ret)
{
    struct spool *s;
    int r;

    if (!dir || !*dir || max_bytes < SPOOL_MAX_BYTES_MIN)
        return -EINVAL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    pthread_mutex_init(&s->lock, NULL);
    s->dir_fd = s->tail_fd = -1;
    s->max_bytes = max_bytes;
    s->seg_max = max_bytes / 16 > SPOOL_SEG_MAX ? SPOOL_SEG_MAX : max_bytes / 16;
    s->dir = strdup(dir);
    r = s->dir ? mkdir_parents(dir) : -ENOMEM;
    if (r >= 0) {
        s->dir_fd = RETRY_EINTR(open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        r = s->dir_fd < 0 ? neg_errno() : 0;
    }
    /* One spool per directory: two writers would interleave segments. */
    if (r >= 0 && flock(s->dir_fd, LOCK_EX | LOCK_NB) < 0)
        r = errno == EWOULDBLOCK ? -EBUSY : neg_errno();
    if (r >= 0)
        r = recover(s);
    if (r >= 0)
        r = cursor_store(s, NULL, false); /* also proves that dir is writable */
    if (r < 0) {
        spool_destroy(s);
        return r;
    }
    *ret = s;
    return 0;
}

struct spool *spool_free(struct spool *s)
{
    int r;

    if (!s)
        return NULL;
    if (s->tail_fd >= 0 && fdatasync(s->tail_fd) < 0)
        log_warn_errno(neg_errno(), "spool %s: cannot flush the newest segment", s->dir);
    r = cursor_store(s, NULL, true);
    if (r >= 0 && fsync(s->dir_fd) < 0)
        r = neg_errno();
    if (r < 0)
        log_warn_errno(r, "spool %s: cannot save the cursor; the next run may replay records",
                       s->dir);
    spool_destroy(s);
    return NULL;
}

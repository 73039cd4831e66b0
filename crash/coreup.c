// SPDX-License-Identifier: MIT
/*
 * See coreup.h. An upload thread reads the core in ZSTD_CStreamInSize()
 * blocks, hashes them (SHA-256, libcrypto) and compresses them straight
 * into the chunk buffer; a full chunk is appended to the connection's
 * pipeline (hiredis copies it) and its reply read once COREUP_PIPELINE are
 * in flight. Memory is bounded by the chunk size times the pipeline depth
 * plus zstd's window. A failed upload removes the chunks it stored when
 * Redis still answers (an out-of-memory Redis must not keep them for days).
 */
#include "coreup.h"

#include "cJSON.h"
#include "clock.h"
#include "fdio.h"
#include "log.h"
#include "macro.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

/* The streaming SHA-256 calls are deprecated in OpenSSL 3 in favour of
 * EVP, whose provider machinery would add megabytes to a static binary. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#define ZSTD_LEVEL 3

/* ---- ids, keys, chunks ------------------------------------------------ */

void coreup_opts_from_config(const struct config *cfg, const struct rconn_target *target,
                             char *stream_buf, size_t size, struct coreup_opts *ret)
{
    *ret = (struct coreup_opts){
        .target = target,
        .db = COREUP_DB_DEF,
        .prefix = COREUP_PREFIX_DEF,
        .stream = config_stream_name(cfg, stream_buf, size),
        .ttl_s = COREUP_TTL_S_DEF,
        .chunk_bytes = COREUP_CHUNK_DEF,
    };
}

int coreup_id(char *buf, size_t size, uint64_t time_us, long pid)
{
    int n = snprintf(buf, size, "%" PRIu64 "-%ld", time_us, pid);

    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : n;
}

/* A JSON number that is a whole number in [lo, hi]. */
static bool json_uint(const cJSON *v, uint64_t lo, uint64_t hi, uint64_t *ret)
{
    double d;

    if (!cJSON_IsNumber(v))
        return false;
    d = v->valuedouble;
    if (!(d >= (double)lo && d <= (double)hi) || d != floor(d))
        return false;
    *ret = (uint64_t)d;
    return true;
}

int coreup_id_from_report(const char *json, size_t len, char *buf, size_t size)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    uint64_t us, pid;
    int r = -EINVAL;

    if (json_uint(cJSON_GetObjectItemCaseSensitive(root, "time_us"), 0, COREUP_SIZE_MAX, &us) &&
        json_uint(cJSON_GetObjectItemCaseSensitive(root, "pid"), 1, INT32_MAX, &pid))
        r = coreup_id(buf, size, us, (long)pid);
    cJSON_Delete(root);
    return r == -ENAMETOOLONG ? -EINVAL : r;
}

static size_t digits(const char *s)
{
    size_t n = 0;

    while (s[n] >= '0' && s[n] <= '9')
        n++;
    return n;
}

bool coreup_is_id(const char *s)
{
    size_t a = digits(s), b;

    if (a == 0 || a > 20 || s[a] != '-')
        return false;
    b = digits(s + a + 1);
    return b > 0 && b <= 20 && s[a + 1 + b] == '\0';
}

int coreup_key(char *buf, size_t size, const char *prefix, const char *stream, const char *id,
               long chunk)
{
    int n;

    if (chunk < -1 || !coreup_is_id(id))
        return -EINVAL;
    if (chunk < 0)
        n = snprintf(buf, size, "%s%s:core:%s", prefix, stream, id);
    else
        n = snprintf(buf, size, "%s%s:core:%s:%ld", prefix, stream, id, chunk);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : n;
}

uint64_t coreup_chunk_count(uint64_t n, size_t chunk_bytes)
{
    return n / chunk_bytes + (n % chunk_bytes != 0);
}

size_t coreup_chunk_len(uint64_t n, size_t chunk_bytes, uint64_t i)
{
    uint64_t start = i * chunk_bytes;

    if (i >= coreup_chunk_count(n, chunk_bytes))
        return 0;
    return n - start < chunk_bytes ? (size_t)(n - start) : chunk_bytes;
}

void coreup_hex(char *dst, const unsigned char *src, size_t n)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        dst[2 * i] = hex[src[i] >> 4];
        dst[2 * i + 1] = hex[src[i] & 15];
    }
    dst[2 * n] = '\0';
}

/* ---- the manifest ----------------------------------------------------- */

static bool add_u64(cJSON *o, const char *name, uint64_t v)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    return cJSON_AddRawToObject(o, name, buf) != NULL;
}

static const char *report_str(const cJSON *o, const char *name, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(v) ? v->valuestring : dflt;
}

/* The report's value of name when it has one, else dflt. */
static uint64_t report_uint(const cJSON *o, const char *name, uint64_t hi, uint64_t dflt)
{
    uint64_t v;

    return json_uint(cJSON_GetObjectItemCaseSensitive(o, name), 0, hi, &v) ? v : dflt;
}

/* modules [{path, build_id}]: the report's modules that have a build-id. */
static bool add_modules(cJSON *root, const cJSON *report)
{
    const cJSON *mods = cJSON_GetObjectItemCaseSensitive(report, "modules"), *m;
    cJSON *a = cJSON_AddArrayToObject(root, "modules");
    bool is_ok = a != NULL;

    if (!cJSON_IsArray(mods))
        mods = NULL;
    cJSON_ArrayForEach(m, mods)
    {
        const char *id = report_str(m, "build_id", NULL);
        cJSON *o;
        if (!id || !is_ok)
            continue;
        o = cJSON_CreateObject();
        is_ok = o && cJSON_AddItemToArray(a, o);
        if (!is_ok) {
            cJSON_Delete(o);
            continue;
        }
        is_ok = cJSON_AddStringToObject(o, "path", report_str(m, "path", "")) &&
                cJSON_AddStringToObject(o, "build_id", id);
    }
    return is_ok;
}

static bool add_crash(cJSON *root, const struct coreup_manifest *m, const cJSON *rep)
{
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(rep, "signal");
    bool is_ok;

    is_ok = add_u64(root, "pid", report_uint(rep, "pid", INT32_MAX, (uint64_t)m->pid));
    is_ok = is_ok && cJSON_AddStringToObject(root, "signal", report_str(sig, "name", m->signal));
    is_ok = is_ok && add_u64(root, "signal_number",
                             report_uint(sig, "number", 64, (uint64_t)m->signal_number));
    is_ok = is_ok && cJSON_AddStringToObject(root, "time", report_str(rep, "time", m->time));
    is_ok =
        is_ok && add_u64(root, "time_us", report_uint(rep, "time_us", COREUP_SIZE_MAX, m->time_us));
    is_ok = is_ok && cJSON_AddStringToObject(root, "exe", report_str(rep, "exe", ""));
    is_ok = is_ok && cJSON_AddStringToObject(root, "build_id", report_str(rep, "build_id", ""));
    return is_ok && add_modules(root, rep);
}

int coreup_manifest_json(const struct coreup_manifest *m, const char *report_json, char **ret)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *rep = report_json ? cJSON_Parse(report_json) : NULL;
    char *out = NULL;
    bool is_ok;

    is_ok = root && add_u64(root, "version", COREUP_VERSION);
    is_ok = is_ok && cJSON_AddStringToObject(root, "id", m->id);
    is_ok = is_ok && cJSON_AddStringToObject(root, "compression", "zstd");
    is_ok = is_ok && add_u64(root, "chunks", m->chunks);
    is_ok = is_ok && add_u64(root, "chunk_bytes", m->chunk_bytes);
    is_ok = is_ok && add_u64(root, "compressed_bytes", m->compressed);
    is_ok = is_ok && add_u64(root, "size", m->size);
    is_ok = is_ok && cJSON_AddStringToObject(root, "sha256", m->sha256);
    is_ok = is_ok && add_crash(root, m, cJSON_IsObject(rep) ? rep : NULL);
    if (is_ok)
        out = cJSON_PrintUnformatted(root);
    cJSON_Delete(rep);
    cJSON_Delete(root);
    if (!out)
        return -ENOMEM;
    *ret = out;
    return 0;
}

static bool get_uint(const cJSON *root, const char *name, uint64_t lo, uint64_t hi, uint64_t *ret,
                     char *why, size_t size)
{
    if (json_uint(cJSON_GetObjectItemCaseSensitive(root, name), lo, hi, ret))
        return true;
    snprintf(why, size, "%s: expected a whole number in %" PRIu64 "..%" PRIu64, name, lo, hi);
    return false;
}

/* Copy the string member name into dst; false (and why) when absent. */
static bool get_str(const cJSON *root, const char *name, char *dst, size_t dsize, char *why,
                    size_t size)
{
    const char *s = report_str(root, name, NULL);

    if (!s) {
        snprintf(why, size, "%s: expected a string", name);
        return false;
    }
    snprintf(dst, dsize, "%s", s);
    return true;
}

static bool is_sha256(const char *s)
{
    size_t i = 0;

    for (; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return i == 64;
}

/* The members that say how to read the chunks, and their consistency. */
static int parse_layout(const cJSON *root, struct coreup_manifest *m, char *why, size_t size)
{
    uint64_t cb = 0;

    if (!get_uint(root, "chunks", 1, COREUP_CHUNKS_MAX, &m->chunks, why, size) ||
        !get_uint(root, "chunk_bytes", COREUP_CHUNK_MIN, COREUP_CHUNK_MAX, &cb, why, size) ||
        !get_uint(root, "compressed_bytes", 1, COREUP_SIZE_MAX, &m->compressed, why, size) ||
        !get_uint(root, "size", 0, COREUP_SIZE_MAX, &m->size, why, size) ||
        !get_str(root, "sha256", m->sha256, sizeof(m->sha256), why, size) ||
        !get_str(root, "id", m->id, sizeof(m->id), why, size))
        return -EINVAL;
    m->chunk_bytes = (size_t)cb;
    if (coreup_chunk_count(m->compressed, m->chunk_bytes) != m->chunks) {
        snprintf(why, size, "chunks: %" PRIu64 " do not hold %" PRIu64 " bytes of %zu", m->chunks,
                 m->compressed, m->chunk_bytes);
        return -EINVAL;
    }
    if (!is_sha256(m->sha256)) {
        snprintf(why, size, "sha256: expected 64 lowercase hex digits");
        return -EINVAL;
    }
    if (!coreup_is_id(m->id)) {
        snprintf(why, size, "id: expected <time_us>-<pid>");
        return -EINVAL;
    }
    return 0;
}

/* The optional members: what crashed, for messages. */
static void parse_crash(const cJSON *root, struct coreup_manifest *m)
{
    uint64_t v;

    if (json_uint(cJSON_GetObjectItemCaseSensitive(root, "pid"), 0, INT32_MAX, &v))
        m->pid = (int)v;
    if (json_uint(cJSON_GetObjectItemCaseSensitive(root, "signal_number"), 0, 64, &v))
        m->signal_number = (int)v;
    if (json_uint(cJSON_GetObjectItemCaseSensitive(root, "time_us"), 0, COREUP_SIZE_MAX, &v))
        m->time_us = v;
    snprintf(m->signal, sizeof(m->signal), "%s", report_str(root, "signal", ""));
    snprintf(m->time, sizeof(m->time), "%s", report_str(root, "time", ""));
    snprintf(m->exe, sizeof(m->exe), "%s", report_str(root, "exe", ""));
}

int coreup_manifest_parse(const char *json, size_t len, struct coreup_manifest *ret, char *why,
                          size_t why_size)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    struct coreup_manifest m = {0};
    uint64_t version = 0;
    const char *comp;
    int r = -EINVAL;

    if (!cJSON_IsObject(root))
        snprintf(why, why_size, "not a JSON object");
    else if (get_uint(root, "version", 0, INT32_MAX, &version, why, why_size)) {
        comp = report_str(root, "compression", "");
        m.version = (int)version;
        r = -EPROTONOSUPPORT;
        if (version != COREUP_VERSION)
            snprintf(why, why_size, "version %d: this wrapp reads version %d", m.version,
                     COREUP_VERSION);
        else if (strcmp(comp, "zstd") != 0)
            snprintf(why, why_size, "compression \"%.32s\": this wrapp reads zstd", comp);
        else
            r = parse_layout(root, &m, why, why_size);
    }
    if (r == 0) {
        parse_crash(root, &m);
        *ret = m;
    }
    cJSON_Delete(root);
    return r;
}

/* ---- the upload ------------------------------------------------------- */

struct job {
    struct rconn_target target;
    char *prefix, *stream, *path, *report;
    char id[COREUP_ID_MAX];
    unsigned ttl_s;
    size_t chunk_bytes;
    int pid;
};

struct upload {
    struct job *job;
    struct rconn conn;
    ZSTD_CCtx *zc;
    SHA256_CTX sha;
    unsigned char *in;
    size_t in_size;
    unsigned char *chunk;
    size_t fill;
    uint64_t n_chunks, n_acked, size, compressed;
    uint64_t t0, next_progress;
    bool has_file; /* the core could be opened: a local copy stays */
    char why[RCONN_WHY_MAX];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static unsigned running;
static bool is_muted; /* coreup_wait gave up: the uploads left log nothing */

const char *coreup_fmt_size(char *buf, size_t size, uint64_t n)
{
    if (n >= 10000000)
        snprintf(buf, size, "%" PRIu64 " MB", (n + 500000) / 1000000);
    else if (n >= 1000000)
        snprintf(buf, size, "%.1f MB", (double)n / 1e6);
    else if (n >= 1000)
        snprintf(buf, size, "%" PRIu64 " KB", (n + 500) / 1000);
    else
        snprintf(buf, size, "%" PRIu64 " B", n);
    return buf;
}

static int ctx_failed(struct upload *u)
{
    snprintf(u->why, sizeof(u->why), "Redis connection: %s",
             u->conn.ctx ? u->conn.ctx->errstr : "closed");
    rconn_close(&u->conn);
    return -EIO;
}

/* Read the reply of the oldest SET in flight. */
static int collect(struct upload *u)
{
    redisReply *rep = NULL;
    int r = 0;

    if (redisGetReply(u->conn.ctx, (void **)&rep) != REDIS_OK || !rep)
        return ctx_failed(u);
    if (rep->type == REDIS_REPLY_ERROR) {
        snprintf(u->why, sizeof(u->why), "Redis answered a chunk with %.*s", (int)rep->len,
                 rep->str);
        r = -EPROTO;
    }
    freeReplyObject(rep);
    u->n_acked++;
    return r;
}

/* Queue SET <chunk key> <the chunk buffer> EX ttl+slack; the buffer is
 * free again when this returns. */
static int send_chunk(struct upload *u)
{
    const struct job *j = u->job;
    char key[COREUP_KEY_MAX], ttl[16];
    const char *argv[5] = {"SET", key, (const char *)u->chunk, "EX", ttl};
    size_t lens[5] = {3, 0, u->fill, 2, 0};
    int n = coreup_key(key, sizeof(key), j->prefix, j->stream, j->id, (long)u->n_chunks);

    if (n < 0) {
        snprintf(u->why, sizeof(u->why), "the key name is too long");
        return n;
    }
    if (u->n_chunks >= COREUP_CHUNKS_MAX) {
        snprintf(u->why, sizeof(u->why), "more than %u chunks", COREUP_CHUNKS_MAX);
        return -EFBIG;
    }
    lens[1] = (size_t)n;
    lens[4] = (size_t)snprintf(ttl, sizeof(ttl), "%u", j->ttl_s + COREUP_TTL_SLACK_S);
    if (rconn_append(&u->conn, 5, argv, lens) < 0)
        return ctx_failed(u);
    u->n_chunks++;
    u->compressed += u->fill;
    u->fill = 0;
    if (u->n_chunks - u->n_acked >= COREUP_PIPELINE)
        return collect(u);
    return 0;
}

/* Log msg unless coreup_wait gave up on the uploads: wrapp is exiting and
 * its log hook going away. Under the lock, so none is logging then. */
static void say(enum log_level level, const char *msg)
{
    pthread_mutex_lock(&lock);
    if (!is_muted)
        log_msg(level, "%s", msg);
    pthread_mutex_unlock(&lock);
}

static void progress(struct upload *u)
{
    char a[32], b[32], msg[256];

    if (clock_mono_ms() < u->next_progress)
        return;
    u->next_progress = clock_mono_ms() + COREUP_PROGRESS_MS;
    snprintf(msg, sizeof(msg), "core of pid %d: %s read, %s stored in Redis so far", u->job->pid,
             coreup_fmt_size(a, sizeof(a), u->size), coreup_fmt_size(b, sizeof(b), u->compressed));
    say(LOG_LEVEL_INFO, msg);
}

/* Compress in (len bytes, or the end of the input when is_end) into the
 * chunk buffer, sending every chunk that fills up. */
static int compress(struct upload *u, size_t len, bool is_end)
{
    ZSTD_inBuffer in = {u->in, len, 0};
    size_t left;

    do {
        ZSTD_outBuffer out = {u->chunk, u->job->chunk_bytes, u->fill};
        left = ZSTD_compressStream2(u->zc, &out, &in, is_end ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(left)) {
            snprintf(u->why, sizeof(u->why), "zstd: %s", ZSTD_getErrorName(left));
            return -EIO;
        }
        u->fill = out.pos;
        if (u->fill == u->job->chunk_bytes || (is_end && left == 0 && u->fill > 0)) {
            int r = send_chunk(u);
            if (r < 0)
                return r;
        }
    } while (in.pos < in.size || (is_end && left > 0));
    return 0;
}

static int stream_file(struct upload *u, int fd)
{
    for (;;) {
        ssize_t n = fdio_read_all(fd, u->in, u->in_size);
        int r;
        if (n < 0) {
            snprintf(u->why, sizeof(u->why), "reading %s: %s", u->job->path, strerror((int)-n));
            return (int)n;
        }
        SHA256_Update(&u->sha, u->in, (size_t)n);
        u->size += (uint64_t)n;
        r = compress(u, (size_t)n, (size_t)n < u->in_size);
        if (r < 0 || (size_t)n < u->in_size)
            return r;
        progress(u);
    }
}

/* The acknowledgements still due, then the manifest. */
static int store_manifest(struct upload *u, char *key, size_t key_size)
{
    const struct job *j = u->job;
    struct coreup_manifest m = {.version = COREUP_VERSION, .pid = j->pid};
    cleanup_free char *json = NULL;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    char ttl[16];
    redisReply *rep = NULL;
    int r = 0;

    while (r == 0 && u->n_acked < u->n_chunks)
        r = collect(u);
    if (r < 0)
        return r;
    snprintf(m.id, sizeof(m.id), "%s", j->id);
    m.chunks = u->n_chunks;
    m.chunk_bytes = j->chunk_bytes;
    m.compressed = u->compressed;
    m.size = u->size;
    SHA256_Final(digest, &u->sha);
    coreup_hex(m.sha256, digest, sizeof(digest));
    if (coreup_manifest_json(&m, j->report, &json) < 0) {
        snprintf(u->why, sizeof(u->why), "out of memory for the manifest");
        return -ENOMEM;
    }
    snprintf(ttl, sizeof(ttl), "%u", j->ttl_s);
    coreup_key(key, key_size, j->prefix, j->stream, j->id, -1);
    r = rconn_command(&u->conn, 5, (const char *[]){"SET", key, json, "EX", ttl},
                      (const size_t[]){3, strlen(key), strlen(json), 2, strlen(ttl)}, &rep, u->why,
                      sizeof(u->why));
    freeReplyObject(rep);
    return r;
}

/* Remove the chunks stored so far, when Redis still answers. */
static void remove_chunks(struct upload *u)
{
    const struct job *j = u->job;
    char key[COREUP_KEY_MAX], saved[sizeof(u->why)];

    if (!u->conn.ctx)
        return;
    memcpy(saved, u->why, sizeof(saved));
    while (u->n_acked < u->n_chunks)
        if (collect(u) == -EIO)
            break;
    for (uint64_t i = 0; i < u->n_chunks; i++) {
        const char *argv[2] = {"UNLINK", key};
        size_t lens[2] = {6, 0};
        redisReply *rep = NULL;
        int n = coreup_key(key, sizeof(key), j->prefix, j->stream, j->id, (long)i);
        char why[RCONN_WHY_MAX];
        lens[1] = n > 0 ? (size_t)n : 0;
        if (!u->conn.ctx || n < 0)
            break;
        if (rconn_command(&u->conn, 2, argv, lens, &rep, why, sizeof(why)) == 0)
            freeReplyObject(rep);
    }
    memcpy(u->why, saved, sizeof(saved));
}

static int upload_open(struct upload *u, int *ret_fd)
{
    const struct job *j = u->job;
    int fd = open(j->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    size_t zr;

    if (fd < 0) {
        int r = neg_errno();
        snprintf(u->why, sizeof(u->why), "cannot open %s: %s", j->path, strerror(-r));
        return r;
    }
    *ret_fd = fd;
    u->has_file = true;
    u->in_size = ZSTD_CStreamInSize();
    u->in = malloc(u->in_size);
    u->chunk = malloc(j->chunk_bytes);
    u->zc = ZSTD_createCCtx();
    if (!u->in || !u->chunk || !u->zc) {
        snprintf(u->why, sizeof(u->why), "out of memory");
        return -ENOMEM;
    }
    zr = ZSTD_CCtx_setParameter(u->zc, ZSTD_c_compressionLevel, ZSTD_LEVEL);
    if (!ZSTD_isError(zr))
        zr = ZSTD_CCtx_setParameter(u->zc, ZSTD_c_checksumFlag, 1);
    if (ZSTD_isError(zr)) {
        snprintf(u->why, sizeof(u->why), "zstd: %s", ZSTD_getErrorName(zr));
        return -EIO;
    }
    SHA256_Init(&u->sha);
    return rconn_open(&j->target, &u->conn, u->why, sizeof(u->why));
}

static void report_outcome(const struct upload *u, const char *key, int r)
{
    const struct job *j = u->job;
    char a[32], b[32], msg[1024];
    double s = (double)(clock_mono_ns() - u->t0) / 1e9;

    if (r < 0) {
        char name[300];
        snprintf(msg, sizeof(msg), "core of pid %d not stored in Redis %s: %s%s%s", j->pid,
                 rconn_target_name(&j->target, name, sizeof(name)), u->why,
                 u->has_file ? "; the local copy stays at " : "", u->has_file ? j->path : "");
        say(LOG_LEVEL_WARN, msg);
        return;
    }
    snprintf(msg, sizeof(msg),
             "core of pid %d uploaded: %s -> %s in %" PRIu64 " chunks, %.1f s (%.0f MB/s) as %s; "
             "fetch it with: wrapp core get %s",
             j->pid, coreup_fmt_size(a, sizeof(a), u->size),
             coreup_fmt_size(b, sizeof(b), u->compressed), u->n_chunks, s,
             s > 0 ? (double)u->size / 1e6 / s : 0.0, key, j->id);
    say(LOG_LEVEL_INFO, msg);
}

static void upload_run(struct job *j)
{
    struct upload u = {.job = j, .conn = {.db = -1}, .t0 = clock_mono_ns()};
    cleanup_close int fd = -1;
    char key[COREUP_KEY_MAX] = "";
    int r;

    u.next_progress = clock_mono_ms() + COREUP_PROGRESS_MS;
    r = upload_open(&u, &fd);
    if (r == 0)
        r = stream_file(&u, fd);
    if (r == 0)
        r = store_manifest(&u, key, sizeof(key));
    if (r < 0)
        remove_chunks(&u);
    report_outcome(&u, key, r);
    rconn_close(&u.conn);
    ZSTD_freeCCtx(u.zc);
    free(u.in);
    free(u.chunk);
}

static struct job *job_free(struct job *j)
{
    if (!j)
        return NULL;
    rconn_target_fini(&j->target);
    free(j->prefix);
    free(j->stream);
    free(j->path);
    free(j->report);
    free(j);
    return NULL;
}

static void *upload_thread(void *arg)
{
    upload_run(arg);
    job_free(arg);
    pthread_mutex_lock(&lock);
    running--;
    pthread_cond_broadcast(&done);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static char *dup_or_null(const char *s, bool *is_oom)
{
    char *d = s ? strdup(s) : NULL;

    if (s && !d)
        *is_oom = true;
    return d;
}

static int job_new(const struct coreup_opts *o, const char *path, const char *id,
                   const char *report, struct job **ret)
{
    struct job *j = calloc(1, sizeof(*j));
    bool is_oom;

    if (!j)
        return -ENOMEM;
    /* Sentinel and cluster settings included: cores go where the logs go. */
    is_oom = rconn_target_copy(o->target, &j->target) < 0;
    j->target.db = o->db;
    j->prefix = dup_or_null(o->prefix ? o->prefix : COREUP_PREFIX_DEF, &is_oom);
    j->stream = dup_or_null(o->stream, &is_oom);
    j->path = dup_or_null(path, &is_oom);
    j->report = dup_or_null(report, &is_oom);
    snprintf(j->id, sizeof(j->id), "%s", id);
    j->pid = (int)strtol(strchr(id, '-') + 1, NULL, 10);
    j->ttl_s = o->ttl_s ? o->ttl_s : COREUP_TTL_S_DEF;
    j->chunk_bytes = o->chunk_bytes ? o->chunk_bytes : COREUP_CHUNK_DEF;
    if (j->chunk_bytes < COREUP_CHUNK_MIN)
        j->chunk_bytes = COREUP_CHUNK_MIN;
    if (j->chunk_bytes > COREUP_CHUNK_MAX)
        j->chunk_bytes = COREUP_CHUNK_MAX;
    if (is_oom || !j->stream) {
        job_free(j);
        return is_oom ? -ENOMEM : -EINVAL;
    }
    *ret = j;
    return 0;
}

/* A detached thread with every signal blocked: they are the main
 * thread's, read from its signalfd. */
static int spawn(struct job *j)
{
    pthread_attr_t attr;
    pthread_t th;
    sigset_t all, old;
    int r;

    sigfillset(&all);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    r = pthread_create(&th, &attr, upload_thread, j);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return -r;
}

int coreup_start(const struct coreup_opts *o, const char *core_path, const char *id,
                 const char *report_json)
{
    struct job *j = NULL;
    char key[COREUP_KEY_MAX];
    int r;

    if (!o->target || !o->stream || !core_path || !coreup_is_id(id) ||
        coreup_key(key, sizeof(key), o->prefix ? o->prefix : COREUP_PREFIX_DEF, o->stream, id,
                   COREUP_CHUNKS_MAX) < 0)
        return -EINVAL;
    r = job_new(o, core_path, id, report_json, &j);
    if (r < 0)
        return r;
    pthread_mutex_lock(&lock);
    if (running >= COREUP_RUNNING_MAX) {
        r = -EBUSY;
    } else {
        r = spawn(j);
        if (r == 0)
            running++;
    }
    pthread_mutex_unlock(&lock);
    if (r < 0)
        job_free(j);
    return r;
}

int coreup_wait(unsigned timeout_ms)
{
    uint64_t end = clock_mono_ns() + (uint64_t)timeout_ms * 1000000u;
    struct timespec until = {.tv_sec = (time_t)(end / 1000000000u),
                             .tv_nsec = (long)(end % 1000000000u)};
    unsigned left;

    pthread_mutex_lock(&lock);
    while (running > 0)
        if (pthread_cond_clockwait(&done, &lock, CLOCK_MONOTONIC, &until) == ETIMEDOUT)
            break;
    left = running;
    if (left > 0)
        is_muted = true;
    pthread_mutex_unlock(&lock);
    return (int)left;
}

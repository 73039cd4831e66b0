// SPDX-License-Identifier: MIT
/*
 * See coreget.h. The manifest (GET <prefix><stream>:core:<id>) says how
 * many chunks to GET and how long each must be; they are decompressed one
 * by one (zstd streaming) into <FILE>.part while the SHA-256 is taken, so
 * memory holds one chunk at a time. Only a core of the manifest's size and
 * hash is renamed to FILE. Redis and the stream are found as for
 * `wrapp crashes` (crashes_redis_init).
 */
#include "coreget.h"

#include "coreup.h"
#include "crashes.h"
#include "fdio.h"
#include "log.h"
#include "macro.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#define OPENSSL_SUPPRESS_DEPRECATED /* see coreup.c */
#include <openssl/sha.h>

#define COREGET_PATH_MAX 4096
#define ID_US_DIGITS     15 /* an id's time_us has 16 digits; an entry ID's ms 13 */

struct coreget {
    struct crashes_redis rd;
    const char *arg_id; /* as given */
    const char *output; /* -o; NULL: core.<id> */
    struct crashes_args args;
    bool is_force;
    char id[COREUP_ID_MAX];
    char key[COREUP_KEY_MAX]; /* the manifest's */
    char path[COREGET_PATH_MAX], part[COREGET_PATH_MAX + 8];
    struct coreup_manifest m;
    ZSTD_DCtx *dc;
    SHA256_CTX sha;
    unsigned char *buf;
    size_t buf_size;
    size_t frame_left; /* ZSTD_decompressStream's hint: 0 at the frame's end */
    uint64_t written;
    int fd;
};

static const char usage[] =
    "Usage: wrapp core get ID [-o FILE] [-f] [CONFIG.json | --stream NAME] [--url URL]\n"
    "Fetches a crash's core file that wrapp stored in Redis (crash.core \"redis\"),\n"
    "decompresses it to FILE (default core.<id> here; -f overwrites) and checks its\n"
    "size and SHA-256. ID is the crash's <time_us>-<pid> (the report's time_us and\n"
    "pid) or its entry ID in `wrapp crashes`. Redis comes from --url,\n"
    "WRAPP_REDIS_URL or the config; the stream from --stream or the config's\n"
    "app.stream_name or app.executable.\n"
    "Exit status: 0 ok, 1 Redis unreachable, no such core or a corrupt one, 2 bad usage.\n";

/* Returns 0, 1 (--help printed) or -EINVAL (usage printed or logged). */
static int parse(int argc, char **argv, struct coreget *g)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"force", no_argument, NULL, 'f'},
        CRASHES_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    int opt, n;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "o:fh", opts, NULL)) != -1) {
        if (opt == 'o')
            g->output = optarg;
        else if (opt == 'f')
            g->is_force = true;
        else if (!crashes_option(opt, optarg, &g->args))
            return crashes_usage(opt == 'h' ? STDOUT_FILENO : STDERR_FILENO, usage);
    }
    argv += optind;
    n = argc - optind;
    if (n < 2 || n > 3 || strcmp(argv[0], "get") != 0)
        return crashes_usage(STDERR_FILENO, usage);
    g->arg_id = argv[1];
    g->args.config_path = n == 3 ? argv[2] : NULL;
    if (!coreup_is_id(g->arg_id) && !crashes_is_entry_id(g->arg_id))
        return log_error("core ID \"%s\": expected <time_us>-<pid> or an entry ID that "
                         "`wrapp crashes` lists",
                         g->arg_id),
               -EINVAL;
    return 0;
}

/* The output file must not exist unless -f; checked before any download. */
static int choose_path(struct coreget *g)
{
    int n = g->output ? snprintf(g->path, sizeof(g->path), "%s", g->output)
                      : snprintf(g->path, sizeof(g->path), "core.%s", g->id);

    if (n < 0 || (size_t)n >= sizeof(g->path) || !*g->path) {
        log_error("output file name \"%s\": empty or too long", g->path);
        return -EINVAL;
    }
    snprintf(g->part, sizeof(g->part), "%s.part", g->path);
    if (!g->is_force && access(g->path, F_OK) == 0) {
        log_error("%s exists; give -f to overwrite it, or -o another file", g->path);
        return -EEXIST;
    }
    return 0;
}

/* ID: an id (its time_us has more digits than an entry ID's ms), or the
 * :crash entry whose report names it. */
static int resolve_id(struct coreget *g)
{
    redisReply *rep = NULL;
    const redisReply *v = NULL;
    int r;

    if (coreup_is_id(g->arg_id) && strspn(g->arg_id, "0123456789") >= ID_US_DIGITS) {
        snprintf(g->id, sizeof(g->id), "%s", g->arg_id);
        return 0;
    }
    r = crashes_entry_field(&g->rd, g->arg_id, "report", &rep, &v);
    if (r < 0)
        return r;
    if (coreup_id_from_report(v->str, v->len, g->id, sizeof(g->id)) < 0) {
        log_error("crash %s in %s: its report has no time_us and pid to find the core by",
                  g->arg_id, g->rd.key);
        r = -EBADMSG;
    }
    freeReplyObject(rep);
    return r;
}

/* GET key on the cores' connection: *ret a string reply, or -ENOENT (nil). */
static int get(struct coreget *g, const char *key, redisReply **ret)
{
    redisReply *rep = NULL;
    int r = rconn_query(&g->rd.core, 2, (const char *[]){"GET", key}, key, &rep);

    if (r < 0)
        return r;
    if (rep->type == REDIS_REPLY_STRING) {
        *ret = rep;
        return 0;
    }
    r = rep->type == REDIS_REPLY_NIL ? -ENOENT : -EPROTO;
    if (r == -EPROTO)
        log_error("reading %s from Redis: expected a string, got reply type %d", key, rep->type);
    freeReplyObject(rep);
    return r;
}

static int read_manifest(struct coreget *g)
{
    const struct coreup_opts *o = &g->rd.opts;
    redisReply *rep = NULL;
    char why[256];
    int r = coreup_key(g->key, sizeof(g->key), o->prefix, o->stream, g->id, -1);

    if (r < 0)
        return log_error_errno(r, "core %s: no key for it", g->id);
    r = get(g, g->key, &rep);
    if (r == -ENOENT)
        log_error("no core %s in Redis DB %d: it was not stored (crash.core \"redis\"), or its "
                  "TTL ran out; `wrapp crashes` says which crashes have one",
                  g->key, o->db);
    if (r < 0)
        return r;
    r = coreup_manifest_parse(rep->str, rep->len, &g->m, why, sizeof(why));
    if (r < 0)
        log_error("core %s: bad manifest: %s", g->key, why);
    freeReplyObject(rep);
    return r;
}

static int corrupt(const struct coreget *g, const char *what, uint64_t i)
{
    log_error("core %s is corrupt: chunk %" PRIu64 ": %s", g->key, i, what);
    return -EBADMSG;
}

/* Decompress chunk i (len bytes) into the part file, hashing it. */
static int inflate(struct coreget *g, const char *data, size_t len, uint64_t i)
{
    ZSTD_inBuffer in = {data, len, 0};
    ZSTD_outBuffer out;

    do {
        int r;
        out = (ZSTD_outBuffer){g->buf, g->buf_size, 0};
        g->frame_left = ZSTD_decompressStream(g->dc, &out, &in);
        if (ZSTD_isError(g->frame_left))
            return corrupt(g, ZSTD_getErrorName(g->frame_left), i);
        if (out.pos > g->m.size - g->written)
            return corrupt(g, "decompresses past the manifest's size", i);
        SHA256_Update(&g->sha, g->buf, out.pos);
        r = fdio_write_all(g->fd, g->buf, out.pos);
        if (r < 0)
            return log_error_errno(r, "cannot write %s", g->part);
        g->written += out.pos;
        /* 0: the frame is decoded and flushed; it must end with the data. */
        if (g->frame_left == 0 && (in.pos < in.size || i + 1 < g->m.chunks))
            return corrupt(g, "data past the end of the compressed frame", i);
    } while (in.pos < in.size || (out.pos == out.size && g->frame_left != 0));
    return 0;
}

static int fetch_chunks(struct coreget *g)
{
    const struct coreup_opts *o = &g->rd.opts;
    char key[COREUP_KEY_MAX];

    for (uint64_t i = 0; i < g->m.chunks; i++) {
        size_t want = coreup_chunk_len(g->m.compressed, g->m.chunk_bytes, i);
        redisReply *rep = NULL;
        int r = coreup_key(key, sizeof(key), o->prefix, o->stream, g->id, (long)i);
        if (r >= 0)
            r = get(g, key, &rep);
        if (r == -ENOENT)
            return corrupt(g, "missing (its TTL ran out, or the upload failed)", i);
        if (r < 0)
            return r;
        if (rep->len != want)
            r = corrupt(g, "not as long as the manifest says", i);
        else
            r = inflate(g, rep->str, rep->len, i);
        freeReplyObject(rep);
        if (r < 0)
            return r;
    }
    return 0;
}

static int verify(struct coreget *g)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    char hex[2 * SHA256_DIGEST_LENGTH + 1];

    if (g->frame_left != 0) {
        log_error("core %s is corrupt: the compressed data ends early", g->key);
        return -EBADMSG;
    }
    if (g->written != g->m.size) {
        log_error("core %s is corrupt: %" PRIu64 " bytes, the manifest says %" PRIu64, g->key,
                  g->written, g->m.size);
        return -EBADMSG;
    }
    SHA256_Final(digest, &g->sha);
    coreup_hex(hex, digest, sizeof(digest));
    if (strcmp(hex, g->m.sha256) != 0) {
        log_error("core %s is corrupt: its SHA-256 is %s, the manifest says %s", g->key, hex,
                  g->m.sha256);
        return -EBADMSG;
    }
    return 0;
}

/* Into place: over FILE only with -f. */
static int finish(struct coreget *g)
{
    int r = fsync(g->fd) < 0 ? neg_errno() : 0;

    if (r == 0 && close(g->fd) < 0)
        r = neg_errno();
    g->fd = -1;
    if (r < 0)
        return log_error_errno(r, "cannot write %s", g->part);
    if (g->is_force ? rename(g->part, g->path) < 0
                    : renameat2(AT_FDCWD, g->part, AT_FDCWD, g->path, RENAME_NOREPLACE) < 0)
        return log_error_errno(neg_errno(), "cannot rename %s to %s", g->part, g->path);
    return 0;
}

static int download(struct coreget *g)
{
    int r;

    g->buf_size = ZSTD_DStreamOutSize();
    g->buf = malloc(g->buf_size);
    g->dc = ZSTD_createDCtx();
    if (!g->buf || !g->dc)
        return log_error_errno(-ENOMEM, "wrapp core get");
    SHA256_Init(&g->sha);
    g->fd = open(g->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (g->fd < 0)
        return log_error_errno(neg_errno(), "cannot create %s", g->part);
    r = fetch_chunks(g);
    if (r == 0)
        r = verify(g);
    if (r == 0)
        r = finish(g);
    if (r < 0)
        unlink(g->part);
    return r;
}

static void print_done(const struct coreget *g)
{
    char size[32];
    const struct coreup_manifest *m = &g->m;

    printf("%s: core of pid %d (%s) from %s, %s, SHA-256 ok; open it with: gdb %s %s\n", g->path,
           m->pid, *m->signal ? m->signal : "?", *m->time ? m->time : "?",
           coreup_fmt_size(size, sizeof(size), m->size), *m->exe ? m->exe : "EXE", g->path);
}

static int run(struct coreget *g)
{
    int r = resolve_id(g);

    if (r == 0)
        r = choose_path(g);
    if (r == -EEXIST || r == -EINVAL)
        return COREGET_EXIT_USAGE;
    if (r == 0)
        r = crashes_redis_cores(&g->rd);
    if (r == 0)
        r = read_manifest(g);
    if (r == 0)
        r = download(g);
    if (r < 0)
        return COREGET_EXIT_FAILED;
    print_done(g);
    return 0;
}

int coreget_main(int argc, char **argv)
{
    struct coreget g = {.fd = -1};
    int r = parse(argc, argv, &g);

    if (r == 0)
        r = crashes_redis_init(&g.rd, "wrapp core get", &g.args);
    if (r == 0)
        r = run(&g);
    else
        r = r > 0 ? 0 : COREGET_EXIT_USAGE;
    if (g.fd >= 0)
        close(g.fd);
    ZSTD_freeDCtx(g.dc);
    free(g.buf);
    crashes_redis_fini(&g.rd);
    return r;
}

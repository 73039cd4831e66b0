// SPDX-License-Identifier: MIT
/*
 * linelat: line -> Redis latency through wrapp, both ends.
 * "linelat write N RATE [WIDTH]" is the app: N lines "lat <i> <us> xx..."
 * (WIDTH bytes with the newline, default 80), one write(2) each, on a
 * CLOCK_MONOTONIC schedule of RATE lines/s; <us> is CLOCK_REALTIME just
 * before the write. "linelat read PORT KEY N [TIMEOUT_S]" reads KEY (DB 1
 * on 127.0.0.1:PORT) from the start with XREAD BLOCK until it has lines
 * 0..N-1 or TIMEOUT_S (default 60) passes, and prints "n= missing= p50_ms=
 * p99_ms= max_ms=" of arrival - <us>. Other entries (markers) are skipped.
 */

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WIDTH_MAX  4096
#define LINES_MAX  10000000L
#define RATE_MAX   1000000L
#define BLOCK_MS   500
#define ID_MAX     64
#define READ_COUNT 1000

static int64_t now_us(clockid_t clk)
{
    struct timespec ts;

    clock_gettime(clk, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ---- write: the app -------------------------------------------------- */

static int cmd_write(long n, long rate, int width)
{
    static char buf[WIDTH_MAX];
    struct timespec start, due;

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < n; i++) {
        int64_t off_ns = (int64_t)i * 1000000000LL / rate;
        int k;

        due.tv_sec = start.tv_sec + (time_t)(off_ns / 1000000000LL);
        due.tv_nsec = start.tv_nsec + (long)(off_ns % 1000000000LL);
        if (due.tv_nsec >= 1000000000L) {
            due.tv_sec++;
            due.tv_nsec -= 1000000000L;
        }
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR)
            ;
        k = snprintf(buf, sizeof(buf), "lat %ld %lld ", i, (long long)now_us(CLOCK_REALTIME));
        while (k < width - 1)
            buf[k++] = 'x';
        buf[k++] = '\n';
        if (write_all(STDOUT_FILENO, buf, (size_t)k) < 0) {
            perror("linelat write");
            return 1;
        }
    }
    return 0;
}

/* ---- read: the consumer ---------------------------------------------- */

struct samples {
    long n;
    long got;
    int64_t *lat_us;        /* got of them, in arrival order */
    unsigned char *is_seen; /* n flags, by line index */
};

static const redisReply *message_of(const redisReply *fields)
{
    for (size_t i = 0; fields->type == REDIS_REPLY_ARRAY && i + 1 < fields->elements; i += 2)
        if (fields->element[i]->type == REDIS_REPLY_STRING &&
            strcmp(fields->element[i]->str, "message") == 0)
            return fields->element[i + 1];
    return NULL;
}

/* Record the entries of one XREAD reply; updates last_id. */
static void take_entries(struct samples *s, const redisReply *rep, int64_t arrival_us,
                         char *last_id)
{
    const redisReply *entries;

    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
        rep->element[0]->type != REDIS_REPLY_ARRAY || rep->element[0]->elements < 2)
        return;
    entries = rep->element[0]->element[1];
    for (size_t i = 0; entries->type == REDIS_REPLY_ARRAY && i < entries->elements; i++) {
        const redisReply *e = entries->element[i], *msg;
        long long stamp;
        long idx;

        if (e->type != REDIS_REPLY_ARRAY || e->elements < 2)
            continue;
        snprintf(last_id, ID_MAX, "%s", e->element[0]->str);
        msg = message_of(e->element[1]);
        if (!msg || msg->type != REDIS_REPLY_STRING ||
            sscanf(msg->str, "lat %ld %lld", &idx, &stamp) != 2)
            continue;
        if (idx < 0 || idx >= s->n || s->is_seen[idx])
            continue;
        s->is_seen[idx] = 1;
        s->lat_us[s->got++] = arrival_us - stamp;
    }
}

static int read_stream(redisContext *c, const char *key, struct samples *s, long timeout_s)
{
    int64_t deadline = now_us(CLOCK_MONOTONIC) + (int64_t)timeout_s * 1000000;
    char last_id[ID_MAX] = "0-0";

    while (s->got < s->n && now_us(CLOCK_MONOTONIC) < deadline) {
        redisReply *rep = redisCommand(c, "XREAD COUNT %d BLOCK %d STREAMS %s %s", READ_COUNT,
                                       BLOCK_MS, key, last_id);
        int64_t arrival = now_us(CLOCK_REALTIME);

        if (!rep) {
            fprintf(stderr, "linelat read: XREAD: %s\n", c->errstr);
            return -1;
        }
        if (rep->type == REDIS_REPLY_ERROR) {
            fprintf(stderr, "linelat read: XREAD: %s\n", rep->str);
            freeReplyObject(rep);
            return -1;
        }
        take_entries(s, rep, arrival, last_id);
        freeReplyObject(rep);
    }
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Nearest-rank percentile q (0..1] of sorted v[0..n-1], in ms. */
static double pct_ms(const int64_t *v, long n, double q)
{
    long rank = (long)(q * (double)n + 0.999999);

    if (rank < 1)
        rank = 1;
    return (double)v[rank - 1] / 1000.0;
}

static int cmd_read(long port, const char *key, long n, long timeout_s)
{
    struct timeval tv = {5, 0};
    struct samples s = {.n = n};
    redisContext *c;
    redisReply *rep;
    int r = 1;

    s.lat_us = calloc((size_t)n, sizeof(*s.lat_us));
    s.is_seen = calloc((size_t)n, 1);
    c = redisConnectWithTimeout("127.0.0.1", (int)port, tv);
    if (!s.lat_us || !s.is_seen || !c || c->err) {
        fprintf(stderr, "linelat read: %s\n", c ? c->errstr : "out of memory");
        goto out;
    }
    rep = redisCommand(c, "SELECT 1");
    if (!rep || rep->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "linelat read: SELECT failed\n");
        freeReplyObject(rep);
        goto out;
    }
    freeReplyObject(rep);
    if (read_stream(c, key, &s, timeout_s) < 0)
        goto out;
    if (s.got == 0) {
        fprintf(stderr, "linelat read: no line arrived in %ld s\n", timeout_s);
        goto out;
    }
    qsort(s.lat_us, (size_t)s.got, sizeof(*s.lat_us), cmp_i64);
    printf("n=%ld missing=%ld p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", s.got, n - s.got,
           pct_ms(s.lat_us, s.got, 0.50), pct_ms(s.lat_us, s.got, 0.99),
           (double)s.lat_us[s.got - 1] / 1000.0);
    r = 0;
out:
    redisFree(c);
    free(s.lat_us);
    free(s.is_seen);
    return r;
}

static int usage(void)
{
    fprintf(stderr, "usage: linelat write N RATE [WIDTH]\n"
                    "       linelat read PORT KEY N [TIMEOUT_S]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";

    if (strcmp(cmd, "write") == 0 && (argc == 4 || argc == 5)) {
        long n = strtol(argv[2], NULL, 10), rate = strtol(argv[3], NULL, 10);
        int width = argc == 5 ? atoi(argv[4]) : 80;
        if (n <= 0 || n > LINES_MAX || rate <= 0 || rate > RATE_MAX || width < 40 ||
            width > WIDTH_MAX)
            return usage();
        return cmd_write(n, rate, width);
    }
    if (strcmp(cmd, "read") == 0 && (argc == 5 || argc == 6)) {
        long port = strtol(argv[2], NULL, 10), n = strtol(argv[4], NULL, 10);
        long timeout_s = argc == 6 ? strtol(argv[5], NULL, 10) : 60;
        if (port <= 0 || port > 65535 || n <= 0 || n > LINES_MAX || timeout_s <= 0)
            return usage();
        return cmd_read(port, argv[3], n, timeout_s);
    }
    return usage();
}

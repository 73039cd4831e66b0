// SPDX-License-Identifier: MIT
/*
 * synclog PORT KEY N [WIDTH]: the Go wrapp's way of streaming, as a
 * baseline: one synchronous "XADD KEY MAXLEN ~ 1000 * message LINE" per
 * line, waiting for each reply, on one connection to 127.0.0.1:PORT, DB 1.
 * LINE is testapp's "line <i>" padded with 'x' to WIDTH-1 bytes (WIDTH
 * counts the newline wrapp strips; default 80). Prints "lines=N secs=S
 * lines_per_s=R" and exits 0, or 1 on any error. Single-threaded.
 */

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WIDTH_MAX 4096
#define LINES_MAX 100000000L

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One command; 0 if Redis answered with anything but an error. */
static int command_ok(redisContext *c, const char *what, redisReply *rep)
{
    int ok = rep && rep->type != REDIS_REPLY_ERROR;

    if (!rep)
        fprintf(stderr, "synclog: %s: %s\n", what, c->errstr);
    else if (!ok)
        fprintf(stderr, "synclog: %s: %s\n", what, rep->str);
    freeReplyObject(rep);
    return ok ? 0 : -1;
}

static int stream_lines(redisContext *c, const char *key, long n, int width)
{
    static char buf[WIDTH_MAX];

    for (long i = 0; i < n; i++) {
        int k = snprintf(buf, sizeof(buf), "line %ld", i);
        redisReply *rep;

        while (k < width - 1)
            buf[k++] = 'x';
        rep = redisCommand(c, "XADD %s MAXLEN ~ 1000 * message %b", key, buf, (size_t)k);
        if (command_ok(c, "XADD", rep) < 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct timeval tv = {5, 0};
    long n, port;
    int width = 80;
    redisContext *c;
    double t0, secs;

    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: synclog PORT KEY N [WIDTH]\n");
        return 2;
    }
    port = strtol(argv[1], NULL, 10);
    n = strtol(argv[3], NULL, 10);
    if (argc == 5)
        width = atoi(argv[4]);
    if (port <= 0 || port > 65535 || n <= 0 || n > LINES_MAX || width < 2 || width > WIDTH_MAX) {
        fprintf(stderr, "synclog: bad PORT, N or WIDTH\n");
        return 2;
    }
    c = redisConnectWithTimeout("127.0.0.1", (int)port, tv);
    if (!c || c->err) {
        fprintf(stderr, "synclog: connect: %s\n", c ? c->errstr : "out of memory");
        redisFree(c);
        return 1;
    }
    if (command_ok(c, "SELECT", redisCommand(c, "SELECT 1")) < 0) {
        redisFree(c);
        return 1;
    }
    t0 = now_s();
    if (stream_lines(c, argv[2], n, width) < 0) {
        redisFree(c);
        return 1;
    }
    secs = now_s() - t0;
    redisFree(c);
    printf("lines=%ld secs=%.3f lines_per_s=%.0f\n", n, secs, (double)n / secs);
    return 0;
}

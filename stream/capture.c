// SPDX-License-Identifier: MIT
/*
 * See capture.h. One read(2) per readiness event and stream keeps the loop
 * fair between stdout, stderr and signals; a chunk is stamped once (the
 * "ts" of every line completed in it) and written through before it is
 * split, so the console sees bytes exactly as the app wrote them.
 */
#include "capture.h"

#include "clock.h"
#include "fdio.h"
#include "lines.h"
#include "log.h"
#include "macro.h"
#include "marker.h"
#include "recent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

struct stream {
    struct loop_source src; /* src.fd: the read end, -1 after EOF */
    int child_fd;           /* the write end, -1 once the child has it */
    int out_fd;             /* passthrough target, -1 when off */
    char tag;               /* 'o' or 'e' */
    uint64_t ts_us;         /* read time of the chunk being split */
    struct lines *lines;
    struct marker *marker;
    struct capture *cap;
};

struct capture {
    struct stream st[2];
    struct sink *sink;
    struct loop *loop;
    struct recent *recent; /* the last lines, for crash reports */
    bool is_reading;       /* a read's lines are being split (atomic) */
    char *buf;
};

static int on_metric(void *ctx, enum marker_metric op, const char *name, size_t name_len,
                     const char *value, size_t value_len)
{
    struct stream *st = ctx;
    int r = sink_metric(st->cap->sink, op == MARKER_SET, name, name_len, value, value_len);

    return r == -ENOMEM ? r : 0;
}

static int on_message(void *ctx, const char *text, size_t len, unsigned flags)
{
    struct stream *st = ctx;
    struct sink_line l = {.channel = SINK_INFO, .text = text, .len = len, .ts_us = st->ts_us};
    int r;

    l.fd = (char)(flags & MARKER_WARNING ? 0 : st->tag);
    if (flags & LINES_PARTIAL)
        l.split = "P";
    else if (flags & LINES_CONTINUED)
        l.split = "F";
    recent_push(st->cap->recent, l.fd, text, len);
    r = sink_line(st->cap->sink, &l);
    return r == -ENOMEM ? r : 0; /* a full queue was counted; keep reading */
}

static const struct marker_ops ops = {.metric = on_metric, .message = on_message};

static int on_line(void *ctx, const char *line, size_t len, unsigned flags)
{
    struct stream *st = ctx;

    return marker_line(st->marker, line, len, flags, &ops, st);
}

static void passthrough(struct stream *st, const char *buf, size_t n)
{
    int r;

    if (st->out_fd < 0)
        return;
    r = fdio_write_all(st->out_fd, buf, n);
    if (r < 0) {
        log_warn_errno(r, "cannot copy the app's %s to wrapp's own; stopped copying it",
                       st->tag == 'o' ? "stdout" : "stderr");
        st->out_fd = -1;
    }
}

static void finish(struct stream *st)
{
    lines_finish(st->lines, on_line, st);
    marker_finish(st->marker, &ops, st);
    if (st->src.fd >= 0) {
        int fd = st->src.fd;
        if (st->cap->loop)
            loop_del(st->cap->loop, &st->src);
        __atomic_store_n(&st->src.fd, -1, __ATOMIC_SEQ_CST); /* capture_settle reads it */
        close(fd);
    }
}

/* Read once; returns bytes read, 0 at EOF (stream finished), -EAGAIN. */
static ssize_t read_once(struct stream *st)
{
    ssize_t n;

    /* Set before the read empties the pipe, cleared once its lines are
     * kept: capture_settle() waits on both. */
    __atomic_store_n(&st->cap->is_reading, true, __ATOMIC_SEQ_CST);
    n = RETRY_EINTR(read(st->src.fd, st->cap->buf, CAPTURE_READ_MAX));
    if (n <= 0)
        __atomic_store_n(&st->cap->is_reading, false, __ATOMIC_SEQ_CST);
    if (n < 0)
        return errno == EAGAIN ? -EAGAIN : (finish(st), 0);
    if (n == 0) {
        finish(st);
        return 0;
    }
    st->ts_us = clock_real_us();
    passthrough(st, st->cap->buf, (size_t)n);
    if (lines_feed(st->lines, st->cap->buf, (size_t)n, on_line, st) < 0)
        log_warn("out of memory splitting the app's output; a line may be incomplete");
    __atomic_store_n(&st->cap->is_reading, false, __ATOMIC_SEQ_CST);
    return n;
}

/* Bytes waiting in the pipe of a stream (0 after EOF). */
static int pending(const struct stream *st)
{
    int fd = __atomic_load_n(&st->src.fd, __ATOMIC_SEQ_CST), n = 0;

    return fd >= 0 && ioctl(fd, FIONREAD, &n) == 0 ? n : 0;
}

bool capture_settle(struct capture *c, unsigned timeout_ms)
{
    uint64_t deadline = clock_mono_ms() + timeout_ms;

    if (!c)
        return true;
    for (;;) {
        if (pending(&c->st[0]) == 0 && pending(&c->st[1]) == 0 &&
            !__atomic_load_n(&c->is_reading, __ATOMIC_SEQ_CST))
            return true;
        if (clock_mono_ms() >= deadline)
            return false;
        usleep(200);
    }
}

static int on_readable(struct loop_source *src, uint32_t events)
{
    (void)events;
    read_once(src->data);
    return 0;
}

static int stream_init(struct stream *st, const struct config *cfg, struct capture *c, int which)
{
    int p[2], r;

    *st =
        (struct stream){.src = {.fd = -1, .fn = on_readable, .data = st}, .child_fd = -1, .cap = c};
    st->tag = which == 1 ? 'o' : 'e';
    st->out_fd = cfg->output.passthrough ? which : -1;
    r = lines_new(cfg->output.max_line, &st->lines);
    if (r == 0)
        r = marker_new(MARKER_BLOCK_MAX_DEFAULT, &st->marker);
    if (r < 0)
        return r;
    if (pipe2(p, O_CLOEXEC) < 0)
        return neg_errno();
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    fcntl(p[0], F_SETPIPE_SZ, (int)CAPTURE_PIPE_SIZE); /* best effort */
    st->src.fd = p[0];
    st->child_fd = p[1];
    return 0;
}

int capture_new(const struct config *cfg, struct sink *sink, struct capture **ret)
{
    struct capture *c = calloc(1, sizeof(*c));
    int r;

    if (!c)
        return -ENOMEM;
    c->sink = sink;
    c->buf = malloc(CAPTURE_READ_MAX);
    r = c->buf ? 0 : -ENOMEM;
    if (r == 0)
        r = recent_new(cfg->crash.enabled ? (size_t)cfg->crash.last_lines : 0, &c->recent);
    for (int i = 0; i < 2 && r == 0; i++)
        r = stream_init(&c->st[i], cfg, c, i + 1);
    if (r < 0) {
        capture_free(c);
        return r;
    }
    *ret = c;
    return 0;
}

struct capture *capture_free(struct capture *c)
{
    if (!c)
        return NULL;
    for (int i = 0; i < 2; i++) {
        struct stream *st = &c->st[i];
        if (st->src.fd >= 0) {
            if (c->loop)
                loop_del(c->loop, &st->src);
            close(st->src.fd);
        }
        if (st->child_fd >= 0)
            close(st->child_fd);
        lines_free(st->lines);
        marker_free(st->marker);
    }
    recent_free(c->recent);
    free(c->buf);
    free(c);
    return NULL;
}

struct recent *capture_recent(const struct capture *c)
{
    return c ? c->recent : NULL;
}

void capture_child_fds(const struct capture *c, int *ret_out, int *ret_err)
{
    *ret_out = c->st[0].child_fd;
    *ret_err = c->st[1].child_fd;
}

int capture_start(struct capture *c, struct loop *l)
{
    c->loop = l;
    for (int i = 0; i < 2; i++) {
        struct stream *st = &c->st[i];
        int r;
        if (st->child_fd >= 0)
            close(st->child_fd);
        st->child_fd = -1;
        r = loop_add(l, &st->src, EPOLLIN);
        if (r < 0)
            return r;
    }
    return 0;
}

void capture_drain(struct capture *c)
{
    for (int i = 0; i < 2; i++) {
        struct stream *st = &c->st[i];
        while (st->src.fd >= 0 && read_once(st) > 0)
            ;
        if (st->src.fd >= 0)
            finish(st);
    }
}

bool capture_is_done(const struct capture *c)
{
    return c->st[0].src.fd < 0 && c->st[1].src.fd < 0;
}

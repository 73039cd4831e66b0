// SPDX-License-Identifier: MIT
/*
 * epoll + timerfd event loop (see loop.h). Each epoll_event carries the
 * struct loop_source pointer, so dispatch is one indirect call. A batch of
 * up to LOOP_BATCH events is taken per epoll_wait.
 */
#include "loop.h"

#include "macro.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define LOOP_BATCH 16

struct loop {
    int epfd;
    bool is_quit;
    int code;
    unsigned n_sources;
    struct loop_source *blocker; /* a registered can_block source, if any */
};

int loop_new(struct loop **ret)
{
    struct loop *l = calloc(1, sizeof(*l));

    if (!l)
        return -ENOMEM;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        int r = neg_errno();
        free(l);
        return r;
    }
    *ret = l;
    return 0;
}

struct loop *loop_free(struct loop *l)
{
    if (l) {
        close(l->epfd);
        free(l);
    }
    return NULL;
}

int loop_add(struct loop *l, struct loop_source *src, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = src};

    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, src->fd, &ev) < 0)
        return neg_errno();
    l->n_sources++;
    if (src->can_block)
        l->blocker = src;
    return 0;
}

int loop_del(struct loop *l, struct loop_source *src)
{
    if (epoll_ctl(l->epfd, EPOLL_CTL_DEL, src->fd, NULL) < 0)
        return neg_errno();
    l->n_sources--;
    if (l->blocker == src)
        l->blocker = NULL;
    return 0;
}

void loop_quit(struct loop *l, int code)
{
    l->is_quit = true;
    l->code = code;
}

int loop_run(struct loop *l)
{
    struct epoll_event ev[LOOP_BATCH];

    while (!l->is_quit) {
        int n;
        if (l->n_sources == 1 && l->blocker) {
            int r = l->blocker->fn(l->blocker, EPOLLIN);
            if (r < 0)
                return r;
            continue;
        }
        n = epoll_wait(l->epfd, ev, LOOP_BATCH, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return neg_errno();
        }
        for (int i = 0; i < n && !l->is_quit; i++) {
            struct loop_source *src = ev[i].data.ptr;
            int r = src->fn(src, ev[i].events);
            if (r < 0)
                return r;
        }
    }
    return l->code;
}

int loop_timer_init(struct loop *l, struct loop_timer *t, loop_handler_fn fn, void *data)
{
    *t = (struct loop_timer){.src = {.fn = fn, .data = data}, .loop = l};
    t->src.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    return t->src.fd < 0 ? neg_errno() : 0;
}

/* A timer is in the epoll set only while armed. */
static int timer_watch(struct loop_timer *t, bool on)
{
    int r = 0;

    if (on && !t->is_armed)
        r = loop_add(t->loop, &t->src, EPOLLIN);
    else if (!on && t->is_armed)
        r = loop_del(t->loop, &t->src);
    if (r == 0)
        t->is_armed = on;
    return r;
}

int loop_timer_arm(struct loop_timer *t, unsigned ms)
{
    struct itimerspec its = {
        .it_value = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L}};

    if (ms == 0)
        its.it_value.tv_nsec = 1; /* zero would disarm */
    if (timerfd_settime(t->src.fd, 0, &its, NULL) < 0)
        return neg_errno();
    return timer_watch(t, true);
}

int loop_timer_disarm(struct loop_timer *t)
{
    struct itimerspec its = {0};

    if (timerfd_settime(t->src.fd, 0, &its, NULL) < 0)
        return neg_errno();
    return timer_watch(t, false);
}

void loop_timer_ack(struct loop_timer *t)
{
    uint64_t n;

    (void)!read(t->src.fd, &n, sizeof(n));
    timer_watch(t, false);
}

void loop_timer_fini(struct loop_timer *t)
{
    if (t->src.fd >= 0) {
        timer_watch(t, false);
        close(t->src.fd);
    }
    t->src.fd = -1;
}

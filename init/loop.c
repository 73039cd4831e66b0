// SPDX-License-Identifier: MIT
/*
 * epoll event loop with in-loop timers (see loop.h). Each epoll_event
 * carries its struct loop_source pointer, so dispatch is one indirect call.
 * Timers are a short unsorted list (an init has a handful): the next
 * deadline is found by a scan, which is cheaper than keeping order.
 */
#include "loop.h"

#include "clock.h"
#include "macro.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define LOOP_BATCH 16

struct loop {
    int epfd;
    bool is_quit;
    int code;
    unsigned n_sources;
    struct loop_source *waiter; /* a registered source with a wait hook */
    struct loop_timer *timers;  /* armed timers */
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
    if (src->wait)
        l->waiter = src;
    return 0;
}

int loop_del(struct loop *l, struct loop_source *src)
{
    if (epoll_ctl(l->epfd, EPOLL_CTL_DEL, src->fd, NULL) < 0)
        return neg_errno();
    l->n_sources--;
    if (l->waiter == src)
        l->waiter = NULL;
    return 0;
}

void loop_quit(struct loop *l, int code)
{
    l->is_quit = true;
    l->code = code;
}

void loop_timer_init(struct loop *l, struct loop_timer *t, loop_timer_fn fn, void *data)
{
    *t = (struct loop_timer){.fn = fn, .data = data, .loop = l};
}

void loop_timer_disarm(struct loop_timer *t)
{
    struct loop_timer **pp = &t->loop->timers;

    if (!t->is_armed)
        return;
    while (*pp && *pp != t)
        pp = &(*pp)->next;
    if (*pp)
        *pp = t->next;
    t->next = NULL;
    t->is_armed = false;
}

void loop_timer_arm(struct loop_timer *t, unsigned ms)
{
    loop_timer_disarm(t);
    t->deadline = clock_mono_ns() + (uint64_t)ms * 1000000ULL;
    t->is_armed = true;
    t->next = t->loop->timers;
    t->loop->timers = t;
}

/* Milliseconds until the nearest deadline (rounded up), -1 if none. */
static int next_timeout(const struct loop *l)
{
    uint64_t now, first = UINT64_MAX;

    if (!l->timers)
        return -1;
    for (const struct loop_timer *t = l->timers; t; t = t->next)
        if (t->deadline < first)
            first = t->deadline;
    now = clock_mono_ns();
    if (first <= now)
        return 0;
    first = (first - now + 999999) / 1000000;
    return first > 86400000 ? 86400000 : (int)first;
}

/* Fire every expired timer (each is disarmed before its fn runs). */
static int fire_timers(struct loop *l)
{
    uint64_t now = clock_mono_ns();
    bool fired = true;

    while (fired && !l->is_quit) {
        fired = false;
        for (struct loop_timer *t = l->timers; t; t = t->next) {
            int r;
            if (t->deadline > now)
                continue;
            loop_timer_disarm(t);
            r = t->fn(t);
            if (r < 0)
                return r;
            fired = true; /* the list may have changed: rescan */
            break;
        }
    }
    return 0;
}

static int dispatch(struct loop *l, int timeout)
{
    struct epoll_event ev[LOOP_BATCH];
    int n;

    if (l->n_sources == 1 && l->waiter)
        return l->waiter->wait(l->waiter, timeout);
    n = epoll_wait(l->epfd, ev, LOOP_BATCH, timeout);
    if (n < 0)
        return errno == EINTR ? 0 : neg_errno();
    for (int i = 0; i < n && !l->is_quit; i++) {
        struct loop_source *src = ev[i].data.ptr;
        int r = src->fn(src, ev[i].events);
        if (r < 0)
            return r;
    }
    return n;
}

int loop_run(struct loop *l)
{
    while (!l->is_quit) {
        int r = dispatch(l, next_timeout(l));
        if (r < 0)
            return r;
        if (l->timers && !l->is_quit) {
            r = fire_timers(l);
            if (r < 0)
                return r;
        }
    }
    return l->code;
}

// SPDX-License-Identifier: MIT
/*
 * The event loop every module plugs into: epoll over fds registered as
 * caller-owned struct loop_source, and one-shot timers kept by the loop
 * itself (their deadline is the wait's timeout: no timer fds). Sources are
 * level-triggered; a handler returning < 0 stops the loop with that value.
 * When the only source has a wait hook (the signals of a plain init), the
 * loop lets it wait by itself and skips epoll: an init that only forwards
 * signals and reaps pays one syscall per wakeup, like sigwait-based inits.
 * Main thread only; other threads wake it with an eventfd source.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct loop;
struct loop_source;
struct loop_timer;

/* Called when src->fd is ready; events are EPOLLIN/OUT/HUP/ERR bits. */
typedef int (*loop_handler_fn)(struct loop_source *src, uint32_t events);

/* Wait up to timeout_ms (-1: no limit) for this source's own event and
 * handle it. Returns > 0 if something was handled, 0 on timeout, < 0 to
 * stop the loop. */
typedef int (*loop_wait_fn)(struct loop_source *src, int timeout_ms);

typedef int (*loop_timer_fn)(struct loop_timer *t);

struct loop_source {
    int fd; /* borrowed: the owner closes it after loop_del */
    loop_handler_fn fn;
    loop_wait_fn wait; /* optional, see above */
    void *data;        /* for the handler */
};

struct loop_timer {
    loop_timer_fn fn;
    void *data; /* for fn */
    struct loop *loop;
    uint64_t deadline; /* CLOCK_MONOTONIC ns, while armed */
    bool is_armed;
    struct loop_timer *next;
};

/* Create the loop. Returns 0 or -errno. *ret is owned by the caller. */
int loop_new(struct loop **ret);

/* Free the loop (sources and timers stay the caller's). Takes NULL;
 * returns NULL. */
struct loop *loop_free(struct loop *l);

/* Watch src->fd for events. src must outlive its registration. */
int loop_add(struct loop *l, struct loop_source *src, uint32_t events);
int loop_del(struct loop *l, struct loop_source *src);

/* Dispatch events and timers until loop_quit() or a handler fails.
 * Returns the value given to loop_quit() (>= 0) or the handler's -errno. */
int loop_run(struct loop *l);

/* Make loop_run() return code after the current dispatch. */
void loop_quit(struct loop *l, int code);

/* Timers: one-shot; fn(t) runs once, from loop_run, ms after arming (the
 * timer is disarmed before fn runs, so fn may re-arm it); re-arming an
 * armed timer moves its deadline. No allocation, no syscall but the clock
 * read (vDSO). */
void loop_timer_init(struct loop *l, struct loop_timer *t, loop_timer_fn fn, void *data);
void loop_timer_arm(struct loop_timer *t, unsigned ms);
void loop_timer_disarm(struct loop_timer *t);

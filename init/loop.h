// SPDX-License-Identifier: MIT
/*
 * The event loop every module plugs into: epoll over fds registered as
 * caller-owned struct loop_source, plus one-shot timers on timerfds (in
 * epoll only while armed). Sources are level-triggered; a handler
 * returning < 0 stops the loop with that value. When the only source is
 * one that can block by itself (the signalfd of a plain init), the loop
 * calls it directly and skips epoll_wait: one syscall less per wakeup.
 * Main thread only; other threads wake it with an eventfd source.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct loop;
struct loop_source;

/* Called when src->fd is ready; events are EPOLLIN/OUT/HUP/ERR bits. */
typedef int (*loop_handler_fn)(struct loop_source *src, uint32_t events);

struct loop_source {
    int fd; /* borrowed: the owner closes it after loop_del */
    loop_handler_fn fn;
    void *data;     /* for the handler */
    bool can_block; /* fn may be called unready: it then waits in its own read */
};

struct loop_timer {
    struct loop_source src; /* src.fd is the timerfd; src.data the owner's */
    struct loop *loop;
    bool is_armed;
};

/* Create the loop. Returns 0 or -errno. *ret is owned by the caller. */
int loop_new(struct loop **ret);

/* Free the loop (sources stay the caller's). Takes NULL; returns NULL. */
struct loop *loop_free(struct loop *l);

/* Watch src->fd for events. src must outlive its registration. */
int loop_add(struct loop *l, struct loop_source *src, uint32_t events);
int loop_del(struct loop *l, struct loop_source *src);

/* Dispatch events until loop_quit() or a handler fails. Returns the
 * value given to loop_quit() (>= 0) or the handler's -errno. */
int loop_run(struct loop *l);

/* Make loop_run() return code after the current dispatch. */
void loop_quit(struct loop *l, int code);

/* Timer: one-shot, fires fn(&t->src, EPOLLIN) once after ms; re-arming
 * an armed timer moves its deadline. Returns 0 or -errno. */
int loop_timer_init(struct loop *l, struct loop_timer *t, loop_handler_fn fn, void *data);
int loop_timer_arm(struct loop_timer *t, unsigned ms);
int loop_timer_disarm(struct loop_timer *t);
/* Consume the expiry (call from the handler); the timer is then disarmed. */
void loop_timer_ack(struct loop_timer *t);
void loop_timer_fini(struct loop_timer *t);

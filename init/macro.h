// SPDX-License-Identifier: MIT
/*
 * Small helpers shared by every module: cleanup attributes, ownership
 * transfer, array sizes and the EINTR retry wrapper.
 * No allocation, no state; safe in any thread and after fork.
 */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Retry an expression returning -1/errno while it fails with EINTR. */
#define RETRY_EINTR(expr)                                                                          \
    ({                                                                                             \
        long retry_r_;                                                                             \
        do {                                                                                       \
            retry_r_ = (long)(expr);                                                               \
        } while (retry_r_ == -1 && errno == EINTR);                                                \
        retry_r_;                                                                                  \
    })

static inline void freep(void *p)
{
    free(*(void **)p);
}

static inline void closep(const int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}

static inline void fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}

#define cleanup_free   __attribute__((cleanup(freep)))
#define cleanup_close  __attribute__((cleanup(closep)))
#define cleanup_fclose __attribute__((cleanup(fclosep)))

/* Move ownership out of a cleanup variable: returns the pointer, leaves NULL. */
static inline void *take_ptr(void *pp)
{
    void **p = pp;
    void *v = *p;
    *p = NULL;
    return v;
}

/* Move ownership of an fd out of a cleanup variable: returns it, leaves -1. */
static inline int take_fd(int *fd)
{
    int v = *fd;
    *fd = -1;
    return v;
}

/* -errno of the last failed libc call, never 0 (a libc bug must not read as success). */
static inline int neg_errno(void)
{
    return errno > 0 ? -errno : -EIO;
}

// SPDX-License-Identifier: MIT
/*
 * Clock reads in the units wrapp uses: monotonic for deadlines and timers,
 * real time (µs since the epoch) for timestamps users see. vDSO calls; any
 * thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

static inline uint64_t clock_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline uint64_t clock_mono_ms(void)
{
    return clock_mono_ns() / 1000000ULL;
}

static inline uint64_t clock_real_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

/* The UTC calendar time of us (µs since the epoch); false if out of range. */
static inline bool clock_utc(uint64_t us, struct tm *tm)
{
    time_t sec = (time_t)(us / 1000000);

    return gmtime_r(&sec, tm) != NULL;
}

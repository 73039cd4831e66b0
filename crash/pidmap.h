// SPDX-License-Identifier: MIT
/*
 * A map from pid to pid (the supervisor's traced threads -> their process;
 * processes the app started -> their parent), or to a 64-bit number
 * (process tracking's start times): a sorted array, binary search, insert
 * and remove by memmove. Not thread-safe: one owner.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pidmap_entry {
    pid_t key;
    uint64_t value;
};

struct pidmap {
    struct pidmap_entry *v;
    size_t n, cap;
};

/* Set key -> value. Returns 0, or -ENOMEM (the map is unchanged). */
int pidmap_set(struct pidmap *m, pid_t key, pid_t value);
/* Remove key; true (and *ret_value, if not NULL) if it was there. */
bool pidmap_del(struct pidmap *m, pid_t key, pid_t *ret_value);
/* The value of key, or def. */
pid_t pidmap_get(const struct pidmap *m, pid_t key, pid_t def);
/* Remove every entry whose value is value; returns how many. */
size_t pidmap_del_value(struct pidmap *m, pid_t value);
void pidmap_fini(struct pidmap *m);

/* The same with 64-bit values. */
int pidmap_set64(struct pidmap *m, pid_t key, uint64_t value);
bool pidmap_del64(struct pidmap *m, pid_t key, uint64_t *ret_value);
bool pidmap_has(const struct pidmap *m, pid_t key);

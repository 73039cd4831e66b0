// SPDX-License-Identifier: MIT
/*
 * A set of pids (the supervisor's traced threads): a sorted array, binary
 * search, insert and remove by memmove. Supervisor thread only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct pidset {
    pid_t *v;
    size_t n, cap;
};

/* Returns 0, or -ENOMEM (the set is unchanged). Adding a member is a no-op. */
int pidset_add(struct pidset *s, pid_t pid);
/* Returns true if pid was a member (and is no more). */
bool pidset_del(struct pidset *s, pid_t pid);
bool pidset_has(const struct pidset *s, pid_t pid);
void pidset_fini(struct pidset *s);

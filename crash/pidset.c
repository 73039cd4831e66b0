// SPDX-License-Identifier: MIT
/* See pidset.h. */
#include "pidset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The index of pid, or where it would go. */
static size_t find(const struct pidset *s, pid_t pid)
{
    size_t lo = 0, hi = s->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->v[mid] < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int pidset_add(struct pidset *s, pid_t pid)
{
    size_t i = find(s, pid);

    if (i < s->n && s->v[i] == pid)
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        pid_t *v = realloc(s->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof(*s->v));
    s->v[i] = pid;
    s->n++;
    return 0;
}

bool pidset_del(struct pidset *s, pid_t pid)
{
    size_t i = find(s, pid);

    if (i >= s->n || s->v[i] != pid)
        return false;
    memmove(s->v + i, s->v + i + 1, (s->n - i - 1) * sizeof(*s->v));
    s->n--;
    return true;
}

bool pidset_has(const struct pidset *s, pid_t pid)
{
    size_t i = find(s, pid);

    return i < s->n && s->v[i] == pid;
}

void pidset_fini(struct pidset *s)
{
    free(s->v);
    *s = (struct pidset){0};
}

// SPDX-License-Identifier: MIT
/* See pidmap.h. */
#include "pidmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The index of key, or where it would go. */
static size_t find(const struct pidmap *m, pid_t key)
{
    size_t lo = 0, hi = m->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->v[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int pidmap_set(struct pidmap *m, pid_t key, pid_t value)
{
    return pidmap_set64(m, key, (uint64_t)(int64_t)value);
}

int pidmap_set64(struct pidmap *m, pid_t key, uint64_t value)
{
    size_t i = find(m, key);

    if (i < m->n && m->v[i].key == key) {
        m->v[i].value = value;
        return 0;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        struct pidmap_entry *v = realloc(m->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        m->v = v;
        m->cap = cap;
    }
    memmove(m->v + i + 1, m->v + i, (m->n - i) * sizeof(*m->v));
    m->v[i] = (struct pidmap_entry){key, value};
    m->n++;
    return 0;
}

bool pidmap_del(struct pidmap *m, pid_t key, pid_t *ret_value)
{
    uint64_t v;
    bool is_there = pidmap_del64(m, key, &v);

    if (is_there && ret_value)
        *ret_value = (pid_t)(int64_t)v;
    return is_there;
}

bool pidmap_has(const struct pidmap *m, pid_t key)
{
    size_t i = find(m, key);

    return i < m->n && m->v[i].key == key;
}

bool pidmap_del64(struct pidmap *m, pid_t key, uint64_t *ret_value)
{
    size_t i = find(m, key);

    if (i >= m->n || m->v[i].key != key)
        return false;
    if (ret_value)
        *ret_value = m->v[i].value;
    memmove(m->v + i, m->v + i + 1, (m->n - i - 1) * sizeof(*m->v));
    m->n--;
    return true;
}

pid_t pidmap_get(const struct pidmap *m, pid_t key, pid_t def)
{
    size_t i = find(m, key);

    return i < m->n && m->v[i].key == key ? (pid_t)(int64_t)m->v[i].value : def;
}

size_t pidmap_del_value(struct pidmap *m, pid_t value)
{
    size_t kept = 0, n = m->n;

    for (size_t i = 0; i < n; i++)
        if (m->v[i].value != (uint64_t)(int64_t)value)
            m->v[kept++] = m->v[i];
    m->n = kept;
    return n - kept;
}

void pidmap_fini(struct pidmap *m)
{
    free(m->v);
    *m = (struct pidmap){0};
}

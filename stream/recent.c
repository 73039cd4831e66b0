// SPDX-License-Identifier: MIT
/*
 * See recent.h. One fixed array of slots, each a buffer grown to the
 * longest line it held (at most RECENT_LINE_MAX), so the steady state
 * allocates nothing; a line costs one lock and one memcpy.
 */
#include "recent.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    char *text;
    size_t len, cap;
    char tag;
};

struct recent {
    pthread_mutex_t lock;
    struct slot *slots;
    size_t n, next, used;
};

int recent_new(size_t n, struct recent **ret)
{
    struct recent *r = calloc(1, sizeof(*r));

    if (!r)
        return -ENOMEM;
    r->n = n;
    r->slots = n ? calloc(n, sizeof(*r->slots)) : NULL;
    if (n && !r->slots) {
        free(r);
        return -ENOMEM;
    }
    pthread_mutex_init(&r->lock, NULL);
    *ret = r;
    return 0;
}

struct recent *recent_free(struct recent *r)
{
    if (!r)
        return NULL;
    for (size_t i = 0; i < r->n; i++)
        free(r->slots[i].text);
    free(r->slots);
    pthread_mutex_destroy(&r->lock);
    free(r);
    return NULL;
}

void recent_push(struct recent *r, char tag, const char *text, size_t len)
{
    struct slot *s;

    if (!r || r->n == 0)
        return;
    if (len > RECENT_LINE_MAX)
        len = RECENT_LINE_MAX;
    pthread_mutex_lock(&r->lock);
    s = &r->slots[r->next];
    if (s->cap < len) {
        char *t = realloc(s->text, len);
        if (!t) {
            pthread_mutex_unlock(&r->lock);
            return;
        }
        s->text = t;
        s->cap = len;
    }
    if (len)
        memcpy(s->text, text, len);
    s->len = len;
    s->tag = tag;
    r->next = (r->next + 1) % r->n;
    if (r->used < r->n)
        r->used++;
    pthread_mutex_unlock(&r->lock);
}

static const char *tag_name(char tag)
{
    return tag == 'o' ? "out" : tag == 'e' ? "err" : "wrapp";
}

long recent_copy(struct recent *r, char ***ret)
{
    char **v;
    size_t start;
    long n;

    if (!r) {
        *ret = calloc(1, sizeof(char *));
        return *ret ? 0 : -ENOMEM;
    }
    pthread_mutex_lock(&r->lock);
    n = r->n ? (long)r->used : 0;
    start = r->n ? (r->next + r->n - r->used) % r->n : 0;
    v = calloc((size_t)n + 1, sizeof(*v));
    for (long i = 0; v && r->n && i < n; i++) {
        const struct slot *s = &r->slots[(start + (size_t)i) % r->n];
        if (asprintf(&v[i], "%s: %.*s", tag_name(s->tag), (int)s->len, s->text ? s->text : "") <
            0) {
            v[i] = NULL;
            n = -ENOMEM;
            break;
        }
    }
    pthread_mutex_unlock(&r->lock);
    if (!v)
        return -ENOMEM;
    if (n < 0) {
        for (size_t i = 0; v[i]; i++)
            free(v[i]);
        free(v);
        return n;
    }
    *ret = v;
    return n;
}

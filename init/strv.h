// SPDX-License-Identifier: MIT
/*
 * NULL-terminated string vectors (argv, envp): length, freeing, and the
 * value of a "KEY=VALUE" entry. Pure; any thread.
 */
#pragma once

#include <stdlib.h>
#include <string.h>

static inline size_t strv_len(char *const *v)
{
    size_t n = 0;

    while (v && v[n])
        n++;
    return n;
}

/* Free every string and the vector; takes NULL. */
static inline void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* The value of name in an environment vector, or NULL. */
static inline const char *strv_env_get(char *const *v, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; v && v[i]; i++)
        if (strncmp(v[i], name, n) == 0 && v[i][n] == '=')
            return v[i] + n + 1;
    return NULL;
}

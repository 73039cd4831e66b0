// SPDX-License-Identifier: MIT
/*
 * Freeing a crash record: everything crash.h marks as owned (strings,
 * vectors, the thread/map/module arrays and their strings). Both functions
 * leave the struct zeroed, so calling them twice is harmless. Pure; any
 * thread, but not in a signal handler (free).
 */
#include "crash.h"

#include "strv.h"

#include <stdlib.h>
#include <string.h>

static void frames_free(struct crash_frame *f, size_t n)
{
    for (size_t i = 0; f && i < n; i++) {
        free(f[i].symbol);
        free(f[i].module);
        free(f[i].build_id);
        free(f[i].file);
    }
    free(f);
}

void crash_thread_fini(struct crash_thread *t)
{
    if (!t)
        return;
    frames_free(t->frames, t->n_frames);
    memset(t, 0, sizeof(*t));
}

static void lines_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void crash_fini(struct crash *c)
{
    if (!c)
        return;
    free(c->exe);
    free(c->build_id);
    strv_free(c->argv);
    free(c->stream);
    free(c->hostname);
    for (size_t i = 0; c->threads && i < c->n_threads; i++)
        crash_thread_fini(&c->threads[i]);
    free(c->threads);
    for (size_t i = 0; c->maps && i < c->n_maps; i++)
        free(c->maps[i].path);
    free(c->maps);
    for (size_t i = 0; c->modules && i < c->n_modules; i++) {
        free(c->modules[i].path);
        free(c->modules[i].build_id);
    }
    free(c->modules);
    lines_free(c->last_lines, c->n_last_lines);
    memset(c, 0, sizeof(*c));
}

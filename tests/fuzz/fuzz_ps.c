// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for `wrapp ps`: the input, split at newlines, is a
 * run's process records; each goes to ps_add (0, -EINVAL or -ENOMEM, never
 * a crash), then the tree is printed, and every process must appear in it
 * once.
 */
#include "ps.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ps_run run = {.id = "1795402409934061"};
    const char *p = (const char *)data, *end = p + size;
    char *text = NULL;
    size_t text_len = 0, lines = 0;
    FILE *out;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        int r = ps_add(&run, p, n);
        if (r != 0 && r != -EINVAL && r != -ENOMEM)
            __builtin_trap();
        p += n + 1;
    }
    out = open_memstream(&text, &text_len);
    if (!out)
        return 0;
    ps_print(&run, out);
    fclose(out);
    for (size_t i = 0; i < text_len; i++)
        lines += text[i] == '\n';
    /* The heading, one line per process, and a note per cut subtree. */
    if (lines < run.n + 1)
        __builtin_trap();
    free(text);
    ps_run_fini(&run);
    return 0;
}

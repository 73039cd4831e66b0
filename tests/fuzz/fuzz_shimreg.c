// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for shim registration files: any bytes must give 0,
 * -EINVAL or -ENOMEM, never a crash, leak or sanitizer report; what parses
 * must format and parse back to the same fields. Run with -close_fd_mask=2.
 */
#include "shimreg.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const struct shimreg *r)
{
    struct shimreg back;
    char *text = NULL;

    if (shimreg_format(r, &text) != 0)
        return;
    shimreg_init(&back);
    if (shimreg_parse(&back, "fuzz.json", text, strlen(text)) != 0 ||
        strcmp(back.real, r->real) != 0 || back.n_append != r->n_append || back.log != r->log ||
        back.supervise != r->supervise || back.timeout_ms != r->timeout_ms)
        __builtin_trap();
    for (size_t i = 0; i < r->n_append; i++)
        if (strcmp(back.append[i], r->append[i]) != 0)
            __builtin_trap();
    shimreg_fini(&back);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct shimreg r;
    int ret;

    shimreg_init(&r);
    ret = shimreg_parse(&r, "fuzz.json", (const char *)data, size);
    if (ret != 0 && ret != -22 && ret != -12)
        __builtin_trap();
    if (ret == 0)
        round_trip(&r);
    shimreg_fini(&r);
    return 0;
}

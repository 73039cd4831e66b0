// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the config parser: any bytes must give 0 or
 * -EINVAL, never a crash, leak or sanitizer report. Run with
 * -close_fd_mask=2 so wrapp's diagnostics do not drown the fuzzer's.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config c;
    int r;

    config_init(&c);
    r = config_parse(&c, "fuzz.json", (const char *)data, size);
    if (r != 0 && r != -22 && r != -12)
        __builtin_trap();
    config_fini(&c);
    return 0;
}

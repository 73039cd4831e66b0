// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the seccomp policy: the input is the "rules"
 * array (JSON text; a first line starting with "default " sets the
 * default action). policy_load must return 0 or -EINVAL (or -ENOMEM), and
 * a policy it accepts must build into a filter or be refused with -EINVAL
 * by libseccomp, never crash.
 */
#include "config.h"
#include "filter.h"
#include "policy.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *rules, *nl;
    struct config_seccomp c = {0};
    struct policy p;
    struct filter f;
    int r;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    rules = text;
    if (strncmp(text, "default ", 8) == 0 && (nl = strchr(text, '\n'))) {
        *nl = '\0';
        c.default_action = text + 8;
        rules = nl + 1;
    }
    c.rules = rules;
    r = policy_load(&c, &p);
    if (r != 0 && r != -EINVAL && r != -ENOMEM)
        __builtin_trap();
    if (r == 0) {
        struct filter_spec spec = {.policy = &p, .trace_exec = true, .can_trace = true};
        r = filter_build(&spec, &f);
        if (r != 0 && r != -EINVAL && r != -ENOMEM)
            __builtin_trap();
        filter_fini(&f);
        policy_fini(&p);
    }
    free(text);
    return 0;
}

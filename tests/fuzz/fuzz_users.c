// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the passwd/group parser: the input is split at the
 * first NUL into passwd and group text, written to a private directory on
 * /dev/shm, and resolved for a few user specs. Must never crash or leak.
 */
#include "users.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/dev/shm/wrapp-fuzz-XXXXXX";

static void put(const char *name, const uint8_t *p, size_t n)
{
    char path[128];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        abort();
    if (n && write(fd, p, n) != (ssize_t)n)
        abort();
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const specs[] = {"root", "archer", "1000", "archer:video", "0:wheel"};
    const uint8_t *nul = memchr(data, 0, size);
    size_t n1 = nul ? (size_t)(nul - data) : size;

    if (dir[sizeof(dir) - 2] == 'X') {
        if (!mkdtemp(dir))
            abort();
    }
    put("passwd", data, n1);
    put("group", nul ? nul + 1 : data, nul ? size - n1 - 1 : 0);
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        struct users_ids ids;
        if (users_resolve(dir, specs[i], NULL, &ids) == 0)
            users_ids_fini(&ids);
    }
    return 0;
}

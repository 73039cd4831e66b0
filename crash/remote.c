// SPDX-License-Identifier: MIT
/* See remote.h. */
#include "remote.h"

#include <string.h>
#include <sys/uio.h>

#define PAGE 4096u

ssize_t remote_read(pid_t tid, uint64_t addr, void *buf, size_t len)
{
    struct iovec local = {buf, len};
    struct iovec remote = {(void *)(uintptr_t)addr, len}; /* NOLINT(performance-no-int-to-ptr) */

    return process_vm_readv(tid, &local, 1, &remote, 1, 0);
}

bool remote_read_str(pid_t tid, uint64_t addr, char *buf, size_t size)
{
    size_t len = 0;

    while (len + 1 < size) {
        size_t room = PAGE - (size_t)((addr + len) % PAGE), n;
        ssize_t got;
        if (room > size - 1 - len)
            room = size - 1 - len;
        got = remote_read(tid, addr + len, buf + len, room);
        if (got <= 0)
            break;
        n = strnlen(buf + len, (size_t)got);
        len += n;
        if (n < (size_t)got) {
            buf[len] = '\0';
            return true;
        }
    }
    buf[len] = '\0';
    return len > 0;
}

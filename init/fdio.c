// SPDX-License-Identifier: MIT
/*
 * Plain fd I/O helpers (see fdio.h). Files are opened O_CLOEXEC; buffers
 * grow geometrically up to the caller's cap.
 */
#include "fdio.h"

#include "macro.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fdio_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
    cleanup_close int fd = RETRY_EINTR(open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY));
    cleanup_free char *buf = NULL;
    size_t len = 0, cap = 0;

    if (fd < 0)
        return neg_errno();
    for (;;) {
        ssize_t n;
        if (len + 1 >= cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            char *nbuf;
            if (cap > max + 1)
                return -EFBIG;
            nbuf = realloc(buf, ncap);
            if (!nbuf)
                return -ENOMEM;
            buf = nbuf;
            cap = ncap;
        }
        n = RETRY_EINTR(read(fd, buf + len, cap - len - 1));
        if (n < 0)
            return neg_errno();
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > max)
            return -EFBIG;
    }
    buf[len] = '\0';
    *ret_buf = take_ptr(&buf);
    *ret_len = len;
    return 0;
}

ssize_t fdio_read_all(int fd, void *buf, size_t size)
{
    size_t got = 0;

    while (got < size) {
        ssize_t n = RETRY_EINTR(read(fd, (char *)buf + got, size - got));
        if (n < 0)
            return neg_errno();
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

int fdio_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = RETRY_EINTR(write(fd, p, len));
        if (n < 0)
            return neg_errno();
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

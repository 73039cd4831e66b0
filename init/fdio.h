// SPDX-License-Identifier: MIT
/*
 * Plain fd I/O helpers: whole-file reads with a size cap and complete
 * writes, retrying EINTR. No global state; any thread. fdio_write_all is
 * async-signal-safe (used between fork and exec).
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Read the whole file at path (at most max bytes) into a NUL-terminated
 * buffer. *ret_buf is owned by the caller. -EFBIG if larger than max. */
int fdio_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len);

/* Read fd until EOF into buf (at most size bytes); returns the count. */
ssize_t fdio_read_all(int fd, void *buf, size_t size);

/* Write all of buf; returns 0 or -errno. */
int fdio_write_all(int fd, const void *buf, size_t len);

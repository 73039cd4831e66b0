// SPDX-License-Identifier: MIT
/*
 * Reading a traced process's memory with process_vm_readv: a range, and a
 * NUL-terminated string. Any thread; nothing is kept.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Up to len bytes at addr of tid's memory into buf: the count read, or -1
 * (errno set). */
ssize_t remote_read(pid_t tid, uint64_t addr, void *buf, size_t len);

/* The string at addr, cut at size - 1 bytes, into buf (always
 * terminated); false when nothing could be read. Reads stop at page ends,
 * so a string just before an unmapped page is read whole. */
bool remote_read_str(pid_t tid, uint64_t addr, char *buf, size_t size);

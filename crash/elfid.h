// SPDX-License-Identifier: MIT
/*
 * What process tracking records of an ELF file: its GNU build-id and
 * whether it is dynamically linked (asks for an interpreter). Read with
 * libelf from the file's first pages; a small cache keyed by (device,
 * inode) makes the thousandth exec of the same binary cost one stat. Not
 * thread-safe: one cache per thread (the supervisor's).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define ELFID_HEX_MAX 129 /* a 64-byte build-id in hex, and the NUL */

struct elfid {
    bool is_elf;
    bool is_dynamic;              /* has PT_INTERP; false for static and static-pie */
    char build_id[ELFID_HEX_MAX]; /* hex, "" when there is none */
};

/* Fill *ret from the ELF file open on fd (not closed, offset unused).
 * A file that is not ELF gives 0 with is_elf false. Returns 0 or -errno. */
int elfid_read_fd(int fd, struct elfid *ret);

struct elfid_cache;

/* Returns NULL when out of memory (lookups then read every time). */
struct elfid_cache *elfid_cache_new(void);

/* Free; takes NULL, returns NULL. */
struct elfid_cache *elfid_cache_free(struct elfid_cache *c);

/* The identity of the file (dev, ino), opening path only when it is not
 * cached. NULL when path cannot be opened or read; the result is valid
 * until the next call. */
const struct elfid *elfid_lookup(struct elfid_cache *c, uint64_t dev, uint64_t ino,
                                 const char *path);

// SPDX-License-Identifier: MIT
/*
 * The notes of an ELF core (its PT_NOTE segment), in the kernel's order:
 * thread 0's NT_PRSTATUS, NT_PRPSINFO, NT_SIGINFO, NT_AUXV, NT_FILE,
 * thread 0's other register sets, then each other thread's NT_PRSTATUS
 * and register sets. Built in memory (bounded by CORENOTES_MAX) from
 * /proc and PTRACE_GETREGSET/GETSIGINFO; the threads must be
 * ptrace-stopped by the caller. Supervisor thread only; the encoding
 * helpers are pure and any thread may use them.
 */
#pragma once

#include "coremaps.h"
#include "crash.h"

#include <stddef.h>
#include <stdint.h>

#define CORENOTES_MAX      (64u << 20) /* notes beyond this: threads are left out */
#define CORENOTES_FILE_MAX (4u << 20)  /* the kernel's default NT_FILE cap; larger is dropped */

/* Notes packed as in a PT_NOTE segment (everything 4-byte aligned). */
struct corenotes {
    char *p;
    size_t len, cap;
};

/* Bytes one note takes: header, name with its NUL, desc, each padded to 4. */
size_t corenotes_size(const char *name, size_t descsz);

/* Append one note to n (growing it up to CORENOTES_MAX). Returns the
 * offset of its desc in n->p, -ENOMEM or -E2BIG. */
int corenotes_append(struct corenotes *n, const char *name, uint32_t type, const void *desc,
                     size_t descsz);

/* Free what n holds; n is left empty. Idempotent. */
void corenotes_fini(struct corenotes *n);

/* The NT_FILE note of m's file-backed mappings, in the kernel's format:
 * count, page size, count x {start, end, offset in pages}, then the
 * paths, NUL-terminated, in the same order. Returns 1 if appended, 0 if m
 * has no file mapping or the note would exceed CORENOTES_FILE_MAX, or
 * -errno. */
int corenotes_file(const struct coremaps *m, uint64_t page, struct corenotes *n);

/* Every note of crash c (c->pid, c->tid, c->sig, c->threads with
 * threads[0] the crashing one) into n (caller-owned, empty), m being its
 * mappings. Threads whose registers cannot be read are left out; *ret_threads
 * says how many went in. Returns 0, -ESRCH (the crashing thread's
 * registers are unreadable), -ENOMEM or -E2BIG (n is then partial). */
int corenotes_build(const struct crash *c, const struct coremaps *m, uint64_t page,
                    struct corenotes *n, size_t *ret_threads);

// SPDX-License-Identifier: MIT
/*
 * wrapp's own ELF core of a crashed process, written while every thread
 * is still ptrace-stopped: what gdb, eu-stack and eu-unstrip load like a
 * kernel core (same note order, same mapping rules), but next to the
 * report, whatever the host's core_pattern. Two steps because they need
 * different ids: core_prepare reads /proc (with the app's fsuid) and the
 * registers, core_write creates the file (with wrapp's own). The core is
 * streamed in CORE_CHUNK pieces and sparse (untouched and zero pages are
 * holes); only the notes are held in memory. Supervisor thread only.
 */
#pragma once

#include "coremaps.h"
#include "corenotes.h"
#include "crash.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CORE_FILE_NAME "core"
#define CORE_CHUNK     (1u << 20) /* memory read and written per step */
#define CORE_SMAPS_MAX (256u << 20)

/* What core_write did. */
struct core_result {
    uint64_t size;      /* apparent size of the file */
    uint64_t allocated; /* bytes the file system allocated (st_blocks) */
    uint64_t ms;        /* core_prepare to the end of core_write */
    size_t n_threads;   /* NT_PRSTATUS notes */
    size_t n_maps;      /* PT_LOAD segments */
    bool is_truncated;  /* max_bytes or a full disk cut memory out */
};

struct core;

/* Read what the core of crash c needs: c->pid's maps (smaps), auxv,
 * coredump_filter, stat/status/cmdline, and every thread's registers in
 * c->threads order (threads[0] is the crashing one, in its
 * signal-delivery-stop; all must be ptrace-stopped by the caller). Opens
 * /proc/PID/mem and pagemap for core_write: call it with the fsuid that
 * may read the app's /proc. c is borrowed for this call only. *ret
 * (returns owned, core_free) is written only on success. Returns 0,
 * -ESRCH (the crashing thread's registers cannot be read), -ENOENT (the
 * process is gone), -ENOMEM, or the -errno of reading smaps. */
int core_prepare(const struct crash *c, struct core **ret);

/* Write k as dir/CORE_FILE_NAME (0600, created exclusively). The file
 * never grows past max_bytes (0: no limit) beyond its headers and notes:
 * the largest mappings are cut first, so a cut keeps stacks and small
 * mappings; a cut or a full disk leaves a consistent file whose p_filesz
 * says what is there, and sets ret->is_truncated. *ret is written on
 * success. Returns 0, or -errno when not even the headers and notes could
 * be written (the file is then removed). */
int core_write(struct core *k, const char *dir, uint64_t max_bytes, struct core_result *ret);

/* Free k (NULL is fine); returns NULL. */
struct core *core_free(struct core *k);

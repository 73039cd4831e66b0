// SPDX-License-Identifier: MIT
/*
 * Which mappings an ELF core holds, and how much of each: /proc/PID/smaps
 * and coredump_filter parsed, and the kernel's rules (vma_dump_size)
 * applied to what they say. Pure text in, plain data out: no /proc access
 * here (core.c reads the files), so the rules are tested on fabricated
 * text. Any thread; odd or truncated text gives an error or fewer
 * mappings, never a crash.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COREMAPS_MAX            (1u << 20) /* mappings kept (vm.max_map_count is 65530) */
#define COREMAPS_FILTER_DEFAULT 0x33u      /* the kernel's default coredump_filter */

/* coredump_filter bits (man 5 core). */
enum coremaps_filter {
    COREMAPS_ANON_PRIVATE = 1u << 0,
    COREMAPS_ANON_SHARED = 1u << 1,
    COREMAPS_FILE_PRIVATE = 1u << 2,
    COREMAPS_FILE_SHARED = 1u << 3,
    COREMAPS_ELF_HEADERS = 1u << 4,
    COREMAPS_HUGETLB_PRIVATE = 1u << 5,
    COREMAPS_HUGETLB_SHARED = 1u << 6,
};

/* smaps VmFlags that decide dumping. */
enum coremaps_vmflag {
    COREMAPS_VM_DONTDUMP = 1u << 0, /* dd: madvise(MADV_DONTDUMP) */
    COREMAPS_VM_IO = 1u << 1,       /* io: device memory */
    COREMAPS_VM_SHARED = 1u << 2,   /* sh: writable shared */
    COREMAPS_VM_HUGETLB = 1u << 3,  /* ht */
};

struct coremaps_map {
    uint64_t start, end;
    uint64_t offset; /* in the file, bytes */
    char perms[5];   /* "r-xp" */
    char *path;      /* NULL: anonymous; "[heap]", "/lib/x (deleted)" kept as is */
    unsigned vmflags;
    uint64_t anon_kb; /* Anonymous: pages this mapping owns (written or COW'd) */
    uint64_t swap_kb; /* Swap: */
};

struct coremaps {
    struct coremaps_map *v;
    size_t n, cap;
};

/* What a mapping contributes to the core. */
enum coremaps_dump {
    COREMAPS_NONE,   /* a PT_LOAD with p_filesz 0 */
    COREMAPS_WHOLE,  /* all of it */
    COREMAPS_HEADER, /* its first page if it starts with "\x7fELF", else nothing */
};

/* Parse /proc/PID/smaps text (len bytes, need not be NUL-terminated) into
 * m (caller-owned, empty or from coremaps_fini). Mappings stay in the
 * text's (address) order; lines that do not parse are skipped, as is
 * everything after COREMAPS_MAX mappings. Returns the number of mappings,
 * or -ENOMEM (m keeps what was parsed; coremaps_fini frees it). */
int coremaps_parse_smaps(const char *text, size_t len, struct coremaps *m);

/* Free what m holds; m is left empty. Idempotent. */
void coremaps_fini(struct coremaps *m);

/* /proc/PID/coredump_filter text ("00000033\n") -> bits; -EINVAL. */
int coremaps_parse_filter(const char *text, size_t len, unsigned *ret);

/* The kernel's rule for one mapping under filter (first match wins): the
 * special mappings ([vdso], [uprobes]...) whole, [vvar] and [vsyscall]
 * never (their contents cannot be read); dd -> none; hugetlb by bits 5/6;
 * io -> none; shared by bit 1 (no file, or a deleted one) or bit 3;
 * private with anonymous pages by bit 0; anonymous otherwise none;
 * file-private by bit 2; else the ELF header page by bit 4. */
enum coremaps_dump coremaps_rule(const struct coremaps_map *m, unsigned filter);

/* Backed by a file (its path starts with '/'): listed in NT_FILE, and its
 * untouched pages still have contents. */
bool coremaps_is_file(const struct coremaps_map *m);

/* Private anonymous memory (no name, [heap], [stack], [anon:NAME]): its
 * pages that are neither present nor swapped were never written and read
 * as zeros, so pagemap may skip them. */
bool coremaps_is_anon_private(const struct coremaps_map *m);

// SPDX-License-Identifier: MIT
/*
 * See mem.h. The bounds come from the linker: __executable_start is the
 * first byte of the image and etext the end of .text; both lie in the
 * read-only, executable segment of the static binary (and of a PIE dev
 * build), which holds no data.
 */
#include "mem.h"

#include "macro.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

/* Defined by the linker, hence the reserved name. */
extern char __executable_start[], etext[]; // NOLINT(bugprone-reserved-identifier)

int mem_release_text(void)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t first = (uintptr_t)__executable_start & ~(page - 1);
    uintptr_t last = (uintptr_t)etext & ~(page - 1); /* never past the text */
    char *start = __executable_start - ((uintptr_t)__executable_start - first);

    if (last <= first)
        return 0;
    return madvise(start, last - first, MADV_DONTNEED) < 0 ? neg_errno() : 0;
}

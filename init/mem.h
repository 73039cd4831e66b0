// SPDX-License-Identifier: MIT
/*
 * wrapp's own memory footprint. An init sits idle for the life of the
 * container; the code it ran once at start-up (glibc's start-up, option and
 * config parsing, spawning) need not stay mapped. Main thread only.
 */
#pragma once

/* Unmap wrapp's own program text from its page tables (MADV_DONTNEED on
 * the read-only, executable file mapping: the pages stay in the page cache
 * and fault back in, minor faults, when code runs again). Only the text:
 * writable or relocated data is never touched. Returns 0 or -errno. */
int mem_release_text(void);

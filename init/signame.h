// SPDX-License-Identifier: MIT
/*
 * Signal names <-> numbers, independent of libc's tables: "SIGTERM",
 * "TERM", "15", "SIGRTMIN+3", "RTMAX-1" (kernel numbering, 1..64).
 * Pure functions; any thread; signame_name is async-signal-safe.
 */
#pragma once

#define SIGNAME_MAX   64 /* highest signal number the kernel knows */
#define SIGNAME_RTMIN 32 /* kernel SIGRTMIN (glibc reserves 32..34) */

/* Returns the signal number (1..64) or -EINVAL. Case-insensitive. */
int signame_parse(const char *s);

/* "SIGTERM", "SIGRTMIN+3"...; written into buf (>= 16 bytes) for RT
 * signals; "SIG?" style "SIG<n>" for unknown numbers. */
const char *signame_name(int sig, char *buf);

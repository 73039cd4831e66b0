// SPDX-License-Identifier: MIT
/*
 * What /proc says about a crashing process: its executable, argv, parent,
 * age, memory map, threads and their names and states, which signals it
 * handles, and what a siginfo si_code means. It only reads; stopping the
 * process (so that /proc holds still) is the caller's job. Called by the
 * supervisor thread, never from a signal handler. Odd or truncated /proc
 * content gives an error or a shorter result, never a crash.
 */
#pragma once

#include "crash.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PROCINFO_MAPS_MAX 4096  /* /proc/PID/maps lines kept; the rest are dropped */
#define PROCINFO_TIDS_MAX 32768 /* threads listed; the rest are dropped */

/* Fill c->exe, c->argv, c->ppid, c->uptime_s, c->hostname, c->maps and
 * c->n_maps for pid (other members are left alone; old values of these
 * are freed first). Every item is tried even when one fails: the items
 * that could not be read stay NULL/0. Returns 0, or the first -errno
 * (-ENOENT/-ESRCH: the process is gone, -EACCES, -ENOMEM, -EINVAL for
 * unparsable content). Everything stored is owned by c (crash_fini). */
int procinfo_fill(pid_t pid, struct crash *c);

/* Fill t->tid, t->comm (newline stripped) and t->state from
 * /proc/PID/task/TID/{comm,stat}. Returns 0 or -errno (t->comm and
 * t->state are then empty/0). */
int procinfo_thread(pid_t pid, pid_t tid, struct crash_thread *t);

/* The thread ids of pid in ascending order, at most PROCINFO_TIDS_MAX.
 * *ret (returns owned, free()) and *n are written only on success.
 * Returns 0 or -errno. */
int procinfo_tids(pid_t pid, pid_t **ret, size_t *n);

/* Does pid have a handler installed for sig (its SigCgt bit)? false when
 * it does not, when sig is out of 1..64, or when /proc cannot be read. */
bool procinfo_handles(pid_t pid, int sig);

/* A number from /proc/PID/status: the field key ("Tgid", "TracerPid"...)
 * in base 10 or 16; def when the process or the field is not there. */
long long procinfo_status_field(pid_t pid, const char *key, int base, long long def);

/* The name of a siginfo si_code for sig ("SEGV_MAPERR", "SI_USER"...),
 * and in *meaning (when meaning is not NULL) a short explanation
 * ("address not mapped to object"). Static strings. Unknown codes return
 * NULL and set *meaning to NULL: print the number instead. Pure; any
 * thread. */
const char *procinfo_si_code_name(int sig, int code, const char **meaning);

/* Parse one /proc/PID/maps line of len bytes (not NUL-terminated; a
 * trailing '\n' is allowed): "start-end perms offset dev inode [path]".
 * On success fills *m (m->path returns owned, NULL for an anonymous
 * mapping; "[heap]", "[stack]"... are kept as paths). Returns 0, -EINVAL
 * for a malformed line (m untouched) or -ENOMEM. */
int procinfo_parse_maps_line(const char *line, size_t len, struct crash_map *m);

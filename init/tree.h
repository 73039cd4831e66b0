// SPDX-License-Identifier: MIT
/*
 * Signalling every process wrapp is responsible for. As PID 1 that is the
 * whole pid namespace (kill(-1), which spares the caller); otherwise it is
 * wrapp's descendants, found by walking /proc's parent links (as a
 * subreaper, orphans are reparented to wrapp, so they stay descendants).
 * Main thread only.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Send sig to every process in wrapp's care. Returns the number of
 * processes signalled (as PID 1: 1 if any was), or -errno. */
int tree_signal(int sig, bool is_pid1);

/* Exposed for tests: the pids below root (excluding root), from
 * proc_dir (normally "/proc"). *ret owned by the caller. */
int tree_descendants(const char *proc_dir, pid_t root, pid_t **ret, size_t *ret_n);

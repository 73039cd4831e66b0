// SPDX-License-Identifier: MIT
/*
 * Reaping: collects every exited child (the app and every orphan the
 * kernel reparents to wrapp) with waitpid(-1, WNOHANG) until none is left,
 * so coalesced SIGCHLDs never leave a zombie. Records the app's status.
 * Main thread only. With the crash supervisor on, its thread waits for
 * children instead and hands each exit to reap_record().
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct reap {
    pid_t main_pid; /* the app */
    bool has_main_exited;
    int main_status;   /* wait status of the app */
    bool warn_on_reap; /* -w: a warning for each reaped orphan */
    unsigned long n_orphans;
};

/* Reap all exited children. Returns 1 when wrapp has no child left
 * (ECHILD), 0 when some are still running, -errno on other errors. */
int reap_all(struct reap *r);

/* One exit, reaped elsewhere (by the crash supervisor's thread). */
void reap_record(struct reap *r, pid_t pid, int status);

/* The init convention: exit code, or 128+signal when killed. */
int reap_exit_code(int status);

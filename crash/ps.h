// SPDX-License-Identifier: MIT
/*
 * `wrapp ps`: the process tree of a run, after the fact, from the process
 * tracking records in Redis (logs:app:<stream>:proc, written when
 * track.enabled). Like pstree, with each process's command line (and the
 * programs it exec'd next), exit code or signal, wall time, and failed
 * execs. An operator command: it runs instead of the init and exits.
 */
#pragma once

#include "pidmap.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define PS_CMD_MAX 160 /* bytes of a command line shown; longer ones end in "..." */

/* One process of a run, as its records tell it. */
struct ps_proc {
    pid_t pid, ppid;   /* ppid 0: unknown */
    uint64_t first_us; /* the time of its first record */
    char cmd[PS_CMD_MAX];
    int n_execs;
    bool has_exit, is_signal, has_core, has_duration;
    int code;        /* exit code */
    char signal[16]; /* "SIGKILL" */
    uint64_t duration_us;
    char failed[PS_CMD_MAX]; /* "ENOENT /bin/x" when its last exec failed */
};

/* The processes of one run, in the order they were first seen. */
struct ps_run {
    char id[32]; /* the records' run field */
    struct ps_proc *v;
    size_t n, cap;
    struct pidmap latest; /* pid -> 1 + index of the newest process with it */
};

/* Take one record (the json field of a :proc entry, len bytes) into run.
 * Returns 0, -EINVAL (not a record: skipped) or -ENOMEM. */
int ps_add(struct ps_run *run, const char *json, size_t len);

/* Print run's tree to out as text. */
void ps_print(const struct ps_run *run, FILE *out);

void ps_run_fini(struct ps_run *run);

/* argv[0] is "ps"; argv borrowed. Returns the exit status: 0, 1 (Redis
 * unreachable, no records) or 2 (usage). */
int ps_main(int argc, char **argv);

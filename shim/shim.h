// SPDX-License-Identifier: MIT
/*
 * Shim mode: wrapp installed in place of a tool (see shiminstall.h) runs the
 * real binary transparently. Detection is explicit: only a registration
 * file next to the running binary (/proc/self/exe) makes wrapp a shim, so
 * wrapp copied or linked as tini/docker-init stays an init. Main thread,
 * first thing in main, before any signal set-up.
 */
#pragma once

#include <stdnoreturn.h>

/* Called first in main with main's arguments (borrowed). If wrapp runs as a
 * registered shim, run the real binary: with nothing that needs a parent
 * this is an execve and never returns; otherwise returns the exit status
 * to exit with (a tool killed by a signal makes the shim die of it, so
 * this returns only for exits). If argv[1] is "shim", runs the shim
 * subcommands. Otherwise returns -ENOENT: go on as an init. Costs a normal
 * start one readlink and one failed open. */
int shim_main(int argc, char **argv);

/* End this process the way status (a wait status) says: _exit with its
 * code, or death by its signal (with no core dump of the shim itself: the
 * tool's own core, if any, was already written). */
noreturn void shim_exit_like(int status);

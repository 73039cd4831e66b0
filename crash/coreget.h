// SPDX-License-Identifier: MIT
/*
 * `wrapp core get`: fetch a crash's core that wrapp stored in Redis (see
 * coreup.h), decompress it to a file and check its size and SHA-256. An
 * operator command: it runs instead of the init, in the main thread, and
 * exits. It only reads Redis; the file is written beside its final name
 * and renamed into place once it checks out, so a bad core never lands.
 */
#pragma once

#define COREGET_EXIT_FAILED 1 /* Redis unreachable, no such core, corrupt core */
#define COREGET_EXIT_USAGE  2

/* argv[0] is "core"; argv is borrowed. One line to stdout on success,
 * one-line errors to stderr. Returns the process exit status: 0,
 * COREGET_EXIT_FAILED or COREGET_EXIT_USAGE. */
int coreget_main(int argc, char **argv);

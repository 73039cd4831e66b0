// SPDX-License-Identifier: MIT
/*
 * `wrapp shim install|uninstall|list`: registering wrapp as a shim for a
 * tool, and undoing it exactly. Install keeps the tool's inode (the real
 * binary, or the symlink itself, is hard-linked to `.TOOL.wrapp-real`, then
 * a copy of wrapp renamed over TOOL: at every instant TOOL runs either the
 * real binary or a working shim), checks `TOOL --version` through the shim
 * against the real binary and rolls back on any failure. Uninstall renames
 * the real binary back, so inode, mode, owner, times and symlink target are
 * the original's. Operator command: main thread, no signal set-up.
 */
#pragma once

/* Exit status: 1 tried and rolled back (or could not undo); 2 usage, or
 * refused with nothing done (missing, already a shim, read-only). */
#define SHIMINSTALL_EXIT_FAILED  1
#define SHIMINSTALL_EXIT_REFUSED 2

/* argv[0] is "shim". Returns the exit status. */
int shiminstall_main(int argc, char **argv);

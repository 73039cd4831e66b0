// SPDX-License-Identifier: MIT
/*
 * `wrapp logs`: print an app's output stream from Redis the way
 * `podman logs` would (stdout lines to stdout, stderr lines to stderr),
 * optionally following it with XREAD BLOCK. An operator command: it runs
 * instead of the init, in the main thread, and exits.
 */
#pragma once

/* argv[0] is "logs". Returns the process exit status (0, 1 on a Redis
 * error, 2 on bad usage). */
int tail_main(int argc, char **argv);

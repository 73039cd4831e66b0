// SPDX-License-Identifier: MIT
/*
 * The control socket: a unix socket on which a running wrapp takes
 * operator commands ("snapshot [core] [pid N]"), one line in, one line
 * out, from root or the app's user only (peer credentials). Served on the
 * main loop; the snapshot itself is the supervisor's (trace_request).
 * Also the client side, `wrapp snapshot`. Main thread only.
 */
#pragma once

#include "loop.h"
#include "trace.h"

#include <stdbool.h>
#include <sys/types.h>

#define CONTROL_PATH     "/run/wrapp/control.sock"
#define CONTROL_LINE_MAX 256

struct control;

/* The command grammar, for every way in: "snapshot [core] [pid N]" -> r
 * (line is cut up); false for anything else. */
bool control_parse(char *line, struct trace_request *r);

/* Listen on path (NULL: WRAPP_CONTROL or CONTROL_PATH) for the app run by
 * uid. A path another live wrapp holds is left alone (-EADDRINUSE).
 * Returns 0 or -errno; the caller logs at debug level and goes on. */
int control_start(struct loop *l, struct trace *t, uid_t app_uid, const char *path,
                  struct control **ret);

/* Stop listening, remove the socket. Takes NULL. */
struct control *control_stop(struct control *c);

/* `wrapp snapshot [--core] [--pid N] [--socket PATH]` (argv[0] is
 * "snapshot"): through the socket, or, with --pid and no wrapp answering,
 * by seizing the process itself (a sidecar sharing the pid namespace).
 * Returns the exit status: 0, 1 (failed), 2 (usage). */
int control_main(int argc, char **argv);

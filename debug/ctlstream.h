// SPDX-License-Identifier: MIT
/*
 * Operator commands through Redis, for operators without a shell in the
 * container: a thread of its own reads the stream wrapp:<stream>:control in
 * DB 5 (the Go wrapp's "configuration and control" database) on its own
 * connection, takes the commands of the control socket's grammar (field
 * "command": "snapshot", "snapshot core"), and acknowledges each on
 * :status; anything else gets one line on :error and nothing happens.
 */
#pragma once

#include "config.h"
#include "trace.h"

#define CTLSTREAM_DB       5
#define CTLSTREAM_BLOCK_MS 500   /* XREAD BLOCK: also how soon it sees a stop */
#define CTLSTREAM_WAIT_MS  60000 /* for a snapshot's outcome */

struct ctlstream;

/* Start the thread; stream is the app's stream name. 0 or -errno. */
int ctlstream_start(const struct config *cfg, struct trace *t, const char *stream,
                    struct ctlstream **ret);

/* End the thread: its blocked read is cut short; one still connecting
 * is left to end with wrapp (at most 200 ms are spent here). Takes NULL. */
void ctlstream_stop(struct ctlstream *c);

// SPDX-License-Identifier: MIT
/*
 * Capturing the app's stdout and stderr: one pipe each, read in the main
 * loop at the app's speed (never blocked by Redis), copied through to
 * wrapp's own stdout/stderr (so podman/kubectl logs still show them), and
 * split into lines, markers and blocks (lines, marker) that go to the sink.
 * Each stream has its own line and block state. Main thread only.
 */
#pragma once

#include "config.h"
#include "loop.h"
#include "sink.h"

#include <stdbool.h>

#define CAPTURE_READ_MAX  ((size_t)64 * 1024) /* bytes per read(2) */
#define CAPTURE_PIPE_SIZE (1u << 20)          /* asked of the kernel to absorb bursts */

struct capture;
struct recent;

/* Make the pipes and the per-stream state. sink is borrowed. */
int capture_new(const struct config *cfg, struct sink *sink, struct capture **ret);
struct capture *capture_free(struct capture *c);

/* The app's last lines (for crash reports; any thread may copy them). */
struct recent *capture_recent(const struct capture *c);

/* Any thread: wait (up to timeout_ms) until the main loop has read and
 * kept every byte waiting in the pipes, e.g. what a crashed app wrote just
 * before its crash. Returns false on timeout. */
bool capture_settle(struct capture *c, unsigned timeout_ms);

/* The write ends the child must dup onto fds 1 and 2 (CLOEXEC). */
void capture_child_fds(const struct capture *c, int *ret_out, int *ret_err);

/* After the child started: close the write ends here and watch the read
 * ends on the loop. */
int capture_start(struct capture *c, struct loop *l);

/* Read whatever is left without blocking, then flush the unterminated last
 * line and any open block of each stream. */
void capture_drain(struct capture *c);

/* Are both streams at EOF? */
bool capture_is_done(const struct capture *c);

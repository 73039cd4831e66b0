// SPDX-License-Identifier: MIT
/*
 * Stack traces of a stopped process: every thread's frames (libunwind-ptrace,
 * libdw, or a stack scan when both lack unwind information), each named by
 * libdw with symbol, file:line, module, offset and build-id; and the list of
 * modules. Reads the app's memory, never writes it, and never contacts a
 * debuginfod server. Called only from the supervisor thread, which must be
 * the tracer of every thread it passes in.
 */
#pragma once

#include "crash.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct unwinder;

/* Prepare to unwind process pid (a tgid): reads its maps and modules once.
 * Every thread later passed to unwind_thread must be in a ptrace-stop of
 * the calling thread (seized and PTRACE_INTERRUPTed, or stopped by a
 * signal). On success *ret is owned by the caller (unwind_close).
 * has_system_lines: also take file:line from separate debug files (the
 * -dbg packages); names come from them either way.
 * Returns 0, -ENOMEM, or -ESRCH (no such process / maps unreadable). */
int unwind_open(pid_t pid, bool has_system_lines, struct unwinder **ret);

/* Fill t's regs, frames (at most max_frames, malloc'd; replaces any frames
 * t had), n_frames, is_truncated (depth cap hit or a loop cut),
 * unwind_error (static text or NULL) and unwinder ("libunwind" or
 * "libdw"). Frame 0 is the thread's pc; callers are return addresses,
 * named by the call site (pc - 1). A bad stack ends the walk, keeping the
 * frames found so far. Returns 0; -EINVAL (max_frames 0), -ENOMEM, or the
 * error reading the registers (-ESRCH: tid not stopped by us), in which
 * case t has no frames and unwind_error says why. */
int unwind_thread(struct unwinder *u, pid_t tid, size_t max_frames, struct crash_thread *t);

/* Set c->modules / c->n_modules (freeing any there) to the process's
 * modules: the file-backed ELF objects, with path, build-id hex (loading
 * each ELF header if need be) and lowest mapped address; c owns them.
 * Returns the number of modules, or -ENOMEM / -EIO (then c holds those
 * found so far). */
int unwind_modules(struct unwinder *u, struct crash *c);

/* Free everything; takes NULL. Leaves the threads stopped. */
void unwind_close(struct unwinder *u);

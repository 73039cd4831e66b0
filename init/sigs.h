// SPDX-License-Identifier: MIT
/*
 * wrapp's signal state. sigs_setup() runs first in main, before any thread:
 * it records the mask and ignored signals wrapp was started with, blocks
 * every signal it acts on (1..64 through the raw syscall, so glibc's
 * reserved 32/33 cannot kill an init that is not PID 1) and opens the
 * signalfd they are read from. Fault signals keep wrapp's fatal handler.
 * sigs_child_restore() is async-signal-safe, for the child after fork.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct sigs {
    uint64_t orig_mask;    /* kernel mask wrapp was started with */
    uint64_t orig_ignored; /* signals that were SIG_IGN at start */
    uint64_t changed;      /* dispositions wrapp changed (restored in the child) */
    uint64_t blocked;      /* what wrapp blocks and reads from the signalfd */
    int fd;                /* the signalfd, CLOEXEC, blocking */
};

#define SIGS_BIT(sig) (1ULL << ((sig)-1))

/* Save, block, open the signalfd, install the fatal handler. Returns 0 or
 * -errno (only before the app starts, so main may exit). */
int sigs_setup(struct sigs *s);

/* Close the signalfd. */
void sigs_fini(struct sigs *s);

/* Where a fault signal sent with kill() to wrapp is forwarded (0 = none,
 * negative = a process group). Written by the main thread, read by the
 * fatal handler. */
void sigs_set_forward_target(pid_t target);

/* Stop (or resume) reading SIGCHLD from the signalfd: with the crash
 * supervisor every ptrace stop sends wrapp a SIGCHLD, which the main
 * thread does not need; left blocked and unread, it costs nothing.
 * Returns 0 or -errno. */
int sigs_watch_children(struct sigs *s, bool on);

/* In the child, after fork: restore dispositions wrapp changed and the
 * original mask, so the app starts as if wrapp were not there. */
void sigs_child_restore(const struct sigs *s);

#define SIGS_BATCH 16

struct sigs_event {
    int sig;
    pid_t pid; /* sender, 0 if outside wrapp's pid namespace or the kernel */
    int code;  /* si_code: SI_USER, SI_KERNEL... */
};

/* Wait up to timeout_ms (-1: no limit) for one blocked signal and take it
 * (rt_sigtimedwait: the same pending set the signalfd reads, one syscall).
 * Returns 1 with *ret filled, 0 on timeout or interruption, or -errno. */
int sigs_wait(const struct sigs *s, struct sigs_event *ret, int timeout_ms);

/* Read up to SIGS_BATCH pending signals in one read(2), waiting for one if
 * none is pending. Returns how many, or -errno. Signals left pending keep
 * the fd readable, so a level-triggered loop comes back for them. */
int sigs_read(const struct sigs *s, struct sigs_event *ret, size_t max);

/* Is sig one wrapp passes on to the app (every catchable signal except
 * CHLD, the fault signals and TTIN/TTOU)? */
bool sigs_is_forwardable(int sig);

/* A helper thread's wake-up signal (SIGS_WAKE): handled (no SA_RESTART, so
 * a blocking syscall returns EINTR) and unblocked in the calling thread
 * only. Sent by wrapp (tgkill) it only wakes; sent by anyone else it is
 * forwarded to the app like any signal. Returns 0 or -errno. */
#define SIGS_WAKE 64
int sigs_wake_install(int sig);

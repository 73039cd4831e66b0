// SPDX-License-Identifier: MIT
/*
 * What wrapp learns about a crash: the signal, the process, every thread's
 * registers and frames, the modules, the app's last lines. Filled by the
 * supervisor (trace), the unwinder (unwind) and procinfo; turned into JSON
 * and text by report. Plain data: every pointer is owned by the struct and
 * freed by crash_fini.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CRASH_REGS_MAX   40  /* general registers per thread (x86_64: 27, aarch64: 34) */
#define CRASH_FRAMES_MAX 256 /* default depth cap per thread */

struct crash_frame {
    uint64_t pc; /* frame 0: the faulting pc; callers: the return address */
    uint64_t sp;
    char *symbol;        /* demangled when possible; NULL: unknown */
    uint64_t sym_off;    /* pc - symbol start */
    char *module;        /* path of the mapped file; NULL: anonymous/unknown */
    char *build_id;      /* hex of the module's GNU build-id; NULL: none */
    uint64_t module_off; /* pc relative to the module's load bias (what addr2line -e takes) */
    char *file;          /* source file, NULL: no debug info */
    int line;            /* 0: unknown */
};

struct crash_regs {
    size_t n;
    const char *const *names; /* static, from arch */
    uint64_t v[CRASH_REGS_MAX];
};

struct crash_thread {
    pid_t tid;
    char comm[17]; /* /proc/PID/task/TID/comm */
    char state;    /* R, S, D, T... from /proc before the stop; 0: unknown */
    bool is_crashing;
    struct crash_regs regs;
    struct crash_frame *frames;
    size_t n_frames;
    bool is_truncated;        /* depth cap hit or a loop was cut */
    const char *unwind_error; /* static text, NULL: none */
    const char *unwinder;     /* "libunwind" or "libdw" (the fallback) */
};

struct crash_map {
    uint64_t start, end, offset;
    char perms[5]; /* "r-xp" */
    uint64_t dev;  /* makedev(major, minor) of the file's device; 0: none */
    uint64_t inode;
    char *path; /* NULL: anonymous */
};

struct crash_module {
    char *path;
    char *build_id; /* hex, NULL: none */
    uint64_t base;  /* lowest mapped address */
};

struct crash {
    bool is_snapshot; /* a live snapshot on request, not a crash: no signal */
    pid_t pid;        /* the crashing process (tgid) */
    pid_t tid;        /* the thread that got the signal */
    pid_t ppid;
    int sig;
    int si_code;
    int si_errno;
    pid_t sender_pid; /* for SI_USER/SI_TKILL/SI_QUEUE: si_pid (si_pid is a macro) */
    uid_t sender_uid;
    uint64_t addr;    /* si_addr for SEGV/BUS/ILL/FPE/TRAP */
    uint64_t time_us; /* wall clock (µs since the epoch) when the signal was caught */
    double uptime_s;  /* process age at the crash */
    char *exe;        /* /proc/PID/exe */
    char *build_id;   /* the exe's build-id, hex */
    char **argv;      /* NULL-terminated */
    char *stream;     /* the Redis stream name; NULL without Redis */
    char *hostname;
    struct crash_thread *threads; /* crashing thread first */
    size_t n_threads;
    struct crash_map *maps;
    size_t n_maps;
    struct crash_module *modules;
    size_t n_modules;
    char **last_lines; /* oldest first, each "out: text" / "err: text" */
    size_t n_last_lines;
    /* The ELF core next to the report, once written (has_core). */
    bool has_core;
    bool is_core_truncated; /* crash.core_max_bytes or a full disk cut it */
    uint64_t core_size, core_allocated, core_ms;
    /* How long the capture took, in µs: stopping every thread, unwinding,
     * and everything from the signal to the finished report. */
    uint64_t stop_us, unwind_us, total_us;
};

void crash_fini(struct crash *c);
void crash_thread_fini(struct crash_thread *t);

// SPDX-License-Identifier: MIT
/*
 * The binary layouts of an ELF core's notes, as fixed-width structs for
 * both architectures wrapp supports, so that each is checked by
 * _Static_assert on any host (the sizes and offsets below were measured
 * against glibc's <sys/procfs.h> and the kernel's regsets). Pure data: no
 * functions, no state. Used by core.c and the arch_<name>.c files.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Note types that <elf.h> of older libcs may lack. */
#define CORE_NT_SIGINFO      0x53494749u
#define CORE_NT_FILE         0x46494c45u
#define CORE_NT_X86_XSTATE   0x202u
#define CORE_NT_ARM_TLS      0x401u
#define CORE_NT_ARM_HW_BREAK 0x402u
#define CORE_NT_ARM_HW_WATCH 0x403u
#define CORE_NT_ARM_SYSCALL  0x404u
#define CORE_NT_ARM_SVE      0x405u
#define CORE_NT_ARM_PAC_MASK 0x406u
#define CORE_NT_ARM_TAGGED   0x409u
#define CORE_NT_ARM_SSVE     0x40bu
#define CORE_NT_ARM_ZA       0x40cu
#define CORE_NT_ARM_ZT       0x40du
#define CORE_NT_ARM_FPMR     0x40eu

#define CORE_SIGINFO_SIZE  128 /* siginfo_t as PTRACE_GETSIGINFO gives it */
#define CORE_FXSAVE_SIZE   512 /* x86_64 NT_PRFPREG: the FXSAVE area */
#define CORE_X86_64_NREGS  27  /* user_regs_struct: r15..gs */
#define CORE_AARCH64_NREGS 34  /* user_pt_regs: x0..x30, sp, pc, pstate */
#define CORE_PSARGS_MAX    80
#define CORE_FNAME_MAX     16

struct core_elf_siginfo {
    int32_t si_signo;
    int32_t si_code;
    int32_t si_errno;
};

struct core_timeval {
    int64_t tv_sec;
    int64_t tv_usec;
};

/* The part of struct elf_prstatus before pr_reg, the same on both. */
struct core_prstatus_head {
    struct core_elf_siginfo pr_info;
    int16_t pr_cursig;
    uint16_t pad0;
    uint64_t pr_sigpend; /* the thread's pending signals, word 0 */
    uint64_t pr_sighold; /* its blocked signals, word 0 */
    int32_t pr_pid;      /* the thread's id */
    int32_t pr_ppid;
    int32_t pr_pgrp;
    int32_t pr_sid;
    struct core_timeval pr_utime;
    struct core_timeval pr_stime;
    struct core_timeval pr_cutime;
    struct core_timeval pr_cstime;
};

struct core_prstatus_x86_64 {
    struct core_prstatus_head head;
    uint64_t pr_reg[CORE_X86_64_NREGS];
    int32_t pr_fpvalid;
    uint32_t pad1;
};

struct core_prstatus_aarch64 {
    struct core_prstatus_head head;
    uint64_t pr_reg[CORE_AARCH64_NREGS];
    int32_t pr_fpvalid;
    uint32_t pad1;
};

/* struct elf_prpsinfo, the same on both 64-bit architectures. */
struct core_prpsinfo {
    char pr_state; /* index of pr_sname in "RSDTZW" */
    char pr_sname;
    char pr_zomb;
    char pr_nice;
    uint32_t pad0;
    uint64_t pr_flag; /* the kernel's task flags */
    uint32_t pr_uid;
    uint32_t pr_gid;
    int32_t pr_pid;
    int32_t pr_ppid;
    int32_t pr_pgrp;
    int32_t pr_sid;
    char pr_fname[CORE_FNAME_MAX];   /* comm */
    char pr_psargs[CORE_PSARGS_MAX]; /* the command line, NULs as spaces, NUL-terminated */
};

/* aarch64 NT_PRFPREG: struct user_fpsimd_state (v0..v31 as 2 words each). */
struct core_aarch64_fpsimd {
    uint64_t vregs[64];
    uint32_t fpsr;
    uint32_t fpcr;
    uint32_t reserved[2];
};

_Static_assert(sizeof(struct core_prstatus_head) == 112, "prstatus head");
_Static_assert(offsetof(struct core_prstatus_head, pr_cursig) == 12, "pr_cursig");
_Static_assert(offsetof(struct core_prstatus_head, pr_sigpend) == 16, "pr_sigpend");
_Static_assert(offsetof(struct core_prstatus_head, pr_pid) == 32, "pr_pid");
_Static_assert(offsetof(struct core_prstatus_head, pr_utime) == 48, "pr_utime");
_Static_assert(offsetof(struct core_prstatus_head, pr_cstime) == 96, "pr_cstime");
_Static_assert(offsetof(struct core_prstatus_x86_64, pr_reg) == 112, "x86_64 pr_reg");
_Static_assert(offsetof(struct core_prstatus_x86_64, pr_fpvalid) == 328, "x86_64 pr_fpvalid");
_Static_assert(sizeof(struct core_prstatus_x86_64) == 336, "x86_64 prstatus");
_Static_assert(offsetof(struct core_prstatus_aarch64, pr_reg) == 112, "aarch64 pr_reg");
_Static_assert(offsetof(struct core_prstatus_aarch64, pr_fpvalid) == 384, "aarch64 pr_fpvalid");
_Static_assert(sizeof(struct core_prstatus_aarch64) == 392, "aarch64 prstatus");
_Static_assert(offsetof(struct core_prpsinfo, pr_flag) == 8, "pr_flag");
_Static_assert(offsetof(struct core_prpsinfo, pr_uid) == 16, "pr_uid");
_Static_assert(offsetof(struct core_prpsinfo, pr_pid) == 24, "pr_pid");
_Static_assert(offsetof(struct core_prpsinfo, pr_fname) == 40, "pr_fname");
_Static_assert(offsetof(struct core_prpsinfo, pr_psargs) == 56, "pr_psargs");
_Static_assert(sizeof(struct core_prpsinfo) == 136, "prpsinfo");
_Static_assert(sizeof(struct core_aarch64_fpsimd) == 528, "aarch64 fpsimd");

// SPDX-License-Identifier: MIT
/*
 * x86_64: the general registers as the kernel's NT_PRSTATUS regset lays
 * them out (struct user_regs_struct, 27 words), with their names. Our own
 * fixed-width layout, not <sys/user.h>, so the table can be checked on any
 * host. Also the core's view: the prstatus layout and the register sets
 * after it (FXSAVE, then the XSAVE area at the size the kernel reports).
 * Compiled only on x86_64; called from the supervisor thread.
 */
#if defined(__x86_64__)

#include "arch.h"
#include "core_layout.h"

#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

enum {
    X86_64_NREGS = 27,
    X86_64_RAX = 10,
    X86_64_ORIG_RAX = 15,
    X86_64_RIP = 16,
    X86_64_RSP = 19,
    X86_64_DWARF_RSP = 7,
};

static const char *const x86_64_names[X86_64_NREGS] = {
    "r15",    "r14", "r13", "r12",     "rbp",     "rbx", "r11",      "r10", "r9",
    "r8",     "rax", "rcx", "rdx",     "rsi",     "rdi", "orig_rax", "rip", "cs",
    "eflags", "rsp", "ss",  "fs_base", "gs_base", "ds",  "es",       "fs",  "gs",
};

_Static_assert(X86_64_NREGS <= CRASH_REGS_MAX, "CRASH_REGS_MAX too small for x86_64");

int arch_get_regs(pid_t tid, struct crash_regs *r)
{
    uint64_t v[X86_64_NREGS];
    struct iovec iov = {.iov_base = v, .iov_len = sizeof(v)};

    if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0)
        return errno > 0 ? -errno : -EIO;
    if (iov.iov_len != sizeof(v))
        return -EIO;
    r->n = X86_64_NREGS;
    r->names = x86_64_names;
    memcpy(r->v, v, sizeof(v));
    return 0;
}

int arch_syscall_regs(pid_t tid, int *nr, uint64_t args[6], uint64_t *ip)
{
    static const int order[6] = {14, 13, 12, 7, 9, 8}; /* rdi rsi rdx r10 r8 r9 */
    uint64_t v[X86_64_NREGS];
    struct iovec iov = {.iov_base = v, .iov_len = sizeof(v)};

    if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0)
        return errno > 0 ? -errno : -EIO;
    *nr = (int)v[X86_64_ORIG_RAX];
    for (int i = 0; i < 6; i++)
        args[i] = v[order[i]];
    *ip = v[X86_64_RIP];
    return 0;
}

int arch_syscall_skip(pid_t tid, int64_t ret)
{
    uint64_t v[X86_64_NREGS];
    struct iovec iov = {.iov_base = v, .iov_len = sizeof(v)};

    if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0)
        return errno > 0 ? -errno : -EIO;
    v[X86_64_ORIG_RAX] = UINT64_MAX; /* -1: no syscall */
    v[X86_64_RAX] = (uint64_t)ret;
    if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0)
        return errno > 0 ? -errno : -EIO;
    return 0;
}

uint64_t arch_pc(const struct crash_regs *r)
{
    return r->n > X86_64_RIP ? r->v[X86_64_RIP] : 0;
}

uint64_t arch_sp(const struct crash_regs *r)
{
    return r->n > X86_64_RSP ? r->v[X86_64_RSP] : 0;
}

unsigned arch_dwarf_sp(void)
{
    return X86_64_DWARF_RSP;
}

/* DWARF register n (System V x86_64 psABI numbering) is user_regs_struct
 * word dwarf_to_user[n]: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip. */
static const unsigned char dwarf_to_user[] = {10, 12, 11, 5, 13, 14, 4, 19, 9,
                                              8,  7,  6,  3, 2,  1,  0, 16};

size_t arch_dwarf_regs(const struct crash_regs *r, uint64_t pc, uint64_t sp, uint64_t *dw,
                       size_t max)
{
    size_t n = sizeof(dwarf_to_user);

    if (max < n || r->n != X86_64_NREGS)
        return 0;
    for (size_t i = 0; i < n; i++)
        dw[i] = r->v[dwarf_to_user[i]];
    dw[X86_64_DWARF_RSP] = sp;
    dw[n - 1] = pc;
    return n;
}

/* 64 KiB: well above the largest XSAVE area (about 11 KiB with AMX). */
static const struct arch_regset x86_64_regsets[] = {
    {NT_PRFPREG, "CORE", CORE_FXSAVE_SIZE},
    {CORE_NT_X86_XSTATE, "LINUX", (size_t)64 * 1024},
};

static const struct arch_core x86_64_core = {
    .e_machine = EM_X86_64,
    .prstatus_size = sizeof(struct core_prstatus_x86_64),
    .pr_reg_offset = offsetof(struct core_prstatus_x86_64, pr_reg),
    .pr_reg_size = sizeof(((struct core_prstatus_x86_64 *)0)->pr_reg),
    .pr_fpvalid_offset = offsetof(struct core_prstatus_x86_64, pr_fpvalid),
    .regsets = x86_64_regsets,
    .n_regsets = sizeof(x86_64_regsets) / sizeof(x86_64_regsets[0]),
};

_Static_assert(X86_64_NREGS == CORE_X86_64_NREGS, "x86_64 register count");

const struct arch_core *arch_core(void)
{
    return &x86_64_core;
}

#endif

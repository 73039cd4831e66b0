// SPDX-License-Identifier: MIT
/*
 * aarch64: the general registers as the kernel's NT_PRSTATUS regset lays
 * them out (struct user_pt_regs: x0..x30, sp, pc, pstate; 34 words), with
 * their names. Our own fixed-width layout, not <asm/ptrace.h>. Also the
 * core's view: the prstatus layout and the register sets after it (those
 * GETREGSET refuses, absent features, are left out). Compiled only on
 * aarch64; called from the supervisor thread.
 */
#if defined(__aarch64__)

#include "arch.h"
#include "core_layout.h"

#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

enum {
    AARCH64_NREGS = 34,
    AARCH64_SP = 31,
    AARCH64_PC = 32,
    AARCH64_DWARF_SP = 31,
};

static const char *const aarch64_names[AARCH64_NREGS] = {
    "x0",  "x1",  "x2",  "x3",  "x4",  "x5",  "x6",  "x7",  "x8",  "x9",     "x10", "x11",
    "x12", "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21",    "x22", "x23",
    "x24", "x25", "x26", "x27", "x28", "x29", "x30", "sp",  "pc",  "pstate",
};

_Static_assert(AARCH64_NREGS <= CRASH_REGS_MAX, "CRASH_REGS_MAX too small for aarch64");

int arch_get_regs(pid_t tid, struct crash_regs *r)
{
    uint64_t v[AARCH64_NREGS];
    struct iovec iov = {.iov_base = v, .iov_len = sizeof(v)};

    if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0)
        return errno > 0 ? -errno : -EIO;
    if (iov.iov_len != sizeof(v))
        return -EIO;
    r->n = AARCH64_NREGS;
    r->names = aarch64_names;
    memcpy(r->v, v, sizeof(v));
    return 0;
}

int arch_syscall_regs(pid_t tid, int *nr, uint64_t args[6], uint64_t *ip)
{
    uint64_t v[AARCH64_NREGS];
    struct iovec iov = {.iov_base = v, .iov_len = sizeof(v)};
    struct iovec sys = {.iov_base = nr, .iov_len = sizeof(*nr)};

    if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0 ||
        ptrace(PTRACE_GETREGSET, tid, (void *)NT_ARM_SYSTEM_CALL, &sys) < 0)
        return errno > 0 ? -errno : -EIO;
    for (int i = 0; i < 6; i++)
        args[i] = v[i];
    *ip = v[AARCH64_PC];
    return 0;
}

int arch_syscall_skip(pid_t tid, int64_t ret)
{
    uint64_t v[AARCH64_NREGS];
    int nr = -1;
    struct iovec iov = {.iov_base = v, .iov_len = sizeof(v)};
    struct iovec sys = {.iov_base = &nr, .iov_len = sizeof(nr)};

    /* The syscall number lives in its own regset; x0 is the return. */
    if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_ARM_SYSTEM_CALL, &sys) < 0 ||
        ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0)
        return errno > 0 ? -errno : -EIO;
    v[0] = (uint64_t)ret;
    if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0)
        return errno > 0 ? -errno : -EIO;
    return 0;
}

uint64_t arch_pc(const struct crash_regs *r)
{
    return r->n > AARCH64_PC ? r->v[AARCH64_PC] : 0;
}

uint64_t arch_sp(const struct crash_regs *r)
{
    return r->n > AARCH64_SP ? r->v[AARCH64_SP] : 0;
}

unsigned arch_dwarf_sp(void)
{
    return AARCH64_DWARF_SP;
}

/* DWARF registers 0..30 are x0..x30 and 31 is sp, the order of
 * user_pt_regs; the pc has no DWARF number (the caller passes it to
 * dwfl_thread_state_register_pc). */
size_t arch_dwarf_regs(const struct crash_regs *r, uint64_t pc, uint64_t sp, uint64_t *dw,
                       size_t max)
{
    size_t n = AARCH64_DWARF_SP + 1;

    (void)pc;
    if (max < n || r->n != AARCH64_NREGS)
        return 0;
    memcpy(dw, r->v, n * sizeof(*dw));
    dw[AARCH64_DWARF_SP] = sp;
    return n;
}

/* Sizes: SVE/SSVE at the largest vector length (2048 bits) and ZA at the
 * largest streaming length stay below 72 KiB. */
static const struct arch_regset aarch64_regsets[] = {
    {NT_PRFPREG, "CORE", sizeof(struct core_aarch64_fpsimd)},
    {CORE_NT_ARM_TLS, "LINUX", 16},
    {CORE_NT_ARM_HW_BREAK, "LINUX", 264},
    {CORE_NT_ARM_HW_WATCH, "LINUX", 264},
    {CORE_NT_ARM_SYSCALL, "LINUX", 4},
    {CORE_NT_ARM_SVE, "LINUX", (size_t)72 * 1024},
    {CORE_NT_ARM_PAC_MASK, "LINUX", 16},
    {CORE_NT_ARM_TAGGED, "LINUX", 8},
    {CORE_NT_ARM_SSVE, "LINUX", (size_t)72 * 1024},
    {CORE_NT_ARM_ZA, "LINUX", (size_t)72 * 1024},
    {CORE_NT_ARM_ZT, "LINUX", 64},
    {CORE_NT_ARM_FPMR, "LINUX", 8},
};

static const struct arch_core aarch64_core = {
    .e_machine = EM_AARCH64,
    .prstatus_size = sizeof(struct core_prstatus_aarch64),
    .pr_reg_offset = offsetof(struct core_prstatus_aarch64, pr_reg),
    .pr_reg_size = sizeof(((struct core_prstatus_aarch64 *)0)->pr_reg),
    .pr_fpvalid_offset = offsetof(struct core_prstatus_aarch64, pr_fpvalid),
    .regsets = aarch64_regsets,
    .n_regsets = sizeof(aarch64_regsets) / sizeof(aarch64_regsets[0]),
};

_Static_assert(AARCH64_NREGS == CORE_AARCH64_NREGS, "aarch64 register count");

const struct arch_core *arch_core(void)
{
    return &aarch64_core;
}

#endif

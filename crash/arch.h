// SPDX-License-Identifier: MIT
/*
 * The one interface to architecture-specific code: reading a stopped
 * thread's general registers and naming them, and where pc and sp are.
 * Exactly one arch_<name>.c is compiled in (each wraps itself in its own
 * architecture test); nothing else in crash/ tests the architecture.
 * Called from the supervisor thread, the tracer of the threads it reads.
 */
#pragma once

#include "crash.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Read tid's general registers (PTRACE_GETREGSET, NT_PRSTATUS) into r;
 * r->names points to a static table. tid must be in a ptrace-stop of the
 * calling thread. Returns 0, or -errno (-ESRCH: not stopped or gone, -EIO:
 * the kernel returned an unexpected size). r is written only on success. */
int arch_get_regs(pid_t tid, struct crash_regs *r);

/* The syscall tid was in (at its exit stop after a seccomp kill, which
 * rolls the registers back to the call): number, arguments, and the
 * instruction after it. 0 or -errno. */
int arch_syscall_regs(pid_t tid, int *nr, uint64_t args[6], uint64_t *ip);

/* tid is at a seccomp stop: skip the syscall, which then returns ret
 * (-errno). 0 or -errno. */
int arch_syscall_skip(pid_t tid, int64_t ret);

/* The program counter and stack pointer in r (filled by arch_get_regs). */
uint64_t arch_pc(const struct crash_regs *r);
uint64_t arch_sp(const struct crash_regs *r);

/* DWARF number of the stack pointer register (for libdw's frames). */
unsigned arch_dwarf_sp(void);

/* r as DWARF registers 0..n-1, the initial state for libdw's unwinder,
 * with pc and sp replaced by the given values (x86_64: rax..r15, rip;
 * aarch64: x0..x30, sp, the pc going to dwfl_thread_state_register_pc).
 * Returns n, or 0 if max is too small or r holds no registers. */
size_t arch_dwarf_regs(const struct crash_regs *r, uint64_t pc, uint64_t sp, uint64_t *dw,
                       size_t max);

/* One register set an ELF core holds per thread after its NT_PRSTATUS:
 * read with PTRACE_GETREGSET type into a buffer of max bytes (the kernel
 * says how much it filled), stored as a note named name. */
struct arch_regset {
    uint32_t type;
    const char *name; /* "CORE" or "LINUX" */
    size_t max;
};

/* What an ELF core needs to know about the architecture. */
struct arch_core {
    uint16_t e_machine;
    size_t prstatus_size;              /* the whole NT_PRSTATUS note */
    size_t pr_reg_offset;              /* where the NT_PRSTATUS regset goes */
    size_t pr_reg_size;                /* its exact size */
    size_t pr_fpvalid_offset;          /* set to 1 when regsets[0] was read */
    const struct arch_regset *regsets; /* in note order; [0] is NT_PRFPREG */
    size_t n_regsets;
};

/* The compiled-in architecture's core description (static). */
const struct arch_core *arch_core(void);

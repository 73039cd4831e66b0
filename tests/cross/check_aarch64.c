// SPDX-License-Identifier: MIT
/*
 * The aarch64 core layouts and note encoding, checked at run time on
 * aarch64 (`make check-aarch64`: cross-built static, run under
 * qemu-aarch64). Our fixed-width structs against the kernel's numbers and
 * against glibc's own <sys/procfs.h> and the kernel's <asm/ptrace.h> for
 * aarch64; arch_core() of arch_aarch64.c; corenotes.c's encoding helpers.
 * Plain checks, no Check (it has no cross build): each failure prints a
 * line, the exit code is 1 if any failed. Links only on aarch64, where
 * arch_aarch64.c defines arch_core(). Single-threaded.
 */
#include "arch.h"
#include "core_layout.h"
#include "coremaps.h"
#include "corenotes.h"

#include <asm/ptrace.h>
#include <elf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <unistd.h>

static unsigned checks, failures;

static void check(const char *file, int line, const char *what, unsigned long long got,
                  unsigned long long want)
{
    checks++;
    if (got == want)
        return;
    failures++;
    printf("FAIL %s:%d: %s: got %llu (%#llx), want %llu (%#llx)\n", file, line, what, got, got,
           want, want);
}

#define CHECK_EQ(got, want)                                                                        \
    check(__FILE__, __LINE__, #got, (unsigned long long)(got), (unsigned long long)(want))
#define CHECK(cond) CHECK_EQ(!!(cond), 1)

/* The same offset and size of a field in two struct types. */
#define SAME_FIELD(ours, o_field, theirs, t_field)                                                 \
    do {                                                                                           \
        CHECK_EQ(offsetof(ours, o_field), offsetof(theirs, t_field));                              \
        CHECK_EQ(sizeof(((ours *)0)->o_field), sizeof(((theirs *)0)->t_field));                    \
    } while (0)

/* Print one line per group: ok, or how many of its checks failed. */
static void group(const char *name, unsigned failures_before)
{
    if (failures == failures_before)
        printf("ok   %s\n", name);
    else
        printf("FAIL %s (%u failed)\n", name, failures - failures_before);
}

static void kernel_sizes(void)
{
    unsigned f = failures;

    CHECK_EQ(sizeof(struct core_prstatus_head), 112);
    CHECK_EQ(offsetof(struct core_prstatus_head, pr_cursig), 12);
    CHECK_EQ(offsetof(struct core_prstatus_head, pr_sigpend), 16);
    CHECK_EQ(offsetof(struct core_prstatus_head, pr_sighold), 24);
    CHECK_EQ(offsetof(struct core_prstatus_head, pr_pid), 32);
    CHECK_EQ(offsetof(struct core_prstatus_head, pr_sid), 44);
    CHECK_EQ(offsetof(struct core_prstatus_head, pr_utime), 48);
    CHECK_EQ(offsetof(struct core_prstatus_head, pr_cstime), 96);
    CHECK_EQ(sizeof(struct core_prstatus_aarch64), 392);
    CHECK_EQ(offsetof(struct core_prstatus_aarch64, pr_reg), 112);
    CHECK_EQ(sizeof(((struct core_prstatus_aarch64 *)0)->pr_reg), 272);
    CHECK_EQ(offsetof(struct core_prstatus_aarch64, pr_fpvalid), 384);
    CHECK_EQ(sizeof(struct core_prpsinfo), 136);
    CHECK_EQ(offsetof(struct core_prpsinfo, pr_flag), 8);
    CHECK_EQ(offsetof(struct core_prpsinfo, pr_uid), 16);
    CHECK_EQ(offsetof(struct core_prpsinfo, pr_gid), 20);
    CHECK_EQ(offsetof(struct core_prpsinfo, pr_pid), 24);
    CHECK_EQ(offsetof(struct core_prpsinfo, pr_sid), 36);
    CHECK_EQ(offsetof(struct core_prpsinfo, pr_fname), 40);
    CHECK_EQ(offsetof(struct core_prpsinfo, pr_psargs), 56);
    CHECK_EQ(sizeof(struct core_aarch64_fpsimd), 528);
    CHECK_EQ(offsetof(struct core_aarch64_fpsimd, fpsr), 512);
    CHECK_EQ(offsetof(struct core_aarch64_fpsimd, fpcr), 516);
    CHECK_EQ(sizeof(siginfo_t), CORE_SIGINFO_SIZE);
    CHECK_EQ(CORE_SIGINFO_SIZE, 128);
    group("kernel numbers: prstatus 392 (pr_reg 272 @112, pr_fpvalid @384), prpsinfo 136, "
          "fpsimd 528, siginfo 128",
          f);
}

static void glibc_procfs(void)
{
    unsigned f = failures;

    CHECK_EQ(sizeof(struct core_prstatus_aarch64), sizeof(struct elf_prstatus));
    SAME_FIELD(struct core_prstatus_aarch64, head.pr_info.si_signo, struct elf_prstatus,
               pr_info.si_signo);
    SAME_FIELD(struct core_prstatus_aarch64, head.pr_info.si_code, struct elf_prstatus,
               pr_info.si_code);
    SAME_FIELD(struct core_prstatus_aarch64, head.pr_info.si_errno, struct elf_prstatus,
               pr_info.si_errno);
    SAME_FIELD(struct core_prstatus_aarch64, head.pr_cursig, struct elf_prstatus, pr_cursig);
    SAME_FIELD(struct core_prstatus_aarch64, head.pr_sigpend, struct elf_prstatus, pr_sigpend);
    SAME_FIELD(struct core_prstatus_aarch64, head.pr_sighold, struct elf_prstatus, pr_sighold);
    SAME_FIELD(struct core_prstatus_aarch64, head.pr_pid, struct elf_prstatus, pr_pid);
    SAME_FIELD(struct core_prstatus_aarch64, head.pr_ppid, struct elf_prstatus, pr_ppid);
    SAME_FIELD(struct core_prstatus_aarch64, head.pr_pgrp, struct elf_prstatus, pr_pgrp);
    SAME_FIELD(struct core_prstatus_aarch64, head.pr_sid, struct elf_prstatus, pr_sid);
    SAME_FIELD(struct core_prstatus_aarch64, head.pr_utime, struct elf_prstatus, pr_utime);
    SAME_FIELD(struct core_prstatus_aarch64, head.pr_utime.tv_usec, struct elf_prstatus,
               pr_utime.tv_usec);
    SAME_FIELD(struct core_prstatus_aarch64, head.pr_stime, struct elf_prstatus, pr_stime);
    SAME_FIELD(struct core_prstatus_aarch64, head.pr_cutime, struct elf_prstatus, pr_cutime);
    SAME_FIELD(struct core_prstatus_aarch64, head.pr_cstime, struct elf_prstatus, pr_cstime);
    SAME_FIELD(struct core_prstatus_aarch64, pr_reg, struct elf_prstatus, pr_reg);
    SAME_FIELD(struct core_prstatus_aarch64, pr_fpvalid, struct elf_prstatus, pr_fpvalid);

    CHECK_EQ(sizeof(struct core_prpsinfo), sizeof(struct elf_prpsinfo));
    SAME_FIELD(struct core_prpsinfo, pr_state, struct elf_prpsinfo, pr_state);
    SAME_FIELD(struct core_prpsinfo, pr_sname, struct elf_prpsinfo, pr_sname);
    SAME_FIELD(struct core_prpsinfo, pr_zomb, struct elf_prpsinfo, pr_zomb);
    SAME_FIELD(struct core_prpsinfo, pr_nice, struct elf_prpsinfo, pr_nice);
    SAME_FIELD(struct core_prpsinfo, pr_flag, struct elf_prpsinfo, pr_flag);
    SAME_FIELD(struct core_prpsinfo, pr_uid, struct elf_prpsinfo, pr_uid);
    SAME_FIELD(struct core_prpsinfo, pr_gid, struct elf_prpsinfo, pr_gid);
    SAME_FIELD(struct core_prpsinfo, pr_pid, struct elf_prpsinfo, pr_pid);
    SAME_FIELD(struct core_prpsinfo, pr_ppid, struct elf_prpsinfo, pr_ppid);
    SAME_FIELD(struct core_prpsinfo, pr_pgrp, struct elf_prpsinfo, pr_pgrp);
    SAME_FIELD(struct core_prpsinfo, pr_sid, struct elf_prpsinfo, pr_sid);
    SAME_FIELD(struct core_prpsinfo, pr_fname, struct elf_prpsinfo, pr_fname);
    SAME_FIELD(struct core_prpsinfo, pr_psargs, struct elf_prpsinfo, pr_psargs);

    CHECK_EQ(sizeof(elf_gregset_t), CORE_AARCH64_NREGS * sizeof(uint64_t));
    CHECK_EQ(sizeof(elf_fpregset_t), sizeof(struct core_aarch64_fpsimd));
    group("glibc <sys/procfs.h>: struct elf_prstatus and elf_prpsinfo, field by field", f);
}

static void kernel_uapi(void)
{
    unsigned f = failures;

    CHECK_EQ(sizeof(struct user_pt_regs), sizeof(((struct core_prstatus_aarch64 *)0)->pr_reg));
    CHECK_EQ(offsetof(struct user_pt_regs, sp), 31 * sizeof(uint64_t));
    CHECK_EQ(offsetof(struct user_pt_regs, pc), 32 * sizeof(uint64_t));
    CHECK_EQ(offsetof(struct user_pt_regs, pstate), 33 * sizeof(uint64_t));
    CHECK_EQ(sizeof(struct user_fpsimd_state), sizeof(struct core_aarch64_fpsimd));
    SAME_FIELD(struct core_aarch64_fpsimd, vregs, struct user_fpsimd_state, vregs);
    SAME_FIELD(struct core_aarch64_fpsimd, fpsr, struct user_fpsimd_state, fpsr);
    SAME_FIELD(struct core_aarch64_fpsimd, fpcr, struct user_fpsimd_state, fpcr);
    CHECK_EQ(NT_PRSTATUS, 1);
    CHECK_EQ(NT_PRFPREG, 2);
    CHECK_EQ(NT_PRPSINFO, 3);
    CHECK_EQ(NT_AUXV, 6);
    CHECK_EQ(CORE_NT_SIGINFO, NT_SIGINFO);
    CHECK_EQ(CORE_NT_FILE, NT_FILE);
    CHECK_EQ(CORE_NT_ARM_TLS, NT_ARM_TLS);
    CHECK_EQ(CORE_NT_ARM_HW_BREAK, NT_ARM_HW_BREAK);
    CHECK_EQ(CORE_NT_ARM_HW_WATCH, NT_ARM_HW_WATCH);
    CHECK_EQ(CORE_NT_ARM_SYSCALL, NT_ARM_SYSTEM_CALL);
    CHECK_EQ(CORE_NT_ARM_SVE, NT_ARM_SVE);
    CHECK_EQ(CORE_NT_ARM_PAC_MASK, NT_ARM_PAC_MASK);
    CHECK_EQ(CORE_NT_ARM_TAGGED, NT_ARM_TAGGED_ADDR_CTRL);
#ifdef NT_ARM_SSVE
    CHECK_EQ(CORE_NT_ARM_SSVE, NT_ARM_SSVE);
#endif
#ifdef NT_ARM_ZA
    CHECK_EQ(CORE_NT_ARM_ZA, NT_ARM_ZA);
#endif
#ifdef NT_ARM_ZT
    CHECK_EQ(CORE_NT_ARM_ZT, NT_ARM_ZT);
#endif
#ifdef NT_ARM_FPMR
    CHECK_EQ(CORE_NT_ARM_FPMR, NT_ARM_FPMR);
#endif
    group("kernel <asm/ptrace.h> user_pt_regs, user_fpsimd_state; <elf.h> note types", f);
}

static const struct arch_regset *find_regset(const struct arch_core *a, uint32_t type)
{
    for (size_t i = 0; i < a->n_regsets; i++)
        if (a->regsets[i].type == type)
            return &a->regsets[i];
    return NULL;
}

/* Each regset's buffer holds at least what the kernel's regset can give. */
static void regset_fits(const struct arch_core *a, uint32_t type, size_t need)
{
    const struct arch_regset *r = find_regset(a, type);

    CHECK(r != NULL);
    if (r)
        CHECK(r->max >= need);
}

static void arch_core_desc(void)
{
    const struct arch_core *a = arch_core();
    unsigned f = failures;

    CHECK_EQ(a->e_machine, EM_AARCH64);
    CHECK_EQ(a->prstatus_size, sizeof(struct elf_prstatus));
    CHECK_EQ(a->pr_reg_offset, offsetof(struct elf_prstatus, pr_reg));
    CHECK_EQ(a->pr_reg_size, sizeof(elf_gregset_t));
    CHECK_EQ(a->pr_fpvalid_offset, offsetof(struct elf_prstatus, pr_fpvalid));
    CHECK(a->n_regsets >= 1);
    CHECK_EQ(a->regsets[0].type, NT_PRFPREG);
    CHECK_EQ(strcmp(a->regsets[0].name, "CORE"), 0);
    CHECK_EQ(a->regsets[0].max, sizeof(elf_fpregset_t));
    for (size_t i = 1; i < a->n_regsets; i++) {
        CHECK_EQ(strcmp(a->regsets[i].name, "LINUX"), 0);
        CHECK(a->regsets[i].type > a->regsets[i - 1].type);
        CHECK(a->regsets[i].max > 0);
        CHECK(a->regsets[i].max <= (size_t)72 * 1024);
    }
    regset_fits(a, NT_ARM_TLS, sizeof(uint64_t));
    regset_fits(a, NT_ARM_HW_BREAK, sizeof(struct user_hwdebug_state));
    regset_fits(a, NT_ARM_HW_WATCH, sizeof(struct user_hwdebug_state));
    regset_fits(a, NT_ARM_SYSTEM_CALL, sizeof(int));
    regset_fits(a, NT_ARM_PAC_MASK, sizeof(struct user_pac_mask));
    regset_fits(a, NT_ARM_TAGGED_ADDR_CTRL, sizeof(long));
    /* 2048-bit vectors: 16 quadwords, the architecture's largest. */
    regset_fits(a, NT_ARM_SVE, SVE_PT_SIZE(16, SVE_PT_REGS_SVE));
#ifdef ZA_PT_SIZE
    regset_fits(a, CORE_NT_ARM_SSVE, SVE_PT_SIZE(16, SVE_PT_REGS_SVE));
    regset_fits(a, CORE_NT_ARM_ZA, ZA_PT_SIZE(16));
#endif
    printf("     arch_core: e_machine %u, prstatus %zu, pr_reg %zu @%zu, pr_fpvalid @%zu, "
           "%zu regsets\n",
           (unsigned)a->e_machine, a->prstatus_size, a->pr_reg_size, a->pr_reg_offset,
           a->pr_fpvalid_offset, a->n_regsets);
    group("arch_core(): EM_AARCH64, prstatus layout as glibc's, NT_PRFPREG first, regset sizes", f);
}

static void arch_regs(void)
{
    struct crash_regs r = {.n = CORE_AARCH64_NREGS};
    uint64_t dw[64];
    unsigned f = failures;

    for (size_t i = 0; i < r.n; i++)
        r.v[i] = 0x1000 + i;
    CHECK_EQ(arch_pc(&r), 0x1000 + offsetof(struct user_pt_regs, pc) / 8);
    CHECK_EQ(arch_sp(&r), 0x1000 + offsetof(struct user_pt_regs, sp) / 8);
    CHECK_EQ(arch_dwarf_sp(), 31);
    CHECK_EQ(arch_dwarf_regs(&r, 0xaaaa, 0x5555, dw, 64), 32);
    CHECK_EQ(dw[0], 0x1000);
    CHECK_EQ(dw[30], 0x1000 + 30);
    CHECK_EQ(dw[31], 0x5555);
    CHECK_EQ(arch_dwarf_regs(&r, 0, 0, dw, 31), 0);
    r.n = 0;
    CHECK_EQ(arch_pc(&r), 0);
    CHECK_EQ(arch_sp(&r), 0);
    group("arch_pc/arch_sp/arch_dwarf_regs: user_pt_regs order, DWARF x0..x30 + sp", f);
}

/* The note at off in n: header, name, and where its desc starts. */
static size_t check_note(const struct corenotes *n, size_t off, const char *name, uint32_t type,
                         size_t descsz)
{
    Elf64_Nhdr h;
    size_t namesz = strlen(name) + 1, desc = off + sizeof(h) + ((namesz + 3) & ~(size_t)3);

    memcpy(&h, n->p + off, sizeof(h));
    CHECK_EQ(h.n_namesz, namesz);
    CHECK_EQ(h.n_descsz, descsz);
    CHECK_EQ(h.n_type, type);
    CHECK_EQ(memcmp(n->p + off + sizeof(h), name, namesz), 0);
    for (size_t i = off + sizeof(h) + namesz; i < desc; i++)
        CHECK_EQ(n->p[i], 0);
    for (size_t i = desc + descsz; i < off + corenotes_size(name, descsz); i++)
        CHECK_EQ(n->p[i], 0);
    return desc;
}

static void notes_padding(void)
{
    struct corenotes n = {0};
    const char odd[5] = "abcde";
    size_t at[4], off = 0;
    unsigned f = failures;

    CHECK_EQ(corenotes_size("CORE", 392), 12 + 8 + 392);
    CHECK_EQ(corenotes_size("LINUX", 4), 12 + 8 + 4);
    CHECK_EQ(corenotes_size("CORE", 1), 12 + 8 + 4);
    CHECK_EQ(corenotes_size("", 0), 12 + 4);
    CHECK_EQ(corenotes_size("ABC", 7), 12 + 4 + 8);
    at[0] = (size_t)corenotes_append(&n, "LINUX", CORE_NT_ARM_SYSCALL, odd, 3);
    at[1] = (size_t)corenotes_append(&n, "CORE", NT_AUXV, odd, 5);
    at[2] = (size_t)corenotes_append(&n, "", 7, NULL, 0);
    at[3] = (size_t)corenotes_append(&n, "ABC", 9, odd, 4);
    CHECK_EQ(n.len, corenotes_size("LINUX", 3) + corenotes_size("CORE", 5) + corenotes_size("", 0) +
                        corenotes_size("ABC", 4));
    CHECK_EQ(n.len % 4, 0);
    CHECK_EQ(check_note(&n, off, "LINUX", CORE_NT_ARM_SYSCALL, 3), at[0]);
    CHECK_EQ(memcmp(n.p + at[0], odd, 3), 0);
    off += corenotes_size("LINUX", 3);
    CHECK_EQ(check_note(&n, off, "CORE", NT_AUXV, 5), at[1]);
    CHECK_EQ(memcmp(n.p + at[1], odd, 5), 0);
    off += corenotes_size("CORE", 5);
    CHECK_EQ(check_note(&n, off, "", 7, 0), at[2]);
    off += corenotes_size("", 0);
    CHECK_EQ(check_note(&n, off, "ABC", 9, 4), at[3]);
    CHECK_EQ(memcmp(n.p + at[3], odd, 4), 0);
    for (size_t i = 0; i < 4; i++)
        CHECK_EQ(at[i] % 4, 0);
    corenotes_fini(&n);
    CHECK(n.p == NULL && n.len == 0);
    group("corenotes_size/append: Elf64_Nhdr, name and desc zero-padded to 4", f);
}

/* A PRSTATUS note of our struct, read back as glibc's struct elf_prstatus. */
static void notes_prstatus(void)
{
    struct core_prstatus_aarch64 ours = {
        .head = {.pr_info = {.si_signo = SIGSEGV},
                 .pr_cursig = SIGSEGV,
                 .pr_sigpend = 0x1234,
                 .pr_sighold = 0x5678,
                 .pr_pid = 4242,
                 .pr_ppid = 1,
                 .pr_pgrp = 4240,
                 .pr_sid = 4239,
                 .pr_utime = {3, 500000},
                 .pr_cstime = {7, 9}},
        .pr_fpvalid = 1,
    };
    struct elf_prstatus glibc;
    struct corenotes n = {0};
    int at;
    unsigned f = failures;

    for (size_t i = 0; i < CORE_AARCH64_NREGS; i++)
        ours.pr_reg[i] = 0xa000 + i;
    at = corenotes_append(&n, "CORE", NT_PRSTATUS, &ours, sizeof(ours));
    CHECK(at > 0);
    if (at > 0) {
        check_note(&n, 0, "CORE", NT_PRSTATUS, sizeof(glibc));
        memcpy(&glibc, n.p + at, sizeof(glibc));
        CHECK_EQ(glibc.pr_info.si_signo, SIGSEGV);
        CHECK_EQ(glibc.pr_cursig, SIGSEGV);
        CHECK_EQ(glibc.pr_sigpend, 0x1234);
        CHECK_EQ(glibc.pr_sighold, 0x5678);
        CHECK_EQ(glibc.pr_pid, 4242);
        CHECK_EQ(glibc.pr_sid, 4239);
        CHECK_EQ(glibc.pr_utime.tv_sec, 3);
        CHECK_EQ(glibc.pr_utime.tv_usec, 500000);
        CHECK_EQ(glibc.pr_cstime.tv_usec, 9);
        CHECK_EQ(glibc.pr_reg[0], 0xa000);
        CHECK_EQ(glibc.pr_reg[32], 0xa000 + 32);
        CHECK_EQ(glibc.pr_reg[33], 0xa000 + 33);
        CHECK_EQ(glibc.pr_fpvalid, 1);
    }
    corenotes_fini(&n);
    group("NT_PRSTATUS note of core_prstatus_aarch64 read back as glibc's elf_prstatus", f);
}

static void notes_file(void)
{
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    char app[] = "/bin/app", libc[] = "/lib/libc.so.6", heap[] = "[heap]";
    struct coremaps_map v[3] = {
        {.start = 0x400000, .end = 0x401000, .offset = 0, .path = app},
        {.start = 0x500000, .end = 0x600000, .offset = 0, .path = NULL},
        {.start = 0x700000, .end = 0x702000, .offset = 2 * page, .path = libc},
    };
    struct coremaps m = {.v = v, .n = 3, .cap = 3};
    const char names[] = "/bin/app\0/lib/libc.so.6";
    size_t descsz = 8 * (2 + 3 * 2) + sizeof(names);
    struct corenotes n = {0};
    unsigned f = failures;

    CHECK_EQ(corenotes_file(&m, page, &n), 1);
    CHECK_EQ(n.len, corenotes_size("CORE", descsz));
    if (n.len == corenotes_size("CORE", descsz)) {
        size_t desc = check_note(&n, 0, "CORE", NT_FILE, descsz);
        uint64_t d[8];

        memcpy(d, n.p + desc, sizeof(d));
        CHECK_EQ(d[0], 2);
        CHECK_EQ(d[1], page);
        CHECK_EQ(d[2], 0x400000);
        CHECK_EQ(d[3], 0x401000);
        CHECK_EQ(d[4], 0);
        CHECK_EQ(d[5], 0x700000);
        CHECK_EQ(d[6], 0x702000);
        CHECK_EQ(d[7], 2);
        CHECK_EQ(memcmp(n.p + desc + sizeof(d), names, sizeof(names)), 0);
    }
    corenotes_fini(&n);
    /* Anonymous and [heap] only: no note. */
    v[2].path = heap;
    m.v = v + 1;
    m.n = 2;
    CHECK_EQ(corenotes_file(&m, page, &n), 0);
    CHECK_EQ(n.len, 0);
    printf("     page size %llu\n", (unsigned long long)page);
    group("NT_FILE: count, page size, {start, end, offset in pages}, paths; none without files", f);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    kernel_sizes();
    glibc_procfs();
    kernel_uapi();
    arch_core_desc();
    arch_regs();
    notes_padding();
    notes_prstatus();
    notes_file();
    printf("check-aarch64: %u checks, %u failed\n", checks, failures);
    return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}

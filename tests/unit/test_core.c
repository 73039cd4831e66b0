// SPDX-License-Identifier: MIT
/*
 * core, corenotes and coremaps: the arch's core description against the
 * fixed layouts, note encoding and NT_FILE, smaps and coredump_filter
 * parsing, the kernel's mapping rules on fabricated smaps text, and one
 * real core of a traced child (a touched mapping stored with its
 * untouched pages as holes, a MADV_DONTDUMP one left out).
 */
#include "arch.h"
#include "core.h"
#include "core_layout.h"
#include "unit.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

START_TEST(core_arch_description_matches_the_layouts)
{
    const struct arch_core *a = arch_core();

    ck_assert(a->e_machine == EM_X86_64 || a->e_machine == EM_AARCH64);
    ck_assert_uint_eq(a->pr_reg_offset, sizeof(struct core_prstatus_head));
    ck_assert_uint_eq(a->pr_fpvalid_offset, a->pr_reg_offset + a->pr_reg_size);
    ck_assert_uint_eq(a->prstatus_size, (a->pr_fpvalid_offset + 4 + 7) / 8 * 8);
    ck_assert_uint_eq(a->prstatus_size, a->e_machine == EM_X86_64 ? 336 : 392);
    ck_assert_uint_ge(a->n_regsets, 1);
    ck_assert_uint_eq(a->regsets[0].type, NT_PRFPREG);
    ck_assert_str_eq(a->regsets[0].name, "CORE");
}
END_TEST

START_TEST(core_notes_are_padded_to_4)
{
    struct corenotes n = {0};
    Elf64_Nhdr h;
    int at;

    ck_assert_uint_eq(corenotes_size("CORE", 5), 12 + 8 + 8);
    ck_assert_uint_eq(corenotes_size("LINUX", 8), 12 + 8 + 8);
    ck_assert_int_eq(corenotes_append(&n, "CORE", 7, "abcde", 5), 12 + 8);
    at = corenotes_append(&n, "LINUX", 0x202, "12345678", 8);
    ck_assert_int_eq(at, 28 + 12 + 8);
    ck_assert_uint_eq(n.len, 56);
    memcpy(&h, n.p, sizeof(h));
    ck_assert_uint_eq(h.n_namesz, 5);
    ck_assert_uint_eq(h.n_descsz, 5);
    ck_assert_uint_eq(h.n_type, 7);
    ck_assert_mem_eq(n.p + 12, "CORE\0\0\0\0abcde\0\0\0", 16);
    memcpy(&h, n.p + 28, sizeof(h));
    ck_assert_uint_eq(h.n_namesz, 6);
    ck_assert_mem_eq(n.p + 40,
                     "LINUX\0\0\0"
                     "12345678",
                     16);
    corenotes_fini(&n);
    corenotes_fini(&n);
}
END_TEST

static const char smaps[] =
    "55d0c0000000-55d0c0001000 r--p 00000000 fe:01 123 /usr/bin/app\n"
    "Size:                  4 kB\n"
    "Anonymous:             0 kB\n"
    "VmFlags: rd mr mw me dw sd\n"
    "55d0c0001000-55d0c0003000 rw-p 00002000 fe:01 123 /usr/bin/app\n"
    "Anonymous:             8 kB\n"
    "Swap:                  0 kB\n"
    "VmFlags: rd wr mr mw me ac sd\n"
    "this line is not smaps\n"
    "7f0000000000-7f0000100000 rw-p 00000000 00:00 0 \n"
    "Anonymous:             0 kB\n"
    "Swap:                 12 kB\n"
    "VmFlags: rd wr mr mw me ac sd dd\n"
    "7f0000100000-7f0000200000 rw-s 00000000 00:01 9 /dev/zero (deleted)\n"
    "VmFlags: rd wr sh mr mw me ms sd\n"
    "7f0000200000-7f0000300000 ---p 00000000 00:00 0 \n"
    "VmFlags: mr mw me sd\n"
    "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n"
    "Anonymous:           132 kB\n"
    "7ffd00100000-7ffd00102000 r--p 00000000 00:00 0                          [vvar]\n"
    "7ffd00102000-7ffd00104000 r-xp 00000000 00:00 0                          [vdso]\n"
    "VmFlags: rd ex mr mw me de sd\n"
    "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

START_TEST(core_smaps_parse_keeps_what_the_rules_need)
{
    struct coremaps m = {0};

    ck_assert_int_eq(coremaps_parse_smaps(smaps, strlen(smaps), &m), 9);
    ck_assert_str_eq(m.v[0].path, "/usr/bin/app");
    ck_assert_uint_eq(m.v[1].offset, 0x2000);
    ck_assert_uint_eq(m.v[1].anon_kb, 8);
    ck_assert_uint_eq(m.v[2].swap_kb, 12);
    ck_assert_ptr_null(m.v[2].path);
    ck_assert_uint_eq(m.v[2].vmflags, COREMAPS_VM_DONTDUMP);
    ck_assert_uint_eq(m.v[3].vmflags, COREMAPS_VM_SHARED);
    ck_assert_str_eq(m.v[3].path, "/dev/zero (deleted)");
    ck_assert_str_eq(m.v[8].path, "[vsyscall]");
    ck_assert_uint_eq(m.v[8].start, 0xffffffffff600000ULL);
    ck_assert(coremaps_is_file(&m.v[3]) && !coremaps_is_file(&m.v[5]));
    ck_assert(coremaps_is_anon_private(&m.v[5]) && !coremaps_is_anon_private(&m.v[7]));
    ck_assert(!coremaps_is_anon_private(&m.v[3]));
    coremaps_fini(&m);
    coremaps_fini(&m);
    /* Truncated text: the last mapping is still there. */
    ck_assert_int_eq(coremaps_parse_smaps(smaps, 70, &m), 1);
    coremaps_fini(&m);
}
END_TEST

START_TEST(core_rules_follow_the_kernel)
{
    struct coremaps m = {0};
    static const enum coremaps_dump want[] = {
        COREMAPS_HEADER, /* ELF file, offset 0, untouched */
        COREMAPS_WHOLE,  /* COW'd data */
        COREMAPS_NONE,   /* dd, even though swapped */
        COREMAPS_WHOLE,  /* shared anonymous (a deleted file) */
        COREMAPS_NONE,   /* an untouched reservation */
        COREMAPS_WHOLE,  /* the stack */
        COREMAPS_NONE,   /* [vvar] */
        COREMAPS_WHOLE,  /* [vdso] */
        COREMAPS_NONE,   /* [vsyscall] */
    };

    coremaps_parse_smaps(smaps, strlen(smaps), &m);
    for (size_t i = 0; i < m.n; i++)
        ck_assert_msg(coremaps_rule(&m.v[i], COREMAPS_FILTER_DEFAULT) == want[i], "mapping %zu", i);
    /* Bit 1 off: shared anonymous memory goes; bit 4 off: no header page;
     * bit 2 on: private file mappings whole. */
    ck_assert_int_eq(coremaps_rule(&m.v[3], 0x31), COREMAPS_NONE);
    ck_assert_int_eq(coremaps_rule(&m.v[0], 0x23), COREMAPS_NONE);
    ck_assert_int_eq(coremaps_rule(&m.v[0], 0x37), COREMAPS_WHOLE);
    /* A shared mapping of a file that still exists: bit 3. */
    free(m.v[3].path);
    m.v[3].path = strdup("/data/db");
    ck_assert_int_eq(coremaps_rule(&m.v[3], 0x33), COREMAPS_NONE);
    ck_assert_int_eq(coremaps_rule(&m.v[3], 0x3b), COREMAPS_WHOLE);
    coremaps_fini(&m);
}
END_TEST

START_TEST(core_filter_parses_hex)
{
    unsigned f = 0;

    ck_assert_int_eq(coremaps_parse_filter("00000033\n", 9, &f), 0);
    ck_assert_uint_eq(f, 0x33);
    ck_assert_int_eq(coremaps_parse_filter("1ff", 3, &f), 0);
    ck_assert_uint_eq(f, 0x1ff);
    ck_assert_int_eq(coremaps_parse_filter("", 0, &f), -EINVAL);
    ck_assert_int_eq(coremaps_parse_filter("0x33", 4, &f), -EINVAL);
    ck_assert_int_eq(coremaps_parse_filter("123456789", 9, &f), -EINVAL);
}
END_TEST

START_TEST(core_file_note_lists_file_mappings)
{
    struct coremaps m = {0};
    struct corenotes n = {0};
    uint64_t w[2 + 3 * 4];
    const char *names;

    coremaps_parse_smaps(smaps, strlen(smaps), &m);
    ck_assert_int_eq(corenotes_file(&m, 4096, &n), 1);
    memcpy(w, n.p + 20, sizeof(w));
    ck_assert_uint_eq(w[0], 3); /* app twice, /dev/zero (deleted) */
    ck_assert_uint_eq(w[1], 4096);
    ck_assert_uint_eq(w[2 + 3], 0x55d0c0001000ULL);
    ck_assert_uint_eq(w[2 + 5], 2); /* offset in pages */
    names = n.p + 20 + (size_t)(2 + 3 * 3) * 8;
    ck_assert_str_eq(names, "/usr/bin/app");
    ck_assert_str_eq(names + 13 + 13, "/dev/zero (deleted)");
    corenotes_fini(&n);
    m.n = 2;
    m.v[0].path[0] = m.v[1].path[0] = '[';
    ck_assert_int_eq(corenotes_file(&m, 4096, &n), 0);
    m.n = 9;
    coremaps_fini(&m);
}
END_TEST

static const Elf64_Phdr *find_load(const char *core, const Elf64_Ehdr *eh, uint64_t addr)
{
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(core + eh->e_phoff) + i;
        if (ph->p_type == PT_LOAD && ph->p_vaddr == addr)
            return ph;
    }
    return NULL;
}

/* A traced child in a signal-delivery-stop, with one touched and one
 * MADV_DONTDUMP mapping; its core checked byte by byte. */
START_TEST(core_of_a_traced_child)
{
    long page = sysconf(_SC_PAGESIZE);
    char *touched =
        mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *dd = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct crash_thread t = {0};
    struct crash c = {.sig = SIGUSR2, .threads = &t, .n_threads = 1};
    struct core *k = NULL;
    struct core_result res;
    const char *dir = unit_tmpdir();
    char path[256], *core;
    const Elf64_Ehdr *eh;
    const Elf64_Phdr *ph;
    struct stat st;
    int status, fd;
    pid_t pid;

    ck_assert(touched != MAP_FAILED && dd != MAP_FAILED);
    ck_assert_int_eq(madvise(dd, page, MADV_DONTDUMP), 0);
    pid = fork();
    if (pid == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        memset(touched, 'a', page);
        memset(touched + 2 * page, 'b', page);
        memset(dd, 'c', page);
        kill(getpid(), SIGUSR2);
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSTOPPED(status) && WSTOPSIG(status) == SIGUSR2);
    c.pid = c.tid = t.tid = pid;
    ck_assert_int_eq(core_prepare(&c, &k), 0);
    ck_assert_int_eq(core_write(k, dir, 0, &res), 0);
    ck_assert_int_eq(core_write(k, dir, 0, &res), -EEXIST);
    core_free(k);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    ck_assert_uint_eq(res.n_threads, 1);
    ck_assert(!res.is_truncated);
    snprintf(path, sizeof(path), "%s/core", dir);
    fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fstat(fd, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_uint_eq((uint64_t)st.st_size, res.size);
    core = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    ck_assert(core != MAP_FAILED);
    eh = (const Elf64_Ehdr *)core;
    ck_assert_mem_eq(eh->e_ident, ELFMAG, SELFMAG);
    ck_assert_uint_eq(eh->e_type, ET_CORE);
    ck_assert_uint_eq(eh->e_machine, arch_core()->e_machine);
    ck_assert_uint_eq(((const Elf64_Phdr *)(core + eh->e_phoff))->p_type, PT_NOTE);
    ph = find_load(core, eh, (uint64_t)(uintptr_t)touched);
    ck_assert_ptr_nonnull(ph);
    ck_assert_uint_eq(ph->p_filesz, 4 * (uint64_t)page);
    ck_assert_uint_eq(ph->p_offset % (uint64_t)page, 0);
    ck_assert_uint_eq(ph->p_flags, PF_R | PF_W);
    ck_assert_int_eq(core[ph->p_offset], 'a');
    ck_assert_int_eq(core[ph->p_offset + page], 0);
    ck_assert_int_eq(core[ph->p_offset + 2 * page + page - 1], 'b');
    ph = find_load(core, eh, (uint64_t)(uintptr_t)dd);
    ck_assert_ptr_nonnull(ph);
    ck_assert_uint_eq(ph->p_filesz, 0);
    munmap(core, (size_t)st.st_size);
    close(fd);
}
END_TEST

Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, core_arch_description_matches_the_layouts);
    tcase_add_test(tc, core_notes_are_padded_to_4);
    tcase_add_test(tc, core_smaps_parse_keeps_what_the_rules_need);
    tcase_add_test(tc, core_rules_follow_the_kernel);
    tcase_add_test(tc, core_filter_parses_hex);
    tcase_add_test(tc, core_file_note_lists_file_mappings);
    tcase_add_test(tc, core_of_a_traced_child);
    suite_add_tcase(s, tc);
    return s;
}

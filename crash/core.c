// SPDX-License-Identifier: MIT
/*
 * See core.h. The file, as the kernel lays it out:
 *
 *   Elf64_Ehdr | PT_NOTE, one PT_LOAD per mapping in address order
 *   [| one SHT_NULL section header holding the segment count past 65534]
 *   | notes (corenotes.c) | page-aligned memory, mappings in address order
 *
 * Pages are read with process_vm_readv in CORE_CHUNK steps (pread on
 * /proc/PID/mem where that fails; what neither reads is left zero), and
 * all-zero pages are not written: holes, like the anonymous pages pagemap
 * says were never touched, which are not even read.
 *
 * Everything is planned before the first byte is written (offsets, sizes,
 * the max_bytes cut), so the headers go out first and memory is streamed.
 */
#include "core.h"

#include "arch.h"
#include "clock.h"
#include "fdio.h"
#include "log.h"
#include "macro.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define PROC_SMALL_MAX (64u << 10) /* coredump_filter */

struct core {
    pid_t pid;
    uint64_t page;
    uint64_t t0_ns;
    struct coremaps maps;
    uint64_t *filesz; /* per mapping: bytes to store */
    struct corenotes notes;
    size_t n_threads;
    int mem_fd;     /* /proc/PID/mem, -1: none */
    int pagemap_fd; /* /proc/PID/pagemap, -1: none */
    bool can_vm_read;
};

static int read_proc(pid_t pid, const char *what, size_t max, char **ret, size_t *ret_len)
{
    char path[96];

    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
    return fdio_read_file(path, max, ret, ret_len);
}

/* Read len bytes of the app's memory at addr into buf; what cannot be
 * read (a page at a time) is zeros. */
static void read_mem(struct core *k, uint64_t addr, char *buf, size_t len)
{
    struct iovec local = {buf, len};
    struct iovec remote = {(void *)(uintptr_t)addr, len}; /* NOLINT(performance-no-int-to-ptr) */
    ssize_t n = k->can_vm_read ? process_vm_readv(k->pid, &local, 1, &remote, 1, 0) : -1;
    size_t got = n > 0 ? (size_t)n : 0;

    if (n < 0 && (errno == EPERM || errno == ENOSYS))
        k->can_vm_read = false;
    while (got < len) {
        uint64_t at = addr + got;
        size_t skip = (size_t)(k->page - at % k->page);
        ssize_t m = k->mem_fd >= 0 ? pread(k->mem_fd, buf + got, len - got, (off_t)at) : -1;
        if (m > 0) {
            got += (size_t)m;
            continue;
        }
        if (skip > len - got)
            skip = len - got;
        memset(buf + got, 0, skip);
        got += skip;
    }
}

/* Mappings the rules give a header page: only if "\x7fELF" starts them. */
static bool starts_with_elf(struct core *k, uint64_t addr)
{
    char magic[SELFMAG];

    read_mem(k, addr, magic, sizeof(magic));
    return memcmp(magic, ELFMAG, SELFMAG) == 0;
}

static int plan(struct core *k)
{
    cleanup_free char *text = NULL;
    size_t len;
    unsigned filter = COREMAPS_FILTER_DEFAULT;
    int r;

    if (read_proc(k->pid, "coredump_filter", PROC_SMALL_MAX, &text, &len) == 0)
        coremaps_parse_filter(text, len, &filter);
    free(take_ptr(&text));
    r = read_proc(k->pid, "smaps", CORE_SMAPS_MAX, &text, &len);
    if (r < 0)
        return r;
    r = coremaps_parse_smaps(text, len, &k->maps);
    if (r < 0)
        return r;
    k->filesz = calloc(k->maps.n + 1, sizeof(*k->filesz));
    if (!k->filesz)
        return -ENOMEM;
    for (size_t i = 0; i < k->maps.n; i++) {
        const struct coremaps_map *m = &k->maps.v[i];
        switch (coremaps_rule(m, filter)) {
        case COREMAPS_WHOLE:
            k->filesz[i] = m->end - m->start;
            break;
        case COREMAPS_HEADER:
            if (m->end - m->start >= k->page && starts_with_elf(k, m->start))
                k->filesz[i] = k->page;
            break;
        case COREMAPS_NONE:
            break;
        }
    }
    return 0;
}

static int open_proc(pid_t pid, const char *what)
{
    char path[64];

    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
    return RETRY_EINTR(open(path, O_RDONLY | O_CLOEXEC));
}

int core_prepare(const struct crash *c, struct core **ret)
{
    struct core *k;
    long page = sysconf(_SC_PAGESIZE);
    int r;

    if (c->pid <= 0 || c->tid <= 0)
        return -EINVAL;
    k = calloc(1, sizeof(*k));
    if (!k)
        return -ENOMEM;
    k->t0_ns = clock_mono_ns();
    k->pid = c->pid;
    k->page = page > 0 ? (uint64_t)page : 4096;
    k->can_vm_read = true;
    k->mem_fd = open_proc(c->pid, "mem");
    k->pagemap_fd = open_proc(c->pid, "pagemap");
    r = plan(k);
    if (r == 0)
        r = corenotes_build(c, &k->maps, k->page, &k->notes, &k->n_threads);
    if (r < 0) {
        core_free(k);
        return r;
    }
    *ret = k;
    return 0;
}

struct core *core_free(struct core *k)
{
    if (!k)
        return NULL;
    coremaps_fini(&k->maps);
    corenotes_fini(&k->notes);
    free(k->filesz);
    if (k->mem_fd >= 0)
        close(k->mem_fd);
    if (k->pagemap_fd >= 0)
        close(k->pagemap_fd);
    free(k);
    return NULL;
}

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = RETRY_EINTR(pwrite(fd, p, len, (off_t)off));
        if (n < 0)
            return neg_errno();
        if (n == 0)
            return -EIO;
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

static bool is_zero(const char *p, size_t n)
{
    return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* Write the non-zero pages of buf at off; zero pages stay holes. */
static int write_nonzero(int fd, const char *buf, size_t len, uint64_t off, size_t page)
{
    size_t i = 0;

    while (i < len) {
        size_t j = i;
        int r;
        if (is_zero(buf + i, len - i < page ? len - i : page)) {
            i += page;
            continue;
        }
        while (j < len && !is_zero(buf + j, len - j < page ? len - j : page))
            j += page;
        if (j > len)
            j = len;
        r = pwrite_all(fd, buf + i, j - i, off + i);
        if (r < 0)
            return r;
        i = j;
    }
    return 0;
}

static int copy_range(struct core *k, int fd, uint64_t addr, uint64_t off, size_t len, char *buf)
{
    read_mem(k, addr, buf, len);
    return write_nonzero(fd, buf, len, off, (size_t)k->page);
}

/* Like copy_range, but pages pagemap calls neither present nor swapped
 * (never written) are not even read. */
static int copy_present(struct core *k, int fd, uint64_t addr, uint64_t off, size_t len, char *buf)
{
    uint64_t ents[CORE_CHUNK / 4096];
    size_t pages = (size_t)((len + k->page - 1) / k->page);
    const uint64_t used = 3ULL << 62; /* present, swapped */

    if (pages > ARRAY_SIZE(ents) ||
        pread(k->pagemap_fd, ents, pages * sizeof(*ents), (off_t)(addr / k->page * 8)) !=
            (ssize_t)(pages * sizeof(*ents)))
        return copy_range(k, fd, addr, off, len, buf);
    for (size_t i = 0; i < pages;) {
        size_t j = i;
        uint64_t at = i * k->page;
        int r;
        if (!(ents[i] & used)) {
            i++;
            continue;
        }
        while (j < pages && (ents[j] & used))
            j++;
        r = copy_range(k, fd, addr + at, off + at, (size_t)(j * k->page - at), buf);
        if (r < 0)
            return r;
        i = j;
    }
    return 0;
}

/* Copy size bytes of mapping m to off; *ret_done: how many are in place. */
static int copy_map(struct core *k, int fd, const struct coremaps_map *m, uint64_t off,
                    uint64_t size, char *buf, uint64_t *ret_done)
{
    bool is_sparse = k->pagemap_fd >= 0 && coremaps_is_anon_private(m);

    for (uint64_t pos = 0; pos < size; pos += CORE_CHUNK) {
        size_t n = size - pos < CORE_CHUNK ? (size_t)(size - pos) : CORE_CHUNK;
        int r = is_sparse ? copy_present(k, fd, m->start + pos, off + pos, n, buf)
                          : copy_range(k, fd, m->start + pos, off + pos, n, buf);
        if (r < 0) {
            *ret_done = pos;
            return r;
        }
    }
    *ret_done = size;
    return 0;
}

/* Where everything goes. */
struct layout {
    size_t phnum;       /* PT_NOTE + one PT_LOAD per mapping */
    uint64_t notes_off; /* after the headers (and the PN_XNUM section header) */
    uint64_t end;       /* of the memory data */
    uint64_t *off;      /* per mapping */
    bool is_truncated;
};

static int by_size(const void *a, const void *b, void *arg)
{
    const uint64_t *sz = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;

    if (sz[i] != sz[j])
        return sz[i] < sz[j] ? -1 : 1;
    return i < j ? -1 : (i > j);
}

/* Fit the mappings into budget bytes, smallest first, so that the cut
 * loses the largest (heaps) and keeps stacks and small mappings; the one
 * that does not fit keeps what does, the larger ones nothing. */
static int fit(struct core *k, uint64_t budget)
{
    cleanup_free size_t *order = calloc(k->maps.n + 1, sizeof(*order));

    if (!order)
        return -ENOMEM;
    for (size_t i = 0; i < k->maps.n; i++)
        order[i] = i;
    qsort_r(order, k->maps.n, sizeof(*order), by_size, k->filesz);
    for (size_t j = 0; j < k->maps.n; j++) {
        uint64_t *sz = &k->filesz[order[j]];
        if (*sz > budget)
            *sz = budget / k->page * k->page;
        budget -= *sz;
    }
    return 0;
}

/* Offsets in address order (elfutils' readers expect file offsets to
 * grow with addresses), page-aligned after the notes. */
static int lay_out(struct core *k, uint64_t max_bytes, struct layout *l)
{
    uint64_t pos, total = 0;

    l->phnum = k->maps.n + 1;
    l->notes_off = sizeof(Elf64_Ehdr) + l->phnum * sizeof(Elf64_Phdr) +
                   (l->phnum >= PN_XNUM ? sizeof(Elf64_Shdr) : 0);
    pos = (l->notes_off + k->notes.len + k->page - 1) / k->page * k->page;
    l->off = calloc(k->maps.n + 1, sizeof(*l->off));
    if (!l->off)
        return -ENOMEM;
    for (size_t i = 0; i < k->maps.n; i++)
        total += k->filesz[i];
    if (max_bytes > 0 && pos + total > max_bytes) {
        int r = fit(k, max_bytes > pos ? max_bytes - pos : 0);
        if (r < 0)
            return r;
        l->is_truncated = true;
    }
    for (size_t i = 0; i < k->maps.n; i++) {
        l->off[i] = pos;
        pos += k->filesz[i];
    }
    l->end = pos;
    return 0;
}

static int write_phdrs(const struct core *k, int fd, const struct layout *l)
{
    Elf64_Phdr ph[64];
    size_t n = 0;
    uint64_t at = sizeof(Elf64_Ehdr);

    if (!l->off)
        return -EINVAL;
    ph[n++] = (Elf64_Phdr){
        .p_type = PT_NOTE, .p_offset = l->notes_off, .p_filesz = k->notes.len, .p_align = 4};
    for (size_t i = 0; i <= k->maps.n; i++) {
        if (n == ARRAY_SIZE(ph) || i == k->maps.n) {
            int r = pwrite_all(fd, ph, n * sizeof(*ph), at);
            if (r < 0 || i == k->maps.n)
                return r;
            at += n * sizeof(*ph);
            n = 0;
        }
        {
            const struct coremaps_map *m = &k->maps.v[i];
            ph[n++] = (Elf64_Phdr){
                .p_type = PT_LOAD,
                .p_flags = (m->perms[0] == 'r' ? PF_R : 0) | (m->perms[1] == 'w' ? PF_W : 0) |
                           (m->perms[2] == 'x' ? PF_X : 0),
                .p_offset = l->off[i],
                .p_vaddr = m->start,
                .p_filesz = k->filesz[i],
                .p_memsz = m->end - m->start,
                .p_align = k->page,
            };
        }
    }
    return 0;
}

static int write_headers(const struct core *k, int fd, const struct layout *l)
{
    bool is_xnum = l->phnum >= PN_XNUM;
    Elf64_Ehdr eh = {
        .e_ident = {ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64,
                    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB,
                    EV_CURRENT, ELFOSABI_NONE},
        .e_type = ET_CORE,
        .e_machine = arch_core()->e_machine,
        .e_version = EV_CURRENT,
        .e_phoff = sizeof(Elf64_Ehdr),
        .e_shoff = is_xnum ? sizeof(Elf64_Ehdr) + l->phnum * sizeof(Elf64_Phdr) : 0,
        .e_ehsize = sizeof(Elf64_Ehdr),
        .e_phentsize = sizeof(Elf64_Phdr),
        .e_phnum = (Elf64_Half)(is_xnum ? PN_XNUM : l->phnum),
        .e_shentsize = is_xnum ? sizeof(Elf64_Shdr) : 0,
        .e_shnum = is_xnum ? 1 : 0,
    };
    /* More than 65534 segments: the real count in the one section header. */
    Elf64_Shdr sh = {.sh_type = SHT_NULL, .sh_info = (Elf64_Word)l->phnum};
    int r = pwrite_all(fd, &eh, sizeof(eh), 0);

    if (r == 0)
        r = write_phdrs(k, fd, l);
    if (r == 0 && is_xnum)
        r = pwrite_all(fd, &sh, sizeof(sh), eh.e_shoff);
    if (r == 0)
        r = pwrite_all(fd, k->notes.p, k->notes.len, l->notes_off);
    return r;
}

/* The disk filled up (or another write error) while writing mapping i:
 * keep what is in place, drop the rest, and make the headers say so. */
static void cut(struct core *k, int fd, struct layout *l, size_t i, uint64_t done, int err)
{
    log_warn_errno(err, "core of pid %d: writing stopped at %#llx; the core is truncated",
                   (int)k->pid, (unsigned long long)k->maps.v[i].start);
    k->filesz[i] = done;
    l->end = l->off[i] + done;
    for (i++; i < k->maps.n; i++)
        k->filesz[i] = 0;
    l->is_truncated = true;
    write_phdrs(k, fd, l);
}

static int write_memory(struct core *k, int fd, struct layout *l)
{
    char *buf = malloc(CORE_CHUNK);

    if (!buf)
        return -ENOMEM;
    for (size_t i = 0; i < k->maps.n; i++) {
        uint64_t done = 0;
        int r;
        if (k->filesz[i] == 0)
            continue;
        r = copy_map(k, fd, &k->maps.v[i], l->off[i], k->filesz[i], buf, &done);
        if (r < 0) {
            cut(k, fd, l, i, done, r);
            break;
        }
    }
    free(buf);
    return RETRY_EINTR(ftruncate(fd, (off_t)l->end)) < 0 ? neg_errno() : 0;
}

int core_write(struct core *k, const char *dir, uint64_t max_bytes, struct core_result *ret)
{
    char path[4096];
    cleanup_close int fd = -1;
    struct layout l = {0};
    struct stat st = {0};
    int r;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, CORE_FILE_NAME) >= sizeof(path))
        return -ENAMETOOLONG;
    fd = RETRY_EINTR(open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd < 0)
        return neg_errno();
    r = fchmod(fd, 0600) < 0 ? neg_errno() : lay_out(k, max_bytes, &l);
    if (r == 0)
        r = write_headers(k, fd, &l);
    if (r == 0)
        r = write_memory(k, fd, &l);
    if (r == 0 && fstat(fd, &st) < 0)
        r = neg_errno();
    free(l.off);
    if (r < 0) {
        unlink(path);
        return r;
    }
    *ret = (struct core_result){
        .size = (uint64_t)st.st_size,
        .allocated = (uint64_t)st.st_blocks * 512,
        .ms = (clock_mono_ns() - k->t0_ns) / 1000000,
        .n_threads = k->n_threads,
        .n_maps = k->maps.n,
        .is_truncated = l.is_truncated,
    };
    return 0;
}

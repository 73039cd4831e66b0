// SPDX-License-Identifier: MIT
/*
 * See elfid.h. The cache is a direct-mapped table: a collision replaces
 * the older entry, which is only read again if it comes back.
 */
#include "elfid.h"

#include "macro.h"

#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ELFID_CACHE_SLOTS 512

struct slot {
    bool is_used;
    uint64_t dev, ino;
    struct elfid id;
};

struct elfid_cache {
    struct slot slots[ELFID_CACHE_SLOTS];
    struct elfid scratch; /* the result when there is no cache */
};

static void to_hex(const unsigned char *bits, size_t len, char *out, size_t size)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len && 2 * i + 2 < size; i++) {
        out[2 * i] = digits[bits[i] >> 4];
        out[2 * i + 1] = digits[bits[i] & 0xf];
    }
    out[2 * i] = '\0';
}

int elfid_read_fd(int fd, struct elfid *ret)
{
    Elf *elf;
    size_t n_phdrs = 0;
    const void *bits = NULL;
    ssize_t len;

    memset(ret, 0, sizeof(*ret));
    if (elf_version(EV_CURRENT) == EV_NONE)
        return -ENOSYS;
    elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (!elf)
        return -EIO;
    if (elf_kind(elf) != ELF_K_ELF) {
        elf_end(elf);
        return 0;
    }
    ret->is_elf = true;
    if (elf_getphdrnum(elf, &n_phdrs) == 0)
        for (size_t i = 0; i < n_phdrs; i++) {
            GElf_Phdr ph;
            if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_INTERP)
                ret->is_dynamic = true;
        }
    len = dwelf_elf_gnu_build_id(elf, &bits);
    if (len > 0 && bits)
        to_hex(bits, (size_t)len, ret->build_id, sizeof(ret->build_id));
    elf_end(elf);
    return 0;
}

struct elfid_cache *elfid_cache_new(void)
{
    return calloc(1, sizeof(struct elfid_cache));
}

struct elfid_cache *elfid_cache_free(struct elfid_cache *c)
{
    free(c);
    return NULL;
}

static int read_path(const char *path, struct elfid *ret)
{
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    if (fd < 0)
        return neg_errno();
    return elfid_read_fd(fd, ret);
}

const struct elfid *elfid_lookup(struct elfid_cache *c, uint64_t dev, uint64_t ino,
                                 const char *path)
{
    static struct elfid uncached; /* without a cache: one thread only, as documented */
    struct slot *s;

    if (!c)
        return read_path(path, &uncached) == 0 ? &uncached : NULL;
    s = &c->slots[(ino * 0x9e3779b97f4a7c15ULL ^ dev) % ELFID_CACHE_SLOTS];
    if (s->is_used && s->dev == dev && s->ino == ino)
        return &s->id;
    if (read_path(path, &c->scratch) < 0)
        return NULL;
    *s = (struct slot){.is_used = true, .dev = dev, .ino = ino, .id = c->scratch};
    return &s->id;
}

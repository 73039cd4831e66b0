// SPDX-License-Identifier: MIT
/* See debugfile.h. */
#include "debugfile.h"

#include "macro.h"

#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static uint32_t file_crc32(int fd)
{
    cleanup_free unsigned char *buf = malloc(65536);
    uLong crc = crc32(0L, Z_NULL, 0);
    off_t off = 0;
    ssize_t n;

    if (!buf)
        return 0;
    while ((n = pread(fd, buf, 65536, off)) > 0) {
        crc = crc32(crc, buf, (uInt)n);
        off += n;
    }
    return (uint32_t)crc;
}

/* Is the file at fd mod's debug file: the same build-id when mod has one,
 * else the CRC32 .gnu_debuglink names. */
static bool debug_file_matches(Dwfl_Module *mod, int fd, GElf_Word crc)
{
    const unsigned char *bits;
    const void *dbits = NULL;
    GElf_Addr vaddr;
    int len = dwfl_module_build_id(mod, &bits, &vaddr);
    Elf *elf;
    ssize_t dlen;
    bool is_match;

    if (len <= 0)
        return file_crc32(fd) == crc;
    elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (!elf)
        return false;
    dlen = dwelf_elf_gnu_build_id(elf, &dbits);
    is_match = dlen == len && memcmp(dbits, bits, (size_t)len) == 0;
    elf_end(elf);
    return is_match;
}

/* The .gnu_debuglink places: beside the file, in .debug/ beside it, and
 * under /usr/lib/debug. Returns an fd (owned by libdw) or -1. */
static int find_debuglink(Dwfl_Module *mod, const char *file_name, const char *link, GElf_Word crc,
                          char **ret_name)
{
    const char *slash = strrchr(file_name, '/');
    int dirlen = slash ? (int)(slash - file_name) : 1;
    const char *dir = slash ? file_name : ".";
    static const char *const before[] = {"", "", "/usr/lib/debug"};
    static const char *const after[] = {"", "/.debug", ""};
    struct stat main_st, st;

    if (stat(file_name, &main_st) < 0)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(before); i++) {
        cleanup_free char *path = NULL;
        int fd;

        if (asprintf(&path, "%s%.*s%s/%s", before[i], dirlen, dir, after[i], link) < 0)
            return -1;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        if (fstat(fd, &st) == 0 && !(st.st_dev == main_st.st_dev && st.st_ino == main_st.st_ino) &&
            debug_file_matches(mod, fd, crc)) {
            *ret_name = take_ptr(&path);
            return fd;
        }
        close(fd);
    }
    return -1;
}

int debugfile_find(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                   const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
                   char **debuginfo_file_name)
{
    int fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                          debuglink_crc, debuginfo_file_name);

    if (fd >= 0 || !file_name || !debuglink_file)
        return fd;
    return find_debuglink(mod, file_name, debuglink_file, debuglink_crc, debuginfo_file_name);
}

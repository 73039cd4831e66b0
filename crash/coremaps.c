// SPDX-License-Identifier: MIT
/*
 * See coremaps.h. smaps is a header line per mapping (the maps format,
 * parsed by procinfo) followed by "Key: value" lines; only Anonymous,
 * Swap and VmFlags matter here. A key line before any header, or one that
 * does not parse, is ignored. The rules mirror the kernel's vma_dump_size
 * with what userspace can see: "Anonymous: > 0 or Swap: > 0" stands for
 * the kernel's anon_vma test.
 */
#include "coremaps.h"

#include "crash.h"
#include "procinfo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void coremaps_fini(struct coremaps *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->v[i].path);
    free(m->v);
    *m = (struct coremaps){0};
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* A header line starts with lower-case hex digits and a '-'; key lines
 * start with a word and a ':'. */
static bool is_header(const char *line, size_t len)
{
    size_t i = 0;

    while (i < len && i < 17 && hex_value(line[i]) >= 0)
        i++;
    return i > 0 && i < len && line[i] == '-';
}

/* The decimal number after "Key:" and spaces, or 0. */
static uint64_t kb_value(const char *p, const char *end)
{
    uint64_t v = 0;

    while (p < end && *p == ' ')
        p++;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        if (v > UINT64_MAX / 10 - 1)
            return UINT64_MAX / 1024;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    return v;
}

static unsigned vmflags_value(const char *p, const char *end)
{
    static const struct {
        char name[3];
        unsigned bit;
    } known[] = {
        {"dd", COREMAPS_VM_DONTDUMP},
        {"io", COREMAPS_VM_IO},
        {"sh", COREMAPS_VM_SHARED},
        {"ht", COREMAPS_VM_HUGETLB},
    };
    unsigned v = 0;

    /* Two-letter flags separated by spaces. */
    while (p < end) {
        const char *t;
        while (p < end && *p == ' ')
            p++;
        for (t = p; p < end && *p != ' ';)
            p++;
        if (p - t != 2)
            continue;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            if (t[0] == known[i].name[0] && t[1] == known[i].name[1])
                v |= known[i].bit;
    }
    return v;
}

static bool has_key(const char *line, size_t len, const char *key, const char **ret_value)
{
    size_t n = strlen(key);

    if (len < n || memcmp(line, key, n) != 0)
        return false;
    *ret_value = line + n;
    return true;
}

static void apply_key(struct coremaps_map *m, const char *line, size_t len)
{
    const char *end = line + len, *v;

    if (has_key(line, len, "Anonymous:", &v))
        m->anon_kb = kb_value(v, end);
    else if (has_key(line, len, "Swap:", &v))
        m->swap_kb = kb_value(v, end);
    else if (has_key(line, len, "VmFlags:", &v))
        m->vmflags = vmflags_value(v, end);
}

static int append(struct coremaps *m, const struct crash_map *cm)
{
    struct coremaps_map *e;

    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        struct coremaps_map *v = realloc(m->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        m->v = v;
        m->cap = cap;
    }
    e = &m->v[m->n++];
    *e = (struct coremaps_map){
        .start = cm->start, .end = cm->end, .offset = cm->offset, .path = cm->path};
    memcpy(e->perms, cm->perms, sizeof(e->perms));
    return 0;
}

int coremaps_parse_smaps(const char *text, size_t len, struct coremaps *m)
{
    const char *p = text, *end = text + len;
    bool is_in_map = false;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (is_header(p, n)) {
            struct crash_map cm;
            int r = procinfo_parse_maps_line(p, n, &cm);
            if (r == -ENOMEM)
                return r;
            if (r == 0 && m->n >= COREMAPS_MAX) {
                free(cm.path);
                break;
            }
            if (r == 0 && append(m, &cm) < 0) {
                free(cm.path);
                return -ENOMEM;
            }
            is_in_map = r == 0;
        } else if (is_in_map && !memchr(p, '\0', n)) {
            apply_key(&m->v[m->n - 1], p, n);
        }
        p += n + (nl != NULL);
    }
    return (int)(m->n < (size_t)INT32_MAX ? m->n : INT32_MAX);
}

int coremaps_parse_filter(const char *text, size_t len, unsigned *ret)
{
    uint64_t v = 0;
    size_t i = 0;

    for (; i < len && hex_value(text[i]) >= 0; i++) {
        if (i == 8)
            return -EINVAL;
        v = v << 4 | (uint64_t)hex_value(text[i]);
    }
    if (i == 0 || (i < len && text[i] != '\n' && text[i] != '\0'))
        return -EINVAL;
    *ret = (unsigned)v;
    return 0;
}

bool coremaps_is_file(const struct coremaps_map *m)
{
    return m->path && m->path[0] == '/';
}

/* Anonymous memory: no name, or one that /proc gives it ([heap],
 * [stack], [anon:NAME] set with PR_SET_VMA). Not [vdso] and the other
 * special mappings: their pages come from a fault handler. */
static bool is_anon(const struct coremaps_map *m)
{
    return !m->path || strcmp(m->path, "[heap]") == 0 || strncmp(m->path, "[stack", 6) == 0 ||
           strncmp(m->path, "[anon:", 6) == 0;
}

bool coremaps_is_anon_private(const struct coremaps_map *m)
{
    return is_anon(m) && m->perms[3] == 'p' && !(m->vmflags & COREMAPS_VM_SHARED);
}

static bool is_named(const struct coremaps_map *m, const char *name)
{
    return m->path && strcmp(m->path, name) == 0;
}

/* Mappings whose vm_ops name them: the kernel dumps them whole, before
 * any other test. [vvar] and [vsyscall] are among them, but reading
 * them fails (EFAULT/EIO): they are never dumped here. */
static int special(const struct coremaps_map *m)
{
    if (is_named(m, "[vdso]") || is_named(m, "[uprobes]") || is_named(m, "[sigpage]") ||
        is_named(m, "[vectors]"))
        return COREMAPS_WHOLE;
    if (is_named(m, "[vsyscall]") || (m->path && strncmp(m->path, "[vvar", 5) == 0))
        return COREMAPS_NONE;
    return -1;
}

static bool is_deleted(const struct coremaps_map *m)
{
    static const char suffix[] = " (deleted)";
    size_t n = m->path ? strlen(m->path) : 0;

    return n >= sizeof(suffix) - 1 && strcmp(m->path + n - (sizeof(suffix) - 1), suffix) == 0;
}

static enum coremaps_dump by_bit(unsigned filter, unsigned bit)
{
    return (filter & bit) ? COREMAPS_WHOLE : COREMAPS_NONE;
}

enum coremaps_dump coremaps_rule(const struct coremaps_map *m, unsigned filter)
{
    int s = special(m);
    bool is_shared = (m->vmflags & COREMAPS_VM_SHARED) != 0;

    if (s >= 0)
        return (enum coremaps_dump)s;
    if (m->vmflags & COREMAPS_VM_DONTDUMP)
        return COREMAPS_NONE;
    if (m->vmflags & COREMAPS_VM_HUGETLB)
        return by_bit(filter, is_shared ? COREMAPS_HUGETLB_SHARED : COREMAPS_HUGETLB_PRIVATE);
    if (m->vmflags & COREMAPS_VM_IO)
        return COREMAPS_NONE;
    if (is_shared)
        return by_bit(filter, !coremaps_is_file(m) || is_deleted(m) ? COREMAPS_ANON_SHARED
                                                                    : COREMAPS_FILE_SHARED);
    if ((m->anon_kb > 0 || m->swap_kb > 0) && (filter & COREMAPS_ANON_PRIVATE))
        return COREMAPS_WHOLE;
    if (!coremaps_is_file(m))
        return COREMAPS_NONE;
    if (filter & COREMAPS_FILE_PRIVATE)
        return COREMAPS_WHOLE;
    if ((filter & COREMAPS_ELF_HEADERS) && m->offset == 0 && m->perms[0] == 'r')
        return COREMAPS_HEADER;
    return COREMAPS_NONE;
}

// SPDX-License-Identifier: MIT
/*
 * See corenotes.h. Thread 0's PRSTATUS goes first, then the process-wide
 * notes (built beforehand in a second buffer and spliced in), then its
 * other register sets; pr_fpvalid is set once NT_PRFPREG was read. /proc
 * files that cannot be read leave their fields 0, as in a kernel core of
 * a process whose /proc is hidden.
 */
#include "corenotes.h"

#include "arch.h"
#include "core_layout.h"
#include "fdio.h"
#include "log.h"
#include "macro.h"

#include <assert.h>
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <unistd.h>

#define PROC_SMALL_MAX (64u << 10) /* stat, status, cmdline, auxv */

/* The /proc/PID/stat fields a core uses. */
struct proc_stat {
    char state;
    int ppid, pgrp, sid, nice;
    uint64_t flags, utime, stime, cutime, cstime; /* times in clock ticks */
    char comm[CORE_FNAME_MAX];
};

size_t corenotes_size(const char *name, size_t descsz)
{
    return sizeof(Elf64_Nhdr) + ((strlen(name) + 1 + 3) & ~(size_t)3) + ((descsz + 3) & ~(size_t)3);
}

void corenotes_fini(struct corenotes *n)
{
    free(n->p);
    *n = (struct corenotes){0};
}

/* Room for need more bytes in n, up to CORENOTES_MAX. */
static int grow(struct corenotes *n, size_t need)
{
    size_t cap = n->cap ? n->cap : 16384;
    char *p;

    if (need > CORENOTES_MAX || n->len + need > CORENOTES_MAX)
        return -E2BIG;
    if (n->len + need <= n->cap)
        return 0;
    while (cap < n->len + need)
        cap *= 2;
    p = realloc(n->p, cap);
    if (!p)
        return -ENOMEM;
    n->p = p;
    n->cap = cap;
    return 0;
}

int corenotes_append(struct corenotes *n, const char *name, uint32_t type, const void *desc,
                     size_t descsz)
{
    size_t namesz = strlen(name) + 1, size, at;
    Elf64_Nhdr h = {.n_namesz = (Elf64_Word)namesz, .n_descsz = (Elf64_Word)descsz, .n_type = type};
    int r;

    if (descsz > CORENOTES_MAX)
        return -E2BIG;
    size = corenotes_size(name, descsz);
    r = grow(n, size);
    if (r < 0)
        return r;
    memset(n->p + n->len, 0, size);
    memcpy(n->p + n->len, &h, sizeof(h));
    memcpy(n->p + n->len + sizeof(h), name, namesz);
    at = n->len + sizeof(h) + ((namesz + 3) & ~(size_t)3);
    if (descsz > 0)
        memcpy(n->p + at, desc, descsz);
    n->len += size;
    return (int)at;
}

int corenotes_file(const struct coremaps *m, uint64_t page, struct corenotes *n)
{
    size_t count = 0, names = 0, size, w = 2;
    uint64_t *d;
    char *s;
    int r;

    for (size_t i = 0; i < m->n; i++) {
        if (!coremaps_is_file(&m->v[i]))
            continue;
        count++;
        names += strlen(m->v[i].path) + 1;
    }
    if (count == 0)
        return 0;
    size = (2 + 3 * count) * sizeof(uint64_t) + names;
    if (size > CORENOTES_FILE_MAX)
        return 0;
    d = calloc(1, size);
    if (!d)
        return -ENOMEM;
    d[0] = count;
    d[1] = page;
    s = (char *)(d + 2 + 3 * count);
    for (size_t i = 0; i < m->n; i++) {
        const struct coremaps_map *e = &m->v[i];
        size_t len;
        if (!coremaps_is_file(e))
            continue;
        d[w++] = e->start;
        d[w++] = e->end;
        d[w++] = e->offset / page;
        len = strlen(e->path) + 1;
        memcpy(s, e->path, len);
        s += len;
    }
    r = corenotes_append(n, "CORE", CORE_NT_FILE, d, size);
    free(d);
    return r < 0 ? r : 1;
}

static int read_proc(pid_t pid, const char *what, size_t max, char **ret, size_t *ret_len)
{
    char path[96];

    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
    return fdio_read_file(path, max, ret, ret_len);
}

/* Fields 3.. of /proc/PID/stat, after the last ')' (comm may hold any). */
static int parse_stat(const char *text, struct proc_stat *st)
{
    const char *open = strchr(text, '('), *close = strrchr(text, ')');
    unsigned long long v[16] = {0};
    const char *p;
    size_t n;

    if (!open || !close || close < open || close[1] != ' ' || !close[2])
        return -EINVAL;
    *st = (struct proc_stat){.state = close[2]};
    n = (size_t)(close - open - 1);
    memcpy(st->comm, open + 1, n < sizeof(st->comm) - 1 ? n : sizeof(st->comm) - 1);
    /* ppid pgrp sid tty tpgid flags minflt cminflt majflt cmajflt utime
     * stime cutime cstime priority nice (signed: tty, priority, nice) */
    p = close + 3;
    for (size_t i = 0; i < 16; i++) {
        char *end;
        errno = 0;
        v[i] = (unsigned long long)strtoll(p, &end, 10);
        if (end == p || errno != 0 || (*end != ' ' && *end != '\n' && *end != '\0'))
            return -EINVAL;
        p = end;
    }
    st->ppid = (int)v[0];
    st->pgrp = (int)v[1];
    st->sid = (int)v[2];
    st->flags = v[5];
    st->utime = v[10];
    st->stime = v[11];
    st->cutime = v[12];
    st->cstime = v[13];
    st->nice = (int)(long long)v[15];
    return 0;
}

static uint64_t status_hex(const char *text, const char *key)
{
    const char *p = strstr(text, key);

    return p ? strtoull(p + strlen(key), NULL, 16) : 0;
}

static uint32_t status_dec(const char *text, const char *key)
{
    const char *p = strstr(text, key);

    return p ? (uint32_t)strtoul(p + strlen(key), NULL, 10) : 0;
}

static struct core_timeval ticks_tv(uint64_t ticks)
{
    long hz = sysconf(_SC_CLK_TCK);
    uint64_t h = hz > 0 ? (uint64_t)hz : 100;

    return (struct core_timeval){(int64_t)(ticks / h), (int64_t)(ticks % h * 1000000 / h)};
}

/* The PRSTATUS head of thread tid: the signal in every thread (as the
 * kernel does), its masks and times; the leader's times are the group's. */
static void prstatus_head(pid_t pid, pid_t tid, int sig, const struct proc_stat *proc,
                          struct core_prstatus_head *h)
{
    char what[64];
    cleanup_free char *stat = NULL;
    cleanup_free char *status = NULL;
    struct proc_stat st = *proc;
    size_t len;

    snprintf(what, sizeof(what), "task/%d/stat", (int)tid);
    if (tid != pid && read_proc(pid, what, PROC_SMALL_MAX, &stat, &len) == 0)
        parse_stat(stat, &st);
    *h = (struct core_prstatus_head){
        .pr_info = {.si_signo = sig},
        .pr_cursig = (int16_t)sig,
        .pr_pid = tid,
        .pr_ppid = proc->ppid,
        .pr_pgrp = proc->pgrp,
        .pr_sid = proc->sid,
        .pr_utime = ticks_tv(st.utime),
        .pr_stime = ticks_tv(st.stime),
        .pr_cutime = ticks_tv(proc->cutime),
        .pr_cstime = ticks_tv(proc->cstime),
    };
    snprintf(what, sizeof(what), "task/%d/status", (int)tid);
    if (read_proc(pid, what, PROC_SMALL_MAX, &status, &len) == 0) {
        h->pr_sigpend = status_hex(status, "\nSigPnd:");
        h->pr_sighold = status_hex(status, "\nSigBlk:");
    }
}

/* One thread's PRSTATUS, then (for thread 0) the process-wide notes in
 * between, then its other register sets. -ESRCH: registers unreadable. */
static int add_thread(struct corenotes *n, pid_t pid, pid_t tid, int sig,
                      const struct proc_stat *proc, const struct corenotes *between, void *scratch)
{
    const struct arch_core *a = arch_core();
    char prstatus[512] = {0};
    struct core_prstatus_head h;
    struct iovec iov = {.iov_base = prstatus + a->pr_reg_offset, .iov_len = a->pr_reg_size};
    int at, r;

    assert(a->prstatus_size <= sizeof(prstatus));
    if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0 ||
        iov.iov_len != a->pr_reg_size)
        return -ESRCH;
    prstatus_head(pid, tid, sig, proc, &h);
    memcpy(prstatus, &h, sizeof(h));
    at = corenotes_append(n, "CORE", NT_PRSTATUS, prstatus, a->prstatus_size);
    if (at < 0)
        return at;
    if (between && between->len > 0) {
        r = grow(n, between->len);
        if (r < 0)
            return r;
        memcpy(n->p + n->len, between->p, between->len);
        n->len += between->len;
    }
    for (size_t i = 0; i < a->n_regsets; i++) {
        struct iovec rs = {.iov_base = scratch, .iov_len = a->regsets[i].max};
        void *type = (void *)(uintptr_t)a->regsets[i].type; /* NOLINT(performance-no-int-to-ptr) */
        if (ptrace(PTRACE_GETREGSET, tid, type, &rs) < 0 || rs.iov_len == 0)
            continue;
        r = corenotes_append(n, a->regsets[i].name, a->regsets[i].type, scratch, rs.iov_len);
        if (r < 0)
            return r;
        if (i == 0) {
            int32_t one = 1;
            memcpy(n->p + at + a->pr_fpvalid_offset, &one, sizeof(one));
        }
    }
    return 0;
}

static void prpsinfo(pid_t pid, const struct proc_stat *st, struct core_prpsinfo *p)
{
    static const char states[] = "RSDTZW";
    cleanup_free char *status = NULL;
    cleanup_free char *cmdline = NULL;
    /* 't' (the tracer's stop) is ours: the process was running. */
    char state = st->state;
    const char *s;

    if (state == 't')
        state = 'R';
    s = state ? strchr(states, state) : NULL;
    size_t len;

    *p = (struct core_prpsinfo){
        .pr_state = (char)(s ? s - states : 0),
        .pr_sname = '.',
        .pr_zomb = (char)(state == 'Z'),
        .pr_nice = (char)st->nice,
        .pr_flag = st->flags,
        .pr_pid = pid,
        .pr_ppid = st->ppid,
        .pr_pgrp = st->pgrp,
        .pr_sid = st->sid,
    };
    if (s)
        p->pr_sname = state;
    memcpy(p->pr_fname, st->comm, sizeof(p->pr_fname));
    if (read_proc(pid, "status", PROC_SMALL_MAX, &status, &len) == 0) {
        p->pr_uid = status_dec(status, "\nUid:\t");
        p->pr_gid = status_dec(status, "\nGid:\t");
    }
    if (read_proc(pid, "cmdline", PROC_SMALL_MAX, &cmdline, &len) == 0) {
        size_t i;
        for (i = 0; i < len && i < sizeof(p->pr_psargs) - 1; i++)
            p->pr_psargs[i] = cmdline[i];
        for (size_t j = 0; j < i; j++)
            if (!p->pr_psargs[j])
                p->pr_psargs[j] = ' ';
        while (i > 0 && p->pr_psargs[i - 1] == ' ')
            p->pr_psargs[--i] = '\0';
    }
}

/* PRPSINFO, SIGINFO, AUXV and FILE: what goes right after thread 0. */
static int process_notes(const struct crash *c, const struct coremaps *m, uint64_t page,
                         const struct proc_stat *st, struct corenotes *n)
{
    struct core_prpsinfo ps;
    siginfo_t si;
    cleanup_free char *auxv = NULL;
    size_t len;
    int r;

    prpsinfo(c->pid, st, &ps);
    r = corenotes_append(n, "CORE", NT_PRPSINFO, &ps, sizeof(ps));
    _Static_assert(sizeof(si) == CORE_SIGINFO_SIZE, "siginfo_t size");
    if (r >= 0 && ptrace(PTRACE_GETSIGINFO, c->tid, 0, &si) == 0)
        r = corenotes_append(n, "CORE", CORE_NT_SIGINFO, &si, sizeof(si));
    if (r >= 0 && read_proc(c->pid, "auxv", PROC_SMALL_MAX, &auxv, &len) == 0 && len > 0)
        r = corenotes_append(n, "CORE", NT_AUXV, auxv, len);
    if (r >= 0)
        r = corenotes_file(m, page, n);
    return r < 0 ? r : 0;
}

static int build(const struct crash *c, const struct coremaps *m, uint64_t page,
                 struct corenotes *n, void *scratch, size_t *ret_threads)
{
    cleanup_free char *stat = NULL;
    struct corenotes between = {0};
    struct proc_stat st = {0};
    size_t len, threads = 1;
    int r;

    if (read_proc(c->pid, "stat", PROC_SMALL_MAX, &stat, &len) == 0)
        parse_stat(stat, &st);
    r = process_notes(c, m, page, &st, &between);
    if (r == 0)
        r = add_thread(n, c->pid, c->tid, c->sig, &st, &between, scratch);
    corenotes_fini(&between);
    if (r < 0)
        return r;
    for (size_t i = 1; i < c->n_threads; i++) {
        r = add_thread(n, c->pid, c->threads[i].tid, c->sig, &st, NULL, scratch);
        if (r == -E2BIG) {
            log_warn("core of pid %d: notes over %u bytes; threads after the %zuth left out",
                     (int)c->pid, CORENOTES_MAX, threads);
            break;
        }
        if (r == -ENOMEM)
            return r;
        threads += r == 0;
    }
    *ret_threads = threads;
    return 0;
}

int corenotes_build(const struct crash *c, const struct coremaps *m, uint64_t page,
                    struct corenotes *n, size_t *ret_threads)
{
    const struct arch_core *a = arch_core();
    size_t max = 64;
    void *scratch;
    int r;

    for (size_t i = 0; i < a->n_regsets; i++)
        max = a->regsets[i].max > max ? a->regsets[i].max : max;
    scratch = malloc(max);
    if (!scratch)
        return -ENOMEM;
    r = build(c, m, page, n, scratch, ret_threads);
    free(scratch);
    return r;
}

// SPDX-License-Identifier: MIT
/*
 * See procinfo.h. Each file is read whole (with a cap) and parsed by
 * hand; /proc/PID/stat is split after the last ')' because comm may hold
 * spaces and parentheses. Maps are read line by line and capped at
 * PROCINFO_MAPS_MAX entries.
 */
#include "procinfo.h"

#include "fdio.h"
#include "log.h"
#include "macro.h"
#include "strv.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define STAT_MAX    8192        /* /proc/PID/stat and status are far smaller */
#define STATUS_MAX  (64u << 10) /* /proc/PID/status */
#define CMDLINE_MAX (64u << 10) /* argv bytes kept; a longer cmdline is cut */
#define ARGV_MAX    1024        /* arguments kept */

/* SIGSYS codes from the kernel's uapi <asm-generic/siginfo.h>; glibc's
 * <signal.h> does not define them (musl does). */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif
#ifndef SYS_USER_DISPATCH
#define SYS_USER_DISPATCH 2
#endif

/* A cursor over a byte range that is not NUL-terminated. */
struct cursor {
    const char *p, *end;
};

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* 1 to 16 hex digits. */
static int take_hex(struct cursor *c, uint64_t *ret)
{
    uint64_t v = 0;
    size_t n = 0;

    for (; c->p < c->end && hex_digit(*c->p) >= 0; c->p++, n++) {
        if (n == 16)
            return -EINVAL;
        v = v << 4 | (uint64_t)hex_digit(*c->p);
    }
    if (n == 0)
        return -EINVAL;
    *ret = v;
    return 0;
}

/* 1 to 20 decimal digits (the inode; a 20-digit overflow wraps). */
static int take_dec(struct cursor *c, uint64_t *ret)
{
    uint64_t v = 0;
    size_t n = 0;

    for (; c->p < c->end && *c->p >= '0' && *c->p <= '9'; c->p++, n++)
        v = v * 10 + (uint64_t)(*c->p - '0');
    if (n < 1 || n > 20)
        return -EINVAL;
    *ret = v;
    return 0;
}

static int take_char(struct cursor *c, char ch)
{
    if (c->p >= c->end || *c->p != ch)
        return -EINVAL;
    c->p++;
    return 0;
}

static int take_perms(struct cursor *c, char perms[5])
{
    static const char allowed[4][3] = {"r-", "w-", "x-", "ps"};

    if (c->end - c->p < 4)
        return -EINVAL;
    for (size_t i = 0; i < 4; i++) {
        if (c->p[i] == '\0' || !memchr(allowed[i], c->p[i], 2))
            return -EINVAL;
        perms[i] = c->p[i];
    }
    perms[4] = '\0';
    c->p += 4;
    return 0;
}

int procinfo_parse_maps_line(const char *line, size_t len, struct crash_map *m)
{
    struct cursor c = {line, line + len};
    struct crash_map v = {0};
    uint64_t dev_major, dev_minor;
    char *path = NULL;

    if (len > 0 && line[len - 1] == '\n')
        c.end--;
    if (memchr(line, '\0', (size_t)(c.end - line)) || memchr(line, '\n', (size_t)(c.end - line)))
        return -EINVAL;
    if (take_hex(&c, &v.start) < 0 || take_char(&c, '-') < 0 || take_hex(&c, &v.end) < 0 ||
        take_char(&c, ' ') < 0 || take_perms(&c, v.perms) < 0 || take_char(&c, ' ') < 0 ||
        take_hex(&c, &v.offset) < 0 || take_char(&c, ' ') < 0 || take_hex(&c, &dev_major) < 0 ||
        take_char(&c, ':') < 0 || take_hex(&c, &dev_minor) < 0 || take_char(&c, ' ') < 0 ||
        take_dec(&c, &v.inode) < 0 || v.end < v.start)
        return -EINVAL;
    if (c.p < c.end && take_char(&c, ' ') < 0)
        return -EINVAL;
    while (c.p < c.end && *c.p == ' ')
        c.p++;
    if (c.p < c.end) {
        path = strndup(c.p, (size_t)(c.end - c.p));
        if (!path)
            return -ENOMEM;
    }
    v.dev = makedev((unsigned)dev_major, (unsigned)dev_minor);
    v.path = path;
    *m = v;
    return 0;
}

/* Read up to max bytes of path (more is cut, not an error) into a
 * NUL-terminated buffer. */
static int read_capped(const char *path, size_t max, char **ret, size_t *ret_len)
{
    cleanup_close int fd = RETRY_EINTR(open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY));
    cleanup_free char *buf = NULL;
    ssize_t n;

    if (fd < 0)
        return neg_errno();
    buf = malloc(max + 1);
    if (!buf)
        return -ENOMEM;
    n = fdio_read_all(fd, buf, max);
    if (n < 0)
        return (int)n;
    buf[n] = '\0';
    *ret = take_ptr(&buf);
    *ret_len = (size_t)n;
    return 0;
}

static int read_exe(pid_t pid, char **ret)
{
    char path[64];
    char *buf = malloc(PATH_MAX + 1);
    ssize_t n;

    if (!buf)
        return -ENOMEM;
    snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
    n = readlink(path, buf, PATH_MAX + 1);
    if (n < 0 || n > PATH_MAX) {
        int r = n < 0 ? neg_errno() : -ENAMETOOLONG;
        free(buf);
        return r;
    }
    buf[n] = '\0';
    *ret = buf;
    return 0;
}

/* cmdline: arguments each followed by a NUL (the last one's NUL may be
 * missing after setproctitle-style rewrites, or after our cut). */
static int read_argv(pid_t pid, char ***ret)
{
    char path[64];
    cleanup_free char *buf = NULL;
    char **argv;
    size_t len = 0, n = 0;
    int r;

    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    r = read_capped(path, CMDLINE_MAX, &buf, &len);
    if (r < 0)
        return r;
    argv = calloc(ARGV_MAX + 1, sizeof(*argv));
    if (!argv)
        return -ENOMEM;
    for (size_t off = 0; off < len && n < ARGV_MAX; n++) {
        size_t l = strnlen(buf + off, len - off);
        argv[n] = strndup(buf + off, l);
        if (!argv[n]) {
            strv_free(argv);
            return -ENOMEM;
        }
        off += l + 1;
    }
    *ret = argv;
    return 0;
}

/* Field number `field` (1-based as in proc(5), >= 3) of a /proc/.../stat
 * line, counted from the last ')' that ends comm; NULL if missing. */
static const char *stat_field(const char *text, unsigned field)
{
    const char *p = strrchr(text, ')');

    if (!p || field < 3)
        return NULL;
    p++;
    for (unsigned i = 2; i < field; i++) {
        if (*p != ' ')
            return NULL;
        p++;
        if (i + 1 < field) {
            p = strchr(p, ' ');
            if (!p)
                return NULL;
        }
    }
    return *p && *p != ' ' ? p : NULL;
}

static int parse_u64(const char *s, uint64_t *ret)
{
    char *end;
    unsigned long long v;

    if (!s || *s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || (*end && *end != ' ' && *end != '\n'))
        return -EINVAL;
    *ret = v;
    return 0;
}

static int read_stat(pid_t pid, pid_t *ret_ppid, double *ret_uptime)
{
    char path[64];
    cleanup_free char *st = NULL, *up = NULL;
    size_t len;
    uint64_t ppid, start;
    long tck = sysconf(_SC_CLK_TCK);
    double boot_s;
    char *end;
    int r;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    r = fdio_read_file(path, STAT_MAX, &st, &len);
    if (r < 0)
        return r;
    if (parse_u64(stat_field(st, 4), &ppid) < 0 || ppid > INT_MAX ||
        parse_u64(stat_field(st, 22), &start) < 0)
        return -EINVAL;
    *ret_ppid = (pid_t)ppid;
    r = fdio_read_file("/proc/uptime", STAT_MAX, &up, &len);
    if (r < 0)
        return r;
    errno = 0;
    boot_s = strtod(up, &end);
    if (errno || end == up || tck <= 0)
        return -EINVAL;
    *ret_uptime = boot_s - (double)start / (double)tck;
    if (*ret_uptime < 0)
        *ret_uptime = 0;
    return 0;
}

static int append_map(struct crash *c, size_t *cap, const struct crash_map *m)
{
    if (c->n_maps == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        struct crash_map *n = reallocarray(c->maps, ncap, sizeof(*n));
        if (!n)
            return -ENOMEM;
        c->maps = n;
        *cap = ncap;
    }
    c->maps[c->n_maps++] = *m;
    return 0;
}

static int read_maps(pid_t pid, struct crash *c)
{
    char path[64];
    cleanup_fclose FILE *f = NULL;
    cleanup_free char *line = NULL;
    size_t size = 0, cap = 0;
    ssize_t n;
    int r = 0;

    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return neg_errno();
    while (c->n_maps < PROCINFO_MAPS_MAX && (n = getline(&line, &size, f)) > 0) {
        struct crash_map m;
        int q = procinfo_parse_maps_line(line, (size_t)n, &m);
        if (q == -EINVAL) {
            log_debug("%s: skipping an unparsable line", path);
            continue;
        }
        if (q == 0) {
            q = append_map(c, &cap, &m);
            if (q < 0)
                free(m.path);
        }
        if (q < 0)
            return q;
    }
    if (ferror(f))
        r = -EIO;
    return r;
}

static void free_maps(struct crash *c)
{
    for (size_t i = 0; i < c->n_maps; i++)
        free(c->maps[i].path);
    free(c->maps);
    c->maps = NULL;
    c->n_maps = 0;
}

static int read_hostname(char **ret)
{
    char name[256];

    if (gethostname(name, sizeof(name)) < 0)
        return neg_errno();
    name[sizeof(name) - 1] = '\0';
    *ret = strdup(name);
    return *ret ? 0 : -ENOMEM;
}

static void first_error(int *r, int q)
{
    if (*r == 0 && q < 0)
        *r = q;
}

int procinfo_fill(pid_t pid, struct crash *c)
{
    int r = 0;

    free(c->exe);
    c->exe = NULL;
    strv_free(c->argv);
    c->argv = NULL;
    free(c->hostname);
    c->hostname = NULL;
    free_maps(c);
    c->ppid = 0;
    c->uptime_s = 0;

    first_error(&r, read_exe(pid, &c->exe));
    first_error(&r, read_argv(pid, &c->argv));
    first_error(&r, read_stat(pid, &c->ppid, &c->uptime_s));
    first_error(&r, read_hostname(&c->hostname));
    first_error(&r, read_maps(pid, c));
    return r;
}

int procinfo_thread(pid_t pid, pid_t tid, struct crash_thread *t)
{
    char path[96];
    cleanup_free char *comm = NULL, *st = NULL;
    const char *state;
    size_t len;
    int r;

    t->tid = tid;
    t->comm[0] = '\0';
    t->state = 0;
    snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid, (int)tid);
    r = fdio_read_file(path, STAT_MAX, &comm, &len);
    if (r < 0)
        return r;
    snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
    r = fdio_read_file(path, STAT_MAX, &st, &len);
    if (r < 0)
        return r;
    state = stat_field(st, 3);
    if (!state || !isalpha((unsigned char)*state))
        return -EINVAL;
    comm[strcspn(comm, "\n")] = '\0';
    snprintf(t->comm, sizeof(t->comm), "%s", comm);
    t->state = *state;
    return 0;
}

static int cmp_pid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

    return (x > y) - (x < y);
}

/* A directory entry's name as a pid, or -1. */
static pid_t name_to_pid(const char *name)
{
    char *end;
    long v;

    if (*name < '1' || *name > '9')
        return -1;
    errno = 0;
    v = strtol(name, &end, 10);
    return errno || *end || v > INT_MAX ? -1 : (pid_t)v;
}

int procinfo_tids(pid_t pid, pid_t **ret, size_t *n)
{
    char path[64];
    DIR *d;
    const struct dirent *de;
    cleanup_free pid_t *tids = NULL;
    size_t len = 0, cap = 0;
    int r = 0;

    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    d = opendir(path);
    if (!d)
        return neg_errno();
    while (len < PROCINFO_TIDS_MAX && (de = readdir(d))) {
        pid_t tid = name_to_pid(de->d_name);
        if (tid < 0)
            continue;
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            pid_t *t = reallocarray(tids, ncap, sizeof(*t));
            if (!t) {
                r = -ENOMEM;
                break;
            }
            tids = t;
            cap = ncap;
        }
        tids[len++] = tid;
    }
    closedir(d);
    if (r < 0)
        return r;
    if (len > 1)
        qsort(tids, len, sizeof(*tids), cmp_pid);
    *ret = take_ptr(&tids);
    *n = len;
    return 0;
}

bool procinfo_handles(pid_t pid, int sig)
{
    unsigned long long caught;

    if (sig < 1 || sig > 64)
        return false;
    caught = (unsigned long long)procinfo_status_field(pid, "SigCgt", 16, 0);
    return (caught >> (sig - 1)) & 1;
}

struct code_name {
    int sig; /* 0: any signal */
    int code;
    const char *name, *meaning;
};

#define CODE(sig, code, meaning)                                                                   \
    {                                                                                              \
        sig, code, #code, meaning                                                                  \
    }

static const struct code_name codes[] = {
    CODE(0, SI_USER, "sent by kill"),
    CODE(0, SI_KERNEL, "sent by the kernel"),
    CODE(0, SI_QUEUE, "sent by sigqueue"),
    CODE(0, SI_TIMER, "POSIX timer expired"),
    CODE(0, SI_MESGQ, "POSIX message queue state changed"),
    CODE(0, SI_ASYNCIO, "asynchronous I/O completed"),
    CODE(0, SI_SIGIO, "queued SIGIO"),
    CODE(0, SI_TKILL, "sent by tkill/raise"),
    CODE(SIGSEGV, SEGV_MAPERR, "address not mapped to object"),
    CODE(SIGSEGV, SEGV_ACCERR, "invalid permissions for mapped object"),
#ifdef SEGV_BNDERR
    CODE(SIGSEGV, SEGV_BNDERR, "failed address bound checks"),
#endif
#ifdef SEGV_PKUERR
    CODE(SIGSEGV, SEGV_PKUERR, "access was denied by memory protection keys"),
#endif
#ifdef SEGV_MTEAERR
    CODE(SIGSEGV, SEGV_MTEAERR, "asynchronous memory tagging fault"),
#endif
#ifdef SEGV_MTESERR
    CODE(SIGSEGV, SEGV_MTESERR, "synchronous memory tagging fault"),
#endif
    CODE(SIGBUS, BUS_ADRALN, "invalid address alignment"),
    CODE(SIGBUS, BUS_ADRERR, "nonexistent physical address"),
    CODE(SIGBUS, BUS_OBJERR, "object-specific hardware error"),
#ifdef BUS_MCEERR_AR
    CODE(SIGBUS, BUS_MCEERR_AR, "hardware memory error consumed on a machine check"),
#endif
#ifdef BUS_MCEERR_AO
    CODE(SIGBUS, BUS_MCEERR_AO, "hardware memory error detected but not consumed"),
#endif
    CODE(SIGILL, ILL_ILLOPC, "illegal opcode"),
    CODE(SIGILL, ILL_ILLOPN, "illegal operand"),
    CODE(SIGILL, ILL_ILLADR, "illegal addressing mode"),
    CODE(SIGILL, ILL_ILLTRP, "illegal trap"),
    CODE(SIGILL, ILL_PRVOPC, "privileged opcode"),
    CODE(SIGILL, ILL_PRVREG, "privileged register"),
    CODE(SIGILL, ILL_COPROC, "coprocessor error"),
    CODE(SIGILL, ILL_BADSTK, "internal stack error"),
    CODE(SIGFPE, FPE_INTDIV, "integer divide by zero"),
    CODE(SIGFPE, FPE_INTOVF, "integer overflow"),
    CODE(SIGFPE, FPE_FLTDIV, "floating-point divide by zero"),
    CODE(SIGFPE, FPE_FLTOVF, "floating-point overflow"),
    CODE(SIGFPE, FPE_FLTUND, "floating-point underflow"),
    CODE(SIGFPE, FPE_FLTRES, "floating-point inexact result"),
    CODE(SIGFPE, FPE_FLTINV, "floating-point invalid operation"),
    CODE(SIGFPE, FPE_FLTSUB, "subscript out of range"),
#ifdef FPE_FLTUNK
    CODE(SIGFPE, FPE_FLTUNK, "undiagnosed floating-point exception"),
#endif
    CODE(SIGTRAP, TRAP_BRKPT, "process breakpoint"),
    CODE(SIGTRAP, TRAP_TRACE, "process trace trap"),
#ifdef TRAP_BRANCH
    CODE(SIGTRAP, TRAP_BRANCH, "process taken branch trap"),
#endif
#ifdef TRAP_HWBKPT
    CODE(SIGTRAP, TRAP_HWBKPT, "hardware breakpoint or watchpoint"),
#endif
    CODE(SIGSYS, SYS_SECCOMP, "system call blocked by a seccomp filter"),
    CODE(SIGSYS, SYS_USER_DISPATCH, "system call intercepted by syscall user dispatch"),
};

const char *procinfo_si_code_name(int sig, int code, const char **meaning)
{
    /* Positive codes below SI_KERNEL are the signal's own; the others
     * (who sent it) mean the same for every signal. */
    int want = code > 0 && code != SI_KERNEL ? sig : 0;

    for (size_t i = 0; i < ARRAY_SIZE(codes); i++) {
        if (codes[i].sig == want && codes[i].code == code) {
            if (meaning)
                *meaning = codes[i].meaning;
            return codes[i].name;
        }
    }
    if (meaning)
        *meaning = NULL;
    return NULL;
}

long long procinfo_status_field(pid_t pid, const char *key, int base, long long def)
{
    char path[64], needle[40];
    cleanup_free char *text = NULL;
    size_t len;
    const char *p;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    snprintf(needle, sizeof(needle), "\n%s:", key);
    if (fdio_read_file(path, STATUS_MAX, &text, &len) < 0)
        return def;
    p = strstr(text, needle);
    /* Unsigned: a signal mask may have its top bit set. */
    return p ? (long long)strtoull(p + strlen(needle), NULL, base) : def;
}

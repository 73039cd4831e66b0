// SPDX-License-Identifier: MIT
/*
 * Stack traces of a stopped process. Each thread is walked by
 * libunwind-ptrace, then by libdw (which also reads .eh_frame without
 * .eh_frame_hdr, as in plain `gcc -static` programs), keeping the longer
 * walk; when both are stuck at frame 0 (musl has no unwind tables, a call
 * through a bad pointer) the stack is scanned for a return address to go
 * on from. Memory is read with process_vm_readv through a small block
 * cache (PTRACE_PEEKDATA when that is refused), never written. libdw
 * names the frames; debug files are looked up locally (build-id, then
 * .gnu_debuglink), never through debuginfod. C++ names stay mangled
 * (demangling would add libstdc++ to the link). Supervisor thread only:
 * libunwind's memory reader finds its unwinder through a thread-local
 * pointer, set only while a walk runs.
 */
#include "unwind.h"

#include "arch.h"
#include "debugfile.h"
#include "log.h"
#include "macro.h"

#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <libunwind-ptrace.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

/* The memory cache: direct-mapped 4 KiB blocks. A stack walk touches a few
 * consecutive blocks per thread; 16 blocks cover 64 KiB of stack. */
#define CACHE_BLOCK    4096u
#define CACHE_BLOCKS   16u
#define BUILD_ID_MAX   64 /* bytes of build-id we print; real ones are 20 */
#define DWARF_REGS_MAX 64
/* Names already looked up, by address: a direct-mapped cache of
 * 2^(64 - NAME_CACHE_SHIFT) entries. */
#define NAME_CACHE_SHIFT 56
#define NAME_CACHE       (1u << (64 - NAME_CACHE_SHIFT))
/* Stack scanning (frame 0 without unwind information): how far up the
 * stack to look, and how many candidate return addresses to try. */
#define SCAN_BYTES 8192u
#define SCAN_TRIES 16u

/* A looked-up address: f is named as if its pc were at (f.pc unused). */
struct name_entry {
    uint64_t at;
    bool is_used;
    bool has_bias; /* f.module_off is known */
    struct crash_frame f;
};

struct unwinder {
    pid_t pid;
    pid_t tid; /* the thread being walked: PTRACE_PEEKDATA goes to it */
    bool is_vm_denied;
    bool has_system_lines; /* file:line from separate debug files too */
    bool is_attached;      /* libdw's unwinder set up (dwfl_attach_state) */
    int attach_error;      /* its failure, not retried */
    /* Where libdw starts: the thread being walked, its registers, with
     * pc and sp possibly replaced (stack scanning). */
    const struct crash_regs *regs;
    uint64_t start_pc, start_sp;
    unw_accessors_t acc;
    unw_addr_space_t as;
    Dwfl *dwfl;
    uint64_t cache_base[CACHE_BLOCKS];
    bool is_cached[CACHE_BLOCKS];
    unsigned char cache[CACHE_BLOCKS][CACHE_BLOCK];
    struct name_entry names[NAME_CACHE];
};

/* One walked frame before it is named. is_activation: pc is where the
 * thread was (frame 0, or interrupted by a signal), not a return address. */
struct raw_frame {
    uint64_t pc, sp;
    bool is_activation;
};

struct walk {
    struct raw_frame *f;
    size_t n, max;
    bool is_truncated;
    const char *error;
};

static _Thread_local struct unwinder *mem_owner;

/* ---- Reading the app's memory ---- */

static void cache_reset(struct unwinder *u)
{
    memset(u->is_cached, 0, sizeof(u->is_cached));
}

/* The cached block at base (aligned), read with process_vm_readv on a
 * miss; NULL when that is refused or the block is not fully mapped. */
static const unsigned char *cache_block(struct unwinder *u, uint64_t base)
{
    size_t i = (size_t)(base / CACHE_BLOCK) % CACHE_BLOCKS;
    struct iovec local = {.iov_base = u->cache[i], .iov_len = CACHE_BLOCK};
    /* The app's address: never dereferenced here. */
    struct iovec remote = {.iov_base = (void *)(uintptr_t)base, // NOLINT(performance-no-int-to-ptr)
                           .iov_len = CACHE_BLOCK};
    ssize_t n;

    if (u->is_cached[i] && u->cache_base[i] == base)
        return u->cache[i];
    if (u->is_vm_denied)
        return NULL;
    u->is_cached[i] = false;
    n = process_vm_readv(u->pid, &local, 1, &remote, 1, 0);
    if (n == (ssize_t)CACHE_BLOCK) {
        u->cache_base[i] = base;
        u->is_cached[i] = true;
        return u->cache[i];
    }
    /* EPERM: the app changed its credentials (ptrace still works);
     * ENOSYS: a seccomp filter. Either way, stop trying. */
    if (n < 0 && (errno == EPERM || errno == ENOSYS))
        u->is_vm_denied = true;
    return NULL;
}

/* Read one word with PTRACE_PEEKDATA from the stopped thread. */
static int peek_word(const struct unwinder *u, uint64_t addr, unw_word_t *val)
{
    long v;

    errno = 0;
    v = ptrace(PTRACE_PEEKDATA, u->tid,
               (void *)(uintptr_t)addr, // NOLINT(performance-no-int-to-ptr)
               NULL);
    if (v == -1 && errno != 0)
        return -errno;
    *val = (unw_word_t)v;
    return 0;
}

static int mem_read_word(struct unwinder *u, uint64_t addr, unw_word_t *val)
{
    uint64_t base = addr & ~(uint64_t)(CACHE_BLOCK - 1);
    const unsigned char *b;

    if (addr - base > CACHE_BLOCK - sizeof(*val))
        return peek_word(u, addr, val); /* straddles two blocks */
    b = cache_block(u, base);
    if (!b)
        return peek_word(u, addr, val);
    memcpy(val, b + (addr - base), sizeof(*val));
    return 0;
}

/* libunwind's memory accessor. arg stays the UPT handle, which
 * _UPT_find_proc_info needs; our state comes from mem_owner. Writes are
 * refused: the unwinder must never change the app. */
static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write, void *arg)
{
    struct unwinder *u = mem_owner;

    if (write)
        return -UNW_EINVAL;
    if (!u || u->as != as)
        return _UPT_access_mem(as, addr, val, 0, arg);
    return mem_read_word(u, addr, val) < 0 ? -UNW_EINVAL : 0;
}

static int access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write, void *arg)
{
    if (write)
        return -UNW_EREADONLYREG;
    return _UPT_access_reg(as, reg, val, 0, arg);
}

static int access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val, int write,
                        void *arg)
{
    if (write)
        return -UNW_EREADONLYREG;
    return _UPT_access_fpreg(as, reg, val, 0, arg);
}

static int resume_refused(unw_addr_space_t as, unw_cursor_t *c, void *arg)
{
    (void)as;
    (void)c;
    (void)arg;
    return -UNW_EINVAL;
}

static const Dwfl_Callbacks dwfl_callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = debugfile_find,
    .debuginfo_path = NULL, /* libdw's default, /usr/lib/debug for build-ids */
};

/* ---- Walking ---- */

/* Add a frame; false ends the walk: depth cap, a repeated frame, the stack
 * pointer going backwards (stacks grow down on every arch we support;
 * frames entered by a signal may sit on another stack), or pc 0. */
static bool walk_add(struct walk *w, uint64_t pc, uint64_t sp, bool is_activation)
{
    const struct raw_frame *p = w->n > 0 ? &w->f[w->n - 1] : NULL;

    if (p && pc == 0)
        return false;
    if (p && p->sp != 0 && sp != 0 &&
        ((p->pc == pc && p->sp == sp) || (sp < p->sp && !is_activation))) {
        w->is_truncated = true;
        w->error = "stack loop cut (frame repeats or stack pointer went backwards)";
        return false;
    }
    if (w->n == w->max) {
        w->is_truncated = true;
        return false;
    }
    w->f[w->n++] = (struct raw_frame){.pc = pc, .sp = sp, .is_activation = is_activation};
    return true;
}

static void walk_libunwind_steps(unw_cursor_t *cur, struct walk *w)
{
    bool is_activation = true;

    for (;;) {
        unw_word_t pc = 0, sp = 0;
        int r = unw_get_reg(cur, UNW_REG_IP, &pc);

        if (r == 0)
            r = unw_get_reg(cur, UNW_REG_SP, &sp);
        if (r < 0) {
            w->error = unw_strerror(r);
            return;
        }
        if (!walk_add(w, pc, sp, is_activation))
            return;
        is_activation = unw_is_signal_frame(cur) > 0;
        r = unw_step(cur);
        if (r == 0)
            return;
        if (r < 0) {
            w->error = unw_strerror(r);
            return;
        }
    }
}

static int walk_libunwind(struct unwinder *u, pid_t tid, struct walk *w)
{
    unw_cursor_t cur;
    void *upt = _UPT_create(tid);
    int r;

    if (!upt)
        return -ENOMEM;
    u->tid = tid;
    cache_reset(u);
    mem_owner = u;
    r = unw_init_remote(&cur, u->as, upt);
    if (r < 0)
        w->error = unw_strerror(r);
    else
        walk_libunwind_steps(&cur, w);
    mem_owner = NULL;
    _UPT_destroy(upt);
    return 0;
}

static int libdw_frame(Dwfl_Frame *frame, void *arg)
{
    struct walk *w = arg;
    Dwarf_Addr pc;
    Dwarf_Word sp = 0;
    bool is_activation = false;

    if (!dwfl_frame_pc(frame, &pc, &is_activation)) {
        w->error = "libdw: no pc for the next frame";
        return DWARF_CB_ABORT;
    }
    if (dwfl_frame_reg(frame, arch_dwarf_sp(), &sp) != 0)
        sp = 0; /* unknown: the loop check skips it */
    return walk_add(w, pc, sp, is_activation) ? DWARF_CB_OK : DWARF_CB_ABORT;
}

/* libdw's view of the threads: the one being walked, its registers from
 * arch_get_regs (pc and sp possibly replaced, for stack scanning) and
 * memory through the same cache as libunwind's. */
static pid_t dw_next_thread(Dwfl *dwfl, void *dwfl_arg, void **thread_argp)
{
    (void)dwfl;
    (void)dwfl_arg;
    (void)thread_argp;
    return 0; /* threads are asked for by tid only */
}

static bool dw_get_thread(Dwfl *dwfl, pid_t tid, void *dwfl_arg, void **thread_argp)
{
    const struct unwinder *u = dwfl_arg;

    (void)dwfl;
    *thread_argp = dwfl_arg;
    return tid == u->tid && u->regs != NULL;
}

static bool dw_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *dwfl_arg)
{
    unw_word_t v = 0;

    (void)dwfl;
    if (mem_read_word(dwfl_arg, addr, &v) < 0)
        return false;
    *result = v;
    return true;
}

static bool dw_set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
    const struct unwinder *u = thread_arg;
    uint64_t dw[DWARF_REGS_MAX];
    size_t n = arch_dwarf_regs(u->regs, u->start_pc, u->start_sp, dw, ARRAY_SIZE(dw));

    if (n == 0 || !dwfl_thread_state_registers(thread, 0, (unsigned)n, dw))
        return false;
    dwfl_thread_state_register_pc(thread, u->start_pc);
    return true;
}

static const Dwfl_Thread_Callbacks dw_thread_callbacks = {
    .next_thread = dw_next_thread,
    .get_thread = dw_get_thread,
    .memory_read = dw_memory_read,
    .set_initial_registers = dw_set_initial_registers,
};

/* Walk tid with libdw from (pc, sp) and the rest of regs. */
static void walk_libdw(struct unwinder *u, pid_t tid, const struct crash_regs *regs, uint64_t pc,
                       uint64_t sp, struct walk *w)
{
    if (!u->is_attached) {
        if (u->attach_error != 0)
            return;
        u->is_attached = dwfl_attach_state(u->dwfl, NULL, u->pid, &dw_thread_callbacks, u);
        if (!u->is_attached) {
            u->attach_error = -EIO;
            log_debug("unwind %d: libdw cannot attach: %s", (int)u->pid, dwfl_errmsg(-1));
            return;
        }
    }
    u->tid = tid;
    u->regs = regs;
    u->start_pc = pc;
    u->start_sp = sp;
    /* -1 often just means "no unwind information for the next frame",
     * which ends many stacks (libdw's own documentation says to treat it
     * as the end): keep the frames, no error. */
    if (dwfl_getthread_frames(u->dwfl, tid, libdw_frame, w) < 0)
        log_debug("unwind %d: libdw stopped after %zu frames: %s", (int)tid, w->n, dwfl_errmsg(-1));
    u->regs = NULL;
}

/* Could v be a return address: just after a call inside a function of a
 * module? v itself may be the next function's start (a call to a
 * noreturn function ends its caller). */
static bool is_return_address(const struct unwinder *u, uint64_t v)
{
    Dwfl_Module *m = v > 1 ? dwfl_addrmodule(u->dwfl, v - 1) : NULL;
    GElf_Off off = 0;
    GElf_Sym sym;
    const char *name;

    if (!m)
        return false;
    name = dwfl_module_addrinfo(m, v - 1, &off, &sym, NULL, NULL, NULL);
    return name && GELF_ST_TYPE(sym.st_info) == STT_FUNC;
}

/* Frame 0 has no unwind information (a libc built without it, as musl
 * is; a call through a bad pointer): look up the stack for a return
 * address from which libdw can unwind; the first that gives a caller
 * wins. w holds frame 0. The other registers keep frame 0's values, which
 * is right for callee-saved ones the frameless code did not touch. */
static void walk_scan(struct unwinder *u, pid_t tid, const struct crash_regs *regs, struct walk *w)
{
    uint64_t sp = arch_sp(regs);
    unsigned tries = 0;

    u->tid = tid;
    for (uint64_t slot = sp; slot - sp < SCAN_BYTES && tries < SCAN_TRIES; slot += 8) {
        struct walk s = {.f = w->f + 1, .max = w->max - 1};
        unw_word_t v = 0;

        if (mem_read_word(u, slot, &v) < 0)
            return;
        if (!is_return_address(u, v))
            continue;
        tries++;
        /* Start inside the call (v - 1), so the unwind rules are those of
         * the calling function; then report v like any return address. */
        walk_libdw(u, tid, regs, v - 1, slot + 8, &s);
        if (s.n >= 2) {
            s.f[0].pc = v;
            s.f[0].is_activation = false;
            w->n = 1 + s.n;
            w->is_truncated = s.is_truncated;
            w->error = "frame 0 has no unwind information: its callers were found by scanning "
                       "the stack";
            return;
        }
    }
}

/* ---- Naming ---- */

static char *hex_dup(const unsigned char *bits, int len)
{
    static const char digits[] = "0123456789abcdef";
    char buf[2 * BUILD_ID_MAX + 1];
    size_t n = len > BUILD_ID_MAX ? BUILD_ID_MAX : (size_t)len;

    for (size_t i = 0; i < n; i++) {
        buf[2 * i] = digits[bits[i] >> 4];
        buf[2 * i + 1] = digits[bits[i] & 0xf];
    }
    buf[2 * n] = '\0';
    return strdup(buf);
}

/* The module's GNU build-id as hex, or NULL. Loads its ELF if need be. */
static char *module_build_id(Dwfl_Module *m)
{
    const unsigned char *bits;
    GElf_Addr vaddr, bias;
    int len;

    (void)dwfl_module_getelf(m, &bias); /* the build-id is read with the ELF */
    len = dwfl_module_build_id(m, &bits, &vaddr);
    return len > 0 ? hex_dup(bits, len) : NULL;
}

/* Duplicate s into *dst; false only when s was there and strdup failed. */
static bool set_str(char **dst, const char *s)
{
    if (!s)
        return true;
    *dst = strdup(s);
    return *dst != NULL;
}

static void entry_clear(struct name_entry *e)
{
    free(e->f.symbol);
    free(e->f.module);
    free(e->f.build_id);
    free(e->f.file);
    memset(e, 0, sizeof(*e));
}

/* Does the module's own file carry line tables? If not, they would come
 * from a separate debug file (a distribution's -dbg package), which libdw
 * decompresses whole on first use: about 40 ms for glibc's. */
static bool has_own_lines(Dwfl_Module *m)
{
    Dwarf_Addr bias;
    Elf *elf = dwfl_module_getelf(m, &bias);
    Elf_Scn *scn = NULL;
    size_t shstrndx;

    if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0)
        return false;
    while ((scn = elf_nextscn(elf, scn))) {
        GElf_Shdr shdr;
        const char *name;
        if (!gelf_getshdr(scn, &shdr))
            continue;
        name = elf_strptr(elf, shstrndx, shdr.sh_name);
        if (name && strcmp(name, ".debug_line") == 0)
            return true;
    }
    return false;
}

/* Name address at with libdw into e: module, offset, build-id, symbol,
 * file:line, as if a frame's pc were at. */
static int name_lookup(const struct unwinder *u, uint64_t at, struct name_entry *e)
{
    Dwfl_Module *m = dwfl_addrmodule(u->dwfl, at);
    Dwarf_Addr bias = 0;
    GElf_Off off = 0;
    GElf_Sym sym;
    Dwfl_Line *line;
    const char *s;
    bool is_ok = true;

    e->at = at;
    if (!m)
        return 0;
    s = dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    if (s && strncmp(s, "[vdso", 5) == 0)
        s = "[vdso]"; /* libdw says "[vdso: PID]" */
    is_ok &= set_str(&e->f.module, s);
    e->has_bias = dwfl_module_getelf(m, &bias) != NULL;
    if (e->has_bias)
        e->f.module_off = at - bias;
    e->f.build_id = module_build_id(m);
    s = dwfl_module_addrinfo(m, at, &off, &sym, NULL, NULL, NULL);
    is_ok &= set_str(&e->f.symbol, s);
    e->f.sym_off = off;
    line = u->has_system_lines || has_own_lines(m) ? dwfl_module_getsrc(m, at) : NULL;
    s = line ? dwfl_lineinfo(line, NULL, &e->f.line, NULL, NULL, NULL) : NULL;
    is_ok &= set_str(&e->f.file, s);
    if (!e->f.file)
        e->f.line = 0;
    return is_ok ? 0 : -ENOMEM;
}

/* Name one frame, through the cache (threads share most of their frames:
 * libdw's symbol lookup scans the whole symbol table). A return address is
 * looked up at pc - 1, inside the call, but pc is reported. */
static int name_frame(struct unwinder *u, const struct raw_frame *r, struct crash_frame *f)
{
    uint64_t at = r->is_activation || r->pc == 0 ? r->pc : r->pc - 1;
    struct name_entry *e = &u->names[(at * 0x9e3779b97f4a7c15ULL) >> NAME_CACHE_SHIFT];
    bool is_ok = true;

    f->pc = r->pc;
    f->sp = r->sp;
    if (!e->is_used || e->at != at) {
        entry_clear(e);
        if (name_lookup(u, at, e) < 0) {
            entry_clear(e);
            return -ENOMEM;
        }
        e->is_used = true;
    }
    is_ok &= set_str(&f->module, e->f.module);
    is_ok &= set_str(&f->build_id, e->f.build_id);
    is_ok &= set_str(&f->symbol, e->f.symbol);
    is_ok &= set_str(&f->file, e->f.file);
    f->line = e->f.line;
    if (e->has_bias)
        f->module_off = e->f.module_off + (r->pc - at);
    if (e->f.symbol)
        f->sym_off = e->f.sym_off + (r->pc - at);
    return is_ok ? 0 : -ENOMEM;
}

/* ---- The interface ---- */

int unwind_open(pid_t pid, bool has_system_lines, struct unwinder **ret)
{
    struct unwinder *u = calloc(1, sizeof(*u));
    int r;

    if (!u)
        return -ENOMEM;
    u->pid = pid;
    u->has_system_lines = has_system_lines;
    u->acc = _UPT_accessors;
    u->acc.access_mem = access_mem;
    u->acc.access_reg = access_reg;
    u->acc.access_fpreg = access_fpreg;
    u->acc.resume = resume_refused;
    u->as = unw_create_addr_space(&u->acc, 0);
    u->dwfl = dwfl_begin(&dwfl_callbacks);
    if (!u->as || !u->dwfl) {
        unwind_close(u);
        return -ENOMEM;
    }
    unw_set_caching_policy(u->as, UNW_CACHE_GLOBAL);
    dwfl_report_begin(u->dwfl);
    r = dwfl_linux_proc_report(u->dwfl, pid);
    if (r != 0 || dwfl_report_end(u->dwfl, NULL, NULL) != 0) {
        log_debug("unwind %d: cannot read the modules: %s", (int)pid,
                  r > 0 ? strerror(r) : dwfl_errmsg(-1));
        unwind_close(u);
        return r > 0 ? -r : -ESRCH;
    }
    *ret = u;
    return 0;
}

/* Walk tid's stack into w with libunwind, then with libdw (which also
 * reads .eh_frame without .eh_frame_hdr, and the vdso), scanning the
 * stack when libdw is stuck at frame 0; the longer walk wins, libunwind's
 * on a tie. libunwind's own end of stack is not trusted: without unwind
 * information it may stop quietly after a frame or two. */
static int walk_thread(struct unwinder *u, pid_t tid, const struct crash_regs *regs, struct walk *w,
                       const char **ret_unwinder)
{
    struct walk dw = {.max = w->max};
    int r = walk_libunwind(u, tid, w);

    *ret_unwinder = "libunwind";
    if (r < 0 || w->n == w->max)
        return r; /* the cap was hit: nothing longer to find */
    dw.f = calloc(dw.max, sizeof(*dw.f));
    if (!dw.f)
        return -ENOMEM;
    walk_libdw(u, tid, regs, arch_pc(regs), arch_sp(regs), &dw);
    if (dw.n == 0) /* the registers still say where frame 0 is */
        walk_add(&dw, arch_pc(regs), arch_sp(regs), true);
    if (dw.n == 1 && dw.max > 1)
        walk_scan(u, tid, regs, &dw);
    if (dw.n > w->n) {
        free(w->f);
        *w = dw;
        *ret_unwinder = "libdw";
    } else {
        free(dw.f);
    }
    return 0;
}

/* Free the frames t had (from an earlier call), keeping the rest of t. */
static void frames_free(struct crash_thread *t)
{
    struct crash_thread old = {.frames = t->frames, .n_frames = t->n_frames};

    crash_thread_fini(&old);
    t->frames = NULL;
    t->n_frames = 0;
}

int unwind_thread(struct unwinder *u, pid_t tid, size_t max_frames, struct crash_thread *t)
{
    struct walk w = {.max = max_frames};
    int r, rn = 0;

    if (!u || !t || max_frames == 0)
        return -EINVAL;
    frames_free(t);
    t->is_truncated = false;
    t->unwinder = NULL;
    r = arch_get_regs(tid, &t->regs);
    if (r < 0) {
        t->unwind_error = "registers unreadable (thread not stopped by the tracer?)";
        return r;
    }
    w.f = calloc(max_frames, sizeof(*w.f));
    if (!w.f)
        return -ENOMEM;
    r = walk_thread(u, tid, &t->regs, &w, &t->unwinder);
    if (r == 0) {
        t->frames = calloc(w.n > 0 ? w.n : 1, sizeof(*t->frames));
        r = t->frames ? 0 : -ENOMEM;
    }
    for (size_t i = 0; r == 0 && i < w.n; i++) {
        int q = name_frame(u, &w.f[i], &t->frames[i]);

        rn = rn ? rn : q;
        t->n_frames = i + 1;
    }
    t->is_truncated = w.is_truncated;
    t->unwind_error = w.error;
    free(w.f);
    return r < 0 ? r : rn;
}

struct modules_acc {
    struct crash_module *v;
    size_t n, cap;
    int error;
};

static int add_module(Dwfl_Module *m, void **userdata, const char *name, Dwarf_Addr start,
                      void *arg)
{
    struct modules_acc *a = arg;
    struct crash_module *mod;

    (void)userdata;
    if (!name || name[0] != '/') /* [vdso], [heap]: not files */
        return DWARF_CB_OK;
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 32;
        struct crash_module *v = reallocarray(a->v, cap, sizeof(*v));

        if (!v) {
            a->error = -ENOMEM;
            return DWARF_CB_ABORT;
        }
        a->v = v;
        a->cap = cap;
    }
    mod = &a->v[a->n];
    *mod =
        (struct crash_module){.base = start, .path = strdup(name), .build_id = module_build_id(m)};
    if (!mod->path) {
        free(mod->build_id);
        a->error = -ENOMEM;
        return DWARF_CB_ABORT;
    }
    a->n++;
    return DWARF_CB_OK;
}

int unwind_modules(struct unwinder *u, struct crash *c)
{
    struct modules_acc a = {0};

    if (!u || !c)
        return -EINVAL;
    if (dwfl_getmodules(u->dwfl, add_module, &a, 0) < 0 && a.error == 0)
        a.error = -EIO;
    for (size_t i = 0; i < c->n_modules; i++) {
        free(c->modules[i].path);
        free(c->modules[i].build_id);
    }
    free(c->modules);
    c->modules = a.v;
    c->n_modules = a.n;
    return a.error < 0 ? a.error : (int)a.n;
}

void unwind_close(struct unwinder *u)
{
    if (!u)
        return;
    if (u->as)
        unw_destroy_addr_space(u->as);
    if (u->dwfl)
        dwfl_end(u->dwfl);
    for (size_t i = 0; i < NAME_CACHE; i++)
        entry_clear(&u->names[i]);
    free(u);
}

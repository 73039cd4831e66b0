// SPDX-License-Identifier: MIT
/*
 * See report.h. JSON is built with cJSON; 64-bit values go in as "0x..."
 * strings or raw integer text so that nothing passes through a double.
 * The text is rendered line by line into a buffer with a hard cap: when a
 * rendering does not fit, it is redone with shorter frame lists, and as a
 * last resort stopped at a line boundary with a note.
 */
#include "report.h"

#include "cJSON.h"
#include "clock.h"
#include "fdio.h"
#include "macro.h"
#include "procinfo.h"
#include "signame.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LINE_LEN      2048        /* one text line; longer ones are cut */
#define FIELD_LEN     512         /* a path or function name in the text */
#define LAST_LEN      (16u << 10) /* the "last lines" block of the text */
#define LAST_LINE_LEN 1024        /* one of the app's last lines in the text */
#define NOTE_RESERVE  512         /* room kept for the notes about cuts */

/* The length of the valid UTF-8 sequence at p (n bytes left), 0 if
 * invalid: no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    size_t len;
    unsigned char lo, hi;

    if (p[0] < 0x80)
        return 1;
    if (p[0] < 0xc2 || p[0] > 0xf4)
        return 0;
    len = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
    lo = p[0] == 0xe0 ? 0xa0 : p[0] == 0xf0 ? 0x90 : 0x80;
    hi = p[0] == 0xed ? 0x9f : p[0] == 0xf4 ? 0x8f : 0xbf;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

/* ---- JSON ---------------------------------------------------------- */

/* Failures of the cJSON calls are collected, not checked one by one. */
struct jb {
    bool is_oom;
};

static cJSON *jcheck(struct jb *j, cJSON *item)
{
    if (!item)
        j->is_oom = true;
    return item;
}

/* s as a JSON string, each invalid UTF-8 byte replaced by U+FFFD. */
static cJSON *jstring(struct jb *j, const char *s)
{
    size_t n = strlen(s), i = 0, o, k;
    cJSON *item;
    char *out;

    while (i < n && (k = utf8_seq((const unsigned char *)s + i, n - i)) > 0)
        i += k;
    if (i == n)
        return jcheck(j, cJSON_CreateString(s));
    out = malloc(n * 3 + 1);
    if (!out)
        return jcheck(j, NULL);
    memcpy(out, s, i);
    for (o = i; i < n; i += k ? k : 1) {
        k = utf8_seq((const unsigned char *)s + i, n - i);
        memcpy(out + o, k ? s + i : "\xef\xbf\xbd", k ? k : 3);
        o += k ? k : 3;
    }
    out[o] = '\0';
    item = jcheck(j, cJSON_CreateString(out));
    free(out);
    return item;
}

/* Add item to object o as name, or to array o when name is NULL. */
static void jput(struct jb *j, cJSON *o, const char *name, cJSON *item)
{
    if (!item || !o ||
        !(name ? cJSON_AddItemToObject(o, name, item) : cJSON_AddItemToArray(o, item))) {
        j->is_oom = true;
        cJSON_Delete(item);
    }
}

/* Optional string: left out when s is NULL. */
static void jstr(struct jb *j, cJSON *o, const char *name, const char *s)
{
    if (s)
        jput(j, o, name, jstring(j, s));
}

static void jhex(struct jb *j, cJSON *o, const char *name, uint64_t v)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
    jput(j, o, name, jcheck(j, cJSON_CreateString(buf)));
}

/* A number written as printf formats it (exact, unlike a double). */
__attribute__((format(printf, 4, 5))) static void jraw(struct jb *j, cJSON *o, const char *name,
                                                       const char *fmt, ...)
{
    char buf[32];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    jput(j, o, name, jcheck(j, cJSON_CreateRaw(buf)));
}

static cJSON *jchild(struct jb *j, cJSON *o, const char *name, bool is_array)
{
    cJSON *item = jcheck(j, is_array ? cJSON_CreateArray() : cJSON_CreateObject());

    jput(j, o, name, item);
    return j->is_oom ? NULL : item;
}

static bool has_addr(int sig)
{
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP;
}

static bool has_sender(int code)
{
    return code == SI_USER || code == SI_TKILL || code == SI_QUEUE;
}

static void json_signal(struct jb *j, cJSON *root, const struct crash *c)
{
    cJSON *s = jchild(j, root, "signal", false);
    char name[24];
    const char *meaning, *code_name = procinfo_si_code_name(c->sig, c->si_code, &meaning);

    jraw(j, s, "number", "%d", c->sig);
    jstr(j, s, "name", signame_name(c->sig, name));
    jraw(j, s, "code", "%d", c->si_code);
    jstr(j, s, "code_name", code_name);
    jstr(j, s, "meaning", meaning);
    jraw(j, s, "errno", "%d", c->si_errno);
    if (has_addr(c->sig))
        jhex(j, s, "addr", c->addr);
    if (has_sender(c->si_code)) {
        jraw(j, s, "sender_pid", "%d", c->sender_pid);
        jraw(j, s, "sender_uid", "%u", (unsigned)c->sender_uid);
    }
}

static void json_frame(struct jb *j, cJSON *frames, const struct crash_frame *f)
{
    cJSON *o = jcheck(j, cJSON_CreateObject());

    jput(j, frames, NULL, o);
    if (j->is_oom)
        return;
    jhex(j, o, "pc", f->pc);
    jhex(j, o, "sp", f->sp);
    if (f->symbol) {
        jstr(j, o, "function", f->symbol);
        jhex(j, o, "offset", f->sym_off);
    }
    if (f->module) {
        jstr(j, o, "module", f->module);
        jstr(j, o, "build_id", f->build_id);
        jhex(j, o, "module_offset", f->module_off);
    }
    jstr(j, o, "file", f->file);
    if (f->line > 0)
        jraw(j, o, "line", "%d", f->line);
}

static void json_thread(struct jb *j, cJSON *threads, const struct crash_thread *t)
{
    cJSON *o = jcheck(j, cJSON_CreateObject()), *regs, *frames;

    jput(j, threads, NULL, o);
    if (j->is_oom)
        return;
    jraw(j, o, "tid", "%d", t->tid);
    if (t->comm[0])
        jstr(j, o, "name", t->comm);
    if (t->state) {
        char state[2] = {t->state, '\0'};
        jstr(j, o, "state", state);
    }
    jput(j, o, "crashed", jcheck(j, cJSON_CreateBool(t->is_crashing)));
    jstr(j, o, "unwinder", t->unwinder);
    jput(j, o, "truncated", jcheck(j, cJSON_CreateBool(t->is_truncated)));
    jput(j, o, "error",
         jcheck(j, t->unwind_error ? jstring(j, t->unwind_error) : cJSON_CreateNull()));
    regs = jchild(j, o, "registers", false);
    for (size_t i = 0; regs && t->regs.names && i < t->regs.n && i < CRASH_REGS_MAX; i++)
        if (t->regs.names[i])
            jhex(j, regs, t->regs.names[i], t->regs.v[i]);
    frames = jchild(j, o, "frames", true);
    for (size_t i = 0; frames && i < t->n_frames; i++)
        json_frame(j, frames, &t->frames[i]);
}

struct cJSON *report_thread_object(const struct crash_thread *t)
{
    struct jb j = {0};
    cJSON *a = cJSON_CreateArray(), *o;

    if (!a)
        return NULL;
    json_thread(&j, a, t);
    o = j.is_oom ? NULL : cJSON_DetachItemFromArray(a, 0);
    cJSON_Delete(a);
    return o;
}

static void json_tables(struct jb *j, cJSON *root, const struct crash *c)
{
    cJSON *a = jchild(j, root, "modules", true);

    for (size_t i = 0; a && i < c->n_modules; i++) {
        cJSON *o = jcheck(j, cJSON_CreateObject());
        jput(j, a, NULL, o);
        jstr(j, o, "path", c->modules[i].path);
        jstr(j, o, "build_id", c->modules[i].build_id);
        jhex(j, o, "base", c->modules[i].base);
    }
    a = jchild(j, root, "maps", true);
    for (size_t i = 0; a && i < c->n_maps && i < REPORT_MAPS_MAX; i++) {
        const struct crash_map *m = &c->maps[i];
        cJSON *o = jcheck(j, cJSON_CreateObject());
        jput(j, a, NULL, o);
        jhex(j, o, "start", m->start);
        jhex(j, o, "end", m->end);
        jstr(j, o, "perms", m->perms);
        jhex(j, o, "offset", m->offset);
        jstr(j, o, "path", m->path);
    }
    jraw(j, root, "maps_total", "%zu", c->n_maps);
    a = jchild(j, root, "last_lines", true);
    for (size_t i = 0; a && i < c->n_last_lines; i++)
        if (c->last_lines[i])
            jput(j, a, NULL, jstring(j, c->last_lines[i]));
}

static void json_root(struct jb *j, cJSON *root, const struct crash *c)
{
    char buf[48];
    cJSON *a;
    struct tm tm;
    size_t n;

    jraw(j, root, "version", "%d", REPORT_VERSION);
    n = clock_utc(c->time_us, &tm) ? strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) : 0;
    snprintf(buf + n, sizeof(buf) - n, ".%06uZ", (unsigned)(c->time_us % 1000000));
    jstr(j, root, "time", buf);
    jraw(j, root, "time_us", "%" PRIu64, c->time_us);
    jraw(j, root, "pid", "%d", c->pid);
    jraw(j, root, "tid", "%d", c->tid);
    jraw(j, root, "ppid", "%d", c->ppid);
    jstr(j, root, "kind", c->is_snapshot ? "snapshot" : "crash");
    if (!c->is_snapshot)
        json_signal(j, root, c);
    jstr(j, root, "exe", c->exe);
    jstr(j, root, "build_id", c->build_id);
    a = jchild(j, root, "argv", true);
    for (size_t i = 0; a && c->argv && c->argv[i]; i++)
        jput(j, a, NULL, jstring(j, c->argv[i]));
    /* NaN and infinities are not JSON. */
    jraw(j, root, "uptime_s", "%.3f", c->uptime_s >= 0 && c->uptime_s < 1e12 ? c->uptime_s : 0.0);
    jstr(j, root, "hostname", c->hostname);
    jstr(j, root, "stream", c->stream);
    a = jchild(j, root, "threads", true);
    for (size_t i = 0; a && i < c->n_threads; i++)
        json_thread(j, a, &c->threads[i]);
    json_tables(j, root, c);
    if (c->has_core) {
        a = jchild(j, root, "core", false);
        jstr(j, a, "file", REPORT_CORE_NAME);
        jraw(j, a, "size", "%" PRIu64, c->core_size);
        jraw(j, a, "allocated", "%" PRIu64, c->core_allocated);
        jraw(j, a, "ms", "%" PRIu64, c->core_ms);
        jput(j, a, "truncated", cJSON_CreateBool(c->is_core_truncated));
    }
    a = jchild(j, root, "timing_us", false);
    jraw(j, a, "stop", "%" PRIu64, c->stop_us);
    jraw(j, a, "unwind", "%" PRIu64, c->unwind_us);
    jraw(j, a, "total", "%" PRIu64, c->total_us);
}

int report_json(const struct crash *c, char **ret)
{
    struct jb j = {0};
    cJSON *root = cJSON_CreateObject();
    char *out = NULL;

    if (!root)
        return -ENOMEM;
    json_root(&j, root, c);
    if (!j.is_oom)
        out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!out)
        return -ENOMEM;
    *ret = out;
    return 0;
}

/* ---- text ---------------------------------------------------------- */

struct line {
    size_t len;
    char s[LINE_LEN];
};

__attribute__((format(printf, 2, 0))) static void line_vprintf(struct line *l, const char *fmt,
                                                               va_list ap)
{
    size_t room = sizeof(l->s) - l->len;
    int n;

    if (room <= 1)
        return;
    n = vsnprintf(l->s + l->len, room, fmt, ap);
    if (n > 0)
        l->len += (size_t)n < room ? (size_t)n : room - 1;
}

__attribute__((format(printf, 2, 3))) static void line_printf(struct line *l, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    line_vprintf(l, fmt, ap);
    va_end(ap);
}

/* Append s with control characters and invalid UTF-8 bytes as '?', at
 * most max bytes; a longer s is cut at a character and ends in "...". */
static void line_clean(struct line *l, const char *s, size_t max)
{
    size_t n = strlen(s), room = sizeof(l->s) - 1 - l->len, limit = max < room ? max : room;
    bool is_cut = n > limit;

    if (is_cut)
        limit = limit > 3 ? limit - 3 : 0;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq((const unsigned char *)s + i, n - i);
        unsigned char ch = (unsigned char)s[i];
        if (k == 0 || ch < 0x20 || ch == 0x7f)
            k = 1;
        if (l->len + k > sizeof(l->s) - 1 || (is_cut && i + k > limit))
            break;
        if (k == 1 && (ch < 0x20 || ch >= 0x7f)) {
            l->s[l->len++] = '?';
        } else {
            memcpy(l->s + l->len, s + i, k);
            l->len += k;
        }
        i += k;
    }
    if (is_cut)
        line_printf(l, "...");
}

/* The text being built: whole lines only, never more than max bytes. */
struct tbuf {
    char *p;
    size_t len, max;
    bool is_full; /* a line did not fit; nothing more is added */
};

static void tb_line(struct tbuf *b, const struct line *l)
{
    if (b->is_full || b->len + l->len + 1 > b->max) {
        b->is_full = true;
        return;
    }
    memcpy(b->p + b->len, l->s, l->len);
    b->len += l->len;
    b->p[b->len++] = '\n';
}

/* A whole line from a format. */
__attribute__((format(printf, 2, 3))) static void tb_printf(struct tbuf *b, const char *fmt, ...)
{
    struct line l = {0};
    va_list ap;

    va_start(ap, fmt);
    line_vprintf(&l, fmt, ap);
    va_end(ap);
    tb_line(b, &l);
}

static void render_header(struct tbuf *b, const struct crash *c)
{
    struct line l = {0};
    char name[24];
    const char *meaning, *code = procinfo_si_code_name(c->sig, c->si_code, &meaning);

    if (c->is_snapshot) {
        line_printf(&l, "snapshot: ");
        line_clean(&l, c->exe ? c->exe : "??", FIELD_LEN);
        line_printf(&l, " (pid %d), running; every thread stopped for the capture", (int)c->pid);
        tb_line(b, &l);
        return;
    }
    line_printf(&l, "crash: ");
    line_clean(&l, c->exe ? c->exe : "??", FIELD_LEN);
    line_printf(&l, " (pid %d) killed by %s", (int)c->pid, signame_name(c->sig, name));
    if (code)
        line_printf(&l, " (%s: %s)", code, meaning);
    else
        line_printf(&l, " (code %d)", c->si_code);
    if (has_addr(c->sig))
        line_printf(&l, " at 0x%" PRIx64, c->addr);
    if (has_sender(c->si_code))
        line_printf(&l, " from pid %d uid %u", (int)c->sender_pid, (unsigned)c->sender_uid);
    tb_line(b, &l);
}

static void render_frame(struct tbuf *b, size_t i, const struct crash_frame *f)
{
    struct line l = {0};

    line_printf(&l, "#%-2zu 0x%016" PRIx64 " in ", i, f->pc);
    if (f->symbol) {
        line_clean(&l, f->symbol, FIELD_LEN);
        if (f->sym_off)
            line_printf(&l, "+0x%" PRIx64, f->sym_off);
    } else {
        line_printf(&l, "??");
    }
    if (f->file) {
        line_printf(&l, " (");
        line_clean(&l, f->file, FIELD_LEN);
        if (f->line > 0)
            line_printf(&l, ":%d", f->line);
        line_printf(&l, ")");
    }
    if (f->module) {
        line_printf(&l, " from ");
        line_clean(&l, f->module, FIELD_LEN);
    }
    tb_line(b, &l);
}

/* One thread with at most cap frames; sets *is_cut when frames were left out. */
static void render_thread(struct tbuf *b, const struct crash_thread *t, size_t cap, bool *is_cut)
{
    struct line l = {0};
    size_t n = t->n_frames < cap ? t->n_frames : cap;

    line_printf(&l, "thread %d \"", (int)t->tid);
    line_clean(&l, t->comm, sizeof(t->comm));
    line_printf(&l, "\"%s:", t->is_crashing ? " (crashed)" : "");
    tb_line(b, &l);
    for (size_t i = 0; i < n; i++)
        render_frame(b, i, &t->frames[i]);
    if (n < t->n_frames) {
        tb_printf(b, "    (%zu more frames not shown; report.json has them)", t->n_frames - n);
        *is_cut = true;
    }
    if (t->is_truncated)
        tb_printf(b, "    (truncated at %zu frames)", t->n_frames);
    if (t->unwind_error) {
        l.len = 0;
        line_printf(&l, "    (unwind error: ");
        line_clean(&l, t->unwind_error, FIELD_LEN);
        line_printf(&l, ")");
        tb_line(b, &l);
    }
}

/* Frames shown per thread: the crashed thread's and the others'. Each
 * level is tried in turn until the text fits. */
static const struct {
    size_t crashed, other;
} levels[] = {
    {SIZE_MAX, SIZE_MAX}, {SIZE_MAX, 32}, {SIZE_MAX, 8}, {SIZE_MAX, 2},
    {SIZE_MAX, 0},        {64, 0},        {16, 0},       {4, 0},
};

/* The app's last lines, the newest that fit in LAST_LEN. */
static void render_last(struct tbuf *b, const struct crash *c)
{
    struct line l;
    size_t first = c->n_last_lines, used = 64;

    if (c->n_last_lines == 0)
        return;
    /* A line takes at most "  ", LAST_LINE_LEN bytes and '\n'. */
    for (; first > 0; first--) {
        const char *s = c->last_lines[first - 1];
        size_t n = (s ? strnlen(s, LAST_LINE_LEN) : 0) + 3;
        if (used + n > b->max)
            break;
        used += n;
    }
    if (first > 0)
        tb_printf(b, "last lines (the newest %zu of %zu):", c->n_last_lines - first,
                  c->n_last_lines);
    else
        tb_printf(b, "last lines:");
    for (size_t i = first; i < c->n_last_lines; i++) {
        l.len = 0;
        line_printf(&l, "  ");
        line_clean(&l, c->last_lines[i] ? c->last_lines[i] : "", LAST_LINE_LEN);
        tb_line(b, &l);
    }
}

/* Header and threads at one level; returns the threads completely shown. */
static size_t render_body(struct tbuf *b, const struct crash *c, size_t level, bool *is_cut)
{
    b->len = 0;
    b->is_full = false;
    *is_cut = false;
    render_header(b, c);
    for (size_t i = 0; i < c->n_threads; i++) {
        const struct crash_thread *t = &c->threads[i];
        render_thread(b, t, t->is_crashing ? levels[level].crashed : levels[level].other, is_cut);
        if (b->is_full)
            return i;
    }
    return c->n_threads;
}

int report_text(const struct crash *c, char **ret)
{
    struct tbuf last = {.max = LAST_LEN}, body = {.max = REPORT_TEXT_MAX};
    size_t shown = 0;
    bool is_cut = false;

    last.p = malloc(LAST_LEN);
    body.p = last.p ? malloc(REPORT_TEXT_MAX) : NULL;
    if (!body.p)
        return free(last.p), -ENOMEM;
    render_last(&last, c);
    body.max = REPORT_TEXT_MAX - 1 - last.len - NOTE_RESERVE;
    for (size_t k = 0; k < ARRAY_SIZE(levels); k++) {
        shown = render_body(&body, c, k, &is_cut);
        if (!body.is_full)
            break;
    }
    body.max = REPORT_TEXT_MAX - 1 - last.len;
    body.is_full = false;
    if (shown < c->n_threads)
        tb_printf(&body,
                  "(text cut at %u KiB: %zu of %zu threads not shown in full; report.json "
                  "has them all)",
                  REPORT_TEXT_MAX / 1024, c->n_threads - shown, c->n_threads);
    else if (is_cut)
        tb_printf(&body, "(frame lists shortened to keep this text under %u KiB)",
                  REPORT_TEXT_MAX / 1024);
    memcpy(body.p + body.len, last.p, last.len);
    body.len += last.len;
    body.p[body.len] = '\0';
    free(last.p);
    *ret = body.p;
    return 0;
}

/* ---- summary ------------------------------------------------------- */

/* Copy src into dst[size] with control characters as '?', cut at a
 * character boundary. */
static void copy_clean(char *dst, size_t size, const char *src)
{
    size_t i = 0;

    for (; src && src[i] && i + 1 < size; i++) {
        dst[i] = src[i];
        if ((unsigned char)src[i] < 0x20 || src[i] == 0x7f)
            dst[i] = '?';
    }
    /* Cut inside a UTF-8 sequence: drop its first bytes too. */
    if (src && src[i] && ((unsigned char)src[i] & 0xc0) == 0x80) {
        while (i > 0 && ((unsigned char)src[i - 1] & 0xc0) == 0x80)
            i--;
        if (i > 0 && (unsigned char)src[i - 1] >= 0xc0)
            i--;
    }
    dst[i] = '\0';
}

static const char *get_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The crashed thread (or else the first one) and its top frame's function. */
static const char *top_function(const cJSON *root)
{
    const cJSON *threads = cJSON_GetObjectItemCaseSensitive(root, "threads"), *t, *pick = NULL;

    if (!cJSON_IsArray(threads))
        return NULL;
    cJSON_ArrayForEach(t, threads)
    {
        if (!cJSON_IsObject(t))
            continue;
        if (!pick)
            pick = t;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "crashed"))) {
            pick = t;
            break;
        }
    }
    t = pick ? cJSON_GetObjectItemCaseSensitive(pick, "frames") : NULL;
    t = cJSON_IsArray(t) ? cJSON_GetArrayItem(t, 0) : NULL;
    return cJSON_IsObject(t) ? get_str(t, "function") : NULL;
}

int report_summary(const char *json, size_t len, struct report_summary *s)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    const cJSON *pid;

    memset(s, 0, sizeof(*s));
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return -EINVAL;
    }
    copy_clean(s->time, sizeof(s->time), get_str(root, "time"));
    pid = cJSON_GetObjectItemCaseSensitive(root, "pid");
    if (cJSON_IsNumber(pid) && pid->valueint > 0)
        s->pid = pid->valueint;
    /* get_str() takes NULL or any item: it finds no name in those. */
    copy_clean(s->signal, sizeof(s->signal),
               get_str(cJSON_GetObjectItemCaseSensitive(root, "signal"), "name"));
    copy_clean(s->exe, sizeof(s->exe), get_str(root, "exe"));
    copy_clean(s->function, sizeof(s->function), top_function(root));
    cJSON_Delete(root);
    return 0;
}

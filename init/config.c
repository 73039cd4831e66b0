// SPDX-License-Identifier: MIT
/*
 * JSON config loading with cJSON, table-driven: each section is a table of
 * typed fields (offset into struct config). Go semantics: keys match
 * case-insensitively, a later duplicate wins, null leaves the value alone,
 * unknown keys are ignored. Every type error names the file, the key path,
 * what was expected and what was found. Main thread, before spawning.
 */
#include "config.h"

#include "ascii.h"
#include "cJSON.h"
#include "fdio.h"
#include "log.h"
#include "macro.h"
#include "signame.h"
#include "strv.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum field_type {
    F_STR,
    F_INT,
    F_BOOL,
    F_ARGS,
    F_ENV,
    F_SECONDS,
    F_SIGNAL,
    F_CODES,
    F_LEVEL,
    F_BYTES,
    F_SCOPE,
    F_SIGSET,
    F_CORE,
    F_AFTER,
    F_STRV,
    F_ARRAY_JSON,
};

struct field {
    const char *key;
    enum field_type type;
    size_t offset;
    int min, max; /* F_INT range */
};

struct section {
    const char *key;
    const struct field *fields;
    size_t n_fields;
    size_t present_offset; /* bool set when the section exists, or SIZE_MAX */
};

#define FLD(k, t, member)                                                                          \
    {                                                                                              \
        k, t, offsetof(struct config, member), 0, 0                                                \
    }
#define FLD_INT(k, member, lo, hi)                                                                 \
    {                                                                                              \
        k, F_INT, offsetof(struct config, member), lo, hi                                          \
    }

static const struct field app_fields[] = {
    FLD("executable", F_STR, app.executable),
    FLD("args", F_ARGS, app),
    FLD("user", F_STR, app.user),
    FLD("group", F_STR, app.group),
    FLD("workdir", F_STR, app.workdir),
    FLD("stream_name", F_STR, app.stream_name),
    FLD("env", F_ENV, app),
};

static const struct field redis_fields[] = {
    FLD("host", F_STR, redis.host),
    FLD_INT("port", redis.port, 0, 65535),
    FLD("secrets_dir", F_STR, redis.secrets_dir),
    FLD("url", F_STR, redis.url),
    FLD_INT("db", redis.db, 0, 1023),
    FLD_INT("metrics_db", redis.metrics_db, 0, 1023),
    FLD_INT("maxlen", redis.maxlen, 0, 1000000000),
    FLD("stream_prefix", F_STR, redis.stream_prefix),
    FLD("metric_prefix", F_STR, redis.metric_prefix),
    FLD("wait_at_start_seconds", F_SECONDS, redis.wait_at_start_ms),
    FLD("ping_seconds", F_SECONDS, redis.ping_ms),
    FLD("timeout_seconds", F_SECONDS, redis.timeout_ms),
    FLD("sentinels", F_STR, redis.sentinels),
    FLD("sentinel_master", F_STR, redis.sentinel_master),
    FLD("sentinel_secrets_dir", F_STR, redis.sentinel_secrets_dir),
    FLD("cluster", F_STR, redis.cluster),
    FLD("cluster_db_prefix", F_STR, redis.cluster_db_prefix),
    FLD("replay_bytes", F_BYTES, redis.replay_bytes),
};

static const struct field output_fields[] = {
    FLD("passthrough", F_BOOL, output.passthrough),
    FLD_INT("max_line", output.max_line, 64, 1 << 30),
    FLD("spool_dir", F_STR, output.spool_dir),
    FLD("spool_max_bytes", F_BYTES, output.spool_max_bytes),
    FLD("queue_max_bytes", F_BYTES, output.queue_max_bytes),
    FLD("flush_seconds", F_SECONDS, output.flush_ms),
    FLD("fields", F_BOOL, output.has_fields),
};

static const struct field debug_fields[] = {
    FLD("enabled", F_BOOL, debug.enabled),
    FLD_INT("port", debug.port, 0, 65535),
    FLD("host", F_STR, debug.host),
    FLD("after_gdbserver", F_AFTER, debug.is_kill_after),
    FLD("wait_seconds", F_SECONDS, debug.wait_ms),
    FLD("on_crash", F_BOOL, debug.on_crash),
};

static const struct field init_fields[] = {
    FLD("grace_seconds", F_SECONDS, init.grace_ms),
    FLD("kill_process_group", F_BOOL, init.kill_process_group),
    FLD("subreaper", F_BOOL, init.subreaper),
    FLD("pdeathsig", F_SIGNAL, init.pdeathsig),
    FLD("remap_exit", F_CODES, init),
    FLD("warn_on_reap", F_BOOL, init.warn_on_reap),
    FLD("log_level", F_LEVEL, init.log_level),
};

static const struct field crash_fields[] = {
    FLD("enabled", F_BOOL, crash.enabled),
    FLD("scope", F_SCOPE, crash.is_scope_main),
    FLD("dir", F_STR, crash.dir),
    FLD_INT("keep", crash.keep, 1, 100000),
    FLD_INT("max_frames", crash.max_frames, 1, 100000),
    FLD_INT("last_lines", crash.last_lines, 0, 10000),
    FLD("signals", F_SIGSET, crash.signals),
    FLD("system_lines", F_BOOL, crash.system_lines),
    FLD("core", F_CORE, crash.core),
    FLD("core_max_bytes", F_BYTES, crash.core_max_bytes),
};

static const struct field track_fields[] = {
    FLD("enabled", F_BOOL, track.enabled),
    FLD_INT("max_args", track.max_args, 1, 65536),
    FLD_INT("maxlen", track.maxlen, 0, 1000000000),
    FLD("file", F_STR, track.file),
    FLD("redact", F_STRV, track.redact),
};

static const struct field seccomp_fields[] = {
    FLD("default", F_STR, seccomp.default_action),
    FLD("rules", F_ARRAY_JSON, seccomp.rules),
    FLD("profile", F_STR, seccomp.profile),
};

static const struct section sections[] = {
    {"app", app_fields, ARRAY_SIZE(app_fields), SIZE_MAX},
    {"redis", redis_fields, ARRAY_SIZE(redis_fields), offsetof(struct config, redis.is_set)},
    {"debug", debug_fields, ARRAY_SIZE(debug_fields), SIZE_MAX},
    {"init", init_fields, ARRAY_SIZE(init_fields), SIZE_MAX},
    {"output", output_fields, ARRAY_SIZE(output_fields), SIZE_MAX},
    {"crash", crash_fields, ARRAY_SIZE(crash_fields), SIZE_MAX},
    {"track", track_fields, ARRAY_SIZE(track_fields), SIZE_MAX},
    {"seccomp", seccomp_fields, ARRAY_SIZE(seccomp_fields), SIZE_MAX},
};

void config_init(struct config *c)
{
    memset(c, 0, sizeof(*c));
    c->redis.port = 6379;
    c->redis.db = 1;
    c->redis.metrics_db = 2;
    c->redis.maxlen = 1000;
    c->redis.ping_ms = 10000;
    c->redis.timeout_ms = 5000;
    c->redis.replay_bytes = 8.0 * 1024 * 1024;
    c->output.passthrough = true;
    c->output.max_line = CONFIG_MAX_LINE;
    c->output.spool_max_bytes = 256.0 * 1024 * 1024;
    c->output.queue_max_bytes = 64.0 * 1024 * 1024;
    c->output.flush_ms = 2000;
    c->output.has_fields = true;
    c->debug.port = CONFIG_DEBUG_PORT;
    c->init.grace_ms = CONFIG_GRACE_MS_DEF;
    c->init.subreaper = true;
    c->init.log_level = -1;
    c->crash.enabled = true;
    c->track.max_args = CONFIG_TRACK_MAX_ARGS;
    c->track.maxlen = CONFIG_TRACK_MAXLEN;
    c->crash.keep = CONFIG_CRASH_KEEP;
    c->crash.max_frames = CONFIG_CRASH_FRAMES;
    c->crash.last_lines = CONFIG_CRASH_LAST_LINES;
    c->crash.signals = config_crash_default_signals();
    c->crash.core = CONFIG_CORE_LOCAL;
    c->crash.core_max_bytes = CONFIG_CORE_MAX_BYTES;
}

int config_parse_core(const char *s)
{
    static const char *const names[] = {"off", "local", "redis"};

    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if (strcmp(s, names[i]) == 0)
            return (int)i;
    return -EINVAL;
}

uint64_t config_crash_default_signals(void)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, SIGTRAP, SIGQUIT};
    uint64_t set = 0;

    for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
        set |= 1ULL << (sigs[i] - 1);
    return set;
}

void config_fini(struct config *c)
{
    free(c->path);
    free(c->app.executable);
    strv_free(c->app.args);
    free(c->app.user);
    free(c->app.group);
    free(c->app.workdir);
    free(c->app.stream_name);
    strv_free(c->app.env);
    free(c->redis.host);
    free(c->redis.secrets_dir);
    free(c->redis.url);
    free(c->redis.stream_prefix);
    free(c->redis.metric_prefix);
    free(c->redis.sentinels);
    free(c->redis.sentinel_master);
    free(c->redis.sentinel_secrets_dir);
    free(c->redis.cluster);
    free(c->redis.cluster_db_prefix);
    free(c->output.spool_dir);
    free(c->debug.host);
    free(c->crash.dir);
    free(c->track.file);
    free(c->seccomp.default_action);
    free(c->seccomp.rules);
    free(c->seccomp.profile);
    strv_free(c->track.redact);
    config_init(c);
}

int config_set_str(char **field, const char *value)
{
    char *copy = NULL;

    if (value) {
        copy = strdup(value);
        if (!copy)
            return -ENOMEM;
    }
    free(*field);
    *field = copy;
    return 0;
}

int config_set_args(struct config_app *app, char *const *argv, size_t n)
{
    char **v = calloc(n + 1, sizeof(*v));

    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        v[i] = strdup(argv[i]);
        if (!v[i]) {
            strv_free(v);
            return -ENOMEM;
        }
    }
    strv_free(app->args);
    app->args = v;
    app->n_args = n;
    return 0;
}

void config_remap_exit_add(struct config_init *in, unsigned code)
{
    if (code < 256)
        in->remap_exit[code / 64] |= 1ULL << (code % 64);
}

bool config_remap_exit_has(const struct config_init *in, unsigned code)
{
    return code < 256 && (in->remap_exit[code / 64] >> (code % 64)) & 1;
}

const char *config_stream_name(const struct config *c, char *buf, size_t size)
{
    const char *exe = c->app.executable, *base;
    size_t len;

    if (c->app.stream_name && *c->app.stream_name)
        return c->app.stream_name;
    if (!exe || !*exe)
        return ".";
    /* Go's filepath.Base: strip trailing slashes, take the last element. */
    len = strlen(exe);
    while (len > 1 && exe[len - 1] == '/')
        len--;
    base = exe + len;
    while (base > exe && base[-1] != '/')
        base--;
    len = (size_t)(exe + len - base);
    if (len == 0)
        return "/";
    if (len >= size)
        len = size - 1;
    memcpy(buf, base, len);
    buf[len] = '\0';
    return buf;
}

static const char *type_name(const cJSON *j)
{
    if (cJSON_IsString(j))
        return "a string";
    if (cJSON_IsNumber(j))
        return "a number";
    if (cJSON_IsBool(j))
        return "a boolean";
    if (cJSON_IsArray(j))
        return "an array";
    if (cJSON_IsObject(j))
        return "an object";
    return "null";
}

struct ctx {
    const char *name;
    const char *section;
};

static int bad(const struct ctx *x, const char *key, const char *expected, const char *found)
{
    log_error("config %s: %s.%s: expected %s, found %s; fix the value or remove the key", x->name,
              x->section, key, expected, found);
    return -EINVAL;
}

static int bad_item(const struct ctx *x, const char *key, size_t idx, const char *expected,
                    const cJSON *j)
{
    log_error("config %s: %s.%s[%zu]: expected %s, found %s; fix the value or remove the key",
              x->name, x->section, key, idx, expected, type_name(j));
    return -EINVAL;
}

static int get_int(const cJSON *j, double lo, double hi, int *ret)
{
    double d;

    if (!cJSON_IsNumber(j))
        return -EINVAL;
    d = j->valuedouble;
    if (!isfinite(d) || d != floor(d) || d < lo || d > hi)
        return -ERANGE;
    *ret = (int)d;
    return 0;
}

/* An array of strings into a NULL-terminated vector (replacing *dst). */
static int parse_strv(const struct ctx *x, const char *key, const cJSON *j, char ***dst)
{
    size_t n = 0, i = 0;
    char **v;
    const cJSON *it;

    if (!cJSON_IsArray(j))
        return bad(x, key, "an array of strings", type_name(j));
    cJSON_ArrayForEach(it, j)
    {
        if (!cJSON_IsString(it))
            return bad_item(x, key, n, "a string", it);
        n++;
    }
    v = calloc(n + 1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    cJSON_ArrayForEach(it, j)
    {
        v[i] = strdup(it->valuestring);
        if (!v[i++]) {
            strv_free(v);
            return -ENOMEM;
        }
    }
    strv_free(*dst);
    *dst = v;
    return 0;
}

/* app.args: the strings, owned by the config. */
static int parse_args(const struct ctx *x, const char *key, const cJSON *j, struct config_app *a)
{
    int r = parse_strv(x, key, j, &a->args);

    if (r == 0)
        a->n_args = strv_len(a->args);
    return r;
}

/* "env": {"KEY": "value", "GONE": null} -> "KEY=value", "GONE". */
static int parse_env(const struct ctx *x, const char *key, const cJSON *j, struct config_app *a)
{
    size_t n = 0, i = 0;
    char **v;
    const cJSON *it;

    if (!cJSON_IsObject(j))
        return bad(x, key, "an object of strings", type_name(j));
    cJSON_ArrayForEach(it, j)
    {
        if (!cJSON_IsString(it) && !cJSON_IsNull(it))
            return bad(x, "env", "string or null values", type_name(it));
        if (!*it->string || strchr(it->string, '='))
            return bad(x, "env", "variable names without '=' (non-empty)", "an invalid name");
        n++;
    }
    v = calloc(n + 1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    cJSON_ArrayForEach(it, j)
    {
        int r = cJSON_IsNull(it) ? asprintf(&v[i], "%s", it->string)
                                 : asprintf(&v[i], "%s=%s", it->string, it->valuestring);
        if (r < 0) {
            v[i] = NULL;
            strv_free(v);
            return -ENOMEM;
        }
        i++;
    }
    strv_free(a->env);
    a->env = v;
    a->n_env = n;
    return 0;
}

static int parse_codes(const struct ctx *x, const char *key, const cJSON *j, struct config_init *in)
{
    const cJSON *it;
    size_t i = 0;
    int code;

    if (!cJSON_IsArray(j))
        return bad(x, key, "an array of exit codes 0..255", type_name(j));
    memset(in->remap_exit, 0, sizeof(in->remap_exit));
    cJSON_ArrayForEach(it, j)
    {
        if (get_int(it, 0, 255, &code) < 0)
            return bad_item(x, key, i, "an integer 0..255", it);
        config_remap_exit_add(in, (unsigned)code);
        i++;
    }
    return 0;
}

static int parse_sigset(const struct ctx *x, const char *key, const cJSON *j, uint64_t *set)
{
    const cJSON *it;
    size_t i = 0;

    if (!cJSON_IsArray(j))
        return bad(x, key, "an array of signal names", type_name(j));
    *set = 0;
    cJSON_ArrayForEach(it, j)
    {
        int sig = cJSON_IsString(it) ? signame_parse(it->valuestring) : -EINVAL;
        if (sig <= 0 || sig > 64 || sig == SIGKILL || sig == SIGSTOP)
            return bad_item(x, key, i, "a catchable signal name such as SIGSEGV", it);
        *set |= 1ULL << (sig - 1);
        i++;
    }
    return 0;
}

static int parse_named(const struct ctx *x, const struct field *f, const cJSON *j, void *p)
{
    int r, v;

    if (cJSON_IsString(j))
        r = f->type == F_SIGNAL ? signame_parse(j->valuestring) : log_parse_level(j->valuestring);
    else
        r = get_int(j, 0, f->type == F_SIGNAL ? SIGNAME_MAX : LOG_LEVEL_DEBUG, &v) < 0 ? -EINVAL
                                                                                       : v;
    if (r < 0)
        return bad(x, f->key,
                   f->type == F_SIGNAL ? "a signal name (SIGKILL) or number"
                                       : "error, warn, info, debug or 0..3",
                   cJSON_IsString(j) ? "an unknown name" : type_name(j));
    *(int *)p = r;
    return 0;
}

static int parse_field(const struct ctx *x, const struct field *f, const cJSON *j, struct config *c)
{
    void *p = (char *)c + f->offset;
    char *text;
    int v;

    switch (f->type) {
    case F_STR:
        if (!cJSON_IsString(j))
            return bad(x, f->key, "a string", type_name(j));
        return config_set_str(p, j->valuestring);
    case F_INT:
        if (get_int(j, f->min, f->max, &v) < 0)
            return bad(x, f->key, "an integer in range",
                       cJSON_IsNumber(j) ? "a number out of range or fractional" : type_name(j));
        *(int *)p = v;
        return 0;
    case F_BOOL:
        if (!cJSON_IsBool(j))
            return bad(x, f->key, "true or false", type_name(j));
        *(bool *)p = cJSON_IsTrue(j);
        return 0;
    case F_SECONDS:
        if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble) || j->valuedouble < 0 ||
            j->valuedouble * 1000.0 > CONFIG_GRACE_MS_MAX)
            return bad(x, f->key, "seconds, 0..86400", type_name(j));
        *(unsigned *)p = (unsigned)llround(j->valuedouble * 1000.0);
        return 0;
    case F_BYTES:
        if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble) || j->valuedouble < 0 ||
            j->valuedouble > 1e15)
            return bad(x, f->key, "a byte count", type_name(j));
        *(double *)p = floor(j->valuedouble);
        return 0;
    case F_ARGS:
        return parse_args(x, f->key, j, p);
    case F_STRV:
        return parse_strv(x, f->key, j, p);
    case F_ARRAY_JSON: /* checked item by item where it is used (crash/policy.c) */
        if (!cJSON_IsArray(j))
            return bad(x, f->key, "an array", type_name(j));
        text = cJSON_PrintUnformatted(j);
        if (!text)
            return -ENOMEM;
        free(*(char **)p);
        *(char **)p = text;
        return 0;
    case F_ENV:
        return parse_env(x, f->key, j, p);
    case F_CODES:
        return parse_codes(x, f->key, j, p);
    case F_SIGNAL:
    case F_LEVEL:
        return parse_named(x, f, j, p);
    case F_SCOPE:
        if (!cJSON_IsString(j) ||
            (strcmp(j->valuestring, "tree") != 0 && strcmp(j->valuestring, "main") != 0))
            return bad(x, f->key, "\"tree\" or \"main\"",
                       cJSON_IsString(j) ? "another string" : type_name(j));
        *(bool *)p = strcmp(j->valuestring, "main") == 0;
        return 0;
    case F_AFTER:
        if (!cJSON_IsString(j) ||
            (strcmp(j->valuestring, "continue") != 0 && strcmp(j->valuestring, "kill") != 0))
            return bad(x, f->key, "\"continue\" or \"kill\"",
                       cJSON_IsString(j) ? "another string" : type_name(j));
        *(bool *)p = strcmp(j->valuestring, "kill") == 0;
        return 0;
    case F_SIGSET:
        return parse_sigset(x, f->key, j, p);
    case F_CORE:
        v = cJSON_IsString(j) ? config_parse_core(j->valuestring) : -EINVAL;
        if (v < 0)
            return bad(x, f->key, "\"off\", \"local\" or \"redis\"",
                       cJSON_IsString(j) ? "another string" : type_name(j));
        *(int *)p = v;
        return 0;
    }
    return -EINVAL;
}

static int parse_section(const char *name, const struct section *s, const cJSON *obj,
                         struct config *c)
{
    struct ctx x = {name, s->key};
    const cJSON *it;

    if (!cJSON_IsObject(obj)) {
        log_error("config %s: %s: expected an object, found %s; fix the value or remove the key",
                  name, s->key, type_name(obj));
        return -EINVAL;
    }
    if (s->present_offset != SIZE_MAX)
        *(bool *)((char *)c + s->present_offset) = true;
    /* In document order, so that a later duplicate wins (Go semantics). */
    cJSON_ArrayForEach(it, obj)
    {
        for (size_t i = 0; i < s->n_fields; i++) {
            int r;
            if (!ascii_case_eq(it->string, s->fields[i].key) || cJSON_IsNull(it))
                continue;
            r = parse_field(&x, &s->fields[i], it, c);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

static void syntax_error(const char *name, const char *text, size_t len, const char *at)
{
    size_t line = 1, col = 1, off = at && at >= text ? (size_t)(at - text) : len;
    char near[24] = "";

    if (off > len)
        off = len;
    for (size_t i = 0; i < off; i++) {
        col = text[i] == '\n' ? 1 : col + 1;
        line += text[i] == '\n';
    }
    for (size_t i = 0; i + 1 < sizeof(near) && off + i < len; i++)
        near[i] = (char)((text[off + i] == '\n' || text[off + i] == '\0') ? ' ' : text[off + i]);
    log_error("config %s: invalid JSON at line %zu, column %zu (near \"%s\"); fix the syntax", name,
              line, col, near);
}

int config_parse(struct config *c, const char *name, const char *text, size_t len)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    int r = 0;

    if (!root) {
        syntax_error(name, text, len, cJSON_GetErrorPtr());
        return -EINVAL;
    }
    if (!cJSON_IsObject(root)) {
        log_error("config %s: top level: expected an object, found %s; wrap the settings in {}",
                  name, type_name(root));
        cJSON_Delete(root);
        return -EINVAL;
    }
    for (const cJSON *it = root->child; it && r == 0; it = it->next)
        for (size_t i = 0; i < ARRAY_SIZE(sections) && r == 0; i++)
            if (ascii_case_eq(it->string, sections[i].key) && !cJSON_IsNull(it))
                r = parse_section(name, &sections[i], it, c);
    cJSON_Delete(root);
    if (r == -ENOMEM)
        log_error("config %s: out of memory", name);
    return r;
}

int config_load_file(struct config *c, const char *path)
{
    cleanup_free char *text = NULL;
    size_t len = 0;
    int r = fdio_read_file(path, CONFIG_FILE_MAX, &text, &len);

    if (r == -EFBIG)
        return log_error_errno(r, "config %s: larger than %u bytes; is this the right file?", path,
                               CONFIG_FILE_MAX);
    if (r < 0)
        return log_error_errno(r, "config %s: cannot read it; check the path and permissions",
                               path);
    r = config_set_str(&c->path, path);
    if (r < 0)
        return r;
    return config_parse(c, path, text, len);
}

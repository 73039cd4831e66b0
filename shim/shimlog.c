// SPDX-License-Identifier: MIT
/*
 * Invocation records (see shimlog.h). Arguments that are not valid UTF-8
 * are recorded twice: readable in "argv" (invalid bytes as U+FFFD) and
 * exact in "argv_hex", so a record is valid JSON and loses nothing.
 */
#include "shimlog.h"

#include "cJSON.h"
#include "cli.h"
#include "clock.h"
#include "log.h"
#include "rconn.h"
#include "signame.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void shimlog_config(const struct shimreg *reg, const char *tool, struct config *cfg)
{
    const char *base = strrchr(tool, '/');

    if (reg->config && config_load_file(cfg, reg->config) < 0) {
        log_warn("shim %s: config %s not used, so this call is not recorded; fix the config", tool,
                 reg->config);
        config_fini(cfg);
        config_init(cfg);
    }
    if (cli_apply_env(environ, cfg) < 0)
        cfg->redis.is_set = false;
    if (!cfg->app.stream_name)
        config_set_str(&cfg->app.stream_name, base ? base + 1 : tool);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
    size_t n = s[0] < 0x80             ? 1
               : (s[0] & 0xe0) == 0xc0 ? 2
               : (s[0] & 0xf0) == 0xe0 ? 3
               : (s[0] & 0xf8) == 0xf0 ? 4
                                       : 0;
    uint32_t cp;

    if (n == 0 || n > left)
        return 0;
    cp = n == 1 ? s[0] : s[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    /* Overlong forms, surrogates, beyond U+10FFFF. */
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    return n;
}

/* s with invalid bytes as U+FFFD (owned *ret); returns 1 if any was replaced. */
static int to_utf8(const char *s, size_t len, char **ret)
{
    char *out = malloc(len * 3 + 1), *o = out;
    int is_lossy = 0;

    if (!out)
        return -ENOMEM;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_len((const unsigned char *)s + i, len - i);
        if (n == 0) {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
            is_lossy = 1;
            continue;
        }
        memcpy(o, s + i, n);
        o += n;
        i += n;
    }
    *o = '\0';
    *ret = out;
    return is_lossy;
}

static char *to_hex(const char *s, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *out = malloc(len * 2 + 1);

    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[(unsigned char)s[i] >> 4];
        out[2 * i + 1] = digits[(unsigned char)s[i] & 15];
    }
    out[len * 2] = '\0';
    return out;
}

/* Exact bytes of argv[0..index) (all valid UTF-8 so far) into a new argv_hex. */
static cJSON *start_hex(cJSON *o, const cJSON *argv, size_t index)
{
    cJSON *hexes = cJSON_AddArrayToObject(o, "argv_hex");

    for (size_t i = 0; hexes && i < index; i++) {
        const cJSON *prev = cJSON_GetArrayItem(argv, (int)i);
        char *h = to_hex(prev->valuestring, strlen(prev->valuestring));
        bool ok = h && cJSON_AddItemToArray(hexes, cJSON_CreateString(h));
        free(h);
        if (!ok)
            return NULL;
    }
    return hexes;
}

/* One argument into argv (and argv_hex, created on the first lossy one). */
static int add_arg(cJSON *o, cJSON *argv, size_t index, const char *arg, size_t len)
{
    char *text = NULL, *hex;
    int lossy = to_utf8(arg, len, &text);
    cJSON *hexes = cJSON_GetObjectItemCaseSensitive(o, "argv_hex");
    bool ok = lossy >= 0 && cJSON_AddItemToArray(argv, cJSON_CreateString(text));

    free(text);
    if (!ok)
        return -ENOMEM;
    if (!lossy && !hexes)
        return 0;
    if (!hexes && !(hexes = start_hex(o, argv, index)))
        return -ENOMEM;
    hex = to_hex(arg, len);
    ok = hex && cJSON_AddItemToArray(hexes, cJSON_CreateString(hex));
    free(hex);
    return ok ? 0 : -ENOMEM;
}

static int add_argv(cJSON *o, char *const *argv)
{
    cJSON *arr = cJSON_AddArrayToObject(o, "argv");
    size_t total = 0, i;

    if (!arr)
        return -ENOMEM;
    for (i = 0; argv[i]; i++) {
        size_t len = strlen(argv[i]);
        if (total + len > SHIMLOG_ARGV_BYTES_MAX)
            break;
        total += len;
        if (add_arg(o, arr, i, argv[i], len) < 0)
            return -ENOMEM;
    }
    if (argv[i] && !cJSON_AddNumberToObject(o, "argv_cut", (double)i))
        return -ENOMEM;
    return 0;
}

static int add_ids(cJSON *o, const struct shimlog_call *c)
{
    if (!cJSON_AddStringToObject(o, "event", "shim") ||
        !cJSON_AddStringToObject(o, "tool", c->tool) ||
        !cJSON_AddStringToObject(o, "real", c->real) ||
        !cJSON_AddNumberToObject(o, "appended", (double)c->n_appended) ||
        !(c->cwd ? cJSON_AddStringToObject(o, "cwd", c->cwd) : cJSON_AddNullToObject(o, "cwd")) ||
        !cJSON_AddNumberToObject(o, "pid", c->pid) ||
        !cJSON_AddNumberToObject(o, "ppid", getppid()) ||
        !cJSON_AddNumberToObject(o, "uid", getuid()) ||
        !cJSON_AddNumberToObject(o, "euid", geteuid()) ||
        !cJSON_AddNumberToObject(o, "gid", getgid()) ||
        !cJSON_AddNumberToObject(o, "start_us", (double)c->start_us))
        return -ENOMEM;
    return 0;
}

/* "exit 3", "signal SIGKILL (core dumped)", "exec failed: ..." or "started". */
static int add_outcome(cJSON *o, const struct shimlog_call *c, char *buf, size_t size)
{
    char name[24];
    bool ok = true;

    if (c->exec_err > 0) {
        snprintf(buf, size, "exec failed: %s", strerror(c->exec_err));
        ok = cJSON_AddStringToObject(o, "exec_error", strerror(c->exec_err)) != NULL;
    } else if (!c->has_status) {
        snprintf(buf, size, "started");
    } else if (WIFSIGNALED(c->status)) {
        signame_name(WTERMSIG(c->status), name);
        snprintf(buf, size, "signal %s%s", name, WCOREDUMP(c->status) ? " (core dumped)" : "");
        ok = cJSON_AddStringToObject(o, "signal", name) &&
             cJSON_AddBoolToObject(o, "core_dumped", WCOREDUMP(c->status) != 0);
    } else {
        snprintf(buf, size, "exit %d", WEXITSTATUS(c->status));
        ok = cJSON_AddNumberToObject(o, "exit_code", WEXITSTATUS(c->status)) != NULL;
    }
    if (ok && c->has_status && c->end_us >= c->start_us)
        ok = cJSON_AddNumberToObject(o, "wall_ms", (double)(c->end_us - c->start_us) / 1000.0);
    return ok ? 0 : -ENOMEM;
}

int shimlog_format(const struct shimlog_call *c, char **ret, char **ret_text)
{
    cJSON *o = cJSON_CreateObject();
    char outcome[160], *json = NULL, *text = NULL;
    size_t argc = 0;
    int r = o ? add_ids(o, c) : -ENOMEM;

    while (c->argv[argc])
        argc++;
    if (r == 0)
        r = add_argv(o, c->argv);
    if (r == 0)
        r = add_outcome(o, c, outcome, sizeof(outcome));
    if (r == 0)
        json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!json || asprintf(&text, "shim %s: %zu argument(s), pid %d, uid %u: %s", c->tool,
                          argc > 0 ? argc - 1 : 0, (int)c->pid, (unsigned)getuid(), outcome) < 0) {
        free(json);
        return -ENOMEM;
    }
    *ret = json;
    *ret_text = text;
    return 0;
}

static void xadd(const struct config *cfg, const struct rconn_target *t, const char *key,
                 const char *text, const char *json)
{
    char why[RCONN_WHY_MAX] = "", maxlen[16];
    const char *argv[12];
    size_t lens[12];
    int argc = 0, r;
    struct rconn c = {0};
    redisReply *rep = NULL;

    r = rconn_open(t, &c, why, sizeof(why));
    if (r < 0) {
        log_info("shim: invocation record for %s not sent: %s", key, why);
        return;
    }
    argv[argc++] = "XADD";
    argv[argc++] = key;
    if (cfg->redis.maxlen > 0) {
        snprintf(maxlen, sizeof(maxlen), "%d", cfg->redis.maxlen);
        argv[argc++] = "MAXLEN";
        argv[argc++] = "~";
        argv[argc++] = maxlen;
    }
    argv[argc++] = "*";
    argv[argc++] = "message";
    argv[argc++] = text;
    argv[argc++] = "event";
    argv[argc++] = "shim";
    argv[argc++] = "json";
    argv[argc++] = json;
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    r = rconn_command(&c, argc, argv, lens, &rep, why, sizeof(why));
    if (r < 0)
        log_info("shim: invocation record for %s not written: %s", key, why);
    if (rep)
        freeReplyObject(rep);
    rconn_close(&c);
}

void shimlog_send(const struct config *cfg, const struct shimreg *reg, const struct shimlog_call *c)
{
    struct rconn_target t = {0};
    char *json = NULL, *text = NULL, key[512], buf[256];
    const char *stream = config_stream_name(cfg, buf, sizeof(buf));
    const char *prefix = cfg->redis.stream_prefix ? cfg->redis.stream_prefix : "logs:app:";
    int n;

    if (!cfg->redis.is_set)
        return;
    n = reg->log_key ? snprintf(key, sizeof(key), "%s", reg->log_key)
                     : snprintf(key, sizeof(key), "%s%s:info", prefix, stream);
    if (n < 0 || (size_t)n >= sizeof(key)) {
        log_info("shim: no invocation record: the stream name is longer than %zu bytes",
                 sizeof(key) - 1);
        return;
    }
    if (shimlog_format(c, &json, &text) == 0 && rconn_target_from_config(cfg, &t) == 0) {
        t.timeout_ms = reg->timeout_ms;
        xadd(cfg, &t, key, text, json);
    }
    rconn_target_fini(&t);
    free(json);
    free(text);
}

// SPDX-License-Identifier: MIT
/*
 * Registration files (see shimreg.h), parsed and written with cJSON. The
 * parser checks every field's type and range and that "real" is a plain
 * file name, so a registration can never make the shim run a binary
 * outside its own directory. Fuzzed by tests/fuzz/fuzz_shimreg.c.
 */
#include "shimreg.h"

#include "cJSON.h"
#include "fdio.h"
#include "log.h"
#include "macro.h"
#include "strv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const log_names[] = {"off", "start", "exit"};

int shimreg_parse_log(const char *s)
{
    for (size_t i = 0; i < ARRAY_SIZE(log_names); i++)
        if (strcmp(s, log_names[i]) == 0)
            return (int)i;
    return -EINVAL;
}

const char *shimreg_log_name(int log)
{
    return log >= 0 && (size_t)log < ARRAY_SIZE(log_names) ? log_names[log] : "?";
}

void shimreg_init(struct shimreg *r)
{
    *r = (struct shimreg){.log = SHIMREG_LOG_OFF, .timeout_ms = SHIMREG_TIMEOUT_DEF};
}

void shimreg_fini(struct shimreg *r)
{
    free(r->target);
    free(r->real);
    free(r->config);
    strv_free(r->append);
    free(r->log_key);
    shimreg_init(r);
}

int shimreg_path(const char *tool, const char *suffix, char *buf, size_t size)
{
    const char *base = strrchr(tool, '/');
    size_t dir_len;
    int n;

    base = base ? base + 1 : tool;
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return -EINVAL;
    dir_len = (size_t)(base - tool);
    n = snprintf(buf, size, "%.*s.%s%s", (int)dir_len, tool, base, suffix);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int bad(const char *name, const char *key, const char *expected, const cJSON *got)
{
    const char *what = cJSON_IsString(got)   ? "a string"
                       : cJSON_IsNumber(got) ? "a number"
                       : cJSON_IsBool(got)   ? "a boolean"
                       : cJSON_IsArray(got)  ? "an array"
                       : cJSON_IsObject(got) ? "an object"
                                             : "null";

    log_error("shim registration %s: \"%s\": expected %s, found %s; fix it or reinstall with "
              "wrapp shim install",
              name, key, expected, what);
    return -EINVAL;
}

/* A string field; JSON null clears it. */
static int get_str(const char *name, const cJSON *v, char **field)
{
    char *copy;

    if (cJSON_IsNull(v)) {
        free(*field);
        *field = NULL;
        return 0;
    }
    if (!cJSON_IsString(v) || !v->valuestring)
        return bad(name, v->string, "a string", v);
    copy = strdup(v->valuestring);
    if (!copy)
        return -ENOMEM;
    free(*field);
    *field = copy;
    return 0;
}

static int get_append(struct shimreg *r, const char *name, const cJSON *v)
{
    int n = cJSON_GetArraySize(v);
    char **args;
    size_t i = 0;
    const cJSON *a;

    if (!cJSON_IsArray(v) || n > SHIMREG_APPEND_MAX)
        return bad(name, "append", "an array of at most 256 strings", v);
    args = calloc((size_t)n + 1, sizeof(char *));
    if (!args)
        return -ENOMEM;
    cJSON_ArrayForEach(a, v)
    {
        if (!cJSON_IsString(a) || !a->valuestring) {
            strv_free(args);
            return bad(name, "append", "an array of strings", a);
        }
        args[i] = strdup(a->valuestring);
        if (!args[i++]) {
            strv_free(args);
            return -ENOMEM;
        }
    }
    strv_free(r->append);
    r->append = args;
    r->n_append = i;
    return 0;
}

static int get_bool(const char *name, const cJSON *v, bool *field)
{
    if (!cJSON_IsBool(v))
        return bad(name, v->string, "true or false", v);
    *field = cJSON_IsTrue(v);
    return 0;
}

static int get_log(struct shimreg *r, const char *name, const cJSON *v)
{
    int l = cJSON_IsString(v) && v->valuestring ? shimreg_parse_log(v->valuestring) : -EINVAL;

    if (l < 0)
        return bad(name, "log", "\"off\", \"start\" or \"exit\"", v);
    r->log = l;
    return 0;
}

static int get_timeout(struct shimreg *r, const char *name, const cJSON *v)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 1) || v->valuedouble > SHIMREG_TIMEOUT_MAX)
        return bad(name, "timeout_ms", "milliseconds 1..10000", v);
    r->timeout_ms = (unsigned)v->valuedouble;
    return 0;
}

static int parse_field(struct shimreg *r, const char *name, const cJSON *v)
{
    const char *k = v->string;

    if (strcmp(k, "target") == 0)
        return get_str(name, v, &r->target);
    if (strcmp(k, "real") == 0)
        return get_str(name, v, &r->real);
    if (strcmp(k, "config") == 0)
        return get_str(name, v, &r->config);
    if (strcmp(k, "log_key") == 0)
        return get_str(name, v, &r->log_key);
    if (strcmp(k, "append") == 0)
        return get_append(r, name, v);
    if (strcmp(k, "log") == 0)
        return get_log(r, name, v);
    if (strcmp(k, "supervise") == 0)
        return get_bool(name, v, &r->supervise);
    if (strcmp(k, "capture") == 0)
        return get_bool(name, v, &r->capture);
    if (strcmp(k, "timeout_ms") == 0)
        return get_timeout(r, name, v);
    return 0;
}

/* "real" must name a file in the shim's own directory. */
static int check_real(const struct shimreg *r, const char *name)
{
    const char *s = r->real;

    if (s && *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0)
        return 0;
    log_error("shim registration %s: \"real\": expected the real binary's file name in the "
              "shim's directory, found %s%s%s; reinstall with wrapp shim install",
              name, s ? "\"" : "", s ? s : "nothing", s ? "\"" : "");
    return -EINVAL;
}

int shimreg_parse(struct shimreg *r, const char *name, const char *text, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(text, len), *v;
    int ret = 0;

    if (!root) {
        log_error("shim registration %s: not valid JSON; reinstall with wrapp shim install", name);
        return -EINVAL;
    }
    if (!cJSON_IsObject(root)) {
        ret = bad(name, "(top level)", "an object", root);
        goto out;
    }
    cJSON_ArrayForEach(v, root)
    {
        if (!v->string)
            continue;
        ret = parse_field(r, name, v);
        if (ret < 0)
            goto out;
    }
    ret = check_real(r, name);
out:
    cJSON_Delete(root);
    return ret;
}

int shimreg_load_fd(struct shimreg *r, const char *name, int fd)
{
    cleanup_free char *buf = malloc(SHIMREG_FILE_MAX + 1);
    ssize_t n;

    if (!buf)
        return -ENOMEM;
    n = fdio_read_all(fd, buf, SHIMREG_FILE_MAX + 1);
    if (n < 0)
        return log_error_errno((int)n, "shim registration %s: cannot read it", name);
    if ((size_t)n > SHIMREG_FILE_MAX) {
        log_error("shim registration %s: larger than %zu bytes; reinstall with wrapp shim install",
                  name, SHIMREG_FILE_MAX);
        return -EFBIG;
    }
    return shimreg_parse(r, name, buf, (size_t)n);
}

static int add_str(cJSON *o, const char *key, const char *value)
{
    cJSON *v = value ? cJSON_CreateString(value) : cJSON_CreateNull();

    return v && cJSON_AddItemToObject(o, key, v) ? 0 : (cJSON_Delete(v), -ENOMEM);
}

static int add_fields(cJSON *o, const struct shimreg *r)
{
    cJSON *arr = cJSON_CreateArray();

    if (!arr || !cJSON_AddItemToObject(o, "append", arr)) {
        cJSON_Delete(arr);
        return -ENOMEM;
    }
    for (size_t i = 0; i < r->n_append; i++) {
        cJSON *s = cJSON_CreateString(r->append[i]);
        if (!s || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            return -ENOMEM;
        }
    }
    if (add_str(o, "log", shimreg_log_name(r->log)) < 0 || add_str(o, "log_key", r->log_key) < 0 ||
        !cJSON_AddBoolToObject(o, "supervise", r->supervise) ||
        !cJSON_AddBoolToObject(o, "capture", r->capture) ||
        !cJSON_AddNumberToObject(o, "timeout_ms", r->timeout_ms))
        return -ENOMEM;
    return 0;
}

int shimreg_format(const struct shimreg *r, char **ret)
{
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    int e = o && cJSON_AddNumberToObject(o, "wrapp_shim", SHIMREG_FORMAT) ? 0 : -ENOMEM;

    if (e == 0)
        e = add_str(o, "target", r->target);
    if (e == 0)
        e = add_str(o, "real", r->real);
    if (e == 0)
        e = add_str(o, "config", r->config);
    if (e == 0)
        e = add_fields(o, r);
    if (e == 0)
        text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text)
        return -ENOMEM;
    *ret = text;
    return 0;
}

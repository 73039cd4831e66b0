// SPDX-License-Identifier: MIT
/*
 * See policy.h. The profile's rules come first, then the config's; a
 * later rule for the same syscall without conditions replaces an earlier
 * one (a config can relax a shipped profile). The config's default wins
 * over the profile's.
 */
#include "policy.h"

#include "cJSON.h"
#include "fdio.h"
#include "log.h"
#include "macro.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROFILE_MAX (1u << 20)

static const struct {
    const char *name;
    int op;
} ops[] = {
    {"==", SCMP_CMP_EQ}, {"!=", SCMP_CMP_NE}, {"<", SCMP_CMP_LT},          {"<=", SCMP_CMP_LE},
    {">", SCMP_CMP_GT},  {">=", SCMP_CMP_GE}, {"&==", SCMP_CMP_MASKED_EQ},
};

const char *policy_action_name(enum policy_action a)
{
    static const char *const names[] = {"allow", "errno", "kill", "report", "log-only"};

    return (size_t)a < ARRAY_SIZE(names) ? names[a] : "?";
}

/* "EACCES" -> 13; -EINVAL when it names no errno. */
static int errno_number(const char *name)
{
    for (int e = 1; e < 4096; e++) {
        const char *n = strerrorname_np(e);
        if (n && strcmp(n, name) == 0)
            return e;
    }
    return -EINVAL;
}

int policy_parse_action(const char *s, enum policy_action *ret, int *ret_err)
{
    const char *colon = strchr(s, ':');
    size_t len = colon ? (size_t)(colon - s) : strlen(s);
    int err = EPERM;

    if (colon) {
        err = errno_number(colon + 1);
        if (err < 0)
            return -EINVAL;
    }
    if (len == 5 && strncmp(s, "allow", 5) == 0 && !colon)
        *ret = POLICY_ALLOW;
    else if (len == 4 && strncmp(s, "kill", 4) == 0 && !colon)
        *ret = POLICY_KILL;
    else if (len == 8 && strncmp(s, "log-only", 8) == 0 && !colon)
        *ret = POLICY_LOG;
    else if (len == 5 && strncmp(s, "errno", 5) == 0)
        *ret = POLICY_ERRNO;
    else if (len == 6 && strncmp(s, "report", 6) == 0)
        *ret = POLICY_REPORT;
    else
        return -EINVAL;
    *ret_err = err;
    return 0;
}

/* A condition's value: a non-negative integer, as a number or a string
 * ("0x10", "17"). */
static bool get_u64(const cJSON *v, uint64_t *ret)
{
    char *end;

    if (cJSON_IsNumber(v)) {
        if (v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 ||
            v->valuedouble != (double)(uint64_t)v->valuedouble)
            return false;
        *ret = (uint64_t)v->valuedouble;
        return true;
    }
    if (!cJSON_IsString(v) || !*v->valuestring || *v->valuestring == '-')
        return false;
    errno = 0;
    *ret = strtoull(v->valuestring, &end, 0);
    return errno == 0 && *end == '\0';
}

struct where {
    const char *from; /* "seccomp.rules" or the profile's path */
    size_t index;
};

static int bad_rule(const struct where *w, const char *name, const char *why)
{
    log_error("seccomp rule %zu%s%s%s in %s: %s", w->index, name ? " (\"" : "", name ? name : "",
              name ? "\")" : "", w->from, why);
    return -EINVAL;
}

static int parse_cond(const struct where *w, const char *name, const cJSON *c,
                      struct policy_cond *ret)
{
    const cJSON *arg = cJSON_GetObjectItemCaseSensitive(c, "arg");
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(c, "op");
    uint64_t index;

    if (!cJSON_IsObject(c) || !get_u64(arg, &index) || index > 5)
        return bad_rule(w, name, "each of \"args\" needs \"arg\": 0..5, \"op\" and \"value\"");
    *ret = (struct policy_cond){.arg = (unsigned)index, .op = -1};
    for (size_t i = 0; cJSON_IsString(op) && i < ARRAY_SIZE(ops); i++)
        if (strcmp(op->valuestring, ops[i].name) == 0)
            ret->op = ops[i].op;
    if (ret->op < 0)
        return bad_rule(w, name, "unknown \"op\"; use ==, !=, <, <=, >, >= or &== (with \"mask\")");
    if (!get_u64(cJSON_GetObjectItemCaseSensitive(c, "value"), &ret->value))
        return bad_rule(w, name, "\"value\" must be a non-negative integer (or \"0x...\")");
    if (ret->op == SCMP_CMP_MASKED_EQ &&
        !get_u64(cJSON_GetObjectItemCaseSensitive(c, "mask"), &ret->mask))
        return bad_rule(w, name, "\"&==\" needs \"mask\", a non-negative integer");
    return 0;
}

/* Add (or, without conditions, replace) the rule for one syscall. */
static int add_rule(struct policy *p, const struct policy_rule *r)
{
    struct policy_rule *v;

    for (size_t i = 0; r->n_conds == 0 && i < p->n_rules; i++)
        if (p->rules[i].nr == r->nr && p->rules[i].n_conds == 0) {
            p->rules[i] = *r;
            return 0;
        }
    if (p->n_rules == POLICY_RULES_MAX)
        return log_error("seccomp: more than %d rules; merge some", POLICY_RULES_MAX), -EINVAL;
    v = realloc(p->rules, (p->n_rules + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    p->rules = v;
    p->rules[p->n_rules++] = *r;
    return 0;
}

static int parse_rule(struct policy *p, const struct where *w, const cJSON *rule)
{
    const cJSON *one = cJSON_GetObjectItemCaseSensitive(rule, "syscall");
    const cJSON *many = cJSON_GetObjectItemCaseSensitive(rule, "syscalls");
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(rule, "action");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(rule, "args");
    const char *first = cJSON_IsString(one) ? one->valuestring : NULL;
    struct policy_rule r = {.n_conds = 0};
    const cJSON *name;
    int e;

    if (!cJSON_IsObject(rule) || (!cJSON_IsString(one) && !cJSON_IsArray(many)))
        return bad_rule(w, NULL, "needs \"syscall\": NAME or \"syscalls\": [NAME...]");
    if (!cJSON_IsString(action) || policy_parse_action(action->valuestring, &r.action, &r.err) < 0)
        return bad_rule(
            w, first, "\"action\" must be allow, errno[:ENAME], kill, report[:ENAME] or log-only");
    if (args && (!cJSON_IsArray(args) || cJSON_GetArraySize(args) > POLICY_CONDS_MAX))
        return bad_rule(w, first, "\"args\" must be an array of at most 6 conditions");
    cJSON_ArrayForEach(name, args)
    {
        e = parse_cond(w, first, name, &r.conds[r.n_conds]);
        if (e < 0)
            return e;
        r.n_conds++;
    }
    for (name = cJSON_IsString(one) ? one : many->child; name;
         name = cJSON_IsString(one) ? NULL : name->next) {
        if (!cJSON_IsString(name) || strlen(name->valuestring) >= POLICY_NAME_MAX)
            return bad_rule(w, first, "syscall names must be strings");
        r.nr = seccomp_syscall_resolve_name(name->valuestring);
        if (r.nr == __NR_SCMP_ERROR)
            return bad_rule(w, name->valuestring,
                            "unknown syscall; use the names of syscalls(2), e.g. openat");
        snprintf(r.name, sizeof(r.name), "%s", name->valuestring);
        e = add_rule(p, &r);
        if (e < 0)
            return e;
    }
    return 0;
}

static int parse_rules(struct policy *p, const char *from, const cJSON *rules)
{
    struct where w = {from, 0};
    const cJSON *rule;

    if (!rules)
        return 0;
    if (!cJSON_IsArray(rules))
        return log_error("seccomp \"rules\" in %s: not an array of rules", from), -EINVAL;
    cJSON_ArrayForEach(rule, rules)
    {
        int e = parse_rule(p, &w, rule);
        if (e < 0)
            return e;
        w.index++;
    }
    return 0;
}

static int set_default(struct policy *p, const char *from, const char *s)
{
    if (policy_parse_action(s, &p->def, &p->def_err) < 0)
        return log_error("seccomp \"default\" in %s: \"%s\" is not an action; use allow, "
                         "errno[:ENAME], kill, report[:ENAME] or log-only",
                         from, s),
               -EINVAL;
    p->is_set = true;
    return 0;
}

/* The profile: {"default": ..., "rules": [...]}, or a config file with a
 * "seccomp" section. */
static int load_profile(struct policy *p, const char *path)
{
    cleanup_free char *text = NULL;
    size_t len;
    cJSON *root, *sec, *def;
    int e = fdio_read_file(path, PROFILE_MAX, &text, &len);

    if (e < 0)
        return log_error_errno(e,
                               "seccomp profile %s: cannot read it; fix seccomp.profile or "
                               "WRAPP_SECCOMP_PROFILE",
                               path),
               -EINVAL;
    root = cJSON_ParseWithLength(text, len);
    if (!root)
        return log_error("seccomp profile %s: not valid JSON near byte %zu", path,
                         (size_t)(cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - text : 0)),
               -EINVAL;
    sec = cJSON_GetObjectItemCaseSensitive(root, "seccomp");
    sec = cJSON_IsObject(sec) ? sec : root;
    def = cJSON_GetObjectItemCaseSensitive(sec, "default");
    e = 0;
    if (def && !cJSON_IsString(def)) {
        log_error("seccomp profile %s: \"default\" must be a string", path);
        e = -EINVAL;
    }
    if (e == 0 && def)
        e = set_default(p, path, def->valuestring);
    if (e == 0)
        e = parse_rules(p, path, cJSON_GetObjectItemCaseSensitive(sec, "rules"));
    cJSON_Delete(root);
    return e;
}

int policy_load(const struct config_seccomp *c, struct policy *p)
{
    cJSON *rules = NULL;
    int e = 0;

    *p = (struct policy){.def = POLICY_ALLOW};
    if (c->profile)
        e = load_profile(p, c->profile);
    if (e == 0 && c->rules) {
        rules = cJSON_Parse(c->rules);
        e = rules ? parse_rules(p, "seccomp.rules", rules) : -ENOMEM;
        cJSON_Delete(rules);
    }
    if (e == 0 && c->default_action)
        e = set_default(p, "seccomp.default", c->default_action);
    if (e == 0 && p->n_rules > 0)
        p->is_set = true;
    if (e < 0)
        policy_fini(p);
    return e;
}

bool policy_needs_tracer(const struct policy *p)
{
    if (!p->is_set)
        return false;
    if (p->def == POLICY_REPORT || p->def == POLICY_LOG)
        return true;
    for (size_t i = 0; i < p->n_rules; i++)
        if (p->rules[i].action == POLICY_REPORT || p->rules[i].action == POLICY_LOG)
            return true;
    return false;
}

bool policy_has_kill(const struct policy *p)
{
    if (!p->is_set)
        return false;
    if (p->def == POLICY_KILL)
        return true;
    for (size_t i = 0; i < p->n_rules; i++)
        if (p->rules[i].action == POLICY_KILL)
            return true;
    return false;
}

void policy_fini(struct policy *p)
{
    free(p->rules);
    *p = (struct policy){.def = POLICY_ALLOW};
}

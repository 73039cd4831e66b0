// SPDX-License-Identifier: MIT
/*
 * /etc/passwd and /etc/group parsing (see users.h). Lines are split in
 * place in a private copy of each file; malformed lines are skipped, as
 * libc's files backend does. No NSS, no allocation after resolution.
 */
#include "users.h"

#include "fdio.h"
#include "log.h"
#include "macro.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int users_parse_id(const char *s, unsigned *ret)
{
    unsigned long long v = 0;

    if (!s || !*s)
        return -EINVAL;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        v = v * 10 + (unsigned)(*p - '0');
        if (v >= 0xffffffffULL)
            return -EINVAL;
    }
    *ret = (unsigned)v;
    return 0;
}

/* Split line at ':' into at most n fields; returns the field count. */
static size_t split(char *line, char **f, size_t n)
{
    size_t k = 0;

    f[k++] = line;
    for (char *p = line; *p && k < n; p++)
        if (*p == ':') {
            *p = '\0';
            f[k++] = p + 1;
        }
    return k;
}

/* Calls fn for each well-formed line (>= min fields) of etc/file;
 * stops when fn returns non-zero and returns that. A missing file reads
 * as empty. */
static int each_line(const char *etc, const char *file, size_t min,
                     int (*fn)(char **f, size_t n, void *data), void *data)
{
    char path[4096];
    cleanup_free char *text = NULL;
    size_t len;
    char *save = NULL;
    int r;

    snprintf(path, sizeof(path), "%s/%s", etc, file);
    r = fdio_read_file(path, USERS_FILE_MAX, &text, &len);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return log_error_errno(r, "cannot read %s; fix its permissions or use numeric ids", path);
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[8];
        size_t n;
        if (*line == '#' || *line == '+' || *line == '-')
            continue;
        n = split(line, f, ARRAY_SIZE(f));
        if (n < min)
            continue;
        r = fn(f, n, data);
        if (r != 0)
            return r;
    }
    return 0;
}

struct pw_query {
    const char *name; /* match by name, or */
    unsigned uid;     /* by uid when name is NULL */
    struct users_ids *ids;
};

static int pw_match(char **f, size_t n, void *data)
{
    struct pw_query *q = data;
    unsigned uid, gid;

    (void)n;
    if (users_parse_id(f[2], &uid) < 0 || users_parse_id(f[3], &gid) < 0)
        return 0;
    if (q->name ? strcmp(f[0], q->name) != 0 : uid != q->uid)
        return 0;
    q->ids->uid = uid;
    q->ids->gid = gid;
    q->ids->name = strdup(f[0]);
    q->ids->home = strdup(n > 5 && *f[5] ? f[5] : "/");
    return q->ids->name && q->ids->home ? 1 : -ENOMEM;
}

struct gr_query {
    const char *name;   /* group name to find, or */
    const char *member; /* collect groups listing this member */
    gid_t found;
    struct users_ids *ids;
};

static int add_group(struct users_ids *ids, gid_t gid)
{
    gid_t *g;

    for (size_t i = 0; i < ids->n_groups; i++)
        if (ids->groups[i] == gid)
            return 0;
    if (ids->n_groups >= USERS_GROUPS_MAX)
        return 0;
    g = realloc(ids->groups, (ids->n_groups + 1) * sizeof(*g));
    if (!g)
        return -ENOMEM;
    g[ids->n_groups++] = gid;
    ids->groups = g;
    return 0;
}

static int gr_match(char **f, size_t n, void *data)
{
    struct gr_query *q = data;
    unsigned gid;
    char *save = NULL;

    if (users_parse_id(f[2], &gid) < 0)
        return 0;
    if (q->name) {
        if (strcmp(f[0], q->name) != 0)
            return 0;
        q->found = gid;
        return 1;
    }
    if (n < 4)
        return 0;
    for (char *m = strtok_r(f[3], ",", &save); m; m = strtok_r(NULL, ",", &save))
        if (strcmp(m, q->member) == 0)
            return add_group(q->ids, gid);
    return 0;
}

static int resolve_group(const char *etc, const char *group, gid_t *ret)
{
    struct gr_query q = {.name = group};
    unsigned id;
    int r;

    if (users_parse_id(group, &id) == 0) {
        *ret = id;
        return 0;
    }
    r = each_line(etc, "group", 3, gr_match, &q);
    if (r < 0)
        return r;
    if (r == 0) {
        log_error("group \"%s\" not in %s/group; use a numeric gid or add the group", group, etc);
        return -ENOENT;
    }
    *ret = q.found;
    return 0;
}

static int resolve_user(const char *etc, const char *user, struct users_ids *ids)
{
    struct pw_query q = {.ids = ids};
    unsigned id;
    int r;

    if (users_parse_id(user, &id) == 0) {
        q.uid = id;
        r = each_line(etc, "passwd", 4, pw_match, &q);
        if (r == 0) { /* unknown uid: gid 0 and HOME=/ like runc and podman */
            ids->uid = id;
            ids->gid = 0;
            ids->home = strdup("/");
            r = ids->home ? 1 : -ENOMEM;
        }
        return r < 0 ? r : 0;
    }
    q.name = user;
    r = each_line(etc, "passwd", 4, pw_match, &q);
    if (r == 0) {
        log_error("user \"%s\" not in %s/passwd; use a numeric uid (e.g. \"1000:1000\") or add "
                  "the user",
                  user, etc);
        return -ENOENT;
    }
    return r < 0 ? r : 0;
}

int users_resolve(const char *etc, const char *user, const char *group, struct users_ids *ret)
{
    struct users_ids ids = {0};
    char u[USERS_SPEC_MAX];
    const char *g = group;
    char *colon;
    int r;

    if (!user) {
        ids.uid = getuid();
        ids.gid = getgid();
    } else {
        if (strlen(user) >= sizeof(u)) {
            log_error("user \"%.32s...\" is too long; use a name or uid[:gid]", user);
            return -EINVAL;
        }
        memcpy(u, user, strlen(user) + 1);
        colon = strchr(u, ':');
        if (colon) {
            *colon = '\0';
            if (!g)
                g = colon + 1;
        }
        r = resolve_user(etc, u, &ids);
        if (r < 0)
            goto fail;
    }
    if (g && *g) {
        r = resolve_group(etc, g, &ids.gid);
        if (r < 0)
            goto fail;
    }
    r = add_group(&ids, ids.gid);
    if (r == 0 && ids.name) {
        struct gr_query q = {.member = ids.name, .ids = &ids};
        r = each_line(etc, "group", 4, gr_match, &q);
    }
    if (r < 0)
        goto fail;
    *ret = ids;
    return 0;
fail:
    users_ids_fini(&ids);
    return r;
}

void users_ids_fini(struct users_ids *ids)
{
    free(ids->groups);
    free(ids->name);
    free(ids->home);
    *ids = (struct users_ids){0};
}

// SPDX-License-Identifier: MIT
/*
 * Resolves app.user/app.group to numeric ids, supplementary groups and a
 * login's HOME/USER/LOGNAME by reading <etc>/passwd and <etc>/group
 * directly (no NSS: works in a FROM scratch image with a static binary,
 * and with numeric ids and no files at all). Main thread, before fork.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define USERS_FILE_MAX   (16u << 20)
#define USERS_GROUPS_MAX 65536
#define USERS_SPEC_MAX   512 /* "name:group" */

struct users_ids {
    uid_t uid;
    gid_t gid;
    gid_t *groups; /* supplementary groups, including gid; owned */
    size_t n_groups;
    char *name; /* NULL when the uid has no passwd entry */
    char *home; /* passwd home, or "/" */
};

/* Resolve user ("name", "uid", "name:group", "uid:gid"; NULL = current
 * real ids, no switch) and group (name or gid; NULL = the user's primary
 * group, 0 if the uid is unknown, as container runtimes do). etc is the
 * directory holding passwd and group ("/etc"). Logs one line naming the
 * unknown name and the fix; returns 0, -ENOENT (unknown name), -EINVAL. */
int users_resolve(const char *etc, const char *user, const char *group, struct users_ids *ret);

void users_ids_fini(struct users_ids *ids);

/* Parse a decimal id (no sign, below (id_t)-1). Returns 0 or -EINVAL. */
int users_parse_id(const char *s, unsigned *ret);

// SPDX-License-Identifier: MIT
/*
 * Tree signalling (see tree.h). The /proc walk reads each /proc/N/stat
 * once into a (pid, ppid) table, then marks descendants in passes until
 * nothing changes; fine for the few thousand processes of a container.
 */
#include "tree.h"

#include "macro.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct proc_link {
    pid_t pid, ppid;
    bool is_below;
};

static int read_ppid(const char *proc_dir, const char *name, pid_t *ret)
{
    char path[256], buf[512];
    cleanup_close int fd = -1;
    ssize_t n;
    char *close_paren, *end;
    long ppid;

    snprintf(path, sizeof(path), "%s/%s/stat", proc_dir, name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    n = read(fd, buf, sizeof(buf) - 1);
    if (n <= 0)
        return -EIO;
    buf[n] = '\0';
    /* "pid (comm) state ppid ...": comm may hold spaces and ')'. */
    close_paren = strrchr(buf, ')');
    if (!close_paren || close_paren[1] != ' ' || !close_paren[2] || close_paren[3] != ' ')
        return -EIO;
    errno = 0;
    ppid = strtol(close_paren + 4, &end, 10);
    if (errno || end == close_paren + 4 || ppid < 0)
        return -EIO;
    *ret = (pid_t)ppid;
    return 0;
}

static int scan(const char *proc_dir, struct proc_link **ret, size_t *ret_n)
{
    DIR *d = opendir(proc_dir);
    struct proc_link *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;

    if (!d)
        return neg_errno();
    while ((e = readdir(d))) {
        pid_t ppid;
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end != '\0' || pid <= 0 || read_ppid(proc_dir, e->d_name, &ppid) < 0)
            continue;
        if (n == cap) {
            struct proc_link *nv = realloc(v, (cap ? cap * 2 : 256) * sizeof(*v));
            if (!nv) {
                free(v);
                closedir(d);
                return -ENOMEM;
            }
            v = nv;
            cap = cap ? cap * 2 : 256;
        }
        v[n++] = (struct proc_link){(pid_t)pid, ppid, false};
    }
    closedir(d);
    *ret = v;
    *ret_n = n;
    return 0;
}

int tree_descendants(const char *proc_dir, pid_t root, pid_t **ret, size_t *ret_n)
{
    struct proc_link *v = NULL;
    pid_t *out;
    size_t n = 0, k = 0;
    bool changed = true;
    int r = scan(proc_dir, &v, &n);

    if (r < 0)
        return r;
    while (changed) {
        changed = false;
        for (size_t i = 0; i < n; i++) {
            if (v[i].is_below || v[i].pid == root)
                continue;
            for (size_t j = 0; j < n && !v[i].is_below; j++)
                if (v[i].ppid == root || (v[j].is_below && v[j].pid == v[i].ppid))
                    v[i].is_below = changed = true;
        }
    }
    out = calloc(n + 1, sizeof(*out));
    if (!out) {
        free(v);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        if (v[i].is_below)
            out[k++] = v[i].pid;
    free(v);
    *ret = out;
    *ret_n = k;
    return 0;
}

int tree_signal(int sig, bool is_pid1)
{
    pid_t *pids = NULL;
    size_t n = 0;
    int r, count = 0;

    if (is_pid1)
        return kill(-1, sig) == 0 ? 1 : (errno == ESRCH ? 0 : neg_errno());
    r = tree_descendants("/proc", getpid(), &pids, &n);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++)
        count += kill(pids[i], sig) == 0;
    free(pids);
    return count;
}

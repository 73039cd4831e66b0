// SPDX-License-Identifier: MIT
/*
 * Saving a report (see report_save in report.h): one private directory per
 * crash under the crash directory, named by UTC time and pid, its files
 * written exclusively and fsync'd; then retention, which only ever removes
 * directories named like reports.
 */
#include "clock.h"
#include "fdio.h"
#include "macro.h"
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int mkdir_p(const char *dir)
{
    char *p;
    int r = 0;

    if (!*dir)
        return -EINVAL;
    p = strdup(dir);
    if (!p)
        return -ENOMEM;
    for (char *s = p + 1; r == 0; s++) {
        char ch = *s;
        if (ch != '/' && ch != '\0')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST)
            r = neg_errno();
        *s = ch;
        if (!ch)
            break;
    }
    free(p);
    return r;
}

/* "YYYYmmddTHHMMSSZ-<pid>": what report_save names directories. */
static int is_report_entry(const struct dirent *e)
{
    const char *s = e->d_name;
    size_t i = 0, digits = 0;

    for (; i < 15; i++)
        if (i == 8 ? s[i] != 'T' : (s[i] < '0' || s[i] > '9'))
            return false;
    if (s[15] != 'Z' || s[16] != '-')
        return false;
    for (i = 17; s[i] >= '0' && s[i] <= '9'; i++)
        digits++;
    /* A second report of the same second and pid (pid namespaces reuse
     * small pids): ".NN". */
    if (s[i] == '.' && s[i + 1] >= '0' && s[i + 1] <= '9' && s[i + 2] >= '0' && s[i + 2] <= '9')
        i += 3;
    return digits >= 1 && digits <= 10 && s[i] == '\0';
}

static int write_file(int dfd, const char *name, const char *data)
{
    cleanup_close int fd =
        RETRY_EINTR(openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    int r;

    if (fd < 0)
        return neg_errno();
    /* The mode must not depend on the umask. */
    if (fchmod(fd, 0600) < 0)
        return neg_errno();
    r = fdio_write_all(fd, data, strlen(data));
    if (r == 0 && fsync(fd) < 0)
        r = neg_errno();
    if (r == 0 && close(take_fd(&fd)) < 0)
        r = neg_errno();
    return r;
}

/* Remove a report directory's files, then the directory; a directory
 * inside it (not ours) keeps it alive. */
static void remove_report(int dfd, const char *name)
{
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    const struct dirent *e;

    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
    unlinkat(dfd, name, AT_REMOVEDIR);
}

static int cmp_entry(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Keep the newest keep report directories by name, current among them
 * even if its name is not the newest (the clock went back). */
static void retain(int dfd, unsigned keep, const char *current)
{
    struct dirent **list = NULL;
    int n = scandirat(dfd, ".", &list, is_report_entry, cmp_entry);
    size_t excess = n > 0 && (unsigned)n > keep ? (unsigned)n - keep : 0;

    for (int i = 0; i < n; i++) {
        if (excess > 0 && strcmp(list[i]->d_name, current) != 0) {
            remove_report(dfd, list[i]->d_name);
            excess--;
        }
        free(list[i]);
    }
    free(list);
}

static int save_files(int dfd, const char *name, const char *json, const char *text)
{
    cleanup_close int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int r = 0;

    if (fd < 0 || fchmod(fd, 0700) < 0)
        return neg_errno();
    if (json)
        r = write_file(fd, REPORT_JSON_NAME, json);
    if (r == 0 && text)
        r = write_file(fd, REPORT_TEXT_NAME, text);
    if (r == 0 && (fsync(fd) < 0 || fsync(dfd) < 0))
        r = neg_errno();
    if (r < 0) {
        unlinkat(fd, REPORT_JSON_NAME, 0);
        unlinkat(fd, REPORT_TEXT_NAME, 0);
        unlinkat(dfd, name, AT_REMOVEDIR);
    }
    return r;
}

int report_save(const char *dir, unsigned keep, const struct crash *c, const char *json,
                const char *text, char **ret_path)
{
    cleanup_close int dfd = -1;
    char name[64], *path;
    struct tm tm;
    size_t n = clock_utc(c->time_us, &tm) ? strftime(name, sizeof(name), "%Y%m%dT%H%M%SZ", &tm) : 0;
    int r;

    if (n != 16)
        return -EINVAL;
    snprintf(name + n, sizeof(name) - n, "-%d", (int)c->pid);
    r = mkdir_p(dir);
    if (r < 0)
        return r;
    dfd = RETRY_EINTR(open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd < 0)
        return neg_errno();
    for (int k = 1; mkdirat(dfd, name, 0700) < 0; k++) {
        if (errno != EEXIST || k > 99)
            return neg_errno();
        snprintf(name + n, sizeof(name) - n, "-%d.%02d", (int)c->pid, k);
    }
    r = save_files(dfd, name, json, text);
    if (r < 0)
        return r;
    if (asprintf(&path, "%s/%s", dir, name) < 0) {
        remove_report(dfd, name);
        return -ENOMEM;
    }
    if (keep > 0)
        retain(dfd, keep, name);
    *ret_path = path;
    return 0;
}

/* A full disk (the core took the rest): rewrite report.json where it is,
 * but only when the new text fits in the blocks the old one holds, so the
 * report can never be lost half-written. */
static int rewrite_in_place(int dfd, const char *json)
{
    cleanup_close int fd =
        RETRY_EINTR(openat(dfd, REPORT_JSON_NAME, O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
    size_t len = strlen(json);
    struct stat st;
    int r;

    if (fd < 0)
        return neg_errno();
    if (fstat(fd, &st) < 0)
        return neg_errno();
    if (st.st_blocks < 0 || len > (uint64_t)st.st_blocks * 512)
        return -ENOSPC;
    r = fdio_write_all(fd, json, len);
    if (r == 0 && ftruncate(fd, (off_t)len) < 0)
        r = neg_errno();
    if (r == 0 && fsync(fd) < 0)
        r = neg_errno();
    return r;
}

int report_update(const char *path, const char *json)
{
    cleanup_close int dfd = RETRY_EINTR(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    static const char tmp[] = REPORT_JSON_NAME ".new";
    int r;

    if (dfd < 0)
        return neg_errno();
    unlinkat(dfd, tmp, 0);
    r = write_file(dfd, tmp, json);
    if (r == 0 && renameat(dfd, tmp, dfd, REPORT_JSON_NAME) < 0)
        r = neg_errno();
    if (r == 0 && fsync(dfd) < 0)
        r = neg_errno();
    if (r < 0)
        unlinkat(dfd, tmp, 0);
    if (r == -ENOSPC)
        r = rewrite_in_place(dfd, json);
    return r;
}

// SPDX-License-Identifier: MIT
/*
 * The shim subcommands (see shiminstall.h). Every refusal is one line
 * naming the problem, the path and the fix, with exit status 2 and nothing
 * changed. The file names an install creates, all in TOOL's directory:
 * .TOOL.wrapp-real (the original), .TOOL.wrapp-shim.json (the registration),
 * and, while installing, .TOOL.wrapp-new and .TOOL.wrapp-shim.json.new.
 */
#include "shiminstall.h"

#include "fdio.h"
#include "log.h"
#include "macro.h"
#include "shimreg.h"
#include "shimverify.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NEW_SUFFIX ".wrapp-new"
#define TMP_SUFFIX ".new"

/* The paths of one shimmed tool. */
struct paths {
    char tool[PATH_MAX]; /* absolute; the directory resolved, the name not */
    char dir[PATH_MAX];
    char real[PATH_MAX];
    char reg[PATH_MAX];
    char reg_tmp[PATH_MAX];
    char shim_tmp[PATH_MAX];
};

static const char usage_text[] =
    "Usage: wrapp shim install [OPTIONS] /path/to/TOOL\n"
    "       wrapp shim uninstall /path/to/TOOL\n"
    "       wrapp shim list [DIR...]      (default: the directories in PATH)\n"
    "Install: move TOOL aside to .TOOL.wrapp-real, put wrapp in its place, check\n"
    "`TOOL --version` through the shim against the real binary, roll back on failure.\n"
    "  --config FILE      wrapp config: redis (invocation records), crash, app.stream_name\n"
    "  --append ARG       add ARG after the caller's arguments (repeatable, in order)\n"
    "  --log off|start|exit  record each call in Redis: before the exec (same pid),\n"
    "                     or with its exit status (the shim waits as the parent);\n"
    "                     default: exit with --config, else off\n"
    "  --log-key KEY      the records' stream (default logs:app:<stream>:info)\n"
    "  --timeout-ms N     bound on Redis per call (default 300)\n"
    "  --supervise        run the tool under wrapp's crash capture (own process group)\n"
    "  --capture          with --supervise: the tool's output to Redis too\n"
    "  --no-verify        do not run TOOL --version (tools that must not be run)\n"
    "Exit status: 0 done, 1 failed and rolled back, 2 refused (nothing changed).\n";

static int usage(int fd)
{
    fdio_write_all(fd, usage_text, sizeof(usage_text) - 1);
    return SHIMINSTALL_EXIT_REFUSED;
}

static int refuse(const char *what, const char *path, const char *problem, const char *fix)
{
    log_error("shim %s %s: %s; %s", what, path, problem, fix);
    return SHIMINSTALL_EXIT_REFUSED;
}

/* The absolute tool path with its directory resolved (the file itself may
 * be a symlink and stays one), and the names around it. */
static int make_paths(const char *arg, struct paths *p)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(arg, '/'), *base = slash ? slash + 1 : arg;
    int n;

    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return -EINVAL;
    n = snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - arg) : 1, slash ? arg : ".");
    if (n < 0 || (size_t)n >= sizeof(dir))
        return -ENAMETOOLONG;
    if (!realpath(*dir ? dir : "/", p->dir))
        return neg_errno();
    n = snprintf(p->tool, sizeof(p->tool), "%s/%s", strcmp(p->dir, "/") == 0 ? "" : p->dir, base);
    if (n < 0 || (size_t)n >= sizeof(p->tool))
        return -ENAMETOOLONG;
    if (shimreg_path(p->tool, SHIMREG_REAL_SUFFIX, p->real, sizeof(p->real)) < 0 ||
        shimreg_path(p->tool, SHIMREG_SUFFIX, p->reg, sizeof(p->reg)) < 0 ||
        shimreg_path(p->tool, SHIMREG_SUFFIX TMP_SUFFIX, p->reg_tmp, sizeof(p->reg_tmp)) < 0 ||
        shimreg_path(p->tool, NEW_SUFFIX, p->shim_tmp, sizeof(p->shim_tmp)) < 0)
        return -ENAMETOOLONG;
    return 0;
}

static int paths_or_refuse(const char *what, const char *arg, struct paths *p)
{
    int r = make_paths(arg, p);

    if (r == -ENOENT || r == -ENOTDIR)
        return refuse(what, arg, "its directory does not exist", "fix the path");
    if (r < 0) {
        log_error_errno(r, "shim %s %s: not a usable path; give the tool's full path", what, arg);
        return SHIMINSTALL_EXIT_REFUSED;
    }
    return 0;
}

static int check_dir_writable(const char *what, const struct paths *p)
{
    if (access(p->dir, W_OK) == 0)
        return 0;
    log_error("shim %s %s: directory %s is read-only (%s); run as its owner, remount it "
              "read-write, or install the shim when building the image",
              what, p->tool, p->dir, strerror(errno));
    return SHIMINSTALL_EXIT_REFUSED;
}

/* Nothing done yet: is TOOL something we may shim? Fills *st (what runs). */
static int check_install(const struct paths *p, struct stat *st)
{
    struct stat lst, self;

    if (lstat(p->tool, &lst) < 0)
        return refuse("install", p->tool, "no such file", "install the tool first or fix the path");
    if (lstat(p->reg, st) == 0 || lstat(p->real, st) == 0)
        return refuse("install", p->tool,
                      "already a shim (.TOOL.wrapp-shim.json or "
                      ".TOOL.wrapp-real exists)",
                      "run wrapp shim uninstall on it first, or wrapp shim list to see it");
    if (stat(p->tool, st) < 0)
        return refuse("install", p->tool, "a symlink to nothing", "fix the link");
    if (!S_ISREG(st->st_mode) || !(st->st_mode & 0111))
        return refuse("install", p->tool, "not an executable file", "give the tool's path");
    if (stat("/proc/self/exe", &self) == 0 && self.st_dev == st->st_dev &&
        self.st_ino == st->st_ino)
        return refuse("install", p->tool, "that is this wrapp binary",
                      "install the shim over the tool, not over wrapp");
    return check_dir_writable("install", p);
}

/* A copy of the running wrapp at p->shim_tmp with TOOL's mode (less
 * set-id bits: wrapp must never run privileged for someone else) and owner. */
static int write_shim(const struct paths *p, const struct stat *st)
{
    cleanup_close int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    cleanup_close int out = -1;
    char buf[65536];
    ssize_t n;

    if (in < 0)
        return log_error_errno(neg_errno(), "shim install: cannot read /proc/self/exe");
    unlink(p->shim_tmp); /* left by an interrupted install */
    out = open(p->shim_tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
    if (out < 0)
        return log_error_errno(neg_errno(), "shim install: cannot create %s", p->shim_tmp);
    while ((n = RETRY_EINTR(read(in, buf, sizeof(buf)))) > 0) {
        int r = fdio_write_all(out, buf, (size_t)n);
        if (r < 0)
            return log_error_errno(r, "shim install: writing %s", p->shim_tmp);
    }
    if (n < 0)
        return log_error_errno(neg_errno(), "shim install: reading /proc/self/exe");
    if (geteuid() == 0 && fchown(out, st->st_uid, st->st_gid) < 0)
        return log_error_errno(neg_errno(), "shim install: chown %s", p->shim_tmp);
    if (fchmod(out, st->st_mode & 0777) < 0 || fsync(out) < 0)
        return log_error_errno(neg_errno(), "shim install: chmod/fsync %s", p->shim_tmp);
    return 0;
}

static int write_reg(const struct paths *p, const struct shimreg *reg)
{
    cleanup_free char *text = NULL;
    cleanup_close int fd = -1;
    int r = shimreg_format(reg, &text);

    if (r < 0)
        return log_error_errno(r, "shim install: registration");
    unlink(p->reg_tmp);
    fd = open(p->reg_tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return log_error_errno(neg_errno(), "shim install: cannot create %s", p->reg_tmp);
    r = fdio_write_all(fd, text, strlen(text));
    if (r == 0)
        r = fdio_write_all(fd, "\n", 1);
    if (r == 0 && fsync(fd) < 0)
        r = neg_errno();
    return r < 0 ? log_error_errno(r, "shim install: writing %s", p->reg_tmp) : 0;
}

/* Put the shim in place. The original's inode moves to .TOOL.wrapp-real by
 * a hard link first, so TOOL never disappears; where hard links are not
 * allowed, by a rename (TOOL is then missing for an instant). */
static int swap_in(const struct paths *p)
{
    if (link(p->tool, p->real) == 0) {
        if (rename(p->reg_tmp, p->reg) == 0 && rename(p->shim_tmp, p->tool) == 0)
            return 0;
        log_error_errno(neg_errno(), "shim install %s: cannot rename the shim into place", p->tool);
        unlink(p->real);
        unlink(p->reg);
        return -EIO;
    }
    if (errno != EPERM && errno != EOPNOTSUPP && errno != EMLINK && errno != EXDEV)
        return log_error_errno(neg_errno(), "shim install %s: cannot link it to %s", p->tool,
                               p->real);
    if (rename(p->reg_tmp, p->reg) < 0)
        return log_error_errno(neg_errno(), "shim install %s: cannot write %s", p->tool, p->reg);
    if (renameat2(AT_FDCWD, p->tool, AT_FDCWD, p->real, RENAME_NOREPLACE) < 0) {
        int r = log_error_errno(neg_errno(), "shim install %s: cannot move it aside", p->tool);
        unlink(p->reg);
        return r;
    }
    if (rename(p->shim_tmp, p->tool) < 0) {
        int r = log_error_errno(neg_errno(), "shim install %s: cannot rename the shim into place",
                                p->tool);
        rename(p->real, p->tool);
        unlink(p->reg);
        return r;
    }
    return 0;
}

/* Undo a completed swap_in: the original back over the shim (one rename). */
static int roll_back(const struct paths *p)
{
    if (rename(p->real, p->tool) < 0) {
        log_error_errno(neg_errno(),
                        "shim install %s: ROLLBACK FAILED: the real binary is at %s; "
                        "move it back by hand (mv %s %s)",
                        p->tool, p->real, p->real, p->tool);
        return SHIMINSTALL_EXIT_FAILED;
    }
    unlink(p->reg);
    log_error("shim install %s: rolled back; the tool is unchanged", p->tool);
    return SHIMINSTALL_EXIT_FAILED;
}

static int install(const char *arg, struct shimreg *reg, bool is_verify)
{
    struct paths p;
    struct stat st;
    const char *base;
    int r = paths_or_refuse("install", arg, &p);

    if (r == 0)
        r = check_install(&p, &st);
    if (r != 0)
        return r;
    base = strrchr(p.real, '/') + 1;
    if (!(reg->real = strdup(base)) || !(reg->target = strdup(p.tool)))
        return SHIMINSTALL_EXIT_FAILED;
    if (write_shim(&p, &st) < 0 || write_reg(&p, reg) < 0 || swap_in(&p) < 0) {
        unlink(p.shim_tmp);
        unlink(p.reg_tmp);
        log_error("shim install %s: nothing changed", p.tool);
        return SHIMINSTALL_EXIT_FAILED;
    }
    if (is_verify && shimverify_run(p.tool, p.real, reg->n_append > 0) < 0)
        return roll_back(&p);
    printf("installed shim %s (real binary %s)\n", p.tool, p.real);
    return 0;
}

static int uninstall(const char *arg)
{
    struct paths p;
    struct stat st;
    int r = paths_or_refuse("uninstall", arg, &p);

    if (r != 0)
        return r;
    if (lstat(p.reg, &st) < 0)
        return refuse("uninstall", p.tool, "not a shim (no .TOOL.wrapp-shim.json next to it)",
                      "wrapp shim list shows the installed shims");
    if (lstat(p.real, &st) < 0)
        return refuse("uninstall", p.tool, "the real binary .TOOL.wrapp-real is missing",
                      "reinstall the tool's package, then remove .TOOL.wrapp-shim.json");
    r = check_dir_writable("uninstall", &p);
    if (r != 0)
        return r;
    if (rename(p.real, p.tool) < 0) {
        log_error_errno(neg_errno(), "shim uninstall %s: cannot move %s back; nothing changed",
                        p.tool, p.real);
        return SHIMINSTALL_EXIT_FAILED;
    }
    if (unlink(p.reg) < 0)
        log_warn_errno(neg_errno(),
                       "shim uninstall %s: the tool is restored, but %s stays; "
                       "remove it",
                       p.tool, p.reg);
    unlink(p.shim_tmp);
    unlink(p.reg_tmp);
    printf("restored %s\n", p.tool);
    return 0;
}

/* One line per shim in dir: "TOOL -> REAL (log L, ...)". */
static void list_one(const char *dir, const char *name)
{
    size_t len = strlen(name) - strlen(SHIMREG_SUFFIX);
    char tool[PATH_MAX], path[PATH_MAX], real[PATH_MAX];
    struct shimreg reg;
    struct stat st;
    cleanup_close int fd = -1;

    snprintf(tool, sizeof(tool), "%s/%.*s", dir, (int)(len - 1), name + 1);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    shimreg_init(&reg);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || shimreg_load_fd(&reg, path, fd) < 0) {
        printf("%s -> ? (registration %s unreadable)\n", tool, path);
        shimreg_fini(&reg);
        return;
    }
    snprintf(real, sizeof(real), "%s/%s", dir, reg.real);
    printf("%s -> %s (log %s%s%s%s, %zu appended%s%s)\n", tool, real, shimreg_log_name(reg.log),
           reg.config ? ", config " : "", reg.config ? reg.config : "",
           reg.supervise ? ", supervised" : "", reg.n_append,
           lstat(real, &st) < 0 ? ", REAL BINARY MISSING" : "",
           lstat(tool, &st) < 0 ? ", TOOL MISSING" : "");
    shimreg_fini(&reg);
}

static void list_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t sl = strlen(SHIMREG_SUFFIX);

    if (!d)
        return;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len > sl + 1 && e->d_name[0] == '.' &&
            strcmp(e->d_name + len - sl, SHIMREG_SUFFIX) == 0)
            list_one(dir, e->d_name);
    }
    closedir(d);
}

static int list(int argc, char **argv)
{
    const char *path = getenv("PATH");
    char *copy, *save = NULL;

    if (argc > 0) {
        for (int i = 0; i < argc; i++)
            list_dir(argv[i]);
        return 0;
    }
    copy = strdup(path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin");
    if (!copy)
        return SHIMINSTALL_EXIT_FAILED;
    for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save))
        list_dir(d);
    free(copy);
    return 0;
}

enum {
    OPT_CONFIG = 0x100,
    OPT_APPEND,
    OPT_LOG,
    OPT_LOG_KEY,
    OPT_TIMEOUT,
    OPT_SUPERVISE,
    OPT_CAPTURE,
    OPT_NO_VERIFY
};

static const struct option install_opts[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"append", required_argument, NULL, OPT_APPEND},
    {"log", required_argument, NULL, OPT_LOG},
    {"log-key", required_argument, NULL, OPT_LOG_KEY},
    {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
    {"supervise", no_argument, NULL, OPT_SUPERVISE},
    {"capture", no_argument, NULL, OPT_CAPTURE},
    {"no-verify", no_argument, NULL, OPT_NO_VERIFY},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int add_append(struct shimreg *reg, const char *arg)
{
    char **v;

    if (reg->n_append >= SHIMREG_APPEND_MAX)
        return -E2BIG;
    v = realloc(reg->append, (reg->n_append + 2) * sizeof(char *));
    if (!v)
        return -ENOMEM;
    reg->append = v;
    v[reg->n_append] = strdup(arg);
    v[reg->n_append + 1] = NULL;
    if (!v[reg->n_append])
        return -ENOMEM;
    reg->n_append++;
    return 0;
}

/* The config must exist and be absolute: the shim reads it from any cwd. */
static int set_config(struct shimreg *reg, const char *arg)
{
    char abs[PATH_MAX];

    if (!realpath(arg, abs)) {
        log_error_errno(neg_errno(),
                        "shim install: --config %s: cannot use it; give an "
                        "existing wrapp config file",
                        arg);
        return -EINVAL;
    }
    free(reg->config);
    reg->config = strdup(abs);
    return reg->config ? 0 : -ENOMEM;
}

static int apply_install_opt(int opt, const char *arg, struct shimreg *reg, bool *is_verify,
                             int *log)
{
    char *end;
    unsigned long v;

    switch (opt) {
    case OPT_CONFIG:
        return set_config(reg, arg);
    case OPT_APPEND:
        return add_append(reg, arg);
    case OPT_LOG:
        *log = shimreg_parse_log(arg);
        return *log < 0 ? (log_error("shim install: --log %s: expected off, start or exit", arg),
                           -EINVAL)
                        : 0;
    case OPT_LOG_KEY:
        free(reg->log_key);
        reg->log_key = strdup(arg);
        return reg->log_key ? 0 : -ENOMEM;
    case OPT_TIMEOUT:
        errno = 0;
        v = strtoul(arg, &end, 10);
        if (errno || *end || v < 1 || v > SHIMREG_TIMEOUT_MAX) {
            log_error("shim install: --timeout-ms %s: expected 1..%u", arg, SHIMREG_TIMEOUT_MAX);
            return -EINVAL;
        }
        reg->timeout_ms = (unsigned)v;
        return 0;
    case OPT_SUPERVISE:
    case OPT_CAPTURE:
        *(opt == OPT_SUPERVISE ? &reg->supervise : &reg->capture) = true;
        return 0;
    case OPT_NO_VERIFY:
        *is_verify = false;
        return 0;
    default:
        return -EINVAL;
    }
}

static int install_main(int argc, char **argv)
{
    struct shimreg reg;
    bool is_verify = true;
    int opt, r = 0, log = -1;

    shimreg_init(&reg);
    optind = 0;
    opterr = 1;
    while (r == 0 && (opt = getopt_long(argc, argv, "h", install_opts, NULL)) != -1) {
        if (opt == 'h' || opt == '?') {
            shimreg_fini(&reg);
            return opt == 'h' ? (usage(STDOUT_FILENO), 0) : usage(STDERR_FILENO);
        }
        r = apply_install_opt(opt, optarg, &reg, &is_verify, &log);
    }
    if (r == 0 && argc - optind != 1)
        r = (usage(STDERR_FILENO), -EINVAL);
    if (r < 0) {
        shimreg_fini(&reg);
        return SHIMINSTALL_EXIT_REFUSED;
    }
    reg.log = log >= 0 ? log : reg.config ? SHIMREG_LOG_EXIT : SHIMREG_LOG_OFF;
    r = install(argv[optind], &reg, is_verify);
    shimreg_fini(&reg);
    return r;
}

int shiminstall_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return argc < 2 ? usage(STDERR_FILENO) : (usage(STDOUT_FILENO), 0);
    if (strcmp(argv[1], "install") == 0)
        return install_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "uninstall") == 0)
        return argc == 3 ? uninstall(argv[2]) : usage(STDERR_FILENO);
    if (strcmp(argv[1], "list") == 0)
        return list(argc - 2, argv + 2);
    log_error("shim: unknown subcommand \"%s\"; use install, uninstall or list", argv[1]);
    return SHIMINSTALL_EXIT_REFUSED;
}

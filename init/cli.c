// SPDX-License-Identifier: MIT
/*
 * Command line and environment (see cli.h). Options are parsed twice with
 * getopt_long ("+": stop at the first non-option, so "wrapp sh -c x" works
 * without "--"): first for the config path and --help/--version, then,
 * after the config file and the environment were applied, for the rest.
 */
#include "cli.h"

#include "ascii.h"
#include "decimal.h"
#include "fdio.h"
#include "log.h"
#include "macro.h"
#include "signame.h"
#include "strv.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef WRAPP_VERSION
#define WRAPP_VERSION "0.0.0"
#endif

enum { OPT_VERSION = 0x100, OPT_USER, OPT_GROUP, OPT_WORKDIR };

static const char short_opts[] = "+c:gsp:e:t:wvqlh";
static const struct option long_opts[] = {
    {"config", required_argument, NULL, 'c'},
    {"kill-process-group", no_argument, NULL, 'g'},
    {"subreaper", no_argument, NULL, 's'},
    {"pdeathsig", required_argument, NULL, 'p'},
    {"remap-exit", required_argument, NULL, 'e'},
    {"grace", required_argument, NULL, 't'},
    {"warn-on-reap", no_argument, NULL, 'w'},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"user", required_argument, NULL, OPT_USER},
    {"group", required_argument, NULL, OPT_GROUP},
    {"workdir", required_argument, NULL, OPT_WORKDIR},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static const char usage_text[] =
    "Usage: wrapp CONFIG.json\n"
    "       wrapp [-c CONFIG.json] [OPTIONS] [--] CMD [ARG...]\n"
    "       wrapp logs|crashes|core get|snapshot|ps ...   operator commands (each --help)\n"
    "       wrapp shim install|uninstall|list ...  run in place of a tool (wrapp shim --help)\n"
    "A container init (PID 1) for one application: reaps zombies, forwards\n"
    "signals, shuts down gracefully and exits with the application's status.\n"
    "\n"
    "  -c, --config FILE      JSON config (app, redis, debug, init sections)\n"
    "  -g, --kill-process-group  forward signals to the app's process group\n"
    "  -s, --subreaper        be a subreaper when not PID 1 (the default; -s\n"
    "                         makes a failure to become one a warning)\n"
    "  -p, --pdeathsig SIG    signal wrapp gets when its parent dies (SIGKILL)\n"
    "  -e, --remap-exit CODE  report exit CODE as 0 (repeatable)\n"
    "  -t, --grace SECONDS    after TERM/INT/QUIT, wait this long, then SIGKILL\n"
    "                         every remaining process (default 8)\n"
    "  -w, --warn-on-reap     a warning for each reaped zombie\n"
    "  -v, --verbose          more diagnostics (repeatable); -q, --quiet: errors only\n"
    "      --user USER[:GROUP], --group GROUP, --workdir DIR  run the app so\n"
    "  -h, --help             this text;  --version: the version\n"
    "\n"
    "Environment: WRAPP_CONFIG, WRAPP_GRACE, WRAPP_KILL_PROCESS_GROUP,\n"
    "WRAPP_SUBREAPER, WRAPP_PDEATHSIG, WRAPP_REMAP_EXIT, WRAPP_WARN_ON_REAP,\n"
    "WRAPP_LOG_LEVEL, WRAPP_USER, WRAPP_GROUP, WRAPP_WORKDIR, WRAPP_STREAM_NAME,\n"
    "WRAPP_REDIS_URL, WRAPP_REDIS_HOST, WRAPP_REDIS_PORT, WRAPP_REDIS_SECRETS_DIR,\n"
    "WRAPP_CRASH (0: no ptrace supervision), WRAPP_CRASH_DIR,\n"
    "WRAPP_TRACK (1: a record per exec and process exit to the :proc stream),\n"
    "WRAPP_TRACK_FILE (those records also as JSON lines in this file),\n"
    "WRAPP_SECCOMP_PROFILE (a seccomp policy file for the app),\n"
    "WRAPP_DEBUG (1: start the app stopped under gdbserver), WRAPP_DEBUG_PORT,\n"
    "WRAPP_DEBUG_ON_CRASH (1: a crashed process waits for gdb under gdbserver),\n"
    "WRAPP_CORE (off|local|redis: the ELF core next to the report; default local);\n"
    "and tini's "
    "TINI_SUBREAPER, TINI_KILL_PROCESS_GROUP, TINI_VERBOSITY.\n"
    "Exit status: the app's code, 128+N if signal N killed it, 126/127 if it\n"
    "could not be run, 2 for a usage or config error.\n";

void cli_usage(int fd)
{
    fdio_write_all(fd, usage_text, sizeof(usage_text) - 1);
}

bool cli_is_config_file(const char *path)
{
    size_t len = strlen(path);
    struct stat st;
    char c = 0;
    FILE *f;

    if (len > 5 && ascii_case_eq(path + len - 5, ".json"))
        return true;
    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 0111))
        return false;
    f = fopen(path, "re");
    if (!f)
        return false;
    while (fread(&c, 1, 1, f) == 1 && (c == ' ' || c == '\t' || c == '\n' || c == '\r'))
        ;
    fclose(f);
    return c == '{';
}

/* WRAPP_* booleans: unset = no change; "0/false/no/off" = off; else on. */
static int env_bool(char **envp, const char *name, bool *field)
{
    const char *v = strv_env_get(envp, name);

    if (!v)
        return 0;
    *field = !(strcmp(v, "0") == 0 || ascii_case_eq(v, "false") || ascii_case_eq(v, "no") ||
               ascii_case_eq(v, "off"));
    return 1;
}

static int parse_seconds(const char *s, unsigned *ret_ms)
{
    char *end;
    double d;

    if (!s)
        return -EINVAL;
    errno = 0;
    d = strtod(s, &end);
    if (!*s || *end || errno || !(d >= 0) || d * 1000.0 > CONFIG_GRACE_MS_MAX)
        return -EINVAL;
    *ret_ms = (unsigned)(d * 1000.0 + 0.5);
    return 0;
}

static int parse_uint(const char *s, long max, unsigned *ret)
{
    long v = s ? decimal_parse(s, 0, max) : -EINVAL;

    if (v < 0)
        return (int)v;
    *ret = (unsigned)v;
    return 0;
}

static int parse_code(const char *s, unsigned *ret)
{
    return parse_uint(s, 255, ret);
}

/* "143,130" or "143 130" */
static int parse_codes(const char *s, struct config_init *in)
{
    char *copy = strdup(s), *save = NULL;
    int r = 0;

    if (!copy)
        return -ENOMEM;
    for (char *t = strtok_r(copy, ", ", &save); t && r == 0; t = strtok_r(NULL, ", ", &save)) {
        unsigned code;
        r = parse_code(t, &code);
        if (r == 0)
            config_remap_exit_add(in, code);
    }
    free(copy);
    return r;
}

static int bad_env(const char *name, const char *value, const char *expected)
{
    log_error("environment %s=\"%s\": expected %s; fix or unset it", name, value, expected);
    return -EINVAL;
}

static int env_strings(char **envp, struct config *c)
{
    static const struct {
        const char *name;
        size_t offset;
    } strs[] = {
        {"WRAPP_USER", offsetof(struct config, app.user)},
        {"WRAPP_GROUP", offsetof(struct config, app.group)},
        {"WRAPP_WORKDIR", offsetof(struct config, app.workdir)},
        {"WRAPP_STREAM_NAME", offsetof(struct config, app.stream_name)},
        {"WRAPP_REDIS_HOST", offsetof(struct config, redis.host)},
        {"WRAPP_REDIS_URL", offsetof(struct config, redis.url)},
        {"WRAPP_REDIS_SECRETS_DIR", offsetof(struct config, redis.secrets_dir)},
        {"WRAPP_CRASH_DIR", offsetof(struct config, crash.dir)},
        {"WRAPP_TRACK_FILE", offsetof(struct config, track.file)},
        {"WRAPP_SECCOMP_PROFILE", offsetof(struct config, seccomp.profile)},
    };

    for (size_t i = 0; i < ARRAY_SIZE(strs); i++) {
        const char *v = strv_env_get(envp, strs[i].name);
        if (v && config_set_str((char **)((char *)c + strs[i].offset), v) < 0)
            return -ENOMEM;
    }
    return 0;
}

static int env_numbers(char **envp, struct config *c)
{
    const char *v;
    unsigned port;

    if ((v = strv_env_get(envp, "WRAPP_GRACE")) && parse_seconds(v, &c->init.grace_ms) < 0)
        return bad_env("WRAPP_GRACE", v, "seconds (e.g. 10 or 2.5)");
    if ((v = strv_env_get(envp, "WRAPP_PDEATHSIG"))) {
        int r = signame_parse(v);
        if (r < 0)
            return bad_env("WRAPP_PDEATHSIG", v, "a signal name such as SIGKILL");
        c->init.pdeathsig = r;
    }
    if ((v = strv_env_get(envp, "WRAPP_CORE"))) {
        int r = config_parse_core(v);
        if (r < 0)
            return bad_env("WRAPP_CORE", v, "off, local or redis");
        c->crash.core = r;
    }
    if ((v = strv_env_get(envp, "WRAPP_REMAP_EXIT")) && parse_codes(v, &c->init) < 0)
        return bad_env("WRAPP_REMAP_EXIT", v, "exit codes 0..255 separated by commas");
    if ((v = strv_env_get(envp, "WRAPP_DEBUG_PORT"))) {
        if (parse_uint(v, 65535, &port) < 0)
            return bad_env("WRAPP_DEBUG_PORT", v, "a port number 0..65535");
        c->debug.port = (int)port;
    }
    if ((v = strv_env_get(envp, "WRAPP_REDIS_PORT"))) {
        if (parse_uint(v, 65535, &port) < 0)
            return bad_env("WRAPP_REDIS_PORT", v, "a port number 0..65535");
        c->redis.port = (int)port;
        c->redis.is_set = true;
    }
    return 0;
}

static int env_levels(char **envp, struct config *c)
{
    static const char *const names[] = {"TINI_VERBOSITY", "WRAPP_VERBOSITY", "WRAPP_LOG_LEVEL"};

    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        const char *v = strv_env_get(envp, names[i]);
        int r;
        if (!v)
            continue;
        r = log_parse_level(v);
        if (r < 0)
            return bad_env(names[i], v, "error, warn, info, debug or 0..3");
        c->init.log_level = r;
    }
    return 0;
}

int cli_apply_env(char **envp, struct config *c)
{
    int r;

    /* tini's variables: set at all (even empty) means on. */
    if (strv_env_get(envp, "TINI_SUBREAPER"))
        c->init.subreaper = c->init.subreaper_forced = true;
    if (strv_env_get(envp, "TINI_KILL_PROCESS_GROUP"))
        c->init.kill_process_group = true;
    if (env_bool(envp, "WRAPP_SUBREAPER", &c->init.subreaper) > 0)
        c->init.subreaper_forced = c->init.subreaper;
    env_bool(envp, "WRAPP_KILL_PROCESS_GROUP", &c->init.kill_process_group);
    env_bool(envp, "WRAPP_WARN_ON_REAP", &c->init.warn_on_reap);
    env_bool(envp, "WRAPP_CRASH", &c->crash.enabled);
    env_bool(envp, "WRAPP_TRACK", &c->track.enabled);
    env_bool(envp, "WRAPP_DEBUG", &c->debug.enabled);
    env_bool(envp, "WRAPP_DEBUG_ON_CRASH", &c->debug.on_crash);
    r = env_strings(envp, c);
    if (r >= 0)
        r = env_numbers(envp, c);
    if (r >= 0)
        r = env_levels(envp, c);
    if (r >= 0 &&
        (strv_env_get(envp, "WRAPP_REDIS_HOST") || strv_env_get(envp, "WRAPP_REDIS_SECRETS_DIR") ||
         strv_env_get(envp, "WRAPP_REDIS_URL")))
        c->redis.is_set = true;
    return r;
}

static int bad_opt(const char *opt, const char *value, const char *expected)
{
    log_error("option %s \"%s\": expected %s; see wrapp --help", opt, value, expected);
    return -EINVAL;
}

/* Apply one option of pass 2. */
static int apply_opt(int opt, const char *arg, struct config *c, int *verbosity)
{
    unsigned code;
    int r;

    switch (opt) {
    case 'g':
        c->init.kill_process_group = true;
        return 0;
    case 's':
        c->init.subreaper = c->init.subreaper_forced = true;
        return 0;
    case 'p':
        r = signame_parse(arg);
        if (r < 0)
            return bad_opt("-p", arg, "a signal name such as SIGKILL");
        c->init.pdeathsig = r;
        return 0;
    case 'e':
        if (parse_code(arg, &code) < 0)
            return bad_opt("-e", arg, "an exit code 0..255");
        config_remap_exit_add(&c->init, code);
        return 0;
    case 't':
        return parse_seconds(arg, &c->init.grace_ms) < 0
                   ? bad_opt("-t", arg, "seconds (e.g. 10 or 2.5)")
                   : 0;
    case 'w':
        c->init.warn_on_reap = true;
        return 0;
    case 'v':
    case 'q':
        *verbosity += opt == 'v' ? 1 : -1;
        return 0;
    case OPT_USER:
        return config_set_str(&c->app.user, arg);
    case OPT_GROUP:
        return config_set_str(&c->app.group, arg);
    case OPT_WORKDIR:
        return config_set_str(&c->app.workdir, arg);
    default:
        return 0;
    }
}

static void print_version(void)
{
    /* docker info parses "tini version X" from its init's --version. */
    static const char text[] = "tini version " WRAPP_VERSION "_wrapp\n";
    fdio_write_all(STDOUT_FILENO, text, sizeof(text) - 1);
}

/* Pass 1: help, version, -c, and where the command starts. */
static int pass1(int argc, char **argv, const char **config, int *cmd_index, bool *has_dashdash)
{
    int opt;

    optind = 0;
    opterr = 1;
    while ((opt = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
        if (opt == '?') {
            cli_usage(STDERR_FILENO);
            return -EINVAL;
        }
        if (opt == 'h') {
            cli_usage(STDOUT_FILENO);
            return CLI_EXIT_OK;
        }
        if (opt == OPT_VERSION) {
            print_version();
            return CLI_EXIT_OK;
        }
        if (opt == 'l') {
            static const char lic[] = "wrapp is distributed under the MIT license.\n";
            fdio_write_all(STDOUT_FILENO, lic, sizeof(lic) - 1);
            return CLI_EXIT_OK;
        }
        if (opt == 'c')
            *config = optarg;
    }
    *cmd_index = optind;
    *has_dashdash = optind > 1 && strcmp(argv[optind - 1], "--") == 0;
    return CLI_RUN;
}

static int pass2(int argc, char **argv, struct config *c)
{
    int opt, verbosity = 0;

    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
        int r = apply_opt(opt, optarg, c, &verbosity);
        if (r < 0)
            return r;
    }
    if (verbosity != 0) {
        int base = c->init.log_level >= 0 ? c->init.log_level : log_get_level();
        c->init.log_level = base + verbosity < 0 ? 0 : base + verbosity;
    }
    return 0;
}

static int finish(struct config *c, char **cmd, int n_cmd)
{
    if (n_cmd > 0) {
        if (config_set_str(&c->app.executable, cmd[0]) < 0 ||
            config_set_args(&c->app, cmd + 1, (size_t)n_cmd - 1) < 0)
            return -ENOMEM;
    }
    if (!c->app.executable || !*c->app.executable) {
        if (c->path)
            log_error("config %s: app.executable: missing; set it, or give the command after --",
                      c->path);
        else
            cli_usage(STDERR_FILENO);
        return -EINVAL;
    }
    if (c->init.log_level >= 0)
        log_set_level(c->init.log_level);
    return CLI_RUN;
}

int cli_parse(int argc, char **argv, char **envp, struct config *c)
{
    const char *config = NULL;
    int cmd_index = argc, r;
    bool has_dashdash = false;

    r = pass1(argc, argv, &config, &cmd_index, &has_dashdash);
    if (r != CLI_RUN)
        return r;
    /* The Go form: one argument, a config file. */
    if (!config && !has_dashdash && argc - cmd_index == 1 && cli_is_config_file(argv[cmd_index]))
        config = argv[cmd_index++];
    if (!config)
        config = strv_env_get(envp, "WRAPP_CONFIG");
    if (config && *config) {
        r = config_load_file(c, config);
        if (r < 0)
            return r == -ENOMEM ? r : -EINVAL;
    }
    r = cli_apply_env(envp, c);
    if (r >= 0)
        r = pass2(argc, argv, c);
    if (r < 0)
        return r;
    return finish(c, argv + cmd_index, argc - cmd_index);
}

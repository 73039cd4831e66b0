// SPDX-License-Identifier: MIT
/*
 * The run's configuration: the Go wrapp's JSON schema (app, redis, debug)
 * plus wrapp's own "init" section, with defaults. config_load_file() fills
 * a config from a JSON file with the Go semantics (keys matched
 * case-insensitively, a later duplicate wins, null leaves the default,
 * unknown keys ignored); cli.c then applies environment and options.
 * Main thread only, before the child starts. Owns every string it holds.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_FILE_MAX     (4u << 20) /* a config larger than this is refused */
#define CONFIG_GRACE_MS_DEF 8000       /* below the runtimes' 10 s stop timeout */
#define CONFIG_GRACE_MS_MAX (24u * 3600u * 1000u)
#define CONFIG_DEBUG_PORT   2345
#define CONFIG_DEBUG_HOST   "127.0.0.1"
#define CONFIG_MAX_LINE     (1u << 20)

struct config_app {
    char *executable; /* as written; resolved by spawn */
    char **args;      /* NULL-terminated, without argv[0] */
    size_t n_args;
    char *user;        /* name, uid, or uid:gid; NULL keeps wrapp's user */
    char *group;       /* name or gid; NULL: the user's primary group */
    char *workdir;     /* NULL keeps wrapp's cwd */
    char *stream_name; /* NULL: derived from executable (Go rule) */
    char **env;        /* "KEY=VALUE" to set, "KEY" to unset; NULL-terminated */
    size_t n_env;
};

struct config_redis {
    char *host;
    int port;
    char *secrets_dir;          /* ridler: user = basename, password = <dir>/password */
    char *url;                  /* redis://[user[:pass]@]host[:port][/db], unix:///path */
    int db;                     /* log streams (Go: 1) */
    int metrics_db;             /* {{name}} counters (Go: 2) */
    int maxlen;                 /* XADD MAXLEN ~ (Go: 1000) */
    char *stream_prefix;        /* "logs:app:" */
    char *metric_prefix;        /* "wrapp:" */
    unsigned wait_at_start_ms;  /* Go waits up to 60 s, then exits 1; 0: start at once */
    unsigned ping_ms;           /* health check interval */
    unsigned timeout_ms;        /* connect and I/O timeout */
    char *sentinels;            /* "h1:26379,h2:26379": ask these Sentinels for the master */
    char *sentinel_master;      /* the name the sentinels monitor */
    char *sentinel_secrets_dir; /* the sentinels' own credentials (ridler form) */
    char *cluster;              /* "h1:6379,h2:6379": Redis Cluster seed nodes */
    char *cluster_db_prefix;    /* cluster: DB n becomes the key prefix "<this>n:" ("db") */
    double replay_bytes;        /* sentinel/cluster: recent lines re-checked after a failover */
    bool is_set;                /* a "redis" object, URL or variable was given */
};

struct config_output {
    bool passthrough;       /* also copy the app's output to wrapp's own stdout/stderr */
    unsigned max_line;      /* longer lines are split (CRI-style "split" field) */
    char *spool_dir;        /* NULL: /var/lib/wrapp/spool, falling back to /tmp */
    double spool_max_bytes; /* disk cap; the oldest records are dropped beyond it */
    double queue_max_bytes; /* in-memory queue before the spool takes over */
    unsigned flush_ms;      /* at exit, how long to keep sending */
    bool has_fields;        /* fd/ts/pid/seq/run fields after message */
};

struct config_debug {
    bool enabled; /* start the app stopped, handed to gdbserver */
    int port;
    char *host;
    bool is_kill_after; /* after_gdbserver "kill": gdbserver gone first kills the app */
    unsigned wait_ms;   /* wait_seconds: no client by then, the app runs; 0: no limit */
    bool on_crash;      /* a crashed process waits for a debugger (post-mortem) */
};

struct config_init {
    unsigned grace_ms;       /* TERM -> grace -> KILL of the tree */
    bool kill_process_group; /* forward to the child's process group (-g) */
    bool subreaper;          /* become a subreaper when not PID 1 (-s) */
    bool subreaper_forced;   /* asked for explicitly: warn if it cannot be set */
    int pdeathsig;           /* signal wrapp gets when its parent dies; 0 = none */
    uint64_t remap_exit[4];  /* bitmap of exit codes reported as 0 (-e) */
    bool warn_on_reap;       /* a warning for each reaped zombie (-w) */
    int log_level;           /* enum log_level; -1 = leave the logger's default */
};

#define CONFIG_CRASH_KEEP       10
#define CONFIG_CRASH_FRAMES     256
#define CONFIG_CRASH_LAST_LINES 50
/* A core's apparent size cap: above a typical container's whole memory
 * limit, so most cores are complete, while ten kept reports stay bounded
 * (cores are sparse; the biggest mappings are the ones cut). */
#define CONFIG_CORE_MAX_BYTES (4.0 * 1024 * 1024 * 1024)

/* crash.core: where a crash's ELF core goes. */
enum config_core {
    CONFIG_CORE_OFF,
    CONFIG_CORE_LOCAL, /* next to the report */
    CONFIG_CORE_REDIS, /* local, and uploaded to Redis */
};

struct config_crash {
    bool enabled;       /* supervise the app with ptrace and report crashes */
    bool is_scope_main; /* trace the app's main process only ("main"); else the whole tree */
    char *dir;          /* NULL: /var/lib/wrapp/crashes, falling back to /tmp/wrapp-crashes */
    int keep;           /* reports kept in dir, newest first */
    int max_frames;     /* frames per thread */
    int last_lines;     /* the app's last lines kept for the report */
    bool system_lines;  /* file:line from separate debug files (-dbg packages) too */
    uint64_t signals;   /* bit sig-1: a crash when the app does not handle it */

    int core;              /* enum config_core */
    double core_max_bytes; /* the core is cut beyond this (0: no limit) */
};

#define CONFIG_TRACK_MAX_ARGS 64
#define CONFIG_TRACK_MAXLEN   100000

/* track: a record per exec and per process exit (needs the supervisor). */
struct config_track {
    bool enabled;
    int max_args;  /* argv entries kept per exec */
    int maxlen;    /* XADD MAXLEN ~ of the :proc stream; 0: no cap */
    char *file;    /* also appended to as JSON lines; NULL: none */
    char **redact; /* option names whose values are hidden; NULL: the defaults */
};

/* seccomp: the app's syscall policy (crash/policy.h reads it). */
struct config_seccomp {
    char *default_action; /* "allow", "errno:EPERM", "kill", "report", "log-only"; NULL: none */
    char *rules;          /* the "rules" array as JSON text; NULL: none */
    char *profile;        /* a JSON file with "default" and "rules"; NULL: none */
};

struct config {
    char *path; /* the file it was loaded from, NULL if none */
    struct config_app app;
    struct config_redis redis;
    struct config_debug debug;
    struct config_output output;
    struct config_init init;
    struct config_crash crash;
    struct config_track track;
    struct config_seccomp seccomp;
};

/* Defaults into caller-owned storage (idempotent with config_fini). */
void config_init(struct config *c);

/* Free everything config_init/load put in c; c is left as after config_init. */
void config_fini(struct config *c);

/* Parse JSON text (len bytes) into c; name labels messages (a path).
 * On error logs one line naming name, key path, expected and found, and
 * returns -EINVAL (c keeps what was parsed so far; call config_fini). */
int config_parse(struct config *c, const char *name, const char *text, size_t len);

/* Read path and config_parse() it. -ENOENT/-EACCES/-EFBIG... are logged. */
int config_load_file(struct config *c, const char *path);

/* Replace a string field (takes a copy of value; NULL clears). -ENOMEM. */
int config_set_str(char **field, const char *value);

/* Replace app.args with a copy of argv[0..n). -ENOMEM. */
int config_set_args(struct config_app *app, char *const *argv, size_t n);

/* Mark exit code (0..255) as remapped to 0. */
void config_remap_exit_add(struct config_init *in, unsigned code);
bool config_remap_exit_has(const struct config_init *in, unsigned code);

/* "off", "local", "redis" -> enum config_core, or -EINVAL. */
int config_parse_core(const char *s);

/* SEGV BUS ILL FPE ABRT SYS TRAP QUIT: the signals whose default action dumps core. */
uint64_t config_crash_default_signals(void);

/* The stream name the Go wrapp would use: app.stream_name, else the
 * basename of app.executable as written ("." when empty). Borrowed or
 * written into buf (size >= 256). */
const char *config_stream_name(const struct config *c, char *buf, size_t size);

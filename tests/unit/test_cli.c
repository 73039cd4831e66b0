// SPDX-License-Identifier: MIT
/* cli: both command-line forms, tini's flags and variables, precedence. */
#include "cli.h"
#include "log.h"
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cli_parse wants mutable vectors (getopt may permute); copy the literals. */
static int parse(struct config *c, const char *const *argv, const char *const *envp)
{
    char *args[32], *env[32];
    int argc = 0, n = 0, r;

    while (argv[argc] && argc < 31) {
        args[argc] = strdup(argv[argc]);
        argc++;
    }
    args[argc] = NULL;
    while (envp[n] && n < 31) {
        env[n] = strdup(envp[n]);
        n++;
    }
    env[n] = NULL;
    config_init(c);
    r = cli_parse(argc, args, env, c);
    for (int i = 0; i < argc; i++)
        free(args[i]);
    for (int i = 0; i < n; i++)
        free(env[i]);
    return r;
}

START_TEST(cli_tini_form_with_flags)
{
    struct config c;
    const char *argv[] = {"tini", "-g", "-s", "-p", "SIGKILL", "-e", "143", "-e", "1",
                          "-w",   "-t", "3",  "--", "prog",    "-x", "",    NULL};
    const char *envp[] = {NULL};

    ck_assert_int_eq(parse(&c, argv, envp), CLI_RUN);
    ck_assert(c.init.kill_process_group && c.init.subreaper_forced && c.init.warn_on_reap);
    ck_assert_int_eq(c.init.pdeathsig, 9);
    ck_assert(config_remap_exit_has(&c.init, 143) && config_remap_exit_has(&c.init, 1));
    ck_assert_uint_eq(c.init.grace_ms, 3000);
    ck_assert_str_eq(c.app.executable, "prog");
    ck_assert_uint_eq(c.app.n_args, 2);
    ck_assert_str_eq(c.app.args[0], "-x");
    ck_assert_str_eq(c.app.args[1], "");
    config_fini(&c);
}
END_TEST

START_TEST(cli_options_stop_at_the_first_non_option)
{
    struct config c;
    const char *argv[] = {"wrapp", "sh", "-c", "exit 5", NULL};
    const char *envp[] = {NULL};

    ck_assert_int_eq(parse(&c, argv, envp), CLI_RUN);
    ck_assert_str_eq(c.app.executable, "sh");
    ck_assert_str_eq(c.app.args[0], "-c");
    config_fini(&c);
}
END_TEST

START_TEST(cli_go_form_and_precedence)
{
    struct config c;
    const char *dir = unit_tmpdir();
    char path[4200], cfgenv[4300];
    const char *argv[] = {"wrapp", path, NULL};
    const char *argv_t[] = {"wrapp", "-t", "7", path, NULL};
    const char *envp[] = {"WRAPP_GRACE=5", NULL};

    unit_write_file(dir, "w.json",
                    "{\"app\":{\"executable\":\"/bin/x\",\"args\":[\"1\"]},"
                    "\"init\":{\"grace_seconds\":2}}");
    snprintf(path, sizeof(path), "%s/w.json", dir);
    ck_assert_int_eq(parse(&c, argv, (const char *[]){NULL}), CLI_RUN);
    ck_assert_str_eq(c.app.executable, "/bin/x");
    ck_assert_str_eq(c.path, path);
    ck_assert_uint_eq(c.init.grace_ms, 2000);
    config_fini(&c);
    ck_assert_int_eq(parse(&c, argv, envp), CLI_RUN); /* env over file */
    ck_assert_uint_eq(c.init.grace_ms, 5000);
    config_fini(&c);
    ck_assert_int_eq(parse(&c, argv_t, envp), CLI_RUN); /* option over env */
    ck_assert_uint_eq(c.init.grace_ms, 7000);
    config_fini(&c);
    snprintf(cfgenv, sizeof(cfgenv), "WRAPP_CONFIG=%s", path);
    ck_assert_int_eq(
        parse(&c, (const char *[]){"wrapp", "--", "/bin/y", NULL}, (const char *[]){cfgenv, NULL}),
        CLI_RUN);
    ck_assert_str_eq(c.app.executable, "/bin/y"); /* CMD overrides app.executable */
    ck_assert_uint_eq(c.app.n_args, 0);
    config_fini(&c);
}
END_TEST

START_TEST(cli_tini_environment)
{
    struct config c;
    const char *argv[] = {"wrapp", "x", NULL};
    const char *envp[] = {"TINI_SUBREAPER=", "TINI_KILL_PROCESS_GROUP=1", "TINI_VERBOSITY=3", NULL};

    ck_assert_int_eq(parse(&c, argv, envp), CLI_RUN);
    ck_assert(c.init.subreaper_forced);
    ck_assert(c.init.kill_process_group);
    ck_assert_int_eq(c.init.log_level, 3);
    config_fini(&c);
}
END_TEST

START_TEST(cli_wrapp_environment)
{
    struct config c;
    const char *argv[] = {"wrapp", "x", NULL};
    const char *envp[] = {"WRAPP_KILL_PROCESS_GROUP=yes", "WRAPP_WARN_ON_REAP=0",
                          "WRAPP_REMAP_EXIT=143, 2",      "WRAPP_USER=1000:1000",
                          "WRAPP_PDEATHSIG=TERM",         "WRAPP_REDIS_PORT=6390",
                          "WRAPP_LOG_LEVEL=info",         NULL};

    ck_assert_int_eq(parse(&c, argv, envp), CLI_RUN);
    ck_assert(c.init.kill_process_group);
    ck_assert(!c.init.warn_on_reap);
    ck_assert(config_remap_exit_has(&c.init, 143) && config_remap_exit_has(&c.init, 2));
    ck_assert_str_eq(c.app.user, "1000:1000");
    ck_assert_int_eq(c.init.pdeathsig, 15);
    ck_assert_int_eq(c.redis.port, 6390);
    ck_assert(c.redis.is_set);
    ck_assert_int_eq(c.init.log_level, 2);
    config_fini(&c);
}
END_TEST

struct bad_cli {
    const char *argv[6];
    const char *envp[2];
    const char *message;
};

static const struct bad_cli bad_clis[] = {
    {{"wrapp", "-e", "256", "x"}, {NULL}, "option -e \"256\": expected an exit code 0..255"},
    {{"wrapp", "-p", "KILLME", "x"}, {NULL}, "option -p \"KILLME\": expected a signal name"},
    {{"wrapp", "-t", "soon", "x"}, {NULL}, "option -t \"soon\": expected seconds"},
    {{"wrapp", "x"}, {"WRAPP_GRACE=abc"}, "environment WRAPP_GRACE=\"abc\": expected seconds"},
    {{"wrapp", "x"}, {"TINI_VERBOSITY=loud"}, "environment TINI_VERBOSITY=\"loud\""},
    {{"wrapp"}, {NULL}, "Usage: wrapp CONFIG.json"},
    {{"wrapp", "-z", "x"}, {NULL}, "invalid option"},
    {{"wrapp", "-c", "/nonexistent.json"}, {NULL}, "config /nonexistent.json: cannot read it"},
};

START_TEST(cli_bad_usage_is_one_clear_message)
{
    struct config c;
    const struct bad_cli *t = &bad_clis[_i];
    const char *err;
    int r;

    unit_stderr_begin();
    r = parse(&c, t->argv, t->envp);
    err = unit_stderr_end();
    ck_assert_int_eq(r, -EINVAL);
    ck_assert_msg(strstr(err, t->message), "got: %s\nwant: %s", err, t->message);
    config_fini(&c);
}
END_TEST

START_TEST(cli_config_without_executable)
{
    struct config c;
    const char *dir = unit_tmpdir();
    char path[4200];
    const char *err;

    unit_write_file(dir, "e.json", "{\"app\":{}}");
    snprintf(path, sizeof(path), "%s/e.json", dir);
    unit_stderr_begin();
    ck_assert_int_eq(parse(&c, (const char *[]){"wrapp", path, NULL}, (const char *[]){NULL}),
                     -EINVAL);
    err = unit_stderr_end();
    ck_assert_ptr_nonnull(strstr(err, "app.executable: missing"));
    config_fini(&c);
}
END_TEST

START_TEST(cli_verbosity_flags)
{
    struct config c;

    ck_assert_int_eq(
        parse(&c, (const char *[]){"wrapp", "-v", "-v", "x", NULL}, (const char *[]){NULL}),
        CLI_RUN);
    ck_assert_int_eq(c.init.log_level, LOG_LEVEL_DEBUG);
    ck_assert_int_eq(log_get_level(), LOG_LEVEL_DEBUG);
    config_fini(&c);
    ck_assert_int_eq(parse(&c, (const char *[]){"wrapp", "-q", "x", NULL}, (const char *[]){NULL}),
                     CLI_RUN);
    ck_assert_int_eq(c.init.log_level, LOG_LEVEL_INFO);
    config_fini(&c);
}
END_TEST

START_TEST(cli_config_file_detection)
{
    const char *dir = unit_tmpdir();
    char path[4200];

    ck_assert(cli_is_config_file("/x/y.JSON"));
    ck_assert(!cli_is_config_file("/bin/sh"));
    unit_write_file(dir, "conf", "  \n{\"app\":{}}");
    snprintf(path, sizeof(path), "%s/conf", dir);
    ck_assert(cli_is_config_file(path));
}
END_TEST

Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("parse");

    tcase_add_test(tc, cli_tini_form_with_flags);
    tcase_add_test(tc, cli_options_stop_at_the_first_non_option);
    tcase_add_test(tc, cli_go_form_and_precedence);
    tcase_add_test(tc, cli_tini_environment);
    tcase_add_test(tc, cli_wrapp_environment);
    tcase_add_loop_test(tc, cli_bad_usage_is_one_clear_message, 0,
                        (int)(sizeof(bad_clis) / sizeof(bad_clis[0])));
    tcase_add_test(tc, cli_config_without_executable);
    tcase_add_test(tc, cli_verbosity_flags);
    tcase_add_test(tc, cli_config_file_detection);
    suite_add_tcase(s, tc);
    return s;
}

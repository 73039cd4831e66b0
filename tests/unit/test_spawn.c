// SPDX-License-Identifier: MIT
/* spawn: environment building, PATH lookup, and a real fork/exec. */
#include "spawn.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A NULL-terminated vector of copies of the arguments (NULL ends them). */
static char **strv(const char *first, ...)
{
    char **v = calloc(16, sizeof(*v));
    va_list ap;
    size_t n = 0;

    va_start(ap, first);
    for (const char *a = first; a && n < 15; a = va_arg(ap, const char *))
        v[n++] = strdup(a);
    va_end(ap);
    v[n] = NULL;
    return v;
}

static void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static size_t count(char **v)
{
    size_t n = 0;

    while (v[n])
        n++;
    return n;
}

START_TEST(env_inherits_then_user_then_overrides)
{
    char **base = strv("PATH=/bin", "HOME=/root", "KEEP=1", "DROP=2", NULL);
    char **over = strv("DROP", "NEW=a=b", "HOME=/custom", NULL);
    char **env = NULL;

    ck_assert_int_eq(spawn_build_env(base, "archer", "/home/archer", over, &env), 0);
    ck_assert_uint_eq(count(env), 6);
    ck_assert_str_eq(env[0], "PATH=/bin");
    ck_assert_str_eq(env[1], "HOME=/custom"); /* app.env beats the login's HOME */
    ck_assert_str_eq(env[2], "KEEP=1");
    ck_assert_str_eq(env[3], "USER=archer");
    ck_assert_str_eq(env[4], "LOGNAME=archer");
    ck_assert_str_eq(env[5], "NEW=a=b");
    strv_free(env);
    strv_free(base);
    strv_free(over);
}
END_TEST

START_TEST(env_without_user_is_untouched)
{
    char **base = strv("A=1", "B=", NULL);
    char **env = NULL;

    ck_assert_int_eq(spawn_build_env(base, NULL, NULL, NULL, &env), 0);
    ck_assert_uint_eq(count(env), 2);
    ck_assert_str_eq(env[1], "B=");
    strv_free(env);
    strv_free(base);
}
END_TEST

START_TEST(lookup_like_execvp)
{
    const char *dir = unit_tmpdir();
    char path[8400], found[4200];
    char *ret = NULL;

    unit_write_file(dir, "noexec", "x");
    unit_write_file(dir, "tool", "#!/bin/sh\n");
    snprintf(found, sizeof(found), "%s/tool", dir);
    chmod(found, 0755);
    snprintf(path, sizeof(path), "/nonexistent:%s", dir);
    ck_assert_int_eq(spawn_lookup("tool", path, &ret), 0);
    ck_assert_str_eq(ret, found);
    free(ret);
    ck_assert_int_eq(spawn_lookup("noexec", path, &ret), -EACCES);
    ck_assert_int_eq(spawn_lookup("missing", path, &ret), -ENOENT);
    ck_assert_int_eq(spawn_lookup("sh", NULL, &ret), 0); /* default PATH */
    free(ret);
    ck_assert_int_eq(spawn_lookup("/nonexistent/x", path, &ret), -ENOENT);
    ck_assert_int_eq(spawn_lookup("", path, &ret), -ENOENT);
}
END_TEST

static pid_t start(const char *exe, char **args, size_t n, const char **err)
{
    struct config c;
    struct spawn_plan p;
    struct sigs s = {0};
    pid_t pid = -1;

    config_init(&c);
    config_set_str(&c.app.executable, exe);
    config_set_args(&c.app, args, n);
    ck_assert_int_eq(spawn_plan_build(&c, "/etc", &p), 0);
    unit_stderr_begin();
    ck_assert_int_eq(spawn_start(&p, &s, &pid), 0);
    *err = unit_stderr_end();
    spawn_plan_fini(&p);
    config_fini(&c);
    return pid;
}

START_TEST(spawn_runs_the_program_in_its_own_process_group)
{
    char **args = strv("-c", "[ $(ps -o pgid= -p $$) -eq $$ ] && exit 7", NULL);
    const char *err;
    int status;
    pid_t pid = start("sh", args, 2, &err);

    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 7);
    ck_assert_str_eq(err, "");
    strv_free(args);
}
END_TEST

START_TEST(spawn_failure_exits_127_and_logs_one_line)
{
    const char *err;
    int status;
    pid_t pid = start("no-such-prog-4711", NULL, 0, &err);

    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(WEXITSTATUS(status), 127);
    ck_assert_ptr_nonnull(strstr(err, "cannot run app \"no-such-prog-4711\": not found in PATH"));
}
END_TEST

Suite *spawn_suite(void)
{
    Suite *s = suite_create("spawn");
    TCase *tc = tcase_create("spawn");

    tcase_add_test(tc, env_inherits_then_user_then_overrides);
    tcase_add_test(tc, env_without_user_is_untouched);
    tcase_add_test(tc, lookup_like_execvp);
    tcase_add_test(tc, spawn_runs_the_program_in_its_own_process_group);
    tcase_add_test(tc, spawn_failure_exits_127_and_logs_one_line);
    suite_add_tcase(s, tc);
    return s;
}

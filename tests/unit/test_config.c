// SPDX-License-Identifier: MIT
/* config: the Go schema's semantics, types and the error messages. */
#include "config.h"
#include "unit.h"

#include <errno.h>
#include <string.h>

static int parse(struct config *c, const char *json)
{
    config_init(c);
    return config_parse(c, "t.json", json, strlen(json));
}

START_TEST(config_reads_the_go_schema)
{
    struct config c;
    const char *j =
        "{\"redis\":{\"host\":\"r\",\"port\":6380,\"secrets_dir\":\"/s/wrapp\"},"
        "\"app\":{\"executable\":\"/bin/app\",\"args\":[\"a\",\"\"],\"user\":\"archer\","
        "\"stream_name\":\"svc\"},\"debug\":{\"enabled\":true,\"port\":2400}}";

    ck_assert_int_eq(parse(&c, j), 0);
    ck_assert_str_eq(c.redis.host, "r");
    ck_assert_int_eq(c.redis.port, 6380);
    ck_assert(c.redis.is_set);
    ck_assert_str_eq(c.app.executable, "/bin/app");
    ck_assert_uint_eq(c.app.n_args, 2);
    ck_assert_str_eq(c.app.args[1], "");
    ck_assert_ptr_null(c.app.args[2]);
    ck_assert(c.debug.enabled);
    ck_assert_int_eq(c.debug.port, 2400);
    config_fini(&c);
}
END_TEST

START_TEST(config_keys_are_case_insensitive_and_later_duplicate_wins)
{
    struct config c;

    ck_assert_int_eq(parse(&c, "{\"APP\":{\"Executable\":\"a\",\"executable\":\"b\"}}"), 0);
    ck_assert_str_eq(c.app.executable, "b");
    config_fini(&c);
}
END_TEST

START_TEST(config_null_leaves_default_and_unknown_keys_are_ignored)
{
    struct config c;

    ck_assert_int_eq(parse(&c, "{\"_comment\":[1],\"debug\":{\"port\":null,\"x\":{}},"
                               "\"init\":{\"grace_seconds\":null}}"),
                     0);
    ck_assert_int_eq(c.debug.port, 2345);
    ck_assert_uint_eq(c.init.grace_ms, CONFIG_GRACE_MS_DEF);
    ck_assert(!c.redis.is_set);
    config_fini(&c);
}
END_TEST

START_TEST(config_init_section)
{
    struct config c;

    ck_assert_int_eq(parse(&c, "{\"init\":{\"grace_seconds\":2.5,\"kill_process_group\":true,"
                               "\"pdeathsig\":\"SIGKILL\",\"remap_exit\":[143,0],"
                               "\"warn_on_reap\":true,\"log_level\":\"debug\"}}"),
                     0);
    ck_assert_uint_eq(c.init.grace_ms, 2500);
    ck_assert(c.init.kill_process_group);
    ck_assert_int_eq(c.init.pdeathsig, 9);
    ck_assert(config_remap_exit_has(&c.init, 143));
    ck_assert(config_remap_exit_has(&c.init, 0));
    ck_assert(!config_remap_exit_has(&c.init, 1));
    ck_assert(c.init.warn_on_reap);
    ck_assert_int_eq(c.init.log_level, 3);
    config_fini(&c);
}
END_TEST

START_TEST(config_env_object_sets_and_unsets)
{
    struct config c;

    ck_assert_int_eq(parse(&c, "{\"app\":{\"env\":{\"A\":\"1 2\",\"B\":null}}}"), 0);
    ck_assert_uint_eq(c.app.n_env, 2);
    ck_assert_str_eq(c.app.env[0], "A=1 2");
    ck_assert_str_eq(c.app.env[1], "B");
    config_fini(&c);
}
END_TEST

struct bad_case {
    const char *json;
    const char *message;
};

static const struct bad_case bad_cases[] = {
    {"{\"redis\":{\"port\":\"6379\"}}",
     "config t.json: redis.port: expected an integer in range, found a string"},
    {"{\"redis\":{\"port\":6379.5}}",
     "config t.json: redis.port: expected an integer in range, found a number out of range"},
    {"{\"redis\":{\"port\":70000}}", "redis.port: expected an integer in range"},
    {"{\"app\":{\"args\":\"-v\"}}", "config t.json: app.args: expected an array of strings, "
                                    "found a string"},
    {"{\"app\":{\"args\":[\"a\",1]}}", "config t.json: app.args[1]: expected a string, found a "
                                       "number"},
    {"{\"debug\":{\"enabled\":\"yes\"}}", "debug.enabled: expected true or false, found a string"},
    {"{\"app\":[]}", "config t.json: app: expected an object, found an array"},
    {"[1,2]", "config t.json: top level: expected an object, found an array"},
    {"{\"app\":{\"executable\":\"x\",}}",
     "config t.json: invalid JSON at line 1, column 27 (near \"}\")"},
    {"{\n\"app\": {\n  \"user\": tru\n}}", "invalid JSON at line 3, column 11"},
    {"", "config t.json: invalid JSON at line 1, column 1"},
    {"{\"init\":{\"pdeathsig\":\"SIGNOPE\"}}", "init.pdeathsig: expected a signal name"},
    {"{\"init\":{\"remap_exit\":[256]}}", "init.remap_exit[0]: expected an integer 0..255"},
    {"{\"init\":{\"grace_seconds\":-1}}", "init.grace_seconds: expected seconds"},
    {"{\"app\":{\"env\":{\"A=B\":\"x\"}}}", "app.env: expected variable names without '='"},
};

START_TEST(config_type_errors_name_file_key_expected_and_found)
{
    struct config c;
    const struct bad_case *t = &bad_cases[_i];
    const char *err;
    int r;

    unit_stderr_begin();
    r = parse(&c, t->json);
    err = unit_stderr_end();
    ck_assert_int_eq(r, -EINVAL);
    ck_assert_msg(strstr(err, t->message), "for %s\n got: %s\nwant: %s", t->json, err, t->message);
    ck_assert_msg(strchr(err, '\n') == err + strlen(err) - 1, "one line: %s", err);
    config_fini(&c);
}
END_TEST

START_TEST(config_missing_file_is_named)
{
    struct config c;
    const char *err;

    config_init(&c);
    unit_stderr_begin();
    ck_assert_int_eq(config_load_file(&c, "/nonexistent/w.json"), -ENOENT);
    err = unit_stderr_end();
    ck_assert_ptr_nonnull(strstr(err, "config /nonexistent/w.json: cannot read it"));
    ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));
    config_fini(&c);
}
END_TEST

START_TEST(config_stream_name_follows_go)
{
    struct config c;
    char buf[256];

    config_init(&c);
    ck_assert_str_eq(config_stream_name(&c, buf, sizeof(buf)), ".");
    config_set_str(&c.app.executable, "/usr/bin/python3");
    ck_assert_str_eq(config_stream_name(&c, buf, sizeof(buf)), "python3");
    config_set_str(&c.app.executable, "svc/");
    ck_assert_str_eq(config_stream_name(&c, buf, sizeof(buf)), "svc");
    config_set_str(&c.app.stream_name, "named");
    ck_assert_str_eq(config_stream_name(&c, buf, sizeof(buf)), "named");
    config_fini(&c);
}
END_TEST

Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("parse");

    tcase_add_test(tc, config_reads_the_go_schema);
    tcase_add_test(tc, config_keys_are_case_insensitive_and_later_duplicate_wins);
    tcase_add_test(tc, config_null_leaves_default_and_unknown_keys_are_ignored);
    tcase_add_test(tc, config_init_section);
    tcase_add_test(tc, config_env_object_sets_and_unsets);
    tcase_add_loop_test(tc, config_type_errors_name_file_key_expected_and_found, 0,
                        (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
    tcase_add_test(tc, config_missing_file_is_named);
    tcase_add_test(tc, config_stream_name_follows_go);
    suite_add_tcase(s, tc);
    return s;
}

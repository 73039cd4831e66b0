// SPDX-License-Identifier: MIT
/* rconn: Redis URLs and ridler credentials. */
#include "rconn.h"
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

START_TEST(rconn_parses_redis_urls)
{
    struct rconn_target t = {.port = 6379, .db = 1};

    ck_assert_int_eq(rconn_parse_url("redis://app:p%40ss@redis.local:6390/3", &t), 0);
    ck_assert_str_eq(t.host, "redis.local");
    ck_assert_int_eq(t.port, 6390);
    ck_assert_str_eq(t.user, "app");
    ck_assert_str_eq(t.pass, "p@ss");
    ck_assert_int_eq(t.db, 3);
    rconn_target_fini(&t);
    t = (struct rconn_target){.port = 6379, .db = 1};
    ck_assert_int_eq(rconn_parse_url("redis://10.0.0.1", &t), 0);
    ck_assert_str_eq(t.host, "10.0.0.1");
    ck_assert_int_eq(t.port, 6379);
    ck_assert_int_eq(t.db, 1);
    ck_assert_ptr_null(t.user);
    rconn_target_fini(&t);
    t = (struct rconn_target){.db = 1};
    ck_assert_int_eq(rconn_parse_url("redis://:secret@h:1", &t), 0);
    ck_assert_ptr_null(t.user);
    ck_assert_str_eq(t.pass, "secret");
    rconn_target_fini(&t);
    t = (struct rconn_target){.db = 1};
    ck_assert_int_eq(rconn_parse_url("unix:///run/redis.sock?db=4", &t), 0);
    ck_assert_str_eq(t.unix_path, "/run/redis.sock");
    ck_assert_int_eq(t.db, 4);
    rconn_target_fini(&t);
}
END_TEST

static const char *const bad_urls[] = {
    "http://h",         "redis://",       "redis://h:0",     "redis://h:70000",
    "redis://h:x",      "redis://h/1024", "redis://h/-1",    "unix://relative",
    "unix:///s?db=abc", "unix:///s?x=1",  "redis://:6379/1", "redis://h:6379:1",
};

START_TEST(rconn_rejects_bad_urls)
{
    struct rconn_target t = {0};

    ck_assert_msg(rconn_parse_url(bad_urls[_i], &t) == -EINVAL, "%s", bad_urls[_i]);
    rconn_target_fini(&t);
}
END_TEST

START_TEST(rconn_reads_ridler_credentials)
{
    const char *root = unit_tmpdir();
    char dir[4200];
    struct config c;
    struct rconn_target t;
    const char *err;

    snprintf(dir, sizeof(dir), "%s/wrapp", root);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    unit_write_file(dir, "password", "  s3cret with space\n\n");
    config_init(&c);
    config_set_str(&c.redis.host, "127.0.0.1");
    strcat(dir, "/");
    config_set_str(&c.redis.secrets_dir, dir);
    ck_assert_int_eq(rconn_target_from_config(&c, &t), 0);
    ck_assert_str_eq(t.user, "wrapp");
    ck_assert_str_eq(t.pass, "s3cret with space");
    ck_assert_int_eq(t.db, 1);
    rconn_target_fini(&t);
    unit_write_file(root, "wrapp/password", " \n");
    unit_stderr_begin();
    ck_assert_int_eq(rconn_target_from_config(&c, &t), -EINVAL);
    err = unit_stderr_end();
    ck_assert_ptr_nonnull(strstr(err, "password file"));
    ck_assert_ptr_nonnull(strstr(err, "is empty"));
    config_fini(&c);
}
END_TEST

Suite *rconn_suite(void)
{
    Suite *s = suite_create("rconn");
    TCase *tc = tcase_create("rconn");

    tcase_add_test(tc, rconn_parses_redis_urls);
    tcase_add_loop_test(tc, rconn_rejects_bad_urls, 0,
                        (int)(sizeof(bad_urls) / sizeof(bad_urls[0])));
    tcase_add_test(tc, rconn_reads_ridler_credentials);
    suite_add_tcase(s, tc);
    return s;
}

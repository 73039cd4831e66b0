// SPDX-License-Identifier: MIT
/* users: passwd/group parsing without NSS. */
#include "unit.h"
#include "users.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static const char *etc(void)
{
    const char *dir = unit_tmpdir();

    unit_write_file(dir, "passwd",
                    "# comment\nroot:x:0:0:root:/root:/bin/bash\nbroken line\n"
                    "archer:x:1000:1000:A,,,:/home/archer:/bin/sh\nnohome:x:1001:1001:::\n"
                    "bad:x:notanumber:1:::\n");
    unit_write_file(dir, "group",
                    "root:x:0:\narcher:x:1000:\nvideo:x:44:other,archer\n"
                    "audio:x:29:other\nwheel:x:10:archer\nnohome:x:1001:\n");
    return dir;
}

START_TEST(users_by_name_with_supplementary_groups)
{
    struct users_ids ids;

    ck_assert_int_eq(users_resolve(etc(), "archer", NULL, &ids), 0);
    ck_assert_uint_eq(ids.uid, 1000);
    ck_assert_uint_eq(ids.gid, 1000);
    ck_assert_str_eq(ids.name, "archer");
    ck_assert_str_eq(ids.home, "/home/archer");
    ck_assert_uint_eq(ids.n_groups, 3);
    ck_assert_uint_eq(ids.groups[0], 1000);
    ck_assert_uint_eq(ids.groups[1], 44);
    ck_assert_uint_eq(ids.groups[2], 10);
    users_ids_fini(&ids);
}
END_TEST

START_TEST(users_numeric_known_and_unknown)
{
    struct users_ids ids;

    ck_assert_int_eq(users_resolve(etc(), "1000", NULL, &ids), 0);
    ck_assert_str_eq(ids.name, "archer");
    users_ids_fini(&ids);
    ck_assert_int_eq(users_resolve(etc(), "4242:77", NULL, &ids), 0);
    ck_assert_uint_eq(ids.uid, 4242);
    ck_assert_uint_eq(ids.gid, 77);
    ck_assert_ptr_null(ids.name);
    ck_assert_str_eq(ids.home, "/");
    ck_assert_uint_eq(ids.n_groups, 1);
    users_ids_fini(&ids);
    ck_assert_int_eq(users_resolve(etc(), "4242", NULL, &ids), 0);
    ck_assert_uint_eq(ids.gid, 0);
    users_ids_fini(&ids);
}
END_TEST

START_TEST(users_group_override_and_empty_home)
{
    struct users_ids ids;

    ck_assert_int_eq(users_resolve(etc(), "archer:audio", NULL, &ids), 0);
    ck_assert_uint_eq(ids.gid, 29);
    users_ids_fini(&ids);
    ck_assert_int_eq(users_resolve(etc(), "nohome", "video", &ids), 0);
    ck_assert_uint_eq(ids.gid, 44);
    ck_assert_str_eq(ids.home, "/");
    users_ids_fini(&ids);
}
END_TEST

START_TEST(users_unknown_names_are_reported)
{
    struct users_ids ids;
    const char *dir = etc();
    const char *err;

    unit_stderr_begin();
    ck_assert_int_eq(users_resolve(dir, "bob", NULL, &ids), -ENOENT);
    ck_assert_int_eq(users_resolve(dir, "archer", "nogroup", &ids), -ENOENT);
    err = unit_stderr_end();
    ck_assert_ptr_nonnull(strstr(err, "user \"bob\" not in "));
    ck_assert_ptr_nonnull(strstr(err, "use a numeric uid"));
    ck_assert_ptr_nonnull(strstr(err, "group \"nogroup\" not in "));
}
END_TEST

START_TEST(users_no_files_numeric_still_works)
{
    struct users_ids ids;

    ck_assert_int_eq(users_resolve("/nonexistent", "33:33", NULL, &ids), 0);
    ck_assert_uint_eq(ids.uid, 33);
    users_ids_fini(&ids);
}
END_TEST

START_TEST(users_parse_id_rejects_junk)
{
    unsigned v;

    ck_assert_int_eq(users_parse_id("0", &v), 0);
    ck_assert_int_eq(users_parse_id("4294967295", &v), -EINVAL);
    ck_assert_int_eq(users_parse_id("-1", &v), -EINVAL);
    ck_assert_int_eq(users_parse_id("12a", &v), -EINVAL);
    ck_assert_int_eq(users_parse_id("", &v), -EINVAL);
}
END_TEST

Suite *users_suite(void)
{
    Suite *s = suite_create("users");
    TCase *tc = tcase_create("resolve");

    tcase_add_test(tc, users_by_name_with_supplementary_groups);
    tcase_add_test(tc, users_numeric_known_and_unknown);
    tcase_add_test(tc, users_group_override_and_empty_home);
    tcase_add_test(tc, users_unknown_names_are_reported);
    tcase_add_test(tc, users_no_files_numeric_still_works);
    tcase_add_test(tc, users_parse_id_rejects_junk);
    suite_add_tcase(s, tc);
    return s;
}

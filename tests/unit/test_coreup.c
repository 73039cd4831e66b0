// SPDX-License-Identifier: MIT
/*
 * coreup's pure parts: crash ids and key names, the chunking arithmetic,
 * the manifest written from a report and read back, the reader's checks;
 * and an upload to a Redis that is not there, which must end in one
 * warning and leave the core alone.
 */
#include "cJSON.h"
#include "coreup.h"
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char report[] =
    "{\"version\":1,\"time\":\"2026-11-22T23:59:59.123456Z\",\"time_us\":1795391999123456,"
    "\"pid\":42,\"signal\":{\"number\":11,\"name\":\"SIGSEGV\"},\"exe\":\"/usr/bin/app\","
    "\"build_id\":\"abcd\",\"modules\":[{\"path\":\"/usr/bin/app\",\"build_id\":\"abcd\","
    "\"base\":\"0x1000\"},{\"path\":\"[vdso]\"},{\"path\":\"/lib/"
    "libc.so.6\",\"build_id\":\"ef\"}]}";

START_TEST(coreup_id_comes_from_the_reports_time_and_pid)
{
    char id[COREUP_ID_MAX];

    ck_assert_int_eq(coreup_id_from_report(report, strlen(report), id, sizeof(id)), 19);
    ck_assert_str_eq(id, "1795391999123456-42");
    ck_assert_int_eq(coreup_id(id, sizeof(id), 7, 1), 3);
    ck_assert_str_eq(id, "7-1");
    ck_assert_int_eq(coreup_id(id, 4, 1795391999123456ULL, 42), -ENAMETOOLONG);
    ck_assert_int_eq(coreup_id_from_report("{\"pid\":42}", 10, id, sizeof(id)), -EINVAL);
    ck_assert_int_eq(coreup_id_from_report("{\"pid\":0,\"time_us\":5}", 21, id, sizeof(id)),
                     -EINVAL);
    ck_assert_int_eq(coreup_id_from_report("{\"pid\":1,\"time_us\":1.5}", 23, id, sizeof(id)),
                     -EINVAL);
    ck_assert_int_eq(coreup_id_from_report("nope", 4, id, sizeof(id)), -EINVAL);
}
END_TEST

START_TEST(coreup_key_names_the_manifest_and_its_chunks)
{
    char key[COREUP_KEY_MAX];

    ck_assert_int_eq(coreup_key(key, sizeof(key), "wrapp:", "app", "17-42", -1), 20);
    ck_assert_str_eq(key, "wrapp:app:core:17-42");
    ck_assert_int_gt(coreup_key(key, sizeof(key), "wrapp:", "app", "17-42", 0), 0);
    ck_assert_str_eq(key, "wrapp:app:core:17-42:0");
    ck_assert_int_gt(coreup_key(key, sizeof(key), "p:", "s", "17-42", 12), 0);
    ck_assert_str_eq(key, "p:s:core:17-42:12");
    ck_assert_int_eq(coreup_key(key, sizeof(key), "p:", "s", "17-42", -2), -EINVAL);
    ck_assert_int_eq(coreup_key(key, sizeof(key), "p:", "s", "17-42:0", 0), -EINVAL);
    ck_assert_int_eq(coreup_key(key, sizeof(key), "p:", "s", "../x", -1), -EINVAL);
    ck_assert_int_eq(coreup_key(key, 10, "wrapp:", "app", "17-42", -1), -ENAMETOOLONG);
    ck_assert(coreup_is_id("1795391999123456-42"));
    ck_assert(!coreup_is_id("-42") && !coreup_is_id("17-") && !coreup_is_id("17") &&
              !coreup_is_id("17-4x") && !coreup_is_id("123456789012345678901-1"));
}
END_TEST

START_TEST(coreup_chunks_cover_the_bytes_with_a_short_last_one)
{
    const size_t mb = 1u << 20;

    ck_assert_uint_eq(coreup_chunk_count(0, mb), 0);
    ck_assert_uint_eq(coreup_chunk_count(1, mb), 1);
    ck_assert_uint_eq(coreup_chunk_count(mb, mb), 1);
    ck_assert_uint_eq(coreup_chunk_count(mb + 1, mb), 2);
    ck_assert_uint_eq(coreup_chunk_count(12 * mb + 5, mb), 13);
    ck_assert_uint_eq(coreup_chunk_len(12 * mb + 5, mb, 0), mb);
    ck_assert_uint_eq(coreup_chunk_len(12 * mb + 5, mb, 11), mb);
    ck_assert_uint_eq(coreup_chunk_len(12 * mb + 5, mb, 12), 5);
    ck_assert_uint_eq(coreup_chunk_len(12 * mb + 5, mb, 13), 0);
    ck_assert_uint_eq(coreup_chunk_len(2 * mb, mb, 1), mb);
}
END_TEST

static struct coreup_manifest sample(void)
{
    struct coreup_manifest m = {
        .version = COREUP_VERSION, .chunks = 13, .chunk_bytes = 1u << 20, .size = 300000000};

    m.compressed = 12 * m.chunk_bytes + 5;
    strcpy(m.id, "1795391999123456-42");
    strcpy(m.sha256, SHA);
    return m;
}

START_TEST(coreup_manifest_carries_the_reports_crash_and_build_ids)
{
    struct coreup_manifest m = sample(), back;
    char *json = NULL, why[128] = "";
    cJSON *root, *mods;

    ck_assert_int_eq(coreup_manifest_json(&m, report, &json), 0);
    ck_assert_ptr_nonnull(strstr(json, "{\"version\":1,\"id\":\"1795391999123456-42\","
                                       "\"compression\":\"zstd\",\"chunks\":13,"));
    root = cJSON_Parse(json);
    mods = cJSON_GetObjectItem(root, "modules");
    ck_assert_int_eq(cJSON_GetArraySize(mods), 2);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(mods, 1), "build_id")->valuestring,
                     "ef");
    ck_assert_str_eq(cJSON_GetObjectItem(root, "exe")->valuestring, "/usr/bin/app");
    cJSON_Delete(root);
    ck_assert_int_eq(coreup_manifest_parse(json, strlen(json), &back, why, sizeof(why)), 0);
    ck_assert_uint_eq(back.chunks, 13);
    ck_assert_uint_eq(back.compressed, m.compressed);
    ck_assert_uint_eq(back.size, 300000000);
    ck_assert_uint_eq(back.time_us, 1795391999123456ULL);
    ck_assert_int_eq(back.pid, 42);
    ck_assert_int_eq(back.signal_number, 11);
    ck_assert_str_eq(back.signal, "SIGSEGV");
    ck_assert_str_eq(back.sha256, SHA);
    ck_assert_str_eq(back.exe, "/usr/bin/app");
    free(json);
}
END_TEST

START_TEST(coreup_manifest_without_a_report_keeps_its_own_facts)
{
    struct coreup_manifest m = sample(), back;
    char *json = NULL, why[128];

    m.pid = 7;
    strcpy(m.signal, "SIGBUS");
    ck_assert_int_eq(coreup_manifest_json(&m, "not json", &json), 0);
    ck_assert_int_eq(coreup_manifest_parse(json, strlen(json), &back, why, sizeof(why)), 0);
    ck_assert_int_eq(back.pid, 7);
    ck_assert_str_eq(back.signal, "SIGBUS");
    ck_assert_ptr_nonnull(strstr(json, "\"modules\":[]"));
    free(json);
}
END_TEST

static const struct {
    const char *json;
    int r;
    const char *why;
} bad[] = {
    {"[1]", -EINVAL, "not a JSON object"},
    {"{\"version\":2}", -EPROTONOSUPPORT, "version 2: this wrapp reads version 1"},
    {"{\"version\":1,\"compression\":\"xz\"}", -EPROTONOSUPPORT, "compression \"xz\""},
    {"{\"version\":1,\"compression\":\"zstd\",\"chunks\":0}", -EINVAL, "chunks: expected"},
    {"{\"version\":1,\"compression\":\"zstd\",\"chunks\":2,\"chunk_bytes\":4096,"
     "\"compressed_bytes\":4096,\"size\":1,\"sha256\":\"" SHA "\",\"id\":\"1-2\"}",
     -EINVAL, "chunks: 2 do not hold 4096 bytes"},
    {"{\"version\":1,\"compression\":\"zstd\",\"chunks\":1,\"chunk_bytes\":4096,"
     "\"compressed_bytes\":4096,\"size\":1,\"sha256\":\"ABC\",\"id\":\"1-2\"}",
     -EINVAL, "sha256: expected 64"},
    {"{\"version\":1,\"compression\":\"zstd\",\"chunks\":1,\"chunk_bytes\":4096,"
     "\"compressed_bytes\":4096,\"size\":1,\"sha256\":\"" SHA "\",\"id\":\"../1\"}",
     -EINVAL, "id: expected"},
    {"{\"version\":1,\"compression\":\"zstd\",\"chunks\":1,\"chunk_bytes\":1e300}", -EINVAL,
     "chunk_bytes: expected"},
};

START_TEST(coreup_manifest_reader_names_what_is_wrong)
{
    struct coreup_manifest m = {.pid = -5};
    char why[128] = "";

    ck_assert_int_eq(
        coreup_manifest_parse(bad[_i].json, strlen(bad[_i].json), &m, why, sizeof(why)), bad[_i].r);
    ck_assert_msg(strstr(why, bad[_i].why), "%s: got \"%s\"", bad[_i].json, why);
    ck_assert_int_eq(m.pid, -5);
}
END_TEST

START_TEST(coreup_formats_sizes_and_hex)
{
    char buf[32];
    const unsigned char b[] = {0x00, 0xab, 0x0f};

    ck_assert_str_eq(coreup_fmt_size(buf, sizeof(buf), 300000000), "300 MB");
    ck_assert_str_eq(coreup_fmt_size(buf, sizeof(buf), 1200000), "1.2 MB");
    ck_assert_str_eq(coreup_fmt_size(buf, sizeof(buf), 512000), "512 KB");
    ck_assert_str_eq(coreup_fmt_size(buf, sizeof(buf), 12), "12 B");
    coreup_hex(buf, b, sizeof(b));
    ck_assert_str_eq(buf, "00ab0f");
}
END_TEST

START_TEST(coreup_to_an_absent_redis_warns_once_and_keeps_the_core)
{
    const char *dir = unit_tmpdir();
    char core[4096], sock[4096];
    struct rconn_target t = {.unix_path = sock, .timeout_ms = 500};
    struct coreup_opts o = {.target = &t, .db = 3, .prefix = "wrapp:", .stream = "app"};
    const char *err;
    struct stat st;

    snprintf(sock, sizeof(sock), "%s/no.sock", dir);
    snprintf(core, sizeof(core), "%s/core", dir);
    unit_write_file(dir, "core", "ELF...");
    ck_assert_int_eq(coreup_wait(0), 0);
    ck_assert_int_eq(coreup_start(&o, core, "x-1", report), -EINVAL);
    unit_stderr_begin();
    ck_assert_int_eq(coreup_start(&o, core, "1795391999123456-42", report), 0);
    ck_assert_int_eq(coreup_wait(5000), 0);
    err = unit_stderr_end();
    ck_assert_msg(strstr(err, "warn: core of pid 42 not stored in Redis") &&
                      strstr(err, "the local copy stays at"),
                  "%s", err);
    ck_assert_ptr_eq(strchr(err, '\n'), err + strlen(err) - 1);
    ck_assert_int_eq(stat(core, &st), 0);
}
END_TEST

START_TEST(coreup_wait_gives_up_and_the_upload_left_stays_quiet)
{
    const char *dir = unit_tmpdir();
    char core[4096], host[] = "127.0.0.1";
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    struct rconn_target t = {.host = host, .timeout_ms = 1000};
    struct coreup_opts o = {.target = &t, .db = 3, .stream = "app"};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    /* A server that takes the connection and never answers. */
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(fd, 4), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    t.port = ntohs(sa.sin_port);
    snprintf(core, sizeof(core), "%s/core", dir);
    unit_write_file(dir, "core", "ELF...");
    unit_stderr_begin();
    ck_assert_int_eq(coreup_start(&o, core, "17-42", NULL), 0);
    ck_assert_int_eq(coreup_wait(100), 1);
    ck_assert_int_eq(coreup_wait(5000), 0);
    ck_assert_str_eq(unit_stderr_end(), "");
    close(fd);
}
END_TEST

Suite *coreup_suite(void)
{
    Suite *s = suite_create("coreup");
    TCase *tc = tcase_create("coreup");

    tcase_add_test(tc, coreup_id_comes_from_the_reports_time_and_pid);
    tcase_add_test(tc, coreup_key_names_the_manifest_and_its_chunks);
    tcase_add_test(tc, coreup_chunks_cover_the_bytes_with_a_short_last_one);
    tcase_add_test(tc, coreup_manifest_carries_the_reports_crash_and_build_ids);
    tcase_add_test(tc, coreup_manifest_without_a_report_keeps_its_own_facts);
    tcase_add_loop_test(tc, coreup_manifest_reader_names_what_is_wrong, 0,
                        (int)(sizeof(bad) / sizeof(bad[0])));
    tcase_add_test(tc, coreup_formats_sizes_and_hex);
    tcase_add_test(tc, coreup_to_an_absent_redis_warns_once_and_keeps_the_core);
    tcase_add_test(tc, coreup_wait_gives_up_and_the_upload_left_stays_quiet);
    suite_add_tcase(s, tc);
    return s;
}

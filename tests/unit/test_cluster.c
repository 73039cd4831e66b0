// SPDX-License-Identifier: MIT
/* cluster, crc16, sentinel: slots, key layout, redirections, slot maps,
 * sentinel replies, and the sentinel/cluster URL forms. Replies are built
 * from RESP text with hiredis's own reader. */
#include "cluster.h"
#include "crc16.h"
#include "rconn.h"
#include "sentinel.h"
#include "unit.h"

#include <errno.h>
#include <string.h>

/* The reply hiredis reads from RESP text (owned by the caller). */
static redisReply *reply_of(const char *resp)
{
    redisReader *rd = redisReaderCreate();
    void *rep = NULL;

    ck_assert_int_eq(redisReaderFeed(rd, resp, strlen(resp)), REDIS_OK);
    ck_assert_int_eq(redisReaderGetReply(rd, &rep), REDIS_OK);
    ck_assert_ptr_nonnull(rep);
    redisReaderFree(rd);
    return rep;
}

START_TEST(crc16_and_slots_match_the_cluster_spec)
{
    /* The spec's check value, then slots as CLUSTER KEYSLOT gives them. */
    ck_assert_uint_eq(crc16("123456789", 9), 0x31C3);
    ck_assert_uint_eq(crc16_slot("123456789", 9), 12739);
    ck_assert_uint_eq(crc16_slot("foo", 3), 12182);
    ck_assert_uint_eq(crc16_slot("bar", 3), 5061);
    ck_assert_uint_eq(crc16_slot("hello", 5), 866);
    ck_assert_uint_eq(crc16_slot("{user1000}.following", 20), 3443);
    ck_assert_uint_eq(crc16_slot("foo{}{bar}", 10), 8363);    /* empty tag: whole key */
    ck_assert_uint_eq(crc16_slot("foo{{bar}}zap", 13), 4015); /* tag "{bar" */
    ck_assert_uint_eq(crc16_slot("foo{bar}{zap}", 13), 5061); /* first tag: "bar" */
    ck_assert_uint_eq(crc16_slot("app", 3), 6805);
    ck_assert_uint_eq(crc16_slot("db1:logs:app:{app}:info", 23), 6805);
}
END_TEST

static const char *const prefixes[] = {"logs:app:", "wrapp:", "wrapp:", NULL};

static void check_key(const char *pre, int db, const char *tag, const char *key, const char *want)
{
    char out[256];
    int n = cluster_key(pre, db, tag, prefixes, key, strlen(key), out, sizeof(out));

    ck_assert_int_eq(n, (int)strlen(want));
    ck_assert_mem_eq(out, want, strlen(want));
}

START_TEST(cluster_keys_get_db_prefix_and_stream_tag)
{
    check_key("db", 1, "app", "logs:app:app:info", "db1:logs:app:{app}:info");
    check_key("db", 2, "app", "wrapp:app:hits", "db2:wrapp:{app}:hits");
    check_key("db", 3, "svc", "wrapp:svc:core:1-2:0", "db3:wrapp:{svc}:core:1-2:0");
    check_key("", 1, "svc", "logs:app:svc:info", "logs:app:{svc}:info");
    check_key("db", 1, "svc", "other:svc", "db1:other:{svc}");                 /* a segment */
    check_key("db", 1, "svc", "logs:app:svcx:info", "db1:logs:app:svcx:info"); /* no tag */
    check_key("db", 5, "app", "wrapp:{x}:control", "db5:wrapp:{x}:control");   /* tagged */
}
END_TEST

START_TEST(cluster_key_refuses_small_buffers)
{
    char out[8];

    ck_assert_int_eq(
        cluster_key("db", 1, "app", prefixes, "logs:app:app:info", 17, out, sizeof(out)),
        -ENAMETOOLONG);
}
END_TEST

START_TEST(cluster_knows_where_keys_are)
{
    const char *xadd[] = {"XADD", "k", "*", "message", "m"};
    const char *xread[] = {"XREAD", "BLOCK", "0", "STREAMS", "a", "b", "$", "$"};
    const char *ping[] = {"PING"};
    const char *unlink[] = {"UNLINK", "a", "b", "c"};
    size_t l5[] = {4, 1, 1, 7, 1}, l8[] = {5, 5, 1, 7, 1, 1, 1, 1}, l1[] = {4}, l4[] = {6, 1, 1, 1};
    int first;

    ck_assert_int_eq(cluster_key_args(5, xadd, l5, &first), 1);
    ck_assert_int_eq(first, 1);
    ck_assert_int_eq(cluster_key_args(8, xread, l8, &first), 2);
    ck_assert_int_eq(first, 4);
    ck_assert_int_eq(cluster_key_args(1, ping, l1, &first), 0);
    ck_assert_int_eq(cluster_key_args(4, unlink, l4, &first), 3);
}
END_TEST

START_TEST(cluster_parses_redirections)
{
    char host[64];
    unsigned slot;
    bool is_ask;
    int port;
    const char *moved = "MOVED 3999 127.0.0.1:6381", *ask = "ASK 12 ::1:7000";

    ck_assert_int_eq(
        cluster_parse_redirect(moved, strlen(moved), &is_ask, &slot, host, sizeof(host), &port), 0);
    ck_assert(!is_ask);
    ck_assert_uint_eq(slot, 3999);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_int_eq(port, 6381);
    ck_assert_int_eq(
        cluster_parse_redirect(ask, strlen(ask), &is_ask, &slot, host, sizeof(host), &port), 0);
    ck_assert(is_ask);
    ck_assert_str_eq(host, "::1");
    ck_assert_int_eq(port, 7000);
    ck_assert_int_eq(
        cluster_parse_redirect("MOVED 99999 h:1", 15, &is_ask, &slot, host, sizeof(host), &port),
        -EINVAL);
    ck_assert_int_eq(cluster_parse_redirect("ERR x", 5, &is_ask, &slot, host, sizeof(host), &port),
                     -EINVAL);
}
END_TEST

START_TEST(cluster_map_from_cluster_slots)
{
    redisReply *rep = reply_of("*2\r\n"
                               "*3\r\n:0\r\n:5460\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$2\r\nid\r\n"
                               "*4\r\n:5461\r\n:16383\r\n*2\r\n$0\r\n\r\n:7001\r\n"
                               "*2\r\n$9\r\n127.0.0.1\r\n:7002\r\n");
    struct cluster_map *m = NULL;
    const char *host;
    int port;

    ck_assert_int_eq(cluster_map_parse(rep, "seed", &m), 0);
    ck_assert_int_eq(cluster_map_lookup(m, 100, &host, &port), 0);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_int_eq(port, 7000);
    ck_assert_int_eq(cluster_map_lookup(m, 16383, &host, &port), 0);
    ck_assert_str_eq(host, "seed"); /* the node did not know its address */
    ck_assert_int_eq(port, 7001);
    cluster_map_free(m);
    freeReplyObject(rep);
    rep = reply_of("*1\r\n*2\r\n:0\r\n:1\r\n");
    ck_assert_int_eq(cluster_map_parse(rep, "seed", &m), -EPROTO);
    freeReplyObject(rep);
}
END_TEST

START_TEST(sentinel_reads_addresses_and_roles)
{
    redisReply *rep = reply_of("*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6380\r\n");
    char host[64];
    int port;

    ck_assert_int_eq(sentinel_parse_addr(rep, host, sizeof(host), &port), 0);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_int_eq(port, 6380);
    freeReplyObject(rep);
    rep = reply_of("*-1\r\n");
    ck_assert_int_eq(sentinel_parse_addr(rep, host, sizeof(host), &port), -ENOENT);
    freeReplyObject(rep);
    rep = reply_of("*2\r\n$1\r\nh\r\n$5\r\n70000\r\n");
    ck_assert_int_eq(sentinel_parse_addr(rep, host, sizeof(host), &port), -EPROTO);
    freeReplyObject(rep);
    rep = reply_of("*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
    ck_assert(sentinel_is_master(rep));
    freeReplyObject(rep);
    rep = reply_of("*5\r\n$5\r\nslave\r\n$1\r\nh\r\n:1\r\n$9\r\nconnected\r\n:0\r\n");
    ck_assert(!sentinel_is_master(rep));
    freeReplyObject(rep);
}
END_TEST

START_TEST(rconn_parses_sentinel_and_cluster_urls)
{
    struct rconn_target t = {.port = 6379, .db = 1};

    ck_assert_int_eq(rconn_parse_url("redis-sentinel://u:p%40w@s1:26380,s2/mymaster?db=3&"
                                     "sentinel_user=su&sentinel_password=sp",
                                     &t),
                     0);
    ck_assert_int_eq(t.mode, RCONN_SENTINEL);
    ck_assert_uint_eq(t.n_nodes, 2);
    ck_assert_str_eq(t.nodes[0].host, "s1");
    ck_assert_int_eq(t.nodes[0].port, 26380);
    ck_assert_int_eq(t.nodes[1].port, 26379);
    ck_assert_str_eq(t.master, "mymaster");
    ck_assert_str_eq(t.user, "u");
    ck_assert_str_eq(t.pass, "p@w");
    ck_assert_str_eq(t.sentinel_user, "su");
    ck_assert_str_eq(t.sentinel_pass, "sp");
    ck_assert_int_eq(t.db, 3);
    rconn_target_fini(&t);
    t = (struct rconn_target){.db = 1};
    ck_assert_int_eq(rconn_parse_url("redis-cluster://a:7000,b:7001,c?db_prefix=x", &t), 0);
    ck_assert_int_eq(t.mode, RCONN_CLUSTER);
    ck_assert_uint_eq(t.n_nodes, 3);
    ck_assert_int_eq(t.nodes[2].port, 6379);
    ck_assert_str_eq(t.db_prefix, "x");
    rconn_target_fini(&t);
    t = (struct rconn_target){.db = 1};
    ck_assert_int_eq(rconn_parse_url("redis-sentinel://s1:26379", &t), -EINVAL); /* no name */
    rconn_target_fini(&t);
    t = (struct rconn_target){.db = 1};
    ck_assert_int_eq(rconn_parse_url("redis-cluster://a/1", &t), -EINVAL);
    rconn_target_fini(&t);
    t = (struct rconn_target){.db = 1};
    ck_assert_int_eq(rconn_parse_url("redis-cluster://a?db=1&sentinel_user=x", &t), -EINVAL);
    rconn_target_fini(&t);
}
END_TEST

Suite *cluster_suite(void)
{
    Suite *s = suite_create("cluster");
    TCase *tc = tcase_create("cluster");

    tcase_add_test(tc, crc16_and_slots_match_the_cluster_spec);
    tcase_add_test(tc, cluster_keys_get_db_prefix_and_stream_tag);
    tcase_add_test(tc, cluster_key_refuses_small_buffers);
    tcase_add_test(tc, cluster_knows_where_keys_are);
    tcase_add_test(tc, cluster_parses_redirections);
    tcase_add_test(tc, cluster_map_from_cluster_slots);
    tcase_add_test(tc, sentinel_reads_addresses_and_roles);
    tcase_add_test(tc, rconn_parses_sentinel_and_cluster_urls);
    suite_add_tcase(s, tc);
    return s;
}

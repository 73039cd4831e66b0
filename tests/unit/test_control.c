// SPDX-License-Identifier: MIT
/* The control commands' grammar (socket and Redis share it). */
#include "control.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

static bool parse(const char *text, struct trace_request *r)
{
    char line[CONTROL_LINE_MAX];

    snprintf(line, sizeof(line), "%s", text);
    *r = (struct trace_request){.reply_fd = -1};
    return control_parse(line, r);
}

START_TEST(control_parse_takes_snapshot_commands_only)
{
    struct trace_request r;

    ck_assert(parse("snapshot\n", &r));
    ck_assert(!r.has_core && r.pid == 0);
    ck_assert(parse("snapshot core", &r));
    ck_assert(r.has_core && r.pid == 0);
    ck_assert(parse("  snapshot  pid 42\tcore\r\n", &r));
    ck_assert(r.has_core && r.pid == 42);
    /* Anything else is refused, whole. */
    ck_assert(!parse("", &r));
    ck_assert(!parse("rm -rf /", &r));
    ck_assert(!parse("snapshot now", &r));
    ck_assert(!parse("snapshot pid", &r));
    ck_assert(!parse("snapshot pid 0", &r));
    ck_assert(!parse("snapshot pid -3", &r));
    ck_assert(!parse("snapshot pid 12x", &r));
    ck_assert(!parse("SNAPSHOT", &r));
}
END_TEST

Suite *control_suite(void)
{
    Suite *s = suite_create("control");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, control_parse_takes_snapshot_commands_only);
    suite_add_tcase(s, tc);
    return s;
}

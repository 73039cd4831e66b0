// SPDX-License-Identifier: MIT
/*
 * Unit test runner: one Check suite per module, every test forked, with
 * CK_DEFAULT_TIMEOUT. Exit status 0 only if every test passed.
 */
#include "unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int saved_stderr = -1;
static int capture_fd = -1;

void unit_stderr_begin(void)
{
    capture_fd = memfd_create("stderr", MFD_CLOEXEC);
    ck_assert_int_ge(capture_fd, 0);
    saved_stderr = dup(STDERR_FILENO);
    dup2(capture_fd, STDERR_FILENO);
}

const char *unit_stderr_end(void)
{
    static char buf[65536];
    ssize_t n = pread(capture_fd, buf, sizeof(buf) - 1, 0);

    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    close(capture_fd);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

const char *unit_tmpdir(void)
{
    static char dir[] = "/tmp/wrapp-unit-XXXXXX";

    strcpy(dir, "/tmp/wrapp-unit-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    return dir;
}

void unit_write_file(const char *dir, const char *name, const char *text)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    int failed;

    srunner_add_suite(sr, cli_suite());
    srunner_add_suite(sr, spawn_suite());
    srunner_add_suite(sr, users_suite());
    srunner_add_suite(sr, signame_suite());
    srunner_add_suite(sr, tree_suite());
    srunner_add_suite(sr, loop_suite());
    srunner_add_suite(sr, log_suite());
    srunner_add_suite(sr, lines_suite());
    srunner_add_suite(sr, marker_suite());
    srunner_add_suite(sr, spool_suite());
    srunner_add_suite(sr, record_suite());
    srunner_add_suite(sr, rconn_suite());
    srunner_add_suite(sr, pidmap_suite());
    srunner_add_suite(sr, control_suite());
    srunner_add_suite(sr, unwind_suite());
    srunner_add_suite(sr, report_suite());
    srunner_add_suite(sr, procinfo_suite());
    srunner_add_suite(sr, core_suite());
    srunner_add_suite(sr, coreup_suite());
    srunner_add_suite(sr, cluster_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

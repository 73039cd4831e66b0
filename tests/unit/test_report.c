// SPDX-License-Identifier: MIT
/*
 * report and procinfo: a crash built by hand (two threads, frames with and
 * without names and lines) turned into JSON that is parsed back, the text,
 * the saved files and their retention; procinfo on a real child process,
 * this process's threads and its SigCgt, si_code names and maps lines.
 */
#include "cJSON.h"
#include "fdio.h"
#include "procinfo.h"
#include "report.h"
#include "strv.h"
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define T0 1795391999123456ULL /* 2026-11-22T23:59:59.123456Z */

static char exe[] = "/usr/bin/app", bid[] = "abcd", host[] = "host", stream[] = "app";
static char sym1[] = "crash_null", sym2[] = "level2", src[] = "/src/app.c";
static char arg0[] = "app", arg1[] = "--flag", line0[] = "out: hello", line1[] = "err: oops";
static char *argv_[] = {arg0, arg1, NULL};
static char *lines_[] = {line0, line1};
static const char *const regnames[] = {"rip", "rsp"};
static struct crash_frame frames0[2], frames1[1];
static struct crash_thread threads_[2];
static struct crash_map maps_[2];
static struct crash_module modules_[1];

/* Two threads: the crashed one with a named frame (file:line) and an
 * anonymous one; a second with one frame, cut, and an unwind error. */
static struct crash make_crash(void)
{
    frames0[0] = (struct crash_frame){.pc = 0x55d0c0de1139,
                                      .sp = 0x7ffc1000,
                                      .symbol = sym1,
                                      .sym_off = 0x10,
                                      .module = exe,
                                      .build_id = bid,
                                      .module_off = 0x1139,
                                      .file = src,
                                      .line = 12};
    frames0[1] = (struct crash_frame){.pc = 0xdeadbeef, .sp = 0x7ffc1040};
    frames1[0] = (struct crash_frame){.pc = 0x7f0000001000, .sp = 0x7ff0, .symbol = sym2};
    threads_[0] = (struct crash_thread){
        .tid = 42,
        .comm = "app",
        .state = 'R',
        .is_crashing = true,
        .regs = {.n = 2, .names = regnames, .v = {0x55d0c0de1139, 0x7ffc1000}},
        .frames = frames0,
        .n_frames = 2,
        .unwinder = "libunwind"};
    threads_[1] = (struct crash_thread){.tid = 43,
                                        .comm = "worker",
                                        .state = 'S',
                                        .frames = frames1,
                                        .n_frames = 1,
                                        .is_truncated = true,
                                        .unwind_error = "no unwind info",
                                        .unwinder = "libdw"};
    maps_[0] = (struct crash_map){
        .start = 0x55d0c0de0000, .end = 0x55d0c0de2000, .offset = 0, .perms = "r-xp", .path = exe};
    maps_[1] = (struct crash_map){.start = 0x7ffc0000, .end = 0x7ffd0000, .perms = "rw-p"};
    modules_[0] = (struct crash_module){.path = exe, .build_id = bid, .base = 0x55d0c0de0000};
    return (struct crash){.pid = 42,
                          .tid = 42,
                          .ppid = 1,
                          .sig = SIGSEGV,
                          .si_code = SEGV_MAPERR,
                          .addr = 0,
                          .time_us = T0,
                          .uptime_s = 1.234,
                          .exe = exe,
                          .build_id = bid,
                          .argv = argv_,
                          .stream = stream,
                          .hostname = host,
                          .threads = threads_,
                          .n_threads = 2,
                          .maps = maps_,
                          .n_maps = 2,
                          .modules = modules_,
                          .n_modules = 1,
                          .last_lines = lines_,
                          .n_last_lines = 2,
                          .stop_us = 100,
                          .unwind_us = 200,
                          .total_us = 400};
}

static const char *jstr(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    ck_assert_msg(cJSON_IsString(v), "%s is not a string", name);
    return v->valuestring;
}

static double jnum(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    ck_assert_msg(cJSON_IsNumber(v), "%s is not a number", name);
    return v->valuedouble;
}

static bool has(const cJSON *o, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(o, name) != NULL;
}

static const cJSON *item(const cJSON *o, const char *name, int i)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, name);

    ck_assert_msg(cJSON_IsArray(a), "%s is not an array", name);
    return cJSON_GetArrayItem(a, i);
}

START_TEST(report_json_has_every_field_of_the_schema)
{
    struct crash c = make_crash();
    char *json = NULL;
    cJSON *root;
    const cJSON *sig, *t0, *t1, *f0, *f1, *m;

    ck_assert_int_eq(report_json(&c, &json), 0);
    ck_assert_ptr_nonnull(strstr(json, "\"time_us\":1795391999123456,"));
    root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    ck_assert_double_eq(jnum(root, "version"), 1);
    ck_assert_str_eq(jstr(root, "time"), "2026-11-22T23:59:59.123456Z");
    ck_assert_double_eq(jnum(root, "pid"), 42);
    ck_assert_double_eq(jnum(root, "ppid"), 1);
    sig = cJSON_GetObjectItemCaseSensitive(root, "signal");
    ck_assert_double_eq(jnum(sig, "number"), SIGSEGV);
    ck_assert_str_eq(jstr(sig, "name"), "SIGSEGV");
    ck_assert_str_eq(jstr(sig, "code_name"), "SEGV_MAPERR");
    ck_assert_str_eq(jstr(sig, "meaning"), "address not mapped to object");
    ck_assert_str_eq(jstr(sig, "addr"), "0x0");
    ck_assert(!has(sig, "sender_pid") && !has(sig, "sender_uid"));
    ck_assert_str_eq(jstr(root, "exe"), "/usr/bin/app");
    ck_assert_str_eq(jstr(root, "build_id"), "abcd");
    ck_assert_str_eq(item(root, "argv", 1)->valuestring, "--flag");
    ck_assert_double_eq_tol(jnum(root, "uptime_s"), 1.234, 1e-9);
    ck_assert_str_eq(jstr(root, "hostname"), "host");
    ck_assert_str_eq(jstr(root, "stream"), "app");
    t0 = item(root, "threads", 0);
    t1 = item(root, "threads", 1);
    ck_assert_str_eq(jstr(t0, "name"), "app");
    ck_assert_str_eq(jstr(t0, "state"), "R");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t0, "crashed")));
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(t0, "truncated")));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(t0, "error")));
    ck_assert_str_eq(jstr(t0, "unwinder"), "libunwind");
    ck_assert_str_eq(jstr(cJSON_GetObjectItemCaseSensitive(t0, "registers"), "rip"),
                     "0x55d0c0de1139");
    f0 = item(t0, "frames", 0);
    ck_assert_str_eq(jstr(f0, "pc"), "0x55d0c0de1139");
    ck_assert_str_eq(jstr(f0, "function"), "crash_null");
    ck_assert_str_eq(jstr(f0, "offset"), "0x10");
    ck_assert_str_eq(jstr(f0, "module"), "/usr/bin/app");
    ck_assert_str_eq(jstr(f0, "module_offset"), "0x1139");
    ck_assert_str_eq(jstr(f0, "build_id"), "abcd");
    ck_assert_str_eq(jstr(f0, "file"), "/src/app.c");
    ck_assert_double_eq(jnum(f0, "line"), 12);
    f1 = item(t0, "frames", 1);
    ck_assert_str_eq(jstr(f1, "sp"), "0x7ffc1040");
    ck_assert(!has(f1, "function") && !has(f1, "offset") && !has(f1, "module") &&
              !has(f1, "build_id") && !has(f1, "file") && !has(f1, "line"));
    ck_assert_str_eq(jstr(t1, "error"), "no unwind info");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t1, "truncated")));
    ck_assert_str_eq(jstr(item(root, "modules", 0), "base"), "0x55d0c0de0000");
    m = item(root, "maps", 1);
    ck_assert_str_eq(jstr(m, "perms"), "rw-p");
    ck_assert_str_eq(jstr(m, "end"), "0x7ffd0000");
    ck_assert(!has(m, "path"));
    ck_assert_double_eq(jnum(root, "maps_total"), 2);
    ck_assert_str_eq(item(root, "last_lines", 1)->valuestring, "err: oops");
    ck_assert_double_eq(jnum(cJSON_GetObjectItemCaseSensitive(root, "timing_us"), "total"), 400);
    cJSON_Delete(root);
    free(json);
}
END_TEST

START_TEST(report_json_caps_maps_names_senders_and_cleans_utf8)
{
    struct crash c = make_crash();
    struct crash_map *many = calloc(600, sizeof(*many));
    char bad[] = "/bin/a\xff";
    char *json = NULL;
    cJSON *root;
    const cJSON *sig;

    for (size_t i = 0; i < 600; i++)
        many[i] = (struct crash_map){.start = i * 4096, .end = i * 4096 + 4096, .perms = "r--p"};
    c.maps = many;
    c.n_maps = 600;
    c.exe = bad;
    c.sig = SIGABRT;
    c.si_code = SI_TKILL;
    c.sender_pid = 42;
    c.sender_uid = 4000000000u;
    ck_assert_int_eq(report_json(&c, &json), 0);
    ck_assert_ptr_nonnull(strstr(json, "\"sender_uid\":4000000000"));
    root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "maps")),
                     REPORT_MAPS_MAX);
    ck_assert_double_eq(jnum(root, "maps_total"), 600);
    ck_assert_str_eq(jstr(root, "exe"), "/bin/a\xef\xbf\xbd");
    sig = cJSON_GetObjectItemCaseSensitive(root, "signal");
    ck_assert_str_eq(jstr(sig, "code_name"), "SI_TKILL");
    ck_assert_double_eq(jnum(sig, "sender_pid"), 42);
    ck_assert(!has(sig, "addr"));
    cJSON_Delete(root);
    free(json);
    free(many);
}
END_TEST

START_TEST(report_text_reads_like_a_backtrace)
{
    struct crash c = make_crash();
    char *text = NULL;
    const char *want = "crash: /usr/bin/app (pid 42) killed by SIGSEGV (SEGV_MAPERR: address not "
                       "mapped to object) at 0x0\n"
                       "thread 42 \"app\" (crashed):\n"
                       "#0  0x000055d0c0de1139 in crash_null+0x10 (/src/app.c:12) from "
                       "/usr/bin/app\n"
                       "#1  0x00000000deadbeef in ??\n"
                       "thread 43 \"worker\":\n"
                       "#0  0x00007f0000001000 in level2\n"
                       "    (truncated at 1 frames)\n"
                       "    (unwind error: no unwind info)\n"
                       "last lines:\n"
                       "  out: hello\n"
                       "  err: oops\n";

    ck_assert_int_eq(report_text(&c, &text), 0);
    ck_assert_str_eq(text, want);
    free(text);
}
END_TEST

/* Long symbol names on every frame of many threads, long last lines. */
START_TEST(report_text_stays_under_its_cap)
{
    struct crash c = make_crash();
    size_t n_threads = _i == 0 ? 40 : 20000;
    struct crash_thread *t = calloc(n_threads, sizeof(*t));
    struct crash_frame *f = calloc(CRASH_FRAMES_MAX, sizeof(*f));
    char *sym = malloc(400), *line = malloc(3000), **lines = calloc(500, sizeof(char *));
    char *text = NULL;

    memset(sym, 's', 399);
    sym[399] = '\0';
    memset(line, 'l', 2999);
    line[2999] = '\0';
    for (size_t i = 0; i < CRASH_FRAMES_MAX; i++)
        f[i] = (struct crash_frame){.pc = i, .symbol = sym, .module = exe};
    for (size_t i = 0; i < n_threads; i++)
        t[i] = (struct crash_thread){.tid = (pid_t)(100 + i),
                                     .comm = "w",
                                     .frames = f,
                                     .n_frames = _i == 0 ? CRASH_FRAMES_MAX : 0};
    t[0].is_crashing = true;
    for (size_t i = 0; i < 500; i++)
        lines[i] = line;
    c.threads = t;
    c.n_threads = n_threads;
    c.last_lines = lines;
    c.n_last_lines = 500;
    ck_assert_int_eq(report_text(&c, &text), 0);
    ck_assert_uint_lt(strlen(text), REPORT_TEXT_MAX);
    ck_assert_ptr_nonnull(strstr(text, "last lines (the newest "));
    ck_assert_ptr_nonnull(strstr(text, "...\n"));
    if (_i == 0) {
        ck_assert_ptr_nonnull(strstr(text, "frame lists shortened"));
        ck_assert_ptr_nonnull(strstr(text, "more frames not shown"));
        ck_assert_ptr_nonnull(strstr(text, "thread 139 \"w\":"));
    } else {
        ck_assert_ptr_nonnull(strstr(text, "threads not shown in full"));
    }
    free(text);
    free(t);
    free(f);
    free(sym);
    free(line);
    free(lines);
}
END_TEST

static mode_t mode_of(const char *dir, const char *name)
{
    char path[4096];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    ck_assert_int_eq(lstat(path, &st), 0);
    return st.st_mode & 07777;
}

START_TEST(report_save_writes_private_files_exclusively)
{
    struct crash c = make_crash();
    char dir[2048], file[4096], *path = NULL, *again = (char *)1, *text = NULL;
    size_t len;

    snprintf(dir, sizeof(dir), "%s/a/b", unit_tmpdir());
    umask(0);
    ck_assert_int_eq(report_save(dir, 10, &c, "{\"version\":1}", "text\n", &path), 0);
    ck_assert_str_eq(strrchr(path, '/'), "/20261122T235959Z-42");
    ck_assert_uint_eq(mode_of(dir, ".."), 0700);
    ck_assert_uint_eq(mode_of(dir, "."), 0700);
    ck_assert_uint_eq(mode_of(path, "."), 0700);
    ck_assert_uint_eq(mode_of(path, REPORT_JSON_NAME), 0600);
    ck_assert_uint_eq(mode_of(path, REPORT_TEXT_NAME), 0600);
    snprintf(file, sizeof(file), "%s/%s", path, REPORT_TEXT_NAME);
    ck_assert_int_eq(fdio_read_file(file, 100, &text, &len), 0);
    ck_assert_str_eq(text, "text\n");
    /* The same second and pid again (a pid namespace reuses pids): a
     * directory of its own, and the first report is intact. */
    ck_assert_int_eq(report_save(dir, 10, &c, "{}", "other\n", &again), 0);
    ck_assert_str_eq(strrchr(again, '/'), "/20261122T235959Z-42.01");
    free(again);
    free(text);
    ck_assert_int_eq(fdio_read_file(file, 100, &text, &len), 0);
    ck_assert_str_eq(text, "text\n");
    ck_assert_int_eq(report_save("", 10, &c, "{}", "x", &again), -EINVAL);
    free(text);
    free(path);
}
END_TEST

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    const struct dirent *e;
    size_t n = 0;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

START_TEST(report_save_keeps_only_the_newest_reports)
{
    struct crash c = make_crash();
    const char *dir = unit_tmpdir();
    char other[4096], *path = NULL;
    struct stat st;

    unit_write_file(dir, "notes.txt", "mine\n");
    snprintf(other, sizeof(other), "%s/20000101T000000Z-1x", dir);
    ck_assert_int_eq(mkdir(other, 0755), 0);
    for (int i = 0; i < 5; i++) {
        c.time_us = T0 + (uint64_t)i * 1000000;
        ck_assert_int_eq(report_save(dir, 3, &c, "{}", "t", &path), 0);
        free(path);
    }
    ck_assert_uint_eq(count_entries(dir), 5);
    snprintf(other, sizeof(other), "%s/20261122T235959Z-42", dir);
    ck_assert_int_eq(stat(other, &st), -1);
    snprintf(other, sizeof(other), "%s/20261123T000000Z-42", dir);
    ck_assert_int_eq(stat(other, &st), -1);
    for (int s = 1; s <= 3; s++) {
        snprintf(other, sizeof(other), "%s/20261123T00000%dZ-42/report.json", dir, s);
        ck_assert_int_eq(stat(other, &st), 0);
    }
    snprintf(other, sizeof(other), "%s/notes.txt", dir);
    ck_assert_int_eq(stat(other, &st), 0);
    snprintf(other, sizeof(other), "%s/20000101T000000Z-1x", dir);
    ck_assert_int_eq(stat(other, &st), 0);
}
END_TEST

START_TEST(report_summary_lists_the_crashed_threads_top_frame)
{
    struct crash c = make_crash();
    struct report_summary s;
    char *json = NULL;
    static const char mine[] =
        "{\"time\":\"t\",\"pid\":7,\"signal\":{\"name\":\"SIGBUS\"},\"exe\":\"/x\",\"threads\":["
        "{\"crashed\":false,\"frames\":[{\"function\":\"idle\"}]},"
        "{\"crashed\":true,\"frames\":[{\"function\":\"boom\"},{\"function\":\"main\"}]}]}";

    ck_assert_int_eq(report_json(&c, &json), 0);
    ck_assert_int_eq(report_summary(json, strlen(json), &s), 0);
    ck_assert_str_eq(s.time, "2026-11-22T23:59:59.123456Z");
    ck_assert_int_eq(s.pid, 42);
    ck_assert_str_eq(s.signal, "SIGSEGV");
    ck_assert_str_eq(s.exe, "/usr/bin/app");
    ck_assert_str_eq(s.function, "crash_null");
    ck_assert_int_eq(report_summary(mine, sizeof(mine) - 1, &s), 0);
    ck_assert_str_eq(s.function, "boom");
    ck_assert_str_eq(s.signal, "SIGBUS");
    ck_assert_int_eq(s.pid, 7);
    free(json);
}
END_TEST

START_TEST(report_summary_survives_garbage)
{
    struct report_summary s;
    static const char *const bad[] = {"", "not json", "[1,2]", "{\"pid\":", "\"str\"", "null"};
    static const char odd[] = "{\"pid\":-5,\"time\":3,\"signal\":\"x\",\"exe\":\"a\\u0001b\","
                              "\"threads\":[1,{\"frames\":{}}]}";
    char *big = malloc(1000);
    size_t n;

    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        ck_assert_int_eq(report_summary(bad[i], strlen(bad[i]), &s), -EINVAL);
    ck_assert_int_eq(report_summary(odd, sizeof(odd) - 1, &s), 0);
    ck_assert_int_eq(s.pid, 0);
    ck_assert_str_eq(s.time, "");
    ck_assert_str_eq(s.signal, "");
    ck_assert_str_eq(s.exe, "a?b");
    ck_assert_str_eq(s.function, "");
    /* A long exe of 3-byte characters is cut before a partial one. */
    n = (size_t)snprintf(big, 1000, "{\"exe\":\"");
    for (int i = 0; i < 120; i++)
        n += (size_t)snprintf(big + n, 1000 - n, "\xe2\x82\xac");
    n += (size_t)snprintf(big + n, 1000 - n, "\"}");
    ck_assert_int_eq(report_summary(big, n, &s), 0);
    ck_assert_uint_eq(strlen(s.exe), 255);
    free(big);
}
END_TEST

/* ---- procinfo ------------------------------------------------------ */

static void free_filled(struct crash *c)
{
    free(c->exe);
    strv_free(c->argv);
    free(c->hostname);
    for (size_t i = 0; i < c->n_maps; i++)
        free(c->maps[i].path);
    free(c->maps);
}

/* /bin/sleep 30, returned once it has exec'd (a CLOEXEC pipe closes). */
static pid_t spawn_sleep(void)
{
    int pfd[2];
    char b;
    pid_t pid;

    ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execl("/bin/sleep", "sleep", "30", (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    ck_assert_int_eq(read(pfd[0], &b, 1), 0);
    close(pfd[0]);
    return pid;
}

START_TEST(procinfo_fill_reads_a_child)
{
    struct crash c = {0};
    struct crash_thread t = {0};
    pid_t pid = spawn_sleep(), *tids = NULL;
    char name[256];
    size_t n = 0;
    bool has_exe_map = false;

    ck_assert_int_eq(procinfo_fill(pid, &c), 0);
    ck_assert_ptr_nonnull(strstr(c.exe, "sleep"));
    ck_assert_str_eq(c.argv[0], "sleep");
    ck_assert_str_eq(c.argv[1], "30");
    ck_assert_ptr_null(c.argv[2]);
    ck_assert_int_eq(c.ppid, getpid());
    ck_assert(c.uptime_s >= 0 && c.uptime_s < 30);
    gethostname(name, sizeof(name));
    ck_assert_str_eq(c.hostname, name);
    ck_assert_uint_gt(c.n_maps, 3);
    for (size_t i = 0; i < c.n_maps; i++)
        has_exe_map |= c.maps[i].path && strcmp(c.maps[i].path, c.exe) == 0;
    ck_assert(has_exe_map);
    ck_assert_int_eq(procinfo_tids(pid, &tids, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(tids[0], pid);
    ck_assert_int_eq(procinfo_thread(pid, pid, &t), 0);
    ck_assert_str_eq(t.comm, "sleep");
    ck_assert_int_eq(t.tid, pid);
    ck_assert(t.state && strchr("RSD", t.state)); /* D: briefly, while it execs */
    free(tids);
    free_filled(&c);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    /* Gone: errors, nothing half-filled, no crash. */
    c = (struct crash){0};
    ck_assert_int_eq(procinfo_fill(pid, &c), -ENOENT);
    ck_assert_ptr_null(c.exe);
    ck_assert_ptr_null(c.argv);
    ck_assert_uint_eq(c.n_maps, 0);
    free_filled(&c);
    ck_assert_int_eq(procinfo_tids(pid, &tids, &n), -ENOENT);
    ck_assert_int_eq(procinfo_thread(pid, pid, &t), -ENOENT);
    ck_assert_str_eq(t.comm, "");
}
END_TEST

static void *worker(void *arg)
{
    char b;

    pthread_setname_np(pthread_self(), "worker");
    (void)!write(((int *)arg)[1], "x", 1);
    (void)!read(((int *)arg)[2], &b, 1);
    return NULL;
}

START_TEST(procinfo_lists_threads_with_names)
{
    int fds[4];
    pthread_t th;
    pid_t *tids = NULL;
    size_t n = 0;
    struct crash_thread t = {0};
    char b;

    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(pipe(fds + 2), 0);
    ck_assert_int_eq(pthread_create(&th, NULL, worker, fds), 0);
    ck_assert_int_eq(read(fds[0], &b, 1), 1);
    ck_assert_int_eq(procinfo_tids(getpid(), &tids, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(tids[0], getpid());
    ck_assert_int_gt(tids[1], tids[0]);
    ck_assert_int_eq(procinfo_thread(getpid(), tids[1], &t), 0);
    ck_assert_str_eq(t.comm, "worker");
    ck_assert_int_eq(t.tid, tids[1]);
    ck_assert(t.state >= 'A' && t.state <= 'Z');
    (void)!write(fds[3], "x", 1);
    pthread_join(th, NULL);
    free(tids);
}
END_TEST

static void on_usr1(int sig)
{
    (void)sig;
}

START_TEST(procinfo_handles_reads_sigcgt)
{
    struct sigaction sa = {.sa_handler = on_usr1};

    ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
    signal(SIGUSR2, SIG_DFL);
    ck_assert(procinfo_handles(getpid(), SIGUSR1));
    ck_assert(!procinfo_handles(getpid(), SIGUSR2));
    ck_assert(!procinfo_handles(getpid(), 0));
    ck_assert(!procinfo_handles(getpid(), 65));
    ck_assert(!procinfo_handles(0x3fffffff, SIGUSR1));
}
END_TEST

/* Over PROCINFO_MAPS_MAX mappings: alternating protections split one area. */
START_TEST(procinfo_fill_caps_the_maps)
{
    size_t pages = 2 * PROCINFO_MAPS_MAX + 100, pg = (size_t)sysconf(_SC_PAGESIZE);
    char *area = mmap(NULL, pages * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct crash c = {0};

    ck_assert_ptr_ne(area, MAP_FAILED);
    for (size_t i = 0; i < pages; i += 2)
        ck_assert_int_eq(mprotect(area + i * pg, pg, PROT_READ | PROT_WRITE), 0);
    ck_assert_int_eq(procinfo_fill(getpid(), &c), 0);
    ck_assert_uint_eq(c.n_maps, PROCINFO_MAPS_MAX);
    free_filled(&c);
    munmap(area, pages * pg);
}
END_TEST

START_TEST(procinfo_names_si_codes)
{
    const char *meaning = NULL;

    ck_assert_str_eq(procinfo_si_code_name(SIGSEGV, SEGV_MAPERR, &meaning), "SEGV_MAPERR");
    ck_assert_str_eq(meaning, "address not mapped to object");
    ck_assert_str_eq(procinfo_si_code_name(SIGSEGV, SEGV_ACCERR, NULL), "SEGV_ACCERR");
    ck_assert_str_eq(procinfo_si_code_name(SIGSEGV, SEGV_PKUERR, NULL), "SEGV_PKUERR");
    ck_assert_str_eq(procinfo_si_code_name(SIGBUS, BUS_ADRALN, NULL), "BUS_ADRALN");
    ck_assert_str_eq(procinfo_si_code_name(SIGBUS, BUS_MCEERR_AO, NULL), "BUS_MCEERR_AO");
    ck_assert_str_eq(procinfo_si_code_name(SIGILL, ILL_BADSTK, NULL), "ILL_BADSTK");
    ck_assert_str_eq(procinfo_si_code_name(SIGFPE, FPE_INTDIV, &meaning), "FPE_INTDIV");
    ck_assert_str_eq(meaning, "integer divide by zero");
    ck_assert_str_eq(procinfo_si_code_name(SIGFPE, FPE_FLTUNK, NULL), "FPE_FLTUNK");
    ck_assert_str_eq(procinfo_si_code_name(SIGTRAP, TRAP_HWBKPT, NULL), "TRAP_HWBKPT");
    ck_assert_str_eq(procinfo_si_code_name(SIGSYS, 1, NULL), "SYS_SECCOMP");
    ck_assert_str_eq(procinfo_si_code_name(SIGTERM, SI_USER, &meaning), "SI_USER");
    ck_assert_str_eq(meaning, "sent by kill");
    ck_assert_str_eq(procinfo_si_code_name(SIGABRT, SI_TKILL, &meaning), "SI_TKILL");
    ck_assert_str_eq(meaning, "sent by tkill/raise");
    ck_assert_str_eq(procinfo_si_code_name(SIGSEGV, SI_KERNEL, NULL), "SI_KERNEL");
    ck_assert_str_eq(procinfo_si_code_name(SIGUSR1, SI_QUEUE, NULL), "SI_QUEUE");
    ck_assert_ptr_null(procinfo_si_code_name(SIGSEGV, 99, &meaning));
    ck_assert_ptr_null(meaning);
    ck_assert_ptr_null(procinfo_si_code_name(SIGTERM, SEGV_MAPERR, NULL));
    ck_assert_ptr_null(procinfo_si_code_name(SIGSEGV, -99, NULL));
}
END_TEST

static int parse_line(const char *line, struct crash_map *m)
{
    return procinfo_parse_maps_line(line, strlen(line), m);
}

START_TEST(procinfo_parses_maps_lines)
{
    struct crash_map m;
    static const char *const bad[] = {
        "",
        "\n",
        "zz-10 r-xp 0 08:01 1 /x",
        "20-10 r-xp 0 08:01 1 /x",
        "10000000000000000-20000000000000000 r-xp 0 08:01 1",
        "10-20 rwzp 0 08:01 1",
        "10-20 r-xp 0 08:01",
        "10-20 r-xp 0 0801 1",
        "10-20 r-xp 0 08:01 1x /x",
        "10-20 r-x",
        "10-20 r-xp 0 08:01 1 /a\nb",
    };

    ck_assert_int_eq(parse_line("559a4c2b1000-559a4c2b3000 r-xp 00002000 08:01 1234567   "
                                "/usr/bin/app\n",
                                &m),
                     0);
    ck_assert_uint_eq(m.start, 0x559a4c2b1000);
    ck_assert_uint_eq(m.end, 0x559a4c2b3000);
    ck_assert_uint_eq(m.offset, 0x2000);
    ck_assert_str_eq(m.perms, "r-xp");
    ck_assert_str_eq(m.path, "/usr/bin/app");
    free(m.path);
    ck_assert_int_eq(parse_line("7ffd1000-7ffd2000 rw-p 00000000 00:00 0 \n", &m), 0);
    ck_assert_ptr_null(m.path);
    ck_assert_int_eq(parse_line("7ffd1000-7ffd2000 rw-p 00000000 00:00 0", &m), 0);
    ck_assert_ptr_null(m.path);
    ck_assert_int_eq(parse_line("1-2 ---s 0 fd:1 99 /tmp/a b (deleted)", &m), 0);
    ck_assert_str_eq(m.path, "/tmp/a b (deleted)");
    ck_assert_str_eq(m.perms, "---s");
    free(m.path);
    ck_assert_int_eq(parse_line("ffffffffff600000-ffffffffff601000 --xp 0 00:00 0  [vsyscall]", &m),
                     0);
    ck_assert_str_eq(m.path, "[vsyscall]");
    free(m.path);
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        ck_assert_msg(parse_line(bad[i], &m) == -EINVAL, "accepted \"%s\"", bad[i]);
    ck_assert_int_eq(procinfo_parse_maps_line("10-20 r-xp 0 08:01 1 /a\0b", 24, &m), -EINVAL);
}
END_TEST

Suite *report_suite(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("report");

    tcase_add_test(tc, report_json_has_every_field_of_the_schema);
    tcase_add_test(tc, report_json_caps_maps_names_senders_and_cleans_utf8);
    tcase_add_test(tc, report_text_reads_like_a_backtrace);
    tcase_add_loop_test(tc, report_text_stays_under_its_cap, 0, 2);
    tcase_add_test(tc, report_save_writes_private_files_exclusively);
    tcase_add_test(tc, report_save_keeps_only_the_newest_reports);
    tcase_add_test(tc, report_summary_lists_the_crashed_threads_top_frame);
    tcase_add_test(tc, report_summary_survives_garbage);
    suite_add_tcase(s, tc);
    return s;
}

Suite *procinfo_suite(void)
{
    Suite *s = suite_create("procinfo");
    TCase *tc = tcase_create("procinfo");

    tcase_add_test(tc, procinfo_fill_reads_a_child);
    tcase_add_test(tc, procinfo_lists_threads_with_names);
    tcase_add_test(tc, procinfo_handles_reads_sigcgt);
    tcase_add_test(tc, procinfo_fill_caps_the_maps);
    tcase_add_test(tc, procinfo_names_si_codes);
    tcase_add_test(tc, procinfo_parses_maps_lines);
    suite_add_tcase(s, tc);
    return s;
}

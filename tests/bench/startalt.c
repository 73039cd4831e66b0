// SPDX-License-Identifier: MIT
//
// startalt ROUNDS CMD1 [ARGS...] :: CMD2 [ARGS...] :: ...
// Interleaved start-up benchmark: each round runs every command once, in a
// freshly shuffled order, via fork/execvp/waitpid, timed with
// CLOCK_MONOTONIC from just before fork to just after waitpid.  One untimed
// warm-up round comes first.  Prints one line per command:
// "idx=I median_us=... min_us=... p90_us=... mean_us=... fails=F cmd=...".
// A run that lasts longer than 10 s is killed and counted as a failure.

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CMDS      64
#define MAX_ROUNDS    10000000L
#define RUN_TIMEOUT_S 10

struct command {
    char **argv;
    int64_t *samples;
    long fails;
};

static volatile sig_atomic_t timed_out;
static volatile sig_atomic_t current_child;

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void on_alarm(int sig)
{
    (void)sig;
    timed_out = 1;
    if (current_child > 0)
        kill((pid_t)current_child, SIGKILL);
}

// Splits argv (NULL-terminated) at "::" in place; returns the command count
// or -1 on an empty command or too many commands.
static int split_commands(char **argv, struct command *cmds)
{
    int n = 0;

    cmds[n++].argv = argv;
    for (char **p = argv; *p; p++) {
        if (strcmp(*p, "::") != 0)
            continue;
        *p = NULL;
        if (n == MAX_CMDS)
            return -1;
        cmds[n++].argv = p + 1;
    }
    for (int i = 0; i < n; i++) {
        if (!cmds[i].argv[0])
            return -1;
    }
    return n;
}

// Runs argv once; returns elapsed ns, or -1 if it failed or timed out.
static int64_t run_once(char **argv)
{
    int64_t t0, t1;
    int status;
    pid_t pid, r;

    timed_out = 0;
    alarm(RUN_TIMEOUT_S);
    t0 = now_ns();
    pid = fork();
    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    if (pid < 0) {
        alarm(0);
        return -1;
    }
    current_child = pid;
    if (timed_out) // the alarm fired before current_child was set
        kill(pid, SIGKILL);
    do {
        r = waitpid(pid, &status, 0);
    } while (r < 0 && errno == EINTR);
    t1 = now_ns();
    alarm(0);
    current_child = 0;
    if (r < 0 || timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return t1 - t0;
}

static uint64_t next_random(uint64_t *state)
{
    // xorshift64*: plenty for shuffling the run order.
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 2685821657736338717ULL;
}

static void shuffle(int *order, int n, uint64_t *state)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(next_random(state) % (uint64_t)(i + 1));
        int tmp = order[i];

        order[i] = order[j];
        order[j] = tmp;
    }
}

static void run_rounds(struct command *cmds, int ncmds, long rounds)
{
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    int order[MAX_CMDS];

    for (int i = 0; i < ncmds; i++)
        order[i] = i;
    for (int i = 0; i < ncmds; i++)
        run_once(cmds[i].argv); // warm-up, untimed
    for (long r = 0; r < rounds; r++) {
        shuffle(order, ncmds, &rng);
        for (int k = 0; k < ncmds; k++) {
            struct command *c = &cmds[order[k]];
            int64_t t = run_once(c->argv);

            if (t < 0)
                c->fails++;
            else
                c->samples[r - c->fails] = t;
        }
    }
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

    return (a > b) - (a < b);
}

static void report(int idx, struct command *c, long rounds)
{
    long n = rounds - c->fails;

    printf("idx=%d ", idx);
    if (n == 0) {
        printf("median_us=nan min_us=nan p90_us=nan mean_us=nan");
    } else {
        double sum = 0;

        qsort(c->samples, (size_t)n, sizeof(int64_t), cmp_i64);
        for (long i = 0; i < n; i++)
            sum += (double)c->samples[i];
        printf("median_us=%.2f min_us=%.2f p90_us=%.2f mean_us=%.2f",
               (double)c->samples[n / 2] / 1e3, (double)c->samples[0] / 1e3,
               (double)c->samples[n * 9 / 10] / 1e3, sum / (double)n / 1e3);
    }
    printf(" fails=%ld cmd=", c->fails);
    for (char **p = c->argv; *p; p++)
        printf("%s%s", p == c->argv ? "" : " ", *p);
    printf("\n");
}

static long parse_rounds(const char *s)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(s, &end, 10);
    if (errno || *end || n < 1 || n > MAX_ROUNDS)
        return -1;
    return n;
}

int main(int argc, char **argv)
{
    struct command cmds[MAX_CMDS];
    struct sigaction sa;
    int ncmds, failed = 0;
    long rounds;

    memset(cmds, 0, sizeof(cmds));
    if (argc < 3 || (rounds = parse_rounds(argv[1])) < 0 ||
        (ncmds = split_commands(argv + 2, cmds)) < 0) {
        fprintf(stderr, "usage: %s ROUNDS CMD [ARGS...] [:: CMD [ARGS...]]...\n", argv[0]);
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm; // kills the running command on timeout
    sigaction(SIGALRM, &sa, NULL);
    for (int i = 0; i < ncmds; i++) {
        cmds[i].samples = calloc((size_t)rounds, sizeof(int64_t));
        if (!cmds[i].samples) {
            perror("startalt");
            return 1;
        }
    }
    run_rounds(cmds, ncmds, rounds);
    for (int i = 0; i < ncmds; i++) {
        report(i, &cmds[i], rounds);
        failed |= cmds[i].fails == rounds;
        free(cmds[i].samples);
    }
    return failed ? 1 : 0;
}

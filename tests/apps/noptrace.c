// SPDX-License-Identifier: MIT
/*
 * noptrace CMD [ARG...]: run CMD under a seccomp filter that makes ptrace(2)
 * fail with EPERM, as a locked-down container profile would. For the test
 * of wrapp's fallback to a plain init.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

    if (argc < 2 || !ctx) {
        fprintf(stderr, "usage: noptrace CMD [ARG...]\n");
        return 2;
    }
    if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ptrace), 0) < 0 ||
        seccomp_load(ctx) < 0) {
        fprintf(stderr, "noptrace: cannot load the seccomp filter\n");
        return 1;
    }
    seccomp_release(ctx);
    execvp(argv[1], argv + 1);
    perror("noptrace: exec");
    return 127;
}

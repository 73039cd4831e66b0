// SPDX-License-Identifier: MIT
/*
 * Signal name table (Linux numbering, the same on x86_64 and aarch64 for
 * 1..31 except none: both use the generic numbering).
 */
#include "signame.h"

#include "ascii.h"
#include "decimal.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[32] = {
    [1] = "HUP",   [2] = "INT",     [3] = "QUIT",  [4] = "ILL",     [5] = "TRAP",  [6] = "ABRT",
    [7] = "BUS",   [8] = "FPE",     [9] = "KILL",  [10] = "USR1",   [11] = "SEGV", [12] = "USR2",
    [13] = "PIPE", [14] = "ALRM",   [15] = "TERM", [16] = "STKFLT", [17] = "CHLD", [18] = "CONT",
    [19] = "STOP", [20] = "TSTP",   [21] = "TTIN", [22] = "TTOU",   [23] = "URG",  [24] = "XCPU",
    [25] = "XFSZ", [26] = "VTALRM", [27] = "PROF", [28] = "WINCH",  [29] = "IO",   [30] = "PWR",
    [31] = "SYS",
};

int signame_parse(const char *s)
{
    int r;

    if (ascii_ncase_eq(s, "SIG", 3))
        s += 3;
    r = (int)decimal_parse(s, 1, SIGNAME_MAX);
    if (r > 0)
        return r;
    for (int i = 1; i < 32; i++)
        if (ascii_case_eq(s, names[i]))
            return i;
    if (ascii_case_eq(s, "IOT"))
        return 6;
    if (ascii_case_eq(s, "POLL"))
        return 29;
    if (ascii_ncase_eq(s, "RTMIN", 5)) {
        if (s[5] == '\0')
            return SIGNAME_RTMIN;
        r = s[5] == '+' ? (int)decimal_parse(s + 6, 0, SIGNAME_MAX - SIGNAME_RTMIN) : -EINVAL;
        return r < 0 ? r : SIGNAME_RTMIN + r;
    }
    if (ascii_ncase_eq(s, "RTMAX", 5)) {
        if (s[5] == '\0')
            return SIGNAME_MAX;
        r = s[5] == '-' ? (int)decimal_parse(s + 6, 0, SIGNAME_MAX - SIGNAME_RTMIN) : -EINVAL;
        return r < 0 ? r : SIGNAME_MAX - r;
    }
    return -EINVAL;
}

const char *signame_name(int sig, char *buf)
{
    if (sig > 0 && sig < 32) {
        log_fmt_str(log_fmt_str(buf, "SIG"), names[sig]);
        return buf;
    }
    if (sig >= SIGNAME_RTMIN && sig <= SIGNAME_MAX) {
        log_fmt_int(log_fmt_str(buf, "SIGRTMIN+"), sig - SIGNAME_RTMIN);
        return buf;
    }
    log_fmt_int(log_fmt_str(buf, "SIG"), sig);
    return buf;
}

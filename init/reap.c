// SPDX-License-Identifier: MIT
/*
 * waitpid loop (see reap.h). Bounded by the number of exited children;
 * never blocks.
 */
#include "reap.h"

#include "log.h"
#include "macro.h"

#include <errno.h>
#include <sys/wait.h>

int reap_all(struct reap *r)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid == 0)
            return 0;
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            return errno == ECHILD ? 1 : neg_errno();
        }
        reap_record(r, pid, status);
    }
}

void reap_record(struct reap *r, pid_t pid, int status)
{
    if (pid == r->main_pid) {
        r->has_main_exited = true;
        r->main_status = status;
        return;
    }
    r->n_orphans++;
    if (r->warn_on_reap)
        log_warn("reaped zombie process with pid=%d (status %d)", (int)pid, reap_exit_code(status));
}

int reap_exit_code(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 1;
}

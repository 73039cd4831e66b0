// SPDX-License-Identifier: MIT
/*
 * See filter.h. libseccomp 2.5 exports BPF only to a file descriptor: the
 * program goes through a memfd and is read back.
 */
#include "filter.h"

#include "fdio.h"
#include "macro.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int export_prog(scmp_filter_ctx ctx, struct filter *f)
{
    cleanup_close int fd = memfd_create("wrapp-filter", MFD_CLOEXEC);
    struct stat st;
    struct sock_filter *insns;
    int r;

    if (fd < 0)
        return neg_errno();
    r = seccomp_export_bpf(ctx, fd);
    if (r < 0)
        return r;
    if (fstat(fd, &st) < 0)
        return neg_errno();
    if (st.st_size <= 0 || st.st_size % (off_t)sizeof(*insns) != 0 ||
        st.st_size / (off_t)sizeof(*insns) > BPF_MAXINSNS)
        return -EINVAL;
    insns = malloc((size_t)st.st_size);
    if (!insns)
        return -ENOMEM;
    if (pread(fd, insns, (size_t)st.st_size, 0) != st.st_size) {
        free(insns);
        return -EIO;
    }
    f->prog.filter = insns;
    f->prog.len = (unsigned short)(st.st_size / (off_t)sizeof(*insns));
    return 0;
}

int filter_build(bool trace_exec, struct filter *f)
{
    scmp_filter_ctx ctx;
    int r = 0;

    *f = (struct filter){{0, NULL}};
    if (!trace_exec)
        return 0;
    ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx)
        return -ENOMEM;
    /* The loading child sets no_new_privs itself if it must: never here. */
    if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0)
        r = -EINVAL;
    if (r == 0)
        r = seccomp_rule_add(ctx, SCMP_ACT_TRACE(FILTER_DATA_EXEC), SCMP_SYS(execve), 0);
    if (r == 0)
        r = seccomp_rule_add(ctx, SCMP_ACT_TRACE(FILTER_DATA_EXEC), SCMP_SYS(execveat), 0);
    if (r == 0)
        r = export_prog(ctx, f);
    seccomp_release(ctx);
    return r;
}

bool filter_is_loadable(void)
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[2] = {{0}};

    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
        return true;
    if (syscall(SYS_capget, &h, d) < 0)
        return false;
    return d[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32));
}

int filter_load(const struct filter *f)
{
    if (f->prog.len == 0)
        return 0;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &f->prog) < 0)
        return -errno;
    return 0;
}

void filter_fini(struct filter *f)
{
    free(f->prog.filter);
    *f = (struct filter){{0, NULL}};
}

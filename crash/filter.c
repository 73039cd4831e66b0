// SPDX-License-Identifier: MIT
/*
 * See filter.h. libseccomp 2.5 exports BPF only to a file descriptor: the
 * program goes through a memfd and is read back.
 */
#include "filter.h"

#include "fdio.h"
#include "log.h"
#include "macro.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The secondary ABIs: i386 and x32 on x86_64, arm on aarch64. */
static int add_arches(scmp_filter_ctx ctx)
{
#if defined(__x86_64__)
    static const uint32_t extra[] = {SCMP_ARCH_X86, SCMP_ARCH_X32};
#elif defined(__aarch64__)
    static const uint32_t extra[] = {SCMP_ARCH_ARM};
#else
    static const uint32_t extra[] = {SCMP_ARCH_NATIVE};
#endif
    for (size_t i = 0; i < ARRAY_SIZE(extra); i++) {
        int r = seccomp_arch_add(ctx, extra[i]);
        if (r < 0 && r != -EEXIST)
            return r;
    }
    return 0;
}

static int export_prog(scmp_filter_ctx ctx, struct sock_fprog *prog)
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
    prog->filter = insns;
    prog->len = (unsigned short)(st.st_size / (off_t)sizeof(*insns));
    return 0;
}

static uint32_t action_of(const struct filter_spec *spec, enum policy_action a, int err)
{
    switch (a) {
    case POLICY_ERRNO:
        return SCMP_ACT_ERRNO((uint32_t)err);
    case POLICY_KILL:
        return SCMP_ACT_KILL_PROCESS;
    case POLICY_REPORT:
        return spec->can_trace ? SCMP_ACT_TRACE(FILTER_REPORT | (uint32_t)err)
                               : SCMP_ACT_ERRNO((uint32_t)err);
    case POLICY_LOG:
        return spec->can_trace ? SCMP_ACT_TRACE(FILTER_LOG) : SCMP_ACT_LOG;
    default:
        return SCMP_ACT_ALLOW;
    }
}

/* The policy's rule for nr without conditions, or NULL. */
static const struct policy_rule *rule_for(const struct policy *p, int nr)
{
    for (size_t i = 0; p && i < p->n_rules; i++)
        if (p->rules[i].nr == nr && p->rules[i].n_conds == 0)
            return &p->rules[i];
    return NULL;
}

static int add_policy(scmp_filter_ctx ctx, const struct filter_spec *spec, uint32_t def)
{
    const struct policy *p = spec->policy;

    for (size_t i = 0; i < p->n_rules; i++) {
        const struct policy_rule *r = &p->rules[i];
        struct scmp_arg_cmp cmp[POLICY_CONDS_MAX];
        uint32_t act = action_of(spec, r->action, r->err);
        int e;
        if (act == def)
            continue; /* what the default does anyway (libseccomp refuses it) */
        for (unsigned k = 0; k < r->n_conds; k++)
            cmp[k] = (struct scmp_arg_cmp){.arg = r->conds[k].arg,
                                           .op = (enum scmp_compare)r->conds[k].op,
                                           .datum_a = r->conds[k].op == SCMP_CMP_MASKED_EQ
                                                          ? r->conds[k].mask
                                                          : r->conds[k].value,
                                           .datum_b = r->conds[k].value};
        e = seccomp_rule_add_array(ctx, act, r->nr, r->n_conds, cmp);
        if (e < 0) {
            log_error("seccomp rule for \"%s\" (%s): libseccomp refuses it (%s); remove the "
                      "conflicting rule or its conditions",
                      r->name, policy_action_name(r->action), strerror(-e));
            return -EINVAL;
        }
    }
    return 0;
}

/* execve and execveat stop at the supervisor, unless the policy says
 * otherwise for them. */
static int add_exec(scmp_filter_ctx ctx, const struct filter_spec *spec, uint32_t def)
{
    const int nrs[] = {SCMP_SYS(execve), SCMP_SYS(execveat)};

    for (size_t i = 0; i < ARRAY_SIZE(nrs); i++) {
        const struct policy_rule *r = rule_for(spec->policy, nrs[i]);
        int e;
        if (r && r->action != POLICY_ALLOW)
            continue;
        if (!r && spec->policy && spec->policy->is_set && def != SCMP_ACT_ALLOW)
            continue; /* the default decides, and execs failing by it are not ours */
        e = seccomp_rule_add(ctx, SCMP_ACT_TRACE(FILTER_EXEC), nrs[i], 0);
        if (e < 0 && e != -EEXIST)
            return e;
    }
    return 0;
}

static int build_one(const struct filter_spec *spec, struct sock_fprog *prog)
{
    bool has_policy = spec->policy && spec->policy->is_set;
    uint32_t def =
        has_policy ? action_of(spec, spec->policy->def, spec->policy->def_err) : SCMP_ACT_ALLOW;
    scmp_filter_ctx ctx;
    int r = 0;

    *prog = (struct sock_fprog){0, NULL};
    if (!has_policy && !(spec->trace_exec && spec->can_trace))
        return 0;
    ctx = seccomp_init(def);
    if (!ctx)
        return -ENOMEM;
    /* The child sets no_new_privs itself when it must: never implicitly. */
    if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0)
        r = -EINVAL;
    /* A policy covers the other ABIs of this machine too (32-bit
     * programs); a tracking-only filter lets them be. */
    if (r == 0 && has_policy)
        r = add_arches(ctx);
    else if (r == 0)
        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
    if (r == 0 && has_policy)
        r = add_policy(ctx, spec, def);
    if (r == 0 && spec->trace_exec && spec->can_trace)
        r = add_exec(ctx, spec, def);
    if (r == 0)
        r = export_prog(ctx, prog);
    seccomp_release(ctx);
    return r;
}

int filter_build(const struct filter_spec *spec, struct filter *f)
{
    struct filter_spec plain = {.policy = spec->policy};
    int r;

    *f = (struct filter){.is_policy = spec->policy && spec->policy->is_set};
    f->has_trace = spec->can_trace &&
                   (spec->trace_exec || (spec->policy && policy_needs_tracer(spec->policy)));
    r = build_one(spec, &f->prog);
    if (r == 0 && f->has_trace)
        r = build_one(&plain, &f->untraced);
    if (r < 0)
        filter_fini(f);
    return r;
}

int filter_check(const struct config_seccomp *c)
{
    struct policy p;
    struct filter f;
    struct filter_spec spec = {.policy = &p, .can_trace = true};
    int r = policy_load(c, &p);

    if (r < 0)
        return r;
    r = filter_build(&spec, &f);
    if (r < 0 && r != -EINVAL)
        log_error_errno(r, "seccomp: cannot build the filter");
    filter_fini(&f);
    policy_fini(&p);
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

int filter_load(const struct filter *f, bool with_nnp, bool is_traced)
{
    const struct sock_fprog *prog = is_traced || !f->has_trace ? &f->prog : &f->untraced;

    if (prog->len == 0)
        return 0;
    if (with_nnp && syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -errno;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) < 0)
        return -errno;
    return 0;
}

void filter_fini(struct filter *f)
{
    free(f->prog.filter);
    free(f->untraced.filter);
    *f = (struct filter){.is_policy = false};
}

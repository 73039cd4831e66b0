// SPDX-License-Identifier: MIT
/*
 * Signal setup (see sigs.h). The kernel's 64-bit signal set is used
 * directly (rt_sigprocmask, signalfd4) because glibc's sigset API refuses
 * its reserved signals 32 and 33. The only handler is for the fault
 * signals: a kill() of SEGV/BUS/... is forwarded to the app like any
 * other signal, a real fault in wrapp logs one line and exits 128+sig.
 */
#include "sigs.h"

#include "log.h"
#include "macro.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static const int fault_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};
static const int ignored_signals[] = {SIGTTIN, SIGTTOU};

static volatile sig_atomic_t forward_target;

void sigs_set_forward_target(pid_t target)
{
    forward_target = target;
}

static int raw_sigprocmask(int how, const uint64_t *set, uint64_t *old)
{
    if (syscall(SYS_rt_sigprocmask, how, set, old, sizeof(uint64_t)) < 0)
        return neg_errno();
    return 0;
}

static unsigned long context_pc(const void *uctx)
{
    const ucontext_t *uc = uctx;

#if defined(__x86_64__)
    return (unsigned long)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (unsigned long)uc->uc_mcontext.pc;
#else
    (void)uc;
    return 0;
#endif
}

static void fatal_handler(int sig, siginfo_t *info, void *uctx)
{
    int saved = errno;
    char msg[128] = "fatal signal ", *e;
    pid_t target = forward_target;

    /* si_code <= 0: sent by kill()/sigqueue()/tgkill(), not a fault. */
    if (info->si_code <= 0 && info->si_pid != getpid()) {
        if (target != 0)
            kill(target, sig);
        errno = saved;
        return;
    }
    /* Where, for a bug report: "addr2line -e wrapp PC" names the line. */
    e = log_fmt_str(log_fmt_int(msg + 13, sig) + strlen(msg + 13), " in wrapp itself at pc ");
    e = log_fmt_hex(e, context_pc(uctx));
    e = log_fmt_str(e, " (address ");
    e = log_fmt_hex(e, (unsigned long)info->si_addr);
    log_fmt_str(e, "); exiting");
    log_safe(LOG_LEVEL_ERROR, msg);
    _exit(128 + sig);
}

/* The wake-up signal: from wrapp itself it only interrupts the thread's
 * wait; from anyone else it is the app's, forwarded as any other. */
static void wake_handler(int sig, siginfo_t *info, void *uctx)
{
    int saved = errno;
    pid_t target = forward_target;

    (void)uctx;
    if (!(info->si_code == SI_TKILL && info->si_pid == getpid()) && target != 0)
        kill(target, sig);
    errno = saved;
}

int sigs_wake_install(int sig)
{
    struct sigaction sa = {.sa_sigaction = wake_handler, .sa_flags = SA_SIGINFO};
    uint64_t set = SIGS_BIT(sig);

    sigfillset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) < 0)
        return neg_errno();
    /* For the calling thread only: the others keep it blocked. */
    return raw_sigprocmask(SIG_UNBLOCK, &set, NULL);
}

bool sigs_is_forwardable(int sig)
{
    if (sig <= 0 || sig > 64 || sig == SIGKILL || sig == SIGSTOP || sig == SIGCHLD)
        return false;
    for (size_t i = 0; i < ARRAY_SIZE(fault_signals); i++)
        if (sig == fault_signals[i])
            return false;
    return sig != SIGTTIN && sig != SIGTTOU;
}

/* The kernel's struct sigaction, for the signals glibc keeps to itself
 * (32, 33: its thread-cancel and set-id signals; sigaction(2) refuses
 * them) and the real-time ones, 32..64. */
struct ksigaction {
    uintptr_t handler;
    /* The kernel's layout; never read here. */
    unsigned long flags; // cppcheck-suppress unusedStructMember
    uintptr_t restorer;  // cppcheck-suppress unusedStructMember
    uint64_t mask;       // cppcheck-suppress unusedStructMember
};

static bool raw_is_ignored(int sig)
{
    struct ksigaction old;

    return syscall(SYS_rt_sigaction, sig, NULL, &old, sizeof(uint64_t)) == 0 &&
           old.handler == (uintptr_t)SIG_IGN;
}

static int save_ignored(struct sigs *s)
{
    /* glibc installs its own handler for 33 when wrapp starts a thread,
     * and an exec turns handled signals to default: remember. */
    for (int sig = 32; sig <= 64; sig++)
        if (raw_is_ignored(sig))
            s->orig_ignored |= SIGS_BIT(sig);
    for (int sig = 1; sig < 32; sig++) {
        struct sigaction sa;
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        if (sigaction(sig, NULL, &sa) < 0)
            return neg_errno();
        if (sa.sa_handler == SIG_IGN)
            s->orig_ignored |= SIGS_BIT(sig);
    }
    return 0;
}

static int set_disposition(struct sigs *s, int sig, const struct sigaction *sa)
{
    if (sigaction(sig, sa, NULL) < 0)
        return neg_errno();
    s->changed |= SIGS_BIT(sig);
    return 0;
}

static int install(struct sigs *s)
{
    struct sigaction sa = {.sa_sigaction = fatal_handler, .sa_flags = SA_SIGINFO};
    int r = 0;

    sigfillset(&sa.sa_mask);
    for (size_t i = 0; i < ARRAY_SIZE(fault_signals) && r == 0; i++)
        r = set_disposition(s, fault_signals[i], &sa);
    sa = (struct sigaction){.sa_handler = SIG_IGN};
    for (size_t i = 0; i < ARRAY_SIZE(ignored_signals) && r == 0; i++)
        r = set_disposition(s, ignored_signals[i], &sa);
    /* An ignored SIGCHLD would make the kernel reap for us and hide the
     * app's status: wrapp needs the default, the app gets SIG_IGN back. */
    sa = (struct sigaction){.sa_handler = SIG_DFL};
    if (r == 0 && (s->orig_ignored & SIGS_BIT(SIGCHLD)))
        r = set_disposition(s, SIGCHLD, &sa);
    return r;
}

int sigs_setup(struct sigs *s)
{
    int r;

    memset(s, 0, sizeof(*s));
    s->fd = -1;
    r = save_ignored(s);
    if (r < 0)
        return r;
    s->blocked = ~0ULL;
    s->blocked &= ~(SIGS_BIT(SIGKILL) | SIGS_BIT(SIGSTOP));
    for (size_t i = 0; i < ARRAY_SIZE(fault_signals); i++)
        s->blocked &= ~SIGS_BIT(fault_signals[i]);
    for (size_t i = 0; i < ARRAY_SIZE(ignored_signals); i++)
        s->blocked &= ~SIGS_BIT(ignored_signals[i]);
    /* Signals wrapp was started with ignored (nohup's SIGHUP...) stay
     * ignored, for wrapp and, inherited, for the app: never forwarded. */
    s->blocked &= ~(s->orig_ignored & ~SIGS_BIT(SIGCHLD));
    r = raw_sigprocmask(SIG_SETMASK, &s->blocked, &s->orig_mask);
    if (r < 0)
        return r;
    r = install(s);
    if (r < 0)
        return r;
    /* Blocking: read only when epoll says it is readable, or, as the loop's
     * only source, to wait for the next signal (see loop.h). */
    s->fd = (int)syscall(SYS_signalfd4, -1, &s->blocked, sizeof(uint64_t), SFD_CLOEXEC);
    return s->fd < 0 ? neg_errno() : 0;
}

int sigs_watch_children(struct sigs *s, bool on)
{
    uint64_t mask = on ? s->blocked : s->blocked & ~SIGS_BIT(SIGCHLD);

    if (syscall(SYS_signalfd4, s->fd, &mask, sizeof(mask), SFD_CLOEXEC) < 0)
        return neg_errno();
    return 0;
}

void sigs_fini(struct sigs *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

void sigs_child_restore(const struct sigs *s)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL}, ign = {.sa_handler = SIG_IGN};

    struct ksigaction kign = {.handler = (uintptr_t)SIG_IGN};

    for (int sig = 1; sig < 32; sig++)
        if (s->changed & SIGS_BIT(sig))
            sigaction(sig, (s->orig_ignored & SIGS_BIT(sig)) ? &ign : &dfl, NULL);
    for (int sig = 32; sig <= 64; sig++)
        if (s->orig_ignored & SIGS_BIT(sig))
            syscall(SYS_rt_sigaction, sig, &kign, NULL, sizeof(uint64_t));
    raw_sigprocmask(SIG_SETMASK, &s->orig_mask, NULL);
}

int sigs_wait(const struct sigs *s, struct sigs_event *ret, int timeout_ms)
{
    struct timespec ts = {.tv_sec = timeout_ms / 1000, .tv_nsec = (timeout_ms % 1000) * 1000000L};
    siginfo_t si;
    long sig = syscall(SYS_rt_sigtimedwait, &s->blocked, &si, timeout_ms < 0 ? NULL : &ts,
                       sizeof(uint64_t));

    if (sig < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : neg_errno();
    *ret = (struct sigs_event){(int)sig, si.si_pid, si.si_code};
    return 1;
}

int sigs_read(const struct sigs *s, struct sigs_event *ret, size_t max)
{
    struct signalfd_siginfo si[SIGS_BATCH];
    ssize_t n;
    size_t count;

    if (max > SIGS_BATCH)
        max = SIGS_BATCH;
    n = RETRY_EINTR(read(s->fd, si, max * sizeof(si[0])));
    if (n < 0)
        return errno == EAGAIN ? 0 : neg_errno();
    count = (size_t)n / sizeof(si[0]);
    for (size_t i = 0; i < count; i++)
        ret[i] = (struct sigs_event){(int)si[i].ssi_signo, (pid_t)si[i].ssi_pid, si[i].ssi_code};
    return (int)count;
}

/*
 * Signals: slabdbg's SIGSEGV/SIGBUS (and, for guard_continue and guard_watch, SIGTRAP)
 * handler, and the interpositions that keep it first while the program
 * sees the signal dispositions it set, exactly as without slabdbg.
 *
 * The handler takes a fault in guarded memory (debug/guard.h) and reports
 * it.  Every other signal goes where it would have gone without slabdbg:
 *   - to the program's handler, called as the kernel would call it: its
 *     sa_mask and the signal itself blocked (unless SA_NODEFER), reset to
 *     SIG_DFL first with SA_RESETHAND, three arguments with SA_SIGINFO;
 *   - SIG_IGN: installed for real, since an ignored signal is inherited
 *     across execve and a handled one is not (a guarded fault in a program
 *     that ignores SIGSEGV then ends it without a report, as the kernel
 *     kills on a fault whatever the disposition);
 *   - SIG_DFL: a real fault runs again under the default action, so the
 *     process dies of it with the kernel's own siginfo; a sent signal is
 *     sent again to this thread with its siginfo unchanged.
 * Our handler is installed with SA_RESTART whenever the program's
 * disposition has it, so system calls interrupted by a signal behave as
 * the program asked.  Signals the program blocks stay blocked (the kernel
 * holds them before any handler runs).
 *
 * New threads start through a trampoline that gives them an alternate
 * signal stack (a report symbolizes on it, and a stack overflow would
 * otherwise leave no stack to report on) and sets up their thread cache.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "base/lock.h"
#include "core/tcache.h"
#include "debug/guard.h"
#include "front/front.h"
#include "base/options.h"

#define ALT_STACK_SIZE ((size_t)1 << 20)

extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

enum { SLOT_SEGV, SLOT_BUS, SLOT_TRAP, NSLOTS };

/* The program's dispositions of the signals we keep.  Written by the
 * interposed sigaction() (under sig_lock), read by the handler. */
static struct sigaction prog_action[NSLOTS];
static pthread_mutex_t sig_lock = PTHREAD_MUTEX_INITIALIZER; /* lock order 10 (base/lock.h) */
static bool installed;
static bool trap_kept;
static pthread_key_t altstack_key;

static int slot_of(int sig)
{
    switch (sig) {
    case SIGSEGV:
        return SLOT_SEGV;
    case SIGBUS:
        return SLOT_BUS;
    case SIGTRAP:
        return trap_kept ? SLOT_TRAP : -1;
    default:
        return -1;
    }
}

static void handler(int sig, siginfo_t *si, void *ctx);

/* (Re)installs our handler for sig, restarting system calls when the
 * program's disposition asks for it.  A signal the program ignores is
 * ignored for real: an ignored signal is inherited across execve (a
 * handled one is not), and the kernel kills on a fault whatever we do. */
static void install(int sig, struct sigaction *old)
{
    const struct sigaction *pa = &prog_action[slot_of(sig)];
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    if (pa->sa_handler == SIG_IGN && !(pa->sa_flags & SA_SIGINFO)) {
        sa.sa_handler = SIG_IGN;
    } else {
        sa.sa_sigaction = handler;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | (pa->sa_flags & SA_RESTART);
    }
    __sigaction(sig, &sa, old);
}

static void set_default(int sig)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    __sigaction(sig, &dfl, NULL);
}

/* Sends sig again to this thread with the same siginfo (allowed for a
 * process's own threads, whatever si_code says). */
static void resend(int sig, siginfo_t *si)
{
    if (syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), sig, si) < 0)
        raise(sig);
}

/* Was this signal made by the kernel for a fault of the interrupted
 * instruction (not sent by kill, raise, tgkill, sigqueue)? */
static bool is_fault(int sig, const siginfo_t *si)
{
    return sig != SIGTRAP && si->si_code > 0; /* SI_KERNEL included: a #GP repeats */
}

/* The signal as the program's disposition takes it (see the top).  errno
 * is the interrupted code's when the program's handler starts, and what
 * that handler leaves when it returns, as without us. */
static void deliver(int sig, siginfo_t *si, ucontext_t *uc, int saved_errno)
{
    int slot = slot_of(sig);
    struct sigaction pa = prog_action[slot];
    if (pa.sa_handler == SIG_IGN && !is_fault(sig, si)) {
        errno = saved_errno;
        return;
    }
    if (pa.sa_handler == SIG_DFL || pa.sa_handler == SIG_IGN) {
        set_default(sig);
        /* A fault comes again when the instruction runs again; a signal
         * that was sent, or a trap, does not. */
        if (!is_fault(sig, si))
            resend(sig, si);
        errno = saved_errno;
        return;
    }
    sigset_t mask = uc->uc_sigmask;
    for (int s = 1; s < NSIG; s++)
        if (sigismember(&pa.sa_mask, s) == 1)
            sigaddset(&mask, s);
    if (!(pa.sa_flags & SA_NODEFER))
        sigaddset(&mask, sig);
    if (pa.sa_flags & SA_RESETHAND) {
        memset(&prog_action[slot], 0, sizeof(prog_action[slot]));
        prog_action[slot].sa_handler = SIG_DFL;
        install(sig, NULL);
    }
    pthread_sigmask(SIG_SETMASK, &mask, NULL); /* sigreturn restores uc_sigmask */
    errno = saved_errno;
    if (pa.sa_flags & SA_SIGINFO)
        pa.sa_sigaction(sig, si, uc);
    else
        pa.sa_handler(sig);
}

static void handler(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    int saved = errno;
    if (sig == SIGTRAP) {
        if (guard_trap(uc))
            errno = saved;
        else
            deliver(sig, si, uc, saved);
        return;
    }
    bool resume = false;
    if (is_fault(sig, si) && guard_fault(sig, si, uc, &resume)) {
        if (!resume) {
            /* Die of the fault, as without us.  Sent again rather than left
             * to the access: the report's own frees may have made that
             * address valid meanwhile. */
            set_default(sig);
            sigset_t set;
            sigemptyset(&set);
            sigaddset(&set, sig);
            pthread_sigmask(SIG_UNBLOCK, &set, NULL);
            resend(sig, si);
        }
        errno = saved;
        return;
    }
    deliver(sig, si, uc, saved);
}

/* ---- alternate signal stacks -------------------------------------------------- */

static void altstack_free(void *arg)
{
    (void)arg;
    stack_t ss, off = {.ss_flags = SS_DISABLE};
    if (sigaltstack(NULL, &ss) == 0 && !(ss.ss_flags & SS_DISABLE) &&
        ss.ss_size == ALT_STACK_SIZE && sigaltstack(&off, NULL) == 0)
        munmap(ss.ss_sp, ss.ss_size);
}

/* Gives the calling thread an alternate stack unless it has one. */
static void altstack_setup(void)
{
    stack_t ss;
    if (sigaltstack(NULL, &ss) == 0 && !(ss.ss_flags & SS_DISABLE))
        return; /* the program set one */
    /* Large: the report symbolizes on it (libdw parses line tables with a
     * deep stack).  Only the pages used count. */
    void *m = mmap(NULL, ALT_STACK_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (m == MAP_FAILED)
        return;
    ss.ss_sp = m;
    ss.ss_size = ALT_STACK_SIZE;
    ss.ss_flags = 0;
    if (sigaltstack(&ss, NULL) < 0) {
        munmap(m, ALT_STACK_SIZE);
        return;
    }
    pthread_setspecific(altstack_key, m); /* non-NULL: the destructor runs */
}

/* ---- installation (from the library constructor) --------------------------------- */

void signals_init(void)
{
    if (!guard_wants_faults())
        return;
    pthread_key_create(&altstack_key, altstack_free);
    trap_kept = opt.guard_continue || opt.guard_watch;
    lock(&sig_lock, LOCK_SIG);
    /* The dispositions the program has now (set by an earlier constructor,
     * or inherited SIG_IGN) become the ones we deliver to. */
    install(SIGSEGV, &prog_action[SLOT_SEGV]);
    install(SIGBUS, &prog_action[SLOT_BUS]);
    if (trap_kept)
        install(SIGTRAP, &prog_action[SLOT_TRAP]);
    /* install() read the old disposition's SA_RESTART before it was known:
     * install again now that it is. */
    install(SIGSEGV, NULL);
    install(SIGBUS, NULL);
    if (trap_kept)
        install(SIGTRAP, NULL);
    installed = true;
    unlock(&sig_lock, LOCK_SIG);
    altstack_setup();
}

/* ---- interpositions ------------------------------------------------------------- */

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (!installed || slot_of(sig) < 0)
        return __sigaction(sig, act, old);
    lock(&sig_lock, LOCK_SIG);
    struct sigaction *pa = &prog_action[slot_of(sig)];
    if (old)
        *old = *pa;
    if (act) {
        *pa = *act;
        install(sig, NULL);
    }
    unlock(&sig_lock, LOCK_SIG);
    return 0;
}

/* glibc's signal(), bsd_signal(): BSD semantics. */
static sighandler_t set_handler(int sig, sighandler_t handler, int flags)
{
    if (sig <= 0 || sig >= NSIG || handler == SIG_ERR) {
        errno = EINVAL;
        return SIG_ERR;
    }
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (!(flags & SA_NODEFER))
        sigaddset(&sa.sa_mask, sig);
    if (sigaction(sig, &sa, &old) < 0)
        return SIG_ERR;
    return old.sa_handler;
}

EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
    return set_handler(sig, handler, SA_RESTART);
}

EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler)
{
    return set_handler(sig, handler, SA_RESTART);
}

/* System V semantics: reset to the default on delivery, no blocking. */
EXPORT sighandler_t sysv_signal(int sig, sighandler_t handler)
{
    return set_handler(sig, handler, SA_RESETHAND | SA_NODEFER);
}

EXPORT sighandler_t __sysv_signal(int sig, sighandler_t handler)
{
    return sysv_signal(sig, handler);
}

/* sigset(): SIG_HOLD blocks the signal; any other disposition unblocks it. */
EXPORT sighandler_t sigset(int sig, sighandler_t disp)
{
    if (sig <= 0 || sig >= NSIG) {
        errno = EINVAL;
        return SIG_ERR;
    }
    sigset_t set, oldmask;
    sigemptyset(&set);
    sigaddset(&set, sig);
    struct sigaction old;
    if (sigaction(sig, NULL, &old) < 0 ||
        sigprocmask(disp == SIG_HOLD ? SIG_BLOCK : SIG_UNBLOCK, &set, &oldmask) < 0)
        return SIG_ERR;
    if (disp != SIG_HOLD) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = disp;
        sigemptyset(&sa.sa_mask);
        if (sigaction(sig, &sa, NULL) < 0)
            return SIG_ERR;
    }
    return sigismember(&oldmask, sig) ? SIG_HOLD : old.sa_handler;
}

/* ---- thread start ----------------------------------------------------------------- */

struct thread_start {
    void *(*fn)(void *);
    void *arg;
};

static void *thread_trampoline(void *p)
{
    struct thread_start ts = *(struct thread_start *)p;
    free(p);
    tcache_thread_start();
    altstack_setup();
    return ts.fn(ts.arg);
}

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    static pthread_create_fn real;
    if (!real)
        real = (pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
    if (!real)
        return EAGAIN;
    struct thread_start *ts = installed ? malloc(sizeof(*ts)) : NULL;
    if (!ts)
        return real(t, attr, fn, arg);
    ts->fn = fn;
    ts->arg = arg;
    int r = real(t, attr, thread_trampoline, ts);
    if (r)
        free(ts);
    return r;
}

void signals_fork(enum fork_phase phase)
{
    fork_lock(&sig_lock, phase);
}

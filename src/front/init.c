/*
 * Initialisation, fork handling, dlclose, and what happens at exit.
 *
 * The first malloc can arrive before any constructor ran (from the dynamic
 * loader or another library's constructor), so initialisation is lazy,
 * idempotent and triggered from the slow paths.  It calls nothing that
 * allocates before the core is usable; what it calls after that (which may
 * allocate, e.g. pthread_atfork) re-enters a working allocator.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/unwind.h"
#include "core/tcache.h"
#include "debug/debug.h"
#include "debug/leaks.h"
#include "debug/guard.h"
#include "front/front.h"
#include "core/arena.h"
#include "base/options.h"
#include "report/banner.h"
#include "report/bug.h"
#include "report/symbolize.h"
#include "base/out.h"

_Atomic int init_done;
static _Atomic int init_started;

/* fork(): every lock of the library, in the order of base/lock.h. */
static void fork_all(enum fork_phase phase)
{
    fork_lock(&cache_list_lock, phase);
    report_fork(phase);
    symbolize_fork(phase);
    fork_lock(&kmem_cache_cache.lock, phase);
    caches_fork(phase);
    debug_mag_fork(phase);
    fork_lock(&page_lock, phase);
    fork_lock(&huge_lock, phase);
    fork_lock(&guard_lock, phase);
    guard_fork(phase);
    depot_fork(phase);
    fork_lock(&arena_lock, phase);
    signals_fork(phase);
}

static void fork_prepare(void)
{
    fork_all(FORK_PREPARE);
}

/* The parent lets go in the reverse order. */
static void fork_parent(void)
{
    signals_fork(FORK_PARENT);
    fork_lock(&arena_lock, FORK_PARENT);
    depot_fork(FORK_PARENT);
    guard_fork(FORK_PARENT);
    fork_lock(&guard_lock, FORK_PARENT);
    fork_lock(&huge_lock, FORK_PARENT);
    fork_lock(&page_lock, FORK_PARENT);
    debug_mag_fork(FORK_PARENT);
    caches_fork(FORK_PARENT);
    fork_lock(&kmem_cache_cache.lock, FORK_PARENT);
    symbolize_fork(FORK_PARENT);
    report_fork(FORK_PARENT);
    fork_lock(&cache_list_lock, FORK_PARENT);
    lockdep_forget_all();
}

/* Only this thread exists in the child: the locks' owners are gone, so the
 * locks are made anew rather than unlocked.  Objects cached by the parent's
 * other threads are lost to the child, as with any allocator. */
static void fork_child(void)
{
    fork_all(FORK_CHILD);
    lockdep_forget_all();
    debug_fork_child();
}

void slabdbg_init_slow(void)
{
    static __thread int in_init;
    if (in_init)
        return;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&init_started, &expected, 1)) {
        while (!atomic_load_explicit(&init_done, memory_order_acquire))
            sched_yield();
        return;
    }
    in_init = 1;
    hardening_init();
    options_init();
    kmalloc_caches_init();
    slub_debug_warn_impossible(&slub_debug, options_warn);
    cache_setup(&kmem_cache_cache, "kmem_cache", sizeof(struct kmem_cache), 64, SLAB_NO_DEBUG,
                NULL);
    pthread_key_create(&tcache_key, tcache_thread_exit);
    report_mode_hook = tcache_report_mode;
    atomic_store_explicit(&init_done, 1, memory_order_release);
    /* The allocator works from here on; these may allocate. */
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    in_init = 0;
}

EXPORT const char *slabdbg_version(void)
{
    return SLABDBG_VERSION;
}

/* validate_signal: the handler only writes a byte to a pipe; a thread of
 * ours does the work, outside signal context (validating takes locks and
 * symbolizes, neither of which a signal handler may do). */
static int validate_pipe[2] = {-1, -1};

static void validate_signal_handler(int sig)
{
    (void)sig;
    int saved = errno;
    char c = 'v';
    if (write(validate_pipe[1], &c, 1) < 0) {
        /* nothing to do: a validation is already pending */
    }
    errno = saved;
}

static void *validate_thread(void *arg)
{
    (void)arg;
    char c;
    while (read(validate_pipe[0], &c, 1) > 0 || errno == EINTR) {
        int errors = debug_validate_all("the check of every object on validate_signal");
        struct out o;
        out_init(&o, 2);
        out_str(&o, "slabdbg: validate: ");
        out_u64(&o, (uint64_t)errors);
        out_str(&o, " problem(s) found\n");
        out_flush(&o);
        if (opt.traces_at_exit)
            debug_print_traces(2);
    }
    return NULL;
}

static void validate_signal_setup(void)
{
    int sig = (int)opt.validate_signal;
    if (sig <= 0)
        return;
    if (sig >= NSIG || sig == SIGKILL || sig == SIGSTOP) {
        options_warn(
            "SLABDBG_OPTIONS: validate_signal is not a signal that can be caught; ignored");
        return;
    }
    if (pipe2(validate_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return;
    /* The reading end blocks; the handler's end must never block. */
    fcntl(validate_pipe[0], F_SETFL, 0);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, validate_thread, NULL) == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = validate_signal_handler;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(sig, &sa, NULL);
    }
    pthread_attr_destroy(&attr);
}

/* Runs when the library is loaded, after libc is initialised: the place for
 * what may not happen inside malloc (dlopen, threads, signal handlers). */
__attribute__((constructor)) static void slabdbg_constructor(void)
{
    slabdbg_ensure_init();
    /* Always: production mode reports too (double frees, bad pointers). */
    stack_unwinder_init(debug_any || guard_any);
    if (debug_any || guard_any)
        symbolize_preload();
    signals_init();
    validate_signal_setup();
    if (opt.verbose)
        banner_start();
}

/* Code may go with a dlclose, and other code come to the same addresses:
 * the unwinder forgets the rules it cached. */
EXPORT int dlclose(void *handle)
{
    static int (*real)(void *);
    if (!real)
        real = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
    int r = real ? real(handle) : -1;
    unwind_forget_code();
    return r;
}

__attribute__((destructor)) static void slabdbg_destructor(void)
{
    if (debug_any) {
        if (opt.validate_at_exit)
            debug_validate_all("the check of every object at exit");
        if (opt.traces_at_exit)
            debug_print_traces(2);
        slub_debug_warn_unmatched(&slub_debug, options_warn);
    }
    if (opt.verbose)
        banner_exit();
    int fd = out_open_dest(opt.stats);
    if (fd >= 0) {
        slabdbg_print_stats(fd);
        if (fd > 2)
            close(fd);
    }
    /* Last: our destructor runs after those of the libraries loaded after
     * us, so what they free at exit is not reported. */
    if (opt.leaks && leaks_check_at_exit(2) && opt.leak_exitcode)
        _exit((int)opt.leak_exitcode);
}

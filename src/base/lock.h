/* clang-format off */
/*
 * The locks of slabdbg and their order.  A thread that holds a lock takes
 * only locks further down this list; two locks of one level are never held
 * together (the cache locks are taken one at a time, except by the fork
 * handlers, which take every lock of the library in this order).
 *
 *   level             lock                 owner               guards
 *   1 LOCK_CACHE_LIST cache_list_lock      core/cache.c        the list of named caches
 *   2 LOCK_REPORT     report_lock          report/report.c     one report printed at a time
 *   3 LOCK_SYM        sym_lock             report/symbolize.c  the symbolizer and libdw under it
 *   4 LOCK_CACHE      kmem_cache.lock      core/cache.c        a cache's slabs and transfer batches
 *   5 LOCK_PAGE       page_lock            core/segment.c      segments and free slices
 *   6 LOCK_HUGE       huge_lock            core/huge.c         huge objects and their reuse cache
 *   7 LOCK_GUARD      guard_lock           debug/guard.c       G objects too large for a pool; pool owners
 *   8 LOCK_GPOOL      gpool.lock           debug/guard.c       one guard pool's slots (a G cache's, sampling's)
 *   9 LOCK_DEPOT      depot_lock           debug/stackdepot.c  growth of the stack depot's arena
 *  10 LOCK_ARENA      arena_lock           core/arena.c        the report arena's free lists
 *  11 LOCK_SIG        sig_lock             front/signals.c     the program's signal dispositions
 *
 * Thread magazines of debugged caches (debug/check.c) take no lock of their
 * own: a thread works on its magazine's objects without any, and takes a
 * cache lock (4) only to refill or empty it, never while it has announced
 * work on the cache's objects (validation and fork wait for that work).
 *
 * Why this order: a report (2) symbolizes (3), and libdw's frees of heap
 * objects made outside the report reach a cache (4); a cache grows its
 * slabs from the page layer (5), which empties the huge cache (6) when it
 * needs a new segment; validation walks the named caches (1) and reports.
 * Levels 7 to 11 call nothing that locks but the next level (a leak scan
 * holds 7 and takes each pool's 8).
 *
 * Built with -DSLABDBG_LOCKDEP (cmake -DSLABDBG_LOCKDEP=ON), every lock and
 * unlock checks the order on the calling thread and aborts on a violation.
 */
/* clang-format on */
#ifndef SLABDBG_BASE_LOCK_H
#define SLABDBG_BASE_LOCK_H

#include <assert.h>
#include <pthread.h>
#include <stdint.h>

enum lock_level {
    LOCK_CACHE_LIST = 1,
    LOCK_REPORT,
    LOCK_SYM,
    LOCK_CACHE,
    LOCK_PAGE,
    LOCK_HUGE,
    LOCK_GUARD,
    LOCK_GPOOL,
    LOCK_DEPOT,
    LOCK_ARENA,
    LOCK_SIG,
};

#ifdef SLABDBG_LOCKDEP
/* Levels held by this thread, one bit each. */
__attribute__((visibility("hidden"))) extern __thread uint32_t locks_held;

static inline void lock(pthread_mutex_t *m, enum lock_level level)
{
    /* Nothing at this level or below it may be held already. */
    assert((locks_held >> level) == 0 && "lock order violated (see base/lock.h)");
    pthread_mutex_lock(m);
    locks_held |= 1u << level;
}

static inline void unlock(pthread_mutex_t *m, enum lock_level level)
{
    assert((locks_held & (1u << level)) && "unlock of a lock not held");
    locks_held &= ~(1u << level);
    pthread_mutex_unlock(m);
}

static inline void lockdep_forget_all(void)
{
    locks_held = 0;
}
#else
static inline void lock(pthread_mutex_t *m, enum lock_level level)
{
    (void)level;
    pthread_mutex_lock(m);
}
static inline void unlock(pthread_mutex_t *m, enum lock_level level)
{
    (void)level;
    pthread_mutex_unlock(m);
}
static inline void lockdep_forget_all(void) {}
#endif

/* fork(): the prepare handler takes every lock of the library in the order
 * above (so no other thread holds one while the process is copied), the
 * parent handler releases them, and the child, where the other threads
 * are gone, makes them anew.  Each module that owns a lock has a function
 * taking the phase, which calls fork_lock() on each of its locks. */
enum fork_phase { FORK_PREPARE, FORK_PARENT, FORK_CHILD };

static inline void fork_lock(pthread_mutex_t *m, enum fork_phase phase)
{
    if (phase == FORK_PREPARE)
        pthread_mutex_lock(m);
    else if (phase == FORK_PARENT)
        pthread_mutex_unlock(m);
    else
        pthread_mutex_init(m, NULL);
}

#endif

/*
 * Thread caches: per thread, per kmalloc class, a LIFO list of free objects
 * linked through their first word (the kernel's per-CPU freelist).  The fast
 * paths below touch only this thread's bin: no lock, no atomic.
 *
 * A bin's `max` starts at 0 in every new thread, so the first free of a
 * thread takes the slow path, which registers the thread (for cleanup at
 * exit) and sets the real capacities.  Bin NO_BIN always has max 0: objects
 * of named caches, huge objects and (later) debugged caches land there and
 * so always take the slow path.
 */
#ifndef SLABDBG_CORE_TCACHE_H
#define SLABDBG_CORE_TCACHE_H

#include "base/report_mode.h"
#include "core/internal.h"

struct tbin {
    void *head;
    uint32_t count;
    uint32_t max;
};

enum tcache_state { TCACHE_NEW = 0, TCACHE_ACTIVE, TCACHE_DEAD };

struct tcache {
    struct tbin bins[NR_KMALLOC + 1];
    uint32_t sample_left; /* allocations until the next sampled one */
    int state;
};

INTERNAL extern __thread struct tcache tcache;

INTERNAL void *tcache_pop_corrupt(unsigned cls);
INTERNAL void tcache_bin_corrupt(unsigned bin, void *obj);

/* Pops an object of class `cls`, or NULL when the bin is empty or its head
 * is corrupt (a write after free changed its link or its free marker; the
 * caller's slow path then finds the head still there and calls
 * tcache_pop_corrupt).  Invariant: the head of a bin is always memory of
 * a slab segment (slabmap: all of it mapped), so reading its two words
 * cannot fault; a next link that leaves them never becomes the head (the
 * segment map alone would let one into the unmapped rest of a huge
 * object's 4 MiB).  The markers of both catch a
 * link whose low bytes alone were changed (a decoded value that is still
 * aligned and ours, but not a free object: its word 1 is not its marker)
 * and a write after free into word 1 of the head.
 * Word 1 is cleared: the object is live from here.  Every failure leaves
 * through the same NULL so that the fast path has a single exit to the
 * slow path (a tail call, no stack frame). */
static inline void *tcache_pop(unsigned cls)
{
    struct tbin *b = &tcache.bins[cls];
    uintptr_t *p = b->head;
    if (likely(p)) {
        uintptr_t next = link_next(p);
        if (likely(((next & LINK_BAD) | (p[1] ^ free_marker(p))) == 0 &&
                   (!next || (slabmap_test((void *)next) &&
                              ((uintptr_t *)next)[1] == free_marker((void *)next))))) {
            b->head = (void *)next;
            b->count--;
            p[1] = 0;
            return p;
        }
    }
    return NULL;
}

/* Pushes `p` (an object start of a thread-cached class, not already free)
 * if the bin has room; false sends the caller to the slow path. */
static inline bool tcache_push(unsigned bin, void *p)
{
    struct tbin *b = &tcache.bins[bin];
    if (unlikely(b->count >= b->max))
        return false;
    ((uintptr_t *)p)[1] = free_marker(p);
    link_set(p, b->head);
    b->head = p;
    b->count++;
    return true;
}

#define TCACHE_START 4 /* a bin's capacity when its thread starts */

INTERNAL void *tcache_refill(unsigned cls);
/* Sets up the calling thread at its start (cache, alternate signal stack). */
INTERNAL void tcache_thread_start(void);
INTERNAL void tcache_free_slow(struct slab *s, void *p);
INTERNAL void tcache_thread_exit(void *arg);
INTERNAL void tcache_flush_all(void);
INTERNAL extern pthread_key_t tcache_key;

/* The hook of report mode (base/report_mode.h): while a thread reports,
 * its bins are put aside and emptied, so every allocation leaves the fast
 * path and the slow paths serve it from the report arena; frees of heap
 * objects made meanwhile go straight back to their slabs.  Leaving puts the
 * bins back unchanged, so a report made from a signal handler that
 * interrupted a bin operation leaves that operation to finish as it began. */
INTERNAL void tcache_report_mode(bool entering);

#endif

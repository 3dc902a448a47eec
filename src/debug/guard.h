/*
 * Catching the writer in the act: guard mode for G caches, and the sampling
 * pool that sends one allocation in N to guarded memory in production.
 *
 * A guarded object sits against an inaccessible page; once freed, its pages
 * are inaccessible too and stay so for a while (quarantine).  The first
 * stray access faults, and the fault handler turns it into a report naming
 * the access, the code that made it, and the object's tracks.
 */
#ifndef SLABDBG_DEBUG_GUARD_H
#define SLABDBG_DEBUG_GUARD_H

#include <signal.h>
#include <ucontext.h>

#include "core/internal.h"
#include "debug/debug.h"

/* The header of a guarded object (G) or a sampling pool slot, behind the
 * segment header of its mapping (G) or in the pool's slot table. */
enum slot_state { SLOT_UNUSED, SLOT_LIVE, SLOT_FREED };

struct guard_slot {
    uintptr_t object;
    uint32_t size;
    uint8_t state;
    uint8_t left;    /* against the left guard page */
    uint8_t family;  /* enum alloc_family; FAMILY_ANY (not checked) without debug flags */
    uint8_t watched; /* guard_watch: the pages holding slack are kept inaccessible */
    uint32_t align;
    uint8_t resident; /* freed, its pages kept (not given back) */
    struct kmem_cache *cache;
    char *data; /* first data page */
    size_t data_len;
    struct track track[2];
};

#define DISCARD_BATCH 32 /* freed G slots whose pages go back in one go */

/* The owner of pools: a G cache, or sampling.  Slots never handed out are
 * in the newest pool only; freed slots wait in a FIFO (the ring) and are
 * reused least recently freed first, once more than `quarantine` wait. */
struct gpool {
    pthread_mutex_t lock;     /* lock order 8 (base/lock.h) */
    struct kmem_cache *cache; /* NULL: the sampling pool */
    uint32_t data_len, stride;
    uint32_t per_pool; /* slots of a pool */
    uint32_t npools, max_pools;
    size_t quarantine;
    size_t nslots;      /* in all its pools */
    struct pool *pools; /* newest first */
    struct guard_slot **ring;
    size_t ring_cap, ring_head, ring_count;
    struct guard_slot *discard[DISCARD_BATCH]; /* freed, pages not yet given back */
    unsigned ndiscard;
    struct gpool *next; /* every owner (fork), under guard_lock */
};

/* A guard pool: one 4 MiB-aligned segment of slots, each a run of data
 * pages followed by an inaccessible guard page (a guard page before slot 0
 * too).  Every G cache has pools of its own (slots as large as its
 * objects); the sampling pool is one pool of one-page slots.  The header
 * sits behind the segment header (guard.c draws it); readers outside the
 * process find the slots through it. */
struct pool {
    uint32_t nslots;
    uint32_t stride;      /* bytes from one slot's data to the next's */
    uint32_t data_len;    /* data bytes of a slot (whole pages) */
    uint32_t next_unused; /* slots from here on were never handed out */
    char *data0;          /* data of slot 0; slot i's at data0 + i * stride */
    struct gpool *owner;
    struct pool *next; /* the owner's pools */
    uint8_t sampled;   /* the sampling pool (else a G cache's) */
    struct guard_slot slot[];
};

/* memalign()'s alignment for the next guarded object of this thread (0:
 * the one its size implies); set by the front end, taken by guard_alloc. */
INTERNAL extern __thread size_t guard_asked_align;

/* An object of a G cache (`size` as asked), or NULL when guarded memory
 * cannot be had now (the caller then allocates an ordinary debug object). */
INTERNAL void *guard_alloc(struct kmem_cache *c, size_t size);
/* A sampled allocation, or NULL when the size does not qualify or the pool
 * is busy (the caller then allocates normally). */
INTERNAL void *sample_alloc(size_t size, size_t align);
/* fork(): the pools' locks (level LOCK_GPOOL), after guard_lock. */
INTERNAL void guard_fork(enum fork_phase phase);
/* free() of an object in a SEG_GUARD or SEG_POOL segment. */
INTERNAL void guard_free(struct slab *s, void *p, enum alloc_family family, size_t size);
/* Records the family of a live guarded or sampled object (operator new). */
INTERNAL void guard_set_family(struct slab *s, const void *p, enum alloc_family family);
/* Is p a live guarded object?  Then *size is its requested size. */
INTERNAL bool guard_usable(struct slab *s, const void *p, size_t *size);
/* The sampling interval to count down next (a random value around the
 * sample_rate option; effectively never when sampling is off). */
INTERNAL uint32_t sample_interval(void);

/* Does guard mode or sampling need the fault handler (front/signals.c)? */
INTERNAL bool guard_wants_faults(void);
/* A fault at si->si_addr: if it lies in guarded memory, reports it and
 * returns true; *resume then says whether the access should go through
 * (guard_continue: the page is opened and the trap flag set) or the
 * process should die of the fault. */
INTERNAL bool guard_fault(int sig, siginfo_t *si, ucontext_t *uc, bool *resume);
/* The single-step trap after an access let through: the page is made
 * inaccessible again.  False when the trap is not ours. */
INTERNAL bool guard_trap(ucontext_t *uc);

INTERNAL extern bool guard_any; /* some cache has G */
INTERNAL extern pthread_mutex_t guard_lock;

#endif

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
    uint8_t left;   /* against the left guard page */
    uint8_t family; /* enum alloc_family; FAMILY_ANY (not checked) without debug flags */
    uint32_t align;
    struct kmem_cache *cache;
    char *data; /* first data page */
    size_t data_len;
    struct track track[2];
};

/* The sampling pool's header, behind its segment header (guard.c draws
 * the pool); readers outside the process find the slots through it. */
struct pool {
    uint32_t nslots;
    uint32_t head, count; /* FIFO of free slot indices */
    char *data0;          /* data page of slot 0; slot i at data0 + 2*i pages */
    uint32_t *fifo;
    struct guard_slot slot[];
};

/* An object of a G cache (`size` as asked), or NULL when guarded memory
 * cannot be had now (the caller then allocates an ordinary debug object). */
INTERNAL void *guard_alloc(struct kmem_cache *c, size_t size);
/* A sampled allocation, or NULL when the size does not qualify or the pool
 * is busy (the caller then allocates normally). */
INTERNAL void *sample_alloc(size_t size, size_t align);
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

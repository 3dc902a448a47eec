/* Shared by the front ends (malloc API, kmem_cache API, initialisation). */
#ifndef SLABDBG_FRONT_H
#define SLABDBG_FRONT_H

#include <stddef.h>

#include "core/internal.h"
#include "debug/debug.h"

/* Lazy, idempotent initialisation: the first malloc may come before any
 * constructor ran. */
INTERNAL void slabdbg_init_slow(void);
static inline void slabdbg_ensure_init(void)
{
    if (unlikely(!atomic_load_explicit(&init_done, memory_order_acquire)))
        slabdbg_init_slow();
}

INTERNAL size_t object_usable_size(const void *p);
/* operator new and delete (front/cxx.c) on the malloc API's paths: the
 * family is recorded in, and checked against, a debugged object's
 * metadata; `align` a power of two (up to 16: the default); `size` the
 * size of a sized delete, SIZE_UNKNOWN otherwise. */
INTERNAL void *family_alloc(size_t n, size_t align, enum alloc_family family);
INTERNAL void family_free(void *p, enum alloc_family family, size_t size);
INTERNAL extern struct kmem_cache kmem_cache_cache;

/* Signals (front/signals.c): the fault handler and its interpositions. */
INTERNAL void signals_init(void);
INTERNAL void signals_fork(enum fork_phase phase);

#endif

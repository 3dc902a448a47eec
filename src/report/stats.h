/* Per-cache statistics in /proc/slabinfo's layout (report/stats.c). */
#ifndef SLABDBG_REPORT_STATS_H
#define SLABDBG_REPORT_STATS_H

#include "core/internal.h"

INTERNAL void stats_print(int fd);

/* One cache's numbers, as slabinfo prints them (objects in thread caches
 * count as active, as the kernel counts those in per-CPU slabs). */
struct cache_stats {
    const char *name;
    uint32_t size;           /* object size */
    uint64_t slabs, active_slabs;
    uint64_t objects, active; /* in its slabs, and handed out */
    uint64_t slab_bytes;     /* bytes of one slab */
    uint64_t guarded;        /* G: live objects, each in a mapping of its own */
    unsigned limit, batch;   /* thread-cache tunables */
};
INTERNAL void stats_cache(struct kmem_cache *c, struct cache_stats *t);
/* Calls fn for every cache, kmalloc caches first (for named caches with
 * cache_list_lock held). */
INTERNAL void stats_each_cache(void (*fn)(const struct cache_stats *, void *), void *arg);

/* The whole heap, for glibc's mallinfo and friends (front/introspect.c). */
struct heap_stats {
    uint64_t slab_bytes;     /* memory of slabs and guarded objects (the "arena") */
    uint64_t empty_bytes;    /* of which slabs without a live object (malloc_trim's) */
    uint64_t active_objects, active_bytes; /* objects handed out, their object sizes */
    uint64_t free_objects, free_bytes;     /* free objects in slabs */
    uint64_t huge_objects, huge_bytes, huge_mapped; /* objects with a mapping of their own */
    uint64_t max_system;     /* the most slab_bytes + huge_mapped seen by stats_heap */
};
INTERNAL void stats_heap(struct heap_stats *h);

#endif

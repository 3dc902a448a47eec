/*
 * Per-cache statistics in the layout of /proc/slabinfo (version 2.1), so the
 * kernel's slabinfo readers work on them.  Objects held in thread caches
 * count as active, as the kernel counts objects in per-CPU slabs.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/lock.h"
#include "report/stats.h"
#include "core/arena.h"
#include "base/out.h"

void stats_cache(struct kmem_cache *c, struct cache_stats *t)
{
    lock(&c->lock, LOCK_CACHE);
    t->slabs = c->nr_partial + c->nr_full;
    t->active = (uint64_t)c->nr_full * c->objects;
    t->active_slabs = c->nr_full;
    for (struct slab *s = c->partial; s; s = s->next) {
        t->active += s->inuse;
        t->active_slabs += s->inuse != 0;
    }
    t->limit = c->tcache_max;
    t->batch = c->batch;
    unlock(&c->lock, LOCK_CACHE);
    t->guarded = __atomic_load_n(&c->nr_guard_live, __ATOMIC_RELAXED);
    t->name = c->name;
    t->size = c->size;
    t->objects = t->slabs * c->objects;
    t->slab_bytes = (uint64_t)c->slab_slices << SLICE_SHIFT;
}

static void cache_line(struct out *o, struct kmem_cache *c)
{
    struct cache_stats t;
    stats_cache(c, &t);
    if (!t.slabs)
        return;
    out_strw(o, c->name, 17);
    out_u64w(o, t.active, 6);
    out_u64w(o, t.objects, 7);
    out_u64w(o, c->size, 7);
    out_u64w(o, c->objects, 5);
    out_u64w(o, t.slab_bytes / PAGE_SIZE_MIN, 4);
    out_str(o, " : tunables");
    out_u64w(o, t.limit, 5);
    out_u64w(o, t.batch, 5);
    out_u64w(o, 0, 5);
    out_str(o, " : slabdata");
    out_u64w(o, t.active_slabs, 7);
    out_u64w(o, t.slabs, 7);
    out_u64w(o, 0, 7);
    out_char(o, '\n');
}

void stats_each_cache(void (*fn)(const struct cache_stats *, void *), void *arg)
{
    struct cache_stats t;
    for (unsigned i = 0; i < NR_KMALLOC; i++) {
        stats_cache(&kmalloc_caches[i], &t);
        fn(&t, arg);
    }
    lock(&cache_list_lock, LOCK_CACHE_LIST);
    for (struct kmem_cache *c = cache_list; c; c = c->next) {
        stats_cache(c, &t);
        fn(&t, arg);
    }
    unlock(&cache_list_lock, LOCK_CACHE_LIST);
}

static void add_cache(const struct cache_stats *c, void *arg)
{
    struct heap_stats *h = arg;
    h->slab_bytes += c->slabs * c->slab_bytes;
    h->empty_bytes += (c->slabs - c->active_slabs) * c->slab_bytes;
    h->active_objects += c->active;
    h->active_bytes += c->active * c->size;
    h->free_objects += c->objects - c->active;
    h->free_bytes += (c->objects - c->active) * c->size;
    /* G: each live object in pages of its own, a guard page beside them */
    h->active_objects += c->guarded;
    h->active_bytes += c->guarded * c->size;
    h->slab_bytes += c->guarded * (align_up(c->size, PAGE_SIZE_MIN) + PAGE_SIZE_MIN);
}

void stats_heap(struct heap_stats *h)
{
    static _Atomic uint64_t max_system;
    memset(h, 0, sizeof(*h));
    stats_each_cache(add_cache, h);
    lock(&huge_lock, LOCK_HUGE);
    for (struct segment *seg = huge_list; seg; seg = seg->next) {
        h->huge_objects++;
        h->huge_bytes += seg->huge_size;
        h->huge_mapped += seg->map_size;
    }
    unlock(&huge_lock, LOCK_HUGE);
    uint64_t sys = h->slab_bytes + h->huge_mapped, old = atomic_load(&max_system);
    while (sys > old && !atomic_compare_exchange_weak(&max_system, &old, sys))
        ;
    h->max_system = sys > old ? sys : old;
}

void stats_print(int fd)
{
    struct out o;
    out_init(&o, fd);
    char name[64];
    out_comm(name, sizeof(name));
    out_str(&o, "slabdbg " SLABDBG_VERSION " statistics: pid ");
    out_u64(&o, (uint64_t)getpid());
    out_str(&o, " (");
    out_str(&o, name);
    out_str(&o, ")\nslabinfo - version: 2.1\n");
    out_str(&o, "# name            <active_objs> <num_objs> <objsize> <objperslab> "
                "<pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata "
                "<active_slabs> <num_slabs> <sharedavail>\n");
    for (unsigned i = 0; i < NR_KMALLOC; i++)
        cache_line(&o, &kmalloc_caches[i]);
    lock(&cache_list_lock, LOCK_CACHE_LIST);
    for (struct kmem_cache *c = cache_list; c; c = c->next)
        cache_line(&o, c);
    unlock(&cache_list_lock, LOCK_CACHE_LIST);

    uint64_t huge_n = 0, huge_bytes = 0;
    lock(&huge_lock, LOCK_HUGE);
    for (struct segment *seg = huge_list; seg; seg = seg->next) {
        huge_n++;
        huge_bytes += seg->huge_size;
    }
    unlock(&huge_lock, LOCK_HUGE);
    uint64_t segs = 0;
    lock(&page_lock, LOCK_PAGE);
    for (struct segment *seg = segment_list; seg; seg = seg->next)
        segs++;
    unlock(&page_lock, LOCK_PAGE);
    out_str(&o, "# huge objects: ");
    out_u64(&o, huge_n);
    out_str(&o, " live, ");
    out_u64(&o, huge_bytes);
    out_str(&o, " bytes; ");
    out_u64(&o, atomic_load(&stat_huge_allocs));
    out_str(&o, " allocated in all, ");
    out_u64(&o, atomic_load(&stat_huge_cache_hits));
    out_str(&o, " from the cache of freed mappings (emptied ");
    out_u64(&o, atomic_load(&stat_huge_cache_flushes));
    out_str(&o, " times)\n# segments: ");
    out_u64(&o, segs);
    out_str(&o, " of ");
    out_u64(&o, SEG_SIZE >> 20);
    out_str(&o, " MiB; frees of pointers not ours: ");
    out_u64(&o, atomic_load(&stat_foreign_frees));
    out_char(&o, '\n');
    out_flush(&o);
}

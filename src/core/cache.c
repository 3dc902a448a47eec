/*
 * Caches: geometry, the central (locked) allocation and free paths, the
 * transfer cache between thread caches and slabs, shrinking.
 *
 * A thread cache refills `batch` objects at a time and flushes `batch` at a
 * time.  Flushed batches land whole in the transfer cache when there is room,
 * so a producer/consumer pair moves objects in O(1) per batch without
 * touching slabs; only when it overflows are objects returned one by one.
 */
#include <errno.h>
#include <string.h>

#include "base/lock.h"
#include "core/internal.h"
#include "debug/debug.h"
#include "debug/guard.h"
#include "base/slub_debug.h"
#include "report/bug.h"
#include "base/options.h"

/* Measured on the bench workloads: larger values bought no speed and cost
 * resident memory. */
#define KEEP_EMPTY 1                  /* empty one-slice slabs a cache keeps */
#define TCACHE_BYTES (16u << 10)      /* a full thread-cache bin, in bytes */
#define XFER_BYTES ((size_t)64 << 10) /* a class's transfer cache, in bytes */

struct kmem_cache kmalloc_caches[NR_KMALLOC];
pthread_mutex_t cache_list_lock = PTHREAD_MUTEX_INITIALIZER; /* lock order 1 (base/lock.h) */
struct kmem_cache *cache_list;                               /* named caches, newest first */

/* Slab size: the first run of slices that wastes at most 1/16 of the slab,
 * else the least wasteful of eight candidates. */
static void cache_geometry(struct kmem_cache *c)
{
    size_t stride = c->stride;
    unsigned n0 = (unsigned)((stride + SLICE_SIZE - 1) >> SLICE_SHIFT);
    unsigned best = n0;
    size_t best_waste = 0, best_bytes = 0;
    for (unsigned n = n0; n < n0 + 8 && n < SLICES_PER_SEG; n++) {
        size_t bytes = (size_t)n << SLICE_SHIFT;
        size_t waste = bytes % stride;
        if (waste * 16 <= bytes) {
            best = n;
            break;
        }
        if (!best_bytes || waste * best_bytes < best_waste * bytes) {
            best = n;
            best_waste = waste;
            best_bytes = bytes;
        }
    }
    c->slab_slices = (uint16_t)best;
    c->objects = (uint32_t)(((size_t)best << SLICE_SHIFT) / stride);
    /* An empty one-slice slab is kept for reuse; bigger empty runs go back
     * to the page layer, which keeps a bounded amount of them resident for
     * whichever cache needs a run next. */
    c->keep_empty = best == 1 ? KEEP_EMPTY : 0;
}

/* The debug flags a cache gets: its own creation flags and SLABDBG. */
static slab_flags_t cache_debug_flags(const char *name, slab_flags_t flags)
{
    if (flags & SLAB_NO_DEBUG)
        return 0;
    slab_flags_t f = (flags | slub_debug_flags(&slub_debug, name)) & SLAB_DEBUG_FLAGS;
    if (f & SLAB_GUARD)
        guard_any = true;
    return f;
}

int cache_setup(struct kmem_cache *c, const char *name, size_t size, size_t align,
                slab_flags_t flags, void (*ctor)(void *))
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    size_t len = strlen(name);
    if (len >= sizeof(c->name))
        len = sizeof(c->name) - 1;
    memcpy(c->name, name, len);
    if (align == 0)
        align = size >= 16 ? 16 : 8;
    if (flags & SLAB_HWCACHE_ALIGN && align < 64 && size > 32)
        align = 64;
    c->size = (uint32_t)size;
    c->flags = flags & ~SLAB_NO_DEBUG;
    c->ctor = ctor;
    c->is_kmalloc = (flags & SLAB_KMALLOC) != 0;
    c->bin = NO_BIN;
    c->batch = 1;
    c->xfer_max = 0;
    /* Without debugging: objects back to back; with a constructor the free
     * pointer goes behind the object, so constructed state survives (SLUB). */
    size_t stride = align_up(size ? size : 1, sizeof(void *));
    if (ctor) {
        c->fp_offset = (uint32_t)stride;
        stride += sizeof(void *);
    }
    /* Thread-cached objects hold a link and a free marker: two words. */
    if (c->is_kmalloc && stride < 2 * sizeof(void *))
        stride = 2 * sizeof(void *);
    c->align = (uint32_t)align;
    c->stride = (uint32_t)align_up(stride, align);
    cache_geometry(c);
    c->debug = cache_debug_flags(c->name, flags);
    c->marker = !c->debug && !ctor && c->stride >= 2 * sizeof(void *);
    if (!c->debug)
        return 0;
    uint16_t plain_slices = c->slab_slices;
    /* Debugged kmalloc caches promise at most 64-byte alignment: a left red
     * zone as large as a 4 KiB alignment would triple the object. */
    if (c->is_kmalloc && c->align > 64)
        c->align = 64;
    debug_cache_setup(c);
    cache_geometry(c);
    if (slub_debug.higher_order_disable && c->slab_slices > plain_slices) {
        /* O: debugging would need bigger slabs; switch it off here. */
        c->debug = 0;
        return cache_setup(c, name, size, align, flags | SLAB_NO_DEBUG, ctor);
    }
    return 0;
}

void kmalloc_caches_init(void)
{
    char name[40];
    for (unsigned i = 0; i < NR_KMALLOC; i++) {
        struct kmem_cache *c = &kmalloc_caches[i];
        size_t size = class_size(i);
        /* "kmalloc-" + decimal size, without stdio. */
        char digits[16];
        int nd = 0;
        for (size_t v = size; v; v /= 10)
            digits[nd++] = (char)('0' + v % 10);
        memcpy(name, "kmalloc-", 8);
        for (int j = 0; j < nd; j++)
            name[8 + j] = digits[nd - 1 - j];
        name[8 + nd] = 0;
        /* Natural alignment: the largest power of two dividing the size. */
        size_t align = size & -size;
        if (align < 8)
            align = 8;
        cache_setup(c, name, size, align > SLICE_SIZE ? SLICE_SIZE : align, SLAB_KMALLOC, NULL);
        if (size <= TCACHE_MAX_SIZE && !c->debug) {
            /* Bin capacity: about TCACHE_BYTES of objects, 4..256 of them. */
            uint32_t max = (uint32_t)(TCACHE_BYTES / size);
            if (max < 4)
                max = 4;
            if (max > 256)
                max = 256;
            c->bin = (uint8_t)i;
            c->tcache_max = max;
            c->batch = max / 2;
            /* Transfer cache: up to XFER_BYTES of objects per class. */
            size_t per = (size_t)c->batch * size;
            size_t nb = XFER_BYTES / per;
            c->xfer_max = (uint32_t)(nb < 1 ? 1 : nb > XFER_MAX ? XFER_MAX : nb);
        }
        if (c->debug)
            debug_mag_setup(c);
    }
}

/* Is q an object of cache c that was handed out at least once?  For links
 * read from free objects, which a stray write may have changed. */
static inline struct slab *cache_object(const struct kmem_cache *c, uintptr_t q)
{
    if ((q & LINK_BAD) || !slabmap_test((void *)q))
        return NULL;
    struct slab *s = slab_of_owned((void *)q);
    /* Only slabs of regular segments have carved objects: object_start()
     * fails for huge, guarded and arena memory. */
    return s && s->cache == c && object_start(s, (void *)q) ? s : NULL;
}

/* A slab whose freelist is corrupt gives nothing more (its remaining free
 * objects are lost, never handed out twice) and is never released. */
static void slab_retire(struct kmem_cache *c, struct slab *s, void *obj)
{
    harden_report(BUG_FREEPOINTER, c, s, obj);
    s->freelist = NULL;
    s->bump = s->end;
    s->isolated = 1;
}

/* Takes an object from slab s; cache lock held, s has a free object.  The
 * next free pointer is checked before it is believed. */
static inline void *slab_take(struct kmem_cache *c, struct slab *s)
{
    void *obj = s->freelist;
    if (obj) {
        uintptr_t next = fp_get_raw(c, obj);
        if (unlikely(next &&
                     ((uintptr_t)next - (uintptr_t)s->start >= (uintptr_t)(s->end - s->start) ||
                      !object_start(s, (void *)next))))
            slab_retire(c, s, obj);
        else
            s->freelist = (void *)next;
    } else {
        obj = s->bump;
        s->bump += s->size;
        s->carved++;
        if (c->ctor)
            c->ctor(obj);
    }
    slab_took(c, s);
    if (unlikely(s->isolated) && s->list != SLAB_ON_FULL) {
        list_del(c, s);
        list_add_head(c, s, SLAB_ON_FULL);
    }
    return obj;
}

static struct slab *cache_partial_or_new(struct kmem_cache *c)
{
    struct slab *s = c->partial;
    if (s)
        return s;
    s = slab_new(c);
    if (s)
        c->nr_empty++; /* a slab on the partial list with inuse 0 counts as empty */
    return s;
}

unsigned cache_alloc_batch(struct kmem_cache *c, unsigned want, void **head)
{
    lock(&c->lock, LOCK_CACHE);
    if (c->nr_xfer && want == c->batch) {
        *head = c->xfer[--c->nr_xfer].head;
        unlock(&c->lock, LOCK_CACHE);
        return want;
    }
    void *list = NULL;
    unsigned got = 0;
    while (got < want) {
        struct slab *s = cache_partial_or_new(c);
        if (!s)
            break;
        do {
            void *obj = slab_take(c, s);
            link_set(obj, list); /* thread-cache lists link through word 0 */
            /* Free until tcache_pop hands it out: marked so, like every free
             * object (the same cache line as the link; tcache_pop checks it,
             * and readers outside the process tell free from allocated by it). */
            if (c->marker)
                ((uintptr_t *)obj)[1] = free_marker(obj);
            list = obj;
            got++;
        } while (got < want && s->list == SLAB_ON_PARTIAL);
    }
    unlock(&c->lock, LOCK_CACHE);
    bugs_flush();
    *head = list;
    if (!got)
        errno = ENOMEM;
    return got;
}

void *cache_alloc_one(struct kmem_cache *c)
{
    lock(&c->lock, LOCK_CACHE);
    void *obj = NULL;
    struct slab *s = cache_partial_or_new(c);
    if (s)
        obj = slab_take(c, s);
    if (obj && c->marker)
        ((uintptr_t *)obj)[1] = 0; /* live from here */
    unlock(&c->lock, LOCK_CACHE);
    bugs_flush();
    if (!obj)
        errno = ENOMEM;
    return obj;
}

/* Is obj on its slab's freelist?  Cache lock held; the walk checks every
 * link and stops at the slab's object count. */
static bool on_freelist(struct kmem_cache *c, struct slab *s, void *obj)
{
    uintptr_t p = (uintptr_t)s->freelist;
    for (uint32_t n = 0; p && n < s->objects; n++) {
        if (p == (uintptr_t)obj)
            return true;
        if (p - (uintptr_t)s->start >= (uintptr_t)(s->end - s->start) ||
            !object_start(s, (void *)p))
            return false;
        p = fp_get_raw(c, (void *)p);
    }
    return false;
}

/* An object of a cache without thread caching (a named cache, or a thread
 * that is exiting).  A marked object is checked against its slab's
 * freelist, where every free object of such a cache is: a double free is
 * reported and dropped. */
void cache_free_one(struct kmem_cache *c, struct slab *s, void *obj)
{
    lock(&c->lock, LOCK_CACHE);
    if (c->marker && ((uintptr_t *)obj)[1] == free_marker(obj) &&
        (c->bin != NO_BIN || on_freelist(c, s, obj)))
        harden_report(BUG_ALREADY_FREE, c, s, obj);
    else
        slab_put(c, s, obj);
    unlock(&c->lock, LOCK_CACHE);
    bugs_flush();
}

/* Puts a list of up to n objects (linked through word 0, as thread caches
 * and transfer batches link them) back in their slabs; cache lock held.
 * Each link is checked before it is followed: a list cut by a corrupt link
 * loses its tail (reported), and never leads anywhere else. */
static void put_list_locked(struct kmem_cache *c, void *head, unsigned n)
{
    if (!head)
        return;
    struct slab *s = slab_of_owned(head); /* the head comes from a bin: sound */
    for (unsigned i = 0; i < n; i++) {
        uintptr_t next = link_next(head);
        slab_put(c, s, head);
        if (!next)
            return;
        s = cache_object(c, next);
        if (unlikely(!s)) {
            harden_report(BUG_FREEPOINTER, c, NULL, head);
            return;
        }
        head = (void *)next;
    }
}

/* Objects of a thread-cached class, linked through word 0. */
void cache_free_list(struct kmem_cache *c, void *head, unsigned n)
{
    lock(&c->lock, LOCK_CACHE);
    if (n == c->batch && c->nr_xfer < c->xfer_max) {
        c->xfer[c->nr_xfer++].head = head;
        unlock(&c->lock, LOCK_CACHE);
        return;
    }
    put_list_locked(c, head, n);
    unlock(&c->lock, LOCK_CACHE);
    bugs_flush();
}

/* Returns the transfer cache's objects to their slabs; cache lock held. */
static void xfer_drain_locked(struct kmem_cache *c)
{
    while (c->nr_xfer) {
        void *head = c->xfer[--c->nr_xfer].head;
        put_list_locked(c, head, c->batch);
    }
}

void cache_drain_xfer(struct kmem_cache *c)
{
    lock(&c->lock, LOCK_CACHE);
    xfer_drain_locked(c);
    unlock(&c->lock, LOCK_CACHE);
    bugs_flush();
}

/* Gives every empty slab back to the system. */
void cache_release_empty(struct kmem_cache *c)
{
    lock(&c->lock, LOCK_CACHE);
    xfer_drain_locked(c);
    debug_quarantine_drain(c);
    struct slab *s = c->partial;
    while (s) {
        struct slab *next = s->next;
        if (s->inuse == 0) {
            list_del(c, s);
            c->nr_empty--;
            slab_release(c, s);
        }
        s = next;
    }
    unlock(&c->lock, LOCK_CACHE);
    bugs_flush();
}

/* fork(): every cache lock, then the page and huge locks, in one order. */
/* fork(): every cache lock (level LOCK_CACHE; cache_list_lock, which the
 * caller takes first, keeps the list of named caches still). */
void caches_fork(enum fork_phase phase)
{
    for (unsigned i = 0; i < NR_KMALLOC; i++)
        fork_lock(&kmalloc_caches[i].lock, phase);
    for (struct kmem_cache *c = cache_list; c; c = c->next)
        fork_lock(&c->lock, phase);
}

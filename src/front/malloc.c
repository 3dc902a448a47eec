/*
 * The C allocation API (and kmalloc) on top of the kmalloc caches.
 *
 * malloc and free are written so the common case is a handful of
 * instructions: size -> class, pop/push this thread's bin.  Everything else
 * (empty or full bin, huge objects, pointers that are not ours) leaves
 * through one call to a noinline slow path.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "base/options.h"
#include "core/tcache.h"
#include "debug/debug.h"
#include "debug/guard.h"
#include "front/front.h"
#include "report/bug.h"

_Atomic uint64_t stat_foreign_frees;

/* A free (or realloc) of memory that is not ours: counted, said, and the
 * memory left alone. */
static void foreign_free(const void *p)
{
    atomic_fetch_add_explicit(&stat_foreign_frees, 1, memory_order_relaxed);
    debug_foreign_free(p);
}

static void report_now(enum bug_kind kind, struct kmem_cache *c, struct slab *s, void *p);

/* A free (or realloc) of a pointer in no live slab or huge mapping: a
 * second free of an object whose slab or mapping went back since (glibc
 * reports those it still can tell), else memory that was never ours. */
static NOINLINE void unknown_free(void *p)
{
    struct kmem_cache *c = released_object(p);
    if (c || huge_was_freed(p))
        report_now(BUG_ALREADY_FREE, c, NULL, p);
    else
        foreign_free(p);
}

/* An empty bin, or a debugged class: `n` is the size asked for. */
static NOINLINE void *alloc_slow(unsigned cls, size_t n)
{
    if (unlikely(report_depth))
        return arena_alloc(n, 16, false);
    if (unlikely(tcache.bins[cls].head != NULL)) /* tcache_pop found a corrupt link */
        return tcache_pop_corrupt(cls);
    slabdbg_ensure_init();
    struct kmem_cache *c = &kmalloc_caches[cls];
    if (c->debug)
        return debug_alloc(c, n);
    return tcache_refill(cls);
}

static inline void *kmalloc_class(unsigned cls, size_t n)
{
    void *p = tcache_pop(cls);
    if (likely(p))
        return p;
    return alloc_slow(cls, n);
}

static NOINLINE void *alloc_sampled(size_t n);

/* Above the size classes: a mapping of its own (or the report arena). */
static NOINLINE void *alloc_large(size_t n, size_t align, bool zero)
{
    if (unlikely(report_depth))
        return arena_alloc(n, align, zero);
    return huge_alloc(n, align, zero);
}

static inline void *alloc_unsampled(size_t n)
{
    if (likely(n <= KMALLOC_MAX))
        return kmalloc_class(size_class(n), n);
    return alloc_large(n, 0, false);
}

/* One allocation in sample_rate goes to the guarded pool: a thread-local
 * countdown, no atomic. */
static inline void *alloc_any(size_t n)
{
    if (unlikely(--tcache.sample_left == 0))
        return alloc_sampled(n);
    return alloc_unsampled(n);
}

static NOINLINE void *alloc_sampled(size_t n)
{
    slabdbg_ensure_init();
    tcache.sample_left = sample_interval();
    void *p = sample_alloc(n, 0);
    return p ? p : alloc_unsampled(n);
}

static void report_now(enum bug_kind kind, struct kmem_cache *c, struct slab *s, void *p)
{
    harden_report(kind, c, s, p);
    bugs_flush();
}

/* free() of a huge object, a guarded one, or of memory in no slab. */
static void free_special(struct slab *s, void *p, enum alloc_family family, size_t size)
{
    struct segment *seg = segment_of(s);
    if (seg->kind == SEG_GUARD || seg->kind == SEG_POOL) {
        guard_free(s, p, family, size);
    } else if (seg->kind == SEG_ARENA) {
        arena_free(p);
    } else if (seg->kind == SEG_HUGE && p == s->start) {
        if (s->inuse)
            huge_free(s);
        else /* a freed mapping kept for reuse */
            report_now(BUG_ALREADY_FREE, NULL, NULL, p);
    } else if (seg->kind == SEG_HUGE && (char *)p >= s->start && (char *)p < s->end) {
        report_now(BUG_INVALID_POINTER, NULL, NULL, p);
    } else if (seg->kind == SEG_HUGE) { /* its header, or past its mapping */
        unknown_free(p);
    } else {
        foreign_free(p);
    }
}

/* free() of something that is not a free-able object of a thread-cached
 * slab with room in its bin: a full bin, a debugged or named cache, a
 * huge or guarded object, and every misuse (not an object start, already
 * free, not our memory: reported, and the free dropped). */
static NOINLINE void free_slow(struct slab *s, void *p, enum alloc_family family, size_t size)
{
    if (!s) {
        if (!p)
            return;
        s = slab_lookup(p);
        if (!s) {
            /* Not ours (the stack, static data, another allocator's block),
             * or no longer.  Left alone, and said. */
            unknown_free(p);
            return;
        }
    }
    struct kmem_cache *c = s->cache;
    if (!c || segment_of(s)->kind != SEG_SLABS) {
        free_special(s, p, family, size);
        return;
    }
    if (c->debug) {
        debug_free_as(c, s, p, family, size);
        return;
    }
    if (!object_start(s, p)) {
        report_now(BUG_INVALID_POINTER, c, s, p);
        return;
    }
    /* Thread-cached classes: the marker alone says it (every free object
     * of theirs carries it); named caches check their freelist. */
    if (s->bin != NO_BIN && ((uintptr_t *)p)[1] == free_marker(p)) {
        report_now(BUG_ALREADY_FREE, c, s, p);
        return;
    }
    tcache_free_slow(s, p);
}

/* The fast path: an object start of a thread-cached slab, not already free
 * (its word 1 is not its free marker), into this thread's bin.  `family`
 * and `size` (the API of the free, and a sized delete's size) matter only
 * to debugged caches, which never take the fast path. */
static inline void free_as(void *p, enum alloc_family family, size_t size)
{
    if (likely(segmap_test(p))) {
        struct slab *s = slab_of_owned(p);
        if (likely(s != NULL) && likely(object_start(s, p)) &&
            likely(((uintptr_t *)p)[1] != free_marker(p)) && likely(tcache_push(s->bin, p)))
            return;
        free_slow(s, p, family, size);
        return;
    }
    free_slow(NULL, p, family, size);
}

static inline void free_any(void *p)
{
    free_as(p, FAMILY_ANY, SIZE_UNKNOWN);
}

size_t object_usable_size(const void *p)
{
    struct slab *s = slab_lookup(p);
    if (!s)
        return 0;
    enum seg_kind kind = segment_of(s)->kind;
    size_t n = 0;
    if (kind == SEG_GUARD || kind == SEG_POOL)
        return guard_usable(s, p, &n) ? n : 0;
    if (kind == SEG_ARENA)
        return arena_usable(p);
    if (!s->cache)
        return (const char *)p == s->start && s->inuse ? segment_of(s)->huge_size : 0;
    if (s->cache->debug)
        return debug_usable(s->cache, s, (void *)p, &n) ? n : 0;
    return s->cache->size;
}

static void *alloc_aligned(size_t align, size_t n)
{
    if (unlikely(report_depth))
        return arena_alloc(n, align, false);
    if (align <= 16) { /* a size of at least the alignment gets it everywhere */
        if (likely(!guard_any && opt.sample_rate <= 0))
            return alloc_any(n < align ? align : n);
        /* but guarded memory aligns an object only as its size implies */
        guard_asked_align = align;
        void *p = alloc_any(n < align ? align : n);
        guard_asked_align = 0;
        return p;
    }
    slabdbg_ensure_init();
    if (unlikely(--tcache.sample_left == 0)) {
        tcache.sample_left = sample_interval();
        void *p = sample_alloc(n, align);
        if (p)
            return p;
    }
    if (n <= KMALLOC_MAX && align <= SLICE_SIZE) {
        /* The first class whose objects all have that alignment. */
        for (unsigned c = size_class(n); c < NR_KMALLOC; c++)
            if (kmalloc_caches[c].align >= align) {
                guard_asked_align = align;
                void *p = kmalloc_class(c, n);
                guard_asked_align = 0;
                return p;
            }
    }
    return alloc_large(n, align, false);
}

static size_t pow2_ceil(size_t a)
{
    if (a <= 1)
        return 1;
    if (a > ((size_t)1 << 62))
        return 0;
    return (size_t)1 << (64 - __builtin_clzl(a - 1));
}

static void *realloc_any(void *p, size_t n)
{
    struct slab *s = slab_lookup(p);
    if (unlikely(!s)) {
        /* Not ours, or no longer: a block of another allocator, or one
         * freed whose slab or mapping went back to the system.  Its size
         * is unknown and its memory may be gone: reported as free() would
         * report it, left alone, and refused (glibc aborts with
         * "realloc(): invalid pointer"). */
        unknown_free(p);
        errno = EINVAL;
        return NULL;
    }
    size_t old;
    enum seg_kind kind = segment_of(s)->kind;
    if (kind == SEG_ARENA) {
        if (report_depth)
            return arena_realloc(p, n);
        old = arena_usable(p);
    } else if (kind == SEG_GUARD || kind == SEG_POOL) {
        if (!guard_usable(s, p, &old)) { /* not a live object: let free() report it */
            free_any(p);
            return NULL;
        }
    } else if (!s->cache) {
        if (p != s->start || !s->inuse) {
            free_special(s, p, FAMILY_ANY, SIZE_UNKNOWN); /* reports the misuse */
            errno = EINVAL;
            return NULL;
        }
        void *q = huge_realloc(s, p, n);
        if (q)
            return q;
        old = segment_of(s)->huge_size;
    } else if (s->cache->debug) {
        if (!debug_usable(s->cache, s, p, &old)) { /* not live: let free() report it */
            free_any(p);
            return NULL;
        }
        if (n <= s->cache->size && n > s->cache->size / 2 && debug_resize(s->cache, s, p, n))
            return p;
    } else {
        if (!object_start(s, p) || (s->bin != NO_BIN && ((uintptr_t *)p)[1] == free_marker(p))) {
            free_slow(s, p, FAMILY_ANY, SIZE_UNKNOWN); /* reports the misuse; p is left alone */
            errno = EINVAL;
            return NULL;
        }
        old = s->cache->size;
        /* Same class, or shrinking by less than half: stay in place. */
        if (n <= old && (n > old / 2 || old <= 16))
            return p;
    }
    void *q = alloc_any(n);
    if (!q)
        return NULL;
    memcpy(q, p, n < old ? n : old);
    free_any(p);
    return q;
}

/* ---- the C API ---------------------------------------------------------- */

EXPORT void *malloc(size_t n)
{
    void *p = alloc_any(n);
    return p;
}

EXPORT void free(void *p)
{
    free_as(p, FAMILY_MALLOC, SIZE_UNKNOWN);
}

EXPORT void *calloc(size_t nmemb, size_t size)
{
    size_t n;
    if (unlikely(__builtin_mul_overflow(nmemb, size, &n))) {
        errno = ENOMEM;
        return NULL;
    }
    if (n > KMALLOC_MAX)
        return alloc_large(n, 0, true); /* fresh mappings are already zero */
    void *p;
    if (unlikely(--tcache.sample_left == 0))
        p = alloc_sampled(n);
    else
        p = kmalloc_class(size_class(n), n);
    if (likely(p))
        memset(p, 0, n);
    return p;
}

EXPORT void *realloc(void *p, size_t n)
{
    if (!p)
        return alloc_any(n);
    if (n == 0) { /* glibc: free and return NULL */
        free_any(p);
        return NULL;
    }
    return realloc_any(p, n);
}

EXPORT void *reallocarray(void *p, size_t nmemb, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(nmemb, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, n);
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    int saved = errno;
    void *p = alloc_aligned(align, n);
    if (!p)
        return ENOMEM;
    errno = saved;
    *out = p;
    return 0;
}

/* glibc rounds a non-power-of-two alignment up to the next power of two. */
EXPORT void *memalign(size_t align, size_t n)
{
    size_t a = pow2_ceil(align);
    if (!a) {
        errno = EINVAL;
        return NULL;
    }
    return alloc_aligned(a, n);
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
    return memalign(align, n);
}

EXPORT void *valloc(size_t n)
{
    return alloc_aligned((size_t)sysconf(_SC_PAGESIZE), n);
}

EXPORT void *pvalloc(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t r = align_up(n ? n : 1, page);
    if (r < n) {
        errno = ENOMEM;
        return NULL;
    }
    return alloc_aligned(page, r);
}

EXPORT size_t malloc_usable_size(void *p)
{
    return p ? object_usable_size(p) : 0;
}

/* ---- for operator new and delete (front/cxx.c) ------------------------- */

void *family_alloc(size_t n, size_t align, enum alloc_family family)
{
    void *p = align > 16 ? alloc_aligned(align, n) : alloc_any(n);
    if (unlikely(debug_any) && p)
        debug_set_family(p, family);
    return p;
}

void family_free(void *p, enum alloc_family family, size_t size)
{
    free_as(p, family, size);
}

/* ---- kmalloc ------------------------------------------------------------ */

EXPORT void *kmalloc(size_t size, gfp_t flags)
{
    return flags & __GFP_ZERO ? calloc(1, size) : alloc_any(size);
}

EXPORT void *kzalloc(size_t size, gfp_t flags)
{
    return kmalloc(size, flags | __GFP_ZERO);
}

EXPORT void *kcalloc(size_t n, size_t size, gfp_t flags)
{
    (void)flags;
    return calloc(n, size);
}

EXPORT void *krealloc(const void *p, size_t n, gfp_t flags)
{
    size_t old = p ? object_usable_size(p) : 0;
    void *q = realloc((void *)p, n);
    if (q && (flags & __GFP_ZERO) && n > old)
        memset((char *)q + old, 0, n - old);
    return q;
}

EXPORT void kfree(const void *p)
{
    free_any((void *)p);
}

EXPORT size_t ksize(const void *p)
{
    return p ? object_usable_size(p) : 0;
}

EXPORT int slabdbg_owns(const void *p)
{
    return p && slab_lookup(p) != NULL;
}

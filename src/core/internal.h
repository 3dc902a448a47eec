/*
 * The allocator core: segments, slabs, caches, size classes, thread caches.
 *
 * Memory is taken from the system in 4 MiB *segments*, aligned to their size,
 * so the segment of any pointer is `p & ~SEG_MASK`.  A segment is cut into 64
 * slices of 64 KiB; slice 0 holds the segment header, the others are handed
 * out in contiguous runs as *slabs*.  All metadata (segment header, slab
 * descriptors) lives in slice 0, out of band: an overflow of the last object
 * of a slab runs into the next slab's objects, never into allocator state.
 *
 *   segment (4 MiB, aligned)
 *   +----------------+-----------+-----------+-----+-----------+
 *   | slice 0:       | slab A    | slab B (3 slices)     | ... |
 *   | header, slab   | objects   | objects               |     |
 *   | descriptors    |           |                       |     |
 *   +----------------+-----------+-----------------------+-----+
 *
 * Objects larger than the largest size class get a mapping of their own
 * (a *huge* segment): the same header at the start of a 4 MiB-aligned
 * mapping, one slab descriptor, the object behind it.
 *
 * Pointer -> slab is O(1) and never touches user memory: a bitmap with one
 * bit per 4 MiB of address space (the segment map) says whether a segment of
 * ours starts there, then the header's slice table names the slab.  Pointers
 * that are not ours (allocated before we took over, or by someone else) are
 * recognised by the same test.
 */
#ifndef SLABDBG_CORE_INTERNAL_H
#define SLABDBG_CORE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/common.h"
#include "base/lock.h"
#include "slabdbg.h"

#define PAGE_SIZE_MIN 4096u
#define SEG_SHIFT 22
#define SEG_SIZE ((size_t)1 << SEG_SHIFT)
#define SEG_MASK (SEG_SIZE - 1)
#define SLICE_SHIFT 16
#define SLICE_SIZE ((size_t)1 << SLICE_SHIFT)
#define SLICES_PER_SEG (SEG_SIZE / SLICE_SIZE)
#define VA_BITS 47 /* user address space covered by the segment map */

#define SEG_MAGIC 0x534c4142u /* "SLAB" */

/* ---------------------------------------------------------------------------
 * Size classes: the kmalloc-<n> caches.
 * 8, then 16-byte steps to 128, then CLASSES_PER_DOUBLING classes per
 * doubling up to 512 KiB.  Every class from 16 up is a multiple of 16, so
 * objects are 16-byte aligned; every power-of-two class is naturally aligned
 * to its size by the slab layout.
 */
#ifndef CLASS_BITS
#define CLASS_BITS 3
#endif
#define CLASSES_PER_DOUBLING (1u << CLASS_BITS)
#define NR_KMALLOC (9u + 12u * CLASSES_PER_DOUBLING)
#define KMALLOC_MAX ((size_t)512 << 10)
#define NO_BIN NR_KMALLOC /* bin index of objects never thread-cached */
#define TCACHE_MAX_SIZE ((size_t)32 << 10)

static inline unsigned size_class(size_t n)
{
    if (n <= 128)
        return n <= 8 ? 0 : (unsigned)((n + 15) >> 4);
    unsigned k = 63u - (unsigned)__builtin_clzl(n - 1); /* 2^k < n <= 2^(k+1) */
    return 9u + (k - 7u) * CLASSES_PER_DOUBLING +
           (unsigned)(((n - 1) >> (k - CLASS_BITS)) & (CLASSES_PER_DOUBLING - 1));
}

static inline size_t class_size(unsigned c)
{
    if (c < 9)
        return c ? (size_t)c << 4 : 8;
    unsigned i = c - 9;
    return (size_t)(CLASSES_PER_DOUBLING + 1 + i % CLASSES_PER_DOUBLING)
           << (i / CLASSES_PER_DOUBLING + 7 - CLASS_BITS);
}

/* ---------------------------------------------------------------------------
 * Slabs.  A slab's objects are carved lazily from `bump`, so a new slab
 * touches no memory until its objects are used.  Invariant:
 *   inuse == objects - (length of freelist) - (end - bump) / size.
 */
struct kmem_cache;
struct quarantine;

enum slab_list { SLAB_ON_NONE, SLAB_ON_PARTIAL, SLAB_ON_FULL };

struct slab {
    /* What free()'s fast path reads, in the first 24 bytes (one line). */
    char *start;              /* first object */
    uint32_t carved;          /* objects carved from bump so far (0: nothing to free here) */
    uint32_t div_mul;         /* object_start(): inverse of the odd part of the stride */
    uint8_t div_shift;        /* ... and its power of two */
    uint8_t bin;              /* thread-cache bin, NO_BIN if none */
    uint8_t list;             /* enum slab_list */
    uint8_t isolated;         /* corrupt freelist: retired for good */
    uint32_t inuse;           /* objects out of the slab (thread caches or users) */
    void *freelist;           /* returned objects, linked (encoded) at cache->fp_offset */
    char *bump;               /* first never-used object */
    char *end;                /* start + objects * size */
    struct kmem_cache *cache; /* NULL for a huge object */
    struct slab *next, *prev; /* the cache's partial or full list */
    uint32_t objects;
    uint32_t size; /* object stride */
    uint16_t nslices;
    /* After the slab went back to the page layer (cache NULL): 1 + the
     * kmalloc class it belonged to, 0 for none (a named cache).  With the
     * stale start, end and object_start() constants, it tells a second
     * free of one of its objects from a free of memory never handed out
     * (released_object()). */
    uint8_t released_class;
    void *meta; /* debug: per-object metadata, out of band (debug/debug.h) */
} __attribute__((aligned(32)));

/* Is p the start of an object of slab s that was carved (handed out at
 * least once)?  Exact, without a division: with stride = d0 << k (d0 odd),
 * x = p - start is i * stride exactly when rotr(x * inv(d0), k) == i, and
 * any other x gives a value at least 2^32 / stride > objects.  Slabs that
 * are not thread-cached slabs of regular segments (huge, guarded, debug,
 * arena) keep carved = 0, so the test fails and the caller takes the slow
 * path. */
static inline uint32_t slab_index_exact(const struct slab *s, uint32_t x)
{
    uint32_t q = x * s->div_mul;
    return (q >> s->div_shift) | (q << ((32 - s->div_shift) & 31));
}

static inline bool object_start(const struct slab *s, const void *p)
{
    return slab_index_exact(s, (uint32_t)((uintptr_t)p - (uintptr_t)s->start)) < s->carved;
}

/* The constants of object_start() for a stride. */
static inline void slab_divisor(struct slab *s, uint32_t stride)
{
    unsigned k = (unsigned)__builtin_ctz(stride);
    uint32_t d = stride >> k, inv = d; /* Newton: each step doubles the good bits */
    for (int i = 0; i < 5; i++)
        inv *= 2 - d * inv;
    s->div_mul = inv;
    s->div_shift = (uint8_t)k;
}

/* SEG_GUARD: one guarded object (G caches); SEG_POOL: the sampling pool;
 * SEG_ARENA: the report arena (core/arena.h). */
enum seg_kind { SEG_SLABS = 1, SEG_HUGE = 2, SEG_GUARD = 3, SEG_POOL = 4, SEG_ARENA = 5 };

struct segment {
    uint32_t magic;
    uint8_t kind;
    uint8_t big_align;                       /* huge: object lies in a later 4 MiB chunk */
    uint64_t free_slices;                    /* SEG_SLABS: bit i set = slice i free */
    uint64_t dirty_slices;                   /* free slices whose pages are still resident */
    size_t map_size;                         /* bytes mapped from the segment start */
    size_t huge_size;                        /* SEG_HUGE: bytes the user asked for */
    struct segment *next, *prev;             /* registry of all segments */
    struct segment *avail_next, *avail_prev; /* SEG_SLABS with free slices */
    bool on_avail;
    struct slab *slice_slab[SLICES_PER_SEG]; /* slice -> owning slab, NULL if free */
    struct slab slabs[SLICES_PER_SEG];       /* descriptor of the slab starting at slice i */
};

/* ---------------------------------------------------------------------------
 * The segment map: one bit per 4 MiB of user address space (4 MiB of .bss,
 * touched only where segments are).
 *
 * The slab map: the same, for SEG_SLABS segments only, every byte of whose
 * 4 MiB is mapped and readable.  A huge object's mapping ends where its
 * object does (the rest of its 4 MiB may be unmapped, or anyone's), and
 * guarded and pool segments hold inaccessible pages: a link read from a
 * free object, which a stray write may have changed, is checked against
 * the slab map before it is followed.
 */
#define SEGMAP_WORDS (((size_t)1 << (VA_BITS - SEG_SHIFT)) / 64)
INTERNAL extern _Atomic uint64_t segmap[SEGMAP_WORDS];
INTERNAL extern _Atomic uint64_t slabmap[SEGMAP_WORDS];

static inline bool map_test(const _Atomic uint64_t *map, const void *p)
{
    uintptr_t i = (uintptr_t)p >> SEG_SHIFT;
    if (unlikely(i >= ((uintptr_t)1 << (VA_BITS - SEG_SHIFT))))
        return false;
    return (atomic_load_explicit(&map[i >> 6], memory_order_relaxed) >> (i & 63)) & 1;
}

static inline bool segmap_test(const void *p)
{
    return map_test(segmap, p);
}

static inline bool slabmap_test(const void *p)
{
    return map_test(slabmap, p);
}

static inline struct segment *segment_of(const void *p)
{
    return (struct segment *)((uintptr_t)p & ~(uintptr_t)SEG_MASK);
}

/* The slab of a pointer inside a regular segment known to be ours. */
static inline struct slab *slab_of_owned(const void *p)
{
    struct segment *seg = segment_of(p);
    return seg->slice_slab[((uintptr_t)p & SEG_MASK) >> SLICE_SHIFT];
}

INTERNAL void segmap_set(const void *seg, bool on);
/* The slab holding p, or NULL if p is not memory of ours. */
INTERNAL struct slab *slab_lookup(const void *p);
/* The kmalloc cache of a slab given back to the page layer that had an
 * object starting at p (a slice of ours now free), or NULL: a free of p is
 * then a second free of that object, not of foreign memory. */
INTERNAL struct kmem_cache *released_object(const void *p);

/* Page layer: runs of slices. Returns the slab descriptor for the run. */
INTERNAL struct slab *span_alloc(unsigned nslices);
INTERNAL void span_free(struct slab *s);
/* Gives the pages of every free slice back to the system (malloc_trim);
 * returns the bytes given back. */
INTERNAL size_t span_purge_all(void);
INTERNAL void *os_map_aligned(size_t size, size_t align);
INTERNAL void os_unmap(void *p, size_t size);
INTERNAL void os_discard(void *p, size_t size);

/* Huge objects. */
INTERNAL void *huge_alloc(size_t size, size_t align, bool zero);
INTERNAL void huge_free(struct slab *s);
INTERNAL void *huge_realloc(struct slab *s, void *p, size_t size);
INTERNAL size_t huge_usable(const struct slab *s);
INTERNAL void huge_cache_flush(void);
/* The huge object whose mapping holds p (from its start to the end of its
 * mapping), for the pointers the segment map does not see: past the first
 * 4 MiB of a large object, or in a mapping aligned to 4 MiB or more. */
INTERNAL struct slab *huge_lookup(const void *p);
/* Was p the start of a huge object whose mapping went back to the system
 * since (among the last few)? */
INTERNAL bool huge_was_freed(const void *p);

/* ---------------------------------------------------------------------------
 * Caches.  kmalloc caches are static and thread-cached; named caches made by
 * kmem_cache_create go through the cache lock on every operation, which keeps
 * kmem_cache_destroy exact (no objects hide in other threads' caches).
 */
#define XFER_MAX 16

/* Internal cache flags, beside the public SLAB_* ones. */
#define SLAB_KMALLOC 0x00001000u  /* a kmalloc-<n> cache (as in the kernel) */
#define SLAB_NO_DEBUG 0x80000000u /* never debugged (allocator metadata) */

struct xfer_batch {
    void *head; /* a list of cache->batch objects linked through word 0 */
};

struct kmem_cache {
    pthread_mutex_t lock; /* lock order 4, LOCK_CACHE (base/lock.h): never two at once */
    struct slab *partial, *partial_tail; /* slabs with free objects; empty ones at the tail */
    struct slab *full;
    uint32_t nr_partial, nr_full, nr_empty;
    uint32_t size;   /* object size the user sees */
    uint32_t stride; /* distance between objects */
    uint32_t align;
    uint32_t fp_offset; /* where the free pointer of a free object lives */
    uint32_t objects;   /* per slab */
    uint16_t slab_slices;
    uint8_t bin;         /* NO_BIN if not thread-cached */
    uint8_t keep_empty;  /* empty slabs kept before returning memory */
    uint32_t batch;      /* objects moved per thread-cache refill/flush */
    uint32_t tcache_max; /* thread-cache bin capacity */
    slab_flags_t flags;
    void (*ctor)(void *);
    uint32_t nr_xfer, xfer_max;
    struct xfer_batch xfer[XFER_MAX];
    uint64_t nr_slab_allocs, nr_slab_frees; /* slabs taken from / returned to the page layer */
    /* Debug layout (debug/layout.c), offsets from the object's start;
     * all zero for a cache without debug flags. */
    slab_flags_t debug;    /* active debug flags */
    uint32_t red_left_pad; /* Z: left red zone before each object */
    uint32_t inuse;        /* object + right red zone */
    uint32_t pad_offset;   /* after the free pointer: padding up to the next slot */
    uint32_t meta_size;    /* bytes of out-of-band metadata per object */
    bool is_kmalloc;
    bool marker;                   /* word 1 of a free object holds free_marker() */
    uint64_t nr_fail_calls;        /* A: allocations seen */
    struct quarantine *quarantine; /* freed objects held back from reuse */
    uint64_t nr_guard_live;        /* G: live objects (each in a slot of its own) */
    struct kmem_cache *next;       /* registry */
    char name[40];
    struct gpool *gpool;         /* G: the owner of its guard pools (debug/guard.c) */
    _Atomic uint32_t validating; /* validations running (debug/check.c, thread magazines) */
    uint16_t mag_cap;            /* objects a thread magazine holds, 0: none (debug/check.c) */
};

INTERNAL extern struct kmem_cache kmalloc_caches[NR_KMALLOC];
static inline unsigned kmalloc_index(const struct kmem_cache *c)
{
    return (unsigned)(c - kmalloc_caches);
}
INTERNAL extern pthread_mutex_t cache_list_lock;
INTERNAL extern struct kmem_cache *cache_list;

INTERNAL void kmalloc_caches_init(void);
INTERNAL int cache_setup(struct kmem_cache *c, const char *name, size_t size, size_t align,
                         slab_flags_t flags, void (*ctor)(void *));
/* Takes up to `want` objects into a list; returns how many, *head set. */
INTERNAL unsigned cache_alloc_batch(struct kmem_cache *c, unsigned want, void **head);
INTERNAL void *cache_alloc_one(struct kmem_cache *c);
/* Returns `n` objects linked through word 0 (n may be 1). */
INTERNAL void cache_free_list(struct kmem_cache *c, void *head, unsigned n);
INTERNAL void cache_free_one(struct kmem_cache *c, struct slab *s, void *obj);
INTERNAL void cache_drain_xfer(struct kmem_cache *c);
INTERNAL void cache_release_empty(struct kmem_cache *c);
INTERNAL void caches_fork(enum fork_phase phase);

/* Slab operations, cache lock held. */
INTERNAL struct slab *slab_new(struct kmem_cache *c);
INTERNAL void slab_release(struct kmem_cache *c, struct slab *s);
INTERNAL void slab_put(struct kmem_cache *c, struct slab *s, void *obj);
INTERNAL void slab_took(struct kmem_cache *c, struct slab *s);
INTERNAL void list_add_head(struct kmem_cache *c, struct slab *s, enum slab_list l);
INTERNAL void list_add_tail_partial(struct kmem_cache *c, struct slab *s);
INTERNAL void list_del(struct kmem_cache *c, struct slab *s);

/* Object i of slab s (after its left red zone, in a debugged cache). */
static inline uint8_t *slab_object(const struct kmem_cache *c, const struct slab *s, uint32_t i)
{
    return (uint8_t *)s->start + (size_t)i * c->stride + c->red_left_pad;
}

/* ---------------------------------------------------------------------------
 * Free-list hardening, always on (the kernel's CONFIG_SLAB_FREELIST_HARDENED
 * and glibc's tcache key, together):
 *   - every link between free objects (word 0 of a thread-cached object,
 *     the free pointer of a slab's freelist, transfer batches) is stored
 *     as next ^ link_key ^ (address of the link >> 12).  A stray write
 *     into a free object decodes to a value with high bits set or bad
 *     alignment (all but 2^-20 of values), which is reported as a corrupt
 *     free pointer instead of being handed out;
 *   - word 1 of a free object of a class that has one (stride >= 16, no
 *     constructor) holds free_marker(p) = free_key ^ p, and is cleared when
 *     the object is handed out: a free of an object whose word 1 holds its
 *     marker is a double free.  The keys are random per process.
 */
INTERNAL extern uintptr_t link_key, free_key;
#define LINK_BAD (~(((uintptr_t)1 << VA_BITS) - 1) | 7u)

static inline uintptr_t link_encode(const void *slot, const void *next)
{
    return (uintptr_t)next ^ link_key ^ ((uintptr_t)slot >> 12);
}
static inline uintptr_t link_decode(const void *slot, uintptr_t stored)
{
    return stored ^ link_key ^ ((uintptr_t)slot >> 12);
}
static inline uintptr_t free_marker(const void *p)
{
    return free_key ^ (uintptr_t)p;
}
/* Sets the keys (at initialisation, before any object exists). */
INTERNAL void hardening_init(void);

/* The encoded free pointer of a free object; fp_get returns the decoded
 * value, which the caller must check before following it. */
static inline uintptr_t fp_get_raw(const struct kmem_cache *c, void *obj)
{
    return link_decode((char *)obj + c->fp_offset, *(uintptr_t *)((char *)obj + c->fp_offset));
}
static inline void *fp_get(const struct kmem_cache *c, void *obj)
{
    return (void *)fp_get_raw(c, obj);
}
static inline void fp_set(const struct kmem_cache *c, void *obj, void *next)
{
    uintptr_t *slot = (uintptr_t *)((char *)obj + c->fp_offset);
    *slot = link_encode(slot, next);
}
/* Links of thread-cache and transfer lists: word 0. */
static inline uintptr_t link_next(void *obj)
{
    return link_decode(obj, *(uintptr_t *)obj);
}
static inline void link_set(void *obj, void *next)
{
    *(uintptr_t *)obj = link_encode(obj, next);
}

/* ---------------------------------------------------------------------------
 * Global state and locks.
 */
INTERNAL extern pthread_mutex_t page_lock;
INTERNAL extern pthread_mutex_t huge_lock;
INTERNAL extern struct segment *segment_list; /* page_lock */
INTERNAL extern struct segment *huge_list;    /* huge_lock */
INTERNAL extern _Atomic uint64_t stat_foreign_frees;
INTERNAL extern _Atomic uint64_t stat_huge_allocs, stat_huge_cache_hits, stat_huge_cache_flushes;

/* Set once the library is initialised (front/init.c); every entry point
 * of the front end makes sure of it before calling into the core. */
INTERNAL extern _Atomic int init_done;

static inline size_t align_up(size_t n, size_t a)
{
    return (n + a - 1) & ~(a - 1);
}

#endif

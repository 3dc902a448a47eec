/*
 * The debug path of caches with SLABDBG flags: layout, checks, tracks.
 *
 * Object layout of a debugged cache, as in SLUB (offsets from the object
 * pointer p that the user sees; see debug_cache_setup):
 *
 *   p - red_left_pad  +---------------------------+
 *                     | left red zone        (Z)  |  0xbb free / 0xcc allocated
 *   p                 +---------------------------+
 *                     | object (size)             |  0x6b..0x6b 0xa5 while free (P)
 *                     |   kmalloc: requested size, |
 *                     |   then slack         (Z)  |  0xcc while allocated
 *   p + size          +---------------------------+
 *                     | right red zone       (Z)  |  to a word boundary, at least a word
 *   p + inuse         +---------------------------+
 *                     | free pointer   (P or ctor)|  outside the object, so poison stays whole
 *   p + pad_offset    +---------------------------+
 *                     | padding              (P)  |  0x5a, up to the next object's red zone
 *                     +---------------------------+
 *
 * Unlike SLUB, what the allocator must trust about an object (its state,
 * the size asked for, the alloc and free tracks) is not behind the object,
 * where an overflow reaches it first, but out of band: one struct obj_meta
 * per object in an array of the slab's own (s->meta, mapped apart from the
 * heap).  An overflow of any length is then reported as the overflow it is,
 * with the object's true tracks.  The free pointer stays in the slot, as in
 * SLUB, and is checked after the red zones and poison around it and never
 * followed unchecked.
 *
 * A debugged cache never uses thread caches: every allocation and free
 * runs the checks its flags ask for, under the cache lock, or, for kmalloc
 * caches with flags within FZPU, on an object of the calling thread's
 * magazine (check.c: the lock is taken once per refill or flush).
 */
#ifndef SLABDBG_DEBUG_H
#define SLABDBG_DEBUG_H

#include <time.h>

#include "core/internal.h"
#include "debug/stackdepot.h"

#define SLUB_RED_INACTIVE 0xbb
#define SLUB_RED_ACTIVE 0xcc
#define POISON_INUSE 0x5a
#define POISON_FREE 0x6b
#define POISON_END 0xa5

enum track_item { TRACK_ALLOC, TRACK_FREE };

struct track {
    uintptr_t addr;        /* the caller of the allocator */
    depot_handle_t handle; /* its whole stack */
    int32_t cpu;
    int32_t pid; /* thread id */
    uint32_t pad;
    uint64_t when; /* CLOCK_MONOTONIC, nanoseconds */
};

/* The clock of track times and ages: the coarse one (a few ms of
 * resolution, like the kernel's jiffies) costs a memory read, where the
 * precise one may be a system call on virtual machines. */
static inline uint64_t track_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define OBJ_STATE_ACTIVE 0xacac0001u
#define OBJ_STATE_FREE 0xf4ee0002u
#define OBJ_STATE_QUARANTINE 0xf4ee0003u
#define OBJ_STATE_OWNED 0xf4ee0004u /* free, in a thread's magazine (debug/check.c) */

/* The API an object came from, and must go back through: malloc and free,
 * new and delete, new[] and delete[] (ASan's alloc-dealloc-mismatch). */
enum alloc_family {
    FAMILY_MALLOC,    /* malloc, calloc, realloc, memalign, ... */
    FAMILY_NEW,       /* operator new (every variant) */
    FAMILY_NEW_ARRAY, /* operator new[] */
    FAMILY_ANY,       /* a free that checks no family (kfree, realloc's own) */
};
#define SIZE_UNKNOWN ((size_t)-1) /* a free that names no size */

/* Out-of-band metadata of one object; the tracks only with U. */
struct obj_meta {
    uint32_t orig_size; /* what the caller asked for (kmalloc) */
    uint32_t state;     /* OBJ_STATE_* */
    uint32_t family;    /* enum alloc_family of its allocation */
    struct track track[];
};

/* Index of object p (a valid object start) in slab s: without a division
 * (object_start()'s multiplication); a pointer into an object's slot, which
 * no caller should pass, still gets that slot's index. */
static inline uint32_t obj_index(const struct kmem_cache *c, const struct slab *s, const void *p)
{
    uint32_t x = (uint32_t)((const char *)p - s->start - c->red_left_pad);
    uint32_t i = slab_index_exact(s, x);
    return likely(i < s->objects) ? i : x / c->stride;
}
static inline struct obj_meta *get_meta(const struct kmem_cache *c, const struct slab *s,
                                        const void *p)
{
    return (struct obj_meta *)((char *)s->meta + (size_t)obj_index(c, s, p) * c->meta_size);
}
static inline struct track *get_track(const struct kmem_cache *c, const struct slab *s,
                                      const void *p, enum track_item i)
{
    return &get_meta(c, s, p)->track[i];
}

/* Layout (cache_setup calls it when flags ask for debugging). */
INTERNAL void debug_cache_setup(struct kmem_cache *c);
/* A new slab of a debugged cache: every object initialised and free, its
 * metadata array mapped.  False when that mapping fails. */
INTERNAL bool debug_slab_init(struct kmem_cache *c, struct slab *s);
/* A debugged slab given back: its metadata array goes too. */
INTERNAL void debug_slab_release(struct kmem_cache *c, struct slab *s);

/* Allocation and free through the debug path (cache lock not held). */
INTERNAL void *debug_alloc(struct kmem_cache *c, size_t orig_size);
INTERNAL void debug_free(struct kmem_cache *c, struct slab *s, void *p);
/* The same, for a free through `family` (naming the object's size when
 * it is a sized delete, else SIZE_UNKNOWN): a free through another family
 * than the allocation's, or of another size, is reported, and the object
 * freed all the same. */
INTERNAL void debug_free_as(struct kmem_cache *c, struct slab *s, void *p, enum alloc_family family,
                            size_t size);
/* Records the family of a live object just allocated (operator new). */
INTERNAL void debug_set_family(void *p, enum alloc_family family);
/* Is p a live debugged object?  Then *size is its requested size (which
 * may be 0: malloc(0)). */
INTERNAL bool debug_usable(struct kmem_cache *c, struct slab *s, void *p, size_t *size);
/* Grows or shrinks a live kmalloc object within its class. */
INTERNAL bool debug_resize(struct kmem_cache *c, struct slab *s, void *p, size_t n);
/* free()/realloc() of memory that is not ours. */
INTERNAL void debug_foreign_free(const void *p);

/* SLUB's check_object: val is SLUB_RED_ACTIVE or SLUB_RED_INACTIVE. */
INTERNAL bool debug_check_object(struct kmem_cache *c, struct slab *s, uint8_t *p, uint8_t val);
/* Is p the start of an object of slab s? */
INTERNAL bool debug_valid_object(const struct kmem_cache *c, const struct slab *s, const void *p);
/* kmem_cache_destroy: reports the live objects left; returns their number. */
INTERNAL unsigned debug_objects_remaining(struct kmem_cache *c);
/* Validates every debugged cache; `why` names the check in the reports'
 * summaries ("the check of every object at exit"). */
INTERNAL int debug_validate_all(const char *why);
/* The calling thread's id, cached (a system call each time otherwise). */
INTERNAL int32_t debug_tid(void);
INTERNAL void debug_fork_child(void);
/* Thread magazines (debug/check.c): the calling thread's objects given
 * back (malloc_trim), and its record freed (thread exit). */
INTERNAL void debug_thread_flush(void);
INTERNAL void debug_thread_exit(void);
/* Sets c->mag_cap of a debugged kmalloc cache (kmalloc_caches_init, once
 * its debug layout and thread-cache bin are set). */
INTERNAL void debug_mag_setup(struct kmem_cache *c);
/* Validation of cache c (its lock held) keeps thread magazines off its
 * objects from begin to end. */
INTERNAL void debug_validate_begin(struct kmem_cache *c);
INTERNAL void debug_validate_end(struct kmem_cache *c);
/* fork(): thread magazines quiet from prepare to parent/child. */
INTERNAL void debug_mag_fork(enum fork_phase phase);
/* Checks every object of an empty slab about to be given back (F); cache
 * lock held, findings flushed by the caller. */
INTERNAL void debug_slab_discard(struct kmem_cache *c, struct slab *s);
/* The quarantine: emptied into the slabs (cache lock held), and freed. */
INTERNAL void debug_quarantine_drain(struct kmem_cache *c);
INTERNAL void debug_cache_destroy(struct kmem_cache *c);
INTERNAL void debug_print_traces(int fd);

/* A finding of the always-on checks (debug/harden_report.c): recorded for
 * the next bugs_flush(); any lock may be held.  kind is BUG_ALREADY_FREE,
 * BUG_INVALID_POINTER, BUG_FREEPOINTER or BUG_OUTSIDE_SLAB; s and p may be
 * NULL. */
enum bug_kind;
INTERNAL void harden_report(enum bug_kind kind, struct kmem_cache *c, struct slab *s,
                            const void *p);
/* Prints the findings recorded by this thread (no allocator lock held). */
INTERNAL void bugs_flush(void);

/* Is there any debugged cache? (fast test for the exit-time work) */
INTERNAL extern bool debug_any;

#endif

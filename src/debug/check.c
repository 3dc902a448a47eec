/*
 * The debug path: allocation and free processing of debugged caches, the
 * object checks, tracks, trace, fault injection and the quarantine.
 *
 * Every check runs under the cache lock, or on an object the calling thread
 * owns (its thread magazine, below), and only *records* what it found
 * (report/bug.h), repairing the bytes as SLUB does; the report is printed
 * by bugs_flush() once the lock is dropped.
 */
#include <assert.h>
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <linux/membarrier.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#if defined(__has_include)
#if __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#define SLABDBG_HAVE_SINGLE_THREADED 1
#endif
#endif
#include <time.h>
#include <unistd.h>

#include "base/lock.h"
#include "core/tcache.h"
#include "debug/debug.h"
#include "debug/guard.h"
#include "base/options.h"
#include "report/bug.h"

/* ---- small helpers -------------------------------------------------------- */

/* Blocks of each fill byte, so that checking a range is a memcmp (vectorised
 * by libc) and only a mismatching block is scanned byte by byte. */
#define FILL_BLOCK 1024
static uint8_t fill_block[256][FILL_BLOCK] __attribute__((aligned(64)));
static const uint8_t *fill_of(uint8_t v)
{
    uint8_t *b = fill_block[v];
    if (b[FILL_BLOCK - 1] != v || b[0] != v) /* first use of this value */
        memset(b, v, FILL_BLOCK);
    return b;
}

/* First byte of [start, start+n) that is not v, or NULL. */
static const uint8_t *memchr_inv(const void *start, uint8_t v, size_t n)
{
    const uint8_t *p = start;
    if (n <= 64) { /* red zones, small objects: words, no call */
        uint64_t word = 0x0101010101010101ull * v, w;
        size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            memcpy(&w, p + i, 8);
            if (w != word)
                break;
        }
        for (; i < n; i++)
            if (p[i] != v)
                return p + i;
        return NULL;
    }
    const uint8_t *fill = fill_of(v);
    while (n) {
        size_t chunk = n < FILL_BLOCK ? n : FILL_BLOCK;
        if (memcmp(p, fill, chunk)) {
            for (size_t i = 0; i < chunk; i++)
                if (p[i] != v)
                    return p + i;
        }
        p += chunk;
        n -= chunk;
    }
    return NULL;
}

/* Are the n bytes at start all v?  The test of every check, which almost
 * always passes: inline, with no branch per word (a word more or a word
 * less costs less than the branches); the last word overlaps the one
 * before rather than ending in a loop of bytes, as n is often odd
 * (poison: size - 1). */
static inline bool bytes_are(const uint8_t *start, uint8_t v, size_t n)
{
    uint64_t word = 0x0101010101010101ull * v, w, diff = 0;
    if (n > 64)
        return !memchr_inv(start, v, n);
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&w, start + i, 8);
            diff |= w ^ word;
        }
        memcpy(&w, start + n - 8, 8);
        return !(diff | (w ^ word));
    }
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, start, 4);
        memcpy(&b, start + n - 4, 4);
        return !((a ^ (uint32_t)word) | (b ^ (uint32_t)word));
    }
    for (size_t i = 0; i < n; i++)
        diff |= start[i] ^ v;
    return !diff;
}

static __thread int32_t cached_tid;
static int32_t thread_id(void)
{
    if (!cached_tid)
        cached_tid = (int32_t)gettid();
    return cached_tid;
}

/* A forked child is a new thread id. */
static void dthreads_fork_child(void);

void debug_fork_child(void)
{
    cached_tid = 0;
    dthreads_fork_child();
}

int32_t debug_tid(void)
{
    return thread_id();
}

static bool poisons_object(const struct kmem_cache *c)
{
    return (c->debug & SLAB_POISON) && !c->ctor;
}

/* Is p the start of an object of slab s? */
bool debug_valid_object(const struct kmem_cache *c, const struct slab *s, const void *p)
{
    const char *first = s->start + c->red_left_pad;
    if ((const char *)p < first || (const char *)p >= s->end)
        return false;
    /* A multiple of the stride exactly when the exact quotient is small
     * (object_start(), core/internal.h). */
    return slab_index_exact(s, (uint32_t)((const char *)p - first)) < s->objects;
}

/* ---- tracks ----------------------------------------------------------------- */

struct stack_snap {
    uintptr_t caller; /* the first frame, 0: none */
    depot_handle_t handle;
};

/* Captured before the cache lock is taken: unwinding is the slow part. */
static void snap_stack(const struct kmem_cache *c, struct stack_snap *st)
{
    st->caller = 0;
    st->handle = 0;
    if (c->debug & SLAB_STORE_USER)
        st->handle = stack_save((unsigned)opt.stack_depth, &st->caller);
}

static void set_track(const struct kmem_cache *c, const struct slab *s, void *p, enum track_item i,
                      const struct stack_snap *st)
{
    struct track *t = get_track(c, s, p, i);
    t->addr = st->caller;
    t->handle = st->handle;
    t->cpu = sched_getcpu();
    t->pid = thread_id();
    t->when = track_now();
}

/* ---- checks ----------------------------------------------------------------- */

/* SLUB's check_bytes_and_report: finds bytes in [start, start+n) that are
 * not `value`, records the finding, and restores them. */
static __attribute__((noinline)) bool check_bytes_report(struct kmem_cache *c, struct slab *s,
                                                         void *p, const char *what, uint8_t *start,
                                                         uint8_t value, size_t n)
{
    const uint8_t *fault = memchr_inv(start, value, n);
    if (!fault)
        return true;
    uint8_t *end = start + n;
    while (end > fault && end[-1] == value)
        end--;
    struct bug *b = bug_new(BUG_BYTES, c->name);
    if (b) {
        b->what = what;
        b->fault_start = (uintptr_t)fault;
        b->fault_end = (uintptr_t)end - 1;
        b->first_byte = *fault;
        b->expected = value;
        bug_object(b, c, s, p);
    }
    memset((void *)fault, value, (size_t)(end - fault));
    return false;
}

static inline bool check_bytes(struct kmem_cache *c, struct slab *s, void *p, const char *what,
                               uint8_t *start, uint8_t value, size_t n)
{
    return likely(bytes_are(start, value, n)) || check_bytes_report(c, s, p, what, start, value, n);
}

/* SLUB's check_object: `val` is SLUB_RED_ACTIVE for an allocated object,
 * SLUB_RED_INACTIVE for a free one. */
bool debug_check_object(struct kmem_cache *c, struct slab *s, uint8_t *p, uint8_t val)
{
    bool ok = true;
    if (c->debug & SLAB_RED_ZONE) {
        ok &= check_bytes(c, s, p, "Left Redzone", p - c->red_left_pad, val, c->red_left_pad);
        ok &= check_bytes(c, s, p, "Right Redzone", p + c->size, val, c->inuse - c->size);
        uint32_t orig = get_meta(c, s, p)->orig_size;
        if (c->is_kmalloc && val == SLUB_RED_ACTIVE && orig < c->size)
            ok &= check_bytes(c, s, p, "kmalloc Redzone", p + orig, val, c->size - orig);
    } else if ((c->debug & SLAB_POISON) && c->size < c->inuse) {
        ok &= check_bytes(c, s, p, "Alignment padding", p + c->size, POISON_INUSE,
                          c->inuse - c->size);
    }
    if (c->debug & SLAB_POISON) {
        if (val == SLUB_RED_INACTIVE && poisons_object(c)) {
            ok &= check_bytes(c, s, p, "Poison", p, POISON_FREE, c->size - 1);
            ok &= check_bytes(c, s, p, "End Poison", p + c->size - 1, POISON_END, 1);
        }
        ok &= check_bytes(c, s, p, "Object padding", p + c->pad_offset, POISON_INUSE,
                          c->stride - c->red_left_pad - c->pad_offset);
    }
    return ok;
}

static void init_object(struct kmem_cache *c, struct slab *s, uint8_t *p, uint8_t val)
{
    if (c->debug & SLAB_RED_ZONE) {
        memset(p - c->red_left_pad, val, c->red_left_pad);
        memset(p + c->size, val, c->inuse - c->size);
        uint32_t orig = get_meta(c, s, p)->orig_size;
        if (c->is_kmalloc && val == SLUB_RED_ACTIVE && orig < c->size)
            memset(p + orig, val, c->size - orig);
    }
    if (val == SLUB_RED_INACTIVE && poisons_object(c)) {
        memset(p, POISON_FREE, c->size - 1);
        p[c->size - 1] = POISON_END;
    }
}

/* ---- fault injection (A) ---------------------------------------------------- */

static __thread uint64_t fail_rng;

static bool should_fail(struct kmem_cache *c)
{
    static _Atomic long failed;
    uint64_t n = __atomic_add_fetch(&c->nr_fail_calls, 1, __ATOMIC_RELAXED);
    if (opt.fail_times >= 0 && atomic_load(&failed) >= opt.fail_times)
        return false;
    if (opt.fail_interval > 0 && n % (uint64_t)opt.fail_interval)
        return false;
    if (opt.fail_interval <= 0) {
        if (!fail_rng)
            fail_rng = track_now() | 1;
        fail_rng ^= fail_rng << 13;
        fail_rng ^= fail_rng >> 7;
        fail_rng ^= fail_rng << 17;
        if ((long)(fail_rng % 100) >= opt.fail_probability)
            return false;
    }
    atomic_fetch_add(&failed, 1);
    return true;
}

/* ---- trace (T) -------------------------------------------------------------- */

static void trace(struct kmem_cache *c, struct slab *s, void *p, bool alloc)
{
    struct bug *b = bug_new(alloc ? BUG_TRACE_ALLOC : BUG_TRACE_FREE, c->name);
    if (b)
        bug_object(b, c, s, p);
}

/* ---- quarantine --------------------------------------------------------------
 * Freed objects of a cache wait in a FIFO (within the byte budget of the
 * `quarantine` option) before going back to their slab, widening the window
 * in which a write after free is caught by the poison check. */

struct quarantine {
    size_t cap, head, count, bytes;
    void *slot[];
};

static struct quarantine *quarantine_get(struct kmem_cache *c)
{
    if (!c->quarantine) {
        size_t cap = opt.quarantine / c->stride + 1;
        if (cap > ((size_t)1 << 24))
            cap = (size_t)1 << 24;
        void *m = mmap(NULL, sizeof(struct quarantine) + cap * sizeof(void *),
                       PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        c->quarantine = m;
        c->quarantine->cap = cap;
    }
    return c->quarantine;
}

/* Puts p in quarantine; returns the object that leaves it (or p itself when
 * there is no quarantine), which the caller returns to its slab. */
static void *quarantine_swap(struct kmem_cache *c, void *p)
{
    if (!opt.quarantine)
        return p;
    struct quarantine *q = quarantine_get(c);
    if (!q)
        return p;
    get_meta(c, slab_of_owned(p), p)->state = OBJ_STATE_QUARANTINE;
    q->slot[(q->head + q->count) % q->cap] = p;
    q->count++;
    q->bytes += c->stride;
    if (q->count < q->cap && q->bytes <= opt.quarantine)
        return NULL;
    void *old = q->slot[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    q->bytes -= c->stride;
    get_meta(c, slab_of_owned(old), old)->state = OBJ_STATE_FREE;
    return old;
}

/* Returns every quarantined object to its slab; cache lock held. */
void debug_quarantine_drain(struct kmem_cache *c)
{
    struct quarantine *q = c->quarantine;
    if (!q)
        return;
    while (q->count) {
        void *old = q->slot[q->head];
        q->head = (q->head + 1) % q->cap;
        q->count--;
        struct slab *s = slab_of_owned(old);
        get_meta(c, s, old)->state = OBJ_STATE_FREE;
        slab_put(c, s, old);
    }
    q->bytes = 0;
}

/* A destroyed cache's quarantine ring goes back to the system. */
void debug_cache_destroy(struct kmem_cache *c)
{
    if (c->quarantine) {
        munmap(c->quarantine, sizeof(struct quarantine) + c->quarantine->cap * sizeof(void *));
        c->quarantine = NULL;
    }
}

/* ---- allocation ------------------------------------------------------------- */

/* A slab whose freelist is corrupt is retired: nothing more is handed out
 * from it and it is never reused (SLUB's "Marking all objects used"). */
static void isolate(struct kmem_cache *c, struct slab *s)
{
    s->freelist = NULL;
    s->isolated = 1;
    list_del(c, s);
    list_add_head(c, s, SLAB_ON_FULL);
}

/* Is fp a free object of slab s?  The state is out of band, so a forged
 * free pointer can name neither a live object nor anything outside. */
static bool free_object(const struct kmem_cache *c, const struct slab *s, const void *fp)
{
    return debug_valid_object(c, s, fp) && get_meta(c, s, fp)->state == OBJ_STATE_FREE;
}

/* Takes the first free object of a slab.  Nothing read from the slots is
 * trusted: the head must be a free object of this slab; its bytes are
 * checked (red zones, poison, padding: SLUB's order) before its free
 * pointer, which must be NULL or another free object.  NULL when the head
 * itself is bad: the slab is then retired.  Whatever the flags, a bad free
 * pointer is never followed (reported, and the slab retired).  With
 * `bytes_later`, the bytes of a sound object are left to the caller, who
 * checks them when it hands the object out (a thread magazine's refill);
 * those of an object with a bad free pointer are still checked first. */
static void *take_checked_as(struct kmem_cache *c, struct slab *s, bool bytes_later)
{
    void *p = s->freelist;
    if (!free_object(c, s, p)) {
        struct bug *b = bug_new(BUG_FREECHAIN, c->name);
        if (b) {
            b->ptr = (uintptr_t)p;
            bug_object(b, c, s, NULL);
        }
        isolate(c, s);
        return NULL;
    }
    void *next = fp_get(c, p);
    bool corrupt = next && !free_object(c, s, next);
    if (!bytes_later || corrupt)
        debug_check_object(c, s, p, SLUB_RED_INACTIVE);
    if (corrupt) {
        struct bug *b = bug_new(BUG_FREEPOINTER, c->name);
        if (b)
            bug_object(b, c, s, p);
        fp_set(c, p, NULL);
        next = NULL;
    }
    s->freelist = next;
    slab_took(c, s);
    if (corrupt)
        isolate(c, s);
    return p;
}

static void *take_checked(struct kmem_cache *c, struct slab *s)
{
    return take_checked_as(c, s, false);
}

static void *mag_alloc(struct kmem_cache *c, size_t orig_size, const struct stack_snap *st);

/* What every allocation writes of the object p it took (its bytes checked
 * as a free object's): size asked for, family, red zones, track; the state
 * ACTIVE last (a thread magazine's allocation makes it live only once it
 * is whole); trace. */
static void alloc_object(struct kmem_cache *c, struct slab *s, uint8_t *p, size_t orig_size,
                         const struct stack_snap *st)
{
    struct obj_meta *m = get_meta(c, s, p);
    m->orig_size = (uint32_t)(c->is_kmalloc ? orig_size : c->size);
    m->family = FAMILY_MALLOC;
    init_object(c, s, p, SLUB_RED_ACTIVE);
    if (c->debug & SLAB_STORE_USER)
        set_track(c, s, p, TRACK_ALLOC, st);
    __atomic_store_n(&m->state, OBJ_STATE_ACTIVE, __ATOMIC_RELAXED);
    if (c->debug & SLAB_TRACE)
        trace(c, s, p, true);
}

void *debug_alloc(struct kmem_cache *c, size_t orig_size)
{
    if ((c->debug & SLAB_FAILSLAB) && should_fail(c)) {
        errno = ENOMEM;
        return NULL;
    }
    if (c->debug & SLAB_GUARD) {
        void *g = guard_alloc(c, c->is_kmalloc ? orig_size : c->size);
        if (g)
            return g;
    }
    struct stack_snap st;
    snap_stack(c, &st);
    void *mp = mag_alloc(c, orig_size, &st);
    if (mp)
        return mp;
    lock(&c->lock, LOCK_CACHE);
    uint8_t *p = NULL;
    struct slab *s = NULL;
    while (!p) {
        s = c->partial;
        if (!s) {
            s = slab_new(c);
            if (!s)
                break;
            c->nr_empty++;
        }
        p = take_checked(c, s);
    }
    if (p)
        alloc_object(c, s, p, orig_size, &st);
    unlock(&c->lock, LOCK_CACHE);
    bugs_flush();
    if (!p)
        errno = ENOMEM;
    return p;
}

/* ---- free ------------------------------------------------------------------- */

static void not_freed(enum bug_kind kind, struct kmem_cache *c, struct slab *s, void *p)
{
    struct bug *b = bug_new(kind, c->name);
    if (b) {
        b->ptr = (uintptr_t)p;
        bug_object(b, c, s, kind == BUG_ALREADY_FREE ? p : NULL);
    }
}

void debug_set_family(void *p, enum alloc_family family)
{
    struct slab *s = slab_lookup(p);
    if (s && (segment_of(s)->kind == SEG_GUARD || segment_of(s)->kind == SEG_POOL)) {
        guard_set_family(s, p, family);
        return;
    }
    struct kmem_cache *c = s ? s->cache : NULL;
    if (!c || !c->debug || segment_of(s)->kind != SEG_SLABS || !debug_valid_object(c, s, p))
        return;
    get_meta(c, s, p)->family = family; /* the caller's own object: no lock */
}

/* A free through the wrong family, or a sized delete of the wrong size:
 * reported with the object and its tracks; it is freed all the same (the
 * families share one allocator, so nothing is at risk in slabdbg). */
static void check_family(struct kmem_cache *c, struct slab *s, void *p, enum alloc_family family,
                         size_t size)
{
    struct obj_meta *m = get_meta(c, s, p);
    bool wrong_family = family != FAMILY_ANY && m->family != family;
    bool wrong_size = !wrong_family && size != SIZE_UNKNOWN && size != m->orig_size;
    if (!wrong_family && !wrong_size)
        return;
    struct bug *b = bug_new(wrong_family ? BUG_ALLOC_MISMATCH : BUG_SIZE_MISMATCH, c->name);
    if (!b)
        return;
    b->ptr = (uintptr_t)p;
    b->alloc_family = m->family;
    b->free_family = family;
    b->found = (long)size;
    b->should_be = (long)m->orig_size;
    bug_object(b, c, s, p);
    /* The free track is of the slot's previous object. */
    memset(&b->track[TRACK_FREE], 0, sizeof(b->track[TRACK_FREE]));
}

/* new[] of a class with a destructor puts the element count (the "array
 * cookie", a size_t, or as much as the class's alignment) before the
 * elements and returns the first element: is p that, in a live object
 * allocated with new[]?  Returns the object. */
static void *new_array_of(struct kmem_cache *c, struct slab *s, void *p)
{
    for (size_t cookie = sizeof(size_t); cookie <= 16; cookie *= 2) {
        void *obj = (char *)p - cookie;
        if (debug_valid_object(c, s, obj) && get_meta(c, s, obj)->state == OBJ_STATE_ACTIVE &&
            get_meta(c, s, obj)->family == FAMILY_NEW_ARRAY)
            return obj;
    }
    return NULL;
}

/* Has the process only ever had one thread?  (glibc clears the flag at
 * the first pthread_create and never sets it again; a thread created later
 * cannot already hold an object this operation works on.) */
static inline bool only_thread(void)
{
#ifdef SLABDBG_HAVE_SINGLE_THREADED
    return __libc_single_threaded;
#else
    return false;
#endif
}

/* What every free checks and writes, up to where the object goes: the
 * pointer (an object start of this slab, live: its state is out of band,
 * so no overflow can fake it; delete of a new[] array through its first
 * element), the state, turned from ACTIVE to OWNED atomically (a thread
 * magazine's free takes no lock, and two threads may free one object at
 * once: one of them sees it already free), family and size, red zones,
 * track, trace, poison.  True when *pp (the object, moved to its array's
 * start) was live and is now OWNED, poisoned; false after a report. */
static bool free_checks(struct kmem_cache *c, struct slab *s, void **pp, enum alloc_family family,
                        size_t size, const struct stack_snap *st)
{
    void *p = *pp;
    void *array = family == FAMILY_NEW ? new_array_of(c, s, p) : NULL;
    if (array) {
        /* delete of an array of a class with a destructor: the pointer is
         * the first element, behind the array cookie; the mismatch it is. */
        check_family(c, s, array, family, size);
        family = FAMILY_ANY; /* reported once */
        size = SIZE_UNKNOWN;
        p = *pp = array;
    }
    if (!debug_valid_object(c, s, p)) {
        not_freed(BUG_INVALID_POINTER, c, s, p);
        return false;
    }
    uint32_t *state = &get_meta(c, s, p)->state, active = OBJ_STATE_ACTIVE;
    if (only_thread()) {
        /* No other thread to race with: the swap without its lock prefix. */
        active = *state;
        if (active == OBJ_STATE_ACTIVE)
            *state = OBJ_STATE_OWNED;
    } else {
        __atomic_compare_exchange_n(state, &active, OBJ_STATE_OWNED, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE);
    }
    if (active != OBJ_STATE_ACTIVE) {
        not_freed(BUG_ALREADY_FREE, c, s, p);
        return false;
    }
    check_family(c, s, p, family, size);
    debug_check_object(c, s, p, SLUB_RED_ACTIVE);
    if (c->debug & SLAB_STORE_USER)
        set_track(c, s, p, TRACK_FREE, st);
    if (c->debug & SLAB_TRACE)
        trace(c, s, p, false);
    init_object(c, s, p, SLUB_RED_INACTIVE);
    return true;
}

/* A freed object (OWNED) goes to its slab, through the quarantine when
 * there is one; cache lock held. */
static void release_locked(struct kmem_cache *c, void *p)
{
    void *out = quarantine_swap(c, p);
    if (out) {
        struct slab *s = slab_of_owned(out);
        get_meta(c, s, out)->state = OBJ_STATE_FREE;
        slab_put(c, s, out);
    }
}

/* ---- thread magazines --------------------------------------------------------
 * A debugged kmalloc cache (flags within FZPU, no guard) gives each thread a
 * magazine of free objects of its own, so that most allocations and frees
 * run every check without the cache lock: a refill takes up to half a
 * magazine from the slabs under one lock, a full magazine gives half back
 * under one lock.  What a free checks and writes (pointer, state, family,
 * red zones, track, poison) and what an allocation checks and writes (red
 * zones, poison, padding, track) are the same as on the locked path; only
 * where the bytes of a free object are checked moves, from the refill to
 * the allocation that hands the object out, so the check is as late as
 * before.  With a quarantine, frees leave through it in batches instead.
 *
 * A magazine's objects are in state OBJ_STATE_OWNED: counted in use by
 * their slabs, poisoned while they rest there (validate checks them as free
 * objects).  Object state changes that race with another thread's are
 * atomic: a free turns ACTIVE into OWNED with a compare-and-swap, so of two
 * frees of one object the second is reported as a double free, as under
 * the lock.
 *
 * Validation reads every object of a cache under its lock, so it must not
 * run while a thread works on one of the cache's objects without the lock.
 * The handshake (Dekker's): a thread announces the cache in its record's
 * `busy`, then looks at the cache's `validating` count and, when it is
 * set, takes the locked path; validation raises the count and then waits
 * until no record's `busy` names the cache.  Each side needs a full
 * barrier between its store and its load.  The threads' side is made free
 * where the system has membarrier(2): validation, which is rare, issues the
 * barrier on every running thread of the process (userspace RCU's
 * asymmetric barrier); elsewhere each operation has a fence.  A thread
 * never takes a cache lock while `busy` is set.
 *
 * Records of threads are never freed: a thread that exits gives its objects
 * back and leaves its record for the next thread. */

#define MAG_MAX 16            /* objects a magazine holds, at most */
#define MAG_BYTES (32u << 10) /* ... and about this many bytes of them */

struct dmag {
    uint16_t n;    /* free objects held (obj[0..n)) */
    uint16_t nout; /* frees waiting for the quarantine (out[0..nout)) */
    void *obj[MAG_MAX];
    void *out[MAG_MAX];
};

struct dthread {
    struct kmem_cache *_Atomic busy; /* the cache worked on without its lock */
    _Atomic int used;                /* a thread owns the record */
    int inop;                        /* in a magazine operation (signal re-entry) */
    struct dthread *next;            /* every record */
    struct dmag mag[NR_KMALLOC];
};

static struct dthread *_Atomic dthreads;

static __thread struct dthread *dself;

/* 1: validation issues membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), the
 * threads' side needs no fence; 0: each side fences.  Set while one thread
 * runs (library start, a fork's child), and cleared for good when the
 * system call stops working (a seccomp filter installed later). */
static _Atomic int mag_membarrier;

static void mag_membarrier_setup(void)
{
    int on = 0;
#ifdef SYS_membarrier
    long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    on = cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
         syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
#endif
    atomic_store_explicit(&mag_membarrier, on, memory_order_relaxed);
}

/* A full barrier on every running thread of the process.  membarrier(2);
 * when it fails, threads fence from now on, and those that did not yet are
 * made to by the kernel: taking write permission from a page this thread
 * wrote makes it interrupt every CPU that runs a thread of the process
 * (TLB shootdown), the way .NET's FlushProcessWriteBuffers does; without
 * even that page, a pause long enough for any store buffer to drain. */
static void process_barrier(void)
{
#ifdef SYS_membarrier
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0)
        return;
#endif
    atomic_store(&mag_membarrier, 0);
    static char *_Atomic page;
    char *p = atomic_load(&page);
    if (!p) {
        void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        char *none = NULL;
        if (m != MAP_FAILED && !atomic_compare_exchange_strong(&page, &none, (char *)m))
            munmap(m, 4096);
        p = atomic_load(&page);
    }
    if (p) {
        *(volatile char *)p = 1;
        if (mprotect(p, 4096, PROT_READ) == 0 && mprotect(p, 4096, PROT_READ | PROT_WRITE) == 0)
            return;
    }
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* The capacity of c's thread magazines, 0 when its objects never go
 * through them: only debugged kmalloc caches whose flags are within FZPU
 * (the others need the lock for every object: guard slots, fault
 * injection, traces). */
void debug_mag_setup(struct kmem_cache *c)
{
    unsigned cap = MAG_BYTES / c->stride;
    if (cap > MAG_MAX)
        cap = MAG_MAX;
    bool fits = opt.magazine && c->is_kmalloc && c->bin == NO_BIN && !c->ctor && c->debug &&
                !(c->debug & ~DEBUG_DEFAULT_FLAGS) && cap >= 2;
    c->mag_cap = (uint16_t)(fits ? cap : 0);
    static bool barrier_chosen; /* (library start: one thread) */
    if (fits && !barrier_chosen) {
        barrier_chosen = true;
        mag_membarrier_setup();
    }
}

static struct dthread *dthread_claim(void)
{
    for (struct dthread *r = atomic_load(&dthreads); r; r = r->next) {
        int free_rec = 0;
        if (!atomic_load_explicit(&r->used, memory_order_relaxed) &&
            atomic_compare_exchange_strong(&r->used, &free_rec, 1))
            return r;
    }
    void *m = mmap(NULL, sizeof(struct dthread), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    struct dthread *r = m;
    atomic_store_explicit(&r->used, 1, memory_order_relaxed);
    r->next = atomic_load(&dthreads);
    while (!atomic_compare_exchange_weak(&dthreads, &r->next, r))
        ;
    return r;
}

/* The calling thread's record, if its magazines may be used now: not
 * while it reports or exits (thread cache dead), nor from a signal handler
 * that interrupted one of its magazine operations. */
static struct dthread *mag_thread(const struct kmem_cache *c)
{
    if (!c->mag_cap)
        return NULL;
    if (unlikely(tcache.state != TCACHE_ACTIVE)) {
        if (tcache.state == TCACHE_DEAD)
            return NULL;
        tcache_thread_start(); /* its exit handler gives the magazines back */
    }
    struct dthread *t = dself;
    if (unlikely(!t)) {
        t = dself = dthread_claim();
        if (!t)
            return NULL;
    }
    return t->inop ? NULL : t;
}

/* The threads' side: announce c, then false when a validation runs on it
 * (the caller then leaves c's objects alone and takes the locked path). */
static inline bool mag_enter(struct dthread *t, struct kmem_cache *c)
{
    atomic_store_explicit(&t->busy, c, memory_order_relaxed);
    if (atomic_load_explicit(&mag_membarrier, memory_order_relaxed))
        atomic_signal_fence(memory_order_seq_cst); /* the compiler's order only */
    else
        atomic_thread_fence(memory_order_seq_cst);
    if (likely(!atomic_load_explicit(&c->validating, memory_order_relaxed)))
        return true;
    atomic_store_explicit(&t->busy, NULL, memory_order_release);
    return false;
}

static inline void mag_leave(struct dthread *t)
{
    atomic_store_explicit(&t->busy, NULL, memory_order_release);
}

/* Waits until no other thread works on a cache's objects without its lock
 * (the caller raised the caches' validating counts). */
static void mag_quiesce(struct kmem_cache *only)
{
    if (atomic_load(&mag_membarrier))
        process_barrier();
    for (struct dthread *r = atomic_load(&dthreads); r; r = r->next) {
        if (r == dself)
            continue;
        struct kmem_cache *b;
        while ((b = atomic_load(&r->busy)) != NULL && (!only || b == only))
            sched_yield();
    }
}

/* The validation side: cache lock held; no thread works on c's objects
 * without the lock until debug_validate_end. */
void debug_validate_begin(struct kmem_cache *c)
{
    atomic_fetch_add(&c->validating, 1); /* sequentially consistent: a full barrier */
    mag_quiesce(c);
}

void debug_validate_end(struct kmem_cache *c)
{
    atomic_fetch_sub(&c->validating, 1);
}

/* fork(): after every cache lock is taken, no thread may be half-way
 * through an object either, or the child would find it half changed. */
void debug_mag_fork(enum fork_phase phase)
{
    bool any = false;
    for (unsigned i = 0; i < NR_KMALLOC; i++) {
        struct kmem_cache *c = &kmalloc_caches[i];
        if (!c->mag_cap)
            continue;
        any = true;
        if (phase == FORK_PREPARE)
            atomic_fetch_add(&c->validating, 1);
        else if (phase == FORK_PARENT)
            atomic_fetch_sub(&c->validating, 1);
        else
            atomic_store(&c->validating, 0); /* no validation crosses a fork: it holds a lock */
    }
    if (any && phase == FORK_PREPARE)
        mag_quiesce(NULL);
}

/* Takes up to half a magazine of objects from the slabs. */
static void mag_refill(struct kmem_cache *c, struct dmag *m)
{
    unsigned want = c->mag_cap / 2u, first = m->n;
    assert(!atomic_load_explicit(&dself->busy, memory_order_relaxed)); /* (base/lock.h) */
    lock(&c->lock, LOCK_CACHE);
    while (m->n < want) {
        struct slab *s = c->partial;
        if (!s) {
            s = slab_new(c);
            if (!s)
                break;
            c->nr_empty++;
        }
        uint8_t *p = take_checked_as(c, s, true);
        if (p) {
            get_meta(c, s, p)->state = OBJ_STATE_OWNED;
            m->obj[m->n++] = p;
        }
    }
    unlock(&c->lock, LOCK_CACHE);
    /* Handed out in the order the slab gave them (address order in a new
     * slab, as on the locked path): the first taken on top. */
    for (unsigned i = first, j = m->n; i + 1 < j; i++, j--) {
        void *x = m->obj[i];
        m->obj[i] = m->obj[j - 1];
        m->obj[j - 1] = x;
    }
}

/* Gives the oldest half of a full magazine back, and every waiting free. */
static void mag_flush(struct kmem_cache *c, struct dmag *m, unsigned keep)
{
    assert(!atomic_load_explicit(&dself->busy, memory_order_relaxed)); /* (base/lock.h) */
    lock(&c->lock, LOCK_CACHE);
    unsigned give = m->n > keep ? m->n - keep : 0;
    for (unsigned i = 0; i < give; i++)
        release_locked(c, m->obj[i]);
    for (unsigned i = 0; i < m->nout; i++)
        release_locked(c, m->out[i]);
    unlock(&c->lock, LOCK_CACHE);
    memmove(m->obj, m->obj + give, (m->n - give) * sizeof(void *));
    m->n = (uint16_t)(m->n - give);
    memset(m->obj + m->n, 0, give * sizeof(void *)); /* (no stale pointers) */
    memset(m->out, 0, m->nout * sizeof(void *));
    m->nout = 0;
}

/* debug_alloc through the calling thread's magazine; NULL: use the locked
 * path (errno untouched). */
static void *mag_alloc(struct kmem_cache *c, size_t orig_size, const struct stack_snap *st)
{
    struct dthread *t = mag_thread(c);
    if (!t)
        return NULL;
    struct dmag *m = &t->mag[kmalloc_index(c)];
    t->inop = 1;
    if (!m->n)
        mag_refill(c, m);
    uint8_t *p = NULL;
    if (m->n && mag_enter(t, c)) {
        p = m->obj[--m->n];
        m->obj[m->n] = NULL; /* no stale pointer for leak scans to follow */
        struct slab *s = slab_of_owned(p);
        debug_check_object(c, s, p, SLUB_RED_INACTIVE);
        alloc_object(c, s, p, orig_size, st);
        mag_leave(t);
    }
    t->inop = 0;
    bugs_flush();
    return p;
}

/* debug_free_as through the calling thread's magazine; false: use the
 * locked path. */
static bool mag_free(struct kmem_cache *c, struct slab *s, void *p, enum alloc_family family,
                     size_t size, const struct stack_snap *st)
{
    struct dthread *t = mag_thread(c);
    if (!t)
        return false;
    t->inop = 1;
    if (!mag_enter(t, c)) {
        t->inop = 0;
        return false;
    }
    bool freed = free_checks(c, s, &p, family, size, st);
    mag_leave(t);
    if (freed) {
        struct dmag *m = &t->mag[kmalloc_index(c)];
        if (opt.quarantine) {
            m->out[m->nout++] = p;
            if (m->nout == c->mag_cap)
                mag_flush(c, m, m->n);
        } else {
            m->obj[m->n++] = p;
            if (m->n == c->mag_cap)
                mag_flush(c, m, m->n / 2);
        }
    }
    t->inop = 0;
    bugs_flush();
    return true;
}

/* Thread exit (and malloc_trim): every object of the calling thread's
 * magazines goes back. */
void debug_thread_flush(void)
{
    struct dthread *t = dself;
    if (!t || t->inop)
        return;
    t->inop = 1;
    for (unsigned i = 0; i < NR_KMALLOC; i++)
        if (t->mag[i].n || t->mag[i].nout)
            mag_flush(&kmalloc_caches[i], &t->mag[i], 0);
    t->inop = 0;
    bugs_flush();
}

void debug_thread_exit(void)
{
    struct dthread *t = dself;
    if (!t)
        return;
    debug_thread_flush();
    dself = NULL;
    atomic_store(&t->used, 0);
}

/* The child of fork: the other threads are gone, and with them whatever
 * they held (as with thread caches); their records are free again, and
 * whatever they were doing is forgotten. */
static void dthreads_fork_child(void)
{
    for (struct dthread *r = atomic_load(&dthreads); r; r = r->next) {
        atomic_store(&r->busy, NULL);
        if (r == dself)
            continue;
        memset(r->mag, 0, sizeof(r->mag));
        r->inop = 0;
        atomic_store(&r->used, 0);
    }
    if (atomic_load(&mag_membarrier))
        mag_membarrier_setup(); /* a registration may not outlive the fork */
}

/* The pointer first (an object start of this slab, live: its state is out
 * of band, so no overflow can fake it), then the bytes around it. */
void debug_free(struct kmem_cache *c, struct slab *s, void *p)
{
    debug_free_as(c, s, p, FAMILY_ANY, SIZE_UNKNOWN);
}

void debug_free_as(struct kmem_cache *c, struct slab *s, void *p, enum alloc_family family,
                   size_t size)
{
    if (segment_of(s)->kind != SEG_SLABS) {
        guard_free(s, p, family, size);
        return;
    }
    struct stack_snap st;
    snap_stack(c, &st);
    if (mag_free(c, s, p, family, size, &st))
        return;
    lock(&c->lock, LOCK_CACHE);
    if (free_checks(c, s, &p, family, size, &st))
        release_locked(c, p);
    unlock(&c->lock, LOCK_CACHE);
    bugs_flush();
}

bool debug_usable(struct kmem_cache *c, struct slab *s, void *p, size_t *size)
{
    if (segment_of(s)->kind != SEG_SLABS)
        return guard_usable(s, p, size);
    lock(&c->lock, LOCK_CACHE);
    bool live = debug_valid_object(c, s, p) && get_meta(c, s, p)->state == OBJ_STATE_ACTIVE;
    *size = live ? get_meta(c, s, p)->orig_size : 0;
    unlock(&c->lock, LOCK_CACHE);
    return live;
}

bool debug_resize(struct kmem_cache *c, struct slab *s, void *p, size_t n)
{
    if (segment_of(s)->kind != SEG_SLABS)
        return false; /* guarded objects move */
    lock(&c->lock, LOCK_CACHE);
    bool ok = debug_valid_object(c, s, p) && get_meta(c, s, p)->state == OBJ_STATE_ACTIVE;
    if (ok) {
        /* The slack must still be intact before it becomes the caller's. */
        debug_check_object(c, s, p, SLUB_RED_ACTIVE);
        get_meta(c, s, p)->orig_size = (uint32_t)n;
        init_object(c, s, p, SLUB_RED_ACTIVE);
    }
    unlock(&c->lock, LOCK_CACHE);
    bugs_flush();
    return ok;
}

/* free() or realloc() of a pointer that is not ours (the stack, static
 * data, another allocator's memory): reported in every mode, as glibc
 * reports it; the memory is left alone. */
void debug_foreign_free(const void *p)
{
    struct bug *b = bug_new(BUG_OUTSIDE_SLAB, "kmalloc");
    if (b)
        b->ptr = (uintptr_t)p;
    bugs_flush();
}

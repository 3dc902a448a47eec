/*
 * The debug path: allocation and free processing of debugged caches, the
 * object checks, tracks, trace, fault injection and the quarantine.
 *
 * Every check runs under the cache lock and only *records* what it found
 * (report/bug.h), repairing the bytes as SLUB does; the report is printed
 * by bugs_flush() once the lock is dropped.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "base/lock.h"
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
void debug_fork_child(void)
{
    cached_tid = 0;
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
    return (size_t)((const char *)p - first) % c->stride == 0;
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
 * pointer is never followed (reported, and the slab retired). */
static void *take_checked(struct kmem_cache *c, struct slab *s)
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
    debug_check_object(c, s, p, SLUB_RED_INACTIVE);
    void *next = fp_get(c, p);
    bool corrupt = next && !free_object(c, s, next);
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
    if (p) {
        struct obj_meta *m = get_meta(c, s, p);
        m->orig_size = (uint32_t)(c->is_kmalloc ? orig_size : c->size);
        m->state = OBJ_STATE_ACTIVE;
        m->family = FAMILY_MALLOC;
        init_object(c, s, p, SLUB_RED_ACTIVE);
        if (c->debug & SLAB_STORE_USER)
            set_track(c, s, p, TRACK_ALLOC, &st);
        if (c->debug & SLAB_TRACE)
            trace(c, s, p, true);
    }
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
    lock(&c->lock, LOCK_CACHE);
    void *array = family == FAMILY_NEW ? new_array_of(c, s, p) : NULL;
    if (array) {
        /* delete of an array of a class with a destructor: the pointer is
         * the first element, behind the array cookie; the mismatch it is. */
        check_family(c, s, array, family, size);
        family = FAMILY_ANY; /* reported once */
        size = SIZE_UNKNOWN;
        p = array;
    }
    if (!debug_valid_object(c, s, p)) {
        not_freed(BUG_INVALID_POINTER, c, s, p);
    } else if (get_meta(c, s, p)->state != OBJ_STATE_ACTIVE) {
        not_freed(BUG_ALREADY_FREE, c, s, p);
    } else {
        check_family(c, s, p, family, size);
        debug_check_object(c, s, p, SLUB_RED_ACTIVE);
        if (c->debug & SLAB_STORE_USER)
            set_track(c, s, p, TRACK_FREE, &st);
        if (c->debug & SLAB_TRACE)
            trace(c, s, p, false);
        get_meta(c, s, p)->state = OBJ_STATE_FREE;
        init_object(c, s, p, SLUB_RED_INACTIVE);
        void *out = quarantine_swap(c, p);
        if (out)
            slab_put(c, slab_of_owned(out), out);
    }
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

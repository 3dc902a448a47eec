/*
 * Huge objects: anything above the largest size class gets a mapping of its
 * own.  The mapping starts with a segment header (so the segment map finds it
 * like any other segment) and the object follows at `offset`:
 *
 *   mapping (4 MiB aligned)                         big_align mapping
 *   +--------+-------------------------+            +--------+---- ... ----+----------+
 *   | header | object ...              |            | header |   (gap)     | object   |
 *   +--------+-------------------------+            +--------+---- ... ----+----------+
 *   ^ start  ^ start + offset                       ^ start                ^ start + align
 *
 * An alignment of 4 MiB or more puts the object in a later 4 MiB chunk, where
 * its own chunk start is user memory; such objects are found through a short
 * list instead of the segment map (rare, and only on the slow path).
 *
 * Freed mappings are kept for reuse, so a program that keeps allocating
 * large buffers does not pay mmap, page faults and munmap each time (page
 * faults dominate: a fresh page costs more than writing it many times).
 * The budget adapts as glibc's dynamic mmap threshold does: it is twice
 * the largest object freed so far (up to glibc's 32 MiB ceiling), at least
 * HUGE_BUDGET_MIN.  A reused mapping is fitted to its new object with
 * mremap: a larger one gives its excess back only when that is more than
 * what is asked (pages given back are faulted in again by the next larger
 * object: on mimalloc-bench's malloc-large, keeping up to twice the size
 * cut page faults from 445k to 356k for 8 % more peak RSS, still 16 % below
 * glibc's), a smaller one grows (in place, or its pages move), so only the
 * growth is faulted in.  Mappings unused for
 * HUGE_DECAY_NS go back to the system at the next large allocation or free,
 * and all of them when the page layer needs a new segment.
 *
 * Huge objects of at least 2 MiB are marked MADV_HUGEPAGE (option
 * huge_pages): one fault per 2 MiB instead of 512.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "base/lock.h"
#include "base/options.h"
#include "core/internal.h"

#define HUGE_HEADER align_up(sizeof(struct segment), PAGE_SIZE_MIN)
#define HUGE_CACHE_SLOTS 8
#define HUGE_BUDGET_MIN ((size_t)32 << 20)
#define HUGE_THRESHOLD_MAX ((size_t)32 << 20) /* glibc's DEFAULT_MMAP_THRESHOLD_MAX */
#define HUGE_DECAY_NS 1000000000ull
#define THP_SIZE ((size_t)2 << 20)

pthread_mutex_t huge_lock = PTHREAD_MUTEX_INITIALIZER; /* lock order 6 (base/lock.h) */
struct segment *huge_list;
_Atomic uint64_t stat_huge_allocs, stat_huge_cache_hits, stat_huge_cache_flushes;

/* Freed mappings (huge_lock): still marked in the segment map with
 * inuse == 0, so a second free of their object is reported, not taken
 * for a foreign pointer. */
static struct {
    struct segment *seg;
    uint64_t freed_at;
} huge_cache[HUGE_CACHE_SLOTS];
static size_t huge_cache_bytes, huge_budget = HUGE_BUDGET_MIN;

/* Where the objects of the last mappings given back to the system started
 * (huge_lock), so that a second free of one is reported as a double free
 * rather than as memory that was never ours (glibc's munmap_chunk() would
 * read the freed header and crash). */
#define HUGE_UNMAPPED_KEPT 16
static uintptr_t huge_unmapped[HUGE_UNMAPPED_KEPT];
static unsigned huge_unmapped_next;

static void huge_note_unmapped(const void *start)
{
    huge_unmapped[huge_unmapped_next++ % HUGE_UNMAPPED_KEPT] = (uintptr_t)start;
}

/* A mapping at the same place again: its address is no longer a freed one. */
static void huge_forget_unmapped(const void *start)
{
    for (unsigned i = 0; i < HUGE_UNMAPPED_KEPT; i++)
        if (huge_unmapped[i] == (uintptr_t)start)
            huge_unmapped[i] = 0;
}

static uint64_t huge_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t huge_offset(size_t align)
{
    return align > HUGE_HEADER ? align : HUGE_HEADER;
}

static void huge_link(struct segment *seg)
{
    seg->prev = NULL;
    seg->next = huge_list;
    if (huge_list)
        huge_list->prev = seg;
    huge_list = seg;
}

static void huge_unlink(struct segment *seg)
{
    if (seg->prev)
        seg->prev->next = seg->next;
    else
        huge_list = seg->next;
    if (seg->next)
        seg->next->prev = seg->prev;
}

/* Mappings to give back once huge_lock is released (munmap of dirty
 * pages is slow; nobody needs to wait for it). */
struct huge_victims {
    struct segment *seg[HUGE_CACHE_SLOTS + 1];
    unsigned n;
};

static void huge_cache_drop(int i, struct huge_victims *v)
{
    struct segment *seg = huge_cache[i].seg;
    huge_cache[i].seg = NULL;
    huge_cache_bytes -= seg->map_size;
    segmap_set(seg, false);
    huge_note_unmapped(seg->slabs[0].start);
    v->seg[v->n++] = seg;
}

static void huge_victims_unmap(struct huge_victims *v)
{
    for (unsigned i = 0; i < v->n; i++)
        os_unmap(v->seg[i], v->seg[i]->map_size);
    v->n = 0;
}

/* Mappings unused for longer than the decay delay; huge_lock held. */
static void huge_cache_decay(struct huge_victims *v, uint64_t now)
{
    for (int i = 0; i < HUGE_CACHE_SLOTS; i++)
        if (huge_cache[i].seg && now - huge_cache[i].freed_at > HUGE_DECAY_NS)
            huge_cache_drop(i, v);
}

/* The cached mapping to fit to `need` bytes: the smallest that holds it,
 * else the largest (to grow); huge_lock held. */
static struct segment *huge_cache_take(size_t need)
{
    int best = -1, big = -1;
    for (int i = 0; i < HUGE_CACHE_SLOTS; i++) {
        struct segment *seg = huge_cache[i].seg;
        if (!seg)
            continue;
        if (seg->map_size >= need && (best < 0 || seg->map_size < huge_cache[best].seg->map_size))
            best = i;
        if (big < 0 || seg->map_size > huge_cache[big].seg->map_size)
            big = i;
    }
    int i = best >= 0 ? best : big;
    if (i < 0)
        return NULL;
    struct segment *seg = huge_cache[i].seg;
    huge_cache[i].seg = NULL;
    huge_cache_bytes -= seg->map_size;
    return seg;
}

/* The whole mapping, header included: a part of it would be a VMA of its
 * own, and mremap works on one VMA only. */
static void huge_advise(struct segment *seg)
{
    if (opt.huge_pages && seg->map_size >= THP_SIZE)
        madvise(seg, seg->map_size, MADV_HUGEPAGE);
}

/* Resizes a mapping with mremap, in place or moved to a new 4 MiB-aligned
 * range; the segment map follows.  NULL (the mapping unchanged) on
 * failure. */
static struct segment *huge_remap(struct segment *seg, size_t new_map)
{
    if (mremap(seg, seg->map_size, new_map, 0) == MAP_FAILED) {
        /* Cannot resize in place: reserve an aligned range and move there. */
        void *dst = os_map_aligned(new_map, SEG_SIZE);
        if (!dst ||
            mremap(seg, seg->map_size, new_map, MREMAP_MAYMOVE | MREMAP_FIXED, dst) == MAP_FAILED) {
            if (dst)
                os_unmap(dst, new_map);
            return NULL;
        }
        segmap_set(seg, false);
        seg = dst;
        segmap_set(seg, true);
    }
    seg->map_size = new_map;
    return seg;
}

/* A cached mapping fitted to `map_size`, or NULL. */
static struct segment *huge_reuse(size_t map_size)
{
    struct huge_victims v = {.n = 0};
    lock(&huge_lock, LOCK_HUGE);
    huge_cache_decay(&v, huge_now());
    struct segment *seg = huge_cache_take(map_size);
    unlock(&huge_lock, LOCK_HUGE);
    huge_victims_unmap(&v);
    if (!seg)
        return NULL;
    size_t have = seg->map_size;
    if (have < map_size || have - map_size > map_size) {
        const void *old_start = seg->slabs[0].start;
        struct segment *to = huge_remap(seg, map_size);
        if (to != seg) { /* moved or failed: the freed object's address is gone */
            lock(&huge_lock, LOCK_HUGE);
            huge_note_unmapped(old_start);
            unlock(&huge_lock, LOCK_HUGE);
        }
        if (!to) {
            segmap_set(seg, false);
            os_unmap(seg, seg->map_size);
            return NULL;
        }
        seg = to;
    }
    atomic_fetch_add_explicit(&stat_huge_cache_hits, 1, memory_order_relaxed);
    return seg;
}

void *huge_alloc(size_t size, size_t align, bool zero)
{
    if (align < 16)
        align = 16;
    size_t offset = huge_offset(align);
    if (size > ((size_t)1 << VA_BITS) || offset > ((size_t)1 << VA_BITS)) {
        errno = ENOMEM;
        return NULL;
    }
    size_t map_size = align_up(offset + size, PAGE_SIZE_MIN);
    bool big_align = offset >= SEG_SIZE;
    struct segment *seg = NULL;
    bool fresh = false;

    if (!big_align && offset == HUGE_HEADER)
        seg = huge_reuse(map_size);
    if (!seg) {
        seg = os_map_aligned(map_size, big_align ? align : SEG_SIZE);
        if (!seg) {
            errno = ENOMEM;
            return NULL;
        }
        fresh = true;
        seg->magic = SEG_MAGIC;
        seg->kind = SEG_HUGE;
        seg->big_align = big_align;
        seg->map_size = map_size;
        huge_advise(seg);
    }
    size_t zero_len = fresh ? 0 : seg->slabs[0].end - seg->slabs[0].start; /* bytes reused */
    struct slab *s = &seg->slabs[0];
    memset(s, 0, sizeof(*s));
    s->start = (char *)seg + offset;
    s->end = (char *)seg + seg->map_size;
    s->objects = 1;
    s->inuse = 1;
    s->bin = NO_BIN;
    seg->huge_size = size;
    if (fresh || seg->slice_slab[0] != s) /* new, or moved by mremap */
        for (unsigned i = 0; i < SLICES_PER_SEG; i++)
            seg->slice_slab[i] = s;
    if (zero && zero_len) /* what grew is fresh, already zero */
        memset(s->start, 0, zero_len < size ? zero_len : size);

    lock(&huge_lock, LOCK_HUGE);
    huge_link(seg);
    huge_forget_unmapped(s->start);
    if (!big_align)
        segmap_set(seg, true);
    unlock(&huge_lock, LOCK_HUGE);
    atomic_fetch_add_explicit(&stat_huge_allocs, 1, memory_order_relaxed);
    return s->start;
}

void huge_free(struct slab *s)
{
    struct segment *seg = segment_of(s);
    struct huge_victims v = {.n = 0};
    lock(&huge_lock, LOCK_HUGE);
    if (s->inuse == 0) { /* already free: leave it alone */
        unlock(&huge_lock, LOCK_HUGE);
        return;
    }
    s->inuse = 0;
    huge_unlink(seg);
    /* glibc's dynamic threshold: the largest freed object up to 32 MiB,
     * and twice that kept. */
    if (seg->map_size <= HUGE_THRESHOLD_MAX && 2 * seg->map_size > huge_budget)
        huge_budget = 2 * seg->map_size;
    uint64_t now = huge_now();
    huge_cache_decay(&v, now);
    bool keep = !seg->big_align && (size_t)(s->start - (char *)seg) == HUGE_HEADER &&
                seg->map_size <= huge_budget;
    if (keep) {
        /* Oldest out until it fits; it stays marked in the segment map. */
        int free_slot = -1;
        for (;;) {
            int oldest = -1;
            free_slot = -1;
            for (int i = 0; i < HUGE_CACHE_SLOTS; i++) {
                if (!huge_cache[i].seg)
                    free_slot = i;
                else if (oldest < 0 || huge_cache[i].freed_at < huge_cache[oldest].freed_at)
                    oldest = i;
            }
            if (free_slot >= 0 && huge_cache_bytes + seg->map_size <= huge_budget)
                break;
            huge_cache_drop(oldest, &v);
        }
        huge_cache[free_slot].seg = seg;
        huge_cache[free_slot].freed_at = now;
        huge_cache_bytes += seg->map_size;
    } else {
        if (!seg->big_align)
            segmap_set(seg, false);
        huge_note_unmapped(seg->slabs[0].start);
    }
    unlock(&huge_lock, LOCK_HUGE);
    huge_victims_unmap(&v);
    if (!keep)
        os_unmap(seg, seg->map_size);
}

/* Unmaps every cached mapping.  Called when the page layer must grow: a
 * program whose footprint is growing gets no use from dirty memory held for
 * a huge object that has not come back. */
void huge_cache_flush(void)
{
    struct huge_victims v = {.n = 0};
    lock(&huge_lock, LOCK_HUGE);
    if (huge_cache_bytes)
        atomic_fetch_add_explicit(&stat_huge_cache_flushes, 1, memory_order_relaxed);
    for (int i = 0; i < HUGE_CACHE_SLOTS; i++)
        if (huge_cache[i].seg)
            huge_cache_drop(i, &v);
    unlock(&huge_lock, LOCK_HUGE);
    huge_victims_unmap(&v);
}

size_t huge_usable(const struct slab *s)
{
    return (size_t)(s->end - s->start);
}

/* Points the header's self-references at its (new) address; huge_lock held. */
static void huge_rebase(struct segment *seg, size_t offset)
{
    struct slab *s = &seg->slabs[0];
    s->start = (char *)seg + offset;
    s->end = (char *)seg + seg->map_size;
    for (unsigned i = 0; i < SLICES_PER_SEG; i++)
        seg->slice_slab[i] = s;
    if (seg->prev)
        seg->prev->next = seg;
    else
        huge_list = seg;
    if (seg->next)
        seg->next->prev = seg;
}

/* Resizes a huge object without copying: in place when the class of the
 * request allows, else by moving the pages (mremap) to a new 4 MiB-aligned
 * range.  Returns NULL when the caller must allocate, copy and free. */
void *huge_realloc(struct slab *s, void *p, size_t size)
{
    struct segment *seg = segment_of(s);
    size_t cap = huge_usable(s);
    if (size <= cap && size >= cap / 2) {
        seg->huge_size = size;
        return p;
    }
    if (seg->big_align || size <= KMALLOC_MAX)
        return NULL;
    size_t offset = (size_t)(s->start - (char *)seg);
    size_t new_map = align_up(offset + size, PAGE_SIZE_MIN);
    if (new_map < size)
        return NULL;
    lock(&huge_lock, LOCK_HUGE);
    struct segment *to = huge_remap(seg, new_map);
    if (!to) {
        unlock(&huge_lock, LOCK_HUGE);
        return NULL;
    }
    if (to != seg) /* moved: p is freed, as realloc's caller must know */
        huge_note_unmapped(p);
    seg = to;
    seg->huge_size = size;
    huge_rebase(seg, offset);
    huge_forget_unmapped(seg->slabs[0].start);
    unlock(&huge_lock, LOCK_HUGE);
    return seg->slabs[0].start;
}

struct slab *huge_lookup(const void *p)
{
    struct slab *found = NULL;
    lock(&huge_lock, LOCK_HUGE);
    for (struct segment *seg = huge_list; seg; seg = seg->next) {
        struct slab *s = &seg->slabs[0];
        if ((const char *)p >= s->start && (const char *)p < s->end) {
            found = s;
            break;
        }
    }
    unlock(&huge_lock, LOCK_HUGE);
    return found;
}

bool huge_was_freed(const void *p)
{
    bool found = false;
    lock(&huge_lock, LOCK_HUGE);
    for (unsigned i = 0; i < HUGE_UNMAPPED_KEPT; i++)
        found |= huge_unmapped[i] == (uintptr_t)p;
    unlock(&huge_lock, LOCK_HUGE);
    return found;
}

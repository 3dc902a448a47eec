/*
 * The page layer: segments from the system, runs of slices for slabs, and the
 * segment map that answers "is this pointer ours?".
 */
#include <assert.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "base/lock.h"
#include "core/internal.h"

_Atomic uint64_t segmap[SEGMAP_WORDS];
_Atomic uint64_t slabmap[SEGMAP_WORDS];
pthread_mutex_t page_lock = PTHREAD_MUTEX_INITIALIZER; /* lock order 5 (base/lock.h) */
struct segment *segment_list;
static struct segment *segment_avail; /* segments with a free slice, page_lock */
static unsigned nr_empty_segments;

static void map_set(_Atomic uint64_t *map, const void *seg, bool on)
{
    uintptr_t i = (uintptr_t)seg >> SEG_SHIFT;
    uint64_t bit = (uint64_t)1 << (i & 63);
    if (on)
        atomic_fetch_or_explicit(&map[i >> 6], bit, memory_order_release);
    else
        atomic_fetch_and_explicit(&map[i >> 6], ~bit, memory_order_release);
}

void segmap_set(const void *seg, bool on)
{
    map_set(segmap, seg, on);
}

struct slab *slab_lookup(const void *p)
{
    if (likely(segmap_test(p))) {
        struct segment *seg = segment_of(p);
        struct slab *s = seg->slice_slab[((uintptr_t)p & SEG_MASK) >> SLICE_SHIFT];
        /* Huge: the header page(s), or past the mapping's end (the rest of
         * the 4 MiB is not ours: anyone's mmap may be there). */
        if (seg->kind == SEG_HUGE && ((char *)p < s->start || (char *)p >= s->end))
            return NULL;
        return s;
    }
    return huge_lookup(p);
}

/* Released slabs of segments given back to the system since (page_lock):
 * their descriptors went with the segment's header, so their geometry is
 * kept here, the latest RELEASED_KEPT of them, for released_object(). */
#define RELEASED_KEPT 128
static struct released_slab {
    uintptr_t start, end;
    uint32_t stride;
    uint8_t cls; /* 1 + kmalloc class; 0: an empty entry */
} released_kept[RELEASED_KEPT];
static unsigned released_next;

/* Was p the start of an object of a slab with this geometry? */
static struct kmem_cache *released_match(const void *p, uintptr_t start, uintptr_t end,
                                         uint32_t stride, uint8_t cls)
{
    if (!cls || !stride)
        return NULL;
    assert(cls <= NR_KMALLOC);
    struct kmem_cache *k = &kmalloc_caches[cls - 1];
    /* Debugged caches put a left red zone before each object. */
    uintptr_t x = (uintptr_t)p - k->red_left_pad - start;
    return x < end - start && x % stride == 0 ? k : NULL;
}

struct kmem_cache *released_object(const void *p)
{
    struct segment *seg = segment_of(p);
    unsigned idx = (unsigned)(((uintptr_t)p & SEG_MASK) >> SLICE_SHIFT);
    struct kmem_cache *c = NULL;
    lock(&page_lock, LOCK_PAGE);
    if (segmap_test(p)) {
        /* The descriptors of released slabs keep their geometry (start,
         * end, stride) until their first slice is taken again; any of them
         * that covered p will do. */
        if (seg->kind == SEG_SLABS && idx && !seg->slice_slab[idx])
            for (unsigned i = idx; i >= 1 && !c; i--)
                c = released_match(p, (uintptr_t)seg->slabs[i].start, (uintptr_t)seg->slabs[i].end,
                                   seg->slabs[i].size, seg->slabs[i].released_class);
    } else {
        for (unsigned i = 0; i < RELEASED_KEPT && !c; i++)
            c = released_match(p, released_kept[i].start, released_kept[i].end,
                               released_kept[i].stride, released_kept[i].cls);
    }
    unlock(&page_lock, LOCK_PAGE);
    return c;
}

void *os_map_aligned(size_t size, size_t align)
{
    /* Over-map by `align` and trim both ends: one mmap, at most two munmaps.
     * No MAP_NORESERVE: the kernel's overcommit check then refuses absurd
     * sizes, so malloc(1 << 46) fails with ENOMEM as it does with glibc. */
    size_t len = size + align;
    if (len < size)
        return NULL;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    char *a = (char *)align_up((uintptr_t)p, align);
    if (a > p)
        munmap(p, (size_t)(a - p));
    size_t tail = (size_t)((p + len) - (a + size));
    if (tail)
        munmap(a + size, tail);
    return a;
}

void os_unmap(void *p, size_t size)
{
    munmap(p, size);
}

void os_discard(void *p, size_t size)
{
    /* MADV_DONTNEED, not MADV_FREE: the memory leaves our RSS now, which is
     * what a user watching the process expects after a free. */
    madvise(p, size, MADV_DONTNEED);
}

static void avail_add(struct segment *seg)
{
    if (seg->on_avail)
        return;
    seg->on_avail = true;
    seg->avail_prev = NULL;
    seg->avail_next = segment_avail;
    if (segment_avail)
        segment_avail->avail_prev = seg;
    segment_avail = seg;
}

static void avail_del(struct segment *seg)
{
    if (!seg->on_avail)
        return;
    seg->on_avail = false;
    if (seg->avail_prev)
        seg->avail_prev->avail_next = seg->avail_next;
    else
        segment_avail = seg->avail_next;
    if (seg->avail_next)
        seg->avail_next->avail_prev = seg->avail_prev;
}

static struct segment *segment_new(void)
{
    struct segment *seg = os_map_aligned(SEG_SIZE, SEG_SIZE);
    if (!seg)
        return NULL;
    seg->magic = SEG_MAGIC;
    seg->kind = SEG_SLABS;
    seg->map_size = SEG_SIZE;
    seg->free_slices = ~(uint64_t)1; /* slice 0 is the header */
    seg->next = segment_list;
    seg->prev = NULL;
    if (segment_list)
        segment_list->prev = seg;
    segment_list = seg;
    avail_add(seg);
    segmap_set(seg, true);
    map_set(slabmap, seg, true);
    assert(slabmap_test(seg) && segmap_test(seg));
    /* Ours again: what was released here before is no longer a guide. */
    for (unsigned i = 0; i < RELEASED_KEPT; i++)
        if (released_kept[i].start >= (uintptr_t)seg &&
            released_kept[i].start < (uintptr_t)seg + SEG_SIZE)
            released_kept[i].cls = 0;
    return seg;
}

static void segment_delete(struct segment *seg)
{
    for (unsigned i = 1; i < SLICES_PER_SEG; i++) {
        const struct slab *s = &seg->slabs[i];
        if (s->released_class) {
            struct released_slab *r = &released_kept[released_next++ % RELEASED_KEPT];
            r->start = (uintptr_t)s->start;
            r->end = (uintptr_t)s->end;
            r->stride = s->size;
            r->cls = s->released_class;
        }
    }
    avail_del(seg);
    if (seg->prev)
        seg->prev->next = seg->next;
    else
        segment_list = seg->next;
    if (seg->next)
        seg->next->prev = seg->prev;
    map_set(slabmap, seg, false);
    segmap_set(seg, false);
    os_unmap(seg, SEG_SIZE);
}

/* First run of n set bits in `free`, or -1. */
static int find_run(uint64_t free, unsigned n)
{
    uint64_t m = free;
    for (unsigned i = 1; i < n && m; i++)
        m &= free >> i;
    return m ? __builtin_ctzll(m) : -1;
}

/* Free slices keep their pages (stay "dirty") up to a budget, so a slab
 * freed and soon needed again, by any cache, costs no page faults; past the
 * budget the oldest-found dirty runs are given back with MADV_DONTNEED.  The
 * budget grows with the heap: 4 MiB plus 1/16 of the mapped segments (a
 * page fault costs far more than the memory held: mstress, which frees all
 * and allocates again each round, faulted 4x more pages than glibc with
 * 1 MiB plus 1/32). */
static size_t dirty_total; /* dirty free slices, page_lock */
static size_t mapped_segments;

static size_t dirty_limit(void)
{
    return ((size_t)4 << 20 >> SLICE_SHIFT) + mapped_segments * SLICES_PER_SEG / 16;
}

static uint64_t run_bits(unsigned at, unsigned n)
{
    return (n == 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1)) << at;
}

/* Gives dirty free slices back until `target` are left; page_lock held. */
static void purge_dirty_to(size_t target)
{
    for (struct segment *seg = segment_avail; seg && dirty_total > target; seg = seg->avail_next) {
        while (seg->dirty_slices && dirty_total > target) {
            unsigned at = (unsigned)__builtin_ctzll(seg->dirty_slices);
            unsigned n = 0;
            while (at + n < SLICES_PER_SEG && (seg->dirty_slices >> (at + n) & 1))
                n++;
            os_discard((char *)seg + ((size_t)at << SLICE_SHIFT), (size_t)n << SLICE_SHIFT);
            seg->dirty_slices &= ~run_bits(at, n);
            dirty_total -= n;
        }
    }
}

/* Past the budget: back to half of it. */
static void purge_dirty(void)
{
    purge_dirty_to(dirty_limit() / 2);
}

size_t span_purge_all(void)
{
    lock(&page_lock, LOCK_PAGE);
    size_t n = dirty_total;
    purge_dirty_to(0);
    n -= dirty_total;
    unlock(&page_lock, LOCK_PAGE);
    return n << SLICE_SHIFT;
}

struct slab *span_alloc(unsigned n)
{
    lock(&page_lock, LOCK_PAGE);
    struct segment *seg;
    int at = -1;
    /* Dirty runs first (no page faults), then any free run. */
    for (seg = segment_avail; seg; seg = seg->avail_next)
        if ((at = find_run(seg->free_slices & seg->dirty_slices, n)) >= 0)
            break;
    if (!seg)
        for (seg = segment_avail; seg; seg = seg->avail_next)
            if ((at = find_run(seg->free_slices, n)) >= 0)
                break;
    if (!seg) {
        huge_cache_flush();
        seg = segment_new();
        if (!seg) {
            unlock(&page_lock, LOCK_PAGE);
            errno = ENOMEM;
            return NULL;
        }
        mapped_segments++;
        nr_empty_segments++;
        at = 1;
    }
    if (seg->free_slices == ~(uint64_t)1)
        nr_empty_segments--;
    uint64_t bits = run_bits((unsigned)at, n);
    seg->free_slices &= ~bits;
    dirty_total -= (size_t)__builtin_popcountll(seg->dirty_slices & bits);
    seg->dirty_slices &= ~bits;
    if (!seg->free_slices)
        avail_del(seg);
    struct slab *s = &seg->slabs[at];
    memset(s, 0, sizeof(*s));
    s->nslices = (uint16_t)n;
    s->start = (char *)seg + ((size_t)at << SLICE_SHIFT);
    for (unsigned i = 0; i < n; i++)
        seg->slice_slab[at + i] = s;
    unlock(&page_lock, LOCK_PAGE);
    return s;
}

void span_free(struct slab *s)
{
    struct segment *seg = segment_of(s);
    unsigned at = (unsigned)(((uintptr_t)s->start & SEG_MASK) >> SLICE_SHIFT);
    unsigned n = s->nslices;
    lock(&page_lock, LOCK_PAGE);
    for (unsigned i = 0; i < n; i++)
        seg->slice_slab[at + i] = NULL;
    struct kmem_cache *c = s->cache;
    s->released_class = c && c->is_kmalloc ? (uint8_t)(c - kmalloc_caches + 1) : 0;
    assert(s->released_class <= NR_KMALLOC);
    s->cache = NULL;
    seg->free_slices |= run_bits(at, n);
    seg->dirty_slices |= run_bits(at, n);
    dirty_total += n;
    avail_add(seg);
    if (seg->free_slices == ~(uint64_t)1) {
        /* Keep one empty segment around; unmap the rest. */
        if (nr_empty_segments >= 1) {
            dirty_total -= (size_t)__builtin_popcountll(seg->dirty_slices);
            mapped_segments--;
            segment_delete(seg);
        } else {
            nr_empty_segments++;
        }
    }
    if (dirty_total > dirty_limit())
        purge_dirty();
    unlock(&page_lock, LOCK_PAGE);
}

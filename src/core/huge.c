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
 * Freed mappings are kept in a small cache so a program that repeatedly
 * allocates large buffers does not pay mmap, page faults and munmap each time.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "base/lock.h"
#include "core/internal.h"

#define HUGE_HEADER align_up(sizeof(struct segment), PAGE_SIZE_MIN)
#define HUGE_CACHE_SLOTS 8
#define HUGE_CACHE_BYTES ((size_t)32 << 20)

pthread_mutex_t huge_lock = PTHREAD_MUTEX_INITIALIZER; /* lock order 6 (base/lock.h) */
struct segment *huge_list;
_Atomic uint64_t stat_huge_allocs, stat_huge_cache_hits, stat_huge_cache_flushes;

static struct segment *huge_cache[HUGE_CACHE_SLOTS];
static size_t huge_cache_bytes;

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

/* The smallest cached mapping that holds `size` at `offset` and is at most
 * eight times larger; huge_lock held.  (Trimming the excess was measured:
 * unmapping dirty pages costs more than keeping them with the object.) */
static struct segment *huge_cache_take(size_t offset, size_t size)
{
    int best = -1;
    for (int i = 0; i < HUGE_CACHE_SLOTS; i++) {
        struct segment *seg = huge_cache[i];
        if (!seg || seg->map_size < offset + size || seg->map_size / 8 > offset + size)
            continue;
        if (best < 0 || seg->map_size < huge_cache[best]->map_size)
            best = i;
    }
    if (best < 0)
        return NULL;
    struct segment *seg = huge_cache[best];
    huge_cache[best] = NULL;
    huge_cache_bytes -= seg->map_size;
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

    if (!big_align) {
        lock(&huge_lock, LOCK_HUGE);
        seg = huge_cache_take(offset, size);
        unlock(&huge_lock, LOCK_HUGE);
        if (seg)
            atomic_fetch_add_explicit(&stat_huge_cache_hits, 1, memory_order_relaxed);
    }
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
    }
    struct slab *s = &seg->slabs[0];
    memset(s, 0, sizeof(*s));
    s->start = (char *)seg + offset;
    s->end = (char *)seg + seg->map_size;
    s->objects = 1;
    s->inuse = 1;
    s->bin = NO_BIN;
    seg->huge_size = size;
    if (fresh)
        for (unsigned i = 0; i < SLICES_PER_SEG; i++)
            seg->slice_slab[i] = s;
    else if (zero)
        memset(s->start, 0, size);

    lock(&huge_lock, LOCK_HUGE);
    huge_link(seg);
    if (!big_align)
        segmap_set(seg, true);
    unlock(&huge_lock, LOCK_HUGE);
    atomic_fetch_add_explicit(&stat_huge_allocs, 1, memory_order_relaxed);
    return s->start;
}

void huge_free(struct slab *s)
{
    struct segment *seg = segment_of(s);
    lock(&huge_lock, LOCK_HUGE);
    if (s->inuse == 0) { /* already free: leave it alone */
        unlock(&huge_lock, LOCK_HUGE);
        return;
    }
    s->inuse = 0;
    huge_unlink(seg);
    if (!seg->big_align && seg->map_size <= HUGE_CACHE_BYTES / 4) {
        /* Evict until it fits, then cache it (still marked in the segment
         * map, so a stale free finds inuse == 0 instead of a foreign pointer). */
        for (int i = 0; i < HUGE_CACHE_SLOTS && huge_cache_bytes + seg->map_size > HUGE_CACHE_BYTES;
             i++) {
            if (huge_cache[i]) {
                struct segment *old = huge_cache[i];
                huge_cache[i] = NULL;
                huge_cache_bytes -= old->map_size;
                segmap_set(old, false);
                os_unmap(old, old->map_size);
            }
        }
        for (int i = 0; i < HUGE_CACHE_SLOTS; i++) {
            if (!huge_cache[i]) {
                huge_cache[i] = seg;
                huge_cache_bytes += seg->map_size;
                unlock(&huge_lock, LOCK_HUGE);
                return;
            }
        }
        /* All slots busy: replace the oldest-inserted one (slot 0). */
        struct segment *old = huge_cache[0];
        huge_cache_bytes -= old->map_size;
        segmap_set(old, false);
        os_unmap(old, old->map_size);
        huge_cache[0] = seg;
        huge_cache_bytes += seg->map_size;
        unlock(&huge_lock, LOCK_HUGE);
        return;
    }
    if (!seg->big_align)
        segmap_set(seg, false);
    unlock(&huge_lock, LOCK_HUGE);
    os_unmap(seg, seg->map_size);
}

/* Unmaps every cached mapping.  Called when the page layer must grow: a
 * program whose footprint is growing gets no use from dirty memory held for
 * a huge object that has not come back. */
void huge_cache_flush(void)
{
    lock(&huge_lock, LOCK_HUGE);
    if (huge_cache_bytes)
        atomic_fetch_add_explicit(&stat_huge_cache_flushes, 1, memory_order_relaxed);
    for (int i = 0; i < HUGE_CACHE_SLOTS; i++) {
        struct segment *old = huge_cache[i];
        if (old) {
            huge_cache[i] = NULL;
            segmap_set(old, false);
            os_unmap(old, old->map_size);
        }
    }
    huge_cache_bytes = 0;
    unlock(&huge_lock, LOCK_HUGE);
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
    if (mremap(seg, seg->map_size, new_map, 0) == MAP_FAILED) {
        /* Cannot resize in place: reserve an aligned range and move there. */
        void *dst = os_map_aligned(new_map, SEG_SIZE);
        if (!dst ||
            mremap(seg, seg->map_size, new_map, MREMAP_MAYMOVE | MREMAP_FIXED, dst) == MAP_FAILED) {
            unlock(&huge_lock, LOCK_HUGE);
            if (dst)
                os_unmap(dst, new_map);
            return NULL;
        }
        segmap_set(seg, false);
        seg = dst;
        segmap_set(seg, true);
    }
    seg->map_size = new_map;
    seg->huge_size = size;
    huge_rebase(seg, offset);
    unlock(&huge_lock, LOCK_HUGE);
    return seg->slabs[0].start;
}

struct slab *huge_lookup_big_align(const void *p)
{
    struct slab *found = NULL;
    lock(&huge_lock, LOCK_HUGE);
    for (struct segment *seg = huge_list; seg; seg = seg->next) {
        if (seg->big_align && seg->slabs[0].start == p) {
            found = &seg->slabs[0];
            break;
        }
    }
    unlock(&huge_lock, LOCK_HUGE);
    return found;
}

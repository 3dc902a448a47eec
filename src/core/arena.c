/* The report arena (see arena.h). */
#include <errno.h>
#include <string.h>

#include "base/lock.h"
#include "core/arena.h"

#define ARENA_MAGIC 0x616e7261u /* "arna" */
#define ARENA_MIN_SHIFT 5       /* 32-byte blocks: 16 of header, 16 of data */
#define ARENA_BIG_SHIFT 20      /* blocks of up to 1 MiB come from chunks */
#define ARENA_NCLASSES (ARENA_BIG_SHIFT - ARENA_MIN_SHIFT + 1)
#define ARENA_CLASS_BIG 0xffu
#define ARENA_HDR 16u

/* In front of every pointer handed out.  `back` is the distance from the
 * header to the start of its block (non-zero for aligned requests). */
struct arena_hdr {
    uint32_t magic;
    uint32_t cls; /* shift of the block size, or ARENA_CLASS_BIG */
    uint64_t back;
};
_Static_assert(sizeof(struct arena_hdr) == ARENA_HDR, "the header keeps 16-byte alignment");

pthread_mutex_t arena_lock = PTHREAD_MUTEX_INITIALIZER; /* lock order 9 (base/lock.h) */
static void *free_list[ARENA_NCLASSES]; /* arena_lock */
static char *bump, *bump_end;           /* arena_lock: the current chunk */
static _Atomic size_t mapped;

static size_t chunk_header(void)
{
    return align_up(sizeof(struct segment), 64);
}

/* A SEG_ARENA segment of `size` bytes whose data starts after the header.
 * Its one slab descriptor (cache NULL, bin NO_BIN) sends free() to the
 * slow path, which sends it here. */
static struct segment *arena_segment(size_t size)
{
    struct segment *seg = os_map_aligned(size, SEG_SIZE);
    if (!seg)
        return NULL;
    seg->magic = SEG_MAGIC;
    seg->kind = SEG_ARENA;
    seg->map_size = size;
    struct slab *s = &seg->slabs[0];
    s->start = (char *)seg + chunk_header();
    s->end = (char *)seg + size;
    s->bin = NO_BIN;
    for (unsigned i = 0; i < SLICES_PER_SEG; i++)
        seg->slice_slab[i] = s;
    atomic_fetch_add_explicit(&mapped, size, memory_order_relaxed);
    segmap_set(seg, true);
    return seg;
}

/* A block of 2^cls bytes; arena_lock held. */
static char *block_take(unsigned cls)
{
    void **head = &free_list[cls - ARENA_MIN_SHIFT];
    if (*head) {
        char *b = *head;
        *head = *(void **)b;
        return b;
    }
    size_t size = (size_t)1 << cls;
    /* Blocks are aligned to their size (up to 4 KiB) so aligned requests
     * find their alignment inside a block of twice the size. */
    size_t a = size < 4096 ? size : 4096;
    char *b = (char *)align_up((uintptr_t)bump, a);
    if (!bump || b + size > bump_end) {
        struct segment *seg = arena_segment(SEG_SIZE);
        if (!seg)
            return NULL;
        bump = seg->slabs[0].start;
        bump_end = seg->slabs[0].end;
        b = (char *)align_up((uintptr_t)bump, a);
    }
    bump = b + size;
    return b;
}

static void *hand_out(char *block, uint32_t cls, size_t align)
{
    char *p = (char *)align_up((uintptr_t)block + ARENA_HDR, align);
    struct arena_hdr *h = (struct arena_hdr *)(p - ARENA_HDR);
    h->magic = ARENA_MAGIC;
    h->cls = cls;
    h->back = (uint64_t)((char *)h - block);
    return p;
}

void *arena_alloc(size_t size, size_t align, bool zero)
{
    if (align < 16)
        align = 16;
    if (size > ((size_t)1 << VA_BITS) || align > ((size_t)1 << 30)) {
        errno = ENOMEM;
        return NULL;
    }
    size_t need = size + ARENA_HDR + (align > 16 ? align : 0);
    if (need > ((size_t)1 << ARENA_BIG_SHIFT)) {
        size_t map = align_up(chunk_header() + need, PAGE_SIZE_MIN);
        struct segment *seg = arena_segment(map);
        if (!seg) {
            errno = ENOMEM;
            return NULL;
        }
        return hand_out(seg->slabs[0].start, ARENA_CLASS_BIG, align); /* fresh: zero */
    }
    unsigned cls = ARENA_MIN_SHIFT;
    while (((size_t)1 << cls) < need)
        cls++;
    lock(&arena_lock, LOCK_ARENA);
    char *b = block_take(cls);
    unlock(&arena_lock, LOCK_ARENA);
    if (!b) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = hand_out(b, cls, align);
    if (zero)
        memset(p, 0, size);
    return p;
}

/* The header of a live arena pointer, or NULL. */
static struct arena_hdr *header_of(const void *p)
{
    if (!p || ((uintptr_t)p & 15))
        return NULL;
    struct segment *seg = segment_of(p);
    if (!segmap_test(p) || seg->kind != SEG_ARENA || (const char *)p < seg->slabs[0].start + 16)
        return NULL;
    struct arena_hdr *h = (struct arena_hdr *)((const char *)p - ARENA_HDR);
    if (h->magic != ARENA_MAGIC)
        return NULL;
    if (h->cls != ARENA_CLASS_BIG && (h->cls < ARENA_MIN_SHIFT || h->cls > ARENA_BIG_SHIFT))
        return NULL;
    return h;
}

void arena_free(void *p)
{
    struct arena_hdr *h = header_of(p);
    if (!h)
        return; /* not a live block (a double free): leave it */
    h->magic = 0;
    char *block = (char *)h - h->back;
    if (h->cls == ARENA_CLASS_BIG) {
        struct segment *seg = segment_of(p);
        atomic_fetch_sub_explicit(&mapped, seg->map_size, memory_order_relaxed);
        segmap_set(seg, false);
        os_unmap(seg, seg->map_size);
        return;
    }
    lock(&arena_lock, LOCK_ARENA);
    void **head = &free_list[h->cls - ARENA_MIN_SHIFT];
    *(void **)block = *head;
    *head = block;
    unlock(&arena_lock, LOCK_ARENA);
}

size_t arena_usable(const void *p)
{
    struct arena_hdr *h = header_of(p);
    if (!h)
        return 0;
    const char *block = (const char *)h - h->back;
    const char *end = h->cls == ARENA_CLASS_BIG ? segment_of(p)->slabs[0].end
                                                : block + ((size_t)1 << h->cls);
    return (size_t)(end - (const char *)p);
}

void *arena_realloc(void *p, size_t size)
{
    size_t old = arena_usable(p);
    if (old >= size && old / 4 <= size)
        return p;
    void *q = arena_alloc(size, 16, false);
    if (!q)
        return NULL;
    memcpy(q, p, old < size ? old : size);
    arena_free(p);
    return q;
}

size_t arena_mapped(void)
{
    return atomic_load_explicit(&mapped, memory_order_relaxed);
}

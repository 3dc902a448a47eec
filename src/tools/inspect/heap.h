/*
 * The allocator's structures in a target, read through slabdbg_root and
 * its layout table (src/common/layout.h): caches, slabs, objects, their
 * state and metadata, and the stack depot.  Nothing here trusts the target:
 * every pointer read is checked before it is followed, every list walk is
 * bounded, so a corrupted heap or a cut core gives a message, not a crash.
 */
#ifndef SLABDBG_INSPECT_HEAP_H
#define SLABDBG_INSPECT_HEAP_H

#include "common/layout.h"
#include "inspect/target.h"

struct heap {
    struct target *t;
    uint64_t root_addr;
    struct slabdbg_root_v2 root;
    uint32_t L[SLABDBG_L_COUNT];
    uint64_t link_key, free_key;
    uint64_t depot_arena, depot_used;
    char lib_version[32];
    char lib_path[256]; /* the file slabdbg_root was found in */
};

/* Finds and checks the root; 0, or -1 with a one-line message in err. */
int heap_open(struct heap *h, struct target *t, char *err, size_t errlen);

struct h_cache {
    uint64_t addr;
    char name[40];
    uint32_t size, stride, fp_offset, objects, slab_slices, batch, tcache_max, flags;
    uint32_t debug, red_left_pad, inuse, pad_offset, meta_size;
    uint32_t nr_partial, nr_full;
    bool is_kmalloc, marker;
    uint64_t partial, full, next;
};

struct h_slab {
    uint64_t addr, start, freelist, bump, end, cache, next, meta;
    uint32_t inuse, objects, stride;
    uint16_t nslices;
    bool isolated;
};

bool heap_cache(struct heap *h, uint64_t addr, struct h_cache *c);
bool heap_slab(struct heap *h, uint64_t addr, struct h_slab *s);

struct h_track {
    uint64_t addr;
    uint32_t handle;
    int32_t cpu, pid;
    uint64_t when;
};

enum h_state {
    ST_ALLOCATED,
    ST_FREE,       /* on a free list or in a thread cache */
    ST_QUARANTINE, /* freed, held back from reuse */
    ST_MAGAZINE,   /* free, held by a thread of a debugged cache */
    ST_NEVER,      /* never handed out yet */
    ST_GUARD_FREED,
    ST_UNKNOWN
};
const char *heap_state_name(enum h_state s);

enum h_kind {
    W_NOT_OURS,
    W_OBJECT,    /* in (or around) an object of a slab */
    W_SLAB_TAIL, /* in a slab, past its last object */
    W_HUGE,
    W_GUARD,  /* a G object (its own mapping) */
    W_POOL,   /* the sampling pool (a slot's object when has_orig, else its header) */
    W_ARENA,  /* slabdbg's report arena */
    W_HEADER, /* a segment header: allocator metadata */
    W_FREE_SLICE
};

/* What an address is (whatis). */
struct h_where {
    enum h_kind kind;
    uint64_t addr, seg;
    struct h_cache c;
    struct h_slab s;
    bool has_cache, has_slab;
    uint32_t index;    /* object index in its slab */
    uint64_t slot;     /* start of the object's slot (its left red zone) */
    uint64_t obj;      /* the object's start (the pointer the program has) */
    uint64_t obj_size; /* the cache's object size (huge: mapping capacity) */
    int64_t off;       /* addr - obj */
    enum h_state state;
    bool has_orig;
    uint64_t orig_size; /* requested size */
    bool has_tracks;
    struct h_track track[2]; /* alloc, free */
    char region[48];         /* "left red zone", "object", "red zone", "free pointer", "padding" */
};

int heap_whatis(struct heap *h, uint64_t addr, struct h_where *w);
/* Does a segment of ours start at addr's 4 MiB boundary (the segment map)? */
bool heap_in_segmap(struct heap *h, uint64_t addr);
/* The frames of a stack depot handle; returns their number. */
unsigned heap_stack(struct heap *h, uint32_t handle, uint64_t *frames, unsigned max);

/* Every cache: kmalloc caches, then named ones; bounded. */
typedef void (*h_cache_fn)(struct heap *h, const struct h_cache *c, void *arg);
void heap_for_each_cache(struct heap *h, h_cache_fn fn, void *arg);
/* Every slab of a cache (partial, then full list); bounded. */
typedef void (*h_slab_fn)(struct heap *h, const struct h_cache *c, const struct h_slab *s,
                          void *arg);
void heap_for_each_slab(struct heap *h, const struct h_cache *c, h_slab_fn fn, void *arg);
/* The state of object i of slab s (and its metadata when debugged). */
enum h_state heap_object_state(struct heap *h, const struct h_cache *c, const struct h_slab *s,
                               uint32_t i, struct h_where *meta_out);
static inline uint64_t heap_object(const struct h_cache *c, const struct h_slab *s, uint32_t i)
{
    return s->start + (uint64_t)i * c->stride + c->red_left_pad;
}
/* Every segment of ours: the huge objects aligned to 4 MiB or more (on the
 * huge list only), then the segment map's (slab, huge, guard, pool). */
typedef void (*h_seg_fn)(struct heap *h, uint64_t seg, uint8_t kind, void *arg);
void heap_for_each_segment(struct heap *h, h_seg_fn fn, void *arg);
/* The sampling pool of segment seg: its slot count and first data page. */
bool heap_pool(struct heap *h, uint64_t seg, uint32_t *nslots, uint64_t *data0);
/* Slot i of the pool, as whatis tells it for addr. */
int heap_pool_slot(struct heap *h, uint64_t seg, uint32_t i, uint64_t addr, struct h_where *w);
/* Decodes a free-list link stored at slot. */
static inline uint64_t heap_link(const struct heap *h, uint64_t slot, uint64_t stored)
{
    return stored ^ h->link_key ^ (slot >> 12);
}

#endif

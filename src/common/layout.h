/*
 * The allocator's structures as a reader outside the process sees them.
 *
 * slabdbg_root (front/init.c) is exported so that the inspection tools
 * (src/tools/inspect/) find every cache, segment and stack of a live
 * process or a core file.  They read those structures from the target's
 * memory without the library's headers: what they know of the layout is
 * this table.  Each entry names one field (or a size) of a structure of
 * the library with its value on x86-64; the library exports the values it
 * was built with (root->layout) and asserts at compile time that they are
 * the ones written here, so a change of a structure cannot go out without
 * this file changing too (and, when the meaning changes, the version).
 *
 * Readers take the offsets from the target's table, not from this file:
 * a tool reads a process of another build of the same root version.  New
 * entries go at the end: a reader needs only layout_count >= its own.
 *
 *   X(NAME, struct, field, value)   offsetof(struct, field) == value
 *   S(NAME, struct, value)          sizeof(struct) == value
 */
#ifndef SLABDBG_COMMON_LAYOUT_H
#define SLABDBG_COMMON_LAYOUT_H

#include <stdint.h>

#define SLABDBG_ROOT_MAGIC 0x746f6f7262616c73ull /* "slabroot" */
#define SLABDBG_ROOT_VERSION 2

#define SLABDBG_LAYOUT_TABLE(X, S)                                                                 \
    S(CACHE_SIZE, kmem_cache, 384)                                                                 \
    X(CACHE_PARTIAL, kmem_cache, partial, 40)                                                      \
    X(CACHE_FULL, kmem_cache, full, 56)                                                            \
    X(CACHE_NR_PARTIAL, kmem_cache, nr_partial, 64)                                                \
    X(CACHE_NR_FULL, kmem_cache, nr_full, 68)                                                      \
    X(CACHE_OBJSIZE, kmem_cache, size, 76)                                                         \
    X(CACHE_STRIDE, kmem_cache, stride, 80)                                                        \
    X(CACHE_FP_OFFSET, kmem_cache, fp_offset, 88)                                                  \
    X(CACHE_OBJECTS, kmem_cache, objects, 92)                                                      \
    X(CACHE_SLAB_SLICES, kmem_cache, slab_slices, 96)                                              \
    X(CACHE_BATCH, kmem_cache, batch, 100)                                                         \
    X(CACHE_TCACHE_MAX, kmem_cache, tcache_max, 104)                                               \
    X(CACHE_FLAGS, kmem_cache, flags, 108)                                                         \
    X(CACHE_DEBUG, kmem_cache, debug, 272)                                                         \
    X(CACHE_RED_LEFT_PAD, kmem_cache, red_left_pad, 276)                                           \
    X(CACHE_INUSE, kmem_cache, inuse, 280)                                                         \
    X(CACHE_PAD_OFFSET, kmem_cache, pad_offset, 284)                                               \
    X(CACHE_META_SIZE, kmem_cache, meta_size, 288)                                                 \
    X(CACHE_IS_KMALLOC, kmem_cache, is_kmalloc, 292)                                               \
    X(CACHE_MARKER, kmem_cache, marker, 293)                                                       \
    X(CACHE_NEXT, kmem_cache, next, 320)                                                           \
    X(CACHE_NAME, kmem_cache, name, 328)                                                           \
    S(SLAB_SIZE, slab, 96)                                                                         \
    X(SLAB_START, slab, start, 0)                                                                  \
    X(SLAB_ISOLATED, slab, isolated, 19)                                                           \
    X(SLAB_INUSE, slab, inuse, 20)                                                                 \
    X(SLAB_FREELIST, slab, freelist, 24)                                                           \
    X(SLAB_BUMP, slab, bump, 32)                                                                   \
    X(SLAB_END, slab, end, 40)                                                                     \
    X(SLAB_CACHE, slab, cache, 48)                                                                 \
    X(SLAB_NEXT, slab, next, 56)                                                                   \
    X(SLAB_OBJECTS, slab, objects, 72)                                                             \
    X(SLAB_STRIDE, slab, size, 76)                                                                 \
    X(SLAB_NSLICES, slab, nslices, 80)                                                             \
    X(SLAB_META, slab, meta, 88)                                                                   \
    S(SEGMENT_SIZE, segment, 6752)                                                                 \
    X(SEGMENT_MAGIC, segment, magic, 0)                                                            \
    X(SEGMENT_KIND, segment, kind, 4)                                                              \
    X(SEGMENT_MAP_SIZE, segment, map_size, 24)                                                     \
    X(SEGMENT_HUGE_SIZE, segment, huge_size, 32)                                                   \
    X(SEGMENT_NEXT, segment, next, 40)                                                             \
    X(SEGMENT_SLICE_SLAB, segment, slice_slab, 80)                                                 \
    X(SEGMENT_SLABS, segment, slabs, 608)                                                          \
    S(META_SIZE, obj_meta, 16)                                                                     \
    X(META_ORIG_SIZE, obj_meta, orig_size, 0)                                                      \
    X(META_STATE, obj_meta, state, 4)                                                              \
    X(META_TRACK, obj_meta, track, 16)                                                             \
    S(TRACK_SIZE, track, 32)                                                                       \
    X(TRACK_ADDR, track, addr, 0)                                                                  \
    X(TRACK_HANDLE, track, handle, 8)                                                              \
    X(TRACK_CPU, track, cpu, 12)                                                                   \
    X(TRACK_PID, track, pid, 16)                                                                   \
    X(TRACK_WHEN, track, when, 24)                                                                 \
    S(DEPOT_RECORD_SIZE, depot_record, 16)                                                         \
    X(DEPOT_NFRAMES, depot_record, nframes, 8)                                                     \
    X(DEPOT_FRAMES, depot_record, frames, 16)                                                      \
    S(GUARD_SLOT_SIZE, guard_slot, 112)                                                            \
    X(GUARD_OBJECT, guard_slot, object, 0)                                                         \
    X(GUARD_OBJSIZE, guard_slot, size, 8)                                                          \
    X(GUARD_STATE, guard_slot, state, 12)                                                          \
    X(GUARD_CACHE, guard_slot, cache, 24)                                                          \
    X(GUARD_TRACK, guard_slot, track, 48)                                                          \
    X(POOL_NSLOTS, pool, nslots, 0)                                                                \
    X(POOL_DATA0, pool, data0, 16)                                                                 \
    X(POOL_SLOT, pool, slot, 48)                                                                   \
    X(POOL_STRIDE, pool, stride, 4)                                                                \
    X(POOL_DATA_LEN, pool, data_len, 8)                                                            \
    X(POOL_SAMPLED, pool, sampled, 40)

#define SLABDBG_LAYOUT_ENUM_X(name, st, field, value) SLABDBG_L_##name,
#define SLABDBG_LAYOUT_ENUM_S(name, st, value) SLABDBG_L_##name,
enum slabdbg_layout_index {
    SLABDBG_LAYOUT_TABLE(SLABDBG_LAYOUT_ENUM_X, SLABDBG_LAYOUT_ENUM_S) SLABDBG_L_COUNT
};

/* Constants a reader needs beside the offsets (asserted in the library). */
#define SLABDBG_SEG_MAGIC 0x534c4142u
enum slabdbg_seg_kind {
    SLABDBG_SEG_SLABS = 1,
    SLABDBG_SEG_HUGE = 2,
    SLABDBG_SEG_GUARD = 3,
    SLABDBG_SEG_POOL = 4,
    SLABDBG_SEG_ARENA = 5
};
#define SLABDBG_STATE_ACTIVE 0xacac0001u
#define SLABDBG_STATE_FREE 0xf4ee0002u
#define SLABDBG_STATE_QUARANTINE 0xf4ee0003u
#define SLABDBG_STATE_OWNED 0xf4ee0004u /* free, in a thread's magazine */
#define SLABDBG_GUARD_SLOT_LIVE 1       /* guard_slot.state; 2: freed */
#define SLABDBG_VA_BITS 47

/*
 * The root, version 2.  Version 1 stopped after slice_size.  Pointers are
 * the target's; a reader checks magic and version before anything else.
 */
struct slabdbg_root_v2 {
    uint64_t magic;
    uint32_t version;
    uint32_t nr_kmalloc;
    uint64_t kmalloc_caches; /* struct kmem_cache[nr_kmalloc] */
    uint64_t cache_list;     /* struct kmem_cache ** (named caches) */
    uint64_t segment_list;   /* struct segment ** (slab segments) */
    uint64_t huge_list;      /* struct segment ** (huge objects) */
    uint64_t seg_size, slice_size;
    /* version 2 */
    uint64_t layout;       /* uint32_t[layout_count]: the table above (behind this struct) */
    uint32_t layout_count; /* SLABDBG_L_COUNT of the library */
    uint32_t va_bits;
    uint64_t segmap;      /* uint64_t[]: bit i: a segment of ours at i * seg_size */
    uint64_t link_key;    /* uintptr_t *: free-list link encoding */
    uint64_t free_key;    /* uintptr_t *: free markers */
    uint64_t depot_arena; /* char **: stack depot records, handle * 8 */
    uint64_t depot_used;  /* size_t *: bytes of the depot in use */
    uint64_t lib_version; /* const char *: SLABDBG_VERSION */
    /* uint64_t *: the counters slabinfo prints */
    uint64_t stat_huge_allocs, stat_huge_cache_hits, stat_huge_cache_flushes, stat_foreign_frees;
};

#endif

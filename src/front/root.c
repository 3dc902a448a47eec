/*
 * slabdbg_root: where a reader outside the process (slabdbg whatis,
 * slabinfo, validate, leaks, explain --core) starts.  Exported and
 * versioned; its layout table says where each field the readers need lies
 * (src/common/layout.h), and the assertions below keep that file true.
 */
#include <stddef.h>

#include "common/layout.h"
#include "debug/debug.h"
#include "debug/guard.h"
#include "debug/stackdepot.h"

struct slabdbg_root {
    uint64_t magic;
    uint32_t version;
    uint32_t nr_kmalloc;
    struct kmem_cache *kmalloc_caches;
    struct kmem_cache **cache_list;
    struct segment **segment_list;
    struct segment **huge_list;
    uint64_t seg_size, slice_size;
    const uint32_t *layout;
    uint32_t layout_count;
    uint32_t va_bits;
    _Atomic uint64_t *segmap;
    uintptr_t *link_key, *free_key;
    char **depot_arena;
    _Atomic size_t *depot_used;
    const char *lib_version;
    _Atomic uint64_t *stat_huge_allocs, *stat_huge_cache_hits, *stat_huge_cache_flushes,
        *stat_foreign_frees;
    /* The table itself, inside the root: relocated data, which every core
     * holds (read-only data of a mapped file may be left out of it). */
    uint32_t layout_table[SLABDBG_L_COUNT];
};

/* What the readers see must be what we export. */
#define ROOT_SAME(f)                                                                               \
    _Static_assert(offsetof(struct slabdbg_root, f) == offsetof(struct slabdbg_root_v2, f),        \
                   "slabdbg_root." #f " moved: update common/layout.h")
ROOT_SAME(kmalloc_caches);
ROOT_SAME(seg_size);
ROOT_SAME(layout);
ROOT_SAME(layout_count);
ROOT_SAME(segmap);
ROOT_SAME(depot_used);
ROOT_SAME(lib_version);
ROOT_SAME(stat_foreign_frees);
_Static_assert(offsetof(struct slabdbg_root, layout_table) == sizeof(struct slabdbg_root_v2),
               "slabdbg_root changed: update common/layout.h");

#define LAYOUT_CHECK_X(name, st, field, value)                                                     \
    _Static_assert(offsetof(struct st, field) == (value),                                          \
                   "struct " #st "." #field " moved: update SLABDBG_L_" #name                      \
                   " in common/layout.h");
#define LAYOUT_CHECK_S(name, st, value)                                                            \
    _Static_assert(sizeof(struct st) == (value),                                                   \
                   "struct " #st " changed size: update SLABDBG_L_" #name " in common/layout.h");
SLABDBG_LAYOUT_TABLE(LAYOUT_CHECK_X, LAYOUT_CHECK_S)

_Static_assert(SLABDBG_SEG_MAGIC == SEG_MAGIC && (int)SLABDBG_SEG_SLABS == (int)SEG_SLABS &&
                   (int)SLABDBG_SEG_HUGE == (int)SEG_HUGE &&
                   (int)SLABDBG_SEG_GUARD == (int)SEG_GUARD &&
                   (int)SLABDBG_SEG_POOL == (int)SEG_POOL &&
                   (int)SLABDBG_SEG_ARENA == (int)SEG_ARENA,
               "segment kinds changed: update common/layout.h");
_Static_assert(SLABDBG_STATE_ACTIVE == OBJ_STATE_ACTIVE && SLABDBG_STATE_FREE == OBJ_STATE_FREE &&
                   SLABDBG_STATE_QUARANTINE == OBJ_STATE_QUARANTINE &&
                   SLABDBG_STATE_OWNED == OBJ_STATE_OWNED && SLABDBG_GUARD_SLOT_LIVE == SLOT_LIVE &&
                   SLABDBG_VA_BITS == VA_BITS,
               "object states changed: update common/layout.h");

#define LAYOUT_VALUE_X(name, st, field, value) [SLABDBG_L_##name] = offsetof(struct st, field),
#define LAYOUT_VALUE_S(name, st, value) [SLABDBG_L_##name] = sizeof(struct st),

EXPORT const struct slabdbg_root slabdbg_root = {
    .magic = SLABDBG_ROOT_MAGIC,
    .version = SLABDBG_ROOT_VERSION,
    .nr_kmalloc = NR_KMALLOC,
    .kmalloc_caches = kmalloc_caches,
    .cache_list = &cache_list,
    .segment_list = &segment_list,
    .huge_list = &huge_list,
    .seg_size = SEG_SIZE,
    .slice_size = SLICE_SIZE,
    .layout = slabdbg_root.layout_table,
    .layout_count = SLABDBG_L_COUNT,
    .va_bits = VA_BITS,
    .segmap = segmap,
    .link_key = &link_key,
    .free_key = &free_key,
    .depot_arena = &depot_arena,
    .depot_used = &depot_used,
    .lib_version = SLABDBG_VERSION,
    .stat_huge_allocs = &stat_huge_allocs,
    .stat_huge_cache_hits = &stat_huge_cache_hits,
    .stat_huge_cache_flushes = &stat_huge_cache_flushes,
    .stat_foreign_frees = &stat_foreign_frees,
    .layout_table = {SLABDBG_LAYOUT_TABLE(LAYOUT_VALUE_X, LAYOUT_VALUE_S)},
};

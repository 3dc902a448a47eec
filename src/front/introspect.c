/*
 * The library's own introspection API (include/slabdbg.h): validate,
 * traces, statistics.  Entry points of the front end, so the library is
 * initialised before the layers below are asked anything.
 */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>

#include "base/lock.h"
#include "base/out.h"
#include "base/report_mode.h"
#include "core/tcache.h"
#include "debug/debug.h"
#include "front/front.h"
#include "report/stats.h"

EXPORT int slabdbg_validate(void)
{
    slabdbg_ensure_init();
    return debug_validate_all("slabdbg_validate()");
}

EXPORT void slabdbg_print_traces(int fd)
{
    slabdbg_ensure_init();
    debug_print_traces(fd);
}

EXPORT void slabdbg_print_stats(int fd)
{
    slabdbg_ensure_init();
    stats_print(fd);
}

/* ---- glibc's introspection API -----------------------------------------
 * Programs and monitoring agents call these; they get slabdbg's numbers in
 * glibc's shapes.  The mapping, glibc field <- slabdbg:
 *   arena     memory of slabs (every cache's slabs, in use or not)
 *   ordblks   free objects in those slabs (glibc: free chunks)
 *   hblks     objects with a mapping of their own (above kmalloc's sizes)
 *   hblkhd    the bytes mapped for them
 *   uordblks  bytes of objects handed out (object sizes; those resting in
 *             thread caches count as handed out, as in slabinfo)
 *   fordblks  bytes of the free objects in slabs
 *   keepcost  bytes of slabs without a live object: what malloc_trim
 *             gives back
 *   smblks, fsmblks, usmblks: 0 (no fastbins; usmblks is obsolete)
 */
static struct heap_stats heap_now(void)
{
    slabdbg_ensure_init();
    struct heap_stats h;
    stats_heap(&h);
    return h;
}

EXPORT struct mallinfo2 mallinfo2(void)
{
    struct heap_stats h = heap_now();
    struct mallinfo2 m = {
        .arena = h.slab_bytes,
        .ordblks = h.free_objects,
        .hblks = h.huge_objects,
        .hblkhd = h.huge_mapped,
        .uordblks = h.active_bytes,
        .fordblks = h.free_bytes,
        .keepcost = h.empty_bytes,
    };
    return m;
}

static int clamp_int(size_t v)
{
    return v > INT_MAX ? INT_MAX : (int)v;
}

/* The old interface: int fields, which wrap in glibc; here they saturate. */
EXPORT struct mallinfo mallinfo(void)
{
    struct mallinfo2 m2 = mallinfo2();
    struct mallinfo m = {
        .arena = clamp_int(m2.arena),
        .ordblks = clamp_int(m2.ordblks),
        .hblks = clamp_int(m2.hblks),
        .hblkhd = clamp_int(m2.hblkhd),
        .uordblks = clamp_int(m2.uordblks),
        .fordblks = clamp_int(m2.fordblks),
        .keepcost = clamp_int(m2.keepcost),
    };
    return m;
}

static void stats_row(struct out *o, const char *name, uint64_t v)
{
    out_strw(o, name, 17);
    out_str(o, "= ");
    out_u64w(o, v, 10);
    out_char(o, '\n');
}

/* glibc's layout on stderr: one arena (the slabs), then the total with
 * the objects mapped apart. */
EXPORT void malloc_stats(void)
{
    struct heap_stats h = heap_now();
    struct out o;
    out_init(&o, 2);
    out_str(&o, "Arena 0:\n");
    stats_row(&o, "system bytes", h.slab_bytes);
    stats_row(&o, "in use bytes", h.active_bytes);
    out_str(&o, "Total (incl. mmap):\n");
    stats_row(&o, "system bytes", h.slab_bytes + h.huge_mapped);
    stats_row(&o, "in use bytes", h.active_bytes + h.huge_bytes);
    stats_row(&o, "max mmap regions", h.huge_objects);
    stats_row(&o, "max mmap bytes", h.huge_mapped);
    out_flush(&o);
}

struct info_sizes {
    FILE *fp;
    uint32_t prev_size;
};

/* <size from= to= total= count=/>: the free objects of each cache (glibc
 * lists its free chunks by size range; a cache is one size). */
static void info_size(const struct cache_stats *c, void *arg)
{
    struct info_sizes *s = arg;
    uint64_t free_objects = c->objects - c->active;
    if (free_objects)
        fprintf(s->fp, "  <size from=\"%u\" to=\"%u\" total=\"%llu\" count=\"%llu\"/>\n", c->size,
                c->size, (unsigned long long)(free_objects * c->size),
                (unsigned long long)free_objects);
}

/* glibc's XML (version 1): one heap, its free sizes, and the totals. */
EXPORT int malloc_info(int options, FILE *fp)
{
    if (options != 0 || !fp)
        return EINVAL; /* as glibc: the error number, not -1 */
    slabdbg_ensure_init();
    struct heap_stats h;
    stats_heap(&h);
    /* The sizes first (no lock is held while fprintf allocates). */
    fputs("<malloc version=\"1\">\n<heap nr=\"0\">\n<sizes>\n", fp);
    struct info_sizes s = {fp, 0};
    stats_each_cache(info_size, &s);
    unsigned long long rest_n = h.free_objects, rest = h.free_bytes;
    unsigned long long sys = h.slab_bytes, max = h.max_system;
    fprintf(fp,
            "</sizes>\n"
            "<total type=\"fast\" count=\"0\" size=\"0\"/>\n"
            "<total type=\"rest\" count=\"%llu\" size=\"%llu\"/>\n"
            "<system type=\"current\" size=\"%llu\"/>\n"
            "<system type=\"max\" size=\"%llu\"/>\n"
            "<aspace type=\"total\" size=\"%llu\"/>\n"
            "<aspace type=\"mprotect\" size=\"%llu\"/>\n"
            "</heap>\n"
            "<total type=\"fast\" count=\"0\" size=\"0\"/>\n"
            "<total type=\"rest\" count=\"%llu\" size=\"%llu\"/>\n"
            "<total type=\"mmap\" count=\"%llu\" size=\"%llu\"/>\n"
            "<system type=\"current\" size=\"%llu\"/>\n"
            "<system type=\"max\" size=\"%llu\"/>\n"
            "<aspace type=\"total\" size=\"%llu\"/>\n"
            "<aspace type=\"mprotect\" size=\"%llu\"/>\n"
            "</malloc>\n",
            rest_n, rest, sys, max, sys, sys, rest_n, rest, (unsigned long long)h.huge_objects,
            (unsigned long long)h.huge_mapped, sys + h.huge_mapped, max, sys + h.huge_mapped,
            sys + h.huge_mapped);
    return 0;
}

/* Really gives memory back: this thread's cached objects to their slabs,
 * empty slabs to the page layer (every cache's), the pages of free slices
 * and the freed huge mappings kept for reuse to the system.  `pad` (bytes
 * to keep at the top of the heap) has no meaning here: a slab heap has no
 * top.  Returns 1 if memory was given back, as glibc does. */
EXPORT int malloc_trim(size_t pad)
{
    (void)pad;
    slabdbg_ensure_init();
    struct heap_stats before, after;
    stats_heap(&before);
    if (!report_depth) {
        tcache_flush_all();
        debug_thread_flush();
    }
    for (unsigned i = 0; i < NR_KMALLOC; i++)
        cache_release_empty(&kmalloc_caches[i]);
    lock(&cache_list_lock, LOCK_CACHE_LIST);
    for (struct kmem_cache *c = cache_list; c; c = c->next)
        cache_release_empty(c);
    unlock(&cache_list_lock, LOCK_CACHE_LIST);
    huge_cache_flush();
    size_t purged = span_purge_all();
    stats_heap(&after);
    return purged || after.slab_bytes < before.slab_bytes;
}

/* Accepted, as glibc's tunables: slabdbg has its own (SLABDBG_OPTIONS), and
 * none of glibc's parameters has a meaning here.  1 for a parameter glibc
 * knows, 0 otherwise (glibc's "error"). */
EXPORT int mallopt(int param, int value)
{
    (void)value;
    switch (param) {
    case M_MXFAST:
    case M_TRIM_THRESHOLD:
    case M_TOP_PAD:
    case M_MMAP_THRESHOLD:
    case M_MMAP_MAX:
    case M_CHECK_ACTION:
    case M_PERTURB:
    case M_ARENA_TEST:
    case M_ARENA_MAX:
        return 1;
    default:
        return 0;
    }
}

/*
 * The report arena: a small allocator apart from the slab heap, for every
 * allocation a thread makes while slabdbg reports (the report writer, the
 * symbolizer and libdw under it, the fault handler, the dynamic loader when
 * a report loads a library).
 *
 * A report is printed because the program corrupted its heap; allocating
 * from that heap to print it could crash or hand out the corrupted memory
 * again.  So while a thread is inside report_enter()/report_leave(), its
 * malloc, calloc, realloc and aligned allocations are served here, from
 * segments of their own (SEG_ARENA) that no program object ever shares.
 * A pointer of the arena may be freed from anywhere, in or out of a report:
 * the segment map names it, free() sends it back here.
 *
 * Blocks are power-of-two sized with a 16-byte header in front of the
 * pointer; freed blocks go to a list per size, chunks are never unmapped
 * (libdw keeps what it read between reports: reuse matters, returning
 * memory does not).  Requests above ARENA_BIG get a mapping of their own.
 */
#ifndef SLABDBG_CORE_ARENA_H
#define SLABDBG_CORE_ARENA_H

#include "core/internal.h"

INTERNAL void *arena_alloc(size_t size, size_t align, bool zero);
INTERNAL void arena_free(void *p);
INTERNAL void *arena_realloc(void *p, size_t size);
/* Bytes usable at p (0 if p is not a live arena block). */
INTERNAL size_t arena_usable(const void *p);
/* Bytes the arena holds from the system, for statistics. */
INTERNAL size_t arena_mapped(void);

/* Lock order 9 (base/lock.h): nothing is taken under it. */
INTERNAL extern pthread_mutex_t arena_lock;

#endif

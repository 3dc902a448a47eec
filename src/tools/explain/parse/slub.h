/*
 * Pieces of the SLUB report layout that slabdbg's guard reports share:
 * the "BUG cache (taint): reason" header and the "Allocated in"/"Freed in"
 * track lines.
 */
#ifndef SLABDBG_EXPLAIN_PARSE_SLUB_H
#define SLABDBG_EXPLAIN_PARSE_SLUB_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

/* "BUG kmalloc-1024 (Tainted: G    B      OE  ): Poison overwritten", also
 * the old "BUG kmalloc-1024: reason" and memcg caches' "BUG task_struct(1:x)
 * (Not tainted): ...".  Not the oops' "BUG: ...".  *reason points into s. */
bool ex_slub_header(const char *s, char *cache, size_t cache_size, char *taint,
                    size_t taint_size, const char **reason);

/* "Allocated in F+off/size age=N cpu=N pid=N" (and "Freed in"); *alloc
 * tells which. */
bool ex_slub_track_line(const char *s, struct ex_track *t, bool *alloc);

/* Whether a header's reason is one of slabdbg's guard reports ("use-after-free
 * write in f", "out-of-bounds read in f", "double free", "invalid free of p"):
 * those are the guard parser's. */
/* What guard reports imply once read (text and JSON): the object of a
 * double free, the place of the slack check's byte. */
void ex_guard_finish(struct ex_report *r);
bool ex_guard_reason(const char *reason);

/* The object size a kmalloc cache name implies ("kmalloc-1k", "kmalloc-rcl-96",
 * "dma-kmalloc-64", "kmalloc-rnd-05-32"); false for other caches. */
bool ex_kmalloc_size(const char *cache, uint64_t *size);

/* Derives a SLUB-shaped report's common facts (kind, origin, the object's
 * bytes, the faults' offsets, sizes) from what its lines gave. */
void ex_slub_derive(struct ex_report *r);

#endif

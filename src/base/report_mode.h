/*
 * Report mode: set while a thread is inside slabdbg's report path (the
 * report writer, the symbolizer, the fault handler).  The allocator serves
 * the allocations such a thread makes from the report arena instead of the
 * heap being reported on (core/arena.h), and the sampling pool leaves them
 * alone.
 *
 * This is the base layer: every layer above may enter report mode; the
 * allocator core, which must change its thread caches when a thread enters
 * or leaves it, registers a hook here (calls still flow one way).
 */
#ifndef SLABDBG_BASE_REPORT_MODE_H
#define SLABDBG_BASE_REPORT_MODE_H

#include <stdbool.h>

#include "base/common.h"

/* Depth of report_enter() calls on this thread (0: not reporting). */
INTERNAL extern __thread int report_depth;
/* Called with true when a thread enters report mode, false when it leaves
 * (outermost calls only). */
INTERNAL extern void (*report_mode_hook)(bool entering);

static inline void report_enter(void)
{
    if (report_depth++ == 0 && report_mode_hook)
        report_mode_hook(true);
}

static inline void report_leave(void)
{
    if (--report_depth == 0 && report_mode_hook)
        report_mode_hook(false);
}

#endif

/*
 * Call stacks of allocations and frees (U), stored once each in a stack
 * depot and named by a 32-bit handle, as in the kernel: a track is then a
 * handle plus caller, thread, CPU and time, however deep the stack.
 */
#ifndef SLABDBG_DEBUG_STACKDEPOT_H
#define SLABDBG_DEBUG_STACKDEPOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

#define STACK_MAX_FRAMES 64

typedef uint32_t depot_handle_t; /* 0: no stack */

/* A stack in the depot, at depot_arena + handle * 8 (a reader outside the
 * process finds both through slabdbg_root). */
struct depot_record {
    uint32_t next; /* handle of the next record in the bucket */
    uint32_t hash;
    uint32_t nframes;
    uint32_t pad;
    uintptr_t frames[];
};
INTERNAL extern char *depot_arena;
INTERNAL extern _Atomic size_t depot_used;

/* Captures the calling thread's stack, skipping slabdbg's own frames;
 * returns the number of frames (at most `max`). */
INTERNAL unsigned stack_capture(uintptr_t *frames, unsigned max);
/* stack_capture(), saved in the depot: returns the handle (0: no stack)
 * and the first frame in *caller (0: none).  The same call chain seen
 * again is known without unwinding or looking the depot up (see
 * base/unwind.h, unwind_capture_memo). */
INTERNAL depot_handle_t stack_save(unsigned max, uintptr_t *caller);
/* From a signal handler (`uc`: its ucontext_t): the interrupted pc, then
 * its callers; returns the number of frames (at most `max`). */
INTERNAL unsigned stack_capture_context(const void *uc, uintptr_t *frames, unsigned max);
/* Stores a stack; equal stacks get equal handles.  Lock-free lookups and
 * inserts; returns 0 when the depot is full (its memory is bounded). */
INTERNAL depot_handle_t depot_save(const uintptr_t *frames, unsigned n);
/* The frames of a handle; returns their number. */
INTERNAL unsigned depot_fetch(depot_handle_t h, const uintptr_t **frames);
/* Prepares stack capture; called once, outside any allocator lock (from
 * the library constructor).  `fast`: debugged caches will capture stacks
 * all the time.  It matters only without our unwinder (glibc < 2.35):
 * then glibc's backtrace() is loaded now, not at the first allocation,
 * and the user is told that stacks are slow. */
/* The code (executable PT_LOAD) of the loaded library whose file name
 * starts with `base` ("libc.so"); false if none is loaded. */
INTERNAL bool library_text(const char *base, uintptr_t *lo, uintptr_t *hi);
INTERNAL void stack_unwinder_init(bool fast);
INTERNAL void depot_fork(enum fork_phase phase);
/* Is pc inside slabdbg's own code? */
INTERNAL int pc_is_ours(uintptr_t pc);

#endif

/*
 * A finding of the debug checks, captured while the cache lock is held and
 * printed after it is released (printing symbolizes stacks, which may
 * allocate).  Each thread keeps a few pending findings of its own.
 */
#ifndef SLABDBG_REPORT_BUG_H
#define SLABDBG_REPORT_BUG_H

#include "debug/debug.h"

enum bug_kind {
    BUG_BYTES,             /* "<what> overwritten": poison, red zones, padding */
    BUG_SLAB_PADDING,      /* "Padding overwritten" at the end of a slab */
    BUG_ALREADY_FREE,      /* "Object already free" */
    BUG_INVALID_POINTER,   /* "Invalid object pointer 0x..." */
    BUG_OUTSIDE_SLAB,      /* "Attempt to free object(0x...) outside of slab" */
    BUG_WRONG_CACHE,       /* "Wrong slab cache. X but object is from Y" */
    BUG_FREEPOINTER,       /* "Freepointer corrupt" */
    BUG_FREECHAIN,         /* "Freechain corrupt" */
    BUG_WRONG_COUNT,       /* "Wrong number of objects. Found N but should be M" */
    BUG_OBJECTS_REMAINING, /* "Objects remaining in X on kmem_cache_destroy()" */
    BUG_ALLOC_MISMATCH,    /* "Mismatched free. operator delete but object is from malloc" */
    BUG_SIZE_MISMATCH,     /* "Wrong size in sized delete. 100 but object is 64 bytes" */
    BUG_TRACE_ALLOC,       /* T: not a bug, a trace line */
    BUG_TRACE_FREE,
    BUG_GUARD_ACCESS,      /* "use-after-free write in f", "out-of-bounds read in f" */
    BUG_GUARD_SLACK,       /* out-of-bounds write beside a guarded object, seen at free */
    BUG_GUARD_DOUBLE_FREE, /* "double free" of a guarded object */
    BUG_GUARD_INVALID_FREE /* "invalid free" inside a guarded object */
};

#define BUG_OBJECT_SHOWN 4096 /* object bytes dumped, as the kernel's PAGE_SIZE cap */
#define BUG_SNAPSHOT (BUG_OBJECT_SHOWN + 1024)
#define BUG_MAX_LISTED 16

struct bug {
    enum bug_kind kind;
    const char *cache;
    const char *other_cache; /* BUG_WRONG_CACHE */
    const char *what;        /* BUG_BYTES: "Poison", "Left Redzone", ... */
    uintptr_t ptr;           /* the pointer the finding is about */
    uintptr_t fault_start, fault_end;
    unsigned first_byte, expected;
    long found, should_be; /* BUG_WRONG_COUNT; BUG_SIZE_MISMATCH: size given, requested */
    /* BUG_ALLOC_MISMATCH: the family of the allocation and of the free. */
    unsigned alloc_family, free_family;
    /* The slab and object, when known. */
    bool has_slab, has_object;
    uintptr_t slab, slab_start, slab_fp;
    unsigned objects, inuse;
    uintptr_t object, object_fp;
    /* Layout of the cache, and a copy of the object's slot before repair. */
    uint32_t red_left_pad, object_size, cache_inuse, pad_offset, slot_size, orig_size;
    slab_flags_t flags;
    uint32_t snap_len;
    uint8_t snap[BUG_SNAPSHOT];
    bool has_tracks;
    struct track track[2];
    /* Guarded objects: the access and where it fell. */
    bool write, freed;
    int side;          /* -1 left of the object, +1 right, 0 inside */
    uintptr_t fault_pc;
    long distance;     /* bytes from the object's edge */
    size_t obj_size;
    /* BUG_OBJECTS_REMAINING: the objects left. */
    unsigned nr_listed, nr_remaining;
    uintptr_t listed[BUG_MAX_LISTED];
    struct track listed_alloc[BUG_MAX_LISTED];
    /* What the finding thread was doing, when not the program's own call
     * (bug_context): "the check of every object at exit", ... */
    const char *context;
    /* The stack of the code that found it. */
    unsigned nframes;
    uintptr_t frames[STACK_MAX_FRAMES];
};

/* What this thread is doing while it may find bugs, for the summaries
 * (NULL: an allocation or free of the program's). */
INTERNAL extern __thread const char *bug_context;
/* A new pending finding of this thread, NULL if too many are pending or
 * this thread is printing a report (nested findings are repaired silently). */
INTERNAL struct bug *bug_new(enum bug_kind kind, const char *cache);
/* Records slab and object (with a snapshot of its bytes) in the finding. */
INTERNAL void bug_object(struct bug *b, struct kmem_cache *c, struct slab *s, void *p);
/* Prints this thread's pending findings; call with no allocator lock held. */
INTERNAL void bugs_flush(void);
INTERNAL void report_fork(enum fork_phase phase);
/* The reports made so far, by kind (the JSON "kind" names), in the order
 * of their first appearance; returns the number of kinds. */
#define REPORT_KINDS_MAX 24
INTERNAL unsigned report_kinds(const char **names, unsigned long *counts, unsigned max);

#endif

/*
 * Objects used by the stress programs: a header naming the owner thread,
 * a sequence number and the size, followed by a body whose contents are
 * derived from (owner, seq).  Any overlap between two live objects or any
 * write by the allocator into a live object breaks the check.
 */
#ifndef STRESS_OBJ_H
#define STRESS_OBJ_H

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>

#include "testutil.h"

struct sobj {
    uint32_t owner;
    uint32_t size; /* total size including this header */
    uint64_t seq;
};

static inline uint64_t sobj_seed(uint32_t owner, uint64_t seq)
{
    return ((uint64_t)owner << 48) ^ (seq * 0x100000001B3ull) ^ 0xA5A5A5A5A5A5A5A5ull;
}

/* Mostly small sizes, some medium, a few large (up to 64 KiB), and
 * rarely beyond the largest size class (up to 1.5 MiB). */
static inline size_t sobj_random_size(uint64_t *rng)
{
    uint64_t r = rng_next(rng);
    unsigned k = (unsigned)(r % 4000);
    size_t s;
    if (k < 2800)
        s = 16 + (size_t)((r >> 16) % 240);
    else if (k < 3900)
        s = 256 + (size_t)((r >> 16) % 3840);
    else if (k < 3998)
        s = 4096 + (size_t)((r >> 16) % 61440);
    else
        s = ((size_t)64 << 10) + (size_t)((r >> 16) % ((size_t)1472 << 10));
    return s;
}

static inline struct sobj *sobj_new(uint32_t owner, uint64_t seq, size_t size)
{
    if (size < sizeof(struct sobj))
        size = sizeof(struct sobj);
    struct sobj *o = (struct sobj *)malloc(size);
    if (!o)
        return NULL;
    o->owner = owner;
    o->size = (uint32_t)size;
    o->seq = seq;
    fast_fill(o + 1, size - sizeof *o, sobj_seed(owner, seq));
    return o;
}

/* Returns 1 when the object is intact (and
 * the owner is below nthreads_max). */
static inline int sobj_ok(const struct sobj *o, uint32_t nthreads_max)
{
    if (o->owner >= nthreads_max || o->size < sizeof *o || o->size > (4u << 20))
        return 0;
    if (malloc_usable_size((void *)o) < o->size)
        return 0;
    return fast_check(o + 1, o->size - sizeof *o, sobj_seed(o->owner, o->seq));
}

#endif

/* Frames with frame pointers, alloca, VLAs, and a frame the test
 * corrupts. */
#include <alloca.h>
#include <string.h>

#include "unwind_test.h"

NOINLINE int recurse_fp(int depth, leaf_fn leaf)
{
    if (depth <= 0) {
        leaf();
        return 0;
    }
    int r = recurse_fp(depth - 1, leaf);
    __asm__ volatile("" : "+r"(r) : : "memory");
    return r + depth;
}

NOINLINE int recurse_alloca(int depth, leaf_fn leaf)
{
    char *p = alloca(16 + (size_t)depth * 24);
    memset(p, depth, 16);
    __asm__ volatile("" : : "r"(p) : "memory");
    if (depth <= 0)
        leaf();
    else
        recurse_alloca(depth - 1, leaf);
    return p[3];
}

NOINLINE int recurse_vla(int depth, leaf_fn leaf)
{
    char vla[40 + depth * 8];
    memset(vla, depth, sizeof(vla));
    __asm__ volatile("" : : "r"(vla) : "memory");
    if (depth <= 0)
        leaf();
    else
        recurse_vla(depth - 1, leaf);
    return vla[5];
}

/* This frame's own slots are at rbp: [0] the caller's rbp, [1] the return
 * address, then the callers' frames.  The copy lives below rbp, in this
 * frame, out of the corrupted range. */
NOINLINE void corrupted_frame(corrupt_fn corrupt, unsigned nslots, void *arg, leaf_fn leaf)
{
    uintptr_t *slots = __builtin_frame_address(0);
    uintptr_t saved[256];
    if (nslots > 256)
        nslots = 256;
    for (unsigned i = 0; i < nslots; i++)
        saved[i] = ((volatile uintptr_t *)slots)[i];
    corrupt(slots, nslots, arg);
    __asm__ volatile("" : : : "memory");
    leaf();
    __asm__ volatile("" : : : "memory");
    for (unsigned i = 0; i < nslots; i++)
        ((volatile uintptr_t *)slots)[i] = saved[i];
}

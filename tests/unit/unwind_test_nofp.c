/* Recursion without frame pointers: CFA from rsp only. */
#include <alloca.h>
#include <string.h>

#include "unwind_test.h"

NOINLINE int recurse_nofp(int depth, leaf_fn leaf)
{
    if (depth <= 0) {
        leaf();
        return 0;
    }
    int r = recurse_nofp(depth - 1, leaf);
    __asm__ volatile("" : "+r"(r) : : "memory");
    return r + depth;
}

NOINLINE int big_frame(leaf_fn leaf)
{
    volatile char buf[1 << 20];
    buf[0] = 1;
    buf[sizeof(buf) - 1] = 2;
    leaf();
    return buf[0] + buf[sizeof(buf) - 1];
}

/* Keeps many values live across the call: every callee-saved register is
 * pushed in the prologue. */
NOINLINE int many_saves(int depth, leaf_fn leaf)
{
    volatile int v[6] = {depth, 1, 2, 3, 4, 5};
    int a = v[0], b = v[1], c = v[2], d = v[3], e = v[4], f = v[5];
    if (depth <= 0)
        leaf();
    else
        many_saves(depth - 1, leaf);
    __asm__ volatile("" : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(e), "+r"(f));
    return a + b + c + d + e + f;
}

/*
 * An overflow that runs past the red zone into what lies behind the object
 * (the free pointer's word, the next slot): malloc(100), then N bytes
 * written past its end, then free.  Nothing the allocator trusts lies
 * there (the object's state and tracks are out of band), so the report is
 * the overflow it is, with the object's true allocation track, and
 * slabdbg does not crash (N = 40 used to reach the in-band tracks and
 * crash in the stack depot; N = 64 under FZP read "Object already free").
 *
 *   overflow_trailer N
 */
#include "bug_common.h"

static NOINLINE char *alloc_buffer(void)
{
    return malloc(100);
}

static NOINLINE void overflow_writer(char *p, int n)
{
    memset(launder(p) + 100, 'A', (size_t)n);
}

static NOINLINE void release_buffer(char *p)
{
    free(p);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 40;
    char *p = alloc_buffer();
    memset(p, 'b', 100);
    if (!is_clean(argc, argv))
        overflow_writer(p, n);
    release_buffer(p);
    char *q = alloc_buffer(); /* the slot behind takes the rest */
    fact_ptr("object", p);
    fact_long("survived", q != NULL);
    return finish();
}

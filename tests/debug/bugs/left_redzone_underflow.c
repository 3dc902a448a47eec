/*
 * Underflow: p[-1] of a malloc(1000) object is the last byte of its left
 * red zone.  Found at free.
 */
#include "bug_common.h"

static NOINLINE char *alloc_buffer(void)
{
    return malloc(1000);
}

static NOINLINE void underflow_writer(char *p, long at)
{
    p[at] = 0x42;
}

static NOINLINE void release_buffer(char *p)
{
    free(p);
}

int main(int argc, char **argv)
{
    char *p = alloc_buffer();
    memset(p, 'a', 1000);
    if (!is_clean(argc, argv))
        underflow_writer(p, -1);
    release_buffer(p);
    fact_ptr("object", p);
    return finish();
}

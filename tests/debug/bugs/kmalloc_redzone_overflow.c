/*
 * Overflow by one byte into the kmalloc slack: malloc(1000) is served by
 * kmalloc-1024, and p[1000] is the first byte of the "kmalloc red zone"
 * (0xcc) between the requested size and the class size.  Found at free.
 */
#include "bug_common.h"

static NOINLINE char *alloc_buffer(void)
{
    return malloc(1000);
}

static NOINLINE void overflow_writer(char *p, size_t at)
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
        overflow_writer(p, 1000);
    release_buffer(p);
    fact_ptr("object", p);
    return finish();
}

/*
 * Overflow past the class size: malloc(1024) fills kmalloc-1024 exactly, and
 * p[1024] is the first byte of the right red zone.  Found at free.
 */
#include "bug_common.h"

static NOINLINE char *alloc_buffer(void)
{
    return malloc(1024);
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
    memset(p, 'a', 1024);
    if (!is_clean(argc, argv))
        overflow_writer(p, 1024);
    release_buffer(p);
    fact_ptr("object", p);
    return finish();
}

/*
 * Free of an interior pointer: free(p + 16) of a live malloc(1000) object
 * is an invalid object pointer; the object itself stays allocated and is
 * freed properly afterwards.
 */
#include "bug_common.h"

static NOINLINE char *alloc_buffer(void)
{
    return malloc(1000);
}

static NOINLINE void free_interior(char *p)
{
    free(launder(p));
}

static NOINLINE void release_buffer(char *p)
{
    free(p);
}

int main(int argc, char **argv)
{
    char *p = alloc_buffer();
    memset(p, 'b', 1000);
    if (!is_clean(argc, argv))
        free_interior(p + 16);
    /* The object must be untouched and still live. */
    long intact = 1;
    for (int i = 0; i < 1000; i++)
        intact &= p[i] == 'b';
    release_buffer(p);
    fact_ptr("pointer", p + 16);
    fact_long("intact", intact);
    return finish();
}

/*
 * realloc() of a freed block: a large object alone in its slab, whose slab
 * went back to the system (slab), or one above the size classes, in a
 * mapping of its own (huge).  Neither is a live object and its size is
 * unknown: the realloc is reported as "Object already free" (the slab
 * given back still tells where its objects were; so does a huge mapping
 * kept for reuse),
 * the block left alone, and NULL returned with errno EINVAL (glibc aborts
 * with "realloc(): invalid pointer").
 */
#include <errno.h>

#include "bug_common.h"

static NOINLINE char *alloc_buffer(size_t n)
{
    return malloc(n);
}

static NOINLINE void release_buffer(char *p)
{
    free(p);
}

static NOINLINE char *grow_stale(char *p, size_t n)
{
    return realloc(launder(p), n);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 && !strcmp(argv[1], "huge") ? 1000000 : 40000;
    char *p = alloc_buffer(n);
    memset(p, 'a', n);
    release_buffer(p);
    char *q = NULL;
    errno = 0;
    if (!is_clean(argc, argv))
        q = grow_stale(p, 2 * n);
    int err = errno;
    fact_ptr("pointer", p);
    fact_long("returned_null", q == NULL);
    fact_long("einval", err == EINVAL);
    char *r = alloc_buffer(n); /* the heap still works */
    fact_long("usable", r != NULL);
    if (r)
        memset(r, 'b', n);
    release_buffer(r);
    return finish();
}

/*
 * kmem_cache_destroy() of a cache that still holds objects: two of three
 * connections are never closed.  The cache must stay usable afterwards, and a
 * second destroy once it is empty reports nothing.
 */
#include <slabdbg.h>

#include "bug_common.h"

#define DEBUG_FLAGS (SLAB_POISON | SLAB_RED_ZONE | SLAB_STORE_USER | SLAB_CONSISTENCY_CHECKS)

static struct kmem_cache *connection_cache;

static NOINLINE void *alloc_connection(void)
{
    return kmem_cache_alloc(connection_cache, GFP_KERNEL);
}

static NOINLINE void close_connection(void *s)
{
    kmem_cache_free(connection_cache, s);
}

static NOINLINE void destroy_connections(void)
{
    kmem_cache_destroy(connection_cache);
}

int main(int argc, char **argv)
{
    connection_cache = kmem_cache_create("connection", 200, 0, DEBUG_FLAGS, NULL);
    if (!connection_cache)
        return 2;
    void *s[3];
    for (int i = 0; i < 3; i++) {
        s[i] = alloc_connection();
        memset(s[i], 'a' + i, 200);
    }
    close_connection(s[1]);
    if (is_clean(argc, argv)) {
        close_connection(s[0]);
        close_connection(s[2]);
        destroy_connections();
        return finish();
    }
    destroy_connections(); /* reported: s[0] and s[2] remain */
    /* Still usable; empty it and destroy it for good. */
    void *t = alloc_connection();
    long usable = t != NULL;
    if (t)
        close_connection(t);
    close_connection(s[0]);
    close_connection(s[2]);
    destroy_connections();
    fact_ptr("object0", s[0]);
    fact_ptr("object2", s[2]);
    fact_long("usable", usable);
    return finish();
}

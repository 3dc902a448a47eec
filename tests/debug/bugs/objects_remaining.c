/*
 * kmem_cache_destroy() of a cache that still holds objects: two of three
 * sessions are never ended.  The cache must stay usable afterwards, and a
 * second destroy once it is empty reports nothing.
 */
#include <slabdbg.h>

#include "bug_common.h"

#define DEBUG_FLAGS (SLAB_POISON | SLAB_RED_ZONE | SLAB_STORE_USER | SLAB_CONSISTENCY_CHECKS)

static struct kmem_cache *session_cache;

static NOINLINE void *alloc_session(void)
{
    return kmem_cache_alloc(session_cache, GFP_KERNEL);
}

static NOINLINE void end_session(void *s)
{
    kmem_cache_free(session_cache, s);
}

static NOINLINE void destroy_sessions(void)
{
    kmem_cache_destroy(session_cache);
}

int main(int argc, char **argv)
{
    session_cache = kmem_cache_create("session", 200, 0, DEBUG_FLAGS, NULL);
    if (!session_cache)
        return 2;
    void *s[3];
    for (int i = 0; i < 3; i++) {
        s[i] = alloc_session();
        memset(s[i], 'a' + i, 200);
    }
    end_session(s[1]);
    if (is_clean(argc, argv)) {
        end_session(s[0]);
        end_session(s[2]);
        destroy_sessions();
        return finish();
    }
    destroy_sessions(); /* reported: s[0] and s[2] remain */
    /* Still usable; empty it and destroy it for good. */
    void *t = alloc_session();
    long usable = t != NULL;
    if (t)
        end_session(t);
    end_session(s[0]);
    end_session(s[2]);
    destroy_sessions();
    fact_ptr("object0", s[0]);
    fact_ptr("object2", s[2]);
    fact_long("usable", usable);
    return finish();
}

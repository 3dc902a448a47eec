/*
 * kmem_cache_free() to the wrong cache: an object of "request" given back
 * to "reply".  The object stays allocated in "request" and is then freed
 * there properly; both caches are destroyed empty.
 */
#include <slabdbg.h>

#include "bug_common.h"

#define DEBUG_FLAGS (SLAB_POISON | SLAB_RED_ZONE | SLAB_STORE_USER | SLAB_CONSISTENCY_CHECKS)

struct request {
    long id;
    char payload[88];
};

static struct kmem_cache *request_cache, *reply_cache;

static NOINLINE struct request *alloc_request(void)
{
    return kmem_cache_alloc(request_cache, GFP_KERNEL);
}

static NOINLINE void free_to_wrong_cache(struct request *rq)
{
    kmem_cache_free(reply_cache, rq);
}

static NOINLINE void free_request(struct request *rq)
{
    kmem_cache_free(request_cache, rq);
}

int main(int argc, char **argv)
{
    request_cache = kmem_cache_create("request", sizeof(struct request), 0, DEBUG_FLAGS, NULL);
    reply_cache = kmem_cache_create("reply", sizeof(struct request), 0, DEBUG_FLAGS, NULL);
    if (!request_cache || !reply_cache)
        return 2;
    struct request *rq = alloc_request();
    rq->id = 42;
    if (!is_clean(argc, argv))
        free_to_wrong_cache(rq);
    long intact = rq->id == 42;
    free_request(rq);
    kmem_cache_destroy(reply_cache);
    kmem_cache_destroy(request_cache);
    fact_ptr("pointer", rq);
    fact_long("intact", intact);
    return finish();
}

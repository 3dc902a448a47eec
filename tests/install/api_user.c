/*
 * A program built against an installed slabdbg (header and slabdbg.pc):
 * named caches, kmalloc, and malloc served by the library it is linked to.
 * Prints the library's version and "ok".
 */
#include <slabdbg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct request {
    int tag;
    char cmd[320];
};

int main(void)
{
    struct kmem_cache *rq_cache =
        kmem_cache_create("request", sizeof(struct request), 0, SLAB_HWCACHE_ALIGN, NULL);
    if (!rq_cache)
        return 1;
    struct request *rq = kmem_cache_zalloc(rq_cache, GFP_KERNEL);
    if (!rq || rq->tag || strcmp(kmem_cache_name(rq_cache), "request"))
        return 1;
    kmem_cache_free(rq_cache, rq);
    kmem_cache_destroy(rq_cache);
    char *k = kmalloc(1000, GFP_KERNEL);
    char *m = malloc(100);
    if (!k || ksize(k) < 1000 || !slabdbg_owns(m))
        return 1;
    kfree(k);
    free(m);
    if (strcmp(slabdbg_version(), SLABDBG_VERSION))
        return 1;
    printf("%s ok\n", slabdbg_version());
    return slabdbg_validate() != 0;
}

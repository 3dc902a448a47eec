/*
 * A corrupt free chain found by slabdbg_validate(): in a cache with
 * SLAB_CONSISTENCY_CHECKS only, the free pointer is word 0 of a free object;
 * a write after free puts a bogus pointer there and nothing allocates
 * again.  The first validation reports it and isolates the chain; a second
 * finds nothing more, and the cache still serves sound objects.
 *
 * Run with SLABDBG naming only other caches (see freelist_corrupt.c).
 */
#include <slabdbg.h>

#include "bug_common.h"

#define BOGUS ((uintptr_t)0xdeadbeef00ull)

static struct kmem_cache *victim_cache;

static NOINLINE void *alloc_victim(void)
{
    return kmem_cache_alloc(victim_cache, GFP_KERNEL);
}

static NOINLINE void free_victim(void *p)
{
    kmem_cache_free(victim_cache, p);
}

static NOINLINE void corrupt_writer(void *p)
{
    uintptr_t bogus = BOGUS;
    memcpy(p, &bogus, sizeof(bogus));
}

static NOINLINE long run_validation(void)
{
    return slabdbg_call("slabdbg_validate");
}

int main(int argc, char **argv)
{
    victim_cache = kmem_cache_create("victim", 64, 0, SLAB_CONSISTENCY_CHECKS, NULL);
    if (!victim_cache)
        return 2;
    void *a = alloc_victim();
    void *b = alloc_victim();
    free_victim(a);
    if (!is_clean(argc, argv))
        corrupt_writer(a);
    fact_long("validate", run_validation());
    fact_long("validate_again", run_validation());
    void *objs[100];
    long sound = 1;
    for (int i = 0; i < 100; i++) {
        objs[i] = alloc_victim();
        sound &= objs[i] != NULL && (uintptr_t)objs[i] != BOGUS && objs[i] != b;
        if (objs[i])
            memset(objs[i], 'v', 64);
    }
    fact_long("sound", sound);
    fact_ptr("object", a);
    return finish();
}

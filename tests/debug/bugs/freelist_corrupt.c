/*
 * Freelist corruption: a cache with SLAB_CONSISTENCY_CHECKS only keeps its
 * free pointer inside the free object (word 0).  A write after free puts a
 * bogus pointer there; the first allocation takes the object and finds the
 * free pointer corrupt; the second must still get a sound object (from
 * another slab) rather than follow the bogus pointer.
 *
 * Run with SLABDBG naming only other caches, so that "victim" keeps the
 * flags it was created with.  With the argument "warm", a malloc/free pair
 * (of a kmalloc cache with U) comes first.
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

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "warm"))
        free(launder(malloc(100)));
    victim_cache = kmem_cache_create("victim", 64, 0, SLAB_CONSISTENCY_CHECKS, NULL);
    if (!victim_cache)
        return 2;
    void *a = alloc_victim();
    void *b = alloc_victim();
    free_victim(a);
    if (!is_clean(argc, argv))
        corrupt_writer(a);
    void *x = alloc_victim();
    void *y = alloc_victim();
    long sound = y && (uintptr_t)y != BOGUS && y != a && y != b && y != x;
    if (y)
        memset(y, 'y', 64);
    fact_ptr("object", a);
    fact_long("first_is_victim", x == a);
    fact_long("second_sound", sound);
    return finish();
}

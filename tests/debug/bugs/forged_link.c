/*
 * A forged free link: after free(), a write after free puts a pointer of
 * the program's own (or any value) into word 0 of the freed object, where
 * the allocator links its free objects.  Without any debug flag the next
 * allocations of that size must neither return the forged value nor crash:
 * the link is found corrupt when the object is handed out again
 * ("Freepointer corrupt") and the rest of the list is dropped.
 */
#include "bug_common.h"

#define SIZE 48

static char target[SIZE];

static NOINLINE void **alloc_node(void)
{
    return malloc(SIZE);
}

static NOINLINE void free_node(void **p)
{
    free(p);
}

static NOINLINE void forge_link(void **p)
{
    p[0] = launder(target); /* a valid pointer, but not one of the allocator's */
}

int main(int argc, char **argv)
{
    void **keep = alloc_node(); /* so the freed node is not alone in its slab */
    void **p = alloc_node();
    free_node(p);
    if (!is_clean(argc, argv))
        forge_link(p);
    void **a = alloc_node();
    void **b = alloc_node();
    fact_ptr("object", p);
    fact_ptr("forged", target);
    fact_long("first_is_victim", a == p);
    fact_long("forged_returned", (char *)a == target || (char *)b == target);
    free(a);
    free(b);
    free(keep);
    return finish();
}

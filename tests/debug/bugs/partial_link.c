/*
 * A write after free that changes only part of the allocator's free link
 * (word 0 of a freed thread-cached object) or the word beside it.  Without
 * any debug flag the next allocations must neither crash nor hand out
 * memory that is not a free object of the size asked for:
 *   low     one bit of the link's low byte flipped: the link now names an
 *           aligned address of our own memory, 16 bytes into an object
 *   high    one bit of the link's fourth byte flipped: an aligned address
 *           256 MiB away, most likely not mapped at all
 *   marker  word 1 overwritten (the free object's marker)
 * Each is found when the object is handed out again ("Freepointer
 * corrupt"); the links past it are dropped.
 */
#include "bug_common.h"

#define SIZE 48

static NOINLINE void **alloc_node(void)
{
    return malloc(SIZE);
}

static NOINLINE void free_node(void **p)
{
    free(p);
}

static NOINLINE void stray_write(void **p, const char *how)
{
    unsigned char *b = (unsigned char *)launder(p);
    if (!strcmp(how, "low"))
        b[0] ^= 0x10;
    else if (!strcmp(how, "high"))
        b[3] ^= 0x10;
    else if (!strcmp(how, "marker"))
        p[1] = (void *)0x4141414141414141ul;
}

static int overlaps(void **x, void **y)
{
    return x != y && (char *)x < (char *)y + SIZE && (char *)y < (char *)x + SIZE;
}

int main(int argc, char **argv)
{
    const char *how = argc > 1 ? argv[1] : "low";
    void **keep = alloc_node();
    void **a = alloc_node();
    void **b = alloc_node();
    free_node(a);
    free_node(b); /* this thread's list: b, then a */
    if (!is_clean(argc, argv))
        stray_write(b, how);
    void **got[4] = {alloc_node(), alloc_node(), alloc_node(), keep};
    long bad = 0;
    for (int i = 0; i < 4; i++) {
        bad += got[i] == NULL;
        for (int j = 0; j < i; j++)
            bad += got[i] == got[j] || overlaps(got[i], got[j]);
    }
    for (int i = 0; i < 3; i++)
        if (got[i])
            memset(got[i], 0x5a, SIZE); /* all usable, none shared */
    fact_ptr("object", b);
    fact_long("first_is_victim", got[0] == b);
    fact_long("overlapping", bad);
    for (int i = 0; i < 3; i++)
        free(got[i]);
    free(keep);
    return finish();
}

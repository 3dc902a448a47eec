/*
 * A write after free into an object whose slab then becomes empty and is
 * given back to the system (a cache keeps one empty slab; this is the
 * second).  SLUB checks the objects of a slab it discards when consistency
 * checks are on; the stale write must not vanish unreported.
 *
 * Two slabs of kmalloc-2048 are filled; the victim is in the first.  The
 * second is emptied first (kept as the spare empty slab), then the first,
 * which is released.
 *
 * Under magazine=0 (every freed object back in its slab at once, as in
 * SLUB) the first slab empties and is checked as it goes.  With the thread
 * magazines (the default) the last frees stay in this thread's magazine,
 * the slab never empties, and the write is found by the check at exit
 * (case stale_write_in_magazine): late, never lost.
 */
#include "bug_common.h"

#define SIZE 2048
#define MAX_OBJECTS 4096

static char *objs[MAX_OBJECTS];

static NOINLINE char *alloc_request(void)
{
    return malloc(SIZE);
}

static NOINLINE void free_request(char *p)
{
    free(p);
}

static NOINLINE void stray_writer(char *p)
{
    p[8] = 0x11;
}

int main(int argc, char **argv)
{
    /* Objects are handed out in address order within a slab: a slab ends
     * where the next object is not the previous one plus the stride. */
    int n = 0;
    objs[n++] = alloc_request();
    objs[n++] = alloc_request();
    ptrdiff_t stride = objs[1] - objs[0];
    int first_slab_end = -1;
    while (n < MAX_OBJECTS) {
        objs[n] = alloc_request();
        if (first_slab_end < 0 && objs[n] - objs[n - 1] != stride)
            first_slab_end = n;
        n++;
        if (first_slab_end > 0 && n == 2 * first_slab_end)
            break;
    }
    if (first_slab_end < 0)
        return 2;
    char *victim = objs[first_slab_end / 2];
    free_request(victim);
    if (!is_clean(argc, argv))
        stray_writer(victim);
    for (int i = first_slab_end; i < n; i++)
        free_request(objs[i]);
    for (int i = 0; i < first_slab_end; i++)
        if (objs[i] != victim)
            free_request(objs[i]);
    fact_ptr("object", victim);
    fact_long("per_slab", first_slab_end);
    return finish();
}

/*
 * Object padding overwritten: in a kmalloc-1024 object under FZPU, the
 * slot ends with padding (0x5a) behind the right red zone and the free
 * pointer (the tracks and the object's state are out of band; layout in
 * src/debug/debug.h).  One byte written there is found when the object is
 * freed.
 *
 * The padding offset is computed from the layout structures, and the byte
 * is checked to hold 0x5a before it is overwritten ("padding_found").
 */
#include "bug_common.h"
#include "debug/debug.h"

#define SIZE 1024

static NOINLINE char *alloc_buffer(void)
{
    return malloc(SIZE);
}

static NOINLINE void padding_writer(char *p, size_t at)
{
    p[at] = 0x42;
}

static NOINLINE void release_buffer(char *p)
{
    free(p);
}

int main(int argc, char **argv)
{
    /* Right red zone of at least a word (the size is word-aligned), free
     * pointer (P): then the padding. */
    size_t info_end = SIZE + sizeof(void *) + sizeof(void *);
    char *p = alloc_buffer();
    memset(p, 'p', SIZE);
    unsigned char *q = launder(p);
    long found = q[info_end] == POISON_INUSE;
    if (found && !is_clean(argc, argv))
        padding_writer(p, info_end);
    release_buffer(p);
    fact_ptr("object", p);
    fact_long("offset", (long)info_end);
    fact_long("padding_found", found);
    return finish();
}

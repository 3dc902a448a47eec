/*
 * Overflows around realloc():
 *   realloc_overflow shrink   malloc(1000), realloc to 980 (same class,
 *                             kmalloc-1024, resized in place), then p[990]
 *                             written: in the kmalloc red zone of the new
 *                             size; found at free
 *   realloc_overflow move     malloc(1000), p[1000] written, then realloc to
 *                             2000 (another class): the old object is freed
 *                             by realloc, which finds the overflow
 */
#include "bug_common.h"

static NOINLINE char *alloc_buffer(void)
{
    return malloc(1000);
}

static NOINLINE char *resize_buffer(char *p, size_t n)
{
    return realloc(p, n);
}

static NOINLINE void overflow_writer(char *p, size_t at)
{
    p[at] = 0x42;
}

static NOINLINE void release_buffer(char *p)
{
    free(p);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    int clean = is_clean(argc, argv);
    char *p = alloc_buffer();
    memset(p, 'r', 1000);
    char *old = p;
    if (!strcmp(argv[1], "shrink")) {
        p = resize_buffer(p, 980);
        if (!clean)
            overflow_writer(p, 990);
    } else {
        if (!clean)
            overflow_writer(p, 1000);
        p = resize_buffer(p, 2000);
        memset(p + 1000, 's', 1000);
    }
    long intact = 1;
    for (int i = 0; i < 980; i++)
        intact &= p[i] == 'r';
    release_buffer(p);
    fact_ptr("object", old);
    fact_long("moved", p != old);
    fact_long("intact", intact);
    return finish();
}

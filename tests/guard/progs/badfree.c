/*
 * Bad frees of guarded 1 KiB objects.
 *
 *   badfree double     free_once then free_again of the same object
 *   badfree interior   free_interior of the object's address + 16, then a
 *                      correct free
 *
 * Both are reported and the bad free is ignored: the program goes on, and
 * allocates and frees another object cleanly before it exits 0.
 */
#include "guard_prog.h"

NOINLINE char *alloc_buffer(void)
{
    return malloc(1024);
}

NOINLINE void free_once(char *p)
{
    free(p);
}

NOINLINE void free_again(char *p)
{
    free(p);
}

NOINLINE void free_interior(char *p)
{
    free(p + 16);
}

int main(int argc, char **argv)
{
    prog_start();
    if (argc != 2)
        return 2;
    char *p = alloc_buffer();
    if (!p)
        return 3;
    memset(p, 0x11, 1024);
    printf("object=%p\n", (void *)p);
    if (!strcmp(argv[1], "double")) {
        free_once(p);
        free_again(p);
    } else if (!strcmp(argv[1], "interior")) {
        free_interior(p);
        /* Still live and intact. */
        PROG_CHECK(malloc_usable_size(p) == 1024, "usable size %zu", malloc_usable_size(p));
        PROG_CHECK(p[0] == 0x11 && p[1023] == 0x11, "contents changed");
        free_once(p);
    } else {
        return 2;
    }
    char *q = alloc_buffer();
    PROG_CHECK(q != NULL, "allocation after the bad free failed");
    if (q) {
        memset(q, 0x22, 1024);
        free_once(q);
    }
    printf("done\n");
    return prog_failures ? 1 : 0;
}

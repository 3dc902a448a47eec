/*
 * Use after free of a 1 KiB object (kmalloc-1024, guarded under
 * SLABDBG=G,kmalloc-1024): allocated by alloc_buffer, freed by
 * release_buffer, then written (at offset 100) by stray_writer or read (at
 * offset 200) by stray_reader.
 *
 *   uaf write|read
 *
 * Under guard mode the stray access faults and the process dies of SIGSEGV
 * before printing "survived".
 */
#include "guard_prog.h"

NOINLINE char *alloc_buffer(void)
{
    return malloc(1024);
}

NOINLINE void release_buffer(char *p)
{
    free(p);
}

NOINLINE void stray_writer(char *p)
{
    ((volatile char *)p)[100] = 0x5a;
}

NOINLINE int stray_reader(char *p)
{
    return ((volatile char *)p)[200];
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
    release_buffer(p);
    printf("freed\n");
    if (!strcmp(argv[1], "write"))
        stray_writer(p);
    else if (!strcmp(argv[1], "read"))
        printf("read %d\n", stray_reader(p));
    else
        return 2;
    printf("survived\n");
    return 0;
}

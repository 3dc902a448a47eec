/*
 * One heap error of one class on a fresh malloc(size), for run_classes.py.
 *
 *   heapbug CLASS SIZE DISTANCE
 *
 *   overflow-write, overflow-read    DISTANCE bytes past the end (0: the
 *                                    first byte past it)
 *   underflow-write, underflow-read  DISTANCE bytes before the start (0: the
 *                                    byte just before it)
 *   uaf-write, uaf-read              offset DISTANCE of the freed object
 *   double-free                      free(p) twice
 *   interior-free                    free(p + DISTANCE)
 *   stack-free, static-free          free of a stack / static buffer
 *   realloc-freed                    realloc(p, 2 * SIZE) after free(p)
 *   clean                            every byte written and read, then free
 *
 * "before" is printed just before the bad operation and "after" just after
 * it (stdout unbuffered): a checker that stops the process on the bad
 * access leaves "before" without "after".  The program then frees what it
 * still owns and prints "done".  Bad accesses go through a volatile
 * pointer, so the compiler keeps them.  Everything happens in main, so the
 * allocation and free stacks name main of this file.
 */
#include "guard_prog.h"

static char static_buffer[64];

int main(int argc, char **argv)
{
    prog_start();
    if (argc != 4)
        return 2;
    const char *cls = argv[1];
    size_t size = strtoull(argv[2], NULL, 0);
    size_t distance = strtoull(argv[3], NULL, 0);
    char *p = malloc(size);
    if (!p)
        return 3;
    memset(p, 0x11, size);
    printf("object=%p\n", (void *)p);
    volatile char *vp = (volatile char *)p;
    char sink = 0;

    if (!strcmp(cls, "clean")) {
        puts("before");
        for (size_t i = 0; i < size; i++)
            vp[i] = (char)i;
        for (size_t i = 0; i < size; i++)
            sink ^= vp[i];
        puts("after");
        free(p);
    } else if (!strcmp(cls, "overflow-write")) {
        puts("before");
        vp[size + distance] = 0x42;
        puts("after");
        free(p);
    } else if (!strcmp(cls, "overflow-read")) {
        puts("before");
        sink = vp[size + distance];
        puts("after");
        free(p);
    } else if (!strcmp(cls, "underflow-write")) {
        puts("before");
        *(vp - 1 - distance) = 0x42;
        puts("after");
        free(p);
    } else if (!strcmp(cls, "underflow-read")) {
        puts("before");
        sink = *(vp - 1 - distance);
        puts("after");
        free(p);
    } else if (!strcmp(cls, "uaf-write")) {
        free(p);
        puts("before");
        vp[distance] = 0x42;
        puts("after");
    } else if (!strcmp(cls, "uaf-read")) {
        free(p);
        puts("before");
        sink = vp[distance];
        puts("after");
    } else if (!strcmp(cls, "double-free")) {
        free(p);
        puts("before");
        free(p);
        puts("after");
    } else if (!strcmp(cls, "interior-free")) {
        puts("before");
        free(p + distance);
        puts("after");
        free(p);
    } else if (!strcmp(cls, "stack-free")) {
        char stack_buffer[64];
        volatile char *vs = stack_buffer;
        vs[0] = 1;
        puts("before");
        free((void *)vs);
        puts("after");
        free(p);
    } else if (!strcmp(cls, "static-free")) {
        volatile char *vs = static_buffer;
        puts("before");
        free((void *)vs);
        puts("after");
        free(p);
    } else if (!strcmp(cls, "realloc-freed")) {
        free(p);
        puts("before");
        char *q = realloc(p, 2 * size);
        puts("after");
        /* Whatever a realloc that returned memory handed out is the
         * program's now. */
        if (q)
            free(q);
    } else {
        free(p);
        return 2;
    }
    printf("sink=%d\n", sink);
    puts("done");
    return 0;
}

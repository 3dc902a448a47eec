/*
 * guard_continue=1: stray accesses are reported and go through.
 *
 *   cont uaf        two guarded 1 KiB objects a and b are freed; then
 *                   first_stray_write writes a[10], second_stray_write
 *                   writes b[20] and third_stray_write writes a[30] (the same
 *                   object again): three reports; the program then runs to
 *                   the end and exits 0
 *   cont alternate  guard_side=alternate: of two live objects one sits
 *                   against its right guard page, the other against its left
 *                   one; overflow_writer writes one byte past the first and
 *                   underflow_writer one byte before the second: two reports
 *
 * Prints "object=..." for each object in the order the reports must come.
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

NOINLINE void first_stray_write(char *p)
{
    ((volatile char *)p)[10] = 1;
}

NOINLINE void second_stray_write(char *p)
{
    ((volatile char *)p)[20] = 2;
}

NOINLINE void third_stray_write(char *p)
{
    ((volatile char *)p)[30] = 3;
}

NOINLINE void overflow_writer(char *p)
{
    ((volatile char *)p)[1024] = 4;
}

NOINLINE void underflow_writer(char *p)
{
    ((volatile char *)p)[-1] = 5;
}

int main(int argc, char **argv)
{
    prog_start();
    if (argc != 2)
        return 2;
    char *a = alloc_buffer(), *b = alloc_buffer();
    if (!a || !b)
        return 3;
    memset(a, 0x11, 1024);
    memset(b, 0x22, 1024);
    if (!strcmp(argv[1], "uaf")) {
        release_buffer(a);
        release_buffer(b);
        printf("object=%p\n", (void *)a);
        first_stray_write(a);
        printf("object=%p\n", (void *)b);
        second_stray_write(b);
        printf("object=%p\n", (void *)a);
        third_stray_write(a);
    } else if (!strcmp(argv[1], "alternate")) {
        char *right = (uintptr_t)a % PAGE ? a : b, *left = right == a ? b : a;
        PROG_CHECK(ends_at_guard(right, 1024), "%p: not against a right guard page", (void *)right);
        PROG_CHECK((uintptr_t)left % PAGE == 0 && readable(left - 1) == 0,
                   "%p: not after a left guard page", (void *)left);
        printf("object=%p\n", (void *)right);
        overflow_writer(right);
        printf("object=%p\n", (void *)left);
        underflow_writer(left);
        /* The accesses went through; the objects are intact and can be
         * freed. */
        PROG_CHECK(right[0] == 0x11 || right[0] == 0x22, "contents changed");
        release_buffer(a);
        release_buffer(b);
    } else {
        return 2;
    }
    /* Guarded again: still no other report, and allocation goes on. */
    char *c = alloc_buffer();
    PROG_CHECK(c != NULL, "allocation failed");
    if (c) {
        memset(c, 0x33, 1024);
        release_buffer(c);
    }
    printf("completed\n");
    return prog_failures ? 1 : 0;
}

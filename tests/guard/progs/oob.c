/*
 * Out-of-bounds accesses next to guarded objects.
 *
 *   oob right     malloc(1024), one byte written just past its end
 *                 (by overflow_writer): the right guard page faults at once
 *   oob rightread malloc(1024), one byte read just past its end
 *                 (by overflow_reader)
 *   oob slack     malloc(1000), one byte written just past its end: the
 *                 byte falls in the slack (1000 rounded up to the object's
 *                 alignment) before the guard page, so it is
 *                 found when release_buffer frees the object; the program
 *                 runs to the end
 *   oob exact     malloc(1000), one byte written just past its end: the
 *                 object ends at the guard page (aligned only as its size
 *                 implies), so the write faults at once
 *   oob exactread N  malloc(N), one byte read just past its end: faults
 *   oob under     malloc(1000), one byte written just before it: the byte
 *                 falls in the slack between the left guard page and the
 *                 right-placed object, found at free
 *   oob underfar  malloc(1000), one byte written 3097 bytes before it: the
 *                 left guard page faults
 *   oob watchover  (guard_watch) malloc(50), one byte read just past its
 *                 end, in the slack before the guard page: faults
 *   oob watchunder (guard_watch) malloc(50), one byte read just before it:
 *                 faults
 *   oob watchstr  (guard_watch) strings in watched objects, used correctly
 *                 by the C library's string functions: no report
 *   oob left      malloc(1024) with guard_side=left, one byte written just
 *                 before it (by underflow_writer): the left guard page faults
 */
#include "guard_prog.h"

NOINLINE char *alloc_buffer(size_t n)
{
    return malloc(n);
}

NOINLINE void release_buffer(char *p)
{
    free(p);
}

NOINLINE void overflow_writer(char *p, size_t n)
{
    ((volatile char *)p)[n] = 0x42;
}

NOINLINE int overflow_reader(char *p, size_t n)
{
    return ((volatile char *)p)[n];
}

NOINLINE void underflow_writer(char *p)
{
    ((volatile char *)p)[-1] = 0x42;
}

NOINLINE void far_underflow_writer(char *p)
{
    ((volatile char *)p)[-3097] = 0x42;
}

NOINLINE int underflow_reader(char *p)
{
    return ((volatile char *)p)[-1];
}

/* Correct use of a watched string: the C library's vector reads around it
 * are no bug. */
NOINLINE int string_user(void)
{
    char *s = strdup("watched string");
    if (!s)
        return -1;
    int n = (int)strlen(s) + (strchr(s, 'g') != NULL) + (int)strspn(s, "wat");
    char *t = malloc(40);
    memcpy(t, s, strlen(s) + 1);
    n += strcmp(s, t) == 0;
    snprintf(t, 40, "%s!", s);
    n += (int)strlen(t);
    free(t);
    free(s);
    return n;
}

int main(int argc, char **argv)
{
    prog_start();
    if (argc < 2)
        return 2;
    const char *mode = argv[1];
    size_t n = 1024;
    if (!strcmp(mode, "slack") || !strcmp(mode, "exact") || !strcmp(mode, "under") ||
        !strcmp(mode, "underfar"))
        n = 1000;
    else if (!strcmp(mode, "exactread"))
        n = argc > 2 ? (size_t)atol(argv[2]) : 13;
    else if (!strncmp(mode, "watch", 5))
        n = 50;
    char *p = alloc_buffer(n);
    if (!p)
        return 3;
    memset(p, 0x11, n);
    printf("object=%p\n", (void *)p);
    if (!strcmp(mode, "right")) {
        PROG_CHECK(ends_at_guard(p, n), "%p: not against a guard page", (void *)p);
        overflow_writer(p, n);
    } else if (!strcmp(mode, "rightread")) {
        printf("read %d\n", overflow_reader(p, n));
    } else if (!strcmp(mode, "slack")) {
        /* Right-placed, rounded up to its alignment (16 to 64 bytes): the
         * object ends a few bytes before the guard page. */
        uintptr_t end = (uintptr_t)p + n, page_end = (end + PAGE - 1) & ~(PAGE - 1);
        PROG_CHECK(page_end - end > 0 && page_end - end < 64 && readable((char *)page_end) == 0,
                   "%p: not a few bytes before a guard page", (void *)p);
        overflow_writer(p, n);
        printf("written\n");
        release_buffer(p);
        printf("released\n");
        return prog_failures ? 1 : 0;
    } else if (!strcmp(mode, "exact")) {
        PROG_CHECK(ends_at_guard(p, n), "%p: not against a guard page", (void *)p);
        overflow_writer(p, n);
    } else if (!strcmp(mode, "exactread")) {
        PROG_CHECK(ends_at_guard(p, n), "%p: not against a guard page", (void *)p);
        printf("read %d\n", overflow_reader(p, n));
    } else if (!strcmp(mode, "under")) {
        underflow_writer(p);
        printf("written\n");
        release_buffer(p);
        printf("released\n");
        return prog_failures ? 1 : 0;
    } else if (!strcmp(mode, "watchover")) {
        printf("read %d\n", overflow_reader(p, n));
    } else if (!strcmp(mode, "watchunder")) {
        printf("read %d\n", underflow_reader(p));
    } else if (!strcmp(mode, "watchstr")) {
        printf("strings %d\n", string_user());
        release_buffer(p);
        printf("done\n");
        return prog_failures ? 1 : 0;
    } else if (!strcmp(mode, "underfar")) {
        far_underflow_writer(p);
    } else if (!strcmp(mode, "left")) {
        PROG_CHECK((uintptr_t)p % PAGE == 0 && readable(p - 1) == 0, "%p: not after a guard page",
                   (void *)p);
        underflow_writer(p);
    } else {
        return 2;
    }
    printf("survived\n");
    release_buffer(p);
    return prog_failures ? 1 : 0;
}

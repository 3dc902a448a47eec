/*
 * Shared by the guard-mode test programs.
 *
 * The functions that allocate, free or touch memory are noinline and
 * global (the programs are linked with -rdynamic), so that every report
 * names them whether or not the library symbolizes with libdw.  stdout is
 * unbuffered: lines printed before a fault are never lost, and printing
 * allocates nothing.
 *
 * Lines the runner reads: "object=0x..." (an object's address, to compare
 * with the report), free-form markers, and "FAIL: ..." for a check made
 * inside the program (the runner fails the test on any of them).
 */
#ifndef GUARD_PROG_H
#define GUARD_PROG_H

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, used))
#define PAGE ((uintptr_t)4096)

static int prog_failures __attribute__((unused));

#define PROG_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL: %s:%d: %s: ", __FILE__, __LINE__, #cond);                                \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
            prog_failures++;                                                                       \
        }                                                                                          \
    } while (0)

static inline void prog_start(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
}

/* Whether the byte at p can be read, without touching it: write(2) from an
 * inaccessible address fails with EFAULT instead of raising a signal. */
static inline int readable(const void *p)
{
    static int fds[2] = {-1, -1};
    if (fds[0] < 0 && pipe(fds) < 0)
        return -1;
    ssize_t n = write(fds[1], p, 1);
    if (n == 1) {
        char c;
        if (read(fds[0], &c, 1) != 1)
            return -1;
        return 1;
    }
    return errno == EFAULT ? 0 : -1;
}

/* A sampled (or right-guarded) object of n bytes, n a multiple of 16: it
 * ends exactly at a page boundary and the page after it is inaccessible. */
static inline int ends_at_guard(const void *p, size_t n)
{
    uintptr_t end = (uintptr_t)p + n;
    return end % PAGE == 0 && readable((const void *)end) == 0;
}

#endif

/*
 * Cost of one stack capture, in ns, at a few stack depths: slabdbg's
 * unwinder (src/base/unwind.c), libunwind's unw_backtrace (loaded with
 * dlopen when installed) and glibc's backtrace().
 *
 *   unwind_bench [--iterations N] [--rounds R] [--method ours|libunwind|backtrace]
 *                [--depth D]
 *
 * Each figure is the median (and the minimum, which resists interference
 * from other processes) of R rounds of N captures of the same stack (warm
 * caches: what a program that allocates from the same places pays).
 * Depth is the number of frames captured, main and libc's start included.
 * For instruction counts, run one method under callgrind with few
 * iterations:  valgrind --tool=callgrind unwind_bench --method ours --depth 15
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <execinfo.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/unwind.h"

#define MAX_FRAMES 64
#define MAX_ROUNDS 101

enum method { OURS, LIBUNWIND, BACKTRACE, NMETHODS };
static const char *const method_name[NMETHODS] = {"ours", "libunwind", "backtrace"};

static int (*unw_backtrace_fn)(void **, int);
static long iterations = 200000;
static int rounds = 21;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int capture(enum method m, void **buf)
{
    switch (m) {
    case OURS:
        return (int)unwind_capture((uintptr_t *)buf, MAX_FRAMES, 0);
    case LIBUNWIND:
        return unw_backtrace_fn(buf, MAX_FRAMES);
    default:
        return backtrace(buf, MAX_FRAMES);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct result {
    double median, min; /* ns per capture */
    int frames;         /* found by one capture */
};

static int calibrating; /* measure() only counts the frames */

/* At the bottom of the stack. */
static __attribute__((noinline)) struct result measure(enum method m)
{
    void *buf[MAX_FRAMES];
    double t[MAX_ROUNDS];
    struct result res = {0, 0, capture(m, buf)}; /* also warms the caches up */
    if (calibrating)
        return res;
    for (int r = 0; r < rounds; r++) {
        double t0 = now_ns();
        for (long i = 0; i < iterations; i++) {
            capture(m, buf);
            __asm__ volatile("" : : "r"(buf) : "memory");
        }
        t[r] = (now_ns() - t0) / (double)iterations;
    }
    qsort(t, (size_t)rounds, sizeof(t[0]), cmp_double);
    res.median = t[rounds / 2];
    res.min = t[0];
    return res;
}

/* Recursion that the compiler keeps: one frame per level. */
static __attribute__((noinline)) struct result descend(int levels, enum method m)
{
    if (levels <= 0)
        return measure(m);
    struct result r = descend(levels - 1, m);
    __asm__ volatile("" : : "r"(&r) : "memory");
    return r;
}

/* The levels of descend() that make a stack of `depth` frames. */
static int levels_for(int depth, enum method m)
{
    calibrating = 1;
    int extra = descend(10, m).frames - 10;
    calibrating = 0;
    return depth - extra;
}

int main(int argc, char **argv)
{
    int only = -1, only_depth = 0;
    bool partial = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--iterations") && i + 1 < argc)
            iterations = atol(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--depth") && i + 1 < argc)
            only_depth = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--method") && i + 1 < argc) {
            const char *m = argv[++i];
            for (int k = 0; k < NMETHODS; k++)
                if (!strcmp(m, method_name[k]))
                    only = k;
            if (only < 0) {
                fprintf(stderr, "unknown method %s\n", m);
                return 2;
            }
        } else {
            fprintf(stderr, "usage: %s [--iterations N] [--rounds R] [--method M] [--depth D]\n",
                    argv[0]);
            return 2;
        }
    }
    if (iterations < 1)
        iterations = 1;
    if (rounds < 1 || rounds > MAX_ROUNDS)
        rounds = 21;
    void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
    if (h)
        unw_backtrace_fn = (int (*)(void **, int))dlsym(h, "unw_backtrace");
    if (!unwind_available())
        fprintf(stderr, "unwind_available() is false: 'ours' is skipped\n");

    static const int depths[] = {5, 15, 30};
    printf("ns per capture, median (min) of %d rounds of %ld captures\n", rounds, iterations);
    printf("%-6s %18s %18s %18s\n", "depth", "ours", "libunwind", "backtrace");
    for (size_t d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
        int depth = only_depth ? only_depth : depths[d];
        if (only_depth && d)
            break;
        printf("%-6d", depth);
        for (int m = 0; m < NMETHODS; m++) {
            if ((only >= 0 && m != only) || (m == LIBUNWIND && !unw_backtrace_fn) ||
                (m == OURS && !unwind_available())) {
                printf(" %18s", "-");
                continue;
            }
            /* descend() itself is a frame: the shallowest stack is main's. */
            int levels = levels_for(depth, (enum method)m);
            struct result r =
                levels < 0 ? measure((enum method)m) : descend(levels, (enum method)m);
            char cell[64];
            snprintf(cell, sizeof(cell), "%.1f (%.1f)%s", r.median, r.min,
                     r.frames == depth ? "" : "*");
            partial |= r.frames != depth;
            printf(" %18s", cell);
            fflush(stdout);
        }
        printf("\n");
    }
    if (partial)
        printf("(* a capture did not find the whole stack)\n");
    return 0;
}

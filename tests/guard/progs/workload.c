/*
 * A correct program: a few hundred thousand mixed allocations (malloc,
 * calloc, realloc, posix_memalign, free) of sizes from 0 to 20 KiB, about
 * 4000 objects live at a time, every object filled with a pattern of its
 * own and checked before it is resized or freed.  Prints a digest of
 * everything it read, which is the same with any allocator; under slabdbg
 * with sampling (any rate) it must run without a report.
 *
 *   workload [OPS]      (default 300000)
 */
#include "guard_prog.h"

#define SLOTS 4096

struct obj {
    unsigned char *p;
    size_t n;
    uint32_t tag;
};

static struct obj objs[SLOTS];
static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t digest = 1469598103934665603u;
static unsigned probed, guarded_seen;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static size_t pick_size(void)
{
    uint64_t r = next() % 100;
    if (r < 55)
        return next() % 129; /* small, 0 included */
    if (r < 85)
        return 129 + next() % 1024;
    if (r < 99)
        return 1153 + next() % 3500; /* around a page */
    return 4653 + next() % 16000;
}

static void fill(struct obj *o, size_t from)
{
    for (size_t i = from; i < o->n; i++)
        o->p[i] = (unsigned char)(o->tag + i * 13);
}

static void check(struct obj *o, size_t upto)
{
    for (size_t i = 0; i < upto; i++) {
        unsigned char want = (unsigned char)(o->tag + i * 13);
        if (o->p[i] != want) {
            printf("FAIL: object %p (%zu bytes) byte %zu is %#x, not %#x\n", (void *)o->p, o->n, i,
                   o->p[i], want);
            prog_failures++;
            return;
        }
        digest = (digest ^ o->p[i]) * 1099511628211u;
    }
    if (o->n && malloc_usable_size(o->p) < o->n) {
        printf("FAIL: object %p: usable size %zu < %zu\n", (void *)o->p, malloc_usable_size(o->p),
               o->n);
        prog_failures++;
    }
}

NOINLINE void workload_step(uint32_t seq)
{
    struct obj *o = &objs[next() % SLOTS];
    if (o->p || (o->n == 0 && o->tag)) {
        check(o, o->n);
        if (next() % 4 == 0) {
            size_t n = pick_size();
            unsigned char *q = realloc(o->p, n);
            if (n == 0) {
                /* realloc(p, 0) frees (glibc) */
                o->p = NULL;
                o->n = 0;
                o->tag = 0;
                return;
            }
            if (!q) {
                printf("FAIL: realloc(%zu) failed\n", n);
                prog_failures++;
                return;
            }
            size_t old = o->n;
            o->p = q;
            o->n = n;
            check(o, old < n ? old : n);
            fill(o, old < n ? old : n);
        } else {
            free(o->p);
            o->p = NULL;
            o->n = 0;
            o->tag = 0;
        }
        return;
    }
    size_t n = pick_size();
    o->tag = seq | 1;
    o->n = n;
    switch (next() % 8) {
    case 0:
        o->p = calloc(1, n);
        for (size_t i = 0; o->p && i < n; i++)
            if (o->p[i]) {
                printf("FAIL: calloc(%zu) byte %zu not zero\n", n, i);
                prog_failures++;
                break;
            }
        break;
    case 1: {
        void *q = NULL;
        size_t align = (size_t)16 << (next() % 4);
        if (posix_memalign(&q, align, n) != 0)
            q = NULL;
        if (q && (uintptr_t)q % align) {
            printf("FAIL: posix_memalign(%zu, %zu) = %p\n", align, n, q);
            prog_failures++;
        }
        o->p = q;
        break;
    }
    default:
        o->p = malloc(n);
        if (o->p && (uintptr_t)o->p % (n >= 16 ? 16 : n >= 8 ? 8 : 1)) {
            printf("FAIL: malloc(%zu) = %p is misaligned\n", n, (void *)o->p);
            prog_failures++;
        }
        /* Now and then, whether the object is a sampled one (not read by
         * the program: only counted, to show that sampling happened). */
        if (o->p && n && n <= 4096 && seq % 8 == 0) {
            probed++;
            /* at its end, or (asked for more alignment) a few bytes short */
            if (ends_at_guard(o->p, n) || ends_at_guard(o->p, n >= 16 ? (n + 15) & ~(size_t)15 : n))
                guarded_seen++;
        }
    }
    if (!o->p && n) {
        printf("FAIL: allocation of %zu failed\n", n);
        prog_failures++;
        o->n = 0;
        o->tag = 0;
        return;
    }
    fill(o, 0);
}

int main(int argc, char **argv)
{
    prog_start();
    long ops = argc > 1 ? atol(argv[1]) : 300000;
    for (long i = 0; i < ops; i++)
        workload_step((uint32_t)i);
    for (unsigned i = 0; i < SLOTS; i++) {
        check(&objs[i], objs[i].n);
        free(objs[i].p);
    }
    printf("ops=%ld digest=%016llx\n", ops, (unsigned long long)digest);
    printf("guarded_seen=%u of %u probed\n", guarded_seen, probed);
    return prog_failures ? 1 : 0;
}

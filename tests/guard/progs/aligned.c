/*
 * Alignment of guarded and sampled objects asked for with an alignment
 * (posix_memalign, aligned_alloc, memalign): it must be honoured whatever
 * the object's placement against its guard page.
 *
 *   aligned sampled   (sample_rate=1) 8-byte alignment of 1 to 8 bytes
 *   aligned guarded   (SLABDBG=G) alignments 8 to 64 of sizes 1 to 200
 *
 * Prints "FAIL: ..." for the first misaligned pointer and "misaligned=N of
 * M" at the end.
 */
#include "guard_prog.h"

static unsigned misaligned, total;

static void check_one(const char *how, size_t align, size_t n, void *p)
{
    total++;
    if (!p) {
        printf("FAIL: %s(%zu, %zu) failed\n", how, align, n);
        prog_failures++;
        return;
    }
    if ((uintptr_t)p % align) {
        if (!misaligned)
            printf("FAIL: %s(%zu, %zu) = %p is not %zu-byte aligned\n", how, align, n, p, align);
        misaligned++;
        prog_failures++;
    }
    memset(p, 0x5a, n);
}

static void one_round(size_t align, size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, align, n) != 0)
        p = NULL;
    check_one("posix_memalign", align, n, p);
    void *q = aligned_alloc(align, n);
    check_one("aligned_alloc", align, n, q);
    void *r = memalign(align, n);
    check_one("memalign", align, n, r);
    free(p);
    free(q);
    free(r);
}

int main(int argc, char **argv)
{
    prog_start();
    if (argc != 2)
        return 2;
    if (!strcmp(argv[1], "sampled")) {
        for (unsigned round = 0; round < 50; round++)
            for (size_t n = 1; n <= 8; n++)
                one_round(8, n);
    } else if (!strcmp(argv[1], "guarded")) {
        for (size_t align = 8; align <= 64; align *= 2)
            for (size_t n = 1; n <= 200; n += 13)
                one_round(align, n);
    } else {
        return 2;
    }
    printf("misaligned=%u of %u\n", misaligned, total);
    return prog_failures ? 1 : 0;
}

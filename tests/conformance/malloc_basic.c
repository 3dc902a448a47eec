/*
 * malloc / free / calloc basics: free(NULL), malloc(0) uniqueness,
 * alignment of every returned pointer, no overlap between live blocks,
 * calloc zeroing (also of recycled memory).
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static size_t expected_align(size_t n)
{
    if (n >= 16)
        return 16;
    size_t a = 1;
    while (a * 2 <= n)
        a *= 2;
    return a;
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

static void test_free_null(void)
{
    free(NULL);
    free(NULL);
}

static void test_malloc_zero(void)
{
    enum { N = 2000 };
    static uintptr_t ptrs[N];
    volatile size_t zero = 0;
    for (int i = 0; i < N; i++) {
        void *p = malloc(zero);
        CHECK(p != NULL, "malloc(0) #%d returned NULL", i);
        ptrs[i] = (uintptr_t)p;
    }
    qsort(ptrs, N, sizeof ptrs[0], cmp_ptr);
    for (int i = 1; i < N; i++)
        CHECK(ptrs[i] != ptrs[i - 1], "malloc(0) returned %#lx twice while live",
              (unsigned long)ptrs[i]);
    for (int i = 0; i < N; i++)
        free((void *)ptrs[i]);
}

/* Allocate many blocks of every size up to 4096 (and some larger), check
 * alignment, fill them entirely, then verify none was overwritten. */
static void test_alignment_and_overlap(void)
{
    enum { NS = 4097 + 64 };
    static void *blk[NS];
    static size_t len[NS];
    int n = 0;
    for (size_t s = 0; s <= 4096; s++)
        len[n++] = s;
    for (int k = 12; k < 24 && n < NS; k++) {
        size_t p2 = (size_t)1 << k;
        len[n++] = p2 - 1;
        len[n++] = p2 + 1;
        len[n++] = p2 + p2 / 2;
    }
    for (int i = 0; i < n; i++) {
        blk[i] = malloc(len[i]);
        CHECK(blk[i] != NULL, "malloc(%zu) returned NULL", len[i]);
        if (!blk[i])
            continue;
        size_t a = expected_align(len[i]);
        CHECK(((uintptr_t)blk[i] & (a - 1)) == 0, "malloc(%zu) = %p not %zu-aligned", len[i],
              blk[i], a);
        pattern_fill(blk[i], len[i], (uint64_t)i + 1);
    }
    for (int i = 0; i < n; i++) {
        if (!blk[i])
            continue;
        size_t bad = pattern_check(blk[i], len[i], (uint64_t)i + 1);
        CHECK(bad == len[i], "block %d (size %zu at %p) corrupted at offset %zu", i, len[i],
              blk[i], bad);
    }
    /* Pairwise overlap check on sorted address ranges. */
    static uintptr_t ranges[NS][2];
    int m = 0;
    for (int i = 0; i < n; i++)
        if (blk[i]) {
            ranges[m][0] = (uintptr_t)blk[i];
            ranges[m][1] = (uintptr_t)blk[i] + (len[i] ? len[i] : 1);
            m++;
        }
    qsort(ranges, m, sizeof ranges[0], cmp_ptr);
    for (int i = 1; i < m; i++)
        CHECK(ranges[i][0] >= ranges[i - 1][1], "blocks [%#lx,%#lx) and [%#lx,%#lx) overlap",
              (unsigned long)ranges[i - 1][0], (unsigned long)ranges[i - 1][1],
              (unsigned long)ranges[i][0], (unsigned long)ranges[i][1]);
    /* Free in an interleaved order. */
    for (int i = 0; i < n; i += 2)
        free(blk[i]);
    for (int i = 1; i < n; i += 2)
        free(blk[i]);
}

/* Dirty memory, free it, then calloc the same sizes: must read as zero. */
static void test_calloc_zeroes(void)
{
    static const size_t sizes[] = {1,    7,    8,     16,    24,     33,     64,
                                   100,  256,  500,   1024,  2048,   4000,   4096,
                                   8192, 9000, 65536, 70000, 262144, 1 << 20, (1 << 22) + 3};
    enum { REP = 16 };
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t s = sizes[si];
        void *d[REP];
        for (int r = 0; r < REP; r++) {
            d[r] = malloc(s);
            REQUIRE(d[r] != NULL, "malloc(%zu) failed", s);
            memset(d[r], 0xA5, s);
        }
        for (int r = 0; r < REP; r++)
            free(d[r]);
        for (int r = 0; r < REP; r++) {
            /* Split the size into count * elem where possible. */
            size_t cnt = (s % 4 == 0) ? 4 : 1;
            unsigned char *c = calloc(cnt, s / cnt);
            REQUIRE(c != NULL, "calloc(%zu, %zu) failed", cnt, s / cnt);
            size_t bad = s;
            for (size_t i = 0; i < s; i++)
                if (c[i]) {
                    bad = i;
                    break;
                }
            CHECK(bad == s, "calloc(%zu, %zu) byte %zu is %#x, not 0", cnt, s / cnt, bad,
                  bad < s ? c[bad] : 0);
            d[r] = c;
        }
        for (int r = 0; r < REP; r++)
            free(d[r]);
    }
    /* calloc with a zero count or size gives a freeable pointer. */
    volatile size_t zero = 0, ten = 10;
    void *a = calloc(zero, ten), *b = calloc(ten, zero), *c = calloc(zero, zero);
    CHECK(a && b && c, "calloc with a zero factor returned NULL (%p %p %p)", a, b, c);
    free(a);
    free(b);
    free(c);
}

/* Many objects of one size: the allocator must not hand out a live one. */
static void test_many_small(void)
{
    enum { N = 100000 };
    static uintptr_t ptrs[N];
    for (int i = 0; i < N; i++) {
        size_t s = 8 + (size_t)(i % 7) * 8;
        uint64_t *p = malloc(s);
        REQUIRE(p != NULL, "malloc(%zu) failed at %d", s, i);
        p[0] = (uint64_t)i;
        ptrs[i] = (uintptr_t)p;
    }
    for (int i = 0; i < N; i++)
        CHECK(((uint64_t *)ptrs[i])[0] == (uint64_t)i, "object %d overwritten", i);
    qsort(ptrs, N, sizeof ptrs[0], cmp_ptr);
    for (int i = 1; i < N; i++)
        CHECK(ptrs[i] - ptrs[i - 1] >= 8, "objects %#lx and %#lx overlap",
              (unsigned long)ptrs[i - 1], (unsigned long)ptrs[i]);
    for (int i = 0; i < N; i++)
        free((void *)ptrs[i]);
}

int main(void)
{
    test_begin("malloc_basic");
    test_free_null();
    test_malloc_zero();
    test_alignment_and_overlap();
    test_calloc_zeroes();
    test_many_small();
    return test_finish();
}

/*
 * aligned_alloc, posix_memalign, memalign, valloc, pvalloc:
 * every power-of-two alignment from 1 to 1<<22 with sizes around it,
 * posix_memalign's EINVAL for bad alignments, page alignment of
 * valloc/pvalloc, full writability, and realloc of aligned blocks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#define MAX_ALIGN_SHIFT 22

static int aligned_to(const void *p, size_t a)
{
    return ((uintptr_t)p & (a - 1)) == 0;
}

/* Checks alignment, usable size and that the whole block holds a pattern
 * while a neighbour block is live too. */
static void check_block(const char *fn, void **pp, size_t align, size_t size, uint64_t seed)
{
    void *p = *pp;
    CHECK(p != NULL, "%s(align %zu, size %zu) returned NULL", fn, align, size);
    if (!p)
        return;
    CHECK(aligned_to(p, align), "%s(align %zu, size %zu) = %p is misaligned", fn, align, size,
          p);
    size_t u = malloc_usable_size(p);
    CHECK(u >= size, "%s(align %zu, size %zu): usable size %zu too small", fn, align, size, u);
    if (u < size) { /* do not write past the block; drop it */
        free(p);
        *pp = NULL;
        return;
    }
    pattern_fill(p, size, seed);
}

static void verify_block(const char *fn, void *p, size_t align, size_t size, uint64_t seed)
{
    if (!p)
        return;
    size_t bad = pattern_check(p, size, seed);
    CHECK(bad == size, "%s(align %zu, size %zu) block corrupted at offset %zu", fn, align, size,
          bad);
}

static void sizes_for(size_t align, size_t out[6])
{
    out[0] = 1;
    out[1] = align > 1 ? align - 1 : 1;
    out[2] = align;
    out[3] = align + 1;
    out[4] = 3 * align;
    out[5] = 100;
}

static void test_aligned_alloc(void)
{
    for (int sh = 0; sh <= MAX_ALIGN_SHIFT; sh++) {
        size_t a = (size_t)1 << sh;
        size_t sz[6];
        sizes_for(a, sz);
        void *p[6];
        for (int i = 0; i < 6; i++) {
            /* C17 no longer requires size to be a multiple of align;
             * glibc accepts any size. */
            p[i] = aligned_alloc(a, sz[i]);
            check_block("aligned_alloc", &p[i], a, sz[i], (uint64_t)(sh * 8 + i));
        }
        for (int i = 0; i < 6; i++) {
            verify_block("aligned_alloc", p[i], a, sz[i], (uint64_t)(sh * 8 + i));
            free(p[i]);
        }
    }
}

static void test_memalign(void)
{
    for (int sh = 0; sh <= MAX_ALIGN_SHIFT; sh++) {
        size_t a = (size_t)1 << sh;
        size_t sz[6];
        sizes_for(a, sz);
        void *p[6];
        for (int i = 0; i < 6; i++) {
            p[i] = memalign(a, sz[i]);
            check_block("memalign", &p[i], a, sz[i], (uint64_t)(sh * 8 + i + 1000));
        }
        for (int i = 0; i < 6; i++) {
            verify_block("memalign", p[i], a, sz[i], (uint64_t)(sh * 8 + i + 1000));
            free(p[i]);
        }
    }
    /* memalign(a, 0) gives a freeable pointer. */
    void *z = memalign(64, 0);
    CHECK(z != NULL && aligned_to(z, 64), "memalign(64, 0) = %p", z);
    free(z);
}

/* glibc's memalign rounds an alignment that is not a power of two up to
 * the next power of two. */
static void test_memalign_round_up(void)
{
    static const size_t odd[] = {3, 24, 48, 100, 1000, 4097, 50000};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        size_t want = 1;
        while (want < odd[i])
            want <<= 1;
        void *p = memalign(odd[i], 300);
        check_block("memalign(non-power-of-two)", &p, want, 300, 7000 + i);
        verify_block("memalign(non-power-of-two)", p, want, 300, 7000 + i);
        free(p);
    }
}

static void test_posix_memalign_valid(void)
{
    for (int sh = 3; sh <= MAX_ALIGN_SHIFT; sh++) {
        size_t a = (size_t)1 << sh;
        if (a < sizeof(void *))
            continue;
        size_t sz[6];
        sizes_for(a, sz);
        void *p[6];
        for (int i = 0; i < 6; i++) {
            p[i] = NULL;
            int rc = posix_memalign(&p[i], a, sz[i]);
            CHECK(rc == 0, "posix_memalign(%zu, %zu) returned %d", a, sz[i], rc);
            if (rc != 0)
                p[i] = NULL;
            else
                check_block("posix_memalign", &p[i], a, sz[i], (uint64_t)(sh * 8 + i + 2000));
        }
        for (int i = 0; i < 6; i++) {
            verify_block("posix_memalign", p[i], a, sz[i], (uint64_t)(sh * 8 + i + 2000));
            free(p[i]);
        }
    }
    void *z = NULL;
    int rc = posix_memalign(&z, 32, 0);
    CHECK(rc == 0, "posix_memalign(32, 0) returned %d", rc);
    free(z);
}

static void test_posix_memalign_einval(void)
{
    static const size_t bad[] = {0, 1, 2, 3, 4, 5, 6, 7, 12, 24, 40, 48, 96, 100, 4095, 4097,
                                 (size_t)3 << 20, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *sentinel = (void *)0x1234;
        void *p = sentinel;
        int rc = posix_memalign(&p, bad[i], 64);
        CHECK(rc == EINVAL, "posix_memalign(align %zu) returned %d, expected EINVAL", bad[i],
              rc);
        /* POSIX: on error memptr is left unmodified or set to NULL. */
        CHECK(p == sentinel || p == NULL, "posix_memalign(align %zu) failed but set %p", bad[i],
              p);
        if (rc == 0)
            free(p);
    }
}

static void test_valloc_pvalloc(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    static const size_t sizes[] = {1, 8, 100, 4095, 4096, 4097, 10000, 65536, 100000, 1 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t s = sizes[i];
        void *v = valloc(s);
        check_block("valloc", &v, page, s, 3000 + i);
        void *pv = pvalloc(s);
        size_t rounded = (s + page - 1) & ~(page - 1);
        check_block("pvalloc", &pv, page, rounded, 4000 + i);
        if (pv) {
            size_t u = malloc_usable_size(pv);
            CHECK(u >= rounded, "pvalloc(%zu): usable %zu < %zu (rounded to pages)", s, u,
                  rounded);
        }
        verify_block("valloc", v, page, s, 3000 + i);
        verify_block("pvalloc", pv, page, rounded, 4000 + i);
        free(v);
        free(pv);
    }
}

/* Alignments beyond 1<<22 (bigger than any slab) still work as in glibc. */
static void test_very_large_alignment(void)
{
    for (int sh = 23; sh <= 26; sh++) {
        size_t a = (size_t)1 << sh;
        void *p = aligned_alloc(a, 100);
        check_block("aligned_alloc", &p, a, 100, (uint64_t)sh);
        void *q = NULL;
        int rc = posix_memalign(&q, a, a + 1);
        CHECK(rc == 0, "posix_memalign(%zu, %zu) returned %d", a, a + 1, rc);
        if (rc == 0)
            check_block("posix_memalign", &q, a, a + 1, (uint64_t)sh + 50);
        verify_block("aligned_alloc", p, a, 100, (uint64_t)sh);
        if (rc == 0)
            verify_block("posix_memalign", q, a, a + 1, (uint64_t)sh + 50);
        free(p);
        if (rc == 0)
            free(q);
    }
}

/* realloc of an aligned block must keep its contents (alignment may go). */
static void test_realloc_aligned(void)
{
    for (int sh = 4; sh <= 16; sh += 2) {
        size_t a = (size_t)1 << sh;
        unsigned char *p = aligned_alloc(a, 200);
        REQUIRE(p != NULL, "aligned_alloc(%zu, 200) failed", a);
        pattern_fill(p, 200, (uint64_t)a);
        unsigned char *q = realloc(p, 5000);
        REQUIRE(q != NULL, "realloc of aligned block failed");
        CHECK(pattern_check(q, 200, (uint64_t)a) == 200, "realloc(aligned %zu) lost contents", a);
        q = realloc(q, 50);
        REQUIRE(q != NULL, "shrinking realloc of aligned block failed");
        CHECK(pattern_check(q, 50, (uint64_t)a) == 50, "shrink(aligned %zu) lost contents", a);
        free(q);
    }
}

/* Many live aligned blocks at once must not overlap. */
static void test_many_aligned(void)
{
    enum { N = 3000 };
    static void *p[N];
    static size_t al[N], sz[N];
    uint64_t rng = 12345;
    for (int i = 0; i < N; i++) {
        al[i] = (size_t)1 << (rng_next(&rng) % 13);
        sz[i] = 1 + rng_next(&rng) % 600;
        p[i] = aligned_alloc(al[i], sz[i]);
        check_block("aligned_alloc", &p[i], al[i], sz[i], (uint64_t)i + 9000);
    }
    for (int i = 0; i < N; i++) {
        verify_block("aligned_alloc", p[i], al[i], sz[i], (uint64_t)i + 9000);
        free(p[i]);
    }
}

int main(void)
{
    test_begin("aligned_alloc_family");
    test_aligned_alloc();
    test_memalign();
    test_memalign_round_up();
    test_posix_memalign_valid();
    test_posix_memalign_einval();
    test_valloc_pvalloc();
    test_very_large_alignment();
    test_realloc_aligned();
    test_many_aligned();
    return test_finish();
}

/*
 * realloc: realloc(NULL, n) acts as malloc, realloc(p, 0) frees and
 * returns NULL (glibc), and growing or shrinking keeps the contents at
 * every size from 0 to 4096 and at powers of two +-1 up to 64 MiB, so
 * that every size-class boundary is crossed in both directions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void test_realloc_null_and_zero(void)
{
    static const size_t sizes[] = {0, 1, 16, 100, 4096, 100000, 1 << 21};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *p = realloc(NULL, sizes[i]);
        CHECK(p != NULL, "realloc(NULL, %zu) returned NULL", sizes[i]);
        if (!p)
            continue;
        pattern_fill(p, sizes[i], i);
        CHECK(pattern_check(p, sizes[i], i) == sizes[i], "realloc(NULL, %zu) not writable",
              sizes[i]);
        if (sizes[i] >= 16)
            CHECK(((uintptr_t)p & 15) == 0, "realloc(NULL, %zu) = %p not 16-aligned", sizes[i],
                  (void *)p);
        /* glibc: realloc(p, 0) frees p and returns NULL. */
        errno = 0;
        void *r = realloc(p, 0);
        CHECK(r == NULL, "realloc(p of size %zu, 0) returned %p, glibc returns NULL", sizes[i],
              r);
        free(r);
    }
}

/* Grow one block byte by byte from 0 to 4096, then shrink it back to 1. */
static void test_step_by_one(void)
{
    unsigned char *p = malloc(0);
    REQUIRE(p != NULL, "malloc(0) failed");
    const uint64_t seed = 42;
    for (size_t n = 1; n <= 4096; n++) {
        unsigned char *q = realloc(p, n);
        REQUIRE(q != NULL, "realloc(p, %zu) failed while growing", n);
        size_t bad = pattern_check(q, n - 1, seed);
        CHECK(bad == n - 1, "growing to %zu: byte %zu lost", n, bad);
        q[n - 1] = pattern_byte(seed, n - 1);
        if (n >= 16)
            CHECK(((uintptr_t)q & 15) == 0, "realloc(p, %zu) = %p not 16-aligned", n, (void *)q);
        p = q;
    }
    for (size_t n = 4095; n >= 1; n--) {
        unsigned char *q = realloc(p, n);
        REQUIRE(q != NULL, "realloc(p, %zu) failed while shrinking", n);
        size_t bad = pattern_check(q, n, seed);
        CHECK(bad == n, "shrinking to %zu: byte %zu lost", n, bad);
        p = q;
    }
    free(p);
}

/* For every start size 0..4096: grow past several classes, shrink below
 * the start, grow again; a neighbour block stays live to catch overruns. */
static void test_every_small_size(void)
{
    for (size_t a = 0; a <= 4096; a++) {
        uint64_t seed = a * 7 + 1;
        unsigned char *p = malloc(a);
        unsigned char *nb = malloc(a);
        REQUIRE(p != NULL && nb != NULL, "malloc(%zu) failed", a);
        pattern_fill(p, a, seed);
        pattern_fill(nb, a, ~seed);

        size_t big = 2 * a + 17;
        unsigned char *q = realloc(p, big);
        REQUIRE(q != NULL, "realloc(%zu -> %zu) failed", a, big);
        size_t bad = pattern_check(q, a, seed);
        CHECK(bad == a, "realloc %zu -> %zu lost byte %zu", a, big, bad);
        /* write the new tail, then shrink below the original size */
        for (size_t i = a; i < big; i++)
            q[i] = pattern_byte(seed, i);
        size_t small = a / 2;
        unsigned char *r = realloc(q, small ? small : 1);
        REQUIRE(r != NULL, "realloc(%zu -> %zu) failed", big, small);
        bad = pattern_check(r, small, seed);
        CHECK(bad == small, "realloc %zu -> %zu lost byte %zu", big, small, bad);
        /* grow far, across many classes */
        size_t far = a * 16 + 4096;
        unsigned char *s = realloc(r, far);
        REQUIRE(s != NULL, "realloc(%zu -> %zu) failed", small, far);
        bad = pattern_check(s, small, seed);
        CHECK(bad == small, "realloc %zu -> %zu lost byte %zu", small, far, bad);
        memset(s + small, 0x5A, far - small);

        bad = pattern_check(nb, a, ~seed);
        CHECK(bad == a, "neighbour block of size %zu damaged at %zu", a, bad);
        free(s);
        free(nb);
    }
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Powers of two +-1 from 1 to 64 MiB: one block walked up through all of
 * them and back down, and each size grown to 2x and shrunk to 1/3. */
static void test_powers_of_two(void)
{
    size_t sz[27 * 3];
    int n = 0;
    for (int k = 0; k <= 26; k++) {
        size_t p2 = (size_t)1 << k;
        if (p2 > 1)
            sz[n++] = p2 - 1;
        sz[n++] = p2;
        sz[n++] = p2 + 1;
    }
    qsort(sz, n, sizeof sz[0], cmp_size);
    const uint64_t seed = 99;
    unsigned char *p = NULL;
    size_t cur = 0;
    for (int i = 0; i < n; i++) {
        if (sz[i] == cur)
            continue;
        unsigned char *q = realloc(p, sz[i]);
        REQUIRE(q != NULL, "realloc(-> %zu) failed", sz[i]);
        size_t bad = pattern_check(q, cur, seed);
        CHECK(bad == cur, "growing %zu -> %zu lost byte %zu", cur, sz[i], bad);
        for (size_t j = cur; j < sz[i]; j++)
            q[j] = pattern_byte(seed, j);
        if (sz[i] >= 16)
            CHECK(((uintptr_t)q & 15) == 0, "realloc(p, %zu) = %p not 16-aligned", sz[i],
                  (void *)q);
        p = q;
        cur = sz[i];
    }
    for (int i = n - 1; i >= 0; i--) {
        if (sz[i] == cur)
            continue;
        unsigned char *q = realloc(p, sz[i]);
        REQUIRE(q != NULL, "realloc(-> %zu) failed", sz[i]);
        size_t bad = pattern_check(q, sz[i], seed);
        CHECK(bad == sz[i], "shrinking %zu -> %zu lost byte %zu", cur, sz[i], bad);
        p = q;
        cur = sz[i];
    }
    free(p);

    for (int i = 0; i < n; i++) {
        size_t s = sz[i];
        uint64_t sd = (uint64_t)s * 3 + 1;
        unsigned char *a = malloc(s);
        REQUIRE(a != NULL, "malloc(%zu) failed", s);
        pattern_fill(a, s, sd);
        unsigned char *b = realloc(a, 2 * s);
        REQUIRE(b != NULL, "realloc(%zu -> %zu) failed", s, 2 * s);
        size_t bad = pattern_check(b, s, sd);
        CHECK(bad == s, "realloc %zu -> %zu lost byte %zu", s, 2 * s, bad);
        memset(b + s, 0xC3, s);
        size_t third = s / 3 ? s / 3 : 1;
        unsigned char *c = realloc(b, third);
        REQUIRE(c != NULL, "realloc(%zu -> %zu) failed", 2 * s, third);
        bad = pattern_check(c, third < s ? third : s, sd);
        CHECK(bad == (third < s ? third : s), "realloc %zu -> %zu lost byte %zu", 2 * s, third,
              bad);
        free(c);
    }
}

/* Deterministic random walk of 200 blocks: realloc to random sizes
 * (mostly small, sometimes large), checking contents every time. */
static void test_random_walk(void)
{
    enum { N = 200, STEPS = 40000 };
    static unsigned char *p[N];
    static size_t len[N];
    static uint64_t seed[N];
    uint64_t rng = 2024;
    for (int i = 0; i < N; i++)
        seed[i] = (uint64_t)i + 1;
    for (int step = 0; step < STEPS; step++) {
        int i = (int)(rng_next(&rng) % N);
        uint64_t r = rng_next(&rng);
        size_t ns;
        switch (r % 8) {
        case 0:
            ns = (size_t)(r >> 8) % (1 << 18);
            break;
        case 1:
        case 2:
            ns = (size_t)(r >> 8) % 16384;
            break;
        default:
            ns = (size_t)(r >> 8) % 1024;
            break;
        }
        if (ns == 0 && p[i]) { /* free via realloc(p, 0) */
            CHECK(pattern_check(p[i], len[i], seed[i]) == len[i], "block %d corrupted", i);
            void *z = realloc(p[i], 0);
            CHECK(z == NULL, "realloc(p, 0) returned %p", z);
            free(z);
            p[i] = NULL;
            len[i] = 0;
            continue;
        }
        unsigned char *q = realloc(p[i], ns);
        REQUIRE(q != NULL || ns == 0, "realloc(%zu -> %zu) failed", len[i], ns);
        size_t keep = len[i] < ns ? len[i] : ns;
        if (q) {
            size_t bad = pattern_check(q, keep, seed[i]);
            CHECK(bad == keep, "random walk: realloc %zu -> %zu lost byte %zu", len[i], ns, bad);
            for (size_t j = keep; j < ns; j++)
                q[j] = pattern_byte(seed[i], j);
        }
        p[i] = q;
        len[i] = q ? ns : 0;
    }
    for (int i = 0; i < N; i++) {
        if (p[i])
            CHECK(pattern_check(p[i], len[i], seed[i]) == len[i], "block %d corrupted at end", i);
        free(p[i]);
    }
}

int main(void)
{
    test_begin("realloc_contents");
    test_realloc_null_and_zero();
    test_step_by_one();
    test_every_small_size();
    test_powers_of_two();
    test_random_walk();
    return test_finish();
}

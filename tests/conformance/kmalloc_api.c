/*
 * kmalloc family (program linked to slabdbg): kmalloc/kzalloc/kcalloc/
 * krealloc/kfree/ksize, overflow and huge requests, slabdbg_owns,
 * slabdbg_version, and the kmalloc-<n> lines of slabdbg_print_stats.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slabdbg.h"
#include "testutil.h"

static volatile size_t v_size_max = SIZE_MAX;

static void test_kmalloc_sizes(void)
{
    for (size_t n = 1; n <= 9000; n += (n < 300 ? 1 : 37)) {
        unsigned char *a = kmalloc(n, GFP_KERNEL), *b = kmalloc(n, GFP_KERNEL);
        REQUIRE(a && b, "kmalloc(%zu) failed", n);
        size_t ua = ksize(a), ub = ksize(b);
        CHECK(ua >= n && ub >= n, "ksize(kmalloc(%zu)) = %zu / %zu", n, ua, ub);
        size_t want = n >= 16 ? 16 : 8;
        CHECK(((uintptr_t)a & (want - 1)) == 0, "kmalloc(%zu) = %p not %zu-aligned", n, (void *)a,
              want);
        CHECK(slabdbg_owns(a) == 1, "slabdbg_owns(kmalloc(%zu)) != 1", n);
        if (ua < n || ub < n) {
            kfree(a);
            kfree(b);
            continue;
        }
        pattern_fill(a, ua, n);
        pattern_fill(b, ub, ~(uint64_t)n);
        CHECK(pattern_check(a, ua, n) == ua, "kmalloc(%zu) block overwritten", n);
        CHECK(pattern_check(b, ub, ~(uint64_t)n) == ub, "kmalloc(%zu) block overwritten", n);
        kfree(a);
        kfree(b);
    }
    /* large sizes, beyond the slab classes */
    for (size_t n = 1 << 14; n <= ((size_t)1 << 24); n <<= 1) {
        unsigned char *p = kmalloc(n + 3, GFP_KERNEL);
        REQUIRE(p != NULL, "kmalloc(%zu) failed", n + 3);
        CHECK(ksize(p) >= n + 3, "ksize(kmalloc(%zu)) = %zu", n + 3, ksize(p));
        CHECK(slabdbg_owns(p) == 1, "slabdbg_owns(kmalloc(%zu)) != 1", n + 3);
        memset(p, 0x6B, n + 3);
        kfree(p);
    }
}

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static void test_zeroing(void)
{
    static const size_t sizes[] = {8, 24, 64, 96, 192, 512, 1000, 4096, 8000, 100000};
    enum { R = 64 };
    void *p[R];
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        for (int i = 0; i < R; i++) {
            p[i] = kmalloc(n, GFP_KERNEL);
            REQUIRE(p[i] != NULL, "kmalloc(%zu) failed", n);
            memset(p[i], 0xFF, n);
        }
        for (int i = 0; i < R; i++)
            kfree(p[i]);
        for (int i = 0; i < R; i++) {
            switch (i % 3) {
            case 0:
                p[i] = kzalloc(n, GFP_KERNEL);
                break;
            case 1:
                p[i] = kmalloc(n, GFP_KERNEL | __GFP_ZERO);
                break;
            default:
                p[i] = kcalloc(n / 8, 8, GFP_KERNEL);
                break;
            }
            REQUIRE(p[i] != NULL, "zeroing allocation of %zu failed", n);
            CHECK(all_zero(p[i], n), "%s(%zu) returned non-zero memory",
                  i % 3 == 0 ? "kzalloc" : i % 3 == 1 ? "kmalloc(__GFP_ZERO)" : "kcalloc", n);
        }
        for (int i = 0; i < R; i++)
            kfree(p[i]);
    }
}

static void test_krealloc(void)
{
    unsigned char *p = krealloc(NULL, 10, GFP_KERNEL);
    REQUIRE(p != NULL, "krealloc(NULL, 10) failed");
    pattern_fill(p, 10, 1);
    size_t cur = 10;
    static const size_t steps[] = {11, 16, 17, 64, 65, 300, 4096, 4097, 70000, 1 << 20,
                                   5000, 100, 33, 8, 2};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        size_t n = steps[i];
        unsigned char *q = krealloc(p, n, GFP_KERNEL);
        REQUIRE(q != NULL, "krealloc(%zu -> %zu) failed", cur, n);
        size_t keep = cur < n ? cur : n;
        size_t bad = pattern_check(q, keep, 1);
        CHECK(bad == keep, "krealloc %zu -> %zu lost byte %zu", cur, n, bad);
        CHECK(ksize(q) >= n, "ksize after krealloc to %zu is %zu", n, ksize(q));
        for (size_t j = keep; j < n; j++)
            q[j] = pattern_byte(1, j);
        p = q;
        cur = n;
    }
    kfree(p);
}

static void test_failed_requests(void)
{
    kfree(NULL);
    errno = 0;
    void *p = kmalloc(v_size_max, GFP_KERNEL);
    CHECK(p == NULL && errno == ENOMEM, "kmalloc(SIZE_MAX) = %p errno %d", p, errno);
    errno = 0;
    p = kzalloc(v_size_max / 2, GFP_KERNEL);
    CHECK(p == NULL && errno == ENOMEM, "kzalloc(SIZE_MAX/2) = %p errno %d", p, errno);
    errno = 0;
    volatile size_t half1 = SIZE_MAX / 2 + 1;
    p = kcalloc(half1, 2, GFP_KERNEL);
    CHECK(p == NULL && errno == ENOMEM, "kcalloc overflow = %p errno %d", p, errno);
    unsigned char *q = kmalloc(50, GFP_KERNEL);
    REQUIRE(q != NULL, "kmalloc(50) failed");
    memset(q, 0x33, 50);
    errno = 0;
    p = krealloc(q, v_size_max, GFP_KERNEL);
    CHECK(p == NULL && errno == ENOMEM, "krealloc(p, SIZE_MAX) = %p errno %d", p, errno);
    if (!p) {
        CHECK(q[0] == 0x33 && q[49] == 0x33, "failed krealloc damaged the block");
        kfree(q);
    }
}

static void test_owns_and_version(void)
{
    int local = 0;
    CHECK(slabdbg_owns(&local) == 0, "slabdbg_owns(stack address) != 0");
    CHECK(slabdbg_owns(NULL) == 0, "slabdbg_owns(NULL) != 0");
    static int global;
    CHECK(slabdbg_owns(&global) == 0, "slabdbg_owns(static variable) != 0");
    /* linking the library also replaces malloc */
    void *m = malloc(77);
    CHECK(slabdbg_owns(m) == 1, "malloc in a linked program is not slabdbg's");
    free(m);
    const char *v = slabdbg_version();
    CHECK(v && strcmp(v, SLABDBG_VERSION) == 0, "slabdbg_version() = \"%s\", header says %s",
          v ? v : "(null)", SLABDBG_VERSION);
}

/* kmalloc-<n> lines: after allocating 1000 64-byte objects, the class that
 * holds them reports at least 1000 active objects. */
static void test_stats(void)
{
    enum { N = 1000 };
    static void *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = kmalloc(64, GFP_KERNEL);
        REQUIRE(p[i] != NULL, "kmalloc(64) failed");
    }
    FILE *tmp = tmpfile();
    REQUIRE(tmp != NULL, "tmpfile failed");
    slabdbg_print_stats(fileno(tmp));
    rewind(tmp);
    char line[1024];
    int first = 1, found = 0, kmalloc_lines = 0;
    while (fgets(line, sizeof line, tmp)) {
        if (first) {
            CHECK(strncmp(line, "slabdbg ", 8) == 0, "stats first line is \"%s\"", line);
            first = 0;
            continue;
        }
        unsigned long csize;
        long active, num, objsize;
        if (sscanf(line, "kmalloc-%lu %ld %ld %ld", &csize, &active, &num, &objsize) == 4) {
            kmalloc_lines++;
            CHECK(num >= active && active >= 0, "bad counts in line: %s", line);
            CHECK(objsize >= (long)csize, "objsize < class size in line: %s", line);
            if (csize >= 64 && csize <= 128 && active >= N)
                found = 1;
        }
    }
    fclose(tmp);
    CHECK(!first, "slabdbg_print_stats wrote nothing");
    CHECK(kmalloc_lines > 0, "no kmalloc-<n> lines in stats");
    CHECK(found, "no kmalloc-64..128 line with >= %d active objects", N);
    for (int i = 0; i < N; i++)
        kfree(p[i]);
}

int main(void)
{
    test_begin("kmalloc_api");
    test_kmalloc_sizes();
    test_zeroing();
    test_krealloc();
    test_failed_requests();
    test_owns_and_version();
    test_stats();
    return test_finish();
}

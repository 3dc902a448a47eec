/*
 * malloc_usable_size: NULL gives 0; for every size 0..4096 and powers of
 * two +-1 up to 64 MiB the usable size is >= the request and every usable
 * byte can be written without touching a neighbouring block.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void check_size(size_t n)
{
    /* two blocks of the same size, likely adjacent in one slab */
    unsigned char *a = malloc(n), *b = malloc(n);
    REQUIRE(a && b, "malloc(%zu) failed", n);
    size_t ua = malloc_usable_size(a), ub = malloc_usable_size(b);
    CHECK(ua >= n, "malloc_usable_size(malloc(%zu)) = %zu", n, ua);
    CHECK(ub >= n, "malloc_usable_size(malloc(%zu)) = %zu", n, ub);
    if (ua < n || ub < n) {
        free(a);
        free(b);
        return;
    }
    /* a huge usable size for a small request would be suspicious */
    if (n <= 4096)
        CHECK(ua <= 2 * n + 4096, "malloc_usable_size(malloc(%zu)) = %zu is absurd", n, ua);
    uint64_t sa = n * 2 + 1, sb = n * 2 + 2;
    pattern_fill(a, ua, sa);
    pattern_fill(b, ub, sb);
    size_t bad = pattern_check(a, ua, sa);
    CHECK(bad == ua, "size %zu: usable byte %zu of first block overwritten", n, bad);
    bad = pattern_check(b, ub, sb);
    CHECK(bad == ub, "size %zu: usable byte %zu of second block overwritten", n, bad);
    /* the usable size does not change while the block lives */
    CHECK(malloc_usable_size(a) == ua, "usable size of a size-%zu block changed", n);
    free(a);
    free(b);
}

static void test_calloc_realloc_usable(void)
{
    for (size_t n = 1; n <= 70000; n = n * 3 + 1) {
        unsigned char *c = calloc(1, n);
        REQUIRE(c != NULL, "calloc(1, %zu) failed", n);
        size_t u = malloc_usable_size(c);
        CHECK(u >= n, "calloc(1, %zu): usable %zu", n, u);
        unsigned char *r = realloc(c, n + 10);
        REQUIRE(r != NULL, "realloc failed");
        u = malloc_usable_size(r);
        CHECK(u >= n + 10, "realloc(.., %zu): usable %zu", n + 10, u);
        memset(r, 0x11, u);
        free(r);
    }
}

int main(void)
{
    test_begin("usable_size");
    CHECK(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) = %zu",
          malloc_usable_size(NULL));
    for (size_t n = 0; n <= 4096; n++)
        check_size(n);
    for (int k = 1; k <= 26; k++) {
        size_t p2 = (size_t)1 << k;
        check_size(p2 - 1);
        check_size(p2);
        check_size(p2 + 1);
    }
    test_calloc_realloc_usable();
    return test_finish();
}

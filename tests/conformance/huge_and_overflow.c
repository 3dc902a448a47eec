/*
 * Requests that cannot be satisfied: calloc and reallocarray overflow,
 * huge sizes for every allocation function.  Each must return NULL (or
 * ENOMEM for posix_memalign) with errno ENOMEM, without crashing, and
 * leave the original block of a failed realloc untouched.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* volatile so that the compiler neither warns about nor folds the sizes */
static volatile size_t v_size_max = SIZE_MAX;
static volatile size_t v_half = SIZE_MAX / 2;
static volatile size_t v_half1 = SIZE_MAX / 2 + 1;
static volatile size_t v_2_46 = (size_t)1 << 46;
static volatile size_t v_2_33 = (size_t)1 << 33;
static volatile size_t v_two = 2;

/* 1<<46 bytes (64 TiB) can only succeed when the kernel overcommits
 * without limit; skip that size there, as glibc would succeed too. */
static int overcommit_always(void)
{
    FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
    int v = 0;
    if (f) {
        if (fscanf(f, "%d", &v) != 1)
            v = 0;
        fclose(f);
    }
    return v == 1;
}

#define EXPECT_ENOMEM_NULL(call, desc)                                          \
    do {                                                                        \
        errno = 0;                                                              \
        void *r_ = (call);                                                      \
        int e_ = errno;                                                         \
        CHECK(r_ == NULL, "%s returned %p, expected NULL", desc, r_);           \
        CHECK(e_ == ENOMEM, "%s set errno %d (%s), expected ENOMEM", desc, e_,  \
              strerror(e_));                                                    \
        free(r_);                                                               \
    } while (0)

static void test_huge(void)
{
    size_t sizes[4] = {v_size_max, v_half, v_half1, v_2_46};
    const char *names[4] = {"SIZE_MAX", "SIZE_MAX/2", "SIZE_MAX/2+1", "1<<46"};
    int n = overcommit_always() ? 3 : 4;
    char desc[128];
    for (int i = 0; i < n; i++) {
        size_t s = sizes[i];
        snprintf(desc, sizeof desc, "malloc(%s)", names[i]);
        EXPECT_ENOMEM_NULL(malloc(s), desc);
        snprintf(desc, sizeof desc, "calloc(1, %s)", names[i]);
        EXPECT_ENOMEM_NULL(calloc(1, s), desc);
        snprintf(desc, sizeof desc, "realloc(NULL, %s)", names[i]);
        EXPECT_ENOMEM_NULL(realloc(NULL, s), desc);
        snprintf(desc, sizeof desc, "aligned_alloc(64, %s)", names[i]);
        EXPECT_ENOMEM_NULL(aligned_alloc(64, s & ~(size_t)63), desc);
        snprintf(desc, sizeof desc, "memalign(4096, %s)", names[i]);
        EXPECT_ENOMEM_NULL(memalign(4096, s), desc);
        snprintf(desc, sizeof desc, "valloc(%s)", names[i]);
        EXPECT_ENOMEM_NULL(valloc(s), desc);

        void *p = (void *)0x1;
        errno = 0;
        int rc = posix_memalign(&p, 64, s);
        CHECK(rc == ENOMEM, "posix_memalign(64, %s) returned %d, expected ENOMEM", names[i], rc);
        if (rc == 0)
            free(p);

        /* A failed realloc keeps the old block intact and usable. */
        unsigned char *old = malloc(100);
        REQUIRE(old != NULL, "malloc(100) failed");
        pattern_fill(old, 100, 77);
        errno = 0;
        void *r = realloc(old, s);
        int e = errno;
        CHECK(r == NULL, "realloc(p, %s) returned %p", names[i], r);
        CHECK(e == ENOMEM, "realloc(p, %s) errno %d, expected ENOMEM", names[i], e);
        if (r == NULL) {
            CHECK(pattern_check(old, 100, 77) == 100, "failed realloc(p, %s) damaged the block",
                  names[i]);
            free(old);
        } else {
            free(r);
        }
    }
    /* The allocator still works after all these failures. */
    void *ok = malloc(1000);
    CHECK(ok != NULL, "malloc(1000) after huge failures returned NULL");
    free(ok);
}

static void test_calloc_overflow(void)
{
    EXPECT_ENOMEM_NULL(calloc(v_half1, v_two), "calloc(SIZE_MAX/2+1, 2)");
    EXPECT_ENOMEM_NULL(calloc(v_two, v_half1), "calloc(2, SIZE_MAX/2+1)");
    EXPECT_ENOMEM_NULL(calloc(v_2_33, v_2_33), "calloc(1<<33, 1<<33)");
    EXPECT_ENOMEM_NULL(calloc(v_size_max, v_size_max), "calloc(SIZE_MAX, SIZE_MAX)");
    /* (SIZE_MAX/16 + 1) * 16 wraps to exactly 0: must not yield a tiny block. */
    volatile size_t wrap = SIZE_MAX / 16 + 1, sixteen = 16;
    EXPECT_ENOMEM_NULL(calloc(wrap, sixteen), "calloc(SIZE_MAX/16+1, 16)");
}

static void test_reallocarray_overflow(void)
{
    EXPECT_ENOMEM_NULL(reallocarray(NULL, v_half1, v_two), "reallocarray(NULL, SIZE_MAX/2+1, 2)");
    volatile size_t wrap = SIZE_MAX / 16 + 1, sixteen = 16;
    EXPECT_ENOMEM_NULL(reallocarray(NULL, wrap, sixteen), "reallocarray(NULL, SIZE_MAX/16+1, 16)");

    unsigned char *p = malloc(64);
    REQUIRE(p != NULL, "malloc(64) failed");
    pattern_fill(p, 64, 5);
    errno = 0;
    void *r = reallocarray(p, v_2_33, v_2_33);
    int e = errno;
    CHECK(r == NULL, "reallocarray(p, 1<<33, 1<<33) returned %p", r);
    CHECK(e == ENOMEM, "reallocarray overflow errno %d, expected ENOMEM", e);
    if (r) {
        free(r);
        return;
    }
    CHECK(pattern_check(p, 64, 5) == 64, "failed reallocarray damaged the block");
    /* A valid reallocarray grows and keeps the contents. */
    unsigned char *q = reallocarray(p, 100, 10);
    REQUIRE(q != NULL, "reallocarray(p, 100, 10) failed");
    CHECK(pattern_check(q, 64, 5) == 64, "reallocarray lost the contents");
    memset(q, 1, 1000);
    free(q);
}

int main(void)
{
    test_begin("huge_and_overflow");
    test_huge();
    test_calloc_overflow();
    test_reallocarray_overflow();
    return test_finish();
}

/*
 * Small helpers shared by the C and C++ test programs.
 *
 * CHECK(cond, fmt, ...) records a failure (with file, line and a message)
 * and lets the program go on, so one run reports several problems; the
 * program ends with test_finish(), which returns the exit status.
 *
 * When the environment variable SLABDBG_TEST_EXPECT_LIB is "1" (set by
 * the test registration for the preload and linked variants), the
 * program also verifies that slabdbg really provides its malloc.
 */
#ifndef SLABDBG_TESTUTIL_H
#define SLABDBG_TESTUTIL_H

#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

static int test_failures;
static const char *test_name = "test";

__attribute__((format(printf, 4, 5), unused)) static void
test_fail(const char *file, int line, const char *expr, const char *fmt, ...)
{
    /* atomic: the stress programs report from several threads */
    int n = __atomic_add_fetch(&test_failures, 1, __ATOMIC_RELAXED);
    if (n > 50) {
        if (n == 51)
            fprintf(stderr, "%s: too many failures, further ones not shown\n", test_name);
        return;
    }
    fprintf(stderr, "%s: %s:%d: CHECK(%s) failed: ", test_name, file, line, expr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (!(cond))                                                            \
            test_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                  \
    } while (0)

/* Fatal variant: for conditions after which going on makes no sense. */
#define REQUIRE(cond, ...)                                                      \
    do {                                                                        \
        if (!(cond)) {                                                          \
            test_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                  \
            fprintf(stderr, "%s: FAILED (fatal)\n", test_name);                 \
            exit(1);                                                            \
        }                                                                       \
    } while (0)

/* Deterministic pattern byte for offset i of an object identified by seed. */
static inline unsigned char pattern_byte(uint64_t seed, size_t i)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + (uint64_t)i * 0xD1B54A32D192ED03ull;
    x ^= x >> 29;
    return (unsigned char)(x ^ (x >> 11) ^ (i >> 8));
}

static inline void pattern_fill(void *p, size_t n, uint64_t seed)
{
    unsigned char *c = (unsigned char *)p;
    for (size_t i = 0; i < n; i++)
        c[i] = pattern_byte(seed, i);
}

/* Returns the first offset that does not hold the pattern, or n. */
static inline size_t pattern_check(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *c = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != pattern_byte(seed, i))
            return i;
    return n;
}

/* Tiny deterministic PRNG (xorshift64*), one state per user. */
static inline uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Word-wise variants for the stress programs (much faster). */
static inline void fast_fill(void *p, size_t n, uint64_t seed)
{
    unsigned char *c = (unsigned char *)p;
    size_t w = n / 8;
    for (size_t j = 0; j < w; j++) {
        uint64_t v = seed ^ ((uint64_t)(j + 1) * 0x9E3779B97F4A7C15ull);
        memcpy(c + 8 * j, &v, 8);
    }
    for (size_t i = 8 * w; i < n; i++)
        c[i] = (unsigned char)(seed >> ((i & 7) * 8)) ^ (unsigned char)i;
}

static inline int fast_check(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *c = (const unsigned char *)p;
    size_t w = n / 8;
    for (size_t j = 0; j < w; j++) {
        uint64_t v;
        memcpy(&v, c + 8 * j, 8);
        if (v != (seed ^ ((uint64_t)(j + 1) * 0x9E3779B97F4A7C15ull)))
            return 0;
    }
    for (size_t i = 8 * w; i < n; i++)
        if (c[i] != ((unsigned char)(seed >> ((i & 7) * 8)) ^ (unsigned char)i))
            return 0;
    return 1;
}

static inline int test_expect_lib(void)
{
    const char *e = getenv("SLABDBG_TEST_EXPECT_LIB");
    return e && strcmp(e, "1") == 0;
}

/*
 * If the library is expected, check that it is loaded and that it owns
 * what malloc returns.  Uses dlsym so the same binary also runs on glibc.
 */
static inline void test_begin(const char *name)
{
    test_name = name;
    if (!test_expect_lib())
        return;
    void *ver = dlsym(RTLD_DEFAULT, "slabdbg_version");
    REQUIRE(ver != NULL, "slabdbg_version not found: library not loaded");
    typedef int (*owns_fn)(const void *);
    owns_fn owns;
    void *sym = dlsym(RTLD_DEFAULT, "slabdbg_owns");
    REQUIRE(sym != NULL, "slabdbg_owns not found");
    memcpy(&owns, &sym, sizeof owns);
    void *volatile p = malloc(40);
    REQUIRE(p != NULL, "malloc(40) failed");
    REQUIRE(owns(p) == 1, "slabdbg_owns(malloc(40)) != 1: malloc is not slabdbg's");
    free(p);
}

static inline int test_finish(void)
{
    int n = __atomic_load_n(&test_failures, __ATOMIC_RELAXED);
    if (n) {
        fprintf(stderr, "%s: FAILED (%d check(s))\n", test_name, n);
        return 1;
    }
    printf("%s: OK\n", test_name);
    return 0;
}

#ifdef __cplusplus
}
#endif
#endif

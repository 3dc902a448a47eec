/*
 * A correct program that uses the whole malloc API across size classes
 * (growing and shrinking realloc within and across classes, calloc,
 * aligned allocation, usable size, strdup, huge objects).  Under
 * SLABDBG=FZPU it must run without a single report: it prints
 * validate=<slabdbg_validate()> and reports=<count>, and exits 1 if any of
 * its own checks fails.
 */
#include <malloc.h>
#include <stdint.h>

#include "../bugs/bug_common.h"

static int failures;
#define EXPECT(c)                                                                                  \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "clean_workload: line %d: %s\n", __LINE__, #c);                        \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed * 31 + i * 7);
}

static int holds(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(seed * 31 + i * 7))
            return 0;
    return 1;
}

static const size_t sizes[] = {1,   7,    8,    9,    16,   24,    100,   128,   129,   200,
                               255, 256,  257,  1000, 1024, 1500,  4000,  4096,  10000, 40000,
                               65536, 100000, 300000, 524288, 600000, 2000000};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

int main(void)
{
    /* Every size: fill up to the usable size, which must be at least the
     * request; keep a few alive across the others. */
    void *keep[NSIZES];
    for (size_t i = 0; i < NSIZES; i++) {
        unsigned char *p = malloc(sizes[i]);
        EXPECT(p != NULL);
        size_t usable = malloc_usable_size(p);
        EXPECT(usable >= sizes[i]);
        fill(p, usable, (unsigned)i);
        EXPECT(holds(p, usable, (unsigned)i));
        keep[i] = p;
    }
    for (size_t i = 0; i < NSIZES; i += 2) {
        free(keep[i]);
        keep[i] = NULL;
    }

    /* calloc is zeroed even where the debug path poisoned the object. */
    for (size_t i = 0; i < NSIZES; i++) {
        unsigned char *p = calloc(1, sizes[i]);
        EXPECT(p != NULL);
        size_t zero = 1;
        for (size_t j = 0; j < sizes[i]; j++)
            zero &= p[j] == 0;
        EXPECT(zero);
        free(p);
    }

    /* realloc: grow one byte at a time through a class, then across many,
     * then shrink; the contents must follow. */
    unsigned char *r = malloc(900);
    fill(r, 900, 5);
    for (size_t n = 901; n <= 1024; n++) {
        r = realloc(r, n);
        EXPECT(r && holds(r, 900, 5));
        r[n - 1] = 0x77;
    }
    for (size_t n = 1024; n >= 520; n -= 13) {
        r = realloc(r, n);
        EXPECT(r && holds(r, 520 < 900 ? 520 : 900, 5));
        memset(r + 520, 0x33, n - 520);
    }
    r = realloc(r, 600);
    fill(r, 600, 6);
    for (size_t n = 600; n < 1 << 20; n = n * 3 / 2) {
        r = realloc(r, n);
        EXPECT(r && holds(r, 600, 6));
        memset(r + 600, 0x44, n - 600);
    }
    for (size_t n = 1 << 20; n > 16; n /= 3) {
        r = realloc(r, n);
        EXPECT(r && holds(r, n < 600 ? n : 600, 6));
    }
    free(r);

    /* Aligned allocation. */
    static const size_t aligns[] = {8, 16, 32, 64, 128, 256, 4096, 65536};
    for (size_t i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
        void *a = NULL;
        EXPECT(posix_memalign(&a, aligns[i], 300) == 0);
        EXPECT(((uintptr_t)a & (aligns[i] - 1)) == 0);
        memset(a, 0x55, 300);
        free(a);
        unsigned char *b = aligned_alloc(aligns[i], aligns[i] * 2);
        EXPECT(b && ((uintptr_t)b & (aligns[i] - 1)) == 0);
        memset(b, 0x66, aligns[i] * 2);
        free(b);
        unsigned char *m = memalign(aligns[i], 40);
        EXPECT(m && ((uintptr_t)m & (aligns[i] - 1)) == 0);
        memset(m, 0x67, 40);
        free(m);
    }

    /* Strings and many small objects freed in another order. */
    char *strs[500];
    for (int i = 0; i < 500; i++) {
        char buf[64];
        snprintf(buf, sizeof(buf), "string number %d with some text", i * 7919);
        strs[i] = strdup(buf);
    }
    for (int i = 0; i < 500; i += 3)
        free(strs[i]);
    for (int i = 0; i < 500; i++)
        if (i % 3) {
            char buf[64];
            snprintf(buf, sizeof(buf), "string number %d with some text", i * 7919);
            EXPECT(!strcmp(strs[i], buf));
            free(strs[i]);
        }

    for (size_t i = 0; i < NSIZES; i++)
        if (keep[i]) {
            EXPECT(holds(keep[i], sizes[i], (unsigned)i));
            free(keep[i]);
        }
    free(NULL);

    fact_long("validate", slabdbg_call("slabdbg_validate"));
    finish();
    return failures ? 1 : 0;
}

/*
 * Bad frees that production mode (no SLABDBG) must report as glibc would
 * refuse them, harder than heapbug's: each must add exactly one report
 * (slabdbg_report_count(), found with dlsym so that the program runs
 * without slabdbg too), must not crash, and must never make the allocator
 * hand the same memory out twice (checked after each variant by
 * allocating a batch of every class involved and looking for overlaps).
 *
 *   badfree_prod VARIANT     one of the names in VARIANTS below, or "all"
 *
 * Prints "ok VARIANT" per variant, "FAIL: ..." for a failed check and
 * "done" at the end.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <sys/mman.h>

#include "guard_prog.h"

static unsigned long (*report_count)(void);

static unsigned reports(void)
{
    return report_count ? (unsigned)report_count() : 0;
}

#define EXPECT_REPORTS(before, n, what)                                                            \
    PROG_CHECK(reports() == (before) + (n), "%s: %u report(s), expected %u", what,                 \
               reports() - (before), (unsigned)(n))

static const size_t sizes[] = {1,    8,    16,   24,   50,   64,    100,   128,   200,    1000,
                               1024, 4000, 4096, 5000, 8192, 12000, 40000, 70000, 300000, 524288};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

static int overlaps(const void *a, size_t na, const void *b, size_t nb)
{
    return (const char *)a < (const char *)b + nb && (const char *)b < (const char *)a + na;
}

/* Allocates `n` objects of `size` (plus the caller's live ones), checks that
 * none overlaps another and that each keeps what was written into it, then
 * frees them. */
static void no_overlap(size_t size, unsigned n, void **live, size_t *live_size, unsigned nlive)
{
    enum { MAX = 256 };
    void *p[MAX];
    if (n > MAX)
        n = MAX;
    for (unsigned i = 0; i < n; i++) {
        p[i] = malloc(size);
        PROG_CHECK(p[i] != NULL, "malloc(%zu) failed", size);
        if (!p[i])
            return;
        memset(p[i], (int)(i & 0xff), size);
    }
    for (unsigned i = 0; i < n; i++) {
        for (unsigned j = i + 1; j < n; j++)
            PROG_CHECK(!overlaps(p[i], size, p[j], size), "malloc(%zu) handed out %p twice", size,
                       p[i]);
        for (unsigned j = 0; j < nlive; j++)
            PROG_CHECK(!overlaps(p[i], size, live[j], live_size[j]),
                       "malloc(%zu) returned %p, inside the live %p", size, p[i], live[j]);
        PROG_CHECK(((unsigned char *)p[i])[size - 1] == (i & 0xff), "object %p changed", p[i]);
    }
    for (unsigned i = 0; i < n; i++)
        free(p[i]);
}

/* free(a); free(b); free(a): a is no longer the most recently freed. */
static void double_free_not_head(void)
{
    for (unsigned k = 0; k < NSIZES; k++) {
        size_t n = sizes[k];
        char *a = malloc(n), *b = malloc(n), *c = malloc(n);
        unsigned r = reports();
        free(a);
        free(b);
        free(c);
        free(a);
        EXPECT_REPORTS(r, 1, "double free behind two others");
        no_overlap(n, 64, NULL, NULL, 0);
    }
}

static void *free_in_thread(void *p)
{
    free(p);
    return NULL;
}

/* Freed by one thread, freed again by another. */
static void double_free_thread(void)
{
    for (unsigned k = 0; k < NSIZES; k++) {
        size_t n = sizes[k];
        char *a = malloc(n);
        unsigned r = reports();
        free(a);
        pthread_t t;
        pthread_create(&t, NULL, free_in_thread, a);
        pthread_join(t, NULL);
        EXPECT_REPORTS(r, 1, "double free from another thread");
        /* And the other way round: the other thread's cache went back to
         * the slabs when it exited. */
        char *b = malloc(n);
        pthread_create(&t, NULL, free_in_thread, b);
        pthread_join(t, NULL);
        r = reports();
        free(b);
        EXPECT_REPORTS(r, 1, "double free of what an exited thread freed");
        no_overlap(n, 64, NULL, NULL, 0);
    }
}

/* The object went back to its slab: thousands of frees after it pushed it
 * out of the thread cache. */
static void double_free_flushed(void)
{
    for (unsigned k = 0; k < NSIZES; k++) {
        size_t n = sizes[k];
        unsigned many = n <= 4096 ? 3000 : n <= 70000 ? 300 : 40;
        void **v = malloc(many * sizeof(void *));
        char *a = malloc(n);
        for (unsigned i = 0; i < many; i++)
            v[i] = malloc(n);
        unsigned r = reports();
        free(a);
        for (unsigned i = 0; i < many; i++)
            free(v[i]);
        free(a);
        EXPECT_REPORTS(r, 1, "double free after the thread cache was flushed");
        no_overlap(n, 64, NULL, NULL, 0);
        free(v);
    }
}

/* The object's slab went back to the page layer (every object of it
 * freed), and its memory maybe to another class since. */
static void double_free_slab_released(void)
{
    for (unsigned k = 0; k < NSIZES; k++) {
        size_t n = sizes[k];
        if (n < 4000)
            continue; /* small classes keep their slabs in thread caches */
        char *a = malloc(n);
        unsigned r = reports();
        free(a);
        /* Push it out of the thread cache and empty its slab. */
        for (unsigned round = 0; round < 4; round++) {
            void *v[64];
            for (unsigned i = 0; i < 64; i++)
                v[i] = malloc(n);
            for (unsigned i = 0; i < 64; i++)
                free(v[i]);
        }
        malloc_trim(0);
        free(a);
        EXPECT_REPORTS(r, 1, "double free after the slab was released");
        no_overlap(n, 64, NULL, NULL, 0);
        no_overlap(64, 256, NULL, NULL, 0);
    }
}

/* Every size class (malloc_usable_size steps from one to the next), at
 * offsets near both ends, in the middle and a page in: one report each,
 * the object intact. */
static void interior_frees(void)
{
    unsigned classes = 0, frees = 0;
    for (size_t n = 1; n <= 524288; classes++) {
        char *a = malloc(n);
        size_t usable = malloc_usable_size(a);
        memset(a, 0x33, n);
        const size_t offs[] = {1, 8, 16, usable / 2, usable - 1, 4096};
        for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
            size_t off = offs[i];
            if (off == 0 || off >= usable || (i > 0 && off == offs[i - 1]))
                continue;
            unsigned r = reports();
            free(a + off);
            frees++;
            EXPECT_REPORTS(r, 1, "interior free");
            if (reports() != r + 1)
                printf("  size %zu offset %zu\n", n, off);
        }
        PROG_CHECK(malloc_usable_size(a) == usable, "usable size of %zu changed", n);
        PROG_CHECK(a[0] == 0x33 && a[n - 1] == 0x33, "contents of %zu changed", n);
        void *live[1] = {a};
        size_t live_size[1] = {n};
        no_overlap(n, n < 65536 ? 32 : 4, live, live_size, 1);
        free(a);
        n = usable + 1;
    }
    printf("interior frees: %u in %u classes\n", frees, classes);
}

/* Memory from mmap, and another allocator's (glibc's own malloc). */
extern void *__libc_malloc(size_t);
extern void __libc_free(void *);

static void foreign_frees(void)
{
    char *m = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned r = reports();
    free(m);
    free(m + 16);
    free(m + 4096);
    EXPECT_REPORTS(r, 3, "frees into an mmap");
    munmap(m, 1 << 16);

    char *g = __libc_malloc(100);
    r = reports();
    free(g);
    EXPECT_REPORTS(r, 1, "free of glibc's malloc");
    __libc_free(g);

    /* A mapping of someone else's in the 4 MiB a huge object's mapping
     * leaves unmapped after its end. */
    char *h = malloc(600 << 10);
    uintptr_t region = (uintptr_t)h & ~(((uintptr_t)4 << 20) - 1);
    /* The first free place after the object in its 4 MiB (another mapping
     * may already sit at any one of them); else any mapping, so that the
     * frees below are made in every run. */
    char *f = MAP_FAILED;
    for (uintptr_t off = 1u << 20; off < (4u << 20) && f == MAP_FAILED; off += 256u << 10) {
        char *want = (char *)(region + off);
        if (want < h + (600 << 10) + 4096)
            continue;
        f = mmap(want, 1 << 16, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (f != MAP_FAILED && f != want) { /* a kernel without MAP_FIXED_NOREPLACE */
            munmap(f, 1 << 16);
            f = MAP_FAILED;
        }
    }
    if (f == MAP_FAILED) {
        printf("(no free place beside the huge object: frees into another mapping)\n");
        f = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    }
    r = reports();
    free(f);
    free(f + 32);
    EXPECT_REPORTS(r, 2, "frees into a mapping beside a huge object");
    PROG_CHECK(f[0] == 0, "the foreign mapping changed");
    char *q = realloc(f, 100);
    PROG_CHECK(q == NULL, "realloc of a foreign pointer returned %p", q);
    munmap(f, 1 << 16);
    free(h);

    r = reports();
    free((void *)16);
    free((void *)0x7fff00000000);
    free((void *)0xffff800000001000);
    EXPECT_REPORTS(r, 3, "wild pointers");
}

/* Above the largest size class: a mapping per object. */
static void huge_frees(void)
{
    const size_t hs[] = {600 << 10, 3 << 20, 9 << 20, 40 << 20};
    for (unsigned k = 0; k < sizeof(hs) / sizeof(hs[0]); k++) {
        size_t n = hs[k];
        char *h = malloc(n);
        h[0] = 1;
        h[n - 1] = 2;
        const size_t offs[] = {16, 4096, n / 2, (5u << 20), n - 16};
        for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
            if (offs[i] >= n)
                continue;
            unsigned r = reports();
            free(h + offs[i]);
            EXPECT_REPORTS(r, 1, "interior free of a huge object");
            if (reports() != r + 1)
                printf("  huge %zu offset %zu\n", n, offs[i]);
        }
        PROG_CHECK(h[0] == 1 && h[n - 1] == 2, "huge object of %zu changed", n);
        unsigned r = reports();
        free(h);
        EXPECT_REPORTS(r, 0, "free of a huge object");
        free(h);
        EXPECT_REPORTS(r, 1, "double free of a huge object");
        char *q = realloc(h, n + 1);
        PROG_CHECK(q == NULL, "realloc of a freed huge object returned %p", q);
        EXPECT_REPORTS(r, 2, "realloc of a freed huge object");
        no_overlap(n, 3, NULL, NULL, 0);
    }
}

/* free of a huge object's old address after realloc moved it. */
static void huge_realloc_moved(void)
{
    char *h = malloc(600 << 10);
    char *block = mmap(h + (604 << 10), 4096, PROT_READ,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    char *q = realloc(h, 3 << 20); /* cannot grow in place past the block: moves */
    if (block != MAP_FAILED)
        munmap(block, 4096);
    PROG_CHECK(q != NULL, "realloc failed");
    if (q == h) {
        printf("(not moved)\n");
        free(q);
        return;
    }
    unsigned r = reports();
    free(h);
    EXPECT_REPORTS(r, 1, "free of the old address after realloc moved it");
    free(q);
    EXPECT_REPORTS(r, 1, "free of the new address");
    no_overlap(3 << 20, 3, NULL, NULL, 0);
}

/* realloc of a freed object, of every size. */
static void realloc_freed(void)
{
    for (unsigned k = 0; k < NSIZES; k++) {
        size_t n = sizes[k];
        char *a = malloc(n), *b = malloc(n);
        unsigned r = reports();
        free(a);
        free(b);
        char *q = realloc(a, n * 2);
        PROG_CHECK(q == NULL, "realloc of a freed object returned %p", q);
        EXPECT_REPORTS(r, 1, "realloc of a freed object");
        no_overlap(n, 64, NULL, NULL, 0);
    }
}

static const struct {
    const char *name;
    void (*run)(void);
} VARIANTS[] = {
    {"double_free_not_head", double_free_not_head},
    {"double_free_thread", double_free_thread},
    {"double_free_flushed", double_free_flushed},
    {"double_free_slab_released", double_free_slab_released},
    {"interior_frees", interior_frees},
    {"foreign_frees", foreign_frees},
    {"huge_frees", huge_frees},
    {"huge_realloc_moved", huge_realloc_moved},
    {"realloc_freed", realloc_freed},
};

int main(int argc, char **argv)
{
    prog_start();
    if (argc != 2)
        return 2;
    report_count = (unsigned long (*)(void))dlsym(RTLD_DEFAULT, "slabdbg_report_count");
    PROG_CHECK(report_count != NULL, "not running under slabdbg");
    int found = 0;
    for (unsigned i = 0; i < sizeof(VARIANTS) / sizeof(VARIANTS[0]); i++) {
        if (strcmp(argv[1], "all") && strcmp(argv[1], VARIANTS[i].name))
            continue;
        found = 1;
        int before = prog_failures;
        VARIANTS[i].run();
        if (prog_failures == before)
            printf("ok %s\n", VARIANTS[i].name);
    }
    if (!found)
        return 2;
    printf("done\n");
    return prog_failures ? 1 : 0;
}

/*
 * The sampling pool, without G: run with SLABDBG_OPTIONS=sample_rate=1 (about
 * two allocations in three sampled) unless said otherwise.  A sampled object
 * of n bytes (n rounded up to 16) ends exactly at a page boundary, against
 * an inaccessible page; find_sampled() allocates until it gets one.
 *
 *   sample uaf       a sampled malloc(64) freed (release_object), then written
 *                    at offset 8 by sampled_stray_writer: reported, SIGSEGV
 *   sample usable    malloc_usable_size of sampled objects is the size asked
 *                    (64, 60, 1, 4096); about two in three malloc(64) are
 *                    sampled; the pool never holds more than sample_slots
 *                    live objects (prints "pool_live=N")
 *   sample realloc   realloc of sampled objects (larger, smaller, same size,
 *                    past a page) keeps the contents; the old object becomes
 *                    inaccessible
 *   sample slack     a sampled malloc(60): one byte written at offset 60 (the
 *                    slack before the guard page) is found at free
 *   sample off       (sample_rate=0) no object is ever sampled
 *   sample uaf_corrupt
 *                    as uaf, but first the heap is corrupted: every free
 *                    object this thread holds of the small classes has its
 *                    free link and marker overwritten (writes after free of
 *                    the program's own).  The report of the sampled fault
 *                    must still come out whole (it allocates nothing from
 *                    that heap), and the process die of the fault
 */
#include "guard_prog.h"

#define FIND_TRIES 5000

static void *held[FIND_TRIES];
static unsigned nheld;

NOINLINE char *alloc_object(size_t n)
{
    return malloc(n);
}

NOINLINE void release_object(char *p)
{
    free(p);
}

NOINLINE void sampled_stray_writer(char *p)
{
    ((volatile char *)p)[8] = 0x5c;
}

NOINLINE void slack_writer(char *p, size_t n)
{
    ((volatile char *)p)[n] = 0x5d;
}

/* The bytes from a sampled object's start to its guard page: the size
 * rounded up to its alignment (16 from 16 bytes on), or the size itself
 * under guard_align=1 (objects aligned only as their size implies). */
static size_t span_of(size_t n)
{
    const char *o = getenv("SLABDBG_OPTIONS");
    const char *a = o ? strstr(o, "guard_align=1") : NULL;
    if (a && (a[13] == ':' || a[13] == ',' || a[13] == 0))
        return n;
    return n >= 16 ? (n + 15) & ~(size_t)15 : n;
}

/* Allocates n bytes until the object is a sampled one; the others are kept
 * (so the next try gets a new object) until release_held(). */
static char *find_sampled(size_t n)
{
    for (unsigned i = 0; i < FIND_TRIES && nheld < FIND_TRIES; i++) {
        char *p = alloc_object(n);
        if (!p)
            return NULL;
        if (ends_at_guard(p, span_of(n)))
            return p;
        held[nheld++] = p;
    }
    return NULL;
}

static void release_held(void)
{
    while (nheld)
        release_object(held[--nheld]);
}

static void fill(char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (char)(seed * 31 + i * 7);
}

static int same(const char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (char)(seed * 31 + i * 7))
            return 0;
    return 1;
}

static int mode_uaf(void)
{
    char *p = find_sampled(64);
    PROG_CHECK(p != NULL, "no sampled object in %d allocations", FIND_TRIES);
    if (!p)
        return 1;
    release_held();
    fill(p, 64, 1);
    printf("object=%p\n", (void *)p);
    release_object(p);
    printf("freed\n");
    sampled_stray_writer(p);
    printf("survived\n");
    return 1;
}

/* Writes after free over every object of the small classes that this
 * thread's caches hold (not the sampled ones: those are inaccessible). */
NOINLINE void heap_corrupter(void)
{
    static char *objs[40][64];
    for (unsigned c = 0; c < 40; c++) {
        size_t n = 16 + 16 * c;
        for (unsigned i = 0; i < 64; i++)
            objs[c][i] = alloc_object(n);
        for (unsigned i = 0; i < 64; i++)
            release_object(objs[c][i]);
    }
    for (unsigned c = 0; c < 40; c++)
        for (unsigned i = 0; i < 64; i++)
            if (objs[c][i] && !ends_at_guard(objs[c][i], 16 + 16 * c))
                memset(objs[c][i], 0x41, 16);
}

static int mode_uaf_corrupt(void)
{
    char *p = find_sampled(64);
    PROG_CHECK(p != NULL, "no sampled object in %d allocations", FIND_TRIES);
    if (!p)
        return 1;
    release_held();
    heap_corrupter(); /* first: its objects must not take p's slot once freed */
    printf("object=%p\n", (void *)p);
    release_object(p);
    printf("freed\n");
    fflush(stdout);
    sampled_stray_writer(p);
    printf("survived\n");
    return 1;
}

static int mode_usable(long slots)
{
    static const size_t sizes[] = {64, 60, 1, 100, 4096};
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char *p = find_sampled(sizes[i]);
        PROG_CHECK(p != NULL, "no sampled malloc(%zu)", sizes[i]);
        if (!p)
            continue;
        PROG_CHECK(malloc_usable_size(p) == sizes[i],
                   "malloc_usable_size of sampled malloc(%zu) = %zu", sizes[i],
                   malloc_usable_size(p));
        fill(p, sizes[i], (unsigned)i);
        PROG_CHECK(same(p, sizes[i], (unsigned)i), "contents");
        release_object(p);
        release_held();
    }

    /* About two in three (the interval is 1 or 2); wide bounds, no luck
     * needed: 90 live objects, far fewer than the default pool holds (a
     * small pool fills first: not counted then). */
    char *live[600];
    unsigned sampled = 0;
    for (unsigned i = 0; i < 90; i++) {
        live[i] = alloc_object(64);
        if (ends_at_guard(live[i], 64))
            sampled++;
    }
    printf("sampled_of_90=%u\n", sampled);
    if (slots >= 120)
        PROG_CHECK(sampled >= 40 && sampled <= 80, "%u of 90 malloc(64) sampled", sampled);
    for (unsigned i = 0; i < 90; i++)
        release_object(live[i]);

    /* A full pool: no more than sample_slots live sampled objects. */
    unsigned n = 3 * (unsigned)slots + 100 < 600 ? 3 * (unsigned)slots + 100 : 600;
    sampled = 0;
    for (unsigned i = 0; i < n; i++) {
        live[i] = alloc_object(64);
        PROG_CHECK(live[i] != NULL, "allocation failed with a full pool");
        if (live[i] && ends_at_guard(live[i], 64))
            sampled++;
    }
    printf("pool_live=%u\n", sampled);
    PROG_CHECK(sampled <= (unsigned)slots, "%u live sampled objects, pool of %ld", sampled, slots);
    /* Full: the few slots not ours hold objects the C library allocated
     * before main and keeps. */
    PROG_CHECK(sampled + 6 >= (unsigned)slots, "only %u live sampled objects, pool of %ld", sampled,
               slots);
    for (unsigned i = 0; i < n; i++)
        release_object(live[i]);
    /* Once freed, the slots serve again. */
    char *again = find_sampled(64);
    PROG_CHECK(again != NULL, "no sampled object after the pool was emptied");
    release_object(again);
    release_held();
    return prog_failures ? 1 : 0;
}

static void realloc_case(size_t from, size_t to, unsigned seed)
{
    char *p = find_sampled(from);
    PROG_CHECK(p != NULL, "no sampled malloc(%zu)", from);
    if (!p)
        return;
    release_held();
    fill(p, from, seed);
    char *q = realloc(p, to);
    PROG_CHECK(q != NULL, "realloc(%zu -> %zu) failed", from, to);
    if (!q)
        return;
    size_t keep = from < to ? from : to;
    PROG_CHECK(same(q, keep, seed), "realloc(%zu -> %zu) lost the contents", from, to);
    PROG_CHECK(malloc_usable_size(q) >= to, "realloc(%zu -> %zu): usable size %zu", from, to,
               malloc_usable_size(q));
    if (q != p)
        PROG_CHECK(readable(p) == 0,
                   "realloc(%zu -> %zu): the old sampled object %p is still "
                   "accessible",
                   from, to, (void *)p);
    memset(q, 0x44, to);
    release_object(q);
}

static int mode_realloc(void)
{
    realloc_case(64, 200, 1);
    realloc_case(64, 32, 2);
    realloc_case(64, 64, 3);
    realloc_case(64, 5000, 4);
    realloc_case(2000, 3000, 5);
    realloc_case(4096, 100, 6);
    return prog_failures ? 1 : 0;
}

static int mode_slack(void)
{
    char *p = find_sampled(60);
    PROG_CHECK(p != NULL, "no sampled malloc(60)");
    if (!p)
        return 1;
    release_held();
    fill(p, 60, 7);
    printf("object=%p\n", (void *)p);
    slack_writer(p, 60);
    printf("written\n");
    release_object(p);
    printf("released\n");
    return prog_failures ? 1 : 0;
}

static int mode_off(void)
{
    static const size_t sizes[] = {64, 60, 1, 100, 4096, 16, 2000};
    unsigned sampled = 0, total = 0;
    for (unsigned round = 0; round < 400; round++) {
        for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            char *p = alloc_object(sizes[i]);
            if (!p)
                continue;
            total++;
            if (ends_at_guard(p, span_of(sizes[i])))
                sampled++;
            held[nheld++] = p;
        }
        if (nheld > FIND_TRIES - 16)
            release_held();
    }
    release_held();
    printf("sampled=%u of %u\n", sampled, total);
    PROG_CHECK(sampled == 0, "%u of %u objects sampled with sampling off", sampled, total);
    return prog_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    prog_start();
    if (argc < 2)
        return 2;
    if (!strcmp(argv[1], "uaf"))
        return mode_uaf();
    if (!strcmp(argv[1], "uaf_corrupt"))
        return mode_uaf_corrupt();
    if (!strcmp(argv[1], "usable"))
        return mode_usable(argc > 2 ? atol(argv[2]) : 127);
    if (!strcmp(argv[1], "realloc"))
        return mode_realloc();
    if (!strcmp(argv[1], "slack"))
        return mode_slack();
    if (!strcmp(argv[1], "off"))
        return mode_off();
    return 2;
}

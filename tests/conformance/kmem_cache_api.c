/*
 * The kernel-style named-cache API (program linked to slabdbg):
 * argument checking, name copying, constructors (run before first
 * handout, never on live objects, not on every allocation), alignment,
 * zeroing, shrink return values, destroy of empty and non-empty caches,
 * and the per-cache line in slabdbg_print_stats.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slabdbg.h"
#include "testutil.h"

#define MAGIC 0x5EEDF00DCAFEBABEull

struct obj {
    uint64_t magic;
    uint64_t serial; /* which ctor call constructed it */
    unsigned char body[240];
};

static uint64_t ctor_calls;

static void obj_ctor(void *p)
{
    struct obj *o = p;
    o->magic = MAGIC;
    o->serial = ++ctor_calls;
    memset(o->body, 0x3C, sizeof o->body);
}

static int constructed(const struct obj *o)
{
    if (o->magic != MAGIC)
        return 0;
    for (size_t i = 0; i < sizeof o->body; i++)
        if (o->body[i] != 0x3C)
            return 0;
    return 1;
}

static void test_bad_arguments(void)
{
    struct {
        const char *name;
        size_t size, align;
    } bad[] = {
        {NULL, 64, 0}, {"bad_size", 0, 0},   {"bad_align3", 64, 3},
        {"bad_align24", 64, 24}, {"bad_align48", 64, 48}, {"bad_align100", 64, 100},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        struct kmem_cache *c = kmem_cache_create(bad[i].name, bad[i].size, bad[i].align, 0, NULL);
        int e = errno;
        CHECK(c == NULL, "kmem_cache_create(%s, size %zu, align %zu) accepted bad arguments",
              bad[i].name ? bad[i].name : "NULL", bad[i].size, bad[i].align);
        CHECK(c != NULL || e == EINVAL || e == ENOMEM,
              "kmem_cache_create bad arguments #%zu: errno %d is neither EINVAL nor ENOMEM", i, e);
        if (c)
            kmem_cache_destroy(c);
    }
}

static void test_name_and_size(void)
{
    char name[32];
    strcpy(name, "name_copy_test");
    struct kmem_cache *c = kmem_cache_create(name, 100, 0, 0, NULL);
    REQUIRE(c != NULL, "kmem_cache_create(name_copy_test) failed");
    memset(name, 'X', sizeof name - 1);
    const char *got = kmem_cache_name(c);
    CHECK(got && strcmp(got, "name_copy_test") == 0, "kmem_cache_name = \"%s\", name not copied",
          got ? got : "(null)");
    CHECK(kmem_cache_size(c) >= 100, "kmem_cache_size = %zu < 100", kmem_cache_size(c));
    kmem_cache_destroy(c);
}

static void test_ctor(void)
{
    enum { N = 600 };
    struct kmem_cache *c = kmem_cache_create("ctor_objs", sizeof(struct obj), 0, 0, obj_ctor);
    REQUIRE(c != NULL, "kmem_cache_create(ctor_objs) failed");
    static struct obj *o[N];
    static uint64_t serial[N];
    for (int i = 0; i < N; i++) {
        o[i] = kmem_cache_alloc(c, GFP_KERNEL);
        REQUIRE(o[i] != NULL, "kmem_cache_alloc #%d failed", i);
        CHECK(constructed(o[i]), "object #%d handed out without being constructed", i);
        serial[i] = o[i]->serial;
        CHECK(serial[i] >= 1 && serial[i] <= ctor_calls, "object #%d: bad ctor serial %llu", i,
              (unsigned long long)serial[i]);
    }
    CHECK(ctor_calls >= N, "only %llu ctor calls for %d objects", (unsigned long long)ctor_calls,
          N);
    /* Each live object was constructed by its own ctor call. */
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            if (serial[i] == serial[j])
                CHECK(0, "objects #%d and #%d share ctor call %llu (same memory?)", i, j,
                      (unsigned long long)serial[i]);
    /* Later constructions never touched live objects. */
    for (int i = 0; i < N; i++)
        CHECK(constructed(o[i]) && o[i]->serial == serial[i],
              "live object #%d re-constructed or overwritten", i);
    for (int i = 0; i < N; i++)
        kmem_cache_free(c, o[i]); /* returned in constructed state */

    /* Reuse: alternately allocating and freeing one object must not run
     * the ctor each time. */
    uint64_t before = ctor_calls;
    for (int i = 0; i < 100000; i++) {
        struct obj *x = kmem_cache_alloc(c, GFP_KERNEL);
        REQUIRE(x != NULL, "kmem_cache_alloc failed in reuse loop");
        if (!constructed(x)) {
            CHECK(0, "reused object not in constructed state at iteration %d", i);
            break;
        }
        kmem_cache_free(c, x);
    }
    uint64_t during = ctor_calls - before;
    CHECK(during < 10000, "ctor ran %llu times for 100000 alloc/free of one object",
          (unsigned long long)during);
    CHECK(kmem_cache_shrink(c) == 0, "shrink of a cache with no objects did not return 0");
    kmem_cache_destroy(c);
}

static void test_alignment(void)
{
    static const size_t sizes[] = {1, 8, 24, 100, 200, 3000};
    static const size_t aligns[] = {0, 8, 16, 32, 64, 128, 256, 4096};
    enum { N = 300 };
    static unsigned char *o[N];
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        for (size_t ai = 0; ai < sizeof aligns / sizeof aligns[0]; ai++) {
            size_t s = sizes[si], a = aligns[ai];
            char name[64];
            snprintf(name, sizeof name, "align_%zu_%zu", s, a);
            struct kmem_cache *c = kmem_cache_create(name, s, a, 0, NULL);
            REQUIRE(c != NULL, "kmem_cache_create(%s) failed", name);
            size_t want = a ? a : (s >= 16 ? 16 : 8);
            for (int i = 0; i < N; i++) {
                o[i] = kmem_cache_alloc(c, GFP_KERNEL);
                REQUIRE(o[i] != NULL, "%s: alloc #%d failed", name, i);
                CHECK(((uintptr_t)o[i] & (want - 1)) == 0, "%s: object %p not %zu-aligned", name,
                      (void *)o[i], want);
                pattern_fill(o[i], s, (uint64_t)i + si * 1000 + ai * 100000);
            }
            for (int i = 0; i < N; i++) {
                size_t bad = pattern_check(o[i], s, (uint64_t)i + si * 1000 + ai * 100000);
                CHECK(bad == s, "%s: object #%d overwritten at byte %zu", name, i, bad);
            }
            for (int i = 0; i < N; i++)
                kmem_cache_free(c, o[i]);
            kmem_cache_destroy(c);
        }
    }
    /* SLAB_HWCACHE_ALIGN puts objects bigger than half a line on a line. */
    struct kmem_cache *c = kmem_cache_create("hwcache_100", 100, 0, SLAB_HWCACHE_ALIGN, NULL);
    REQUIRE(c != NULL, "kmem_cache_create(hwcache_100) failed");
    for (int i = 0; i < N; i++) {
        o[i] = kmem_cache_alloc(c, GFP_KERNEL);
        REQUIRE(o[i] != NULL, "hwcache alloc failed");
        CHECK(((uintptr_t)o[i] & 63) == 0, "SLAB_HWCACHE_ALIGN object %p not 64-aligned",
              (void *)o[i]);
    }
    for (int i = 0; i < N; i++)
        kmem_cache_free(c, o[i]);
    kmem_cache_destroy(c);
}

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static void test_zalloc(void)
{
    enum { N = 500, SZ = 333 };
    struct kmem_cache *c = kmem_cache_create("zero_objs", SZ, 0, 0, NULL);
    REQUIRE(c != NULL, "kmem_cache_create(zero_objs) failed");
    static unsigned char *o[N];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            o[i] = kmem_cache_alloc(c, GFP_KERNEL);
            REQUIRE(o[i] != NULL, "alloc failed");
            memset(o[i], 0xEE, SZ);
        }
        for (int i = 0; i < N; i++)
            kmem_cache_free(c, o[i]);
        for (int i = 0; i < N; i++) {
            o[i] = (i & 1) ? kmem_cache_zalloc(c, GFP_KERNEL)
                           : kmem_cache_alloc(c, GFP_KERNEL | __GFP_ZERO);
            REQUIRE(o[i] != NULL, "zalloc failed");
            CHECK(all_zero(o[i], SZ), "%s returned a non-zeroed object (round %d, #%d)",
                  (i & 1) ? "kmem_cache_zalloc" : "kmem_cache_alloc(__GFP_ZERO)", round, i);
        }
        for (int i = 0; i < N; i++)
            kmem_cache_free(c, o[i]);
    }
    kmem_cache_destroy(c);
}

static void test_shrink(void)
{
    enum { N = 2000 };
    struct kmem_cache *c = kmem_cache_create("shrink_objs", 128, 0, 0, NULL);
    REQUIRE(c != NULL, "kmem_cache_create(shrink_objs) failed");
    static void *o[N];
    for (int i = 0; i < N; i++) {
        o[i] = kmem_cache_alloc(c, GFP_KERNEL);
        REQUIRE(o[i] != NULL, "alloc failed");
        memset(o[i], i & 0xff, 128);
    }
    for (int i = 1; i < N; i++)
        kmem_cache_free(c, o[i]);
    CHECK(kmem_cache_shrink(c) == 1, "shrink with one live object did not return 1");
    unsigned char *keep = o[0];
    for (int i = 0; i < 128; i++)
        CHECK(keep[i] == 0, "live object changed by shrink");
    kmem_cache_free(c, keep);
    CHECK(kmem_cache_shrink(c) == 0, "shrink of an empty cache did not return 0");
    /* still usable after shrinking */
    for (int i = 0; i < N; i++) {
        o[i] = kmem_cache_alloc(c, GFP_KERNEL);
        REQUIRE(o[i] != NULL, "alloc after shrink failed");
        memset(o[i], 0x77, 128);
    }
    for (int i = 0; i < N; i++)
        kmem_cache_free(c, o[i]);
    kmem_cache_destroy(c);
}

/* Runs fn with file descriptor 2 redirected to a temporary file and
 * returns what was written (malloc'ed, NUL-terminated). */
static char *capture_stderr(void (*fn)(void *), void *arg)
{
    fflush(stderr);
    FILE *tmp = tmpfile();
    REQUIRE(tmp != NULL, "tmpfile failed");
    int saved = dup(2);
    REQUIRE(saved >= 0, "dup failed");
    dup2(fileno(tmp), 2);
    fn(arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    long len = lseek(fileno(tmp), 0, SEEK_END);
    char *buf = calloc(1, (size_t)(len > 0 ? len : 0) + 1);
    REQUIRE(buf != NULL, "calloc failed");
    if (len > 0 && pread(fileno(tmp), buf, (size_t)len, 0) != len)
        buf[0] = 0;
    fclose(tmp);
    return buf;
}

static void destroy_cb(void *c)
{
    kmem_cache_destroy(c);
}

static void test_destroy(void)
{
    /* create/destroy many empty caches */
    for (int i = 0; i < 300; i++) {
        char name[32];
        snprintf(name, sizeof name, "tmp_cache_%d", i);
        struct kmem_cache *c = kmem_cache_create(name, 16 + (size_t)i, 0, 0, NULL);
        REQUIRE(c != NULL, "kmem_cache_create(%s) failed", name);
        void *x = kmem_cache_alloc(c, GFP_KERNEL);
        REQUIRE(x != NULL, "alloc from %s failed", name);
        kmem_cache_free(c, x);
        char *out = capture_stderr(destroy_cb, c);
        CHECK(strstr(out, "Objects remaining") == NULL,
              "destroying empty cache %s reported: %s", name, out);
        free(out);
    }
    /* a cache that still holds an object is reported and left alive */
    struct kmem_cache *c = kmem_cache_create("leaky_cache", 64, 0, 0, NULL);
    REQUIRE(c != NULL, "kmem_cache_create(leaky_cache) failed");
    unsigned char *x = kmem_cache_alloc(c, GFP_KERNEL);
    REQUIRE(x != NULL, "alloc failed");
    memset(x, 0x42, 64);
    char *out = capture_stderr(destroy_cb, c);
    CHECK(strstr(out, "Objects remaining") != NULL,
          "destroying a non-empty cache printed no \"Objects remaining\" report (got \"%s\")",
          out);
    free(out);
    CHECK(x[0] == 0x42 && x[63] == 0x42, "object of a non-empty destroyed cache was changed");
    const char *nm = kmem_cache_name(c);
    CHECK(nm && strcmp(nm, "leaky_cache") == 0, "cache left alive lost its name");
    kmem_cache_free(c, x);
    out = capture_stderr(destroy_cb, c);
    CHECK(strstr(out, "Objects remaining") == NULL, "second destroy reported: %s", out);
    free(out);
}

/* Many caches alive at once, and caches of large objects. */
static void test_many_and_large_caches(void)
{
    enum { NC = 2000 };
    static struct kmem_cache *c[NC];
    static unsigned char *o[NC];
    for (int i = 0; i < NC; i++) {
        char name[32];
        snprintf(name, sizeof name, "many_%d", i);
        size_t sz = 8 + (size_t)(i % 500) * 8;
        c[i] = kmem_cache_create(name, sz, 0, 0, NULL);
        REQUIRE(c[i] != NULL, "kmem_cache_create(%s) failed", name);
        o[i] = kmem_cache_alloc(c[i], GFP_KERNEL);
        REQUIRE(o[i] != NULL, "alloc from %s failed", name);
        pattern_fill(o[i], sz, (uint64_t)i);
    }
    for (int i = NC - 1; i >= 0; i--) {
        size_t sz = 8 + (size_t)(i % 500) * 8;
        CHECK(pattern_check(o[i], sz, (uint64_t)i) == sz, "object of cache many_%d damaged", i);
        char name[32];
        snprintf(name, sizeof name, "many_%d", i);
        CHECK(strcmp(kmem_cache_name(c[i]), name) == 0, "cache many_%d is named %s", i,
              kmem_cache_name(c[i]));
        kmem_cache_free(c[i], o[i]);
        kmem_cache_destroy(c[i]);
    }

    static const size_t big[] = {4096, 10000, 65536, 100000, 262144};
    for (size_t b = 0; b < sizeof big / sizeof big[0]; b++) {
        char name[32];
        snprintf(name, sizeof name, "big_%zu", big[b]);
        struct kmem_cache *bc = kmem_cache_create(name, big[b], 0, 0, NULL);
        REQUIRE(bc != NULL, "kmem_cache_create(%s) failed", name);
        void *x[20];
        for (int i = 0; i < 20; i++) {
            x[i] = kmem_cache_alloc(bc, GFP_KERNEL);
            REQUIRE(x[i] != NULL, "%s: alloc failed", name);
            pattern_fill(x[i], big[b], (uint64_t)i + 1);
        }
        for (int i = 0; i < 20; i++) {
            size_t bad = pattern_check(x[i], big[b], (uint64_t)i + 1);
            CHECK(bad == big[b], "%s: object #%d damaged at %zu", name, i, bad);
            kmem_cache_free(bc, x[i]);
        }
        CHECK(kmem_cache_shrink(bc) == 0, "%s: shrink of empty cache did not return 0", name);
        kmem_cache_destroy(bc);
    }
}

/* Debug flags must not change behaviour for correct use: objects stay
 * usable over their whole size, aligned, constructed at handout (also
 * with poisoning), zeroed by zalloc, and nothing is reported. */
static const slab_flags_t debug_flag_sets[] = {
    SLAB_CONSISTENCY_CHECKS,
    SLAB_RED_ZONE,
    SLAB_POISON,
    SLAB_STORE_USER,
    SLAB_RED_ZONE | SLAB_POISON,
    SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER,
    SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_HWCACHE_ALIGN,
};

static void debug_flags_run(void *arg)
{
    slab_flags_t fl = *(slab_flags_t *)arg;
    enum { N = 400, SZ = 72 };
    static unsigned char *o[N];
    char name[48];
    snprintf(name, sizeof name, "dbg_plain_%#x", fl);
    struct kmem_cache *c = kmem_cache_create(name, SZ, 0, fl, NULL);
    REQUIRE(c != NULL, "kmem_cache_create(%s) failed", name);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            o[i] = kmem_cache_alloc(c, GFP_KERNEL);
            REQUIRE(o[i] != NULL, "%s: alloc failed", name);
            CHECK(((uintptr_t)o[i] & 15) == 0, "%s: object %p not 16-aligned", name,
                  (void *)o[i]);
            pattern_fill(o[i], SZ, (uint64_t)i * 3 + (uint64_t)round);
        }
        for (int i = 0; i < N; i++) {
            size_t bad = pattern_check(o[i], SZ, (uint64_t)i * 3 + (uint64_t)round);
            CHECK(bad == SZ, "%s: object #%d overwritten at byte %zu", name, i, bad);
            kmem_cache_free(c, o[i]);
        }
        for (int i = 0; i < N; i++) {
            o[i] = kmem_cache_zalloc(c, GFP_KERNEL);
            REQUIRE(o[i] != NULL, "%s: zalloc failed", name);
            CHECK(all_zero(o[i], SZ), "%s: zalloc object not zeroed", name);
        }
        for (int i = 0; i < N; i++)
            kmem_cache_free(c, o[i]);
    }
    CHECK(kmem_cache_shrink(c) == 0, "%s: shrink of an empty cache did not return 0", name);
    kmem_cache_destroy(c);

    snprintf(name, sizeof name, "dbg_ctor_%#x", fl);
    c = kmem_cache_create(name, sizeof(struct obj), 0, fl, obj_ctor);
    REQUIRE(c != NULL, "kmem_cache_create(%s) failed", name);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            struct obj *x = kmem_cache_alloc(c, GFP_KERNEL);
            REQUIRE(x != NULL, "%s: alloc failed", name);
            CHECK(constructed(x), "%s: object handed out (round %d) not in constructed state",
                  name, round);
            o[i] = (unsigned char *)x;
        }
        for (int i = 0; i < N; i++)
            kmem_cache_free(c, o[i]);
    }
    kmem_cache_destroy(c);
}

static void test_debug_flags(void)
{
    for (size_t i = 0; i < sizeof debug_flag_sets / sizeof debug_flag_sets[0]; i++) {
        slab_flags_t fl = debug_flag_sets[i];
        char *out = capture_stderr(debug_flags_run, &fl);
        CHECK(out[0] == 0, "correct use of a cache with flags %#x produced a report:\n%s", fl,
              out);
        free(out);
    }
}

/* The named cache shows up in slabdbg_print_stats with its live objects. */
static void test_stats_line(void)
{
    enum { N = 150 };
    struct kmem_cache *c = kmem_cache_create("stats_probe", 200, 0, 0, NULL);
    REQUIRE(c != NULL, "kmem_cache_create(stats_probe) failed");
    void *o[N];
    for (int i = 0; i < N; i++) {
        o[i] = kmem_cache_alloc(c, GFP_KERNEL);
        REQUIRE(o[i] != NULL, "alloc failed");
    }
    FILE *tmp = tmpfile();
    REQUIRE(tmp != NULL, "tmpfile failed");
    slabdbg_print_stats(fileno(tmp));
    rewind(tmp);
    char line[1024];
    int first = 1, found = 0;
    while (fgets(line, sizeof line, tmp)) {
        if (first) {
            CHECK(strncmp(line, "slabdbg ", 8) == 0, "stats first line is \"%s\"", line);
            first = 0;
            continue;
        }
        char name[128];
        long active, num, objsize;
        if (sscanf(line, "%127s %ld %ld %ld", name, &active, &num, &objsize) == 4 &&
            strcmp(name, "stats_probe") == 0) {
            found = 1;
            CHECK(active >= N, "stats_probe active_objs %ld < %d", active, N);
            CHECK(num >= active, "stats_probe num_objs %ld < active_objs %ld", num, active);
            CHECK(objsize >= 200, "stats_probe objsize %ld < 200", objsize);
        }
    }
    CHECK(!first, "slabdbg_print_stats wrote nothing");
    CHECK(found, "no stats_probe line in slabdbg_print_stats output");
    fclose(tmp);
    for (int i = 0; i < N; i++)
        kmem_cache_free(c, o[i]);
    kmem_cache_destroy(c);
}

int main(void)
{
    test_begin("kmem_cache_api");
    test_bad_arguments();
    test_name_and_size();
    test_ctor();
    test_alignment();
    test_zalloc();
    test_shrink();
    test_destroy();
    test_many_and_large_caches();
    test_debug_flags();
    test_stats_line();
    return test_finish();
}

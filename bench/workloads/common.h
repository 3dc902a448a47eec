/*
 * Helpers shared by the benchmark workloads: a small deterministic PRNG,
 * object stamping/verification, option parsing and timing.
 *
 * Every workload is a plain C program linked only against libc and pthread;
 * the allocator under test is chosen with LD_PRELOAD by bench/run.py.
 *
 * Output convention: each workload prints exactly one line on stdout
 *
 *     <name>: check=<16 hex digits> <free-form, possibly timing-dependent info>
 *
 * The check value depends only on the parameters, never on the allocator or
 * on thread scheduling, so the runner compares it across allocators.  On any
 * detected corruption a workload prints a diagnostic on stderr and exits with
 * status 3 (status 2 is a usage error, 1 an out-of-memory or system error).
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXIT_USAGE 2
#define EXIT_CORRUPT 3

static const char *bench_name __attribute__((unused)) = "bench";

__attribute__((format(printf, 1, 2), noreturn, unused)) static void corrupt(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: verification failed: ", bench_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    exit(EXIT_CORRUPT);
}

__attribute__((format(printf, 1, 2), noreturn, unused)) static void fatal(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", bench_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    exit(1);
}

__attribute__((format(printf, 1, 2), noreturn, unused)) static void usage_error(const char *fmt,
                                                                                ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", bench_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(EXIT_USAGE);
}

/* ---- PRNG: splitmix64 (deterministic, one state word per stream) ---- */

struct rng {
    uint64_t s;
};

static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
    r->s = mix64(seed * 0x9e3779b97f4a7c15ULL + stream * 0xd1b54a32d192ed03ULL + 1);
}

static inline uint64_t rng_next(struct rng *r)
{
    r->s += 0x9e3779b97f4a7c15ULL;
    return mix64(r->s);
}

/* Uniform in [0, n), n > 0 (multiply-shift; the tiny bias is irrelevant). */
static inline uint64_t rng_below(struct rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

/* Uniform in [lo, hi], lo <= hi. */
static inline uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
    return lo + rng_below(r, hi - lo + 1);
}

/* ---- object stamping ----
 * stamp() writes the tag into the first bytes of an object and a word derived
 * from (tag, size) into its last 8 bytes; verify() checks both.  Objects that
 * overlap, or memory handed out twice, are caught when the object is freed. */

static inline void stamp(void *p, size_t n, uint64_t tag)
{
    unsigned char *c = p;
    if (n >= 8)
        memcpy(c, &tag, 8);
    else
        memcpy(c, &tag, n);
    if (n >= 16) {
        uint64_t t = mix64(tag ^ (uint64_t)n);
        memcpy(c + n - 8, &t, 8);
    }
}

static inline int stamp_ok(const void *p, size_t n, uint64_t tag)
{
    const unsigned char *c = p;
    if (n >= 8) {
        uint64_t h;
        memcpy(&h, c, 8);
        if (h != tag)
            return 0;
    } else if (memcmp(c, &tag, n) != 0) {
        return 0;
    }
    if (n >= 16) {
        uint64_t t = mix64(tag ^ (uint64_t)n), h;
        memcpy(&h, c + n - 8, 8);
        if (h != t)
            return 0;
    }
    return 1;
}

static inline void verify(const void *p, size_t n, uint64_t tag, const char *what)
{
    if (!stamp_ok(p, n, tag))
        corrupt("%s: object %p of %zu bytes lost its contents (tag %016" PRIx64 ")", what, p, n,
                tag);
}

/* Self-describing objects (for objects freed by a thread that did not
 * allocate them): a 16-byte header {tag, size} and a tail word. */
struct self_hdr {
    uint64_t tag;
    uint64_t size;
};

#define SELF_MIN 24 /* header + tail word */

static inline void self_stamp(void *p, size_t n, uint64_t tag)
{
    struct self_hdr h = {tag, (uint64_t)n};
    uint64_t t = mix64(tag ^ (uint64_t)n ^ 0x5bd1e995ULL);
    memcpy(p, &h, sizeof h);
    memcpy((char *)p + n - 8, &t, 8);
}

/* Returns the tag of a self-stamped object, or fails. */
static inline uint64_t self_check(const void *p, size_t max_size, const char *what)
{
    struct self_hdr h;
    uint64_t t;
    memcpy(&h, p, sizeof h);
    if (h.size < SELF_MIN || h.size > max_size)
        corrupt("%s: object %p has a bad size field %" PRIu64, what, p, h.size);
    memcpy(&t, (const char *)p + h.size - 8, 8);
    if (t != mix64(h.tag ^ h.size ^ 0x5bd1e995ULL))
        corrupt("%s: object %p of %" PRIu64 " bytes lost its contents", what, p, h.size);
    return h.tag;
}

static inline void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        fatal("malloc(%zu) failed", n);
    return p;
}

static inline void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n, sz);
    if (!p)
        fatal("calloc(%zu, %zu) failed", n, sz);
    return p;
}

static inline void *xrealloc(void *old, size_t n)
{
    void *p = realloc(old, n);
    if (!p)
        fatal("realloc(%zu) failed", n);
    return p;
}

/* ---- option parsing ---- */

static inline uint64_t parse_u64(const char *s, const char *opt, uint64_t min, uint64_t max)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
        usage_error("option %s: expected an integer in [%" PRIu64 ", %" PRIu64 "], got '%s'", opt,
                    min, max, s);
    return (uint64_t)v;
}

static inline double parse_scale(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0.0) || v > 1000.0)
        usage_error("option -s: expected a scale factor in (0, 1000], got '%s'", s);
    return v;
}

/* n * scale, at least 1 */
static inline uint64_t scaled(uint64_t n, double scale)
{
    double v = (double)n * scale;
    return v < 1.0 ? 1 : (uint64_t)(v + 0.5);
}

static inline double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#define CACHE_LINE 64

#endif

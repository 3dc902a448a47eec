/*
 * uaf-trials: repeated single use-after-free writes, to measure how often
 * slabdbg's sampling catches one (bench/uaf_probability.py).
 *
 * NOT a timing workload, and not for run.py: it writes into freed memory on
 * purpose, which corrupts the heap of an allocator without guard pages (the
 * byte written is at offset 8 or more, clear of slabdbg's free pointer at
 * offset 0, so slabdbg without a guard page only overwrites a byte of a free
 * or reused object).  Run it only under slabdbg.
 *
 * The program first makes `-N` ordinary allocations (kept in a ring of live
 * objects, each replacing a random older one), then runs `-t` trials.  Each
 * trial:
 *
 *   1. allocates an object of a random size in 16..4096 (log-uniform: each
 *      doubling 16-32, 32-64, ... 2048-4096 equally likely),
 *   2. fills it, frees it,
 *   3. optionally makes `-d` ordinary allocations (the delay between the
 *      free and the stray write),
 *   4. writes one byte at a random offset in [8, size) of the freed object,
 *   5. makes `-n` ordinary allocations (traffic between trials).
 *
 * A sampled object is in a guarded slot; its pages are inaccessible once it
 * is freed, so the write of step 4 faults and is reported as
 * use_after_free_write (SLABDBG_OPTIONS=guard_continue=1 lets the process go
 * on).  The stray write is a plain store through a volatile pointer: the
 * object is never read after the free, so no report is a read.
 *
 * Output: "uaf-trials: check=<hex> trials=T writes=W allocations=A" where A
 * counts every malloc the program made (ordinary and trial objects).
 */
#include "common.h"

#include <unistd.h>

static struct {
    uint64_t trials, noise, pre, delay, ring, seed;
} cfg = {1000000, 4, 0, 0, 256, 7};

/* Hides the pointer's origin from the compiler, so the store after free()
 * is neither diagnosed nor optimised away. */
static void *volatile laundry;

static size_t trial_size(struct rng *r)
{
    unsigned k = 4 + (unsigned)rng_below(r, 8); /* 16 << 0 .. 16 << 7 = 2048 */
    size_t lo = (size_t)1 << k;
    size_t n = lo + rng_below(r, lo + 1); /* [lo, 2 lo] */
    return n > 4096 ? 4096 : n;
}

struct ring {
    void **slot;
    size_t n;
    uint64_t allocs;
    uint64_t sum;
};

static void ordinary(struct ring *g, struct rng *r)
{
    size_t i = (size_t)rng_below(r, g->n);
    free(g->slot[i]);
    size_t n = (size_t)rng_range(r, 8, 512);
    if (rng_below(r, 16) == 0)
        n = (size_t)rng_range(r, 513, 4096);
    unsigned char *p = xmalloc(n);
    p[0] = (unsigned char)n;
    p[n - 1] = (unsigned char)(n >> 3);
    g->sum += p[0];
    g->slot[i] = p;
    g->allocs++;
}

int main(int argc, char **argv)
{
    bench_name = "uaf-trials";
    double scale = 1.0;
    int opt;
    while ((opt = getopt(argc, argv, "t:n:N:d:R:S:s:h")) != -1) {
        switch (opt) {
        case 't':
            cfg.trials = parse_u64(optarg, "-t", 0, UINT64_MAX);
            break;
        case 'n':
            cfg.noise = parse_u64(optarg, "-n", 0, 1000000);
            break;
        case 'N':
            cfg.pre = parse_u64(optarg, "-N", 0, UINT64_MAX);
            break;
        case 'd':
            cfg.delay = parse_u64(optarg, "-d", 0, UINT64_MAX);
            break;
        case 'R':
            cfg.ring = parse_u64(optarg, "-R", 1, 1u << 24);
            break;
        case 'S':
            cfg.seed = parse_u64(optarg, "-S", 0, UINT64_MAX);
            break;
        case 's':
            scale = parse_scale(optarg);
            break;
        default:
            fprintf(stderr,
                    "usage: %s [-t trials] [-n ordinary allocations per trial] [-N ordinary "
                    "allocations before the first trial] [-d ordinary allocations between free "
                    "and stray write] [-R live ring size] [-S seed] [-s scale]\n"
                    "Writes into freed memory on purpose: run it only under slabdbg.\n",
                    argv[0]);
            return opt == 'h' ? 0 : EXIT_USAGE;
        }
    }
    if (cfg.trials)
        cfg.trials = scaled(cfg.trials, scale);

    struct rng rng;
    rng_seed(&rng, cfg.seed, 0);
    struct ring g = {xcalloc(cfg.ring, sizeof(void *)), cfg.ring, 0, 0};
    for (size_t i = 0; i < g.n; i++) {
        g.slot[i] = xmalloc(16);
        g.allocs++;
    }
    for (uint64_t i = 0; i < cfg.pre; i++)
        ordinary(&g, &rng);

    uint64_t writes = 0, check = 0;
    for (uint64_t t = 0; t < cfg.trials; t++) {
        size_t n = trial_size(&rng);
        unsigned char *p = xmalloc(n);
        g.allocs++;
        memset(p, 0x11, n);
        check += p[n - 1] + n;
        laundry = p;
        free(p);
        for (uint64_t i = 0; i < cfg.delay; i++)
            ordinary(&g, &rng);
        volatile unsigned char *q = laundry;
        size_t off = 8 + (size_t)rng_below(&rng, n - 8);
        q[off] = 0x5a; /* the use-after-free: one stray byte */
        writes++;
        for (uint64_t i = 0; i < cfg.noise; i++)
            ordinary(&g, &rng);
    }
    for (size_t i = 0; i < g.n; i++)
        free(g.slot[i]);
    free(g.slot);
    check = mix64(check ^ g.sum ^ (writes << 1));
    printf("uaf-trials: check=%016" PRIx64 " trials=%" PRIu64 " writes=%" PRIu64
           " allocations=%" PRIu64 "\n",
           check, cfg.trials, writes, g.allocs);
    return 0;
}

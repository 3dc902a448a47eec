/*
 * mstress: multi-threaded stress with a mix of object lifetimes and sizes.
 *
 * Over several rounds, T threads are created and run to completion.  Each
 * thread index owns a persistent array of long-lived objects that survives
 * its threads (the next round's thread continues with it).  In each step a
 * thread either
 *   - allocates a short-lived object that is freed a few steps later (a small
 *     ring buffer), or
 *   - replaces a random long-lived object, or
 *   - swaps one of its long-lived objects with a slot of a global exchange
 *     array (atomic exchange), so objects migrate to other threads and are
 *     freed there.
 * Sizes are mostly small with a tail of medium and large objects.
 *
 * Objects are self-describing (header with tag and size, tail word) so any
 * thread can verify an object before freeing it.  Every allocated tag is
 * summed at allocation and again at free; the two sums must match at the end.
 */
#include "common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define RING 32
#define MAX_OBJ (1u << 20)

static struct {
    unsigned threads, rounds;
    uint64_t steps, live, xchg, seed;
} cfg = {4, 10, 300000, 2000, 512, 7};

static _Atomic(void *) *exchange;

struct worker {
    void **live; /* persistent across rounds */
    struct rng rng;
    uint64_t alloc_sum, free_sum, allocs, frees;
} __attribute__((aligned(CACHE_LINE)));

static size_t pick_size(struct rng *r)
{
    uint64_t p = rng_below(r, 1000);
    if (p < 800)
        return (size_t)rng_range(r, SELF_MIN, 128);
    if (p < 960)
        return (size_t)rng_range(r, 129, 2048);
    if (p < 996)
        return (size_t)rng_range(r, 2049, 32768);
    return (size_t)rng_range(r, 32769, 256 * 1024);
}

static void *new_obj(struct worker *w)
{
    size_t n = pick_size(&w->rng);
    uint64_t tag = rng_next(&w->rng);
    void *p = malloc(n);
    if (!p)
        fatal("malloc(%zu) failed", n);
    self_stamp(p, n, tag);
    /* Touch a little more than the stamps: a short prefix after the header. */
    if (n > 64)
        memset((char *)p + 16, (int)(tag & 0xff), 32);
    w->alloc_sum += mix64(tag);
    w->allocs++;
    return p;
}

static void drop_obj(struct worker *w, void *p)
{
    if (!p)
        return;
    uint64_t tag = self_check(p, MAX_OBJ, "mstress");
    w->free_sum += mix64(tag);
    w->frees++;
    free(p);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    void *ring[RING] = {0};
    unsigned rpos = 0;
    for (uint64_t s = 0; s < cfg.steps; s++) {
        uint64_t p = rng_below(&w->rng, 100);
        if (p < 80) {
            /* short-lived */
            drop_obj(w, ring[rpos]);
            ring[rpos] = new_obj(w);
            rpos = (rpos + 1) % RING;
        } else if (p < 97) {
            /* replace a long-lived object */
            uint64_t k = rng_below(&w->rng, cfg.live);
            drop_obj(w, w->live[k]);
            w->live[k] = new_obj(w);
        } else {
            /* migrate: swap with the global exchange array */
            uint64_t k = rng_below(&w->rng, cfg.live);
            uint64_t g = rng_below(&w->rng, cfg.xchg);
            /* May bring back NULL; no allocation depends on that, so the
             * sequence of allocations stays independent of scheduling. */
            w->live[k] = atomic_exchange(&exchange[g], w->live[k]);
        }
    }
    for (unsigned i = 0; i < RING; i++)
        drop_obj(w, ring[i]);
    return NULL;
}

int main(int argc, char **argv)
{
    bench_name = "mstress";
    double scale = 1.0;
    int opt;
    while ((opt = getopt(argc, argv, "t:r:n:l:x:S:s:h")) != -1) {
        switch (opt) {
        case 't':
            cfg.threads = (unsigned)parse_u64(optarg, "-t", 1, 1024);
            break;
        case 'r':
            cfg.rounds = (unsigned)parse_u64(optarg, "-r", 1, 1000000);
            break;
        case 'n':
            cfg.steps = parse_u64(optarg, "-n", 1, UINT64_MAX);
            break;
        case 'l':
            cfg.live = parse_u64(optarg, "-l", 1, 1u << 24);
            break;
        case 'x':
            cfg.xchg = parse_u64(optarg, "-x", 1, 1u << 24);
            break;
        case 'S':
            cfg.seed = parse_u64(optarg, "-S", 0, UINT64_MAX);
            break;
        case 's':
            scale = parse_scale(optarg);
            break;
        default:
            fprintf(stderr,
                    "usage: %s [-t threads] [-r rounds] [-n steps/thread/round] [-l live objects]\n"
                    "          [-x exchange slots] [-S seed] [-s scale]\n",
                    argv[0]);
            return opt == 'h' ? 0 : EXIT_USAGE;
        }
    }
    cfg.steps = scaled(cfg.steps, scale);

    exchange = xcalloc(cfg.xchg, sizeof *exchange);
    struct worker *ws = aligned_alloc(CACHE_LINE, sizeof(struct worker) * cfg.threads);
    if (!ws)
        fatal("out of memory");
    for (unsigned i = 0; i < cfg.threads; i++) {
        memset(&ws[i], 0, sizeof ws[i]);
        rng_seed(&ws[i].rng, cfg.seed, i);
        ws[i].live = xcalloc(cfg.live, sizeof(void *));
    }
    pthread_t *th = xmalloc(sizeof(pthread_t) * cfg.threads);
    double t0 = now_sec();
    for (unsigned r = 0; r < cfg.rounds; r++) {
        for (unsigned i = 0; i < cfg.threads; i++) {
            int e = pthread_create(&th[i], NULL, worker_main, &ws[i]);
            if (e)
                fatal("pthread_create: %s", strerror(e));
        }
        for (unsigned i = 0; i < cfg.threads; i++) {
            int e = pthread_join(th[i], NULL);
            if (e)
                fatal("pthread_join: %s", strerror(e));
        }
    }
    /* The main thread frees everything that is left, whoever allocated it. */
    struct worker *w0 = &ws[0];
    for (unsigned i = 0; i < cfg.threads; i++) {
        for (uint64_t k = 0; k < cfg.live; k++)
            drop_obj(w0, ws[i].live[k]);
        free(ws[i].live);
    }
    for (uint64_t g = 0; g < cfg.xchg; g++)
        drop_obj(w0, atomic_load(&exchange[g]));
    double dt = now_sec() - t0;

    uint64_t asum = 0, fsum = 0, allocs = 0, frees = 0;
    for (unsigned i = 0; i < cfg.threads; i++) {
        asum += ws[i].alloc_sum;
        fsum += ws[i].free_sum;
        allocs += ws[i].allocs;
        frees += ws[i].frees;
    }
    if (asum != fsum || allocs != frees)
        corrupt("allocated %" PRIu64 " objects (sum %016" PRIx64 ") but freed %" PRIu64
                " (sum %016" PRIx64 ")",
                allocs, asum, frees, fsum);
    free(th);
    free(ws);
    free(exchange);
    printf("mstress: check=%016" PRIx64 " threads=%u rounds=%u allocs=%" PRIu64 " time=%.3fs\n",
           mix64(asum ^ allocs), cfg.threads, cfg.rounds, allocs, dt);
    return 0;
}

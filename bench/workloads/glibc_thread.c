/*
 * glibc-thread: multi-threaded random malloc/free over a working set, in the
 * spirit of glibc's bench-malloc-thread.
 *
 * Each of T threads owns a working set of slots; every step picks a random
 * slot, verifies and frees what is there and allocates a new block of random
 * size into it.  Sizes are skewed towards small blocks (half up to 64 bytes)
 * with a tail up to 32 KiB.  Threads share nothing, so this measures how
 * well the allocator scales when threads allocate independently.
 */
#include "common.h"

#include <pthread.h>
#include <unistd.h>

static struct {
    unsigned threads;
    uint64_t steps, wset, seed;
} cfg = {2, 6000000, 1024, 5};

struct worker {
    struct rng rng;
    uint64_t check;
} __attribute__((aligned(CACHE_LINE)));

static uint32_t pick_size(struct rng *r)
{
    uint64_t p = rng_below(r, 100);
    uint64_t max = p < 50 ? 64 : p < 80 ? 512 : p < 95 ? 4096 : 32768;
    return (uint32_t)rng_range(r, 1, max);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    void **ptr = xcalloc(cfg.wset, sizeof(void *));
    uint32_t *size = xcalloc(cfg.wset, sizeof(uint32_t));
    uint64_t *tag = xcalloc(cfg.wset, sizeof(uint64_t));
    uint64_t check = 0;
    for (uint64_t s = 0; s < cfg.steps; s++) {
        uint64_t k = rng_below(&w->rng, cfg.wset);
        if (ptr[k]) {
            verify(ptr[k], size[k], tag[k], "glibc-thread");
            free(ptr[k]);
        }
        size[k] = pick_size(&w->rng);
        tag[k] = rng_next(&w->rng);
        ptr[k] = malloc(size[k]);
        if (!ptr[k])
            fatal("malloc(%u) failed", size[k]);
        stamp(ptr[k], size[k], tag[k]);
        check = check * 31 + (tag[k] ^ size[k]);
    }
    for (uint64_t k = 0; k < cfg.wset; k++)
        if (ptr[k]) {
            verify(ptr[k], size[k], tag[k], "glibc-thread final");
            free(ptr[k]);
        }
    free(ptr);
    free(size);
    free(tag);
    w->check = check;
    return NULL;
}

int main(int argc, char **argv)
{
    bench_name = "glibc-thread";
    double scale = 1.0;
    int opt;
    while ((opt = getopt(argc, argv, "t:n:w:S:s:h")) != -1) {
        switch (opt) {
        case 't':
            cfg.threads = (unsigned)parse_u64(optarg, "-t", 1, 1024);
            break;
        case 'n':
            cfg.steps = parse_u64(optarg, "-n", 1, UINT64_MAX);
            break;
        case 'w':
            cfg.wset = parse_u64(optarg, "-w", 1, 1u << 24);
            break;
        case 'S':
            cfg.seed = parse_u64(optarg, "-S", 0, UINT64_MAX);
            break;
        case 's':
            scale = parse_scale(optarg);
            break;
        default:
            fprintf(stderr,
                    "usage: %s [-t threads] [-n steps/thread] [-w working set] [-S seed]"
                    " [-s scale]\n",
                    argv[0]);
            return opt == 'h' ? 0 : EXIT_USAGE;
        }
    }
    cfg.steps = scaled(cfg.steps, scale);

    struct worker *ws = aligned_alloc(CACHE_LINE, sizeof(struct worker) * cfg.threads);
    pthread_t *th = xmalloc(sizeof(pthread_t) * cfg.threads);
    if (!ws)
        fatal("out of memory");
    double t0 = now_sec();
    for (unsigned i = 0; i < cfg.threads; i++) {
        memset(&ws[i], 0, sizeof ws[i]);
        rng_seed(&ws[i].rng, cfg.seed, i);
        int e = pthread_create(&th[i], NULL, worker_main, &ws[i]);
        if (e)
            fatal("pthread_create: %s", strerror(e));
    }
    uint64_t check = 0;
    for (unsigned i = 0; i < cfg.threads; i++) {
        int e = pthread_join(th[i], NULL);
        if (e)
            fatal("pthread_join: %s", strerror(e));
        check = mix64(check ^ ws[i].check);
    }
    double dt = now_sec() - t0;
    free(th);
    free(ws);
    uint64_t total = cfg.steps * cfg.threads;
    printf("glibc-thread: check=%016" PRIx64 " threads=%u steps=%" PRIu64
           " time=%.3fs rate=%.0f pairs/s\n",
           check, cfg.threads, total, dt, (double)total / dt);
    return 0;
}

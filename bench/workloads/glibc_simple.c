/*
 * glibc-simple: single-threaded malloc/free of small blocks, in the spirit of
 * glibc's bench-malloc-simple.
 *
 * Each round allocates a batch of blocks (16 to 1024 of them) of random size
 * up to 32, 128 or 512 bytes, stamps them, then verifies and frees them in
 * FIFO, LIFO or random order.  This measures the raw fast paths of malloc and
 * free without any threads.
 */
#include "common.h"

#include <unistd.h>

static struct {
    uint64_t rounds, seed;
} cfg = {90000, 11};

int main(int argc, char **argv)
{
    bench_name = "glibc-simple";
    double scale = 1.0;
    int opt;
    while ((opt = getopt(argc, argv, "r:S:s:h")) != -1) {
        switch (opt) {
        case 'r':
            cfg.rounds = parse_u64(optarg, "-r", 1, UINT64_MAX);
            break;
        case 'S':
            cfg.seed = parse_u64(optarg, "-S", 0, UINT64_MAX);
            break;
        case 's':
            scale = parse_scale(optarg);
            break;
        default:
            fprintf(stderr, "usage: %s [-r rounds] [-S seed] [-s scale]\n", argv[0]);
            return opt == 'h' ? 0 : EXIT_USAGE;
        }
    }
    cfg.rounds = scaled(cfg.rounds, scale);

    static const unsigned counts[] = {16, 64, 256, 1024};
    static const unsigned maxsz[] = {32, 128, 512};
    enum { MAXN = 1024 };
    void *ptr[MAXN];
    uint32_t size[MAXN], order[MAXN];
    uint64_t tag[MAXN];
    struct rng rng;
    rng_seed(&rng, cfg.seed, 0);
    uint64_t check = 0, total = 0;
    double t0 = now_sec();
    for (uint64_t r = 0; r < cfg.rounds; r++) {
        unsigned n = counts[rng_below(&rng, 4)];
        /* fewer big batches, so each batch shape gets similar time */
        if (n == 1024 && rng_below(&rng, 4))
            n = 16;
        unsigned m = maxsz[rng_below(&rng, 3)];
        for (unsigned i = 0; i < n; i++) {
            size[i] = (uint32_t)rng_range(&rng, 1, m);
            tag[i] = rng_next(&rng);
            ptr[i] = malloc(size[i]);
            if (!ptr[i])
                fatal("malloc(%u) failed", size[i]);
            stamp(ptr[i], size[i], tag[i]);
            check += tag[i] ^ size[i];
        }
        total += n;
        unsigned mode = (unsigned)rng_below(&rng, 3);
        for (unsigned i = 0; i < n; i++)
            order[i] = mode == 1 ? n - 1 - i : i;
        if (mode == 2)
            for (unsigned i = n - 1; i > 0; i--) {
                unsigned j = (unsigned)rng_below(&rng, i + 1);
                uint32_t t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        for (unsigned i = 0; i < n; i++) {
            unsigned k = order[i];
            verify(ptr[k], size[k], tag[k], "glibc-simple");
            free(ptr[k]);
        }
    }
    double dt = now_sec() - t0;
    printf("glibc-simple: check=%016" PRIx64 " blocks=%" PRIu64 " time=%.3fs rate=%.0f pairs/s\n",
           mix64(check), total, dt, (double)total / dt);
    return 0;
}

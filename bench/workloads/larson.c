/*
 * larson: server-style churn in the manner of Larson & Krishnan's benchmark.
 *
 * T "chains" each own an array of slots filled with objects of random size.
 * A chain is run by a sequence of threads: the thread of round r repeatedly
 * frees a random slot and allocates a new object of random size into it;
 * when its round is over it starts the thread of round r+1, which inherits
 * the array (and joins its predecessor).  Most frees therefore release memory
 * allocated by a thread that no longer exists, as in a server whose worker
 * threads come and go.
 *
 * Every object is stamped when allocated and verified before it is freed.
 */
#include "common.h"

#include <pthread.h>
#include <semaphore.h>
#include <unistd.h>

struct chain {
    void **slot;
    uint32_t *size;
    uint64_t *tag;
    struct rng rng;
    uint64_t check;
    unsigned round;
    int has_prev;
    pthread_t prev;
    pthread_t last;
} __attribute__((aligned(CACHE_LINE)));

static struct {
    unsigned threads, rounds;
    uint64_t slots, ops, min_size, max_size, seed;
} cfg = {4, 30, 5000, 150000, 10, 1000, 42};

static sem_t chains_done;

static void *chain_thread(void *arg)
{
    struct chain *c = arg;
    if (c->has_prev) {
        int e = pthread_join(c->prev, NULL);
        if (e)
            fatal("pthread_join: %s", strerror(e));
    }
    void **slot = c->slot;
    uint32_t *size = c->size;
    uint64_t *tag = c->tag;
    uint64_t check = c->check;
    for (uint64_t i = 0; i < cfg.ops; i++) {
        uint64_t k = rng_below(&c->rng, cfg.slots);
        verify(slot[k], size[k], tag[k], "larson");
        free(slot[k]);
        uint32_t n = (uint32_t)rng_range(&c->rng, cfg.min_size, cfg.max_size);
        uint64_t t = rng_next(&c->rng);
        void *p = malloc(n);
        if (!p)
            fatal("malloc(%u) failed", n);
        stamp(p, n, t);
        slot[k] = p;
        size[k] = n;
        tag[k] = t;
        check = check * 31 + (t ^ n);
    }
    c->check = check;
    c->round++;
    if (c->round < cfg.rounds) {
        pthread_t next;
        c->prev = pthread_self();
        c->has_prev = 1;
        int e = pthread_create(&next, NULL, chain_thread, c);
        if (e)
            fatal("pthread_create: %s", strerror(e));
    } else {
        c->last = pthread_self();
        sem_post(&chains_done);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    bench_name = "larson";
    double scale = 1.0;
    int opt;
    while ((opt = getopt(argc, argv, "t:r:n:o:m:M:S:s:h")) != -1) {
        switch (opt) {
        case 't':
            cfg.threads = (unsigned)parse_u64(optarg, "-t", 1, 1024);
            break;
        case 'r':
            cfg.rounds = (unsigned)parse_u64(optarg, "-r", 1, 1000000);
            break;
        case 'n':
            cfg.slots = parse_u64(optarg, "-n", 1, 1u << 24);
            break;
        case 'o':
            cfg.ops = parse_u64(optarg, "-o", 1, UINT64_MAX);
            break;
        case 'm':
            cfg.min_size = parse_u64(optarg, "-m", 1, 1u << 30);
            break;
        case 'M':
            cfg.max_size = parse_u64(optarg, "-M", 1, 1u << 30);
            break;
        case 'S':
            cfg.seed = parse_u64(optarg, "-S", 0, UINT64_MAX);
            break;
        case 's':
            scale = parse_scale(optarg);
            break;
        default:
            fprintf(stderr,
                    "usage: %s [-t threads] [-r rounds] [-n slots/thread] [-o ops/round]\n"
                    "          [-m min size] [-M max size] [-S seed] [-s scale]\n",
                    argv[0]);
            return opt == 'h' ? 0 : EXIT_USAGE;
        }
    }
    if (cfg.min_size > cfg.max_size)
        usage_error("min size > max size");
    cfg.ops = scaled(cfg.ops, scale);

    if (sem_init(&chains_done, 0, 0))
        fatal("sem_init failed");
    struct chain *chains = aligned_alloc(CACHE_LINE, sizeof(struct chain) * cfg.threads);
    if (!chains)
        fatal("out of memory");
    double t0 = now_sec();
    for (unsigned i = 0; i < cfg.threads; i++) {
        struct chain *c = &chains[i];
        memset(c, 0, sizeof *c);
        rng_seed(&c->rng, cfg.seed, i);
        c->slot = xmalloc(sizeof(void *) * cfg.slots);
        c->size = xmalloc(sizeof(uint32_t) * cfg.slots);
        c->tag = xmalloc(sizeof(uint64_t) * cfg.slots);
        for (uint64_t k = 0; k < cfg.slots; k++) {
            uint32_t n = (uint32_t)rng_range(&c->rng, cfg.min_size, cfg.max_size);
            uint64_t t = rng_next(&c->rng);
            c->slot[k] = xmalloc(n);
            stamp(c->slot[k], n, t);
            c->size[k] = n;
            c->tag[k] = t;
        }
    }
    for (unsigned i = 0; i < cfg.threads; i++) {
        pthread_t th;
        int e = pthread_create(&th, NULL, chain_thread, &chains[i]);
        if (e)
            fatal("pthread_create: %s", strerror(e));
    }
    for (unsigned i = 0; i < cfg.threads; i++)
        while (sem_wait(&chains_done) != 0)
            ;
    uint64_t check = 0;
    for (unsigned i = 0; i < cfg.threads; i++) {
        struct chain *c = &chains[i];
        int e = pthread_join(c->last, NULL);
        if (e)
            fatal("pthread_join: %s", strerror(e));
        for (uint64_t k = 0; k < cfg.slots; k++) {
            verify(c->slot[k], c->size[k], c->tag[k], "larson final");
            free(c->slot[k]);
        }
        free(c->slot);
        free(c->size);
        free(c->tag);
        check = mix64(check ^ c->check);
    }
    double dt = now_sec() - t0;
    free(chains);
    uint64_t total = (uint64_t)cfg.threads * cfg.rounds * cfg.ops;
    printf("larson: check=%016" PRIx64 " threads=%u rounds=%u ops=%" PRIu64
           " time=%.3fs throughput=%.0f ops/s\n",
           check, cfg.threads, cfg.rounds, total, dt, (double)total / dt);
    return 0;
}

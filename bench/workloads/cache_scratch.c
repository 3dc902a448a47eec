/*
 * cache-scratch: passive false sharing, after the Hoard benchmark of that name.
 *
 * The main thread allocates T small objects one after the other (so they are
 * likely to share cache lines) and hands one to each of T threads.  Each
 * thread frees the object it was given, then repeatedly allocates a small
 * object, writes to every byte of it many times, checks it and frees it.  An
 * allocator that satisfies the thread's requests with the memory it just got
 * back (memory that shares a line with another thread's object) makes the
 * threads fight over cache lines.
 */
#include "common.h"

#include <pthread.h>
#include <unistd.h>

static struct {
    unsigned threads;
    uint64_t iters, writes, size;
} cfg = {2, 4000, 10000, 8};

struct worker {
    unsigned char *given;
    uint64_t check;
} __attribute__((aligned(CACHE_LINE)));

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    uint64_t check = 0;
    for (uint64_t j = 0; j < cfg.size; j++)
        if (w->given[j] != (unsigned char)(0xa5 ^ j))
            corrupt("handed-over object %p was modified", (void *)w->given);
    free(w->given);
    for (uint64_t i = 0; i < cfg.iters; i++) {
        unsigned char *p = malloc(cfg.size);
        if (!p)
            fatal("malloc(%" PRIu64 ") failed", cfg.size);
        volatile unsigned char *v = p;
        for (uint64_t j = 0; j < cfg.size; j++)
            v[j] = (unsigned char)(i + j);
        for (uint64_t k = 0; k < cfg.writes; k++)
            for (uint64_t j = 0; j < cfg.size; j++)
                v[j]++;
        for (uint64_t j = 0; j < cfg.size; j++) {
            unsigned char want = (unsigned char)(i + j + cfg.writes);
            if (v[j] != want)
                corrupt("object %p byte %" PRIu64 " is %u, expected %u", (void *)p, j, v[j], want);
            check += v[j];
        }
        free(p);
    }
    w->check = check;
    return NULL;
}

int main(int argc, char **argv)
{
    bench_name = "cache-scratch";
    double scale = 1.0;
    int opt;
    while ((opt = getopt(argc, argv, "t:i:w:z:s:h")) != -1) {
        switch (opt) {
        case 't':
            cfg.threads = (unsigned)parse_u64(optarg, "-t", 1, 1024);
            break;
        case 'i':
            cfg.iters = parse_u64(optarg, "-i", 1, UINT64_MAX);
            break;
        case 'w':
            cfg.writes = parse_u64(optarg, "-w", 1, UINT64_MAX);
            break;
        case 'z':
            cfg.size = parse_u64(optarg, "-z", 1, 1u << 20);
            break;
        case 's':
            scale = parse_scale(optarg);
            break;
        default:
            fprintf(stderr,
                    "usage: %s [-t threads] [-i iterations] [-w writes/object] [-z object size]\n"
                    "          [-s scale]\n",
                    argv[0]);
            return opt == 'h' ? 0 : EXIT_USAGE;
        }
    }
    cfg.iters = scaled(cfg.iters, scale);

    struct worker *ws = aligned_alloc(CACHE_LINE, sizeof(struct worker) * cfg.threads);
    pthread_t *th = xmalloc(sizeof(pthread_t) * cfg.threads);
    if (!ws)
        fatal("out of memory");
    /* Allocated back to back by one thread: neighbours in memory. */
    for (unsigned i = 0; i < cfg.threads; i++) {
        ws[i].given = xmalloc(cfg.size);
        for (uint64_t j = 0; j < cfg.size; j++)
            ws[i].given[j] = (unsigned char)(0xa5 ^ j);
    }
    double t0 = now_sec();
    for (unsigned i = 0; i < cfg.threads; i++) {
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
    printf("cache-scratch: check=%016" PRIx64 " threads=%u iters=%" PRIu64 " writes=%" PRIu64
           " time=%.3fs\n",
           check, cfg.threads, cfg.iters, cfg.writes, dt);
    return 0;
}

/*
 * xmalloc: producer/consumer allocation, every free is a remote free.
 *
 * P producer threads allocate batches of small objects of random size
 * (8..512 bytes, some up to 4 KiB), stamp them and push each batch on a
 * bounded shared queue.  C consumer threads pop batches, verify every object
 * and free it; the batch descriptor itself is freed by the consumer too.
 * Memory thus always flows from the producer threads to the consumer threads,
 * which defeats allocators that assume objects die where they were born.
 */
#include "common.h"

#include <pthread.h>
#include <unistd.h>

#define MAX_OBJ 4096

static struct {
    unsigned producers, consumers, qmax;
    uint64_t batches, batch, seed;
} cfg = {2, 2, 64, 4000, 200, 3};

struct batch {
    struct batch *next;
    size_t n;
    void *obj[];
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    struct batch *head, *tail;
    unsigned len, producers_left;
} q = {PTHREAD_MUTEX_INITIALIZER,
       PTHREAD_COND_INITIALIZER,
       PTHREAD_COND_INITIALIZER,
       NULL,
       NULL,
       0,
       0};

struct stats {
    struct rng rng;
    uint64_t sum, count;
} __attribute__((aligned(CACHE_LINE)));

static void push(struct batch *b)
{
    pthread_mutex_lock(&q.lock);
    while (q.len >= cfg.qmax)
        pthread_cond_wait(&q.not_full, &q.lock);
    b->next = NULL;
    if (q.tail)
        q.tail->next = b;
    else
        q.head = b;
    q.tail = b;
    q.len++;
    pthread_cond_signal(&q.not_empty);
    pthread_mutex_unlock(&q.lock);
}

/* NULL once the queue is empty and every producer has finished. */
static struct batch *pop(void)
{
    pthread_mutex_lock(&q.lock);
    while (!q.head && q.producers_left)
        pthread_cond_wait(&q.not_empty, &q.lock);
    struct batch *b = q.head;
    if (b) {
        q.head = b->next;
        if (!q.head)
            q.tail = NULL;
        q.len--;
        pthread_cond_signal(&q.not_full);
    }
    pthread_mutex_unlock(&q.lock);
    return b;
}

static void *producer(void *arg)
{
    struct stats *st = arg;
    for (uint64_t i = 0; i < cfg.batches; i++) {
        struct batch *b = xmalloc(sizeof *b + cfg.batch * sizeof(void *));
        b->n = cfg.batch;
        for (uint64_t k = 0; k < cfg.batch; k++) {
            uint64_t p = rng_below(&st->rng, 100);
            size_t n =
                p < 90 ? rng_range(&st->rng, SELF_MIN, 512) : rng_range(&st->rng, 513, MAX_OBJ);
            uint64_t tag = rng_next(&st->rng);
            void *o = malloc(n);
            if (!o)
                fatal("malloc(%zu) failed", n);
            self_stamp(o, n, tag);
            b->obj[k] = o;
            st->sum += mix64(tag);
            st->count++;
        }
        push(b);
    }
    pthread_mutex_lock(&q.lock);
    if (--q.producers_left == 0)
        pthread_cond_broadcast(&q.not_empty);
    pthread_mutex_unlock(&q.lock);
    return NULL;
}

static void *consumer(void *arg)
{
    struct stats *st = arg;
    struct batch *b;
    while ((b = pop())) {
        for (size_t k = 0; k < b->n; k++) {
            uint64_t tag = self_check(b->obj[k], MAX_OBJ, "xmalloc");
            st->sum += mix64(tag);
            st->count++;
            free(b->obj[k]);
        }
        free(b);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    bench_name = "xmalloc";
    double scale = 1.0;
    int opt;
    while ((opt = getopt(argc, argv, "p:c:b:n:q:S:s:h")) != -1) {
        switch (opt) {
        case 'p':
            cfg.producers = (unsigned)parse_u64(optarg, "-p", 1, 512);
            break;
        case 'c':
            cfg.consumers = (unsigned)parse_u64(optarg, "-c", 1, 512);
            break;
        case 'b':
            cfg.batches = parse_u64(optarg, "-b", 1, UINT64_MAX);
            break;
        case 'n':
            cfg.batch = parse_u64(optarg, "-n", 1, 1u << 20);
            break;
        case 'q':
            cfg.qmax = (unsigned)parse_u64(optarg, "-q", 1, 1u << 20);
            break;
        case 'S':
            cfg.seed = parse_u64(optarg, "-S", 0, UINT64_MAX);
            break;
        case 's':
            scale = parse_scale(optarg);
            break;
        default:
            fprintf(stderr,
                    "usage: %s [-p producers] [-c consumers] [-b batches/producer]\n"
                    "          [-n objects/batch] [-q max queued batches] [-S seed] [-s scale]\n",
                    argv[0]);
            return opt == 'h' ? 0 : EXIT_USAGE;
        }
    }
    cfg.batches = scaled(cfg.batches, scale);
    q.producers_left = cfg.producers;

    unsigned nt = cfg.producers + cfg.consumers;
    struct stats *st = aligned_alloc(CACHE_LINE, sizeof(struct stats) * nt);
    pthread_t *th = xmalloc(sizeof(pthread_t) * nt);
    if (!st)
        fatal("out of memory");
    memset(st, 0, sizeof(struct stats) * nt);
    double t0 = now_sec();
    for (unsigned i = 0; i < nt; i++) {
        rng_seed(&st[i].rng, cfg.seed, i);
        int e = pthread_create(&th[i], NULL, i < cfg.producers ? producer : consumer, &st[i]);
        if (e)
            fatal("pthread_create: %s", strerror(e));
    }
    for (unsigned i = 0; i < nt; i++) {
        int e = pthread_join(th[i], NULL);
        if (e)
            fatal("pthread_join: %s", strerror(e));
    }
    double dt = now_sec() - t0;
    uint64_t psum = 0, csum = 0, pn = 0, cn = 0;
    for (unsigned i = 0; i < nt; i++) {
        if (i < cfg.producers) {
            psum += st[i].sum;
            pn += st[i].count;
        } else {
            csum += st[i].sum;
            cn += st[i].count;
        }
    }
    if (psum != csum || pn != cn)
        corrupt("produced %" PRIu64 " objects (sum %016" PRIx64 ") but consumed %" PRIu64
                " (sum %016" PRIx64 ")",
                pn, psum, cn, csum);
    free(th);
    free(st);
    printf("xmalloc: check=%016" PRIx64 " producers=%u consumers=%u objects=%" PRIu64
           " time=%.3fs throughput=%.0f objects/s\n",
           mix64(psum ^ pn), cfg.producers, cfg.consumers, pn, dt, (double)pn / dt);
    return 0;
}

/*
 * Cross-thread frees: N threads (default 4) each allocate objects filled
 * with a pattern tied to the allocating thread, keep some, and pass the
 * others through per-thread queues to other threads, which check and free
 * them (sometimes after a realloc).  Millions of operations in total.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stress_obj.h"
#include "stress_queue.h"

#define LOCAL 512

static int nthreads = 4;
static long iterations = 600000;
static struct queue *queues;
static pthread_barrier_t barrier;
static unsigned long long allocated[64], freed[64], passed[64];

static void check_and_free(int self, struct sobj *o, uint64_t *rng)
{
    if (!sobj_ok(o, (uint32_t)nthreads)) {
        CHECK(0, "thread %d received a corrupted object %p (owner %u seq %llu size %u)", self,
              (void *)o, o->owner, (unsigned long long)o->seq, o->size);
        return; /* do not free what may not be a valid block */
    }
    if (rng_next(rng) % 8 == 0) {
        /* realloc a block allocated by another thread, then check again */
        uint32_t old = o->size;
        size_t ns = old + 1 + rng_next(rng) % 2000;
        struct sobj *n = realloc(o, ns);
        if (!n) {
            CHECK(0, "realloc(%u -> %zu) failed", old, ns);
            free(o);
            freed[self]++;
            return;
        }
        CHECK(n->size == old && fast_check(n + 1, old - sizeof *n, sobj_seed(n->owner, n->seq)),
              "realloc of a foreign object lost its contents");
        o = n;
    }
    free(o);
    freed[self]++;
}

static void *worker(void *arg)
{
    int self = (int)(long)arg;
    uint64_t rng = 0x1234567ull + (uint64_t)self * 7919;
    struct sobj *local[LOCAL] = {0};
    struct sobj *in[64];
    uint64_t seq = 0;

    for (long it = 0; it < iterations; it++) {
        struct sobj *o = sobj_new((uint32_t)self, seq++, sobj_random_size(&rng));
        if (!o) {
            CHECK(0, "thread %d: malloc failed", self);
            break;
        }
        allocated[self]++;
        uint64_t r = rng_next(&rng);
        if (r % 2 == 0) {
            int dst = (int)((r >> 8) % (uint64_t)nthreads);
            if (dst == self)
                dst = (dst + 1) % nthreads;
            int sent = 0;
            for (int k = 0; k < nthreads - 1 && !sent; k++) {
                sent = q_push(&queues[dst], o);
                dst = (dst + 1) % nthreads;
                if (dst == self)
                    dst = (dst + 1) % nthreads;
            }
            if (sent)
                passed[self]++;
            else
                check_and_free(self, o, &rng);
        } else {
            int slot = (int)((r >> 8) % LOCAL);
            if (local[slot])
                check_and_free(self, local[slot], &rng);
            local[slot] = o;
        }
        if ((it & 1) == 0) {
            int n = q_pop_many(&queues[self], in, 64);
            for (int i = 0; i < n; i++)
                check_and_free(self, in[i], &rng);
        }
    }
    /* nobody pushes after the barrier: drain what is left */
    pthread_barrier_wait(&barrier);
    int n;
    while ((n = q_pop_many(&queues[self], in, 64)) > 0)
        for (int i = 0; i < n; i++)
            check_and_free(self, in[i], &rng);
    for (int i = 0; i < LOCAL; i++)
        if (local[i])
            check_and_free(self, local[i], &rng);
    return NULL;
}

int main(int argc, char **argv)
{
    test_begin("stress_cross_thread");
    if (argc > 1)
        nthreads = atoi(argv[1]);
    if (argc > 2)
        iterations = atol(argv[2]);
    REQUIRE(nthreads >= 2 && nthreads <= 64, "thread count must be 2..64");
    queues = calloc((size_t)nthreads, sizeof *queues);
    REQUIRE(queues != NULL, "calloc failed");
    for (int i = 0; i < nthreads; i++)
        pthread_mutex_init(&queues[i].lock, NULL);
    pthread_barrier_init(&barrier, NULL, (unsigned)nthreads);
    pthread_t th[64];
    for (int i = 0; i < nthreads; i++)
        REQUIRE(pthread_create(&th[i], NULL, worker, (void *)(long)i) == 0, "pthread_create");
    for (int i = 0; i < nthreads; i++)
        pthread_join(th[i], NULL);
    unsigned long long a = 0, f = 0, p = 0;
    for (int i = 0; i < nthreads; i++) {
        a += allocated[i];
        f += freed[i];
        p += passed[i];
    }
    printf("%d threads: %llu allocations, %llu frees, %llu passed between threads\n", nthreads, a,
           f, p);
    CHECK(a == f, "allocated %llu objects but freed %llu", a, f);
    CHECK(p > (unsigned long long)iterations / 4, "too few objects crossed threads (%llu)", p);
    free(queues);
    return test_finish();
}

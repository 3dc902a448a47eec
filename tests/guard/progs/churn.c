/*
 * Threads allocating, filling, checking and freeing guarded objects at the
 * same time, in sizes across the caches: each object holds its owner's
 * pattern until freed, and no slot is ever handed to two threads.
 *
 *   churn THREADS ROUNDS
 *
 * Prints "guarded=N of M" (objects that ended at a guard page, as counted
 * by the program) and "done" at the end; "FAIL: ..." on a wrong byte.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "guard_prog.h"

#define LIVE 48

static long rounds;
static _Atomic unsigned long guarded, total;

static size_t pick(uint64_t *r)
{
    *r ^= *r << 13;
    *r ^= *r >> 7;
    *r ^= *r << 17;
    /* mostly small, some of a page and more */
    unsigned k = (unsigned)(*r % 16);
    size_t n = k < 10 ? 1 + *r % 200 : k < 14 ? 1 + *r % 4096 : 1 + *r % 20000;
    return n;
}

static void *worker(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    uint64_t r = 0x9e3779b97f4a7c15ull * (id + 1);
    unsigned char *live[LIVE] = {0};
    size_t size[LIVE] = {0};
    unsigned char tag[LIVE] = {0};
    for (long i = 0; i < rounds; i++) {
        unsigned s = (unsigned)(i % LIVE);
        if (live[s]) {
            for (size_t k = 0; k < size[s]; k++)
                if (live[s][k] != tag[s]) {
                    printf("FAIL: thread %u object %p byte %zu is 0x%x, not 0x%x\n", id,
                           (void *)live[s], k, live[s][k], tag[s]);
                    prog_failures++;
                    break;
                }
            free(live[s]);
        }
        size_t n = pick(&r);
        unsigned char *p = malloc(n);
        if (!p) {
            printf("FAIL: malloc(%zu) failed\n", n);
            prog_failures++;
            live[s] = NULL;
            continue;
        }
        atomic_fetch_add(&total, 1);
        /* aligned as malloc promises: 16, or the largest power of two
         * not above a smaller size */
        size_t a = 16;
        while (a > n)
            a /= 2;
        if (ends_at_guard(p, (n + a - 1) & ~(a - 1)))
            atomic_fetch_add(&guarded, 1);
        tag[s] = (unsigned char)(id * 31 + i);
        memset(p, tag[s], n);
        live[s] = p;
        size[s] = n;
    }
    for (unsigned s = 0; s < LIVE; s++)
        free(live[s]);
    return NULL;
}

int main(int argc, char **argv)
{
    prog_start();
    if (argc != 3)
        return 2;
    int threads = atoi(argv[1]);
    rounds = atol(argv[2]);
    pthread_t t[64];
    if (threads < 1 || threads > 64)
        return 2;
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    printf("guarded=%lu of %lu\n", (unsigned long)guarded, (unsigned long)total);
    printf("done\n");
    return prog_failures ? 1 : 0;
}

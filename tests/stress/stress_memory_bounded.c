/*
 * Freed memory is reused: (1) a producer thread allocates 3 GiB in total
 * (every page touched) that a consumer thread frees, with only a few MiB
 * live at any time; (2) 400 threads in turn allocate and free 4 MiB each
 * and exit.  The resident set must stay bounded: memory freed by another
 * thread, or cached by a thread that exited, must not be lost.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define QCAP 512

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long v = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &v) == 1)
            break;
    fclose(f);
    return v;
}

static void touch(unsigned char *p, size_t n, unsigned char v)
{
    for (size_t i = 0; i < n; i += 4096)
        p[i] = v;
    p[n - 1] = v;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;
static void *ring[QCAP];
static size_t ring_len[QCAP];
static unsigned head, tail;
static int producer_done;

static void *producer(void *arg)
{
    (void)arg;
    uint64_t rng = 8080;
    size_t total = 0;
    const size_t goal = (size_t)3 << 30;
    while (total < goal) {
        uint64_t r = rng_next(&rng);
        size_t n = (r % 64 == 0) ? ((size_t)100 << 10) + (size_t)(r >> 20) % ((size_t)900 << 10)
                                 : 16 + (size_t)(r >> 20) % 24000;
        unsigned char *p = malloc(n);
        REQUIRE(p != NULL, "malloc(%zu) failed after %zu bytes", n, total);
        touch(p, n, (unsigned char)n);
        total += n;
        pthread_mutex_lock(&lock);
        while (tail - head == QCAP)
            pthread_cond_wait(&not_full, &lock);
        ring[tail % QCAP] = p;
        ring_len[tail % QCAP] = n;
        tail++;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    producer_done = 1;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (head == tail && !producer_done)
            pthread_cond_wait(&not_empty, &lock);
        if (head == tail && producer_done) {
            pthread_mutex_unlock(&lock);
            return NULL;
        }
        unsigned char *p = ring[head % QCAP];
        size_t n = ring_len[head % QCAP];
        head++;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&lock);
        CHECK(p[0] == (unsigned char)n && p[n - 1] == (unsigned char)n,
              "block of %zu bytes corrupted in transit", n);
        free(p);
    }
}

static void *short_thread(void *arg)
{
    uint64_t rng = (uint64_t)(long)arg * 31 + 1;
    enum { N = 2048 };
    static __thread void *blk[N];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) { /* 2 MiB on average per round */
            size_t n = 16 + (size_t)(rng_next(&rng) % 2032);
            blk[i] = malloc(n);
            REQUIRE(blk[i] != NULL, "malloc failed in short thread");
            touch(blk[i], n, 1);
        }
        for (int i = 0; i < N; i++)
            free(blk[i]);
    }
    return NULL;
}

int main(void)
{
    test_begin("stress_memory_bounded");
    long base = rss_kib();
    REQUIRE(base > 0, "cannot read VmRSS");

    pthread_t p, c;
    REQUIRE(pthread_create(&p, NULL, producer, NULL) == 0, "pthread_create");
    REQUIRE(pthread_create(&c, NULL, consumer, NULL) == 0, "pthread_create");
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    long after1 = rss_kib();
    printf("producer/consumer: RSS %ld KiB -> %ld KiB after 3 GiB of cross-thread frees\n", base,
           after1);
    CHECK(after1 - base < 256 * 1024,
          "RSS grew by %ld KiB over 3 GiB allocated and freed by another thread", after1 - base);

    /* one thread first, so that per-thread start-up costs are paid */
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, short_thread, (void *)0L) == 0, "pthread_create");
    pthread_join(t, NULL);
    long before2 = rss_kib();
    for (long i = 1; i <= 400; i++) {
        REQUIRE(pthread_create(&t, NULL, short_thread, (void *)i) == 0, "pthread_create");
        pthread_join(t, NULL);
    }
    long after2 = rss_kib();
    printf("thread churn: RSS %ld KiB -> %ld KiB after 400 threads of 4 MiB each\n", before2,
           after2);
    CHECK(after2 - before2 < 96 * 1024,
          "RSS grew by %ld KiB over 400 exited threads (thread caches not reclaimed?)",
          after2 - before2);
    return test_finish();
}

/*
 * Thread churn: while two long-lived threads allocate and free, the main
 * thread creates batches of short-lived threads that allocate, free, and
 * leave objects in a shared mailbox before exiting.  Objects of dead
 * threads are later checked and freed by other threads, which exercises
 * the cleanup of per-thread caches.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stress_obj.h"

#define MAILBOX 4096
#define MAX_OWNER 1000000u

static pthread_mutex_t mb_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sobj *mailbox[MAILBOX];
static unsigned long long n_alloc, n_free; /* atomics */
static int stop;
static int running; /* short-lived threads not yet done */
static int rounds = 250, batch = 4, ops_per_thread = 3000;

static void count(unsigned long long *c, unsigned long long n)
{
    __atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

static void check_free(struct sobj *o, const char *who)
{
    if (!sobj_ok(o, MAX_OWNER)) {
        CHECK(0, "%s found corrupted object %p (owner %u seq %llu size %u)", who, (void *)o,
              o->owner, (unsigned long long)o->seq, o->size);
        return;
    }
    free(o);
    count(&n_free, 1);
}

/* Swap o into a random mailbox slot; returns what was there (or NULL). */
static struct sobj *mailbox_swap(struct sobj *o, uint64_t r)
{
    unsigned slot = (unsigned)(r % MAILBOX);
    pthread_mutex_lock(&mb_lock);
    struct sobj *old = mailbox[slot];
    mailbox[slot] = o;
    pthread_mutex_unlock(&mb_lock);
    return old;
}

static void *steady(void *arg)
{
    uint32_t id = (uint32_t)(long)arg;
    uint64_t rng = 777 + id, seq = 0;
    struct sobj *local[256] = {0};
    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
        for (int k = 0; k < 1000; k++) {
            struct sobj *o = sobj_new(id, seq++, sobj_random_size(&rng));
            REQUIRE(o != NULL, "malloc failed in steady thread");
            count(&n_alloc, 1);
            uint64_t r = rng_next(&rng);
            if (r % 4 == 0) {
                struct sobj *old = mailbox_swap(o, r >> 8);
                if (old)
                    check_free(old, "steady thread");
            } else {
                unsigned s = (unsigned)((r >> 8) % 256);
                if (local[s])
                    check_free(local[s], "steady thread");
                local[s] = o;
            }
        }
    }
    for (int s = 0; s < 256; s++)
        if (local[s])
            check_free(local[s], "steady thread");
    return NULL;
}

/* Thread-specific data whose destructor allocates and frees while the
 * thread is exiting, around the allocator's own per-thread cleanup. */
static pthread_key_t exit_key;

static void exit_key_destructor(void *v)
{
    struct sobj *o = v;
    check_free(o, "key destructor");
    struct sobj *tmp = sobj_new(1, 7, 300);
    REQUIRE(tmp != NULL, "malloc in key destructor failed");
    count(&n_alloc, 1);
    check_free(tmp, "key destructor");
    __atomic_sub_fetch(&running, 1, __ATOMIC_RELEASE);
}

static void *short_lived(void *arg)
{
    uint32_t id = (uint32_t)(long)arg;
    uint64_t rng = 0xC0FFEEull * (id + 1), seq = 0;
    enum { KEEP = 64 };
    struct sobj *keep[KEEP] = {0};
    struct sobj *kv = sobj_new(id, 1u << 30, 2000);
    REQUIRE(kv != NULL, "malloc failed in short-lived thread");
    count(&n_alloc, 1);
    pthread_setspecific(exit_key, kv);
    for (int k = 0; k < ops_per_thread; k++) {
        struct sobj *o = sobj_new(id, seq++, sobj_random_size(&rng));
        REQUIRE(o != NULL, "malloc failed in short-lived thread");
        count(&n_alloc, 1);
        uint64_t r = rng_next(&rng);
        unsigned s = (unsigned)((r >> 8) % KEEP);
        if (keep[s])
            check_free(keep[s], "short-lived thread");
        keep[s] = o;
    }
    /* leave a part of the objects behind for others to free */
    for (int s = 0; s < KEEP; s++) {
        if (!keep[s])
            continue;
        if (s % 2 == 0) {
            struct sobj *old = mailbox_swap(keep[s], rng_next(&rng));
            if (old)
                check_free(old, "short-lived thread");
        } else {
            check_free(keep[s], "short-lived thread");
        }
    }
    return NULL; /* "running" drops in the key destructor, which runs later */
}

int main(int argc, char **argv)
{
    test_begin("stress_thread_churn");
    REQUIRE(pthread_key_create(&exit_key, exit_key_destructor) == 0, "pthread_key_create");
    if (argc > 1)
        rounds = atoi(argv[1]);
    pthread_t st[2];
    for (int i = 0; i < 2; i++)
        REQUIRE(pthread_create(&st[i], NULL, steady, (void *)(long)i) == 0, "pthread_create");
    uint32_t next_id = 2;
    int created = 0;
    for (int r = 0; r < rounds; r++) {
        pthread_t th[16];
        int detached = r % 5 == 4; /* some rounds use detached threads */
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        if (detached)
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        for (int i = 0; i < batch; i++) {
            __atomic_add_fetch(&running, 1, __ATOMIC_RELAXED);
            int rc = pthread_create(&th[i], &attr, short_lived, (void *)(long)next_id++);
            REQUIRE(rc == 0, "pthread_create failed: %s", strerror(rc));
            created++;
        }
        pthread_attr_destroy(&attr);
        if (!detached)
            for (int i = 0; i < batch; i++)
                pthread_join(th[i], NULL);
    }
    /* wait for the detached threads to finish their work */
    while (__atomic_load_n(&running, __ATOMIC_ACQUIRE) != 0) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < 2; i++)
        pthread_join(st[i], NULL);
    pthread_mutex_lock(&mb_lock);
    for (int i = 0; i < MAILBOX; i++)
        if (mailbox[i]) {
            check_free(mailbox[i], "main thread");
            mailbox[i] = NULL;
        }
    pthread_mutex_unlock(&mb_lock);
    printf("%d short-lived threads, %llu allocations, %llu frees\n", created, n_alloc, n_free);
    CHECK(n_alloc == n_free, "allocated %llu but freed %llu", n_alloc, n_free);
    return test_finish();
}

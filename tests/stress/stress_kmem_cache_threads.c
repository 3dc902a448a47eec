/*
 * The kmem_cache_* API from several threads at once (program linked to
 * slabdbg): 4 threads share three named caches (one with a constructor,
 * one with 64-byte alignment, one plain) and kmalloc, pass objects to
 * each other through queues and free objects allocated elsewhere.
 * Objects are checked before every free; constructed objects must be in
 * their constructed state at every handout.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slabdbg.h"
#include "testutil.h"

#define NTHREADS 4
#define ITERS 250000
#define QCAP 2048
#define CTOR_MAGIC 0xC0DEC0DEC0DEC0DEull

enum kind { K_CTOR, K_ALIGNED, K_PLAIN, K_KMALLOC, K_COUNT };

struct item {
    uint32_t kind, owner;
    uint64_t seq;
    size_t size;
};

struct cobj { /* objects of the constructor cache */
    uint64_t magic;
    uint64_t in_use; /* 0 in constructed state */
    uint64_t payload[14];
};

static struct kmem_cache *caches[3];
static const size_t cache_size[3] = {sizeof(struct cobj), 200, 56};
static uint64_t ctor_calls;

static void cobj_ctor(void *p)
{
    struct cobj *o = p;
    __atomic_add_fetch(&ctor_calls, 1, __ATOMIC_RELAXED);
    o->magic = CTOR_MAGIC;
    o->in_use = 0;
    memset(o->payload, 0, sizeof o->payload);
}

struct queue {
    pthread_mutex_t lock;
    unsigned head, tail;
    void *obj[QCAP];
};
static struct queue q[NTHREADS];
static pthread_barrier_t barrier;
static unsigned long long allocs[NTHREADS], frees[NTHREADS];

static uint64_t seed_of(const struct item *it)
{
    return ((uint64_t)it->owner << 40) ^ it->seq ^ ((uint64_t)it->kind << 60);
}

static void *make(uint32_t self, uint64_t seq, uint64_t *rng)
{
    uint32_t kind = (uint32_t)(rng_next(rng) % K_COUNT);
    if (kind == K_CTOR) {
        struct cobj *o = kmem_cache_alloc(caches[0], GFP_KERNEL);
        REQUIRE(o != NULL, "ctor cache alloc failed");
        CHECK(o->magic == CTOR_MAGIC && o->in_use == 0,
              "ctor cache handed out an object not in constructed state (magic %llx in_use %llu)",
              (unsigned long long)o->magic, (unsigned long long)o->in_use);
        o->in_use = ((uint64_t)self << 32) | (seq & 0xffffffff) | 1;
        for (int i = 0; i < 14; i++)
            o->payload[i] = o->in_use * (uint64_t)(i + 1);
        return o;
    }
    size_t size;
    struct item *it;
    if (kind == K_KMALLOC) {
        size = 24 + (size_t)(rng_next(rng) % 3000);
        it = kmalloc(size, GFP_KERNEL);
    } else {
        size = cache_size[kind];
        it = kmem_cache_alloc(caches[kind], GFP_KERNEL);
        if (it && kind == K_ALIGNED)
            CHECK(((uintptr_t)it & 63) == 0, "aligned cache object %p not 64-aligned",
                  (void *)it);
    }
    REQUIRE(it != NULL, "allocation of kind %u failed", kind);
    it->kind = kind;
    it->owner = self;
    it->seq = seq;
    it->size = size;
    fast_fill(it + 1, size - sizeof *it, seed_of(it));
    return it;
}

static void destroy(uint32_t self, void *p)
{
    struct cobj *c = p;
    if (c->magic == CTOR_MAGIC) {
        uint64_t tag = c->in_use;
        int ok = tag != 0;
        for (int i = 0; i < 14 && ok; i++)
            ok = c->payload[i] == tag * (uint64_t)(i + 1);
        CHECK(ok, "thread %u: constructed object %p corrupted", self, p);
        if (!ok)
            return;
        /* give it back in its constructed state */
        c->in_use = 0;
        memset(c->payload, 0, sizeof c->payload);
        kmem_cache_free(caches[0], c);
        frees[self]++;
        return;
    }
    struct item *it = p;
    int ok = it->kind < K_COUNT && it->kind != K_CTOR && it->size >= sizeof *it &&
             it->size <= 4096 && fast_check(it + 1, it->size - sizeof *it, seed_of(it));
    CHECK(ok, "thread %u: object %p (kind %u owner %u) corrupted", self, p, it->kind, it->owner);
    if (!ok)
        return;
    if (it->kind == K_KMALLOC) {
        CHECK(ksize(it) >= it->size, "ksize %zu < %zu", ksize(it), it->size);
        kfree(it);
    } else {
        kmem_cache_free(caches[it->kind], it);
    }
    frees[self]++;
}

static int push(int dst, void *o)
{
    int ok = 0;
    pthread_mutex_lock(&q[dst].lock);
    if (q[dst].tail - q[dst].head < QCAP) {
        q[dst].obj[q[dst].tail++ % QCAP] = o;
        ok = 1;
    }
    pthread_mutex_unlock(&q[dst].lock);
    return ok;
}

static void *pop(int self)
{
    void *o = NULL;
    pthread_mutex_lock(&q[self].lock);
    if (q[self].head != q[self].tail)
        o = q[self].obj[q[self].head++ % QCAP];
    pthread_mutex_unlock(&q[self].lock);
    return o;
}

static void *worker(void *arg)
{
    uint32_t self = (uint32_t)(long)arg;
    uint64_t rng = 4242 + self;
    void *local[256] = {0};
    for (uint64_t seq = 0; seq < ITERS; seq++) {
        void *o = make(self, seq, &rng);
        allocs[self]++;
        uint64_t r = rng_next(&rng);
        if (r & 1) {
            int dst = (int)((self + 1 + (r >> 8) % (NTHREADS - 1)) % NTHREADS);
            if (!push(dst, o))
                destroy(self, o);
        } else {
            unsigned s = (unsigned)((r >> 8) % 256);
            if (local[s])
                destroy(self, local[s]);
            local[s] = o;
        }
        void *in;
        for (int k = 0; k < 2 && (in = pop((int)self)) != NULL; k++)
            destroy(self, in);
    }
    pthread_barrier_wait(&barrier);
    void *in;
    while ((in = pop((int)self)) != NULL)
        destroy(self, in);
    for (int s = 0; s < 256; s++)
        if (local[s])
            destroy(self, local[s]);
    return NULL;
}

int main(void)
{
    test_begin("stress_kmem_cache_threads");
    caches[0] = kmem_cache_create("mt_ctor", cache_size[0], 0, 0, cobj_ctor);
    caches[1] = kmem_cache_create("mt_aligned", cache_size[1], 64, 0, NULL);
    caches[2] = kmem_cache_create("mt_plain", cache_size[2], 0, 0, NULL);
    REQUIRE(caches[0] && caches[1] && caches[2], "kmem_cache_create failed");
    for (int i = 0; i < NTHREADS; i++)
        pthread_mutex_init(&q[i].lock, NULL);
    pthread_barrier_init(&barrier, NULL, NTHREADS);
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        REQUIRE(pthread_create(&th[i], NULL, worker, (void *)(long)i) == 0, "pthread_create");
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    unsigned long long a = 0, f = 0;
    for (int i = 0; i < NTHREADS; i++) {
        a += allocs[i];
        f += frees[i];
    }
    printf("%llu allocations, %llu frees, %llu constructor calls\n", a, f,
           (unsigned long long)ctor_calls);
    CHECK(a == f, "allocated %llu, freed %llu", a, f);
    for (int i = 0; i < 3; i++) {
        CHECK(kmem_cache_shrink(caches[i]) == 0, "cache %s not empty after the run",
              kmem_cache_name(caches[i]));
        kmem_cache_destroy(caches[i]);
    }
    return test_finish();
}

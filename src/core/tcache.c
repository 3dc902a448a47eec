/* Thread caches: the slow paths (refill, flush, registration, thread exit). */
#include "core/tcache.h"
#include "debug/guard.h"

__thread struct tcache tcache;
pthread_key_t tcache_key;

static void tcache_activate(void)
{
    slabdbg_ensure_init();
    for (unsigned i = 0; i < NR_KMALLOC; i++)
        tcache.bins[i].max = kmalloc_caches[i].tcache_max;
    tcache.sample_left = sample_interval();
    tcache.state = TCACHE_ACTIVE;
    guard_thread_init();
    /* Registered last: pthread_setspecific may itself allocate (for keys
     * past the first 32), and must then find this thread's cache ready.
     * The value only needs to be non-NULL for the destructor to run. */
    pthread_setspecific(tcache_key, &tcache);
}

/* Called when bin `cls` is empty: refill it with one batch, return one object. */
void *tcache_refill(unsigned cls)
{
    if (unlikely(tcache.state != TCACHE_ACTIVE)) {
        if (tcache.state == TCACHE_DEAD)
            return cache_alloc_one(&kmalloc_caches[cls]);
        tcache_activate();
    }
    struct kmem_cache *c = &kmalloc_caches[cls];
    if (c->bin == NO_BIN)
        return cache_alloc_one(c);
    void *head;
    unsigned got = cache_alloc_batch(c, c->batch, &head);
    if (!got)
        return NULL;
    struct tbin *b = &tcache.bins[cls];
    b->head = *(void **)head;
    b->count = got - 1;
    return head;
}

/* Called when the bin is full (or the object is not thread-cacheable). */
void tcache_free_slow(struct slab *s, void *p)
{
    struct kmem_cache *c = s->cache;
    if (s->bin == NO_BIN || tcache.state == TCACHE_DEAD) {
        cache_free_one(c, s, p);
        return;
    }
    if (tcache.state == TCACHE_NEW) {
        tcache_activate();
        if (tcache_push(s->bin, p))
            return;
    }
    /* Full: hand the `batch` most recently freed objects back, keep the rest. */
    struct tbin *b = &tcache.bins[s->bin];
    void *head = b->head, *last = head;
    for (unsigned i = 1; i < c->batch; i++)
        last = *(void **)last;
    b->head = *(void **)last;
    *(void **)last = NULL;
    b->count -= c->batch;
    cache_free_list(c, head, c->batch);
    tcache_push(s->bin, p);
}

void tcache_flush_all(void)
{
    for (unsigned i = 0; i < NR_KMALLOC; i++) {
        struct tbin *b = &tcache.bins[i];
        if (b->count) {
            void *head = b->head;
            unsigned n = b->count;
            b->head = NULL;
            b->count = 0;
            cache_free_list(&kmalloc_caches[i], head, n);
        }
    }
}

/* pthread key destructor: return everything, and send this thread's later
 * allocations and frees (from other destructors) straight to the caches. */
void tcache_thread_exit(void *arg)
{
    (void)arg;
    tcache.state = TCACHE_DEAD;
    for (unsigned i = 0; i < NR_KMALLOC; i++)
        tcache.bins[i].max = 0;
    tcache_flush_all();
    guard_thread_exit();
}

/* Thread caches: the slow paths (refill, flush, registration, thread exit). */
#include <assert.h>
#include <string.h>

#include "core/tcache.h"
#include "debug/debug.h"
#include "debug/guard.h"
#include "report/bug.h"

__thread struct tcache tcache;
pthread_key_t tcache_key;
static __thread struct tbin saved_bins[NR_KMALLOC + 1];
static __thread int saved_state;

void tcache_report_mode(bool entering)
{
    if (entering) {
        memcpy(saved_bins, tcache.bins, sizeof(saved_bins));
        saved_state = tcache.state;
        memset(tcache.bins, 0, sizeof(tcache.bins));
        tcache.state = TCACHE_DEAD;
    } else {
        memcpy(tcache.bins, saved_bins, sizeof(saved_bins));
        tcache.state = saved_state;
    }
}

static void tcache_activate(void)
{
    /* The front end initialised the library before any path here. */
    assert(atomic_load_explicit(&init_done, memory_order_acquire));
    /* Slow start: a bin begins small and doubles at each refill up to its
     * cache's capacity, so a thread that allocates a few objects of a class
     * does not carve (and touch) a whole batch of them. */
    for (unsigned i = 0; i < NR_KMALLOC; i++) {
        uint32_t max = kmalloc_caches[i].tcache_max;
        /* Objects smaller than a cache line start with a full batch: a few
         * carved for each thread in turn would share lines between threads
         * (false sharing), and a batch of them is small anyway. */
        if (class_size(i) >= 64 && max > TCACHE_START)
            max = TCACHE_START;
        tcache.bins[i].max = max;
    }
    tcache.sample_left = sample_interval();
    tcache.state = TCACHE_ACTIVE;
    /* Registered last: pthread_setspecific may itself allocate (for keys
     * past the first 32), and must then find this thread's cache ready.
     * The value only needs to be non-NULL for the destructor to run. */
    pthread_setspecific(tcache_key, &tcache);
}

void tcache_thread_start(void)
{
    if (tcache.state == TCACHE_NEW)
        tcache_activate();
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
    struct tbin *b = &tcache.bins[cls];
    unsigned want = b->max / 2 ? b->max / 2 : 1;
    void *head;
    unsigned got = cache_alloc_batch(c, want, &head);
    if (!got)
        return NULL;
    uintptr_t next = link_next(head);
    ((uintptr_t *)head)[1] = 0; /* live from here */
    if (unlikely((next & LINK_BAD) || (next && !slabmap_test((void *)next)))) {
        /* a batch corrupted in the transfer cache */
        harden_report(BUG_FREEPOINTER, c, NULL, head);
        bugs_flush();
        next = 0;
        got = 1;
    }
    b->head = (void *)next;
    b->count = got - 1;
    if (b->max < c->tcache_max)
        b->max = b->max * 2 < c->tcache_max ? b->max * 2 : c->tcache_max;
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
    /* Full: hand the most recently freed half back, keep the rest.  At full
     * size that half is the cache's batch, which the transfer cache takes
     * whole. */
    struct tbin *b = &tcache.bins[s->bin];
    if (b->max < c->tcache_max) { /* still in slow start: grow instead */
        b->max = b->max * 2 < c->tcache_max ? b->max * 2 : c->tcache_max;
        tcache_push(s->bin, p);
        return;
    }
    unsigned n = b->max / 2 ? b->max / 2 : 1;
    void *head = b->head, *last = head;
    for (unsigned i = 1; i < n; i++) {
        uintptr_t next = link_next(last);
        if (unlikely(next & LINK_BAD)) {
            tcache_bin_corrupt(s->bin, last);
            tcache_push(s->bin, p);
            return;
        }
        last = (void *)next;
    }
    uintptr_t rest = link_next(last);
    if (unlikely(rest & LINK_BAD)) {
        tcache_bin_corrupt(s->bin, last);
        tcache_push(s->bin, p);
        return;
    }
    b->head = (void *)rest;
    link_set(last, NULL);
    b->count -= n;
    cache_free_list(c, head, n);
    tcache_push(s->bin, p);
}

/* A link of bin `bin` read from `obj` is corrupt (a write after free, most
 * likely): the bin is emptied (its objects are lost, never handed out
 * wrongly) and the finding reported. */
void tcache_bin_corrupt(unsigned bin, void *obj)
{
    struct tbin *b = &tcache.bins[bin];
    b->head = NULL;
    b->count = 0;
    harden_report(BUG_FREEPOINTER, &kmalloc_caches[bin], slab_lookup(obj), obj);
    bugs_flush();
}

void *tcache_pop_corrupt(unsigned cls)
{
    uintptr_t *p = tcache.bins[cls].head;
    /* The head is ours (tcache_pop's invariant); whether it is a free
     * object of this class is what the marker said. */
    bool sound = p[1] == free_marker(p);
    tcache_bin_corrupt(cls, p);
    if (!sound)
        return tcache_refill(cls); /* never hand out what may not be an object */
    p[1] = 0;                      /* p itself was a sound free object, only its link is bad */
    return p;
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
    debug_thread_exit();
}

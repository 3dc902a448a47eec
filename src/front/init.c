/*
 * Initialisation, fork handling, and what happens at exit.
 *
 * The first malloc can arrive before any constructor ran (from the dynamic
 * loader or another library's constructor), so initialisation is lazy,
 * idempotent and triggered from the slow paths.  It calls nothing that
 * allocates before the core is usable; what it calls after that (which may
 * allocate, e.g. pthread_atfork) re-enters a working allocator.
 */
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/tcache.h"
#include "front/front.h"
#include "report/out.h"

_Atomic int init_done;
static _Atomic int init_started;

/* For tools that inspect a process or core dump from outside: a well-known
 * root from which every allocator structure can be found. */
struct slabdbg_root {
    uint64_t magic;
    uint32_t version;
    uint32_t nr_kmalloc;
    struct kmem_cache *kmalloc_caches;
    struct kmem_cache **cache_list;
    struct segment **segment_list;
    struct segment **huge_list;
    uint64_t seg_size, slice_size;
};
EXPORT const struct slabdbg_root slabdbg_root = {
    .magic = 0x746f6f7262616c73ull, /* "slabroot" */
    .version = 1,
    .nr_kmalloc = NR_KMALLOC,
    .kmalloc_caches = kmalloc_caches,
    .cache_list = &cache_list,
    .segment_list = &segment_list,
    .huge_list = &huge_list,
    .seg_size = SEG_SIZE,
    .slice_size = SLICE_SIZE,
};

static void fork_prepare(void)
{
    caches_lock_all();
}
static void fork_parent(void)
{
    caches_unlock_all();
}

static void fork_child(void)
{
    /* Only this thread exists in the child: the locks' owners are gone, so
     * re-initialise rather than unlock.  Objects cached by the parent's
     * other threads are lost to the child, as with any allocator. */
    pthread_mutex_init(&cache_list_lock, NULL);
    for (unsigned i = 0; i < NR_KMALLOC; i++)
        pthread_mutex_init(&kmalloc_caches[i].lock, NULL);
    pthread_mutex_init(&kmem_cache_cache.lock, NULL);
    for (struct kmem_cache *c = cache_list; c; c = c->next)
        pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&page_lock, NULL);
    pthread_mutex_init(&huge_lock, NULL);
}

static void fork_prepare_all(void)
{
    fork_prepare();
    pthread_mutex_lock(&kmem_cache_cache.lock);
}

static void fork_parent_all(void)
{
    pthread_mutex_unlock(&kmem_cache_cache.lock);
    fork_parent();
}

void slabdbg_init_slow(void)
{
    static __thread int in_init;
    if (in_init) return;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&init_started, &expected, 1)) {
        while (!atomic_load_explicit(&init_done, memory_order_acquire))
            sched_yield();
        return;
    }
    in_init = 1;
    kmalloc_caches_init();
    cache_setup(&kmem_cache_cache, "kmem_cache", sizeof(struct kmem_cache), 64, 0, NULL);
    pthread_key_create(&tcache_key, tcache_thread_exit);
    atomic_store_explicit(&init_done, 1, memory_order_release);
    /* The allocator works from here on; these may allocate. */
    pthread_atfork(fork_prepare_all, fork_parent_all, fork_child);
    in_init = 0;
}

EXPORT const char *slabdbg_version(void)
{
    return SLABDBG_VERSION;
}

__attribute__((constructor)) static void slabdbg_constructor(void)
{
    slabdbg_ensure_init();
}

__attribute__((destructor)) static void slabdbg_destructor(void)
{
    int fd = out_open_dest(getenv("SLABDBG_STATS"));
    if (fd < 0) return;
    slabdbg_print_stats(fd);
    if (fd > 2) close(fd);
}

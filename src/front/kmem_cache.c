/*
 * The kernel-style named-cache API.  The cache descriptors themselves come
 * from a cache of their own ("kmem_cache"), as in the kernel.
 */
#include <errno.h>
#include <string.h>

#include "base/lock.h"
#include "front/front.h"
#include "debug/debug.h"
#include "base/options.h"
#include "report/bug.h"

struct kmem_cache kmem_cache_cache;

#define CACHE_MAX_OBJECT ((size_t)2 << 20)

EXPORT struct kmem_cache *kmem_cache_create(const char *name, size_t size, size_t align,
                                            slab_flags_t flags, void (*ctor)(void *))
{
    slabdbg_ensure_init();
    if (!name || !*name || size == 0 || size > CACHE_MAX_OBJECT || (align & (align - 1)) ||
        align > SLICE_SIZE) {
        errno = EINVAL;
        return NULL;
    }
    struct kmem_cache *c = cache_alloc_one(&kmem_cache_cache);
    if (!c)
        return NULL;
    cache_setup(c, name, size, align, flags, ctor);
    lock(&cache_list_lock, LOCK_CACHE_LIST);
    c->next = cache_list;
    cache_list = c;
    unlock(&cache_list_lock, LOCK_CACHE_LIST);
    return c;
}

/* A finding about a pointer passed to kmem_cache_free(), printed at once. */
static void report_free_misuse(enum bug_kind kind, struct kmem_cache *c, const void *obj,
                               const char *other)
{
    struct bug *b = bug_new(kind, c->name);
    if (b) {
        b->ptr = (uintptr_t)obj;
        b->other_cache = other;
    }
    bugs_flush();
}

/* The slab of `obj` if it is an object of cache `c`; reports otherwise. */
static struct slab *object_check(struct kmem_cache *c, const void *obj)
{
    struct slab *s = slab_lookup(obj);
    if (!s || !s->cache) {
        report_free_misuse(BUG_OUTSIDE_SLAB, c, obj, NULL);
        return NULL;
    }
    if (s->cache != c) {
        report_free_misuse(BUG_WRONG_CACHE, c, obj, s->cache->name);
        return NULL;
    }
    if (c->debug) /* the debug path checks the pointer itself */
        return s;
    if ((size_t)((const char *)obj - s->start) % s->size) {
        report_free_misuse(BUG_INVALID_POINTER, c, obj, NULL);
        return NULL;
    }
    return s;
}

EXPORT void *kmem_cache_alloc(struct kmem_cache *c, gfp_t flags)
{
    if (!c) {
        errno = EINVAL;
        return NULL;
    }
    void *obj = c->debug ? debug_alloc(c, c->size) : cache_alloc_one(c);
    if (obj && (flags & __GFP_ZERO))
        memset(obj, 0, c->size);
    return obj;
}

EXPORT void *kmem_cache_zalloc(struct kmem_cache *c, gfp_t flags)
{
    return kmem_cache_alloc(c, flags | __GFP_ZERO);
}

EXPORT void kmem_cache_free(struct kmem_cache *c, void *obj)
{
    if (!c || !obj)
        return;
    struct slab *s = object_check(c, obj);
    if (s && c->debug)
        debug_free(c, s, obj);
    else if (s)
        cache_free_one(c, s, obj);
}

static bool cache_empty(struct kmem_cache *c)
{
    lock(&c->lock, LOCK_CACHE);
    bool empty = c->nr_full == 0;
    for (struct slab *s = c->partial; s && empty; s = s->next)
        empty = s->inuse == 0;
    unlock(&c->lock, LOCK_CACHE);
    return empty;
}

EXPORT int kmem_cache_shrink(struct kmem_cache *c)
{
    if (!c)
        return 0;
    cache_release_empty(c);
    return !cache_empty(c);
}

EXPORT void kmem_cache_destroy(struct kmem_cache *c)
{
    if (!c)
        return;
    if (c >= kmalloc_caches && c < kmalloc_caches + NR_KMALLOC) {
        options_warn("kmem_cache_destroy() of a kmalloc cache refused");
        return;
    }
    cache_release_empty(c);
    if (debug_objects_remaining(c))
        return; /* reported; the cache stays usable, as in the kernel */
    lock(&cache_list_lock, LOCK_CACHE_LIST);
    for (struct kmem_cache **pp = &cache_list; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    unlock(&cache_list_lock, LOCK_CACHE_LIST);
    debug_cache_destroy(c);
    pthread_mutex_destroy(&c->lock);
    cache_free_one(&kmem_cache_cache, slab_lookup(c), c);
}

EXPORT const char *kmem_cache_name(const struct kmem_cache *c)
{
    return c ? c->name : NULL;
}

EXPORT size_t kmem_cache_size(const struct kmem_cache *c)
{
    return c ? c->size : 0;
}

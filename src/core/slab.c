/*
 * Slabs of a cache: creation, the partial/full lists, and returning an object
 * to its slab.  Every function here runs with the cache lock held.
 */
#include "core/internal.h"
#include "debug/debug.h"

void list_add_head(struct kmem_cache *c, struct slab *s, enum slab_list l)
{
    s->prev = NULL;
    s->list = (uint8_t)l;
    if (l == SLAB_ON_PARTIAL) {
        s->next = c->partial;
        if (c->partial)
            c->partial->prev = s;
        else
            c->partial_tail = s;
        c->partial = s;
        c->nr_partial++;
    } else {
        s->next = c->full;
        if (c->full)
            c->full->prev = s;
        c->full = s;
        c->nr_full++;
    }
}

void list_add_tail_partial(struct kmem_cache *c, struct slab *s)
{
    s->next = NULL;
    s->prev = c->partial_tail;
    s->list = SLAB_ON_PARTIAL;
    if (c->partial_tail)
        c->partial_tail->next = s;
    else
        c->partial = s;
    c->partial_tail = s;
    c->nr_partial++;
}

void list_del(struct kmem_cache *c, struct slab *s)
{
    if (s->list == SLAB_ON_PARTIAL) {
        if (s->prev)
            s->prev->next = s->next;
        else
            c->partial = s->next;
        if (s->next)
            s->next->prev = s->prev;
        else
            c->partial_tail = s->prev;
        c->nr_partial--;
    } else if (s->list == SLAB_ON_FULL) {
        if (s->prev)
            s->prev->next = s->next;
        else
            c->full = s->next;
        if (s->next)
            s->next->prev = s->prev;
        c->nr_full--;
    }
    s->list = SLAB_ON_NONE;
    s->next = s->prev = NULL;
}

/* A new, empty slab on the partial list (at the head: it is about to be used). */
struct slab *slab_new(struct kmem_cache *c)
{
    struct slab *s = span_alloc(c->slab_slices);
    if (!s)
        return NULL;
    s->cache = c;
    s->size = c->stride;
    s->objects = c->objects;
    s->bin = c->bin;
    s->bump = s->start;
    s->end = s->start + (size_t)c->objects * c->stride;
    s->freelist = NULL;
    s->inuse = 0;
    s->carved = 0; /* stays 0 in a debugged slab: its frees take the debug path */
    slab_divisor(s, c->stride);
    if (c->debug && !debug_slab_init(c, s)) {
        span_free(s);
        return NULL;
    }
    c->nr_slab_allocs++;
    list_add_head(c, s, SLAB_ON_PARTIAL);
    return s;
}

/* An empty slab goes back to the page layer (not on any list). */
void slab_release(struct kmem_cache *c, struct slab *s)
{
    c->nr_slab_frees++;
    if (c->debug) {
        if (c->debug & SLAB_CONSISTENCY_CHECKS)
            debug_slab_discard(c, s); /* SLUB checks a slab it gives back */
        debug_slab_release(c, s);
    }
    span_free(s);
}

/* Accounts for an object just taken from slab s: it is no longer empty,
 * and goes to the full list when nothing is left in it. */
void slab_took(struct kmem_cache *c, struct slab *s)
{
    if (s->inuse++ == 0)
        c->nr_empty--;
    if (s->inuse == s->objects) {
        list_del(c, s);
        list_add_head(c, s, SLAB_ON_FULL);
    }
}

void slab_put(struct kmem_cache *c, struct slab *s, void *obj)
{
    if (unlikely(s->isolated)) { /* retired by the debug checks: never reused */
        s->inuse--;
        return;
    }
    if (c->marker)
        ((uintptr_t *)obj)[1] = free_marker(obj);
    fp_set(c, obj, s->freelist);
    s->freelist = obj;
    if (s->inuse == s->objects) {
        list_del(c, s);
        list_add_head(c, s, SLAB_ON_PARTIAL);
    }
    if (--s->inuse)
        return;
    /* The slab is empty: keep a few for reuse, give the rest back. */
    list_del(c, s);
    if (c->nr_empty < c->keep_empty) {
        c->nr_empty++;
        list_add_tail_partial(c, s);
        return;
    }
    slab_release(c, s);
}

/* The object layout of debugged caches (drawn in debug.h). */
#include <string.h>

#include "debug/debug.h"
#include "front/options.h"

bool debug_any;
bool debug_foreign_checks;

void debug_cache_setup(struct kmem_cache *c)
{
    slab_flags_t f = c->debug;
    uint32_t size = c->size;
    uint32_t off = (uint32_t)align_up(size, sizeof(void *));
    /* A red zone of at least a word behind the object, so an overflow
     * never reaches the free pointer or the tracks first. */
    if ((f & SLAB_RED_ZONE) && off == size)
        off += sizeof(void *);
    c->inuse = off;
    if ((f & SLAB_POISON) || c->ctor) {
        c->fp_offset = off;
        off += sizeof(void *);
    } else {
        c->fp_offset = 0;
    }
    if (f & SLAB_STORE_USER) {
        c->track_offset = off;
        off += 2 * sizeof(struct track);
    }
    c->info_offset = off;
    off += sizeof(struct debug_info);
    c->info_end = off;
    c->red_left_pad = (f & SLAB_RED_ZONE) ? (uint32_t)align_up(sizeof(void *), c->align) : 0;
    c->stride = (uint32_t)align_up(c->red_left_pad + off, c->align);
    c->bin = NO_BIN;
    c->tcache_max = 0;
    c->batch = 1;
    c->xfer_max = 0;
    debug_any = true;
    if (c->is_kmalloc && (f & SLAB_CONSISTENCY_CHECKS))
        debug_foreign_checks = true;
}

/* Fills [p, p+n) and the slab's tail: poison, red zones, padding. */
void debug_slab_init(struct kmem_cache *c, struct slab *s)
{
    void *prev = NULL;
    size_t slab_bytes = (size_t)s->nslices << SLICE_SHIFT;
    bool poison = (c->debug & SLAB_POISON) && !c->ctor;
    /* Objects are linked in address order, so they are handed out in it. */
    for (uint32_t i = s->objects; i-- > 0;) {
        char *p = (char *)slab_object(c, s, i);
        if (c->debug & SLAB_RED_ZONE) {
            memset(p - c->red_left_pad, SLUB_RED_INACTIVE, c->red_left_pad);
            memset(p + c->size, SLUB_RED_INACTIVE, c->inuse - c->size);
        }
        if (poison) {
            memset(p, POISON_FREE, c->size - 1);
            p[c->size - 1] = (char)POISON_END;
        }
        if (c->debug & SLAB_POISON)
            memset(p + c->info_end, POISON_INUSE, c->stride - c->red_left_pad - c->info_end);
        if (c->debug & SLAB_STORE_USER)
            memset(get_track(c, p, TRACK_ALLOC), 0, 2 * sizeof(struct track));
        get_info(c, p)->orig_size = 0;
        get_info(c, p)->state = OBJ_STATE_FREE;
        if (c->ctor)
            c->ctor(p);
        fp_set(c, p, prev);
        prev = p;
    }
    s->freelist = prev;
    s->bump = s->end;
    if (c->debug & SLAB_POISON)
        memset(s->end, POISON_INUSE, (size_t)(s->start + slab_bytes - s->end));
}

/* The object layout of debugged caches (drawn in debug.h). */
#include <string.h>
#include <sys/mman.h>

#include "debug/debug.h"
#include "base/options.h"

bool debug_any;

void debug_cache_setup(struct kmem_cache *c)
{
    slab_flags_t f = c->debug;
    uint32_t size = c->size;
    uint32_t off = (uint32_t)align_up(size, sizeof(void *));
    /* A red zone of at least a word behind the object, so an overflow
     * never reaches the free pointer first. */
    if ((f & SLAB_RED_ZONE) && off == size)
        off += sizeof(void *);
    c->inuse = off;
    if ((f & SLAB_POISON) || c->ctor) {
        c->fp_offset = off;
        off += sizeof(void *);
    } else {
        c->fp_offset = 0;
    }
    c->pad_offset = off;
    c->meta_size = (uint32_t)sizeof(struct obj_meta);
    if (f & SLAB_STORE_USER)
        c->meta_size += 2 * (uint32_t)sizeof(struct track);
    c->red_left_pad = (f & SLAB_RED_ZONE) ? (uint32_t)align_up(sizeof(void *), c->align) : 0;
    c->stride = (uint32_t)align_up(c->red_left_pad + off, c->align);
    c->bin = NO_BIN;
    c->tcache_max = 0;
    c->batch = 1;
    c->xfer_max = 0;
    debug_any = true;
}

static size_t meta_bytes(const struct kmem_cache *c, const struct slab *s)
{
    return align_up((size_t)s->objects * c->meta_size, PAGE_SIZE_MIN);
}

/* Fills every object of a new slab and the slab's tail: poison, red zones,
 * padding; maps the metadata array (fresh pages: zero tracks). */
bool debug_slab_init(struct kmem_cache *c, struct slab *s)
{
    void *meta = mmap(NULL, meta_bytes(c, s), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                      -1, 0);
    if (meta == MAP_FAILED)
        return false;
    s->meta = meta;
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
            memset(p + c->pad_offset, POISON_INUSE, c->stride - c->red_left_pad - c->pad_offset);
        get_meta(c, s, p)->state = OBJ_STATE_FREE;
        if (c->ctor)
            c->ctor(p);
        fp_set(c, p, prev);
        prev = p;
    }
    s->freelist = prev;
    s->bump = s->end;
    if (c->debug & SLAB_POISON)
        memset(s->end, POISON_INUSE, (size_t)(s->start + slab_bytes - s->end));
    return true;
}

void debug_slab_release(struct kmem_cache *c, struct slab *s)
{
    if (s->meta)
        munmap(s->meta, meta_bytes(c, s));
    s->meta = NULL;
}

/*
 * Findings of the checks that are on without any debug flag (the free-list
 * hardening of core/internal.h, object starts, double frees, frees of
 * memory that is not ours), reported in SLUB's words.  Production mode has
 * no tracks; the report names the cache, the pointer, the object's bytes
 * when there is an object, and the stack that found it.  The caller has
 * already made sure nothing bad happens (the free is dropped, a corrupt
 * list is cut); this only tells.
 */
#include "debug/debug.h"
#include "report/bug.h"

void harden_report(enum bug_kind kind, struct kmem_cache *c, struct slab *s, const void *p)
{
    struct bug *b = bug_new(kind, c ? c->name : "kmalloc");
    if (!b)
        return;
    b->ptr = (uintptr_t)p;
    /* A corrupt link: the value found in the link, as the stray write left
     * it (explain looks values up). */
    if (kind == BUG_FREEPOINTER && c && p)
        b->ptr = *(const uintptr_t *)((const char *)p + c->fp_offset);
    if (c && s)
        bug_object(b, c, s, kind == BUG_ALREADY_FREE || kind == BUG_FREEPOINTER ? (void *)p : NULL);
}

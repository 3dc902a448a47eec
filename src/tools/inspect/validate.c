/*
 * slabdbg validate --pid/--core: the in-process validator (debug/validate.c,
 * debug/check.c) run on a target's memory from outside.
 *
 * Every slab of every cache:
 *   - the free list, each link decoded with the target's hardening key: an
 *     object start of this slab (free, in a debugged cache), and no more
 *     links than free objects;
 *   - the count: inuse == objects - free list - never carved;
 * and in debugged caches every object's red zones, poison and padding
 * against the values its state calls for, and the slab's padding behind
 * the last object.  Findings are printed in SLUB's format, as the process
 * itself prints them, except that nothing is repaired (the target is only
 * read): the FIX line says so.
 *
 * A live process keeps running while it is read; a slab changing under the
 * reader can show as a finding.  A core, or a stopped process (kill -STOP),
 * gives an exact answer.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/inspect.h"
#include "slabdbg.h"

#define RED_INACTIVE 0xbb
#define RED_ACTIVE 0xcc
#define POISON_INUSE 0x5a
#define POISON_FREE 0x6b
#define POISON_END 0xa5

struct validate {
    struct inspect *in;
    int errors;
    uint64_t slabs, objects;
};

struct finding {
    const char *reason; /* "Poison overwritten", "Freechain corrupt", ... */
    bool bytes;         /* a byte range: fault_start..fault_end */
    uint64_t fault_start, fault_end;
    unsigned first, expected;
    uint64_t object; /* 0: the slab only */
};

static void report(struct validate *v, const struct h_cache *c, const struct h_slab *s,
                   const struct finding *f)
{
    struct inspect *in = v->in;
    FILE *o = in->out;
    v->errors++;
    fprintf(o, "=============================================================================\n"
               "BUG %s (Not tainted): %s\n"
               "-----------------------------------------------------------------------------\n\n",
            c->name, f->reason);
    if (f->bytes)
        fprintf(o, "0x%" PRIx64 "-0x%" PRIx64 " @offset=%" PRIu64 ". First byte 0x%x instead of "
                   "0x%x\n",
                f->fault_start, f->fault_end, f->fault_start - s->start, f->first, f->expected);
    struct h_where w;
    bool have = f->object && heap_whatis(&in->h, f->object, &w) == 0 && w.kind == W_OBJECT;
    if (have && w.has_tracks) {
        inspect_print_track(in, "Allocated", &w.track[0]);
        inspect_print_track(in, "Freed", &w.track[1]);
    }
    fprintf(o, "Slab 0x%" PRIx64 " objects=%u used=%u fp=0x%" PRIx64 " flags=0x%x\n", s->addr,
            s->objects, s->inuse, s->freelist, c->debug);
    if (have) {
        uint64_t stored = 0;
        tgt_u64(&in->t, f->object + c->fp_offset, &stored);
        fprintf(o, "Object 0x%" PRIx64 " @offset=%" PRIu64 " fp=0x%" PRIx64 "\n", f->object,
                f->object - s->start, heap_link(&in->h, f->object + c->fp_offset, stored));
        uint64_t mark = f->bytes ? f->fault_start : 0;
        inspect_dump_object(in, &w, mark, f->bytes ? (unsigned)(f->fault_end - mark + 1) : 0);
    }
    fprintf(o, "FIX %s: not repaired (the %s is only read)\n\n", c->name,
            in->t.kind == TGT_PID ? "process" : "core");
}

/* SLUB's check_bytes: bytes of [p, p + n) (at target address addr) that
 * are not `value`. */
static void check_bytes(struct validate *v, const struct h_cache *c, const struct h_slab *s,
                        uint64_t obj, const char *what, const uint8_t *p, uint64_t addr,
                        uint8_t value, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] == value)
        i++;
    if (i == n)
        return;
    size_t end = n;
    while (end > i && p[end - 1] == value)
        end--;
    char reason[64];
    snprintf(reason, sizeof(reason), "%s overwritten", what);
    struct finding f = {reason, true, addr + i, addr + end - 1, p[i], value, obj};
    report(v, c, s, &f);
}

/* debug/check.c's debug_check_object, on a copy of the slot. */
static void check_object(struct validate *v, const struct h_cache *c, const struct h_slab *s,
                         const uint8_t *slot, uint64_t obj, bool active, uint32_t orig)
{
    const uint8_t *p = slot + c->red_left_pad;
    uint8_t val = active ? RED_ACTIVE : RED_INACTIVE;
    if (c->debug & SLAB_RED_ZONE) {
        check_bytes(v, c, s, obj, "Left Redzone", slot, obj - c->red_left_pad, val,
                    c->red_left_pad);
        check_bytes(v, c, s, obj, "Right Redzone", p + c->size, obj + c->size, val,
                    c->inuse - c->size);
        if (c->is_kmalloc && active && orig < c->size)
            check_bytes(v, c, s, obj, "kmalloc Redzone", p + orig, obj + orig, val,
                        c->size - orig);
    } else if ((c->debug & SLAB_POISON) && c->size < c->inuse) {
        check_bytes(v, c, s, obj, "Alignment padding", p + c->size, obj + c->size, POISON_INUSE,
                    c->inuse - c->size);
    }
    if (!(c->debug & SLAB_POISON))
        return;
    /* A cache with a constructor keeps its free objects constructed, not
     * poisoned; the reader does not see the constructor, but a poisoned
     * object ends with POISON_END. */
    if (!active && c->size && (c->is_kmalloc || p[c->size - 1] == POISON_END)) {
        check_bytes(v, c, s, obj, "Poison", p, obj, POISON_FREE, c->size - 1);
        check_bytes(v, c, s, obj, "End Poison", p + c->size - 1, obj + c->size - 1, POISON_END,
                    1);
    }
    uint32_t pad_len = c->stride - c->red_left_pad - c->pad_offset;
    check_bytes(v, c, s, obj, "Object padding", p + c->pad_offset, obj + c->pad_offset,
                POISON_INUSE, pad_len);
}

static bool slot_of(const struct h_cache *c, const struct h_slab *s, uint64_t p)
{
    uint64_t first = s->start + c->red_left_pad;
    return p >= first && p < s->end && (p - first) % c->stride == 0;
}

static uint32_t meta_state(const struct heap *h, const struct h_cache *c, const uint8_t *meta,
                           uint64_t i)
{
    uint32_t state;
    memcpy(&state, meta + i * c->meta_size + h->L[SLABDBG_L_META_STATE], 4);
    return state;
}

static void validate_slab(struct heap *h, const struct h_cache *c, const struct h_slab *s,
                          void *arg)
{
    struct validate *v = arg;
    v->slabs++;
    uint64_t span = (uint64_t)s->nslices * h->root.slice_size;
    uint64_t bytes = s->end - s->start;
    if (span < bytes || span > ((uint64_t)1 << 30))
        span = bytes;
    uint8_t *b = malloc(span);
    if (!b || tgt_read(h->t, s->start, b, span) != span) {
        fprintf(v->in->err, "slabdbg validate: slab 0x%" PRIx64 " of %s cannot be read\n",
                s->addr, c->name);
        free(b);
        return;
    }
    bool debug = c->debug && s->meta && c->meta_size;
    uint8_t *meta = NULL;
    if (debug) {
        size_t mb = (size_t)s->objects * c->meta_size;
        meta = malloc(mb);
        if (!meta || tgt_read(h->t, s->meta, meta, mb) != mb) {
            fprintf(v->in->err, "slabdbg validate: the metadata of slab 0x%" PRIx64
                                " of %s cannot be read\n",
                    s->addr, c->name);
            free(meta);
            free(b);
            return;
        }
    }
    /* The free list. */
    uint64_t never = s->bump < s->end && s->bump >= s->start ? (s->end - s->bump) / c->stride : 0;
    long limit = (long)s->objects - (long)s->inuse - (long)never, nfree = 0;
    bool broken = false;
    uint64_t prev = 0;
    for (uint64_t p = s->freelist; p;) {
        uint64_t idx = slot_of(c, s, p) ? (p - s->start) / c->stride : UINT64_MAX;
        bool bad = idx == UINT64_MAX || nfree >= limit ||
                   (debug && meta_state(h, c, meta, idx) != SLABDBG_STATE_FREE);
        if (bad) {
            struct finding f = {"Freechain corrupt", false, 0, 0, 0, 0, prev};
            report(v, c, s, &f);
            broken = true;
            break;
        }
        nfree++;
        prev = p;
        uint64_t stored;
        memcpy(&stored, b + (p - s->start) + c->fp_offset, 8);
        p = heap_link(h, p + c->fp_offset, stored);
    }
    if (!broken && !s->isolated && nfree != limit) {
        char reason[96];
        snprintf(reason, sizeof(reason), "Wrong number of objects. Found %ld but should be %ld",
                 nfree, limit);
        struct finding f = {reason, false, 0, 0, 0, 0, 0};
        report(v, c, s, &f);
    }
    /* The objects' bytes. */
    for (uint32_t i = 0; debug && i < s->objects; i++) {
        const uint8_t *m = meta + (size_t)i * c->meta_size;
        uint32_t orig;
        memcpy(&orig, m + h->L[SLABDBG_L_META_ORIG_SIZE], 4);
        uint64_t slot = (uint64_t)i * c->stride;
        check_object(v, c, s, b + slot, s->start + slot + c->red_left_pad,
                     meta_state(h, c, meta, i) == SLABDBG_STATE_ACTIVE, orig);
        v->objects++;
    }
    /* The slab's padding behind its last object. */
    if (debug && (c->debug & SLAB_POISON) && span > bytes) {
        uint64_t i = bytes, end = span;
        while (i < end && b[i] == POISON_INUSE)
            i++;
        if (i < end) {
            while (end > i && b[end - 1] == POISON_INUSE)
                end--;
            char reason[96];
            snprintf(reason, sizeof(reason),
                     "Padding overwritten. 0x%" PRIx64 "-0x%" PRIx64 " @offset=%" PRIu64,
                     s->start + i, s->start + end - 1, i);
            struct finding f = {reason, false, 0, 0, 0, 0, 0};
            report(v, c, s, &f);
        }
    }
    free(meta);
    free(b);
}

static void validate_cache(struct heap *h, const struct h_cache *c, void *arg)
{
    if (c->stride)
        heap_for_each_slab(h, c, validate_slab, arg);
}

int inspect_validate(struct inspect *in)
{
    struct validate v = {.in = in};
    heap_for_each_cache(&in->h, validate_cache, &v);
    fprintf(in->out, "slabdbg validate: %d problem%s in %" PRIu64 " slabs (%" PRIu64
                     " objects of debugged caches checked)\n",
            v.errors, v.errors == 1 ? "" : "s", v.slabs, v.objects);
    return v.errors ? 1 : 0;
}

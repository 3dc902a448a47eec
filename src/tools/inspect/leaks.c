/*
 * slabdbg leaks: the allocated objects nothing points to (kmemleak,
 * LeakSanitizer, libumem's ::findleaks), read from outside.
 *
 * A conservative mark: every aligned word of the roots that points into an
 * allocated object (its start or inside it) marks it, and the marked
 * objects are scanned in turn.  The roots: every readable, writable mapping
 * that is not the heap's own (data and bss of every loaded object, every
 * thread's stack, thread-local storage, memory of other allocators) and
 * every thread's registers.  What stays unmarked is reported, grouped by
 * allocation stack when the cache has U, else by cache.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/inspect.h"
#include "slabdbg.h"

struct obj {
    uint64_t start, size; /* size: what is scanned and reported (requested when known) */
    uint64_t cache;       /* the cache's address, 0 for huge */
    uint32_t handle;      /* allocation stack, 0 if none */
    uint64_t caller;
    bool marked;
};

struct leaks {
    struct inspect *in;
    struct obj *objs;
    size_t n, cap;
    uint64_t *stack; /* worklist of object indices */
    size_t nstack, capstack;
    uint8_t *buf;
    size_t bufcap;
};

static void add_obj(struct leaks *l, const struct obj *o)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4096;
        void *m = realloc(l->objs, cap * sizeof(*l->objs));
        if (!m)
            return;
        l->objs = m;
        l->cap = cap;
    }
    l->objs[l->n++] = *o;
}

static uint8_t *buffer(struct leaks *l, size_t n)
{
    if (n > l->bufcap) {
        void *m = realloc(l->buf, n);
        if (!m)
            return NULL;
        l->buf = m;
        l->bufcap = n;
    }
    return l->buf;
}

/* The allocated objects of one slab, read in one go (a slab, its metadata). */
static void collect_slab(struct heap *h, const struct h_cache *c, const struct h_slab *s,
                         void *arg)
{
    struct leaks *l = arg;
    if (!s->inuse)
        return;
    size_t bytes = (size_t)(s->end - s->start);
    if (bytes > ((size_t)1 << 30))
        return;
    uint8_t *slab = malloc(bytes);
    if (!slab || tgt_read(h->t, s->start, slab, bytes) != bytes) {
        free(slab);
        return;
    }
    uint8_t *meta = NULL;
    bool debug = c->debug && s->meta && c->meta_size;
    if (debug) {
        size_t mb = (size_t)s->objects * c->meta_size;
        meta = buffer(l, mb);
        if (!meta || tgt_read(h->t, s->meta, meta, mb) != mb) {
            free(slab);
            return;
        }
    }
    for (uint32_t i = 0; i < s->objects; i++) {
        uint64_t slot_off = (uint64_t)i * c->stride;
        uint64_t obj = s->start + slot_off + c->red_left_pad;
        struct obj o = {obj, c->size, c->addr, 0, 0, false};
        if (debug) {
            const uint8_t *m = meta + (size_t)i * c->meta_size;
            uint32_t state, orig;
            memcpy(&state, m + h->L[SLABDBG_L_META_STATE], 4);
            memcpy(&orig, m + h->L[SLABDBG_L_META_ORIG_SIZE], 4);
            if (state != SLABDBG_STATE_ACTIVE)
                continue;
            if (c->is_kmalloc && orig <= c->size)
                o.size = orig;
            if (c->debug & SLAB_STORE_USER) {
                const uint8_t *t = m + h->L[SLABDBG_L_META_TRACK];
                memcpy(&o.caller, t + h->L[SLABDBG_L_TRACK_ADDR], 8);
                memcpy(&o.handle, t + h->L[SLABDBG_L_TRACK_HANDLE], 4);
            }
        } else {
            if (s->start + slot_off >= s->bump)
                break;
            if (c->marker) {
                uint64_t w1;
                memcpy(&w1, slab + slot_off + c->red_left_pad + 8, 8);
                if (w1 == (h->free_key ^ obj))
                    continue;
            } else if (heap_object_state(h, c, s, i, NULL) != ST_ALLOCATED) {
                continue;
            }
        }
        add_obj(l, &o);
    }
    free(slab);
}

static void collect_cache(struct heap *h, const struct h_cache *c, void *arg)
{
    heap_for_each_slab(h, c, collect_slab, arg);
}

static void add_where(struct leaks *l, const struct h_where *w)
{
    if (w->state != ST_ALLOCATED)
        return;
    struct obj o = {w->obj, w->has_orig ? w->orig_size : w->obj_size,
                    w->has_cache ? w->c.addr : 0, 0, 0, false};
    if (w->has_tracks) {
        o.handle = w->track[0].handle;
        o.caller = w->track[0].addr;
    }
    add_obj(l, &o);
}

/* The objects outside slabs: huge ones, guarded ones (G), and the sampled
 * ones in the pool's slots. */
static void collect_segment(struct heap *h, uint64_t seg, uint8_t kind, void *arg)
{
    struct leaks *l = arg;
    struct h_where w;
    if (kind == SLABDBG_SEG_HUGE) {
        struct h_slab s;
        if (heap_slab(h, seg + h->L[SLABDBG_L_SEGMENT_SLABS], &s) &&
            heap_whatis(h, s.start, &w) == 0 && w.kind == W_HUGE)
            add_where(l, &w);
    } else if (kind == SLABDBG_SEG_GUARD) {
        uint64_t obj;
        if (tgt_u64(h->t, seg + h->L[SLABDBG_L_SEGMENT_SIZE] + h->L[SLABDBG_L_GUARD_OBJECT],
                    &obj) &&
            heap_whatis(h, obj, &w) == 0 && w.kind == W_GUARD)
            add_where(l, &w);
    } else if (kind == SLABDBG_SEG_POOL) {
        uint32_t nslots;
        uint64_t data0;
        if (!heap_pool(h, seg, &nslots, &data0))
            return;
        for (uint32_t i = 0; i < nslots; i++)
            if (heap_pool_slot(h, seg, i, 0, &w) == 0)
                add_where(l, &w);
    }
}

static int by_start(const void *a, const void *b)
{
    const struct obj *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* The object holding address v, or -1. */
static long find(const struct leaks *l, uint64_t v)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (l->objs[mid].start <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo)
        return -1;
    const struct obj *o = &l->objs[lo - 1];
    return v < o->start + (o->size ? o->size : 1) ? (long)(lo - 1) : -1;
}

static void mark(struct leaks *l, uint64_t v)
{
    long i = find(l, v);
    if (i < 0 || l->objs[i].marked)
        return;
    l->objs[i].marked = true;
    if (l->nstack == l->capstack) {
        size_t cap = l->capstack ? l->capstack * 2 : 4096;
        void *m = realloc(l->stack, cap * sizeof(*l->stack));
        if (!m)
            return;
        l->stack = m;
        l->capstack = cap;
    }
    l->stack[l->nstack++] = (uint64_t)i;
}

static void scan_words(struct leaks *l, const uint8_t *p, size_t n)
{
    for (size_t k = 0; k + 8 <= n; k += 8) {
        uint64_t v;
        memcpy(&v, p + k, 8);
        if (v >= 0x10000)
            mark(l, v);
    }
}

static void drain(struct leaks *l)
{
    while (l->nstack) {
        const struct obj *o = &l->objs[l->stack[--l->nstack]];
        size_t n = (size_t)(o->size & ~(uint64_t)7);
        uint8_t *b = buffer(l, n ? n : 8);
        if (b && n && tgt_read(&l->in->t, o->start, b, n) == n)
            scan_words(l, b, n);
    }
}

/* The report arena is not the heap but a root: the loader's and the
 * symbolizer's allocations made in report mode, whose lists point at heap
 * objects. */
static bool is_heap_chunk(struct heap *h, uint64_t a)
{
    struct h_where w;
    return heap_whatis(h, a, &w) == 0 && w.kind != W_NOT_OURS && w.kind != W_ARENA;
}

/* Where a thread's stack is live: from its stack pointer up. */
static uint64_t live_from(const struct target *t, const struct tgt_map *m)
{
    for (int i = 0; i < t->nthreads; i++) {
        uint64_t sp = t->threads[i].regs.rsp;
        if (t->threads[i].has_regs && sp >= m->start && sp < m->end)
            return sp & ~(uint64_t)7;
    }
    return m->start;
}

static void scan_roots(struct leaks *l)
{
    struct target *t = &l->in->t;
    struct heap *h = &l->in->h;
    enum { CHUNK = 1 << 20 };
    uint8_t *b = malloc(CHUNK);
    if (!b)
        return;
    for (int i = 0; i < t->nmaps; i++) {
        const struct tgt_map *m = &t->maps[i];
        if (t->kind == TGT_PID && (!m->readable || !m->writable))
            continue;
        if (!strcmp(m->path, "[vvar]") || !strcmp(m->path, "[vsyscall]") ||
            !strcmp(m->path, "[vdso]"))
            continue;
        /* Chunks end at 1 MiB boundaries, so none straddles a segment. */
        for (uint64_t a = live_from(t, m), next; a < m->end; a = next) {
            next = (a & ~(uint64_t)(CHUNK - 1)) + CHUNK;
            if (next > m->end)
                next = m->end;
            /* The heap's own memory is not a root: its segments, and the
             * tails of huge objects beyond their first segment. */
            long o = find(l, a);
            if (is_heap_chunk(h, a) || (o >= 0 && l->objs[o].size > CHUNK))
                continue;
            size_t got = tgt_read(t, a, b, (size_t)(next - a));
            scan_words(l, b, got);
            drain(l);
        }
    }
    free(b);
    for (int i = 0; i < t->nthreads; i++)
        if (t->threads[i].has_regs) {
            scan_words(l, (const uint8_t *)&t->threads[i].regs, sizeof(t->threads[i].regs));
            drain(l);
        }
}

/* A core lists only the mappings of files (NT_FILE): its other memory, the
 * PT_LOAD segments, is added as mappings without a name. */
static void core_maps(struct target *t)
{
    int nfile = t->nmaps;
    for (int i = 0; i < t->nloads; i++) {
        const struct tgt_load *ld = &t->loads[i];
        if (!ld->filesz)
            continue;
        bool named = false;
        for (int k = 0; k < nfile && !named; k++)
            named = t->maps[k].start == ld->vaddr;
        struct tgt_map m = {.start = ld->vaddr, .end = ld->vaddr + ld->filesz, .readable = true,
                            .writable = true};
        (void)named; /* file-backed pages the core holds were written: data */
        if (t->nmaps % 64 == 0) {
            void *n = realloc(t->maps, (size_t)(t->nmaps + 64) * sizeof(*t->maps));
            if (!n)
                return;
            t->maps = n;
        }
        t->maps[t->nmaps++] = m;
    }
}

struct group {
    uint64_t caller, cache;
    uint32_t handle;
    uint64_t count, bytes;
    size_t first; /* an object of the group */
    bool mixed;   /* of several caches (grouped by stack) */
};

static int by_bytes(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    return x->bytes > y->bytes ? -1 : x->bytes < y->bytes;
}

static char **read_supp(const char *path, int *n)
{
    *n = 0;
    if (!path)
        return NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char **v = NULL, line[512];
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n#")] = 0;
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t len = strlen(s);
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            s[--len] = 0;
        if (!len)
            continue;
        if (!strncmp(s, "leak:", 5))
            s += 5;
        char **nv = realloc(v, (size_t)(*n + 1) * sizeof(*v));
        if (!nv)
            break;
        v = nv;
        v[(*n)++] = strdup(s);
    }
    fclose(f);
    return v;
}

static bool suppressed(struct inspect *in, const struct group *g, char **supp, int nsupp)
{
    if (!nsupp)
        return false;
    uint64_t frames[64];
    unsigned n = heap_stack(&in->h, g->handle, frames, 64);
    if (!n && g->caller) {
        frames[0] = g->caller;
        n = 1;
    }
    for (unsigned i = 0; i < n; i++) {
        struct tsym_info si;
        if (tsym_lookup(in->sym, frames[i] - 1, &si) != 0 || !si.func[0])
            continue;
        for (int k = 0; k < nsupp; k++)
            if (!strcmp(si.func, supp[k]))
                return true;
    }
    return false;
}

int inspect_leaks(struct inspect *in, const char *supp_path)
{
    struct leaks l = {.in = in};
    int nsupp = 0;
    char **supp = read_supp(supp_path, &nsupp);
    if (supp_path && !supp && nsupp == 0) {
        FILE *f = fopen(supp_path, "r");
        if (!f) {
            fprintf(in->err, "slabdbg leaks: %s: cannot be read\n", supp_path);
            return 2;
        }
        fclose(f);
    }
    if (in->t.kind == TGT_PID && tgt_pid_registers(&in->t) != 0)
        fprintf(in->err, "slabdbg leaks: %s; the registers are not scanned (pointers held only "
                         "in registers may show as leaks)\n",
                in->t.err);
    if (in->t.kind == TGT_CORE)
        core_maps(&in->t);
    heap_for_each_cache(&in->h, collect_cache, &l);
    heap_for_each_segment(&in->h, collect_segment, &l);
    qsort(l.objs, l.n, sizeof(*l.objs), by_start);
    scan_roots(&l);

    /* Group what stayed unmarked. */
    struct group *g = NULL;
    size_t ng = 0, cap = 0;
    uint64_t total = 0, total_bytes = 0;
    for (size_t i = 0; i < l.n; i++) {
        const struct obj *o = &l.objs[i];
        if (o->marked)
            continue;
        size_t k = 0;
        for (; k < ng; k++)
            if (g[k].handle == o->handle && g[k].caller == o->caller &&
                (o->handle || g[k].cache == o->cache))
                break;
        if (k == ng) {
            if (ng == cap) {
                cap = cap ? cap * 2 : 64;
                void *m = realloc(g, cap * sizeof(*g));
                if (!m)
                    break;
                g = m;
            }
            g[ng++] = (struct group){o->caller, o->cache, o->handle, 0, 0, i, false};
        }
        if (g[k].cache != o->cache)
            g[k].mixed = true;
        g[k].count++;
        g[k].bytes += o->size;
    }
    if (ng)
        qsort(g, ng, sizeof(*g), by_bytes);
    size_t shown = 0;
    for (size_t k = 0; k < ng; k++) {
        if (suppressed(in, &g[k], supp, nsupp))
            continue;
        shown++;
        total += g[k].count;
        total_bytes += g[k].bytes;
        const struct obj *o = &l.objs[g[k].first];
        struct h_cache c;
        bool has_cache = o->cache && heap_cache(&in->h, o->cache, &c);
        fprintf(in->out, "Leak of %" PRIu64 " bytes in %" PRIu64 " object%s (%s; e.g. 0x%" PRIx64
                         ")",
                g[k].bytes, g[k].count, g[k].count == 1 ? "" : "s",
                g[k].mixed ? "several caches" : has_cache ? c.name : "huge", o->start);
        if (g[k].caller) {
            fprintf(in->out, " allocated from:\n");
            if (!heap_stack(&in->h, g[k].handle, (uint64_t[1]){0}, 1)) {
                char buf[600];
                tsym_frame(in->sym, g[k].caller, 1, buf, sizeof(buf));
                fprintf(in->out, " %s\n", buf);
            } else {
                inspect_print_stack(in, g[k].handle, " ");
            }
        } else {
            fprintf(in->out, "\n (no allocation stack: %s)\n",
                    has_cache ? "the cache runs without U" : "huge objects keep none");
        }
        fputc('\n', in->out);
    }
    fprintf(in->out, "slabdbg leaks: %" PRIu64 " unreachable object%s, %" PRIu64
                     " bytes, in %zu group%s (%zu allocated objects scanned)\n",
            total, total == 1 ? "" : "s", total_bytes, shown, shown == 1 ? "" : "s", l.n);
    for (int k = 0; k < nsupp; k++)
        free(supp[k]);
    free(supp);
    free(g);
    free(l.objs);
    free(l.stack);
    free(l.buf);
    return total ? 1 : 0;
}

/*
 * The leak check at exit (SLABDBG_OPTIONS=leaks=1): the allocated objects
 * that nothing of the process points to any more, as `slabdbg leaks` finds
 * them from outside (src/tools/inspect/leaks.c), from inside.
 *
 * A conservative mark.  Candidates: every allocated object (slabs, huge
 * objects, guarded and sampled ones).  Roots: every readable, writable
 * mapping of /proc/self/maps that is not ours (data and bss of every
 * loaded object, TLS, other threads' stacks whole, memory of other
 * allocators), the calling thread's stack from its current frame, and its
 * registers.  A word that points at a candidate (its start or inside it)
 * marks it; marked candidates are scanned in turn.  The unmarked ones are
 * printed grouped by allocation stack (U) or by cache.
 *
 * Light: the tables are mapped directly (no malloc while the caches are
 * walked), no library beyond libc; symbolizing the stacks of what is found
 * is the only costly part, and happens only when something is.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/lock.h"
#include "base/options.h"
#include "base/out.h"
#include "debug/debug.h"
#include "debug/guard.h"
#include "debug/leaks.h"
#include "debug/stackdepot.h"
#include "report/symbolize.h"

struct cand {
    uintptr_t start;
    size_t size;
    const struct kmem_cache *cache; /* NULL: huge or sampled */
    uintptr_t caller;
    depot_handle_t handle;
    bool marked;
};

/* A growable array in its own mapping. */
struct vec {
    void *p;
    size_t n, cap, elem;
};

static bool vec_push(struct vec *v, const void *e)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 65536;
        void *m = v->p ? mremap(v->p, v->cap * v->elem, cap * v->elem, MREMAP_MAYMOVE)
                       : mmap(NULL, cap * v->elem, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return false;
        v->p = m;
        v->cap = cap;
    }
    memcpy((char *)v->p + v->n++ * v->elem, e, v->elem);
    return true;
}

static void vec_free(struct vec *v)
{
    if (v->p)
        munmap(v->p, v->cap * v->elem);
}

struct scan {
    struct vec cands; /* struct cand, sorted by start once collected */
    struct vec work;  /* size_t: marked candidates not scanned yet */
};

static void add(struct scan *sc, uintptr_t start, size_t size, const struct kmem_cache *c,
                const struct track *t)
{
    struct cand e = {start, size, c, t ? t->addr : 0, t ? t->handle : 0, false};
    vec_push(&sc->cands, &e);
}

/* ---- candidates ------------------------------------------------------------------- */

static void collect_slab(struct scan *sc, struct kmem_cache *c, struct slab *s)
{
    /* Caches without free markers or metadata (constructors, tiny strides):
     * the slab's free list says which objects are free. */
    enum { MAXBITS = 1 << 16 };
    static uint64_t isfree[MAXBITS / 64];
    bool by_list = !c->debug && !c->marker;
    if (by_list) {
        if (s->objects > MAXBITS)
            return;
        memset(isfree, 0, (s->objects + 63) / 64 * 8);
        uint32_t n = 0;
        for (uintptr_t p = (uintptr_t)s->freelist; p && n++ < s->objects;
             p = fp_get_raw(c, (void *)p)) {
            if (p < (uintptr_t)s->start || p >= (uintptr_t)s->end)
                break;
            uint32_t i = (uint32_t)((p - (uintptr_t)s->start) / c->stride);
            isfree[i / 64] |= 1ull << (i % 64);
        }
    }
    for (uint32_t i = 0; i < s->objects; i++) {
        uint8_t *p = slab_object(c, s, i);
        if (c->debug && s->meta) {
            struct obj_meta *m = get_meta(c, s, p);
            if (m->state != OBJ_STATE_ACTIVE)
                continue;
            size_t size = c->is_kmalloc && m->orig_size <= c->size ? m->orig_size : c->size;
            add(sc, (uintptr_t)p, size, c,
                (c->debug & SLAB_STORE_USER) ? &m->track[TRACK_ALLOC] : NULL);
            continue;
        }
        if (p - c->red_left_pad >= (uint8_t *)s->bump)
            break;
        if (c->marker ? ((uintptr_t *)p)[1] == free_marker(p) : (isfree[i / 64] >> (i % 64)) & 1)
            continue;
        add(sc, (uintptr_t)p, c->size, c, NULL);
    }
}

static void collect_cache(struct scan *sc, struct kmem_cache *c)
{
    lock(&c->lock, LOCK_CACHE);
    for (struct slab *s = c->partial; s; s = s->next)
        collect_slab(sc, c, s);
    for (struct slab *s = c->full; s; s = s->next)
        collect_slab(sc, c, s);
    unlock(&c->lock, LOCK_CACHE);
}

static void add_slot(struct scan *sc, const struct guard_slot *sl)
{
    if (sl->state == SLOT_LIVE)
        add(sc, sl->object, sl->size, NULL,
            sl->track[TRACK_ALLOC].addr ? &sl->track[TRACK_ALLOC] : NULL);
}

/* Huge objects, guarded ones and the sampling pool's: by the segment map,
 * then the huge objects aligned beyond it (on the huge list only). */
static void collect_segments(struct scan *sc)
{
    const size_t words = ((size_t)1 << (VA_BITS - SEG_SHIFT)) / 64;
    lock(&huge_lock, LOCK_HUGE);
    lock(&guard_lock, LOCK_GUARD);
    for (size_t w = 0; w < words; w++) {
        for (uint64_t bits = atomic_load_explicit(&segmap[w], memory_order_relaxed); bits;
             bits &= bits - 1) {
            struct segment *seg =
                (struct segment *)((w * 64 + (size_t)__builtin_ctzll(bits)) << SEG_SHIFT);
            if (seg->magic != SEG_MAGIC)
                continue;
            if (seg->kind == SEG_HUGE && seg->slabs[0].inuse) {
                add(sc, (uintptr_t)seg->slabs[0].start, seg->huge_size, NULL, NULL);
            } else if (seg->kind == SEG_GUARD) {
                add_slot(sc, (const struct guard_slot *)(seg + 1));
            } else if (seg->kind == SEG_POOL) {
                const struct pool *pl = (const struct pool *)(seg + 1);
                lock(&pl->owner->lock, LOCK_GPOOL);
                for (uint32_t i = 0; i < pl->next_unused; i++)
                    add_slot(sc, &pl->slot[i]);
                unlock(&pl->owner->lock, LOCK_GPOOL);
            }
        }
    }
    for (struct segment *seg = huge_list; seg; seg = seg->next)
        if (seg->big_align && seg->slabs[0].inuse)
            add(sc, (uintptr_t)seg->slabs[0].start, seg->huge_size, NULL, NULL);
    unlock(&guard_lock, LOCK_GUARD);
    unlock(&huge_lock, LOCK_HUGE);
}

static int by_start(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* ---- the mark ----------------------------------------------------------------------- */

static struct cand *find(struct scan *sc, uintptr_t v)
{
    struct cand *c = sc->cands.p;
    size_t lo = 0, hi = sc->cands.n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c[mid].start <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo)
        return NULL;
    struct cand *o = &c[lo - 1];
    return v < o->start + (o->size ? o->size : 1) ? o : NULL;
}

static void scan_range(struct scan *sc, uintptr_t from, uintptr_t to)
{
    struct cand *first = sc->cands.p;
    uintptr_t lo = sc->cands.n ? first[0].start : 1, hi = 0;
    if (sc->cands.n) {
        struct cand *last = &first[sc->cands.n - 1];
        hi = last->start + last->size;
    }
    for (uintptr_t a = (from + 7) & ~(uintptr_t)7; a + 8 <= to; a += 8) {
        uintptr_t v = *(const uintptr_t *)a;
        if (v < lo || v >= hi)
            continue;
        struct cand *o = find(sc, v);
        if (!o || o->marked)
            continue;
        o->marked = true;
        size_t i = (size_t)(o - first);
        vec_push(&sc->work, &i);
    }
}

static void drain(struct scan *sc)
{
    while (sc->work.n) {
        size_t i = ((size_t *)sc->work.p)[--sc->work.n];
        const struct cand *o = &((struct cand *)sc->cands.p)[i];
        scan_range(sc, o->start, o->start + o->size);
    }
}

/* Is [a, a + 1 MiB) the heap's own, or one of our tables?  The report
 * arena is a root: the loader's and the symbolizer's allocations made in
 * report mode live there, and the loader's lists in them point at heap
 * objects (a library loaded later, say). */
static bool not_a_root(struct scan *sc, uintptr_t a)
{
    if (segmap_test((void *)a))
        return segment_of((void *)a)->kind != SEG_ARENA;
    struct cand *o = find(sc, a);
    if (o && o->size > ((size_t)1 << 20)) /* the tail of a huge object */
        return true;
    for (const struct vec *v = &sc->cands; v <= &sc->work; v++)
        if (v->p && a >= (uintptr_t)v->p && a < (uintptr_t)v->p + v->cap * v->elem)
            return true;
    return false;
}

static void scan_mapping(struct scan *sc, uintptr_t start, uintptr_t end)
{
    const uintptr_t chunk = (uintptr_t)1 << 20;
    for (uintptr_t a = start, next; a < end; a = next) {
        next = (a & ~(chunk - 1)) + chunk;
        if (next > end)
            next = end;
        if (!not_a_root(sc, a)) {
            scan_range(sc, a, next);
            drain(sc);
        }
    }
}

/* Every readable, writable mapping that is not ours; the calling thread's
 * stack from sp. */
static void scan_maps(struct scan *sc, uintptr_t sp)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    static char buf[1 << 16];
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
        if (n <= 0 && have == 0)
            break;
        have += n > 0 ? (size_t)n : 0;
        buf[have] = 0;
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n')) || (n <= 0 && *line)) {
            if (nl)
                *nl = 0;
            char *e;
            uintptr_t start = strtoul(line, &e, 16), end = strtoul(e + 1, &e, 16);
            const char *perms = e + 1;
            const char *path = strchr(perms, '/');
            if (!path)
                path = strchr(perms, '[');
            if (!path)
                path = "";
            bool skip = perms[0] != 'r' || perms[1] != 'w' || perms[3] == 's' ||
                        !strncmp(path, "/dev/", 5) || !strcmp(path, "[vvar]") ||
                        !strcmp(path, "[vsyscall]") || !strcmp(path, "[vdso]");
            if (!skip) {
                if (sp >= start && sp < end)
                    start = sp;
                scan_mapping(sc, start, end);
            }
            if (!nl)
                break;
            line = nl + 1;
        }
        if (n <= 0)
            break;
        have = (size_t)(buf + have - line);
        memmove(buf, line, have);
    }
    close(fd);
}

/* ---- the report ------------------------------------------------------------------- */

struct group {
    uintptr_t caller;
    depot_handle_t handle;
    const struct kmem_cache *cache;
    bool mixed;
    uint64_t count, bytes;
    uintptr_t example;
};

static void frame(struct out *o, uintptr_t pc)
{
    struct sym_info si;
    out_char(o, ' ');
    if (symbolize_pc(pc - 1, &si) < 0 || !si.func[0]) {
        out_hex(o, pc);
    } else {
        out_str(o, si.func);
        out_char(o, '+');
        out_hex(o, si.offset + 1);
        if (si.size) {
            out_char(o, '/');
            out_hex(o, si.size);
        }
        if (si.file[0]) {
            out_char(o, ' ');
            out_str(o, si.file);
            out_char(o, ':');
            out_u64(o, (uint64_t)si.line);
        }
    }
    out_char(o, '\n');
}

/* The suppressions: function names, one a line. */
static char supp_buf[16384];

static bool suppressed(const struct group *g)
{
    if (!supp_buf[0])
        return false;
    const uintptr_t *frames;
    unsigned n = g->handle ? depot_fetch(g->handle, &frames) : 0;
    uintptr_t one = g->caller;
    if (!n && one) {
        frames = &one;
        n = 1;
    }
    for (unsigned i = 0; i < n; i++) {
        struct sym_info si;
        if (symbolize_pc(frames[i] - 1, &si) < 0 || !si.func[0])
            continue;
        size_t len = strlen(si.func);
        for (const char *l = supp_buf; *l; l += strlen(l) + 1)
            if (strlen(l) == len && !memcmp(l, si.func, len))
                return true;
    }
    return false;
}

static void read_suppressions(void)
{
    supp_buf[0] = 0;
    if (!opt.leak_suppressions[0])
        return;
    int fd = open(opt.leak_suppressions, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        options_warn("SLABDBG_OPTIONS: leak_suppressions: the file cannot be read");
        return;
    }
    static char raw[sizeof(supp_buf)];
    ssize_t n = read(fd, raw, sizeof(raw) - 1);
    close(fd);
    raw[n > 0 ? n : 0] = 0;
    /* Each name becomes a string of its own; "#" comments, "leak:" prefixes
     * and blanks are dropped. */
    char *out = supp_buf;
    char *save = NULL;
    for (char *l = strtok_r(raw, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        l[strcspn(l, "#\r")] = 0;
        l += strspn(l, " \t");
        if (!strncmp(l, "leak:", 5))
            l += 5;
        size_t len = strcspn(l, " \t");
        if (!len || out + len + 2 > supp_buf + sizeof(supp_buf))
            continue;
        memcpy(out, l, len);
        out += len;
        *out++ = 0;
    }
    *out = 0;
}

static void report(struct scan *sc, int fd, uint64_t *total, uint64_t *bytes)
{
    struct vec groups = {.elem = sizeof(struct group)};
    struct cand *c = sc->cands.p;
    for (size_t i = 0; i < sc->cands.n; i++) {
        if (c[i].marked)
            continue;
        struct group *g = groups.p;
        size_t k = 0;
        for (; k < groups.n; k++)
            if (g[k].handle == c[i].handle && g[k].caller == c[i].caller &&
                (c[i].handle || g[k].cache == c[i].cache))
                break;
        if (k == groups.n) {
            struct group ng = {c[i].caller, c[i].handle, c[i].cache, false, 0, 0, c[i].start};
            if (!vec_push(&groups, &ng))
                break;
            g = groups.p;
        }
        g[k].mixed |= g[k].cache != c[i].cache;
        g[k].count++;
        g[k].bytes += c[i].size;
    }
    /* Largest first (few groups: a selection sort). */
    struct group *g = groups.p;
    for (size_t i = 0; i < groups.n; i++)
        for (size_t k = i + 1; k < groups.n; k++)
            if (g[k].bytes > g[i].bytes) {
                struct group t = g[i];
                g[i] = g[k];
                g[k] = t;
            }
    read_suppressions();
    size_t shown = 0;
    struct out o;
    out_init(&o, fd);
    for (size_t i = 0; i < groups.n; i++) {
        if (suppressed(&g[i]))
            continue;
        shown++;
        *total += g[i].count;
        *bytes += g[i].bytes;
        out_str(&o, "Leak of ");
        out_u64(&o, g[i].bytes);
        out_str(&o, " bytes in ");
        out_u64(&o, g[i].count);
        out_str(&o, g[i].count == 1 ? " object (" : " objects (");
        out_str(&o, g[i].mixed ? "several caches" : g[i].cache ? g[i].cache->name : "huge");
        out_str(&o, "; e.g. ");
        out_hex(&o, g[i].example);
        out_char(&o, ')');
        const uintptr_t *frames;
        unsigned n = g[i].handle ? depot_fetch(g[i].handle, &frames) : 0;
        if (n || g[i].caller) {
            out_str(&o, " allocated from:\n");
            if (!n)
                frame(&o, g[i].caller);
            for (unsigned k = 0; k < n; k++)
                frame(&o, frames[k]);
        } else {
            out_str(&o, "\n (no allocation stack: ");
            out_str(&o, g[i].cache ? "the cache runs without U)\n" : "huge objects keep none)\n");
        }
        out_char(&o, '\n');
        out_flush(&o);
    }
    if (!*total) { /* silent when clean, as LeakSanitizer */
        vec_free(&groups);
        return;
    }
    out_str(&o, "slabdbg leaks: ");
    out_u64(&o, *total);
    out_str(&o, *total == 1 ? " unreachable object, " : " unreachable objects, ");
    out_u64(&o, *bytes);
    out_str(&o, " bytes, in ");
    out_u64(&o, shown);
    out_str(&o, shown == 1 ? " group (" : " groups (");
    out_u64(&o, sc->cands.n);
    out_str(&o, " allocated objects scanned)\n");
    out_flush(&o);
    vec_free(&groups);
}

/* noinline: its frame, and what the registers held when it was called, lie
 * above the stack pointer it starts from. */
__attribute__((noinline)) static void mark_from_roots(struct scan *sc)
{
    jmp_buf regs; /* the callee-saved registers (the others are on the stack) */
    setjmp(regs);
    scan_range(sc, (uintptr_t)&regs, (uintptr_t)&regs + sizeof(regs));
    drain(sc);
    scan_maps(sc, (uintptr_t)__builtin_frame_address(0) - 512);
    __asm__ volatile("" ::"r"(&regs) : "memory");
}

int leaks_check_at_exit(int fd)
{
    struct scan sc = {.cands = {.elem = sizeof(struct cand)}, .work = {.elem = sizeof(size_t)}};
    for (unsigned i = 0; i < NR_KMALLOC; i++)
        collect_cache(&sc, &kmalloc_caches[i]);
    lock(&cache_list_lock, LOCK_CACHE_LIST);
    for (struct kmem_cache *c = cache_list; c; c = c->next)
        collect_cache(&sc, c);
    unlock(&cache_list_lock, LOCK_CACHE_LIST);
    collect_segments(&sc);
    if (sc.cands.n)
        qsort(sc.cands.p, sc.cands.n, sizeof(struct cand), by_start);
    mark_from_roots(&sc);
    uint64_t total = 0, bytes = 0;
    report(&sc, fd, &total, &bytes);
    vec_free(&sc.cands);
    vec_free(&sc.work);
    return total ? 1 : 0;
}

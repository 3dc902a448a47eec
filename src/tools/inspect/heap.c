/* The allocator's structures in a target (heap.h). */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inspect/heap.h"
#include "slabdbg.h"

#define MAX_SLABS_PER_LIST (1u << 22) /* list walks end here: a cycle in a corrupted heap */
#define MAX_CACHES 100000

static uint32_t get32(const uint8_t *b, uint32_t off)
{
    uint32_t v;
    memcpy(&v, b + off, 4);
    return v;
}
static uint64_t get64(const uint8_t *b, uint32_t off)
{
    uint64_t v;
    memcpy(&v, b + off, 8);
    return v;
}
static uint16_t get16(const uint8_t *b, uint32_t off)
{
    uint16_t v;
    memcpy(&v, b + off, 2);
    return v;
}

/* ---- finding the root ---------------------------------------------------------------- */

/* The address of slabdbg_root in the file mapped at map (offset 0), or 0. */
static uint64_t root_in_file(struct target *t, const struct tgt_map *map)
{
    const char *path = tgt_file_path(t, map->path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    uint64_t found = 0;
    Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    GElf_Ehdr eh;
    if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh))
        goto out;
    /* The load bias: where the first PT_LOAD went against its p_vaddr. */
    uint64_t first_vaddr = UINT64_MAX;
    size_t phnum = 0;
    elf_getphdrnum(e, &phnum);
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD && ph.p_vaddr < first_vaddr)
            first_vaddr = ph.p_vaddr & ~(uint64_t)4095;
    }
    if (first_vaddr == UINT64_MAX)
        goto out;
    uint64_t bias = eh.e_type == ET_EXEC ? 0 : map->start - first_vaddr;
    for (Elf_Scn *scn = NULL; !found && (scn = elf_nextscn(e, scn));) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_SYMTAB) ||
            !sh.sh_entsize)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t n = d ? sh.sh_size / sh.sh_entsize : 0;
        for (size_t i = 0; i < n; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF)
                continue;
            const char *name = elf_strptr(e, sh.sh_link, sym.st_name);
            if (name && !strcmp(name, "slabdbg_root")) {
                found = bias + sym.st_value;
                break;
            }
        }
    }
out:
    if (e)
        elf_end(e);
    close(fd);
    return found;
}

static bool root_plausible(const struct slabdbg_root_v2 *r)
{
    return r->magic == SLABDBG_ROOT_MAGIC;
}

/* Without the files (a core read elsewhere): the magic in the memory the
 * core holds of mapped files (the root lives in relocated, so dumped,
 * read-only data). */
static uint64_t root_by_scan(struct target *t)
{
    static uint8_t buf[1 << 16];
    for (int i = 0; i < t->nmaps; i++) {
        const struct tgt_map *m = &t->maps[i];
        if (m->path[0] != '/' || m->end - m->start > ((uint64_t)64 << 20))
            continue;
        for (uint64_t a = m->start; a < m->end; a += sizeof(buf)) {
            size_t want = m->end - a < sizeof(buf) ? (size_t)(m->end - a) : sizeof(buf);
            size_t n = tgt_read(t, a, buf, want);
            for (size_t k = 0; k + 16 <= n; k += 8) {
                uint64_t v;
                memcpy(&v, buf + k, 8);
                if (v == SLABDBG_ROOT_MAGIC)
                    return a + k;
            }
            if (n < want)
                break;
        }
    }
    return 0;
}

int heap_open(struct heap *h, struct target *t, char *err, size_t errlen)
{
    memset(h, 0, sizeof(*h));
    h->t = t;
    elf_version(EV_CURRENT);
    for (int i = 0; i < t->nmaps && !h->root_addr; i++) {
        const struct tgt_map *m = &t->maps[i];
        if (m->path[0] != '/' || m->offset != 0)
            continue;
        bool seen = false;
        for (int k = 0; k < i && !seen; k++)
            seen = t->maps[k].offset == 0 && !strcmp(t->maps[k].path, m->path);
        if (seen)
            continue;
        uint64_t a = root_in_file(t, m);
        if (a) {
            h->root_addr = a;
            snprintf(h->lib_path, sizeof(h->lib_path), "%s", m->path);
        }
    }
    if (!h->root_addr)
        h->root_addr = root_by_scan(t);
    const char *what = t->kind == TGT_PID ? "the process" : "the program of this core";
    if (!h->root_addr) {
        snprintf(err, errlen,
                 "%s: %s does not run slabdbg (no slabdbg_root in its memory: start it with "
                 "'slabdbg run' or LD_PRELOAD=libslabdbg.so)",
                 t->name, what);
        return -1;
    }
    struct slabdbg_root_v2 *r = &h->root;
    size_t n = tgt_read(t, h->root_addr, r, sizeof(*r));
    if (n < 16 || !root_plausible(r)) {
        snprintf(err, errlen, "%s: slabdbg_root at 0x%llx cannot be read%s", t->name,
                 (unsigned long long)h->root_addr,
                 t->kind == TGT_CORE ? " (the core does not hold it: a truncated core, or "
                                       "coredump_filter left it out)"
                                     : "");
        return -1;
    }
    if (r->version != SLABDBG_ROOT_VERSION) {
        snprintf(err, errlen,
                 "%s: slabdbg_root version %u; this slabdbg reads version %u (inspect it with the "
                 "slabdbg of the library's release)",
                 t->name, r->version, SLABDBG_ROOT_VERSION);
        return -1;
    }
    if (n < sizeof(*r) || r->layout_count < SLABDBG_L_COUNT ||
        !tgt_read_all(t, r->layout, h->L, sizeof(h->L))) {
        snprintf(err, errlen, "%s: slabdbg_root's layout table cannot be read", t->name);
        return -1;
    }
    if (r->seg_size == 0 || (r->seg_size & (r->seg_size - 1)) || r->slice_size == 0 ||
        r->nr_kmalloc > 1024 || r->va_bits > 56) {
        snprintf(err, errlen, "%s: slabdbg_root holds nonsense (seg_size %llu)", t->name,
                 (unsigned long long)r->seg_size);
        return -1;
    }
    tgt_u64(t, r->link_key, &h->link_key);
    tgt_u64(t, r->free_key, &h->free_key);
    tgt_u64(t, r->depot_arena, &h->depot_arena);
    tgt_u64(t, r->depot_used, &h->depot_used);
    if (tgt_read(t, r->lib_version, h->lib_version, sizeof(h->lib_version) - 1) == 0)
        snprintf(h->lib_version, sizeof(h->lib_version), "?");
    h->lib_version[sizeof(h->lib_version) - 1] = 0;
    return 0;
}

/* ---- structures ---------------------------------------------------------------------- */

bool heap_cache(struct heap *h, uint64_t addr, struct h_cache *c)
{
    uint8_t b[4096];
    uint32_t size = h->L[SLABDBG_L_CACHE_SIZE];
    if (!addr || size > sizeof(b) || !tgt_read_all(h->t, addr, b, size))
        return false;
    const uint32_t *L = h->L;
    memset(c, 0, sizeof(*c));
    c->addr = addr;
    memcpy(c->name, b + L[SLABDBG_L_CACHE_NAME], sizeof(c->name) - 1);
    c->size = get32(b, L[SLABDBG_L_CACHE_OBJSIZE]);
    c->stride = get32(b, L[SLABDBG_L_CACHE_STRIDE]);
    c->fp_offset = get32(b, L[SLABDBG_L_CACHE_FP_OFFSET]);
    c->objects = get32(b, L[SLABDBG_L_CACHE_OBJECTS]);
    c->slab_slices = get16(b, L[SLABDBG_L_CACHE_SLAB_SLICES]);
    c->batch = get32(b, L[SLABDBG_L_CACHE_BATCH]);
    c->tcache_max = get32(b, L[SLABDBG_L_CACHE_TCACHE_MAX]);
    c->flags = get32(b, L[SLABDBG_L_CACHE_FLAGS]);
    c->debug = get32(b, L[SLABDBG_L_CACHE_DEBUG]);
    c->red_left_pad = get32(b, L[SLABDBG_L_CACHE_RED_LEFT_PAD]);
    c->inuse = get32(b, L[SLABDBG_L_CACHE_INUSE]);
    c->pad_offset = get32(b, L[SLABDBG_L_CACHE_PAD_OFFSET]);
    c->meta_size = get32(b, L[SLABDBG_L_CACHE_META_SIZE]);
    c->nr_partial = get32(b, L[SLABDBG_L_CACHE_NR_PARTIAL]);
    c->nr_full = get32(b, L[SLABDBG_L_CACHE_NR_FULL]);
    c->is_kmalloc = b[L[SLABDBG_L_CACHE_IS_KMALLOC]];
    c->marker = b[L[SLABDBG_L_CACHE_MARKER]];
    c->partial = get64(b, L[SLABDBG_L_CACHE_PARTIAL]);
    c->full = get64(b, L[SLABDBG_L_CACHE_FULL]);
    c->next = get64(b, L[SLABDBG_L_CACHE_NEXT]);
    /* A cache that makes no sense is not read further. */
    if (!c->stride || c->stride > ((uint32_t)1 << 26) || c->red_left_pad >= c->stride)
        c->stride = 0;
    return true;
}

bool heap_slab(struct heap *h, uint64_t addr, struct h_slab *s)
{
    uint8_t b[512];
    uint32_t size = h->L[SLABDBG_L_SLAB_SIZE];
    if (!addr || size > sizeof(b) || !tgt_read_all(h->t, addr, b, size))
        return false;
    const uint32_t *L = h->L;
    memset(s, 0, sizeof(*s));
    s->addr = addr;
    s->start = get64(b, L[SLABDBG_L_SLAB_START]);
    s->freelist = get64(b, L[SLABDBG_L_SLAB_FREELIST]);
    s->bump = get64(b, L[SLABDBG_L_SLAB_BUMP]);
    s->end = get64(b, L[SLABDBG_L_SLAB_END]);
    s->cache = get64(b, L[SLABDBG_L_SLAB_CACHE]);
    s->next = get64(b, L[SLABDBG_L_SLAB_NEXT]);
    s->meta = get64(b, L[SLABDBG_L_SLAB_META]);
    s->inuse = get32(b, L[SLABDBG_L_SLAB_INUSE]);
    s->objects = get32(b, L[SLABDBG_L_SLAB_OBJECTS]);
    s->stride = get32(b, L[SLABDBG_L_SLAB_STRIDE]);
    s->nslices = get16(b, L[SLABDBG_L_SLAB_NSLICES]);
    s->isolated = b[L[SLABDBG_L_SLAB_ISOLATED]];
    return true;
}

static void read_track(struct heap *h, uint64_t addr, struct h_track *tr)
{
    uint8_t b[128];
    uint32_t size = h->L[SLABDBG_L_TRACK_SIZE];
    memset(tr, 0, sizeof(*tr));
    if (size > sizeof(b) || !tgt_read_all(h->t, addr, b, size))
        return;
    tr->addr = get64(b, h->L[SLABDBG_L_TRACK_ADDR]);
    tr->handle = get32(b, h->L[SLABDBG_L_TRACK_HANDLE]);
    tr->cpu = (int32_t)get32(b, h->L[SLABDBG_L_TRACK_CPU]);
    tr->pid = (int32_t)get32(b, h->L[SLABDBG_L_TRACK_PID]);
    tr->when = get64(b, h->L[SLABDBG_L_TRACK_WHEN]);
}

unsigned heap_stack(struct heap *h, uint32_t handle, uint64_t *frames, unsigned max)
{
    uint64_t at = (uint64_t)handle * 8;
    uint32_t hdr = h->L[SLABDBG_L_DEPOT_RECORD_SIZE];
    if (!handle || !h->depot_arena || at + hdr > h->depot_used)
        return 0;
    uint32_t n;
    if (!tgt_read_all(h->t, h->depot_arena + at + h->L[SLABDBG_L_DEPOT_NFRAMES], &n, 4))
        return 0;
    if (n > 256 || at + hdr + (uint64_t)n * 8 > h->depot_used)
        return 0;
    if (n > max)
        n = max;
    size_t got =
        tgt_read(h->t, h->depot_arena + at + h->L[SLABDBG_L_DEPOT_FRAMES], frames, (size_t)n * 8);
    return (unsigned)(got / 8);
}

const char *heap_state_name(enum h_state s)
{
    switch (s) {
    case ST_ALLOCATED:
        return "allocated";
    case ST_FREE:
        return "free";
    case ST_QUARANTINE:
        return "free, in quarantine";
    case ST_MAGAZINE:
        return "free, in a thread's magazine";
    case ST_NEVER:
        return "free (never allocated)";
    case ST_GUARD_FREED:
        return "free, guarded (inaccessible)";
    default:
        return "unknown";
    }
}

/* Is obj on the slab's own free list?  (Caches without free markers.) */
static bool on_freelist(struct heap *h, const struct h_cache *c, const struct h_slab *s,
                        uint64_t obj)
{
    uint64_t p = s->freelist;
    for (uint32_t n = 0; p && n <= s->objects; n++) {
        if (p == obj)
            return true;
        if (p < s->start || p >= s->end)
            return false;
        uint64_t stored;
        if (!tgt_u64(h->t, p + c->fp_offset, &stored))
            return false;
        p = heap_link(h, p + c->fp_offset, stored);
    }
    return false;
}

enum h_state heap_object_state(struct heap *h, const struct h_cache *c, const struct h_slab *s,
                               uint32_t i, struct h_where *w)
{
    uint64_t obj = heap_object(c, s, i);
    uint64_t slot = s->start + (uint64_t)i * c->stride;
    if (w) {
        w->has_orig = w->has_tracks = false;
    }
    if (c->debug && s->meta && c->meta_size) {
        uint64_t m = s->meta + (uint64_t)i * c->meta_size;
        uint32_t v[2];
        if (!tgt_read_all(h->t, m, v, 8))
            return ST_UNKNOWN;
        uint32_t state = v[h->L[SLABDBG_L_META_STATE] / 4];
        if (w) {
            w->has_orig = true;
            w->orig_size = v[h->L[SLABDBG_L_META_ORIG_SIZE] / 4];
            if (c->debug & SLAB_STORE_USER) {
                w->has_tracks = true;
                for (int k = 0; k < 2; k++)
                    read_track(h, m + h->L[SLABDBG_L_META_TRACK] + k * h->L[SLABDBG_L_TRACK_SIZE],
                               &w->track[k]);
            }
        }
        switch (state) {
        case SLABDBG_STATE_ACTIVE:
            return ST_ALLOCATED;
        case SLABDBG_STATE_FREE:
            return ST_FREE;
        case SLABDBG_STATE_QUARANTINE:
            return ST_QUARANTINE;
        case SLABDBG_STATE_OWNED:
            return ST_MAGAZINE;
        default:
            return ST_UNKNOWN;
        }
    }
    if (slot >= s->bump)
        return ST_NEVER;
    if (c->marker) {
        uint64_t w1;
        if (!tgt_u64(h->t, obj + 8, &w1))
            return ST_UNKNOWN;
        return w1 == (h->free_key ^ obj) ? ST_FREE : ST_ALLOCATED;
    }
    return on_freelist(h, c, s, obj) ? ST_FREE : ST_ALLOCATED;
}

/* ---- whatis -------------------------------------------------------------------------- */

bool heap_in_segmap(struct heap *h, uint64_t addr)
{
    unsigned shift = (unsigned)__builtin_ctzll(h->root.seg_size);
    uint64_t i = addr >> shift, word;
    if (shift >= h->root.va_bits || i >= ((uint64_t)1 << (h->root.va_bits - shift)))
        return false;
    if (!tgt_u64(h->t, h->root.segmap + (i / 64) * 8, &word))
        return false;
    return (word >> (i % 64)) & 1;
}

static void region_of(const struct h_cache *c, int64_t off, char *buf, size_t size)
{
    const char *r = "object";
    if (off < 0)
        r = "left red zone";
    else if (c->debug && (uint64_t)off >= c->size) {
        if ((uint64_t)off < c->inuse)
            r = "right red zone";
        else if ((c->debug & SLAB_POISON) && (uint64_t)off < c->pad_offset && c->fp_offset)
            r = "free pointer";
        else
            r = "padding";
    } else if ((uint64_t)off >= c->size)
        r = "slack behind the object";
    snprintf(buf, size, "%s", r);
}

static int whatis_slabs(struct heap *h, uint64_t seg, uint64_t addr, struct h_where *w)
{
    uint64_t slice = (addr - seg) / h->root.slice_size;
    if (slice == 0) {
        w->kind = W_HEADER;
        return 0;
    }
    uint64_t sp;
    if (!tgt_u64(h->t, seg + h->L[SLABDBG_L_SEGMENT_SLICE_SLAB] + slice * 8, &sp))
        return -1;
    if (!sp) {
        w->kind = W_FREE_SLICE;
        return 0;
    }
    if (!heap_slab(h, sp, &w->s))
        return -1;
    w->has_slab = true;
    if (!heap_cache(h, w->s.cache, &w->c) || !w->c.stride)
        return -1;
    w->has_cache = true;
    const struct h_cache *c = &w->c;
    const struct h_slab *s = &w->s;
    if (addr < s->start || addr >= s->end) {
        w->kind = W_SLAB_TAIL;
        return 0;
    }
    w->kind = W_OBJECT;
    w->index = (uint32_t)((addr - s->start) / c->stride);
    w->slot = s->start + (uint64_t)w->index * c->stride;
    w->obj = w->slot + c->red_left_pad;
    w->obj_size = c->size;
    w->off = (int64_t)(addr - w->obj);
    region_of(c, w->off, w->region, sizeof(w->region));
    w->state = heap_object_state(h, c, s, w->index, w);
    return 0;
}

/* A guarded object's slot (G: behind its segment header; the sampling
 * pool: in the pool's slot table). */
static int whatis_slot(struct heap *h, uint64_t slot, uint64_t addr, struct h_where *w)
{
    uint8_t b[512];
    uint32_t size = h->L[SLABDBG_L_GUARD_SLOT_SIZE];
    if (size > sizeof(b) || !tgt_read_all(h->t, slot, b, size))
        return -1;
    w->kind = W_GUARD;
    w->obj = get64(b, h->L[SLABDBG_L_GUARD_OBJECT]);
    w->obj_size = get32(b, h->L[SLABDBG_L_GUARD_OBJSIZE]);
    w->has_orig = true;
    w->orig_size = w->obj_size;
    uint8_t state = b[h->L[SLABDBG_L_GUARD_STATE]];
    w->state = state == SLABDBG_GUARD_SLOT_LIVE ? ST_ALLOCATED
               : state == 0                     ? ST_NEVER
                                                : ST_GUARD_FREED;
    if (heap_cache(h, get64(b, h->L[SLABDBG_L_GUARD_CACHE]), &w->c))
        w->has_cache = true;
    w->off = (int64_t)(addr - w->obj);
    snprintf(w->region, sizeof(w->region), "%s",
             w->off < 0                        ? "before the object (guard page side)"
             : (uint64_t)w->off >= w->obj_size ? "behind the object"
                                               : "object");
    for (int k = 0; k < 2; k++)
        read_track(h, slot + h->L[SLABDBG_L_GUARD_TRACK] + k * h->L[SLABDBG_L_TRACK_SIZE],
                   &w->track[k]);
    w->has_tracks = w->track[0].addr != 0;
    return 0;
}

static int whatis_guard(struct heap *h, uint64_t seg, uint64_t addr, struct h_where *w)
{
    return whatis_slot(h, seg + h->L[SLABDBG_L_SEGMENT_SIZE], addr, w);
}

bool heap_pool(struct heap *h, uint64_t seg, uint32_t *nslots, uint64_t *data0)
{
    uint64_t pool = seg + h->L[SLABDBG_L_SEGMENT_SIZE];
    return tgt_read_all(h->t, pool + h->L[SLABDBG_L_POOL_NSLOTS], nslots, 4) &&
           tgt_u64(h->t, pool + h->L[SLABDBG_L_POOL_DATA0], data0) && *nslots <= 100000;
}

/* A pool's slots: data pages and the guard page after them (`stride` in
 * all, `data_len` of data); the sampling pool's or a G cache's. */
static bool pool_geometry(struct heap *h, uint64_t seg, uint32_t *stride, uint32_t *data_len,
                          bool *sampled)
{
    uint64_t pool = seg + h->L[SLABDBG_L_SEGMENT_SIZE];
    uint8_t flag;
    if (!tgt_read_all(h->t, pool + h->L[SLABDBG_L_POOL_STRIDE], stride, 4) ||
        !tgt_read_all(h->t, pool + h->L[SLABDBG_L_POOL_DATA_LEN], data_len, 4) ||
        !tgt_read_all(h->t, pool + h->L[SLABDBG_L_POOL_SAMPLED], &flag, 1))
        return false;
    *sampled = flag != 0;
    return *data_len >= 4096 && *stride > *data_len && *data_len % 4096 == 0 && *stride % 4096 == 0;
}

int heap_pool_slot(struct heap *h, uint64_t seg, uint32_t i, uint64_t addr, struct h_where *w)
{
    memset(w, 0, sizeof(*w));
    w->addr = addr;
    w->seg = seg;
    uint32_t stride, data_len;
    bool sampled;
    if (!pool_geometry(h, seg, &stride, &data_len, &sampled))
        return -1;
    uint64_t slot = seg + h->L[SLABDBG_L_SEGMENT_SIZE] + h->L[SLABDBG_L_POOL_SLOT] +
                    (uint64_t)i * h->L[SLABDBG_L_GUARD_SLOT_SIZE];
    if (whatis_slot(h, slot, addr, w) != 0)
        return -1;
    w->kind = sampled ? W_POOL : W_GUARD;
    w->index = i;
    return 0;
}

/* A pool: slot i's data at data0 + i strides, a guard page after each; an
 * address in a guard page belongs to the nearer slot. */
static int whatis_pool(struct heap *h, uint64_t seg, uint64_t addr, struct h_where *w)
{
    uint32_t nslots, stride, data_len;
    uint64_t data0;
    bool sampled;
    w->kind = W_POOL;
    if (!heap_pool(h, seg, &nslots, &data0) || !nslots ||
        !pool_geometry(h, seg, &stride, &data_len, &sampled))
        return -1;
    if (addr + 4096 < data0) /* the pool's header */
        return 0;
    uint64_t off = addr < data0 ? 0 : addr - data0;
    uint32_t i = (uint32_t)(off / stride);
    if (off % stride >= data_len + 2048 && i + 1 < nslots)
        i++;
    if (i >= nslots)
        return 0;
    return heap_pool_slot(h, seg, i, addr, w);
}

static int whatis_huge(struct heap *h, uint64_t seg, uint64_t addr, struct h_where *w)
{
    if (!heap_slab(h, seg + h->L[SLABDBG_L_SEGMENT_SLABS], &w->s))
        return -1;
    w->has_slab = true;
    uint64_t huge_size;
    if (!tgt_u64(h->t, seg + h->L[SLABDBG_L_SEGMENT_HUGE_SIZE], &huge_size))
        return -1;
    if (addr < w->s.start) {
        w->kind = W_HEADER;
        return 0;
    }
    w->kind = W_HUGE;
    w->obj = w->s.start;
    w->obj_size = w->s.end - w->s.start;
    w->has_orig = true;
    w->orig_size = huge_size;
    w->off = (int64_t)(addr - w->obj);
    w->state = w->s.inuse ? ST_ALLOCATED : ST_FREE;
    snprintf(w->region, sizeof(w->region), "%s",
             (uint64_t)w->off < huge_size ? "object" : "behind the object");
    return 0;
}

int heap_whatis(struct heap *h, uint64_t addr, struct h_where *w)
{
    memset(w, 0, sizeof(*w));
    w->addr = addr;
    w->state = ST_UNKNOWN;
    if (!heap_in_segmap(h, addr)) {
        /* Huge objects aligned to 4 MiB or more are not in the segment map. */
        uint64_t seg;
        if (!tgt_u64(h->t, h->root.huge_list, &seg))
            seg = 0;
        for (unsigned n = 0; seg && n < MAX_SLABS_PER_LIST; n++) {
            struct h_slab s;
            if (!heap_slab(h, seg + h->L[SLABDBG_L_SEGMENT_SLABS], &s))
                break;
            if (addr >= s.start && addr < s.end)
                return whatis_huge(h, seg, addr, w);
            if (!tgt_u64(h->t, seg + h->L[SLABDBG_L_SEGMENT_NEXT], &seg))
                break;
        }
        w->kind = W_NOT_OURS;
        return 0;
    }
    uint64_t seg = addr & ~(h->root.seg_size - 1);
    w->seg = seg;
    uint32_t magic;
    uint8_t kind;
    if (!tgt_read_all(h->t, seg + h->L[SLABDBG_L_SEGMENT_MAGIC], &magic, 4) ||
        !tgt_read_all(h->t, seg + h->L[SLABDBG_L_SEGMENT_KIND], &kind, 1) ||
        magic != SLABDBG_SEG_MAGIC)
        return -1;
    switch (kind) {
    case SLABDBG_SEG_SLABS:
        return whatis_slabs(h, seg, addr, w);
    case SLABDBG_SEG_HUGE:
        return whatis_huge(h, seg, addr, w);
    case SLABDBG_SEG_GUARD:
        return whatis_guard(h, seg, addr, w);
    case SLABDBG_SEG_POOL:
        return whatis_pool(h, seg, addr, w);
    case SLABDBG_SEG_ARENA:
        w->kind = W_ARENA;
        return 0;
    default:
        return -1;
    }
}

/* ---- walks --------------------------------------------------------------------------- */

void heap_for_each_cache(struct heap *h, h_cache_fn fn, void *arg)
{
    struct h_cache c;
    for (uint32_t i = 0; i < h->root.nr_kmalloc; i++)
        if (heap_cache(h, h->root.kmalloc_caches + (uint64_t)i * h->L[SLABDBG_L_CACHE_SIZE], &c))
            fn(h, &c, arg);
    uint64_t p;
    if (!tgt_u64(h->t, h->root.cache_list, &p))
        return;
    for (unsigned n = 0; p && n < MAX_CACHES; n++) {
        if (!heap_cache(h, p, &c))
            break;
        fn(h, &c, arg);
        p = c.next;
    }
}

void heap_for_each_slab(struct heap *h, const struct h_cache *c, h_slab_fn fn, void *arg)
{
    uint64_t lists[2] = {c->partial, c->full};
    for (int l = 0; l < 2; l++) {
        uint64_t p = lists[l];
        for (unsigned n = 0; p && n < MAX_SLABS_PER_LIST; n++) {
            struct h_slab s;
            if (!heap_slab(h, p, &s))
                break;
            if (s.objects && c->stride && s.end > s.start)
                fn(h, c, &s, arg);
            p = s.next;
        }
    }
}

void heap_for_each_segment(struct heap *h, h_seg_fn fn, void *arg)
{
    /* Huge objects aligned to 4 MiB or more: on the huge list only. */
    uint64_t seg;
    if (!tgt_u64(h->t, h->root.huge_list, &seg))
        seg = 0;
    for (unsigned n = 0; seg && n < MAX_SLABS_PER_LIST; n++) {
        if (!heap_in_segmap(h, seg))
            fn(h, seg, SLABDBG_SEG_HUGE, arg);
        if (!tgt_u64(h->t, seg + h->L[SLABDBG_L_SEGMENT_NEXT], &seg))
            break;
    }
    unsigned shift = (unsigned)__builtin_ctzll(h->root.seg_size);
    if (shift >= h->root.va_bits)
        return;
    uint64_t words = ((uint64_t)1 << (h->root.va_bits - shift)) / 64;
    static uint64_t buf[8192];
    for (uint64_t w0 = 0; w0 < words; w0 += 8192) {
        size_t n = (size_t)(words - w0 < 8192 ? words - w0 : 8192);
        size_t got = tgt_read(h->t, h->root.segmap + w0 * 8, buf, n * 8) / 8;
        for (size_t k = 0; k < got; k++) {
            for (uint64_t bits = buf[k]; bits; bits &= bits - 1) {
                uint64_t seg = (((w0 + k) * 64 + (uint64_t)__builtin_ctzll(bits)) << shift);
                uint8_t kind;
                if (tgt_read_all(h->t, seg + h->L[SLABDBG_L_SEGMENT_KIND], &kind, 1))
                    fn(h, seg, kind, arg);
            }
        }
        if (got < n)
            break;
    }
}

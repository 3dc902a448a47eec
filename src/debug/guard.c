/*
 * Guard mode and the sampling pool (see guard.h).
 *
 * Guarded objects live in pools: 4 MiB-aligned segments carved into slots,
 * each slot data pages followed by an inaccessible guard page (and one
 * before slot 0).  Every G cache has pools of its own, with slots as large
 * as its objects, and a lock of its own; the sampling pool is one pool of
 * one-page slots.  Nothing is mapped or unmapped per object: an allocation
 * opens its slot's data pages, a free closes them again.
 *
 *   +-------------------+-------+--------+-------+--------+-------+ ...
 *   | segment, pool,    | guard | slot 0 | guard | slot 1 | guard |
 *   | slot table        | page  | data   | page  | data   | page  |
 *   +-------------------+-------+--------+-------+--------+-------+ ...
 *                               [slack][object]     right (default)
 *                               [object][slack]     left
 *
 * An object is put against the guard page on its right (or left), at the
 * alignment of guard_align(); the slack on both sides, between object and
 * guard pages, is filled with 0xcc and checked at free, so a write a few
 * bytes before or after the object is reported then, and one further away
 * faults on the guard page at once.  A freed object's data pages are
 * inaccessible (and given back with MADV_DONTNEED); its slot waits in a
 * FIFO quarantine of guard_quarantine slots before it is reused, least
 * recently freed first.  Each open slot is two entries of the process's
 * memory map: guarded memory keeps within a budget of them (entries_room).
 * G objects too large for a pool get a mapping each.
 *
 * Sampling: one allocation in sample_rate is a candidate, and at most
 * sample_per_sec candidates a second are taken (sample_due()).
 *
 * The SIGSEGV/SIGBUS handler runs on an alternate stack.  A fault in none of
 * our pages goes to the handler the program installed (we keep ours first by
 * interposing sigaction() and signal()), or to the default action.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "base/lock.h"
#include "core/tcache.h"
#include "debug/debug.h"
#include "debug/guard.h"
#include "debug/stackdepot.h"
#include "base/options.h"
#include "report/bug.h"

#define GPAGE ((size_t)4096)
#define SLACK_BYTE 0xcc
#define POOL_MAX_SLOTS 500
#define ALT_STACK_SIZE ((size_t)1 << 20)

bool guard_any;
pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER; /* lock order 7 (base/lock.h) */
static _Atomic unsigned alternate;

static size_t pow2_floor(size_t n)
{
    return (size_t)1 << (63 - __builtin_clzl(n));
}

/* Fills a track for the calling thread; never with guard_lock held (the
 * unwinder may load code on first use). */
static void set_track(struct track *t)
{
    uintptr_t caller;
    t->handle = stack_save((unsigned)opt.stack_depth, &caller); /* a walk remembered, if seen */
    t->addr = caller;
    t->cpu = sched_getcpu();
    t->pid = debug_tid();
    t->when = track_now();
}

/* Places an object of n bytes, aligned to `align`, in its data pages, and
 * fills the slack. */
static void slot_place(struct guard_slot *sl, size_t n, size_t align, bool left,
                       const struct track *alloc)
{
    size_t need = align_up(n ? n : 1, align);
    sl->align = (uint32_t)align;
    sl->left = left;
    sl->object = (uintptr_t)(left ? sl->data : sl->data + sl->data_len - need);
    sl->size = (uint32_t)n;
    sl->state = SLOT_LIVE;
    /* Families are recorded (debug_set_family) only in the debug modes;
     * a sampled object of a program without flags is never checked. */
    sl->family = debug_any ? FAMILY_MALLOC : FAMILY_ANY;
    /* The slack on both sides, up to the guard pages, checked at free. */
    memset(sl->data, SLACK_BYTE, (size_t)((char *)sl->object - sl->data));
    char *end = (char *)sl->object + n;
    memset(end, SLACK_BYTE, (size_t)(sl->data + sl->data_len - end));
    memset(sl->track, 0, sizeof(sl->track));
    sl->track[TRACK_ALLOC] = *alloc;
}

static bool want_left(void)
{
    if (!strcmp(opt.guard_side, "left"))
        return true;
    if (!strcmp(opt.guard_side, "alternate"))
        return atomic_fetch_add(&alternate, 1) & 1;
    return false;
}

/* Says once that guarded memory could not be mapped or protected (the
 * process is near vm.max_map_count, or out of memory): from then on the
 * objects that would have been guarded are ordinary ones. */
static void guard_map_failed(const char *what)
{
    static _Atomic int said;
    if (atomic_exchange(&said, 1))
        return;
    char msg[160] = "guard pages: ";
    strncat(msg, what, sizeof(msg) - strlen(msg) - 1);
    strncat(msg, " failed (vm.max_map_count or memory); objects go unguarded while it lasts",
            sizeof(msg) - strlen(msg) - 1);
    options_warn(msg);
}

/* ---- the map-entry budget ---------------------------------------------------- */

/* Every open slot is an entry of the process's memory map of its own, and
 * splits the inaccessible run around it (two entries); a pool is two more
 * (header, slots), a G object too large for a pool about four (header,
 * guard, data, guard).  Guarded memory may take at most half of
 * vm.max_map_count, and never more than half of the entries the process
 * has left: the rest stays the program's (and the heap's: at the limit no
 * segment could be mapped either, and every malloc would fail).  The
 * entries in use are counted again every so many and after any failure. */
#define SLOT_ENTRIES 2
#define POOL_ENTRIES 2
#define BIG_ENTRIES 4
static _Atomic long guard_entries;    /* entries our guarded memory holds */
static _Atomic long guard_limit = -1; /* entries allowed now; -1: not counted yet */
static _Atomic long guard_recount_at; /* recount when guard_entries reaches it */
static _Atomic int guard_counting;

static long max_map_count(void)
{
    static long max;
    if (max)
        return max;
    long v = 65530; /* the kernel's default */
    int fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[32];
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n > 0) {
            buf[n] = 0;
            long r = strtol(buf, NULL, 10);
            if (r > 0)
                v = r;
        }
    }
    max = v;
    return max;
}

/* Entries of the memory map in use: the lines of /proc/self/maps (read
 * without allocating); -1 if it cannot be read. */
static long maps_in_use(void)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[4096];
    long lines = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        for (ssize_t i = 0; i < n; i++)
            lines += buf[i] == '\n';
    close(fd);
    return n < 0 ? -1 : lines;
}

static void guard_recount(void)
{
    if (atomic_exchange(&guard_counting, 1))
        return; /* another thread counts */
    long max = max_map_count(), mine = atomic_load(&guard_entries);
    long limit = max / 2;
    long used = maps_in_use();
    if (used >= 0) {
        long reserve = max / 64 > 64 ? max / 64 : 64;
        long left = max - used - reserve; /* entries the process still has */
        /* Half of what is left; below the reserve, give back the shortfall. */
        long allowed = mine + (left > 0 ? left / 2 : left);
        if (allowed < limit)
            limit = allowed > 0 ? allowed : 0;
    }
    atomic_store(&guard_limit, limit);
    long step = limit / 8 > 64 ? limit / 8 : 64;
    atomic_store(&guard_recount_at, mine + step);
    atomic_store(&guard_counting, 0);
}

/* After a failing mmap or mprotect: count again before the next one. */
static void guard_recount_soon(void)
{
    atomic_store(&guard_recount_at, 0);
}

/* May `n` more entries be taken? */
static bool entries_room(long n)
{
    if (atomic_load(&guard_limit) < 0 ||
        atomic_load(&guard_entries) >= atomic_load(&guard_recount_at))
        guard_recount();
    return atomic_load(&guard_entries) + n <= atomic_load(&guard_limit);
}

static void budget_spent(void)
{
    static _Atomic int said;
    if (!atomic_exchange(&said, 1))
        options_warn("guard pages: as many guarded objects live as vm.max_map_count and "
                     "the process's own mappings leave room for; objects go unguarded "
                     "(ordinary debug objects) until some are freed");
}

/* ---- pools ------------------------------------------------------------------ */

#define POOL_MAX_DATA ((size_t)1 << 20) /* larger G objects get a mapping each */

/* Freed G slots keep their pages while all of them together hold at most
 * RESIDENT_MAX bytes (each free would otherwise cost a madvise on top of
 * its mprotect, as much again); the others give them back. */
#define RESIDENT_MAX ((size_t)32 << 20)
static _Atomic size_t resident_bytes;

static struct gpool sample_owner = {.lock = PTHREAD_MUTEX_INITIALIZER};
static struct gpool *gpools = &sample_owner;

static size_t pool_header_size(uint32_t n)
{
    return align_up(sizeof(struct segment) + sizeof(struct pool) + n * sizeof(struct guard_slot),
                    GPAGE);
}

/* Slots of `stride` bytes that fit a segment with their header. */
static uint32_t pool_fit(size_t stride)
{
    uint32_t n = (uint32_t)((SEG_SIZE - GPAGE) / stride);
    while (n > 1 && pool_header_size(n) + GPAGE + n * stride > SEG_SIZE)
        n--;
    return n;
}

/* The owner of a G cache's pools, made on its first object; NULL when the
 * objects are too large for pools. */
static struct gpool *gpool_of(struct kmem_cache *c)
{
    struct gpool *o = __atomic_load_n(&c->gpool, __ATOMIC_ACQUIRE);
    if (o)
        return o;
    size_t data_len = align_up(c->size ? c->size : 1, GPAGE);
    if (data_len > POOL_MAX_DATA)
        return NULL;
    lock(&guard_lock, LOCK_GUARD);
    o = c->gpool;
    if (!o) {
        void *m =
            mmap(NULL, sizeof(*o), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m != MAP_FAILED) {
            o = m;
            pthread_mutex_init(&o->lock, NULL);
            o->cache = c;
            o->data_len = (uint32_t)data_len;
            o->stride = (uint32_t)(data_len + GPAGE);
            o->per_pool = pool_fit(o->stride);
            o->max_pools = UINT32_MAX;
            o->quarantine = opt.guard_quarantine > 0 ? (size_t)opt.guard_quarantine : 0;
            o->next = gpools;
            gpools = o;
            __atomic_store_n(&c->gpool, o, __ATOMIC_RELEASE);
        }
    }
    unlock(&guard_lock, LOCK_GUARD);
    return o;
}

void guard_fork(enum fork_phase phase)
{
    /* guard_lock is held: the list does not change under us.  The pools'
     * locks are of one level: their order among themselves is free. */
    for (struct gpool *o = gpools; o; o = o->next)
        fork_lock(&o->lock, phase);
}

/* Room in the ring for every slot of the owner; owner's lock held. */
static bool ring_reserve(struct gpool *o, size_t want)
{
    if (o->ring_cap >= want)
        return true;
    size_t cap = o->ring_cap ? o->ring_cap : 512;
    while (cap < want)
        cap *= 2;
    struct guard_slot **r =
        mmap(NULL, cap * sizeof(*r), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED)
        return false;
    for (size_t k = 0; k < o->ring_count; k++)
        r[k] = o->ring[(o->ring_head + k) % o->ring_cap];
    if (o->ring)
        munmap(o->ring, o->ring_cap * sizeof(*r));
    o->ring = r;
    o->ring_cap = cap;
    o->ring_head = 0;
    return true;
}

static void ring_push(struct gpool *o, struct guard_slot *sl)
{
    assert(o->ring_count < o->ring_cap); /* room for every slot (ring_reserve) */
    o->ring[(o->ring_head + o->ring_count) % o->ring_cap] = sl;
    o->ring_count++;
}

static struct guard_slot *ring_pop(struct gpool *o)
{
    struct guard_slot *sl = o->ring[o->ring_head];
    o->ring_head = (o->ring_head + 1) % o->ring_cap;
    o->ring_count--;
    return sl;
}

/* A new pool of the owner, all of it inaccessible but its header; owner's
 * lock held. */
static struct pool *pool_new(struct gpool *o)
{
    uint32_t n = o->per_pool;
    if (!ring_reserve(o, o->nslots + n))
        return NULL;
    size_t hdr = pool_header_size(n);
    size_t size = hdr + GPAGE + (size_t)n * o->stride;
    struct segment *seg = os_map_aligned(size, SEG_SIZE);
    if (!seg)
        return NULL;
    if (mprotect((char *)seg + hdr, size - hdr, PROT_NONE) != 0) {
        os_unmap(seg, size);
        return NULL;
    }
    seg->magic = SEG_MAGIC;
    seg->kind = SEG_POOL;
    seg->map_size = size;
    struct slab *s = &seg->slabs[0];
    s->bin = NO_BIN;
    s->start = (char *)seg + hdr;
    s->end = (char *)seg + size;
    for (unsigned i = 0; i < SLICES_PER_SEG; i++)
        seg->slice_slab[i] = s;
    struct pool *p = (struct pool *)((char *)seg + sizeof(struct segment));
    p->nslots = n;
    p->stride = o->stride;
    p->data_len = o->data_len;
    p->data0 = (char *)seg + hdr + GPAGE;
    p->owner = o;
    p->sampled = o == &sample_owner;
    for (uint32_t i = 0; i < n; i++) {
        p->slot[i].data = p->data0 + (size_t)i * o->stride;
        p->slot[i].data_len = o->data_len;
    }
    p->next = o->pools;
    o->pools = p;
    o->npools++;
    o->nslots += n;
    atomic_fetch_add(&guard_entries, POOL_ENTRIES);
    segmap_set(seg, true);
    return p;
}

/* A slot to open, or NULL; owner's lock held. */
/* A slot out of the quarantine, struck from the discard batch. */
static struct guard_slot *ring_take(struct gpool *o)
{
    struct guard_slot *sl = ring_pop(o);
    if (sl->resident) {
        sl->resident = 0;
        atomic_fetch_sub(&resident_bytes, sl->data_len);
    }
    for (unsigned i = 0; i < o->ndiscard; i++)
        if (o->discard[i] == sl) {
            o->discard[i] = o->discard[--o->ndiscard];
            break;
        }
    return sl;
}

static struct guard_slot *slot_take(struct gpool *o)
{
    if (o->ring_count && o->ring_count > o->quarantine)
        return ring_take(o);
    struct pool *p = o->pools;
    if ((!p || p->next_unused == p->nslots) && o->npools < o->max_pools &&
        entries_room(SLOT_ENTRIES + POOL_ENTRIES))
        p = pool_new(o);
    if (p && p->next_unused < p->nslots)
        return &p->slot[p->next_unused++];
    if (o->ring_count) /* no new pool: the quarantine shortens */
        return ring_take(o);
    return NULL;
}

/* The alignment of a guarded object of n bytes, which ends its distance
 * from the guard page.  By default what malloc promises (16, or the
 * largest power of two not above a smaller size: C2x 7.24.3), so a
 * program that keeps a 16-aligned type at the start of a 1000-byte block
 * (Python does for every bytes object) is served right; then a write a
 * few bytes past such an object is found at free (the slack).  With
 * guard_align=1, the lowest set bit of the size, at most 16: the object
 * ends at the guard page, and the first byte past it faults.  Never less
 * than guard_align, and what the caller asked for if more. */
static size_t guard_align(size_t n, size_t asked)
{
    size_t a = n ? n & -n : 1;
    if (a > 16)
        a = 16;
    size_t least = opt.guard_align > 1 ? pow2_floor((size_t)opt.guard_align) : 1;
    if (least > 16 && least > asked)
        least = 16;
    if (least > pow2_floor(n ? n : 1)) /* a smaller object holds no such type */
        least = pow2_floor(n ? n : 1);
    if (a < least)
        a = least;
    return asked > a ? asked : a;
}

/* memalign()'s alignment for the object being allocated on this thread
 * (front/malloc.c sets it when guarded memory may be used). */
__thread size_t guard_asked_align;

/* The C library's code: its string functions read whole aligned vectors,
 * bytes before and after a string included (they never cross a page, so
 * never fault without us).  Under guard_watch such a read is let through. */
static uintptr_t libc_lo, libc_hi;

/* A read by the C library within the aligned 64 bytes around a watched
 * object: a vector of a string function, not a bug. */
static bool libc_vector_read(const struct guard_slot *sl, uintptr_t addr, const ucontext_t *uc)
{
#if defined(REG_ERR) && defined(REG_RIP)
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    if (uc->uc_mcontext.gregs[REG_ERR] & 2) /* a write */
        return false;
    return pc >= libc_lo && pc < libc_hi && addr >= (sl->object & ~(uintptr_t)63) &&
           addr < align_up(sl->object + sl->size, 64);
#else
    (void)sl, (void)addr, (void)uc;
    return false;
#endif
}

/* guard_watch: the first and the last data page of a slot, where they
 * hold slack, are made inaccessible again; each access to them faults, and
 * guard_fault() lets the accesses inside the object through one
 * instruction at a time.  Every byte before or after the object faults. */
static void watch(struct guard_slot *sl)
{
    static _Atomic int looked;
    if (!atomic_exchange(&looked, 1))
        library_text("libc.so", &libc_lo, &libc_hi);
    char *first = sl->data, *last = sl->data + sl->data_len - GPAGE;
    bool lo = sl->object != (uintptr_t)first;
    bool hi = sl->object + sl->size != (uintptr_t)(sl->data + sl->data_len);
    if ((lo && mprotect(first, GPAGE, PROT_NONE) != 0) ||
        (hi && last != first && mprotect(last, GPAGE, PROT_NONE) != 0)) {
        mprotect(sl->data, sl->data_len, PROT_READ | PROT_WRITE);
        guard_map_failed("watching a guarded object");
        return;
    }
    sl->watched = lo || hi;
}

/* Opens a slot for an object of `size` bytes; owner's lock held. */
static void *slot_open(struct gpool *o, struct kmem_cache *c, size_t size, size_t align,
                       const struct track *alloc)
{
    struct guard_slot *sl = slot_take(o);
    if (!sl) {
        if (o->npools >= o->max_pools)
            ; /* every slot live: the pool is busy */
        else if (!entries_room(SLOT_ENTRIES + POOL_ENTRIES))
            budget_spent();
        else
            guard_map_failed("mapping a guard pool");
        return NULL;
    }
    if (mprotect(sl->data, sl->data_len, PROT_READ | PROT_WRITE) != 0) {
        /* The slot stays closed: give it back, allocate normally.  Never
         * write into it (that would be our own fault, not the program's). */
        ring_push(o, sl);
        guard_recount_soon();
        guard_map_failed("opening a guarded slot");
        return NULL;
    }
    if (o != &sample_owner)
        atomic_fetch_add(&guard_entries, SLOT_ENTRIES);
    sl->cache = c;
    slot_place(sl, size, align, want_left(), alloc);
    sl->watched = 0;
    if (opt.guard_watch && o != &sample_owner)
        watch(sl);
    return (void *)sl->object;
}

/* ---- G caches --------------------------------------------------------------- */

/* G objects too large for a pool: one mapping each, found by the segment
 * map like any segment (header first), quarantined in a FIFO of their own
 * under guard_lock. */
static struct segment **gq;
static size_t gq_cap, gq_head, gq_count;

#define GUARD_HDR align_up(sizeof(struct segment) + sizeof(struct guard_slot), GPAGE)

static struct guard_slot *guard_slot_of(struct segment *seg)
{
    return (struct guard_slot *)((char *)seg + sizeof(struct segment));
}

static void unmap_guarded(struct segment *seg)
{
    segmap_set(seg, false);
    os_unmap(seg, seg->map_size);
    atomic_fetch_sub(&guard_entries, BIG_ENTRIES);
}

/* Makes room under the budget by giving back the oldest quarantined big
 * mapping; false when there is none. */
static bool big_room(void)
{
    if (entries_room(BIG_ENTRIES))
        return true;
    lock(&guard_lock, LOCK_GUARD);
    bool room = false;
    if (gq_count) {
        struct segment *old = gq[gq_head];
        gq_head = (gq_head + 1) % gq_cap;
        gq_count--;
        unmap_guarded(old);
        room = true;
    }
    unlock(&guard_lock, LOCK_GUARD);
    return room;
}

static void *big_alloc(struct kmem_cache *c, size_t size, size_t align, const struct track *alloc)
{
    if (!big_room()) {
        budget_spent();
        return NULL;
    }
    size_t data_len = align_up(size ? size : 1, GPAGE);
    size_t map = GUARD_HDR + GPAGE + data_len + GPAGE;
    struct segment *seg = os_map_aligned(map, SEG_SIZE);
    if (!seg) {
        guard_recount_soon();
        guard_map_failed("mapping a guarded object");
        return NULL;
    }
    atomic_fetch_add(&guard_entries, BIG_ENTRIES);
    char *guard_lo = (char *)seg + GUARD_HDR;
    if (mprotect(guard_lo, GPAGE, PROT_NONE) != 0 ||
        mprotect(guard_lo + GPAGE + data_len, GPAGE, PROT_NONE) != 0) {
        os_unmap(seg, map);
        atomic_fetch_sub(&guard_entries, BIG_ENTRIES);
        guard_recount_soon();
        guard_map_failed("protecting a guard page");
        return NULL;
    }
    seg->magic = SEG_MAGIC;
    seg->kind = SEG_GUARD;
    seg->map_size = map;
    struct guard_slot *sl = guard_slot_of(seg);
    sl->cache = c;
    sl->data = guard_lo + GPAGE;
    sl->data_len = data_len;
    slot_place(sl, size, align, want_left(), alloc);
    struct slab *s = &seg->slabs[0];
    s->start = (char *)sl->object;
    s->end = (char *)sl->object + size;
    s->cache = c;
    s->objects = 1;
    s->inuse = 1;
    s->bin = NO_BIN;
    for (unsigned i = 0; i < SLICES_PER_SEG; i++)
        seg->slice_slab[i] = s;
    segmap_set(seg, true);
    return (void *)sl->object;
}

void *guard_alloc(struct kmem_cache *c, size_t size)
{
    size_t asked = guard_asked_align;
    size_t align = guard_align(size, asked);
    if (!c->is_kmalloc && c->align > align) /* what a named cache promises */
        align = c->align;
    struct track alloc;
    struct gpool *o = gpool_of(c);
    void *p;
    if (!o) {
        set_track(&alloc);
        p = big_alloc(c, size, align, &alloc);
    } else {
        if (!entries_room(SLOT_ENTRIES)) {
            budget_spent();
            return NULL;
        }
        set_track(&alloc);
        lock(&o->lock, LOCK_GPOOL);
        p = slot_open(o, c, size, align, &alloc);
        unlock(&o->lock, LOCK_GPOOL);
    }
    if (p)
        __atomic_add_fetch(&c->nr_guard_live, 1, __ATOMIC_RELAXED);
    return p;
}

/* Puts a freed big G mapping in the quarantine; unmaps the oldest beyond
 * it.  guard_lock held. */
static void quarantine_mapping(struct segment *seg)
{
    if (!gq) {
        gq_cap = opt.guard_quarantine > 0 ? (size_t)opt.guard_quarantine : 1;
        void *m = mmap(NULL, gq_cap * sizeof(*gq), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
            unmap_guarded(seg);
            return;
        }
        gq = m;
    }
    if (gq_count == gq_cap) {
        struct segment *old = gq[gq_head];
        gq_head = (gq_head + 1) % gq_cap;
        gq_count--;
        unmap_guarded(old);
    }
    gq[(gq_head + gq_count) % gq_cap] = seg;
    gq_count++;
}

/* ---- the sampling pool ---------------------------------------------------------- */

static struct pool *pool_of_seg(struct segment *seg)
{
    return (struct pool *)((char *)seg + sizeof(struct segment));
}

/* The slot of pool p an address lies in (its data or the guard page after
 * it), or NULL. */
static struct guard_slot *pool_slot_at(struct pool *p, uintptr_t addr, uint32_t *index)
{
    if (addr < (uintptr_t)p->data0)
        return NULL;
    size_t i = (addr - (uintptr_t)p->data0) / p->stride;
    if (i >= p->nslots)
        return NULL;
    if (index)
        *index = (uint32_t)i;
    return &p->slot[i];
}

/* The sampling budget: at most sample_per_sec samples a second on average,
 * in bursts of up to SAMPLE_BURST, for the whole process.  A sample costs
 * two page-protection changes (each takes the address-space lock for
 * writing and, with threads on other CPUs, shoots down their TLBs) and two
 * stack captures: bounding their number per second bounds their cost,
 * whatever the allocation rate and the number of threads.  The countdown
 * in the front end still decides which allocation is a candidate (one in
 * sample_rate); this only says whether the candidate is taken.
 *
 * A generic cell rate algorithm over one atomic word, no lock: `credit`
 * is the time at which the budget would be spent at the average rate;
 * a sample is due when it lies at least one gap in the past, and it is
 * never further back than a burst. */
static _Atomic uint64_t sample_credit;

static bool sample_due(void)
{
    if (opt.sample_per_sec <= 0)
        return true;
    uint64_t gap = 1000000000ull / (uint64_t)opt.sample_per_sec;
    uint64_t burst = gap * SAMPLE_BURST;
    uint64_t now = track_now();
    uint64_t t = atomic_load_explicit(&sample_credit, memory_order_relaxed);
    for (;;) {
        uint64_t base = now > burst && t < now - burst ? now - burst : t;
        if (base + gap > now)
            return false;
        if (atomic_compare_exchange_weak_explicit(&sample_credit, &t, base + gap,
                                                  memory_order_relaxed, memory_order_relaxed))
            return true;
    }
}

void *sample_alloc(size_t size, size_t align)
{
    /* A report's own allocations never take pool slots (the faulting one
     * among them would be opened again). */
    if (guard_asked_align > align)
        align = guard_asked_align;
    if (!size || size > GPAGE || align > GPAGE || report_depth || !sample_due())
        return NULL;
    struct track alloc;
    set_track(&alloc);
    struct gpool *o = &sample_owner;
    lock(&o->lock, LOCK_GPOOL);
    if (!o->per_pool) {
        long want = opt.sample_slots;
        o->per_pool = want < 1 ? 1 : want > POOL_MAX_SLOTS ? POOL_MAX_SLOTS : (uint32_t)want;
        o->data_len = GPAGE;
        o->stride = 2 * GPAGE;
        o->max_pools = 1;
        o->quarantine = SIZE_MAX; /* every slot once, then least recently freed first */
    }
    void *p =
        slot_open(o, &kmalloc_caches[size_class(size)], size, guard_align(size, align), &alloc);
    unlock(&o->lock, LOCK_GPOOL);
    return p;
}

static __thread uint64_t sample_rng;

uint32_t sample_interval(void)
{
    if (opt.sample_rate <= 0)
        return UINT32_MAX;
    if (!sample_rng)
        sample_rng = (track_now() ^ ((uint64_t)gettid() << 32)) | 1;
    sample_rng ^= sample_rng << 13;
    sample_rng ^= sample_rng >> 7;
    sample_rng ^= sample_rng << 17;
    /* Uniform in [1, 2 * rate]: mean `rate`, no fixed stride to fall into. */
    uint64_t span = 2 * (uint64_t)opt.sample_rate;
    uint64_t v = 1 + sample_rng % (span > UINT32_MAX - 1 ? UINT32_MAX - 1 : span);
    return (uint32_t)v;
}

/* ---- free ------------------------------------------------------------------------ */

/* The slot of a guarded object and its lock (guard_lock for a big G
 * object, the owner's for a pool slot), taken; NULL (nothing taken) when p
 * lies in no slot. */
static struct guard_slot *slot_lock(struct slab *s, const void *p, pthread_mutex_t **m)
{
    struct segment *seg = segment_of(s);
    if (seg->kind == SEG_GUARD) {
        *m = &guard_lock;
        lock(*m, LOCK_GUARD);
        return guard_slot_of(seg);
    }
    struct pool *pl = pool_of_seg(seg);
    struct guard_slot *sl = pool_slot_at(pl, (uintptr_t)p, NULL);
    if (!sl)
        return NULL;
    *m = &pl->owner->lock;
    lock(*m, LOCK_GPOOL);
    return sl;
}

static void slot_unlock(pthread_mutex_t *m)
{
    unlock(m, m == &guard_lock ? LOCK_GUARD : LOCK_GPOOL);
}

static void report_free_problem(enum bug_kind kind, struct guard_slot *sl, const void *p)
{
    struct bug *b = bug_new(kind, sl->cache ? sl->cache->name : "kmalloc");
    if (!b)
        return;
    b->ptr = (uintptr_t)p;
    b->object = sl->object;
    b->obj_size = sl->size;
    b->has_tracks = true;
    memcpy(b->track, sl->track, sizeof(b->track));
}

#define SLACK_WORD (0x0101010101010101ull * SLACK_BYTE)

/* The first byte of [a, b) that is not SLACK_BYTE, or NULL. */
static uint8_t *slack_first(uint8_t *a, uint8_t *b)
{
    while (a < b && ((uintptr_t)a & 7))
        if (*a++ != SLACK_BYTE)
            return a - 1;
    for (; a + 8 <= b; a += 8)
        if (*(uint64_t *)a != SLACK_WORD)
            break;
    for (; a < b; a++)
        if (*a != SLACK_BYTE)
            return a;
    return NULL;
}

/* The last byte of [a, b) that is not SLACK_BYTE, or NULL. */
static uint8_t *slack_last(uint8_t *a, uint8_t *b)
{
    while (b > a && ((uintptr_t)b & 7))
        if (*--b != SLACK_BYTE)
            return b;
    for (; b - 8 >= a; b -= 8)
        if (*(uint64_t *)(b - 8) != SLACK_WORD)
            break;
    while (b > a)
        if (*--b != SLACK_BYTE)
            return b;
    return NULL;
}

static void slack_bug(struct guard_slot *sl, uint8_t *q, int side)
{
    struct bug *b = bug_new(BUG_GUARD_SLACK, sl->cache ? sl->cache->name : "kmalloc");
    if (!b)
        return;
    b->write = true;
    b->side = (int8_t)side;
    b->fault_start = (uintptr_t)q;
    b->distance = side > 0 ? (long)((uintptr_t)q - (sl->object + sl->size))
                           : (long)(sl->object - (uintptr_t)q);
    b->object = sl->object;
    b->obj_size = sl->size;
    b->first_byte = *q;
    b->expected = SLACK_BYTE;
    b->has_tracks = true;
    memcpy(b->track, sl->track, sizeof(b->track));
}

/* The slack bytes on both sides of the object, between it and the guard
 * pages, must be untouched: a write there went past the object's end by
 * less than the alignment, or before its start by less than the page. */
static void check_slack(struct guard_slot *sl)
{
    uint8_t *obj = (uint8_t *)sl->object, *end = obj + sl->size;
    uint8_t *q = slack_first(end, (uint8_t *)sl->data + sl->data_len);
    if (q)
        slack_bug(sl, q, 1);
    q = slack_last((uint8_t *)sl->data, obj);
    if (q)
        slack_bug(sl, q, -1);
}

void guard_set_family(struct slab *s, const void *p, enum alloc_family family)
{
    pthread_mutex_t *m;
    struct guard_slot *sl = slot_lock(s, p, &m);
    if (!sl)
        return;
    if (sl->state == SLOT_LIVE && sl->object == (uintptr_t)p)
        sl->family = (uint8_t)family;
    slot_unlock(m);
}

/* A free through another family than the allocation's, or a sized delete
 * of another size (debug/check.c words it; the object goes all the same). */
static void check_family(struct guard_slot *sl, enum alloc_family family, size_t size)
{
    bool wrong_family = family != FAMILY_ANY && sl->family != FAMILY_ANY && sl->family != family;
    bool wrong_size =
        !wrong_family && sl->family != FAMILY_ANY && size != SIZE_UNKNOWN && size != sl->size;
    if (!wrong_family && !wrong_size)
        return;
    struct bug *b = bug_new(wrong_family ? BUG_ALLOC_MISMATCH : BUG_SIZE_MISMATCH,
                            sl->cache ? sl->cache->name : "kmalloc");
    if (!b)
        return;
    b->ptr = sl->object;
    b->alloc_family = sl->family;
    b->free_family = family;
    b->found = (long)size;
    b->should_be = (long)sl->size;
    b->object_size = b->orig_size = sl->size;
    b->has_tracks = true;
    b->track[TRACK_ALLOC] = sl->track[TRACK_ALLOC];
}

/* The pages of freed G slots go back to the system DISCARD_BATCH slots at
 * a time: sorted, neighbouring slots (and the guard pages between them)
 * in one madvise.  A slot taken again before its turn is struck from the
 * batch (slot_take). */
static int by_address(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((struct guard_slot *const *)a)[0]->data;
    uintptr_t y = (uintptr_t)((struct guard_slot *const *)b)[0]->data;
    return x < y ? -1 : x > y;
}

static void discard_flush(struct gpool *o)
{
    qsort(o->discard, o->ndiscard, sizeof(o->discard[0]), by_address);
    for (unsigned i = 0; i < o->ndiscard;) {
        char *lo = o->discard[i]->data, *hi = lo + o->discard[i]->data_len;
        unsigned j = i + 1;
        while (j < o->ndiscard && o->discard[j]->data == hi + GPAGE) {
            hi = o->discard[j]->data + o->discard[j]->data_len;
            j++;
        }
        madvise(lo, (size_t)(hi - lo), MADV_DONTNEED);
        i = j;
    }
    o->ndiscard = 0;
}

static void discard_later(struct gpool *o, struct guard_slot *sl)
{
    o->discard[o->ndiscard++] = sl;
    if (o->ndiscard == DISCARD_BATCH)
        discard_flush(o);
}

/* Closes a freed object's slot (its lock held). */
static void slot_close(struct segment *seg, struct guard_slot *sl)
{
    mprotect(sl->data, sl->data_len, PROT_NONE);
    if (seg->kind == SEG_GUARD) {
        /* Inaccessible until unmapped: no need to keep the pages. */
        madvise(sl->data, sl->data_len, MADV_DONTNEED);
        seg->slabs[0].inuse = 0;
        __atomic_sub_fetch(&sl->cache->nr_guard_live, 1, __ATOMIC_RELAXED);
        quarantine_mapping(seg);
        return;
    }
    struct pool *pl = pool_of_seg(seg);
    if (!pl->sampled) {
        /* A G slot waits in the quarantine: its pages go back meanwhile,
         * a batch at a time.  (A sampling slot is one page, kept for its
         * next object: giving it back would be one more TLB shootdown per
         * sample.) */
        if (atomic_fetch_add(&resident_bytes, sl->data_len) + sl->data_len <= RESIDENT_MAX) {
            sl->resident = 1;
        } else {
            atomic_fetch_sub(&resident_bytes, sl->data_len);
            discard_later(pl->owner, sl);
        }
        atomic_fetch_sub(&guard_entries, SLOT_ENTRIES);
        __atomic_sub_fetch(&sl->cache->nr_guard_live, 1, __ATOMIC_RELAXED);
    }
    ring_push(pl->owner, sl);
}

void guard_free(struct slab *s, void *p, enum alloc_family family, size_t size)
{
    struct track freed;
    set_track(&freed);
    pthread_mutex_t *m;
    struct guard_slot *sl = slot_lock(s, p, &m);
    if (!sl) {
        debug_foreign_free(p);
        return;
    }
    /* delete of the first element of a new[] array behind its cookie */
    uintptr_t cookie = (uintptr_t)p - sl->object;
    if (family == FAMILY_NEW && sl->state == SLOT_LIVE && sl->family == FAMILY_NEW_ARRAY &&
        (cookie == sizeof(size_t) || cookie == 16)) {
        check_family(sl, family, SIZE_UNKNOWN);
        family = FAMILY_ANY; /* reported once */
        size = SIZE_UNKNOWN;
        p = (void *)sl->object;
    }
    if (sl->state == SLOT_LIVE && (uintptr_t)p == sl->object)
        check_family(sl, family, size);
    if (sl->state != SLOT_LIVE && (uintptr_t)p == sl->object) {
        report_free_problem(BUG_GUARD_DOUBLE_FREE, sl, p);
    } else if (sl->state != SLOT_LIVE || (uintptr_t)p != sl->object) {
        report_free_problem(BUG_GUARD_INVALID_FREE, sl, p);
    } else {
        if (sl->watched) /* the slack must be read */
            mprotect(sl->data, sl->data_len, PROT_READ | PROT_WRITE);
        check_slack(sl);
        sl->track[TRACK_FREE] = freed;
        sl->state = SLOT_FREED;
        slot_close(segment_of(s), sl);
    }
    slot_unlock(m);
    bugs_flush();
}

bool guard_usable(struct slab *s, const void *p, size_t *size)
{
    pthread_mutex_t *m;
    struct guard_slot *sl = slot_lock(s, p, &m);
    bool live = sl && sl->state == SLOT_LIVE && sl->object == (uintptr_t)p;
    *size = live ? sl->size : 0;
    if (sl)
        slot_unlock(m);
    return live;
}

/* ---- faults ------------------------------------------------------------------------ */

/* The guarded object an address belongs to or borders, and where. */
static struct guard_slot *fault_slot(uintptr_t addr)
{
    if (!segmap_test((void *)addr))
        return NULL;
    struct segment *seg = segment_of((void *)addr);
    if (seg->kind == SEG_GUARD) {
        struct guard_slot *sl = guard_slot_of(seg);
        uintptr_t lo = (uintptr_t)sl->data - GPAGE, hi = (uintptr_t)sl->data + sl->data_len + GPAGE;
        return addr >= lo && addr < hi ? sl : NULL;
    }
    if (seg->kind != SEG_POOL)
        return NULL;
    struct pool *pl = pool_of_seg(seg);
    if (addr < (uintptr_t)pl->data0) /* the guard page before slot 0 */
        return addr >= (uintptr_t)pl->data0 - GPAGE ? &pl->slot[0] : NULL;
    uint32_t i;
    struct guard_slot *sl = pool_slot_at(pl, addr, &i);
    if (!sl)
        return NULL;
    /* A guard page between slots i and i+1: the nearer object's. */
    if (addr >= (uintptr_t)sl->data + sl->data_len && i + 1 < pl->nslots) {
        struct guard_slot *next = &pl->slot[i + 1];
        if (next->state != SLOT_UNUSED &&
            (sl->state == SLOT_UNUSED || next->object - addr < addr - (sl->object + sl->size)))
            return next;
    }
    return sl;
}

static __thread void *rearm_page; /* continue mode: page to protect again */

static void report_fault(struct guard_slot *sl, uintptr_t addr, ucontext_t *uc)
{
    struct bug *b = bug_new(BUG_GUARD_ACCESS, sl->cache ? sl->cache->name : "kmalloc");
    if (!b)
        return;
#ifdef REG_ERR
    b->write = (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0;
    b->fault_pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#else
    (void)uc;
#endif
    b->fault_start = addr;
    b->object = sl->object;
    b->obj_size = sl->size;
    b->freed = sl->state == SLOT_FREED;
    if (addr < sl->object) {
        b->side = -1;
        b->distance = (long)(sl->object - addr);
    } else if (addr >= sl->object + sl->size) {
        b->side = 1;
        b->distance = (long)(addr - (sl->object + sl->size));
    }
    b->has_tracks = sl->state != SLOT_UNUSED;
    memcpy(b->track, sl->track, sizeof(b->track));
    /* The faulting code first, unwound from the interrupted registers. */
    b->nframes = stack_capture_context(uc, b->frames, STACK_MAX_FRAMES);
}

bool guard_trap(ucontext_t *uc)
{
    if (!rearm_page)
        return false;
    mprotect(rearm_page, GPAGE, PROT_NONE);
    rearm_page = NULL;
#ifdef REG_EFL
    uc->uc_mcontext.gregs[REG_EFL] &= ~0x100; /* trap flag off */
#else
    (void)uc;
#endif
    return true;
}

bool guard_fault(int sig, siginfo_t *si, ucontext_t *uc, bool *resume)
{
    (void)sig;
    uintptr_t addr = (uintptr_t)si->si_addr;
    struct guard_slot *sl = fault_slot(addr);
    if (!sl)
        return false;
#ifdef REG_EFL
    if (sl->watched && sl->state == SLOT_LIVE &&
        ((addr >= sl->object && addr < sl->object + sl->size) || libc_vector_read(sl, addr, uc))) {
        /* A watched object's own bytes: this access goes through, and the
         * page closes again after it (guard_trap). */
        void *page = (void *)(addr & ~(GPAGE - 1));
        if (mprotect(page, GPAGE, PROT_READ | PROT_WRITE) == 0) {
            rearm_page = page;
            uc->uc_mcontext.gregs[REG_EFL] |= 0x100;
            *resume = true;
            return true;
        }
    }
#endif
    report_enter();
    report_fault(sl, addr, uc);
    bugs_flush();
    report_leave();
    *resume = false;
#ifdef REG_EFL
    if (opt.guard_continue) {
        /* Let this access through, then (one instruction later, on the
         * trap) make the page inaccessible again, so the next stray access
         * is reported too. */
        void *page = (void *)(addr & ~(GPAGE - 1));
        mprotect(page, GPAGE, PROT_READ | PROT_WRITE);
        rearm_page = page;
        uc->uc_mcontext.gregs[REG_EFL] |= 0x100;
        *resume = true;
    }
#endif
    return true;
}

bool guard_wants_faults(void)
{
    return guard_any || opt.sample_rate > 0;
}

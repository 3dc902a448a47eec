/*
 * Guard mode and the sampling pool (see guard.h).
 *
 * G caches: one mapping per object, found by the segment map like any
 * segment (4 MiB aligned, header first):
 *
 *   +--------+-------+------------------------------+-------+
 *   | header | guard | data pages                   | guard |
 *   | (slot) | page  |      [slack][object]         | page  |   right (default)
 *   |        |       | [object][slack]              |       |   left
 *   +--------+-------+------------------------------+-------+
 *
 * Sampling pool: one 4 MiB-aligned region made at the first sample (one
 * allocation in sample_rate is a candidate, and at most sample_per_sec
 * candidates a second are taken: see sample_due()):
 *
 *   +-------------------+-------+--------+-------+--------+-------+ ...
 *   | header: segment,  | guard | slot 0 | guard | slot 1 | guard |
 *   | pool, slot table  | page  | page   | page  | page   | page  |
 *   +-------------------+-------+--------+-------+--------+-------+ ...
 *
 * Objects are put against the guard page on their right (or left), aligned
 * to 16 bytes (less for smaller sizes); the few slack bytes between object
 * and guard page are filled with 0xcc and checked at free.  A freed object's
 * pages are made inaccessible (and given back with MADV_DONTNEED); G objects
 * wait in a FIFO quarantine before their mapping goes, pool slots are
 * reused least recently freed first.
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
#include "base/options.h"
#include "report/bug.h"

#define GPAGE ((size_t)4096)
#define SLACK_BYTE 0xcc
#define POOL_MAX_SLOTS 500
#define ALT_STACK_SIZE ((size_t)1 << 20)

bool guard_any;
pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER; /* lock order 7 (base/lock.h) */
static struct segment *pool_seg;
static struct pool *pool;
static _Atomic unsigned alternate;

/* G quarantine: freed guard mappings, oldest first. */
static struct segment **gq;
static size_t gq_cap, gq_head, gq_count;

#define GUARD_HDR align_up(sizeof(struct segment) + sizeof(struct guard_slot), GPAGE)

static struct guard_slot *guard_slot_of(struct segment *seg)
{
    return (struct guard_slot *)((char *)seg + sizeof(struct segment));
}

static size_t object_align(size_t n)
{
    if (n >= 16)
        return 16;
    size_t a = 1;
    while (a * 2 <= n)
        a *= 2;
    return a;
}

/* Fills a track for the calling thread; never with guard_lock held (the
 * unwinder may load code on first use). */
static void set_track(struct track *t)
{
    uintptr_t frames[STACK_MAX_FRAMES];
    unsigned n = stack_capture(frames, (unsigned)opt.stack_depth);
    t->addr = n ? frames[0] : 0;
    t->handle = depot_save(frames, n);
    t->cpu = sched_getcpu();
    t->pid = (int32_t)gettid();
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
    /* The slack inside the data pages: before a right-placed object only the
     * bytes up to the guard page matter (those after it). */
    char *end = (char *)sl->object + n;
    char *lim = left ? sl->data + sl->data_len : (char *)sl->object + need;
    memset(end, SLACK_BYTE, (size_t)(lim - end));
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

/* ---- G caches ---------------------------------------------------------------- */

/* Guarded objects and quarantined mappings, each about four entries of the
 * process's memory map (header, guard, data, guard).  They may take at most
 * a sixteenth of vm.max_map_count, and never more than half of the entries
 * the process has left: the rest stays the program's (and the heap's: at
 * the limit no segment could be mapped either, and every malloc would
 * fail).  The entries in use are counted again every so many guarded
 * mappings and after any failure. */
#define GUARD_ENTRIES 4
static _Atomic long guard_mappings;
static _Atomic long guard_limit = -1;  /* mappings allowed now; -1: not counted yet */
static _Atomic long guard_recount_at;  /* recount when guard_mappings reaches it */
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
    char buf[16384];
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
    long max = max_map_count(), mine = atomic_load(&guard_mappings);
    long cap = max / 16 > 16 ? max / 16 : 16;
    long used = maps_in_use();
    long limit = cap;
    if (used >= 0) {
        long reserve = max / 64 > 64 ? max / 64 : 64;
        long left = max - used - reserve; /* entries the process still has */
        /* Half of what is left; below the reserve, give back the shortfall. */
        long allowed = mine + (left > 0 ? left / 2 : left) / GUARD_ENTRIES;
        if (allowed < limit)
            limit = allowed > 0 ? allowed : 0;
    }
    atomic_store(&guard_limit, limit);
    long step = limit / 8 > 16 ? limit / 8 : 16;
    atomic_store(&guard_recount_at, mine + step);
    atomic_store(&guard_counting, 0);
}

/* After a failing mmap or mprotect: count again before the next one. */
static void guard_recount_soon(void)
{
    atomic_store(&guard_recount_at, 0);
}

static long guard_budget(void)
{
    if (atomic_load(&guard_limit) < 0 ||
        atomic_load(&guard_mappings) >= atomic_load(&guard_recount_at))
        guard_recount();
    return atomic_load(&guard_limit);
}

static void unmap_guarded(struct segment *seg)
{
    segmap_set(seg, false);
    os_unmap(seg, seg->map_size);
    atomic_fetch_sub(&guard_mappings, 1);
}

/* Makes room under the budget by giving back the oldest quarantined
 * mapping; false when the live objects alone fill it. */
static bool guard_room(void)
{
    if (atomic_load(&guard_mappings) < guard_budget())
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

void *guard_alloc(struct kmem_cache *c, size_t size)
{
    if (!guard_room()) {
        static _Atomic int said;
        if (!atomic_exchange(&said, 1))
            options_warn("guard pages: as many guarded objects live as vm.max_map_count and "
                         "the process's own mappings leave room for; objects go unguarded "
                         "until some are freed");
        return NULL;
    }
    size_t data_len = align_up(size ? size : 1, GPAGE);
    size_t map = GUARD_HDR + GPAGE + data_len + GPAGE;
    struct track alloc;
    set_track(&alloc);
    struct segment *seg = os_map_aligned(map, SEG_SIZE);
    if (!seg) {
        guard_recount_soon();
        guard_map_failed("mapping a guarded object");
        return NULL;
    }
    atomic_fetch_add(&guard_mappings, 1);
    char *guard_lo = (char *)seg + GUARD_HDR;
    if (mprotect(guard_lo, GPAGE, PROT_NONE) != 0 ||
        mprotect(guard_lo + GPAGE + data_len, GPAGE, PROT_NONE) != 0) {
        os_unmap(seg, map);
        atomic_fetch_sub(&guard_mappings, 1);
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
    size_t align = object_align(size ? size : 1);
    if (c->align > align) /* what the cache promises, e.g. for aligned_alloc */
        align = c->align;
    slot_place(sl, size, align, want_left(), &alloc);
    struct slab *s = &seg->slabs[0];
    s->start = (char *)sl->object;
    s->end = (char *)sl->object + size;
    s->cache = c;
    s->objects = 1;
    s->inuse = 1;
    s->bin = NO_BIN;
    for (unsigned i = 0; i < SLICES_PER_SEG; i++)
        seg->slice_slab[i] = s;
    __atomic_add_fetch(&c->nr_guard_live, 1, __ATOMIC_RELAXED);
    segmap_set(seg, true);
    return (void *)sl->object;
}

/* Puts a freed G mapping in the quarantine; unmaps the oldest beyond it.
 * guard_lock held. */
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

static size_t pool_header_size(uint32_t n)
{
    return align_up(sizeof(struct segment) + sizeof(struct pool) + n * sizeof(struct guard_slot) +
                        n * sizeof(uint32_t),
                    GPAGE);
}

/* guard_lock held. */
static bool pool_create(void)
{
    long want = opt.sample_slots;
    uint32_t n = want < 1 ? 1 : want > POOL_MAX_SLOTS ? POOL_MAX_SLOTS : (uint32_t)want;
    size_t hdr = pool_header_size(n);
    size_t size = hdr + GPAGE + (size_t)n * 2 * GPAGE;
    struct segment *seg = os_map_aligned(size, SEG_SIZE);
    if (!seg)
        return false;
    if (mprotect((char *)seg + hdr, size - hdr, PROT_NONE) != 0) {
        os_unmap(seg, size);
        return false;
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
    p->data0 = (char *)seg + hdr + GPAGE;
    p->fifo = (uint32_t *)&p->slot[n];
    for (uint32_t i = 0; i < n; i++) {
        p->slot[i].data = p->data0 + (size_t)i * 2 * GPAGE;
        p->slot[i].data_len = GPAGE;
        p->fifo[i] = i;
    }
    p->count = n;
    pool = p;
    pool_seg = seg;
    segmap_set(seg, true);
    return true;
}

static struct guard_slot *pool_slot_at(uintptr_t addr, uint32_t *index)
{
    if (!pool || addr < (uintptr_t)pool->data0)
        return NULL;
    size_t i = (addr - (uintptr_t)pool->data0) / (2 * GPAGE);
    if (i >= pool->nslots)
        return NULL;
    if (index)
        *index = (uint32_t)i;
    return &pool->slot[i];
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
    if (!size || size > GPAGE || align > GPAGE || report_depth || !sample_due())
        return NULL;
    struct track alloc;
    set_track(&alloc);
    lock(&guard_lock, LOCK_GUARD);
    if ((!pool && !pool_create()) || !pool || !pool->count) {
        unlock(&guard_lock, LOCK_GUARD);
        return NULL;
    }
    uint32_t i = pool->fifo[pool->head];
    pool->head = (pool->head + 1) % pool->nslots;
    pool->count--;
    struct guard_slot *sl = &pool->slot[i];
    if (mprotect(sl->data, GPAGE, PROT_READ | PROT_WRITE) != 0) {
        /* The slot stays closed: give it back, allocate normally.  Never
         * write into it (that would be our own fault, not the program's). */
        pool->fifo[(pool->head + pool->count) % pool->nslots] = i;
        pool->count++;
        unlock(&guard_lock, LOCK_GUARD);
        guard_map_failed("opening a sampled slot");
        return NULL;
    }
    sl->cache = &kmalloc_caches[size_class(size)];
    size_t a = object_align(size);
    slot_place(sl, size, align > a ? align : a, want_left(), &alloc);
    unlock(&guard_lock, LOCK_GUARD);
    return (void *)sl->object;
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

static struct guard_slot *slot_of(struct slab *s, const void *p)
{
    struct segment *seg = segment_of(s);
    if (seg->kind == SEG_GUARD)
        return guard_slot_of(seg);
    return pool_slot_at((uintptr_t)p, NULL);
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

/* The slack bytes between object and guard page must be untouched. */
static void check_slack(struct guard_slot *sl)
{
    size_t need = align_up(sl->size ? sl->size : 1, sl->align);
    uint8_t *end = (uint8_t *)sl->object + sl->size;
    uint8_t *lim = sl->left ? (uint8_t *)sl->data + sl->data_len : (uint8_t *)sl->object + need;
    for (uint8_t *q = end; q < lim; q++) {
        if (*q != SLACK_BYTE) {
            struct bug *b = bug_new(BUG_GUARD_SLACK, sl->cache ? sl->cache->name : "kmalloc");
            if (b) {
                b->write = true;
                b->side = 1;
                b->fault_start = (uintptr_t)q;
                b->distance = (long)(q - end);
                b->object = sl->object;
                b->obj_size = sl->size;
                b->first_byte = *q;
                b->expected = SLACK_BYTE;
                b->has_tracks = true;
                memcpy(b->track, sl->track, sizeof(b->track));
            }
            return;
        }
    }
}

void guard_set_family(struct slab *s, const void *p, enum alloc_family family)
{
    lock(&guard_lock, LOCK_GUARD);
    struct guard_slot *sl = slot_of(s, p);
    if (sl && sl->state == SLOT_LIVE && sl->object == (uintptr_t)p)
        sl->family = (uint8_t)family;
    unlock(&guard_lock, LOCK_GUARD);
}

/* A free through another family than the allocation's, or a sized delete
 * of another size (debug/check.c words it; the object goes all the same). */
static void check_family(struct guard_slot *sl, enum alloc_family family, size_t size)
{
    bool wrong_family = family != FAMILY_ANY && sl->family != FAMILY_ANY && sl->family != family;
    bool wrong_size = !wrong_family && sl->family != FAMILY_ANY && size != SIZE_UNKNOWN &&
                      size != sl->size;
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

void guard_free(struct slab *s, void *p, enum alloc_family family, size_t size)
{
    struct track freed;
    set_track(&freed);
    lock(&guard_lock, LOCK_GUARD);
    struct guard_slot *sl = slot_of(s, p);
    if (!sl) {
        unlock(&guard_lock, LOCK_GUARD);
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
        check_slack(sl);
        sl->track[TRACK_FREE] = freed;
        sl->state = SLOT_FREED;
        mprotect(sl->data, sl->data_len, PROT_NONE);
        struct segment *seg = segment_of(s);
        if (seg->kind == SEG_GUARD) {
            /* Inaccessible until unmapped: no need to keep the pages.  (A
             * pool slot is one page, kept for its next object: giving it
             * back would be one more TLB shootdown per sample.) */
            madvise(sl->data, sl->data_len, MADV_DONTNEED);
            seg->slabs[0].inuse = 0;
            __atomic_sub_fetch(&sl->cache->nr_guard_live, 1, __ATOMIC_RELAXED);
            quarantine_mapping(seg);
        } else {
            uint32_t i = (uint32_t)(sl - pool->slot);
            pool->fifo[(pool->head + pool->count) % pool->nslots] = i;
            pool->count++;
        }
    }
    unlock(&guard_lock, LOCK_GUARD);
    bugs_flush();
}

bool guard_usable(struct slab *s, const void *p, size_t *size)
{
    struct guard_slot *sl = slot_of(s, p);
    bool live = sl && sl->state == SLOT_LIVE && sl->object == (uintptr_t)p;
    *size = live ? sl->size : 0;
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
    if (seg->kind != SEG_POOL || !pool)
        return NULL;
    if (addr < (uintptr_t)pool->data0) /* the guard page before slot 0 */
        return addr >= (uintptr_t)pool->data0 - GPAGE ? &pool->slot[0] : NULL;
    uint32_t i;
    struct guard_slot *sl = pool_slot_at(addr, &i);
    if (!sl)
        return NULL;
    /* A guard page between slots i and i+1: the nearer object's. */
    if (addr >= (uintptr_t)sl->data + GPAGE && i + 1 < pool->nslots) {
        struct guard_slot *next = &pool->slot[i + 1];
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

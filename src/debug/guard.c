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
 * Sampling pool: one 4 MiB-aligned region made at the first sample (the
 * default rate, one in 20000 allocations, keeps the cost of the two
 * mprotect calls and two stack captures per sample under 2 % even in
 * allocation-bound programs):
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
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "core/tcache.h"
#include "debug/debug.h"
#include "debug/guard.h"
#include "front/options.h"
#include "report/bug.h"

#define GPAGE ((size_t)4096)
#define SLACK_BYTE 0xcc
#define POOL_MAX_SLOTS 500
#define ALT_STACK_SIZE ((size_t)1 << 20)

enum slot_state { SLOT_UNUSED, SLOT_LIVE, SLOT_FREED };

struct guard_slot {
    uintptr_t object;
    uint32_t size;
    uint8_t state;
    uint8_t left; /* against the left guard page */
    uint32_t align;
    struct kmem_cache *cache;
    char *data; /* first data page */
    size_t data_len;
    struct track track[2];
};

struct pool {
    uint32_t nslots;
    uint32_t head, count; /* FIFO of free slot indices */
    char *data0;          /* data page of slot 0; slot i at data0 + 2*i pages */
    uint32_t *fifo;
    struct guard_slot slot[];
};

bool guard_any;
pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;
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

/* ---- G caches ---------------------------------------------------------------- */

void *guard_alloc(struct kmem_cache *c, size_t size)
{
    size_t data_len = align_up(size ? size : 1, GPAGE);
    size_t map = GUARD_HDR + GPAGE + data_len + GPAGE;
    struct track alloc;
    set_track(&alloc);
    struct segment *seg = os_map_aligned(map, SEG_SIZE);
    if (!seg) {
        errno = ENOMEM;
        return NULL;
    }
    char *guard_lo = (char *)seg + GUARD_HDR;
    mprotect(guard_lo, GPAGE, PROT_NONE);
    mprotect(guard_lo + GPAGE + data_len, GPAGE, PROT_NONE);
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
            segmap_set(seg, false);
            os_unmap(seg, seg->map_size);
            return;
        }
        gq = m;
    }
    if (gq_count == gq_cap) {
        struct segment *old = gq[gq_head];
        gq_head = (gq_head + 1) % gq_cap;
        gq_count--;
        segmap_set(old, false);
        os_unmap(old, old->map_size);
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
    mprotect((char *)seg + hdr, size - hdr, PROT_NONE);
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

/* Set while this thread reports a fault: the report's own allocations must
 * not take pool slots (the faulting one among them would be opened again). */
static __thread int in_fault_report;

void *sample_alloc(size_t size)
{
    if (!size || size > GPAGE || in_fault_report)
        return NULL;
    struct track alloc;
    set_track(&alloc);
    pthread_mutex_lock(&guard_lock);
    if ((!pool && !pool_create()) || !pool->count) {
        pthread_mutex_unlock(&guard_lock);
        return NULL;
    }
    uint32_t i = pool->fifo[pool->head];
    pool->head = (pool->head + 1) % pool->nslots;
    pool->count--;
    struct guard_slot *sl = &pool->slot[i];
    mprotect(sl->data, GPAGE, PROT_READ | PROT_WRITE);
    sl->cache = &kmalloc_caches[size_class(size)];
    slot_place(sl, size, object_align(size), want_left(), &alloc);
    pthread_mutex_unlock(&guard_lock);
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

void guard_free(struct slab *s, void *p)
{
    struct track freed;
    set_track(&freed);
    pthread_mutex_lock(&guard_lock);
    struct guard_slot *sl = slot_of(s, p);
    if (!sl) {
        pthread_mutex_unlock(&guard_lock);
        debug_foreign_free(p);
        return;
    }
    if (sl->state != SLOT_LIVE && (uintptr_t)p == sl->object) {
        report_free_problem(BUG_GUARD_DOUBLE_FREE, sl, p);
    } else if (sl->state != SLOT_LIVE || (uintptr_t)p != sl->object) {
        report_free_problem(BUG_GUARD_INVALID_FREE, sl, p);
    } else {
        check_slack(sl);
        sl->track[TRACK_FREE] = freed;
        sl->state = SLOT_FREED;
        mprotect(sl->data, sl->data_len, PROT_NONE);
        madvise(sl->data, sl->data_len, MADV_DONTNEED); /* inaccessible: no need to keep it */
        struct segment *seg = segment_of(s);
        if (seg->kind == SEG_GUARD) {
            seg->slabs[0].inuse = 0;
            __atomic_sub_fetch(&sl->cache->nr_guard_live, 1, __ATOMIC_RELAXED);
            quarantine_mapping(seg);
        } else {
            uint32_t i = (uint32_t)(sl - pool->slot);
            pool->fifo[(pool->head + pool->count) % pool->nslots] = i;
            pool->count++;
        }
    }
    pthread_mutex_unlock(&guard_lock);
    bugs_flush();
}

size_t guard_usable(struct slab *s, const void *p)
{
    struct guard_slot *sl = slot_of(s, p);
    return sl && sl->state == SLOT_LIVE && sl->object == (uintptr_t)p ? sl->size : 0;
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

static struct sigaction prev_action[3]; /* SIGSEGV, SIGBUS, SIGTRAP: the program's */
static bool handlers_installed;
extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

static int slot_index(int sig)
{
    return sig == SIGSEGV ? 0 : sig == SIGBUS ? 1 : sig == SIGTRAP ? 2 : -1;
}

/* Hands a signal that is not ours to the program's handler, or lets the
 * default action happen (the faulting instruction runs again and the
 * kernel applies it). */
static void chain(int sig, siginfo_t *si, void *ctx)
{
    struct sigaction *pa = &prev_action[slot_index(sig)];
    if ((pa->sa_flags & SA_SIGINFO) && pa->sa_sigaction) {
        pa->sa_sigaction(sig, si, ctx);
        return;
    }
    if (pa->sa_handler != SIG_DFL && pa->sa_handler != SIG_IGN) {
        pa->sa_handler(sig);
        return;
    }
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    __sigaction(sig, &dfl, NULL);
    if (sig == SIGTRAP)
        raise(sig); /* a trap does not repeat: deliver it again */
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

static void guard_handler(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    int saved = errno;
    if (sig == SIGTRAP) {
        if (!rearm_page) {
            chain(sig, si, ctx);
            errno = saved;
            return;
        }
        mprotect(rearm_page, GPAGE, PROT_NONE);
        rearm_page = NULL;
#ifdef REG_EFL
        uc->uc_mcontext.gregs[REG_EFL] &= ~0x100; /* trap flag off */
#endif
        errno = saved;
        return;
    }
    uintptr_t addr = (uintptr_t)si->si_addr;
    struct guard_slot *sl = fault_slot(addr);
    if (!sl) {
        chain(sig, si, ctx);
        errno = saved;
        return;
    }
    in_fault_report = 1;
    report_fault(sl, addr, uc);
    bugs_flush();
    in_fault_report = 0;
    void *page = (void *)(addr & ~(GPAGE - 1));
#ifdef REG_EFL
    if (opt.guard_continue) {
        /* Let this access through, then (one instruction later, on the
         * trap) make the page inaccessible again, so the next stray access
         * is reported too. */
        mprotect(page, GPAGE, PROT_READ | PROT_WRITE);
        rearm_page = page;
        uc->uc_mcontext.gregs[REG_EFL] |= 0x100;
        errno = saved;
        return;
    }
#endif
    (void)page;
    /* Die of the fault, as without us.  Raised here rather than by running
     * the access again: the report's own frees may have made that address
     * valid memory meanwhile. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    __sigaction(sig, &dfl, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    errno = saved;
}

void guard_thread_init(void)
{
    if (!handlers_installed)
        return;
    stack_t ss;
    if (sigaltstack(NULL, &ss) == 0 && !(ss.ss_flags & SS_DISABLE))
        return; /* the program set one */
    /* Large: the report symbolizes on it (libdw parses line tables with a
     * deep stack).  Only the pages used count. */
    size_t size = ALT_STACK_SIZE;
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (m == MAP_FAILED)
        return;
    ss.ss_sp = m;
    ss.ss_size = size;
    ss.ss_flags = 0;
    if (sigaltstack(&ss, NULL) < 0)
        munmap(m, size);
}

void guard_thread_exit(void)
{
    if (!handlers_installed)
        return;
    stack_t ss, off = {.ss_flags = SS_DISABLE};
    if (sigaltstack(NULL, &ss) == 0 && !(ss.ss_flags & SS_DISABLE) &&
        ss.ss_size == ALT_STACK_SIZE && sigaltstack(&off, NULL) == 0)
        munmap(ss.ss_sp, ss.ss_size);
}

void guard_init(void)
{
    if (!guard_any && opt.sample_rate <= 0)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = guard_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    __sigaction(SIGSEGV, &sa, &prev_action[0]);
    __sigaction(SIGBUS, &sa, &prev_action[1]);
    if (opt.guard_continue)
        __sigaction(SIGTRAP, &sa, &prev_action[2]);
    handlers_installed = true;
    guard_thread_init();
}

/* ---- every thread gets an alternate signal stack ------------------------------------
 * A thread that never allocates would report a fault on its own stack, which
 * may be small; so new threads start through a trampoline that sets the
 * thread up (thread cache and alternate stack, both undone at its exit). */

struct thread_start {
    void *(*fn)(void *);
    void *arg;
};

static void *thread_trampoline(void *p)
{
    struct thread_start ts = *(struct thread_start *)p;
    free(p);
    tcache_thread_start();
    return ts.fn(ts.arg);
}

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    static pthread_create_fn real;
    if (!real)
        real = (pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
    if (!real)
        return EAGAIN;
    struct thread_start *ts = handlers_installed ? malloc(sizeof(*ts)) : NULL;
    if (!ts)
        return real(t, attr, fn, arg);
    ts->fn = fn;
    ts->arg = arg;
    int r = real(t, attr, thread_trampoline, ts);
    if (r)
        free(ts);
    return r;
}

/* ---- keeping our handler first ------------------------------------------------------
 * A program that installs its own SIGSEGV/SIGBUS handler gets it called for
 * every fault that is not ours; ours stays installed. */

static bool intercepted(int sig)
{
    return handlers_installed &&
           (sig == SIGSEGV || sig == SIGBUS || (sig == SIGTRAP && opt.guard_continue));
}

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (!intercepted(sig))
        return __sigaction(sig, act, old);
    struct sigaction *pa = &prev_action[slot_index(sig)];
    if (old)
        *old = *pa;
    if (act)
        *pa = *act;
    return 0;
}

EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART; /* glibc's signal() has BSD semantics */
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, sig);
    if (sigaction(sig, &sa, &old) < 0)
        return SIG_ERR;
    return old.sa_handler;
}

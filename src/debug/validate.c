/*
 * validate (every object of every debugged cache checked now),
 * alloc_traces/free_traces, and the leak check of kmem_cache_destroy.
 */
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "base/lock.h"
#include "debug/debug.h"
#include "base/options.h"
#include "report/bug.h"
#include "base/out.h"
#include "report/symbolize.h"

typedef void (*cache_fn)(struct kmem_cache *c, void *arg);

/* Calls fn for every debugged cache: kmalloc caches, then named ones. */
static void for_each_debug_cache(cache_fn fn, void *arg)
{
    for (unsigned i = 0; i < NR_KMALLOC; i++)
        if (kmalloc_caches[i].debug)
            fn(&kmalloc_caches[i], arg);
    lock(&cache_list_lock, LOCK_CACHE_LIST);
    for (struct kmem_cache *c = cache_list; c; c = c->next)
        if (c->debug)
            fn(c, arg);
    unlock(&cache_list_lock, LOCK_CACHE_LIST);
}

/* ---- validate ------------------------------------------------------------------- */

static int validate_slab(struct kmem_cache *c, struct slab *s)
{
    int errors = 0;
    /* The freelist: every link an object of this slab, no more links than
     * free objects (a cycle would otherwise never end). */
    long nfree = 0, limit = (long)s->objects - (long)s->inuse;
    void *prev = NULL;
    for (void *p = s->freelist; p; p = fp_get(c, p)) {
        if (!debug_valid_object(c, s, p) || get_meta(c, s, p)->state != OBJ_STATE_FREE ||
            nfree >= limit) {
            struct bug *b = bug_new(BUG_FREECHAIN, c->name);
            if (b) {
                /* The value as found in memory (what the stray write
                 * wrote), not its decoding. */
                b->ptr = prev ? *(uintptr_t *)((char *)prev + c->fp_offset) : (uintptr_t)p;
                bug_object(b, c, s, prev);
            }
            if (prev)
                fp_set(c, prev, NULL);
            else
                s->freelist = NULL;
            /* The objects behind the break are lost: count them in use, as
             * SLUB does ("Object count adjusted"), so the slab stays sound. */
            if (s->inuse == 0 && s->list == SLAB_ON_PARTIAL)
                c->nr_empty--;
            s->inuse = s->objects - (uint32_t)nfree;
            if (!nfree && s->list == SLAB_ON_PARTIAL) {
                list_del(c, s);
                list_add_head(c, s, SLAB_ON_FULL);
            }
            errors++;
            break;
        }
        nfree++;
        prev = p;
    }
    if (!s->isolated && !errors && nfree != limit) {
        struct bug *b = bug_new(BUG_WRONG_COUNT, c->name);
        if (b) {
            b->found = nfree;
            b->should_be = limit;
            bug_object(b, c, s, NULL);
        }
        errors++;
    }
    for (uint32_t i = 0; i < s->objects; i++) {
        uint8_t *p = slab_object(c, s, i);
        bool active = get_meta(c, s, p)->state == OBJ_STATE_ACTIVE;
        if (!debug_check_object(c, s, p, active ? SLUB_RED_ACTIVE : SLUB_RED_INACTIVE))
            errors++;
    }
    if (c->debug & SLAB_POISON) {
        size_t slab_bytes = (size_t)s->nslices << SLICE_SHIFT;
        uint8_t *pad = (uint8_t *)s->end, *end = (uint8_t *)s->start + slab_bytes;
        uint8_t *fault = pad;
        while (fault < end && *fault == POISON_INUSE)
            fault++;
        if (fault < end) {
            uint8_t *last = end;
            while (last > fault && last[-1] == POISON_INUSE)
                last--;
            struct bug *b = bug_new(BUG_SLAB_PADDING, c->name);
            if (b) {
                b->fault_start = (uintptr_t)fault;
                b->fault_end = (uintptr_t)last - 1;
                b->expected = POISON_INUSE;
                bug_object(b, c, s, NULL);
            }
            memset(fault, POISON_INUSE, (size_t)(last - fault));
            errors++;
        }
    }
    return errors;
}

void debug_slab_discard(struct kmem_cache *c, struct slab *s)
{
    validate_slab(c, s);
}

static void validate_cache(struct kmem_cache *c, void *arg)
{
    int *errors = arg;
    lock(&c->lock, LOCK_CACHE);
    debug_validate_begin(c);
    for (struct slab *s = c->partial; s; s = s->next)
        *errors += validate_slab(c, s);
    for (struct slab *s = c->full; s; s = s->next)
        *errors += validate_slab(c, s);
    debug_validate_end(c);
    unlock(&c->lock, LOCK_CACHE);
    bugs_flush();
}

int debug_validate_all(const char *why)
{
    int errors = 0;
    if (!debug_any)
        return 0;
    const char *outer = bug_context;
    bug_context = why;
    for_each_debug_cache(validate_cache, &errors);
    bug_context = outer;
    return errors;
}

/* ---- kmem_cache_destroy ------------------------------------------------------- */

static bool object_live(struct kmem_cache *c, struct slab *s, uint8_t *p)
{
    return get_meta(c, s, p)->state == OBJ_STATE_ACTIVE;
}

/* Reports the live objects of a cache about to be destroyed; returns their
 * number (0: the cache may go). */
unsigned debug_objects_remaining(struct kmem_cache *c)
{
    unsigned live = 0;
    lock(&c->lock, LOCK_CACHE);
    for (int l = 0; l < 2; l++)
        for (struct slab *s = l ? c->full : c->partial; s; s = s->next)
            live += s->inuse;
    live += (unsigned)__atomic_load_n(&c->nr_guard_live, __ATOMIC_RELAXED);
    struct bug *b = live ? bug_new(BUG_OBJECTS_REMAINING, c->name) : NULL;
    if (b) {
        b->nr_remaining = live;
        for (int l = 0; l < 2 && c->debug; l++)
            for (struct slab *s = l ? c->full : c->partial; s; s = s->next)
                for (uint32_t i = 0; i < s->objects && s->inuse; i++) {
                    uint8_t *p = slab_object(c, s, i);
                    if (!object_live(c, s, p) || b->nr_listed == BUG_MAX_LISTED)
                        continue;
                    b->listed[b->nr_listed] = (uintptr_t)p;
                    if (c->debug & SLAB_STORE_USER)
                        b->listed_alloc[b->nr_listed] = *get_track(c, s, p, TRACK_ALLOC);
                    b->nr_listed++;
                }
    }
    unlock(&c->lock, LOCK_CACHE);
    bugs_flush();
    return live;
}

/* ---- alloc_traces / free_traces ------------------------------------------------- */

#define LOC_MAX 4096

struct location {
    uintptr_t addr;
    depot_handle_t handle;
    uint64_t count, sum_age, min_age, max_age;
    int32_t min_pid, max_pid;
    uint64_t cpus; /* bitmap of the first 64 CPUs */
};

struct loc_table {
    unsigned n;
    bool overflow;
    struct location loc[LOC_MAX];
};

static struct loc_table *loc_table;

static void add_location(struct loc_table *t, const struct track *tr, uint64_t now)
{
    uint64_t age = now > tr->when ? (now - tr->when) / 1000000 : 0;
    struct location *l = NULL;
    for (unsigned i = 0; i < t->n; i++)
        if (t->loc[i].addr == tr->addr && t->loc[i].handle == tr->handle) {
            l = &t->loc[i];
            break;
        }
    if (!l) {
        if (t->n == LOC_MAX) {
            t->overflow = true;
            return;
        }
        l = &t->loc[t->n++];
        memset(l, 0, sizeof(*l));
        l->addr = tr->addr;
        l->handle = tr->handle;
        l->min_age = UINT64_MAX;
        l->min_pid = INT32_MAX;
        l->max_pid = INT32_MIN;
    }
    l->count++;
    l->sum_age += age;
    l->min_age = age < l->min_age ? age : l->min_age;
    l->max_age = age > l->max_age ? age : l->max_age;
    l->min_pid = tr->pid < l->min_pid ? tr->pid : l->min_pid;
    l->max_pid = tr->pid > l->max_pid ? tr->pid : l->max_pid;
    if (tr->cpu >= 0 && tr->cpu < 64)
        l->cpus |= (uint64_t)1 << tr->cpu;
}

static void print_frame(struct out *o, uintptr_t pc)
{
    struct sym_info si;
    char buf[320];
    if (symbolize_pc(pc - 1, &si) < 0) {
        si.func[0] = 0;
        si.module = NULL;
        si.size = 0;
        si.file[0] = 0;
    }
    si.offset++;
    si.pc = pc;
    sym_format(&si, buf, sizeof(buf));
    out_str(o, buf);
    if (si.file[0] && si.line) {
        out_char(o, ' ');
        out_str(o, si.file);
        out_char(o, ':');
        out_u64(o, (uint64_t)si.line);
    }
}

/* The kernel's alloc_traces line: count, caller, age min/avg/max, pids, cpus. */
static void print_locations(struct out *o, const struct loc_table *t)
{
    for (unsigned i = 0; i < t->n; i++) {
        const struct location *l = &t->loc[i];
        out_u64w(o, l->count, 7);
        out_char(o, ' ');
        if (!l->addr) { /* never freed, or allocated before tracking began */
            out_str(o, "<not-available>\n\n");
            continue;
        }
        print_frame(o, l->addr);
        out_str(o, " age=");
        if (l->min_age == l->max_age) {
            out_u64(o, l->min_age);
        } else {
            out_u64(o, l->min_age);
            out_char(o, '/');
            out_u64(o, l->sum_age / l->count);
            out_char(o, '/');
            out_u64(o, l->max_age);
        }
        out_str(o, " pid=");
        out_u64(o, (uint64_t)l->min_pid);
        if (l->max_pid != l->min_pid) {
            out_char(o, '-');
            out_u64(o, (uint64_t)l->max_pid);
        }
        out_str(o, " cpus=");
        bool first = true;
        for (int cpu = 0; cpu < 64; cpu++) {
            if (l->cpus >> cpu & 1) {
                if (!first)
                    out_char(o, ',');
                out_u64(o, (uint64_t)cpu);
                first = false;
            }
        }
        out_char(o, '\n');
        const uintptr_t *frames;
        unsigned n = depot_fetch(l->handle, &frames);
        for (unsigned f = 0; f < n; f++) {
            out_str(o, "        ");
            print_frame(o, frames[f]);
            out_char(o, '\n');
        }
        out_char(o, '\n');
    }
    if (t->overflow)
        out_str(o, "        (more locations than could be listed)\n");
}

struct traces_arg {
    int fd;
};

static void traces_cache(struct kmem_cache *c, void *arg)
{
    struct traces_arg *ta = arg;
    if (!(c->debug & SLAB_STORE_USER))
        return;
    uint64_t now = track_now();
    struct out o;
    out_init(&o, ta->fd);
    for (enum track_item item = TRACK_ALLOC; item <= TRACK_FREE; item++) {
        loc_table->n = 0;
        loc_table->overflow = false;
        lock(&c->lock, LOCK_CACHE);
        for (int l = 0; l < 2; l++)
            for (struct slab *s = l ? c->full : c->partial; s; s = s->next)
                for (uint32_t i = 0; i < s->objects && s->inuse; i++) {
                    uint8_t *p = slab_object(c, s, i);
                    if (object_live(c, s, p))
                        add_location(loc_table, get_track(c, s, p, item), now);
                }
        unlock(&c->lock, LOCK_CACHE);
        if (!loc_table->n)
            continue;
        out_str(&o, "# ");
        out_str(&o, c->name);
        out_str(&o, item == TRACK_ALLOC ? " alloc_traces\n" : " free_traces\n");
        print_locations(&o, loc_table);
    }
    out_flush(&o);
}

void debug_print_traces(int fd)
{
    if (!debug_any)
        return;
    if (!loc_table) {
        void *m = mmap(NULL, sizeof(struct loc_table), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return;
        loc_table = m;
    }
    struct traces_arg ta = {fd};
    for_each_debug_cache(traces_cache, &ta);
}

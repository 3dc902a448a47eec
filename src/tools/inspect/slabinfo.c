/*
 * slabinfo and alloc_traces/free_traces of a target, in the layout the
 * process itself prints them (src/report/stats.c, src/debug/validate.c).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/inspect.h"
#include "slabdbg.h"

#define PAGE 4096u

struct counts {
    uint64_t active, active_slabs;
};

static void count_slab(struct heap *h, const struct h_cache *c, const struct h_slab *s, void *arg)
{
    (void)h;
    (void)c;
    struct counts *n = arg;
    n->active += s->inuse;
    n->active_slabs += s->inuse != 0;
}

static void cache_line(struct heap *h, const struct h_cache *c, void *arg)
{
    struct inspect *in = arg;
    uint64_t slabs = (uint64_t)c->nr_partial + c->nr_full;
    if (!slabs)
        return;
    struct counts n = {0, 0};
    heap_for_each_slab(h, c, count_slab, &n);
    fprintf(in->out,
            "%-17s %6" PRIu64 " %7" PRIu64 " %7u %5u %4" PRIu64 " : tunables %5u %5u %5u : "
            "slabdata %7" PRIu64 " %7" PRIu64 " %7u\n",
            c->name, n.active, slabs * c->objects, c->size, c->objects,
            ((uint64_t)c->slab_slices * h->root.slice_size) / PAGE, c->tcache_max, c->batch, 0u,
            n.active_slabs, slabs, 0u);
}

static uint64_t counter(struct heap *h, uint64_t addr)
{
    uint64_t v = 0;
    if (addr)
        tgt_u64(h->t, addr, &v);
    return v;
}

int inspect_slabinfo(struct inspect *in)
{
    struct heap *h = &in->h;
    fprintf(in->out, "slabdbg %s statistics: pid %d (%s)\n", h->lib_version, in->t.pid,
            in->t.comm);
    fprintf(in->out, "slabinfo - version: 2.1\n");
    fprintf(in->out, "# name            <active_objs> <num_objs> <objsize> <objperslab> "
                     "<pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata "
                     "<active_slabs> <num_slabs> <sharedavail>\n");
    heap_for_each_cache(h, cache_line, in);
    uint64_t huge_n = 0, huge_bytes = 0, seg = 0, segs = 0;
    tgt_u64(h->t, h->root.huge_list, &seg);
    for (unsigned k = 0; seg && k < (1u << 20); k++) {
        uint64_t size = 0;
        tgt_u64(h->t, seg + h->L[SLABDBG_L_SEGMENT_HUGE_SIZE], &size);
        huge_n++;
        huge_bytes += size;
        if (!tgt_u64(h->t, seg + h->L[SLABDBG_L_SEGMENT_NEXT], &seg))
            break;
    }
    seg = 0;
    tgt_u64(h->t, h->root.segment_list, &seg);
    for (unsigned k = 0; seg && k < (1u << 20); k++) {
        segs++;
        if (!tgt_u64(h->t, seg + h->L[SLABDBG_L_SEGMENT_NEXT], &seg))
            break;
    }
    fprintf(in->out,
            "# huge objects: %" PRIu64 " live, %" PRIu64 " bytes; %" PRIu64 " allocated in all, "
            "%" PRIu64 " from the cache of freed mappings (emptied %" PRIu64 " times)\n",
            huge_n, huge_bytes, counter(h, h->root.stat_huge_allocs),
            counter(h, h->root.stat_huge_cache_hits), counter(h, h->root.stat_huge_cache_flushes));
    fprintf(in->out, "# segments: %" PRIu64 " of %" PRIu64 " MiB; frees of pointers not ours: %" PRIu64
                     "\n",
            segs, h->root.seg_size >> 20, counter(h, h->root.stat_foreign_frees));
    return 0;
}

/* ---- alloc_traces / free_traces ------------------------------------------------------ */

struct location {
    uint64_t addr;
    uint32_t handle;
    uint64_t count, sum_age, min_age, max_age;
    int32_t min_pid, max_pid;
    uint64_t cpus;
};

struct loc_table {
    struct inspect *in;
    int item;
    unsigned n, cap;
    struct location *loc;
    uint64_t newest; /* a core's "now": its newest track */
    bool overflow;
};

#define LOC_MAX 4096

static void add_location(struct loc_table *t, const struct h_track *tr)
{
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
        if (t->n == t->cap) {
            unsigned cap = t->cap ? t->cap * 2 : 64;
            void *m = realloc(t->loc, cap * sizeof(*t->loc));
            if (!m)
                return;
            t->loc = m;
            t->cap = cap;
        }
        l = &t->loc[t->n++];
        memset(l, 0, sizeof(*l));
        l->addr = tr->addr;
        l->handle = tr->handle;
        l->min_age = UINT64_MAX;
        l->min_pid = INT32_MAX;
        l->max_pid = INT32_MIN;
    }
    /* Ages are filled in once "now" is known; keep the time for now. */
    l->count++;
    l->sum_age += tr->when;
    l->min_age = tr->when < l->min_age ? tr->when : l->min_age; /* oldest */
    l->max_age = tr->when > l->max_age ? tr->when : l->max_age; /* newest */
    l->min_pid = tr->pid < l->min_pid ? tr->pid : l->min_pid;
    l->max_pid = tr->pid > l->max_pid ? tr->pid : l->max_pid;
    if (tr->cpu >= 0 && tr->cpu < 64)
        l->cpus |= (uint64_t)1 << tr->cpu;
    if (tr->when > t->newest)
        t->newest = tr->when;
}

static void traces_slab(struct heap *h, const struct h_cache *c, const struct h_slab *s, void *arg)
{
    struct loc_table *t = arg;
    if (!s->inuse)
        return;
    for (uint32_t i = 0; i < s->objects; i++) {
        struct h_where w;
        if (heap_object_state(h, c, s, i, &w) == ST_ALLOCATED && w.has_tracks)
            add_location(t, &w.track[t->item]);
    }
}

static void print_frame(struct inspect *in, uint64_t pc)
{
    char buf[600];
    tsym_frame(in->sym, pc, 1, buf, sizeof(buf));
    fputs(buf, in->out);
}

static void print_locations(struct inspect *in, struct loc_table *t, uint64_t now)
{
    FILE *o = in->out;
    for (unsigned i = 0; i < t->n; i++) {
        const struct location *l = &t->loc[i];
        fprintf(o, "%7" PRIu64 " ", l->count);
        if (!l->addr) {
            fprintf(o, "<not-available>\n\n");
            continue;
        }
        print_frame(in, l->addr);
        uint64_t min = now > l->max_age ? (now - l->max_age) / 1000000 : 0;
        uint64_t max = now > l->min_age ? (now - l->min_age) / 1000000 : 0;
        uint64_t avg_when = l->sum_age / l->count;
        uint64_t avg = now > avg_when ? (now - avg_when) / 1000000 : 0;
        if (min == max)
            fprintf(o, " age=%" PRIu64, min);
        else
            fprintf(o, " age=%" PRIu64 "/%" PRIu64 "/%" PRIu64, min, avg, max);
        fprintf(o, " pid=%d", l->min_pid);
        if (l->max_pid != l->min_pid)
            fprintf(o, "-%d", l->max_pid);
        fprintf(o, " cpus=");
        bool first = true;
        for (int cpu = 0; cpu < 64; cpu++)
            if (l->cpus >> cpu & 1) {
                fprintf(o, first ? "%d" : ",%d", cpu);
                first = false;
            }
        fputc('\n', o);
        inspect_print_stack(in, l->handle, "        ");
        fputc('\n', o);
    }
    if (t->overflow)
        fprintf(o, "        (more locations than could be listed)\n");
}

static void traces_cache(struct heap *h, const struct h_cache *c, void *arg)
{
    struct loc_table *t = arg;
    if (!(c->debug & SLAB_STORE_USER))
        return;
    t->n = 0;
    t->overflow = false;
    heap_for_each_slab(h, c, traces_slab, t);
    if (!t->n)
        return;
    fprintf(t->in->out, "# %s %s\n", c->name, t->item ? "free_traces" : "alloc_traces");
    print_locations(t->in, t, t->in->now ? t->in->now : t->newest);
}

int inspect_traces(struct inspect *in, int item)
{
    struct loc_table t = {.in = in, .item = item};
    if (!in->now) {
        /* A core: ages are counted back from its newest track. */
        fprintf(in->out, "# ages in ms before the newest track of the core\n");
    }
    heap_for_each_cache(&in->h, traces_cache, &t);
    free(t.loc);
    return 0;
}

/*
 * The groups of slabdbg triage: one per signature, with its count, first
 * and last time seen, hosts, programs, distinct processes and its first
 * report as the example.  Three open-addressing hash tables: signatures to
 * groups, names (hosts and programs) to ids, and the (group, host, pid)
 * triples already counted as processes.
 */
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "tools/triage.h"

struct name_entry {
    uint64_t hash;
    int id; /* 0: empty slot */
};

struct proc_entry {
    uint64_t key; /* hash of (group, host, pid); 0: empty */
    uint32_t group, host;
    long long pid;
};

struct triage_groups {
    struct triage_group **groups;
    int ngroups, groups_cap;
    int *slots; /* signature hash table: group index + 1, 0 empty */
    size_t nslots;
    char **names; /* id -> name; id 0 is "" */
    int nnames, names_cap;
    struct name_entry *name_slots;
    size_t nname_slots;
    struct proc_entry *procs;
    size_t nprocs, procs_cap;
    long reports, processes;
    int hosts_seen; /* distinct non-empty hosts */
    bool *host_counted;
    int host_counted_cap;
    struct triage_group **sorted;
};

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        abort(); /* a command-line tool: out of memory ends it */
    return p;
}

static void *xrealloc(void *p, size_t size)
{
    p = realloc(p, size);
    if (!p)
        abort();
    return p;
}

static uint64_t hash_str(const char *s)
{
    return slabdbg_fnv1a_str(SLABDBG_FNV64_BASIS, s);
}

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h ? h : 1;
}

struct triage_groups *triage_groups_new(void)
{
    struct triage_groups *g = xcalloc(1, sizeof(*g));
    g->nslots = 1024;
    g->slots = xcalloc(g->nslots, sizeof(int));
    g->names_cap = 64;
    g->names = xcalloc((size_t)g->names_cap, sizeof(char *));
    g->names[0] = strdup("");
    g->nnames = 1;
    g->nname_slots = 256;
    g->name_slots = xcalloc(g->nname_slots, sizeof(struct name_entry));
    g->procs_cap = 1024;
    g->procs = xcalloc(g->procs_cap, sizeof(struct proc_entry));
    return g;
}

void triage_groups_free(struct triage_groups *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->ngroups; i++) {
        free(g->groups[i]->example);
        free((char *)g->groups[i]->first.file);
        free(g->groups[i]->hosts);
        free(g->groups[i]->programs);
        free(g->groups[i]);
    }
    for (int i = 0; i < g->nnames; i++)
        free(g->names[i]);
    free(g->groups);
    free(g->slots);
    free(g->names);
    free(g->name_slots);
    free(g->procs);
    free(g->host_counted);
    free(g->sorted);
    free(g);
}

/* ---- names ------------------------------------------------------------------- */

static void names_grow(struct triage_groups *g)
{
    size_t n = g->nname_slots * 2;
    struct name_entry *s = xcalloc(n, sizeof(*s));
    for (size_t i = 0; i < g->nname_slots; i++) {
        if (!g->name_slots[i].id)
            continue;
        size_t j = g->name_slots[i].hash & (n - 1);
        while (s[j].id)
            j = (j + 1) & (n - 1);
        s[j] = g->name_slots[i];
    }
    free(g->name_slots);
    g->name_slots = s;
    g->nname_slots = n;
}

static int name_id(struct triage_groups *g, const char *name)
{
    if (!*name)
        return 0;
    uint64_t h = mix(hash_str(name));
    size_t mask = g->nname_slots - 1;
    size_t i = h & mask;
    for (; g->name_slots[i].id; i = (i + 1) & mask)
        if (g->name_slots[i].hash == h && !strcmp(g->names[g->name_slots[i].id], name))
            return g->name_slots[i].id;
    if (g->nnames == g->names_cap) {
        g->names_cap *= 2;
        g->names = xrealloc(g->names, (size_t)g->names_cap * sizeof(char *));
    }
    int id = g->nnames++;
    g->names[id] = strdup(name);
    if (!g->names[id])
        abort();
    g->name_slots[i].hash = h;
    g->name_slots[i].id = id;
    if ((size_t)g->nnames * 2 > g->nname_slots)
        names_grow(g);
    return id;
}

const char *triage_name(const struct triage_groups *g, int id)
{
    return id >= 0 && id < g->nnames ? g->names[id] : "";
}

/* ---- processes ---------------------------------------------------------------- */

static void procs_grow(struct triage_groups *g)
{
    size_t n = g->procs_cap * 2;
    struct proc_entry *p = xcalloc(n, sizeof(*p));
    for (size_t i = 0; i < g->procs_cap; i++) {
        if (!g->procs[i].key)
            continue;
        size_t j = g->procs[i].key & (n - 1);
        while (p[j].key)
            j = (j + 1) & (n - 1);
        p[j] = g->procs[i];
    }
    free(g->procs);
    g->procs = p;
    g->procs_cap = n;
}

/* Counts (group, host, pid) once; returns whether it was new. */
static bool proc_new(struct triage_groups *g, uint32_t group, uint32_t host, long long pid)
{
    uint64_t k =
        mix(((uint64_t)group * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)host << 40) ^ (uint64_t)pid);
    size_t mask = g->procs_cap - 1;
    size_t i = k & mask;
    for (; g->procs[i].key; i = (i + 1) & mask)
        if (g->procs[i].key == k && g->procs[i].group == group && g->procs[i].host == host &&
            g->procs[i].pid == pid)
            return false;
    g->procs[i] = (struct proc_entry){k, group, host, pid};
    if (++g->nprocs * 2 > g->procs_cap)
        procs_grow(g);
    return true;
}

/* ---- groups --------------------------------------------------------------------- */

static void slots_grow(struct triage_groups *g)
{
    size_t n = g->nslots * 2;
    int *s = xcalloc(n, sizeof(int));
    for (int gi = 0; gi < g->ngroups; gi++) {
        size_t j = mix(hash_str(g->groups[gi]->signature)) & (n - 1);
        while (s[j])
            j = (j + 1) & (n - 1);
        s[j] = gi + 1;
    }
    free(g->slots);
    g->slots = s;
    g->nslots = n;
}

static struct triage_group *group_for(struct triage_groups *g, const struct triage_report *r,
                                      int *index)
{
    size_t mask = g->nslots - 1;
    size_t i = mix(hash_str(r->signature)) & mask;
    for (; g->slots[i]; i = (i + 1) & mask) {
        struct triage_group *gr = g->groups[g->slots[i] - 1];
        if (!strcmp(gr->signature, r->signature)) {
            *index = g->slots[i] - 1;
            return gr;
        }
    }
    if (g->ngroups == g->groups_cap) {
        g->groups_cap = g->groups_cap ? g->groups_cap * 2 : 64;
        g->groups = xrealloc(g->groups, (size_t)g->groups_cap * sizeof(*g->groups));
    }
    struct triage_group *gr = xcalloc(1, sizeof(*gr));
    memcpy(gr->signature, r->signature, sizeof(gr->signature));
    gr->first = *r;
    gr->first.example = NULL;
    gr->first.file = strdup(r->file ? r->file : "");
    if (!gr->first.file)
        abort();
    if (r->example && r->example_len) {
        gr->example = xcalloc(1, r->example_len + 1);
        memcpy(gr->example, r->example, r->example_len);
        gr->example_len = r->example_len;
        gr->example_json = r->example_json;
    }
    *index = g->ngroups;
    g->groups[g->ngroups++] = gr;
    g->slots[i] = g->ngroups;
    if ((size_t)g->ngroups * 2 > g->nslots)
        slots_grow(g);
    return gr;
}

static void count_in(struct tr_count **v, int *n, int *cap, int id)
{
    for (int i = 0; i < *n; i++)
        if ((*v)[i].id == id) {
            (*v)[i].count++;
            return;
        }
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        *v = xrealloc(*v, (size_t)*cap * sizeof(**v));
    }
    (*v)[(*n)++] = (struct tr_count){id, 1};
}

void triage_groups_add(struct triage_groups *g, const struct triage_report *r)
{
    int index;
    struct triage_group *gr = group_for(g, r, &index);
    gr->count++;
    g->reports++;
    int64_t t = r->meta.time_us;
    if (t) {
        if (!gr->first_us || t < gr->first_us)
            gr->first_us = t;
        if (t > gr->last_us)
            gr->last_us = t;
        gr->timed++;
        if (r->meta.time_source == TR_TIME_FILE)
            gr->file_timed++;
    }
    int host = name_id(g, r->meta.host);
    count_in(&gr->hosts, &gr->nhosts, &gr->hosts_cap, host);
    count_in(&gr->programs, &gr->nprograms, &gr->programs_cap, name_id(g, r->meta.program));
    if (host) {
        if (host >= g->host_counted_cap) {
            int cap = (host + 1) * 2;
            g->host_counted = xrealloc(g->host_counted, (size_t)cap);
            memset(g->host_counted + g->host_counted_cap, 0, (size_t)(cap - g->host_counted_cap));
            g->host_counted_cap = cap;
        }
        if (!g->host_counted[host]) {
            g->host_counted[host] = true;
            g->hosts_seen++;
        }
    }
    if (r->meta.pid) {
        if (proc_new(g, (uint32_t)index, (uint32_t)host, r->meta.pid))
            gr->processes++;
        if (proc_new(g, UINT32_MAX, (uint32_t)host, r->meta.pid))
            g->processes++;
    }
}

static int by_count(const void *a, const void *b)
{
    const struct triage_group *x = *(struct triage_group *const *)a;
    const struct triage_group *y = *(struct triage_group *const *)b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->signature, y->signature);
}

static int by_count_desc(const void *a, const void *b)
{
    const struct tr_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->id - y->id;
}

struct triage_group **triage_groups_sorted(struct triage_groups *g, int *n)
{
    free(g->sorted);
    g->sorted = xcalloc((size_t)g->ngroups, sizeof(*g->sorted));
    *n = g->ngroups;
    if (!g->ngroups)
        return g->sorted;
    memcpy(g->sorted, g->groups, (size_t)g->ngroups * sizeof(*g->sorted));
    qsort(g->sorted, (size_t)g->ngroups, sizeof(*g->sorted), by_count);
    for (int i = 0; i < g->ngroups; i++) {
        struct triage_group *gr = g->sorted[i];
        qsort(gr->hosts, (size_t)gr->nhosts, sizeof(*gr->hosts), by_count_desc);
        qsort(gr->programs, (size_t)gr->nprograms, sizeof(*gr->programs), by_count_desc);
    }
    *n = g->ngroups;
    return g->sorted;
}

long triage_groups_reports(const struct triage_groups *g)
{
    return g->reports;
}

long triage_groups_processes(const struct triage_groups *g)
{
    return g->processes;
}

int triage_groups_hosts(const struct triage_groups *g)
{
    return g->hosts_seen;
}

/* ---- signatures ------------------------------------------------------------------ */

void triage_finish_report(struct triage_report *r, const struct tr_stacks *st, bool kernel)
{
    enum slabdbg_sig_stack order[3];
    slabdbg_sig_stacks(r->kind, r->what, order);
    r->stack = order[0];
    const char *frames[SLABDBG_SIG_FRAMES] = {0};
    int n = 0;
    for (int k = 0; k < 3 && !n; k++) {
        int s = order[k];
        int first = 0;
        /* The kernel's stacks start in the allocator and the report
         * machinery; ours start at the program's code. */
        while (kernel && first < st->n[s]) {
            const char *b, *e;
            char name[TR_NAME];
            slabdbg_sig_function(st->f[s][first], &b, &e);
            size_t len = (size_t)(e - b) < sizeof(name) ? (size_t)(e - b) : sizeof(name) - 1;
            memcpy(name, b, len);
            name[len] = 0;
            if (!ex_is_machinery_frame(name))
                break;
            first++;
        }
        for (int i = first; i < st->n[s] && n < SLABDBG_SIG_FRAMES; i++)
            frames[n++] = st->f[s][i];
        if (n)
            r->stack = order[k];
    }
    r->nframes = n;
    for (int i = 0; i < n; i++) {
        const char *b, *e;
        slabdbg_sig_function(frames[i], &b, &e);
        size_t len = (size_t)(e - b) < TR_NAME ? (size_t)(e - b) : TR_NAME - 1;
        memcpy(r->frames[i], b, len);
        r->frames[i][len] = 0;
    }
    if (!r->signature_given) {
        uint64_t sig = slabdbg_signature(r->kind, r->what, r->cache, frames, n);
        slabdbg_sig_hex(sig, r->signature);
    }
}

/*
 * The offset and value to look up in types and sources: the first report
 * with a known offset in its object (the stray write of a SLUB report, the
 * access of a KASAN, KFENCE or guard report), else a crash dump word equal
 * to an oops' fault address or to the bad pointer the faulting instruction
 * used (its base register).  A dump also gives the object's bytes, by
 * which candidate types are ranked.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "analyze/analyze.h"

bool ex_types_built(void)
{
#if defined(HAVE_LIBDW) || defined(HAVE_LIBBPF)
    return true;
#else
    return false;
#endif
}

bool ex_src_built(void)
{
    return true;
}

static bool kernel_text(uint64_t v)
{
    return v >= 0xffffffff80000000ull && v < 0xffffffffd0000000ull;
}

/* For types_rank: names of function addresses, from rd -s symbols when the
 * dump has them, else only "this is kernel text". */
static const char *dump_func_name(uint64_t addr, void *ctx)
{
    const struct ex_dump *d = ctx;
    for (int i = 0; d && i < d->nwords; i++)
        if (d->words[i].sym[0] && d->words[i].known && d->words[i].value == addr)
            return d->words[i].sym;
    return kernel_text(addr) ? "(kernel text)" : NULL;
}

static void pick_target(struct ex_analysis *a)
{
    const struct ex_model *m = a->m;
    struct ex_target *t = &a->target;
    memset(t, 0, sizeof(*t));
    for (int r = 0; r < m->nreports && !t->has; r++) {
        const struct ex_report *rep = &m->reports[r];
        const struct ex_finding *fd = &a->findings[r];
        if (!fd->shown || !fd->has_offset)
            continue;
        t->has = true;
        t->off = fd->offset;
        t->length = fd->has_stray ? fd->stray.length : rep->has_access_size ? rep->access_size : 0;
        t->has_value = fd->value_known;
        t->value = fd->value;
        t->object_size = rep->has_object_size ? rep->object_size : 0;
        t->object_addr = rep->object;
        t->report = rep;
        snprintf(t->from, sizeof(t->from), "report %d", r + 1);
    }
    for (int d = 0; d < m->ndumps; d++) {
        const struct ex_dump *dp = &m->dumps[d];
        if (!dp->nwords || dp->word_size != 8)
            continue;
        if (!t->has) {
            for (int o = 0; o < m->noopses && !t->has; o++)
                for (int i = 0; i < dp->nwords && !t->has; i++)
                    if (dp->words[i].known &&
                        ((a->views[o].has_fault_addr &&
                          dp->words[i].value == a->views[o].fault_addr) ||
                         (a->views[o].has_base_value && a->views[o].base_value &&
                          dp->words[i].value == a->views[o].base_value))) {
                        t->has = true;
                        t->off = (int64_t)i * 8;
                        t->length = 8;
                        t->has_value = true;
                        t->value = dp->words[i].value;
                        snprintf(t->from, sizeof(t->from), "crash dump %d", d + 1);
                    }
        }
        if (!t->object_size)
            t->object_size = (uint64_t)dp->nwords * 8;
        for (int i = 0; i < dp->nwords; i++)
            for (int k = 0; k < 8; k++)
                a->dump_bytes[i * 8 + k] = (uint8_t)(dp->words[i].value >> (8 * k));
        t->bytes = a->dump_bytes;
        t->nbytes = (size_t)dp->nwords * 8;
        t->object_addr = dp->base;
        t->dump = dp;
        break;
    }
}

static bool hint_add(const char **hints, int *n, int max, const char *name)
{
    if (!name[0] || ex_is_machinery_frame(name) || !strcmp(name, "main") || *n == max)
        return false;
    for (int i = 0; i < *n; i++)
        if (!strcmp(hints[i], name))
            return false;
    hints[(*n)++] = name;
    return true;
}

/* The names that may spell the object's type: the allocating and freeing
 * functions first, then the rest of their stacks. */
static int track_hints(const struct ex_report *r, const char **hints, int max)
{
    int n = 0;
    if (!r)
        return 0;
    hint_add(hints, &n, max, r->alloc.caller.func);
    hint_add(hints, &n, max, r->free.caller.func);
    const struct ex_track *tracks[2] = {&r->alloc, &r->free};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < tracks[k]->stack.n; i++) {
            if (!strcmp(tracks[k]->stack.f[i].func, "main"))
                break;
            hint_add(hints, &n, max, tracks[k]->stack.f[i].func);
        }
    return n;
}

void ex_run_types(struct ex_analysis *a)
{
    struct ex_type_result *tr = &a->types;
    const struct ex_opts *o = &a->opts;
    const struct ex_target *t = &a->target;
    memset(tr, 0, sizeof(*tr));
    pick_target(a);
    if (!o->binary && !o->btf)
        return;
    tr->tried = true;
    struct types *ty = o->btf ? types_open_btf(o->btf, tr->error, sizeof(tr->error))
                              : types_open_elf(o->binary, tr->error, sizeof(tr->error));
    if (!ty)
        return;
    if (!t->has || t->off < 0) {
        snprintf(tr->error, sizeof(tr->error), "no offset in an object in the input to look up");
        types_close(ty);
        return;
    }
    char err[256];
    if (o->type)
        snprintf(tr->spec, sizeof(tr->spec), "%s", o->type);
    if (!o->type) {
        const char *hints[24];
        int nhints = track_hints(t->report, hints, 24);
        /* No tracks: the functions the object's words point to (a dump
         * from a core names them) tell of its previous type as well. */
        for (int i = 0; !nhints && t->dump && i < t->dump->nwords; i++)
            if (t->dump->words[i].sym[0])
                hint_add(hints, &nhints, 24, t->dump->words[i].sym);
        if (nhints)
            tr->ncands = types_rank_hinted(ty, (size_t)t->object_size, t->bytes, t->nbytes,
                                           t->object_addr, dump_func_name, (void *)t->dump, hints,
                                           nhints, tr->cands, 5);
        else
            tr->ncands = types_rank(ty, (size_t)t->object_size, t->bytes, t->nbytes, t->object_addr,
                                    dump_func_name, (void *)t->dump, tr->cands, 5);
        if (tr->ncands > 5)
            tr->ncands = 5;
        /* the best candidate that reaches the offset */
        for (int i = 0; i < tr->ncands && !tr->has_field; i++)
            if (types_field_at(ty, tr->cands[i].name, (size_t)t->off, &tr->field, err,
                               sizeof(err)) == 0) {
                tr->has_field = true;
                snprintf(tr->spec, sizeof(tr->spec), "%s", tr->cands[i].name);
            } else if (i == 0) {
                snprintf(tr->error, sizeof(tr->error), "%s", err);
            }
        if (tr->has_field)
            tr->error[0] = 0;
    } else {
        if (types_field_at(ty, tr->spec, (size_t)t->off, &tr->field, err, sizeof(err)) == 0)
            tr->has_field = true;
        else
            snprintf(tr->error, sizeof(tr->error), "%s", err);
    }
    types_close(ty);
}

static const char *last_component(const char *path, char *buf, size_t size)
{
    const char *dot = strrchr(path, '.');
    const char *s = dot ? dot + 1 : path;
    size_t n = strcspn(s, "[");
    if (n >= size)
        n = size - 1;
    memcpy(buf, s, n);
    buf[n] = 0;
    return buf;
}

void ex_run_src(struct ex_analysis *a)
{
    struct ex_src_result *sr = &a->src;
    const struct ex_target *t = &a->target;
    const struct ex_type_result *tr = &a->types;
    memset(sr, 0, sizeof(*sr));
    if (!a->opts.src)
        return;
    sr->tried = true;
    const char *field = NULL;
    if (tr->has_field)
        field = last_component(tr->field.path, sr->field, sizeof(sr->field));
    if (!t->has_value) {
        /* no value (a guard report: the access was stopped), but a field:
         * who assigns to it */
        if (!field) {
            snprintf(sr->error, sizeof(sr->error),
                     "no stray value in the input to look for, and no field (--binary or --btf)");
            return;
        }
        sr->by_field = true;
        if (src_scan_field(a->opts.src, field, sr->assigns, EX_ASSIGNS_MAX, &sr->nassigns,
                           sr->error, sizeof(sr->error)) != 0) {
            sr->nassigns = 0;
            return;
        }
        sr->error[0] = 0;
        if (sr->nassigns > EX_ASSIGNS_MAX)
            sr->nassigns = EX_ASSIGNS_MAX;
        return;
    }
    if (src_scan(a->opts.src, t->value, field, sr->consts, EX_CONSTS_MAX, &sr->nconsts,
                 sr->assigns, EX_ASSIGNS_MAX, &sr->nassigns, sr->error, sizeof(sr->error)) != 0) {
        sr->nconsts = sr->nassigns = 0;
        return;
    }
    sr->error[0] = 0;
    if (sr->nconsts > EX_CONSTS_MAX)
        sr->nconsts = EX_CONSTS_MAX;
    if (sr->nassigns > EX_ASSIGNS_MAX)
        sr->nassigns = EX_ASSIGNS_MAX;
}

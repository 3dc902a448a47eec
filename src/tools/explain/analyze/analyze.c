/*
 * The analysis pipeline: merge what was printed twice, analyse each report
 * and oops, link them, then look the stray offset and value up in types
 * and sources when asked to.
 */
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"

/* The text and JSON reports slabdbg wrote of one finding (same cache, same
 * place) are shown once: the text one, with what only the JSON says. */
static void merge_reports(struct ex_analysis *a)
{
    struct ex_model *m = a->m;
    for (int i = 0; i < m->nreports; i++)
        a->findings[i].shown = true;
    for (int j = 0; j < m->nreports; j++) {
        struct ex_report *js = &m->reports[j];
        if (js->src.format != FMT_SLABDBG_JSON)
            continue;
        bool js_fault = js->slub.nfaults && js->slub.faults[0].has_range;
        for (int i = 0; i < m->nreports; i++) {
            struct ex_report *tx = &m->reports[i];
            if (i == j || !a->findings[i].shown || strcmp(tx->cache, js->cache) ||
                (tx->src.format != FMT_SLUB && tx->src.format != FMT_SLABDBG_GUARD))
                continue;
            bool same;
            if (js_fault)
                same = tx->slub.nfaults && tx->slub.faults[0].has_range &&
                       tx->slub.faults[0].start == js->slub.faults[0].start;
            else
                same = tx->src.format == FMT_SLABDBG_GUARD && tx->has_addr && js->has_addr &&
                       tx->addr == js->addr && !strcmp(tx->kind, js->kind);
            if (!same)
                continue;
            if (!tx->has_requested && js->has_requested) {
                tx->has_requested = true;
                tx->requested = js->requested;
            }
            if (!tx->has_object_size && js->has_object_size) {
                tx->has_object_size = true;
                tx->object_size = js->object_size;
                tx->size_source = js->size_source;
            }
            a->findings[j].shown = false;
            a->findings[i].merged_json = j + 1;
            break;
        }
    }
}

static bool same_frames(const struct ex_stack *x, const struct ex_stack *y)
{
    if (x->n != y->n)
        return false;
    for (int i = 0; i < x->n && i < 8; i++)
        if (strcmp(x->f[i].func, y->f[i].func) || x->f[i].off != y->f[i].off)
            return false;
    return true;
}

/* The same oops printed twice (a console log and a dmesg of it, a retry). */
static bool same_oops(const struct ex_oops *x, const struct ex_oops *y)
{
    if (strcmp(x->kind, y->kind) || strcmp(x->header, y->header) || x->has_pc != y->has_pc ||
        strcmp(x->pc.func, y->pc.func) || x->pc.off != y->pc.off || x->pc.addr != y->pc.addr ||
        x->nregs != y->nregs || !same_frames(&x->trace, &y->trace))
        return false;
    for (int i = 0; i < x->nregs; i++)
        if (strcmp(x->regs[i].name, y->regs[i].name) || x->regs[i].value != y->regs[i].value)
            return false;
    return true;
}

static void merge_oopses(struct ex_analysis *a)
{
    struct ex_model *m = a->m;
    for (int i = 0; i < m->noopses; i++)
        a->views[i].shown = true;
    for (int j = 1; j < m->noopses; j++)
        for (int i = 0; i < j; i++)
            if (a->views[i].shown && same_oops(&m->oopses[i], &m->oopses[j])) {
                a->views[j].shown = false;
                a->views[i].duplicates++;
                break;
            }
}

void ex_merge(struct ex_analysis *a)
{
    merge_reports(a);
    merge_oopses(a);
}

struct ex_analysis *ex_analyze(struct ex_model *m, const struct ex_opts *opts)
{
    struct ex_analysis *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->m = m;
    a->opts = *opts;
    ex_merge(a);
    for (int i = 0; i < m->nreports; i++)
        ex_analyze_report(a, i);
    for (int i = 0; i < m->noopses; i++)
        ex_analyze_oops(a, i);
    ex_find_links(a);
    ex_run_types(a);
    ex_run_src(a);
    return a;
}

void ex_analysis_free(struct ex_analysis *a)
{
    free(a);
}

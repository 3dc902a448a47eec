/*
 * libFuzzer target: every explain parser on arbitrary bytes, read line by
 * line into the model as slabdbg explain reads a file, then the facts the
 * diagnosis derives from the records (stray bytes, registers, shadow
 * ranges, value notes).
 */
#include <stddef.h>
#include <stdint.h>

#include "analyze/analyze.h"
#include "model.h"
#include "parse/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ex_model *m; /* made once: its room is megabytes */
    if (!m && !(m = ex_model_new()))
        return 0;
    ex_model_reset(m);
    ex_read_buffer(m, (const char *)data, size, "fuzz");
    for (int r = 0; r < m->nreports; r++) {
        const struct ex_report *rp = &m->reports[r];
        for (int f = 0; f < rp->slub.nfaults; f++) {
            struct ex_stray s;
            ex_stray(rp, f, &s);
        }
        struct ex_value_ctx c = {.kernel = rp->origin == ORIGIN_KERNEL, .hashed = rp->hashed};
        struct ex_value_note n;
        ex_value_note(rp->addr, 8, &c, &n);
    }
    for (int o = 0; o < m->noopses; o++) {
        uint64_t v, lo, hi;
        const struct ex_oops *op = &m->oopses[o];
        ex_oops_reg(op, "rdi", &v);
        ex_oops_reg(op, "x0", &v);
        if (op->has_header_addr)
            ex_kasan_shadow_range(op->header_addr, op->arch, &lo, &hi);
    }
    return 0;
}

/*
 * slabdbg explain on open streams: read every input into the model (parse/),
 * analyse it (analyze/), print it (print/).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "parse/parse.h"
#include "print/print.h"
#include "tools/tools.h"

/* "a kernel warning at line 12; a lockdep report at line 40" */
static void others_text(const struct ex_model *m, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < m->nothers && i < 4; i++) {
        int k = snprintf(buf + n, size - n, "%s%s at line %d", i ? "; " : "", m->others[i].what,
                         m->others[i].src.first_line);
        if (k < 0 || (size_t)k >= size - n)
            return;
        n += (size_t)k;
    }
    if (m->nothers > 4)
        snprintf(buf + n, size - n, "; %d more", m->nothers - 4);
}

int explain_streams(FILE **ins, const char **names, int n, const struct explain_opts *opts,
                    FILE *out, FILE *err)
{
    struct ex_model *m = ex_model_new();
    if (!m) {
        fprintf(err, "slabdbg explain: out of memory\n");
        return 2;
    }
    for (int i = 0; i < n && i < EX_INPUTS_MAX; i++)
        ex_read_stream(m, ins[i], names[i]);
    if (!m->nreports && !m->noopses && !m->ndumps) {
        const char *what = n == 1 ? (strcmp(names[0], "-") ? names[0] : "standard input") : "the inputs";
        char others[400];
        others_text(m, others, sizeof(others));
        fprintf(err,
                "slabdbg explain: %s: no memory-error report (SLUB, KASAN, KFENCE, slabdbg), kernel "
                "oops or crash dump found%s%s%s\n",
                what, others[0] ? " (recognised, not explained: " : "", others, others[0] ? ")" : "");
        ex_model_free(m);
        return 2;
    }
    struct ex_opts o = {.json = opts->json, .binary = opts->binary, .type = opts->type,
                        .btf = opts->btf, .src = opts->src};
    struct ex_analysis *a = ex_analyze(m, &o);
    int status = 0;
    if (!a) {
        fprintf(err, "slabdbg explain: out of memory\n");
        status = 2;
    } else if (opts->json) {
        if (ex_print_json(out, a) != 0) {
            fprintf(err, "slabdbg explain: out of memory while writing the JSON\n");
            status = 2;
        }
    } else {
        ex_print_text(out, a);
    }
    ex_analysis_free(a);
    ex_model_free(m);
    return status;
}

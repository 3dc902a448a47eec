/*
 * libFuzzer target: the whole of slabdbg explain after reading (analysis,
 * instruction decoding, links, text and JSON output) on arbitrary input,
 * read as one file and as two.  The model is made once and emptied for
 * each input (explain_streams makes one per run: megabytes each time).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analyze/analyze.h"
#include "model.h"
#include "parse/parse.h"
#include "print/print.h"

static FILE *devnull;
static struct ex_model *m;

static void explain(void)
{
    struct ex_opts opts = {0};
    struct ex_analysis *a = ex_analyze(m, &opts);
    if (!a)
        return;
    ex_print_text(devnull, a);
    ex_print_json(devnull, a);
    ex_analysis_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!devnull && !(devnull = fopen("/dev/null", "w")))
        return 0;
    if (!m && !(m = ex_model_new()))
        return 0;
    ex_model_reset(m);
    ex_read_buffer(m, (const char *)data, size, "fuzz");
    explain();
    /* split in two inputs, as "explain A B" reads them */
    size_t half = size / 2;
    ex_model_reset(m);
    ex_read_buffer(m, (const char *)data, half, "a");
    ex_read_buffer(m, (const char *)data + half, size - half, "b");
    explain();
    return 0;
}

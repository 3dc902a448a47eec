/*
 * libFuzzer target: the SLUB report and oops/dump parsers on arbitrary
 * bytes, line by line as slabdbg explain feeds them, then every derived
 * fact the diagnosis reads (stray bytes, registers).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/oops_parse.h"
#include "tools/report_parse.h"

static struct slub_report reports[4];
static struct oops oopses[2];
static struct crash_dump dumps[2];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char line[RP_LINE_MAX];
    struct slub_parser sp;
    struct oops_parser op;
    slub_parser_init(&sp, reports, 4);
    oops_parser_init(&op, oopses, 2, dumps, 2);
    size_t i = 0;
    while (i < size) {
        size_t n = 0;
        while (i < size && data[i] != '\n') {
            if (n < sizeof(line) - 1)
                line[n++] = (char)data[i];
            i++;
        }
        i++;
        line[n] = 0;
        slub_parser_line(&sp, line);
        oops_parser_line(&op, line);
    }
    slub_parser_finish(&sp);
    oops_parser_finish(&op);
    for (int r = 0; r < sp.n; r++)
        for (int f = 0; f < reports[r].nfaults; f++) {
            struct rp_stray s;
            rp_stray(&reports[r], f, &s);
        }
    for (int o = 0; o < op.noopses; o++) {
        uint64_t v;
        oops_reg(&oopses[o], "rdi", &v);
    }
    return 0;
}

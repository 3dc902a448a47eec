/*
 * libFuzzer target: slabdbg triage's readers (JSON and journal records,
 * text reports with syslog and journal prefixes) and the grouping, on
 * arbitrary bytes fed line by line as the command feeds them.  Built on
 * its own (the explain targets are in Makefile):
 *
 *   clang -g -O1 -std=gnu17 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=undefined -I../src -I../include -o out/fuzz_triage \
 *       fuzz_triage.c ../src/tools/triage_*.c ../src/tools/report_parse.c \
 *       $(pkg-config --cflags --libs json-c)
 *   out/fuzz_triage -max_len=16384 -timeout=10 CORPUS_DIR
 *
 * A good corpus: the files of tests/explain/fixtures, and JSON and text
 * reports from "slabdbg run -o json=...:log=..." (bench/triage_bench.py
 * --keep DIR leaves many).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tools/triage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct triage_groups *g = triage_groups_new();
    struct tr_meta fm = {0};
    fm.time_us = 1;
    fm.time_source = TR_TIME_FILE;
    struct triage_text *t = triage_text_new(g, "fuzz", &fm);
    char *buf = malloc(size + 1);
    size_t i = 0;
    long no = 0;
    while (i <= size) {
        size_t n = 0;
        while (i < size && data[i] != '\n')
            buf[n++] = (char)data[i++];
        buf[n] = 0;
        i++;
        no++;
        if (!(n && buf[0] == '{' && triage_json_line(g, t, buf, n, "fuzz", no, &fm)))
            triage_text_line(t, buf, NULL, no);
    }
    triage_text_free(t);
    int ng;
    struct triage_group **gs = triage_groups_sorted(g, &ng);
    for (int k = 0; k < ng; k++)
        (void)strlen(gs[k]->signature);
    triage_groups_free(g);
    free(buf);
    return 0;
}

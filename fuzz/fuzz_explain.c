/*
 * libFuzzer target: the whole of slabdbg explain (parsers, analysis,
 * instruction decoding, text and JSON output) on arbitrary input, read
 * as one file and as two.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tools/tools.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    struct explain_opts opts = {0};
    for (int json = 0; json < 2; json++) {
        FILE *in = fmemopen((void *)data, size ? size : 1, "r");
        if (!in)
            return 0;
        FILE *ins[1] = {in};
        const char *names[1] = {"fuzz"};
        opts.json = json;
        explain_streams(ins, names, 1, &opts, devnull, devnull);
        fclose(in);
    }
    /* split in two inputs, as "explain A B" reads them */
    size_t half = size / 2;
    FILE *a = fmemopen((void *)data, half ? half : 1, "r");
    FILE *b = fmemopen((void *)(data + half), size - half ? size - half : 1, "r");
    if (a && b) {
        FILE *ins[2] = {a, b};
        const char *names[2] = {"a", "b"};
        opts.json = 0;
        explain_streams(ins, names, 2, &opts, devnull, devnull);
    }
    if (a)
        fclose(a);
    if (b)
        fclose(b);
    return 0;
}

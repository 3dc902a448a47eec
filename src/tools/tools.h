#ifndef SLABDBG_TOOLS_H
#define SLABDBG_TOOLS_H

#include <stdbool.h>
#include <stdio.h>

int cmd_run(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_triage(int argc, char **argv);
/* whatis, slabinfo, validate, alloc_traces, free_traces, leaks: argv[0] says which. */
int cmd_inspect(int argc, char **argv);

/* slabdbg explain on open streams (also used by its fuzz target). */
struct explain_opts {
    bool json;
    const char *binary, *type, *btf, *src;
};
int explain_streams(FILE **ins, const char **names, int n, const struct explain_opts *opts,
                    FILE *out, FILE *err);

#endif

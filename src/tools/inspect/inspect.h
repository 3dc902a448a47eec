/*
 * The inspection commands on an open target: whatis, slabinfo, validate,
 * alloc_traces/free_traces, leaks, explain --core.  Each prints to `out`
 * and returns the command's exit status; one-line errors go to `err`.
 */
#ifndef SLABDBG_INSPECT_H
#define SLABDBG_INSPECT_H

#include <stdio.h>

#include "inspect/heap.h"
#include "inspect/sym.h"
#include "tools/tools.h"

struct inspect {
    struct target t;
    struct heap h;
    struct tsym *sym;
    FILE *out, *err;
    const char *cmd;  /* "whatis", ... for messages */
    uint64_t now;     /* CLOCK_MONOTONIC of the target, ns; 0 for a core (unknown) */
    int max_bytes;    /* whatis: object bytes shown at most */
};

/* --pid/--core/--exe opened, the root found: 0, else the message printed
 * and the exit status to return. */
int inspect_open(struct inspect *in, const char *cmd, int pid, const char *core, const char *exe);
void inspect_close(struct inspect *in);

int inspect_whatis(struct inspect *in, uint64_t addr);
int inspect_slabinfo(struct inspect *in);
int inspect_traces(struct inspect *in, int item); /* 0: alloc, 1: free */
int inspect_validate(struct inspect *in);
/* supp: a file of function names, one a line ("#" comments): leaks whose
 * allocation stack holds one are not reported. */
int inspect_leaks(struct inspect *in, const char *supp);

/* slabdbg explain --core CORE [--exe PROGRAM]: the crash analysed from the core. */
int inspect_explain_core(const char *core, const char *exe, const struct explain_opts *opts);

/* One frame a line, as the in-process reports print a stack. */
void inspect_print_stack(struct inspect *in, uint32_t handle, const char *indent);
/* "Allocated in f+0x1/0x2 age=N cpu=C pid=P" and its stack. */
void inspect_print_track(struct inspect *in, const char *label, const struct h_track *tr);
/* The bytes of an object: red zones, object, padding, the addressed byte
 * marked. */
void inspect_dump_object(struct inspect *in, const struct h_where *w, uint64_t mark,
                         unsigned mark_len);

#endif

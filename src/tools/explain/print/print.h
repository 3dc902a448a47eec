/*
 * The two ways slabdbg explain shows an analysis: text for people, one
 * JSON object (json-c) for machines.  Both read the model and the
 * analysis, and compute nothing the other would not show.
 */
#ifndef SLABDBG_EXPLAIN_PRINT_H
#define SLABDBG_EXPLAIN_PRINT_H

#include <stdio.h>

#include "analyze/analyze.h"

void ex_print_text(FILE *out, const struct ex_analysis *a);
/* 0, or -1 when the JSON could not be built (out of memory). */
int ex_print_json(FILE *out, const struct ex_analysis *a);

/* Shared words: "SLUB", "KASAN", "KFENCE", "slabdbg guard" for a report. */
const char *ex_report_family(const struct ex_report *r);
/* "a <- b <- c": the non-machinery functions of a stack, innermost first. */
void ex_chain(const struct ex_stack *s, int max, char *buf, size_t size);
/* What a report lacked, in words ("the Object line; the FIX line ..."). */
void ex_missing_text(unsigned missing, char *buf, size_t size);

#endif

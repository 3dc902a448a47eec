/*
 * The report writer: every finding is printed in the layout of the Linux
 * SLUB allocator's reports, through these helpers only, so every report has
 * the same shape.  Reports go to stderr (or the configured destination).
 */
#ifndef SLABDBG_REPORT_H
#define SLABDBG_REPORT_H

#include "report/out.h"

/* Starts a report: the ===== line, "BUG <cache> (Not tainted): " and leaves
 * the reason for the caller to write; report_reason_done() ends the header. */
INTERNAL void report_begin(struct out *o, const char *cache);
INTERNAL void report_reason_done(struct out *o);
INTERNAL void report_end(struct out *o);

/* One-line findings: "<before><ptr><after>" as the reason. */
INTERNAL void report_short(const char *cache, const char *before, const void *ptr,
                           const char *after);
INTERNAL void report_wrong_cache(const char *cache, const char *actual);
INTERNAL void report_objects_remaining(const char *cache);

INTERNAL extern _Atomic uint64_t reports_made;

#endif

/*
 * slabdbg triage: reports from many processes and hosts, grouped by
 * signature (src/common/signature.h).
 *
 *   triage_json.c    JSON lines: our reports (SLABDBG_OPTIONS json=FILE)
 *                    and journald's export (journalctl -o json), whose
 *                    MESSAGE is a line of a text report or a JSON report
 *   triage_text.c    text reports, ours and the kernel's, bare or with the
 *                    prefixes of syslog and the journal (journalctl
 *                    -o short, -o short-iso, -o short-precise, -o cat,
 *                    rsyslog files); the lines of several processes may
 *                    interleave
 *   triage_group.c   the groups: counts, first and last seen, hosts,
 *                    programs, processes, one example each
 *   cmd_triage.c     the command: walks the inputs, prints text or JSON
 *
 * Each reader turns lines into struct triage_report and hands them to the
 * groups; nothing here keeps more than the groups and the reports still
 * being read.
 */
#ifndef SLABDBG_TOOLS_TRIAGE_H
#define SLABDBG_TOOLS_TRIAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/signature.h"

#define TR_NAME 128
#define TR_EXAMPLE_MAX 16384 /* bytes of a text report kept as its group's example */

/* What the transport says about a line: the journal's fields, a syslog
 * prefix, the file it was read from. */
enum tr_time_source { TR_TIME_NONE, TR_TIME_FILE, TR_TIME_LOG, TR_TIME_REPORT };

struct tr_meta {
    char host[64];
    char program[64];
    long long pid;   /* 0: unknown */
    int64_t time_us; /* microseconds since the epoch */
    enum tr_time_source time_source;
};

struct triage_report {
    char signature[64]; /* as given, or computed (16 hex digits) */
    bool signature_given;
    char kind[48]; /* the JSON "kind": "overwritten", "already_free", ... */
    char what[32]; /* for "overwritten": "Poison", "Right Redzone", ... */
    char cache[TR_NAME];
    char reason[256];             /* the header's reason, as SLUB words it */
    enum slabdbg_sig_stack stack; /* the stack the frames come from */
    int nframes;
    char frames[SLABDBG_SIG_FRAMES][TR_NAME]; /* function names, reduced */
    struct tr_meta meta;
    const char *file; /* where it was read: file and first line */
    long line;
    /* The report itself, for its group's example: a JSON line, or the
     * lines of a text report. */
    const char *example;
    size_t example_len;
    bool example_json;
};

/* ---- groups (triage_group.c) ---------------------------------------------- */

struct tr_count {
    int id; /* a host or program name (triage_name()) */
    long count;
};

struct triage_group {
    char signature[64];
    long count;
    struct triage_report first; /* kind, cache, frames, file, line */
    char *example;              /* copy of the first report's example */
    size_t example_len;
    bool example_json;
    int64_t first_us, last_us; /* 0: no time known */
    long timed, file_timed;    /* reports with a time; of them, files' times */
    long processes;            /* distinct (host, pid) */
    int nhosts, nprograms, hosts_cap, programs_cap;
    struct tr_count *hosts, *programs;
};

struct triage_groups;

struct triage_groups *triage_groups_new(void);
void triage_groups_free(struct triage_groups *g);
void triage_groups_add(struct triage_groups *g, const struct triage_report *r);
/* The groups, most reports first (then by signature); valid until the next
 * add or free. */
struct triage_group **triage_groups_sorted(struct triage_groups *g, int *n);
long triage_groups_reports(const struct triage_groups *g);
long triage_groups_processes(const struct triage_groups *g);
int triage_groups_hosts(const struct triage_groups *g);
/* The name of a host or program id ("" for unknown). */
const char *triage_name(const struct triage_groups *g, int id);

/* ---- readers ---------------------------------------------------------------- */

/* Fills in the signature (unless given), from kind, what, cache and the
 * frames of each stack; `kernel` drops the allocator's and the report
 * machinery's frames that the kernel's stacks start with. */
#define TR_STACK_KEEP 16 /* frames kept per stack: the kernel's start with a dozen of its own */
struct tr_stacks {
    int n[3];                          /* frames of each enum slabdbg_sig_stack */
    char f[3][TR_STACK_KEEP][TR_NAME]; /* the first frames, as printed */
};
void triage_finish_report(struct triage_report *r, const struct tr_stacks *st, bool kernel);

/* Microseconds since the epoch of an RFC 3339 / ISO 8601 time
 * ("2026-12-02T04:25:01.5+01:00", "... 04:25:01Z", a space for the T), or
 * 0.  *end is set past it. */
int64_t triage_parse_iso_time(const char *s, const char **end);

/* A text reader: one per input file. */
struct triage_text;
struct triage_text *triage_text_new(struct triage_groups *g, const char *file,
                                    const struct tr_meta *file_meta);
/* One line; `meta` (may be NULL) is what a journal export said of it, in
 * which case the line is the bare message. */
void triage_text_line(struct triage_text *t, const char *line, const struct tr_meta *meta,
                      long line_no);
/* Ends the input: reports still open are counted as they are. */
void triage_text_free(struct triage_text *t);

/* A JSON line: one of our reports, or one record of journald's export (its
 * MESSAGE goes to `text`).  Returns false if the line is not JSON. */
bool triage_json_line(struct triage_groups *g, struct triage_text *text, const char *line,
                      size_t len, const char *file, long line_no, const struct tr_meta *file_meta);

#endif

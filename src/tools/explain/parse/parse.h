/*
 * The parsers: one per input format, all filling the one model.
 *
 * The driver (driver.c) cleans each line and offers it first to the parser
 * that has a report open on the line's stream, then, when that one does
 * not take it, to every parser's recogniser.  Lines that carry printk
 * caller ids ("[ T123]") are kept apart by id, so reports printed at the
 * same time by two CPUs are read as the two reports they are.
 *
 * Recognisers are strict: a report starts only at a line that can only
 * begin that format (its header, or a line no other text has), so boot
 * banners, register dumps and shadow rows never start anything by
 * themselves.
 */
#ifndef SLABDBG_EXPLAIN_PARSE_H
#define SLABDBG_EXPLAIN_PARSE_H

#include <stdio.h>

#include "model.h"
#include "parse/lines.h"

/* How strongly a line begins a report of a format. */
enum ex_begin {
    BEGIN_NO = 0,
    BEGIN_WEAK = 1,   /* only when nothing is open on the stream */
    BEGIN_STRONG = 2, /* also ends the report open on the stream */
};

/* What a parser did with a line of its open report. */
enum ex_feed {
    FEED_TAKEN,   /* the line is part of the report */
    FEED_IGNORED, /* not the report's, but it stays open (interleaved noise) */
    FEED_ENDED,   /* the report ended before this line, which is not taken */
    FEED_DONE,    /* the line is the report's last */
};

struct ex_parser {
    const char *name;
    size_t state_size;
    enum ex_begin (*begins)(const struct ex_line *l);
    /* Starts a report at l (a line begins() accepted) in the state memory
     * (cleared, state_size bytes); false when the model has no room. */
    bool (*open)(void *state, struct ex_model *m, const struct ex_line *l);
    enum ex_feed (*feed)(void *state, const struct ex_line *l);
    /* The report is over: derive what its lines imply, or discard it when
     * it holds too little. */
    void (*close)(void *state);
};

extern const struct ex_parser ex_parser_slub;
extern const struct ex_parser ex_parser_slabdbg_guard;
extern const struct ex_parser ex_parser_slabdbg_json;
extern const struct ex_parser ex_parser_kasan;
extern const struct ex_parser ex_parser_kfence;
extern const struct ex_parser ex_parser_oops;
extern const struct ex_parser ex_parser_crash_rd;
extern const struct ex_parser ex_parser_other;

/* ---- the driver ------------------------------------------------------------------ */

struct ex_reader;

/* Reads one input into the model, line by line. */
struct ex_reader *ex_reader_new(struct ex_model *m, const char *name);
void ex_reader_line(struct ex_reader *r, const char *line);
/* Closes what is open and frees the reader. */
void ex_reader_finish(struct ex_reader *r);
/* ex_reader_new/line/finish over a whole stream; lines longer than
 * EX_LINE_MAX are cut (and the input says so). */
void ex_read_stream(struct ex_model *m, FILE *f, const char *name);
/* The same over a buffer (tests, fuzzing). */
void ex_read_buffer(struct ex_model *m, const char *data, size_t size, const char *name);

/* What the parsers share for reports: the record's source fields, and the
 * parts a report of an access lacks (tracks, trace, and the object when
 * the report should have named one). */
void ex_src_init(struct ex_src *src, enum ex_format f, const struct ex_line *l);
void ex_mark_missing(struct ex_report *r, bool object_expected);

#endif

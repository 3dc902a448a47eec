/*
 * Source scan: the constants of C sources equal to a value, and the
 * statements that assign them.
 */
#ifndef SLABDBG_EXPLAIN_ANALYZE_SRCSCAN_H
#define SLABDBG_EXPLAIN_ANALYZE_SRCSCAN_H

#include <stddef.h>
#include <stdint.h>

struct src_const {
    char name[128];
    char kind[16]; /* "define", "enum", "const" */
    char file[512];
    int line;
};

struct src_assign {
    char file[512];
    int line;
    char function[128]; /* enclosing function, "" if unknown */
    char constant[128]; /* the constant assigned */
    char text[256];     /* the statement, trimmed */
    int same_field;     /* assigns to a field named like the stray field */
};

/* Scans C sources (*.c, *.h) under dir for constants whose value is `value`
 * and for statements assigning one of them; those assigning to a member
 * named `field` (may be NULL) come first.  Returns 0, or -1 with err. */
int src_scan(const char *dir, uint64_t value, const char *field, struct src_const *consts,
             int max_consts, int *n_consts, struct src_assign *assigns, int max_assigns,
             int *n_assigns, char *err, size_t errlen);

/* Scans the same sources for the statements assigning to a member named
 * `field` (x->field = ..., x.field |= ...), whatever they assign: the
 * right-hand side goes to `constant`.  Returns 0, or -1 with err. */
int src_scan_field(const char *dir, const char *field, struct src_assign *assigns,
                   int max_assigns, int *n_assigns, char *err, size_t errlen);

#endif

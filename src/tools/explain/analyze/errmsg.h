/*
 * The one-line error messages the analysis helpers (types, source scan)
 * hand back to their callers, formatted into the caller's buffer.
 */
#ifndef SLABDBG_EXPLAIN_ANALYZE_ERRMSG_H
#define SLABDBG_EXPLAIN_ANALYZE_ERRMSG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

static inline void ex_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void ex_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

#endif

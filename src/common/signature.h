/*
 * The signature of a report: one 64-bit value, the same for every report
 * of one bug whichever process, host, run or address-space layout it came
 * from, so that reports from many machines can be grouped.  The library's
 * report writer puts it in each JSON report ("signature": 16 hex digits);
 * slabdbg triage computes it the same way for reports that lack one (older
 * JSON, text reports, the kernel's).  Both include this header, so the two
 * cannot disagree.
 *
 * Everything here is static inline, allocates nothing and calls nothing
 * but the compiler's string builtins: the library may use it in its report
 * path, on a corrupted heap.
 *
 * The algorithm
 * -------------
 *   1. kind: the report's kind as the JSON key "kind" spells it
 *      ("overwritten", "already_free", "use_after_free_write", ...).  For
 *      "overwritten" it is followed by ':' and what was overwritten, the
 *      JSON key "what" ("overwritten:Poison", "overwritten:Right Redzone"):
 *      a write after free and an overflow are different bugs.
 *   2. cache: the cache's name as reported ("kmalloc-1024", "request").
 *   3. the relevant stack, by kind (slabdbg_sig_stacks()): for damage found
 *      after the fact, by whoever touched the object next, the object's own
 *      tracks (written after free: its free track; a red zone or padding
 *      overwritten: its allocation track); for everything else the stack of
 *      the code that found the bug ("found_by"), which is the culprit
 *      (the second free, the faulting access, the bad pointer's free).
 *      When that stack is absent or empty, the next one in the order given.
 *   4. f1, f2, f3: the function names of its first three frames (fewer
 *      frames: empty names), each reduced by slabdbg_sig_function() to what
 *      does not change between runs and builds: no "+0xoff/0xsize", no
 *      symbol version ("@@GLIBC_2.34"), no compiler suffix (".isra.0",
 *      ".part.1", ".constprop.0", ".cold", ".lto_priv.0"), no module or
 *      source position after a space; a frame known only by its address is
 *      "?".  Demangled C++ names are kept whole ("ns::f(int)"), and when the
 *      frame has an offset everything before it is the name, spaces too
 *      ("long* ns::make<long>()" of a function template).
 *   5. FNV-1a, 64 bits (offset basis 0xcbf29ce484222325, prime
 *      0x100000001b3), over the bytes of  kind '|' cache '|' f1 '|' f2 '|' f3
 *      (no terminating NUL).
 *   6. Written as 16 lowercase hexadecimal digits.
 *
 * Example: a write after free of a kmalloc-1024 object freed by put_request
 * called from scsi_end_request called from scsi_done hashes
 *   "overwritten:Poison|kmalloc-1024|put_request|scsi_end_request|scsi_done"
 */
#ifndef SLABDBG_COMMON_SIGNATURE_H
#define SLABDBG_COMMON_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

#define SLABDBG_SIG_FRAMES 3
#define SLABDBG_SIG_HEX 17 /* 16 digits and a NUL */

#define SLABDBG_FNV64_BASIS 0xcbf29ce484222325ull
#define SLABDBG_FNV64_PRIME 0x100000001b3ull

/* The stacks a report can carry (the JSON keys). */
enum slabdbg_sig_stack {
    SLABDBG_SIG_FOUND_BY, /* "found_by": the code that found the bug */
    SLABDBG_SIG_ALLOC,    /* "alloc": the object's allocation track */
    SLABDBG_SIG_FREE,     /* "free": the object's free track */
};

static inline const char *slabdbg_sig_stack_name(enum slabdbg_sig_stack s)
{
    return s == SLABDBG_SIG_ALLOC ? "alloc" : s == SLABDBG_SIG_FREE ? "free" : "found_by";
}

static inline int slabdbg_sig_streq(const char *a, const char *b)
{
    if (!a || !b)
        return 0;
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

static inline int slabdbg_sig_prefix(const char *s, const char *prefix)
{
    if (!s)
        return 0;
    while (*prefix && *s == *prefix)
        s++, prefix++;
    return !*prefix;
}

/* The stacks to take the frames from, best first (step 3): writes three
 * and returns 3.  `what` is the JSON "what" (NULL when the kind has none). */
static inline int slabdbg_sig_stacks(const char *kind, const char *what,
                                     enum slabdbg_sig_stack order[3])
{
    int after_free =
        slabdbg_sig_streq(kind, "freepointer_corrupt") ||
        slabdbg_sig_streq(kind, "freechain_corrupt") ||
        (slabdbg_sig_streq(kind, "overwritten") &&
         (slabdbg_sig_prefix(what, "Poison") || slabdbg_sig_prefix(what, "End Poison")));
    int overwritten = slabdbg_sig_streq(kind, "overwritten");
    if (after_free) {
        order[0] = SLABDBG_SIG_FREE, order[1] = SLABDBG_SIG_ALLOC, order[2] = SLABDBG_SIG_FOUND_BY;
    } else if (overwritten) {
        order[0] = SLABDBG_SIG_ALLOC, order[1] = SLABDBG_SIG_FOUND_BY, order[2] = SLABDBG_SIG_FREE;
    } else {
        order[0] = SLABDBG_SIG_FOUND_BY, order[1] = SLABDBG_SIG_ALLOC, order[2] = SLABDBG_SIG_FREE;
    }
    return 3;
}

static inline int slabdbg_sig_hexdigit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Does s start "+0x<hex>" followed by "/0x<hex>", a space or the end? */
static inline int slabdbg_sig_offset_at(const char *s)
{
    if (s[0] != '+' || s[1] != '0' || s[2] != 'x' || !slabdbg_sig_hexdigit(s[3]))
        return 0;
    s += 3;
    while (slabdbg_sig_hexdigit(*s))
        s++;
    return *s == '/' || *s == ' ' || *s == 0;
}

/* Step 4 for one frame as printed ("put_request+0x18/0x1b blk.c:24",
 * "__libc_start_main@@GLIBC_2.34+0x85/0x141", "0x7f3a12345678"): sets
 * [*begin, *end) to the name to hash, within `frame`, or to "?". */
static inline void slabdbg_sig_function(const char *frame, const char **begin, const char **end)
{
    static const char unknown[] = "?";
    static const char *const suffixes[] = {".isra.", ".part.",     ".constprop.",
                                           ".cold",  ".lto_priv.", ".llvm."};
    const char *s = frame ? frame : "";
    while (*s == ' ' || *s == '\t')
        s++;
    if (s[0] == '?' && s[1] == ' ') /* the kernel's mark of an unreliable frame */
        s += 2;
    const char *e = s;
    int depth = 0; /* inside C++ parentheses or templates, spaces belong to the name */
    /* A name with its offset: everything before the offset is the name,
     * spaces too (a demangled template's return type: "long* f<long>()"). */
    int has_offset = 0;
    for (const char *p = s; *p && !has_offset; p++) {
        if (*p == '(' || *p == '<')
            depth++;
        else if ((*p == ')' || *p == '>') && depth)
            depth--;
        else if (*p == '+' && !depth && slabdbg_sig_offset_at(p))
            has_offset = 1;
    }
    depth = 0;
    for (; *e; e++) {
        if (*e == '(' || *e == '<')
            depth++;
        else if ((*e == ')' || *e == '>') && depth)
            depth--;
        else if (*e == '+' && slabdbg_sig_offset_at(e))
            break;
        else if (*e == '@' || ((*e == ' ' || *e == '\t') && !depth && !has_offset))
            break;
    }
    for (const char *p = s; p < e; p++) {
        if (*p != '.')
            continue;
        for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
            const char *q = p, *x = suffixes[i];
            while (*x && q < e && *q == *x)
                q++, x++;
            if (!*x) {
                e = p;
                break;
            }
        }
    }
    /* Only an address (or nothing): not a name. */
    int address = e - s > 2 && s[0] == '0' && s[1] == 'x';
    for (const char *p = s + 2; address && p < e; p++)
        address = slabdbg_sig_hexdigit(*p);
    if (e == s || address || (e - s == 1 && *s == '?')) {
        *begin = unknown;
        *end = unknown + 1;
        return;
    }
    *begin = s;
    *end = e;
}

static inline uint64_t slabdbg_fnv1a(uint64_t h, const char *s, const char *end)
{
    for (; s < end; s++) {
        h ^= (unsigned char)*s;
        h *= SLABDBG_FNV64_PRIME;
    }
    return h;
}

static inline uint64_t slabdbg_fnv1a_str(uint64_t h, const char *s)
{
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= SLABDBG_FNV64_PRIME;
    }
    return h;
}

/* Steps 1, 2, 4 and 5: `frames` are the first frames of the relevant stack
 * as printed (nframes of them, more are ignored; NULL entries count as
 * empty).  `what` matters only for kind "overwritten". */
static inline uint64_t slabdbg_signature(const char *kind, const char *what, const char *cache,
                                         const char *const *frames, int nframes)
{
    uint64_t h = slabdbg_fnv1a_str(SLABDBG_FNV64_BASIS, kind);
    if (slabdbg_sig_streq(kind, "overwritten") && what && *what) {
        h = slabdbg_fnv1a_str(h, ":");
        h = slabdbg_fnv1a_str(h, what);
    }
    h = slabdbg_fnv1a_str(h, "|");
    h = slabdbg_fnv1a_str(h, cache);
    for (int i = 0; i < SLABDBG_SIG_FRAMES; i++) {
        h = slabdbg_fnv1a_str(h, "|");
        if (i < nframes && frames && frames[i]) {
            const char *b, *e;
            slabdbg_sig_function(frames[i], &b, &e);
            h = slabdbg_fnv1a(h, b, e);
        }
    }
    return h;
}

/* Step 6. */
static inline void slabdbg_sig_hex(uint64_t sig, char out[SLABDBG_SIG_HEX])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--, sig >>= 4)
        out[i] = digits[sig & 15];
    out[16] = 0;
}

#endif

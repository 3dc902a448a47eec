/*
 * SLUB debug reports: the kernel's before 5.12 ("INFO: " prefixes), 5.12
 * and later, the 2025 form that prints "[Poison overwritten] ..." before a
 * "BUG ...: Object corrupt" header, 32-bit kernels' (8-digit pointers,
 * raw or hashed), and ours in text.  Every line kind is optional: a report
 * with lines missing (or re-wrapped by a mailer) still yields what its
 * other lines say.
 *
 *   =============================================================================
 *   BUG kmalloc-1024 (Not tainted): Poison overwritten
 *   -----------------------------------------------------------------------------
 *   0xffff...2d0-0xffff...2d3 @offset=720. First byte 0x6 instead of 0x6b
 *   Allocated in alloc_request_size+0x2b/0x70 age=36 cpu=1 pid=3011
 *    <stack>
 *   Freed in __blk_put_request+0xb7/0x190 age=36 cpu=3 pid=0
 *    <stack>
 *   Slab 0x... objects=24 used=24 fp=0x... flags=...
 *   Object 0x... @offset=8 fp=0x...
 *   Redzone ffff...: bb bb ...       (the object's bytes, by section)
 *   Object  ffff...: 6b 6b ...
 *   CPU: 0 PID: 0 Comm: swapper/0 ...
 *   Call Trace: <the code that found the damage>
 *   FIX kmalloc-1024: Restoring 0x...-0x...=0x6b
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "parse/parse.h"
#include "parse/slub.h"

struct slub_state {
    struct ex_model *m;
    struct ex_report *r;
    int stack; /* where frame lines go: 0 none, 1 alloc, 2 free, 3 the finder */
    bool after_fix, has_header;
};

/* ---- lines ------------------------------------------------------------------------ */

bool ex_slub_header(const char *s, char *cache, size_t cache_size, char *taint, size_t taint_size,
                    const char **reason)
{
    if (!ex_starts(s, "BUG ") || s[4] == ' ' || s[4] == ':')
        return false;
    const char *name = s + 4, *p = name;
    while (*p && *p != ' ')
        p++;
    const char *name_end = p;
    const char *why;
    if (p[0] == ' ' && p[1] == '(') {
        const char *close = strstr(p, "): ");
        if (!close)
            return false;
        ex_copy(taint, taint_size, p + 2, (size_t)(close - p - 2));
        why = close + 3;
    } else if (p > name && p[-1] == ':' && p[0] == ' ') {
        name_end = p - 1;
        why = p + 1;
        if (taint_size)
            taint[0] = 0;
    } else {
        return false;
    }
    if (name_end == name)
        return false;
    ex_copy(cache, cache_size, name, (size_t)(name_end - name));
    *reason = ex_skip_ws(why);
    return true;
}

/* The value after "key=" somewhere in s. */
static bool find_kv_dec(const char *s, const char *key, long long *v)
{
    const char *p = strstr(s, key);
    if (!p)
        return false;
    p += strlen(key);
    return ex_scan_dec(&p, v);
}

bool ex_slub_track_line(const char *s, struct ex_track *t, bool *alloc)
{
    const char *rest;
    if (ex_starts(s, "Allocated in ")) {
        rest = s + strlen("Allocated in ");
        *alloc = true;
    } else if (ex_starts(s, "Freed in ")) {
        rest = s + strlen("Freed in ");
        *alloc = false;
    } else {
        return false;
    }
    memset(t, 0, sizeof(*t));
    t->present = true;
    ex_copy_str(t->label, sizeof(t->label), *alloc ? "Allocated" : "Freed");
    const char *age = strstr(rest, " age=");
    char fn[512];
    ex_copy(fn, sizeof(fn), rest, age ? (size_t)(age - rest) : strlen(rest));
    if (!ex_parse_frame(fn, &t->caller)) {
        char *sp = strchr(fn, ' ');
        if (sp)
            *sp = 0;
        ex_copy_str(t->caller.func, sizeof(t->caller.func), fn);
    }
    long long v;
    if (find_kv_dec(rest, "age=", &v)) {
        t->has_age = true;
        t->age = v;
    }
    if (find_kv_dec(rest, "cpu=", &v) && v >= 0 && v < 1 << 20) {
        t->has_cpu = true;
        t->cpu = (int)v;
    }
    if (find_kv_dec(rest, "pid=", &v)) {
        t->has_pid = true;
        t->pid = v;
    }
    return true;
}

bool ex_kmalloc_size(const char *cache, uint64_t *size)
{
    const char *p = cache;
    if (ex_starts(p, "dma-"))
        p += 4;
    if (!ex_starts(p, "kmalloc-"))
        return false;
    p += 8;
    for (int i = 0; i < 3; i++) { /* "rcl-", "cg-", "rnd-05-", "dma-" */
        if (ex_starts(p, "rcl-") || ex_starts(p, "cg-") || ex_starts(p, "dma-") ||
            ex_starts(p, "reclaimable-"))
            p = strchr(p, '-') + 1;
        else if (ex_starts(p, "rnd-")) {
            p += 4;
            while (isdigit((unsigned char)*p))
                p++;
            if (*p != '-')
                return false;
            p++;
        }
    }
    long long n;
    const char *q = p;
    if (!ex_scan_dec(&q, &n) || n <= 0 || n > (1ll << 32))
        return false;
    if (*q == 'k')
        n *= 1024;
    else if (*q == 'M')
        n *= 1024 * 1024;
    *size = (uint64_t)n;
    return true;
}

/* "0xA-0xB @offset=N. First byte 0xX instead of 0xY", optionally
 * "[What overwritten] " in front (2025); a mailer may have cut it after
 * "First byte 0xX". */
static bool parse_fault(const char *s, struct ex_fault *f)
{
    memset(f, 0, sizeof(*f));
    if (*s == '[') {
        const char *close = strstr(s, " overwritten] ");
        if (!close || close - s > 48)
            return false;
        ex_copy(f->what, sizeof(f->what), s + 1, (size_t)(close - s - 1));
        s = close + strlen(" overwritten] ");
    }
    const char *p = s;
    uint64_t a, b;
    if (p[0] == '0' && p[1] == 'x' && ex_scan_hex(&p, &a) && p[0] == '-' && p[1] == '0' &&
        p[2] == 'x') {
        p++;
        if (ex_scan_hex(&p, &b)) {
            f->has_range = true;
            f->start = a;
            f->end = b;
        }
    }
    const char *off = strstr(s, "@offset=");
    long long v;
    if (off && (off += 8, ex_scan_dec(&off, &v)) && v >= 0) {
        f->has_slab_off = true;
        f->slab_off = (uint64_t)v;
    }
    const char *fb = strstr(s, "First byte ");
    if (fb) {
        fb += strlen("First byte ");
        uint64_t x, y;
        if (ex_scan_hex(&fb, &x)) {
            f->has_first = true;
            f->first = (unsigned)(x & 0xff);
            if (ex_starts(fb, " instead of ") &&
                (fb += strlen(" instead of "), ex_scan_hex(&fb, &y))) {
                f->has_expected = true;
                f->expected = (unsigned)(y & 0xff);
            }
        }
    }
    /* the range alone is no fault line ("0x...-0x..." is common text) */
    return (f->has_range && (f->has_first || f->has_slab_off)) || f->has_first;
}

/* "Slab 0x... objects=24 used=24 fp=0x... flags=..." */
static bool parse_slab(const char *s, struct ex_report *r)
{
    if (!ex_starts(s, "Slab 0x"))
        return false;
    const char *p = s + 5;
    if (!ex_scan_hex(&p, &r->slub.slab))
        return false;
    r->slub.has_slab = true;
    long long o, u;
    if (find_kv_dec(p, "objects=", &o) && find_kv_dec(p, "used=", &u) && o >= 0 && u >= 0 &&
        o < 1 << 30 && u < 1 << 30) {
        r->slub.has_counts = true;
        r->slub.objects = (unsigned)o;
        r->slub.used = (unsigned)u;
    }
    return true;
}

/* "Object 0x... @offset=8 fp=0x..." (not a hexdump row: those have a colon
 * after the address). */
static bool parse_object_line(const char *s, struct ex_report *r)
{
    if (!ex_starts(s, "Object 0x"))
        return false;
    const char *p = s + 7;
    int digits = ex_hex_digits(p + 2);
    uint64_t a;
    if (!ex_scan_hex(&p, &a) || *p == ':')
        return false;
    r->slub.listed_objects++;
    if (r->has_object)
        return true;
    r->has_object = true;
    r->object = a;
    r->slub.addr_digits = digits;
    long long v;
    if (find_kv_dec(p, "@offset=", &v) && v >= 0) {
        r->slub.has_object_slab_off = true;
        r->slub.object_slab_off = (uint64_t)v;
    }
    return true;
}

/* "Object ffff956178460008: 6b 6b ... 6b  kkkk", with "Redzone", "Padding",
 * "Bytes b4"; old kernels print "0x" and two spaces. */
static bool parse_row(const char *s, struct ex_row *row)
{
    static const struct {
        const char *word;
        uint8_t section;
    } words[] = {{"Redzone", SEC_REDZONE},
                 {"Object", SEC_OBJECT},
                 {"Padding", SEC_PADDING},
                 {"Bytes b4", SEC_BYTES_B4}};
    size_t i;
    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (ex_starts(s, words[i].word) && s[strlen(words[i].word)] == ' ')
            break;
    if (i == sizeof(words) / sizeof(words[0]))
        return false;
    const char *p = ex_skip_ws(s + strlen(words[i].word));
    memset(row, 0, sizeof(*row));
    row->section = words[i].section;
    if (!ex_scan_hex(&p, &row->addr) || *p != ':')
        return false;
    p++;
    bool first = true;
    while (row->n < 16) {
        const char *q = first ? ex_skip_ws(p) : p + 1;
        if (p[0] != ' ' || ex_hex_digits(q) != 2 || (q[2] != ' ' && q[2] != 0))
            break;
        uint64_t v;
        ex_scan_hex(&q, &v);
        row->b[row->n++] = (uint8_t)v;
        p = q;
        first = false;
    }
    return row->n > 0;
}

static bool is_foreign_start(const char *s)
{
    return ex_starts(s, "BUG: ") || ex_starts(s, "general protection fault") ||
           ex_starts(s, "Oops:") || ex_starts(s, "kernel BUG at") ||
           ex_starts(s, "------------[ cut here ]") || ex_starts(s, "Kernel panic") ||
           ex_starts(s, "crash> ") || ex_starts(s, "---[ end trace") || ex_starts(s, "WARNING: ") ||
           ex_starts(s, "Unable to handle kernel") || ex_starts(s, "kasan: GPF could be caused");
}

static bool header_line(const char *s, char *cache, size_t cs, char *taint, size_t ts,
                        const char **reason)
{
    return ex_slub_header(s, cache, cs, taint, ts, reason) && !ex_guard_reason(*reason);
}

/* ---- the parser ----------------------------------------------------------------- */

static const char *strip_info(const struct ex_line *l, bool *kernel)
{
    const char *s = l->text;
    *kernel = l->kernel;
    if (ex_starts(s, "INFO: ")) {
        s += 6;
        *kernel = true;
    }
    return s;
}

/* Lines that can only be part of a report (a headerless one starts there),
 * not lines other texts have too (CPU:, Call Trace:). */
static bool report_only_line(const char *s)
{
    struct ex_fault f;
    struct ex_row row;
    return parse_fault(s, &f) || ex_starts(s, "Allocated in ") || ex_starts(s, "Freed in ") ||
           ex_starts(s, "Slab 0x") || (ex_starts(s, "Object 0x") && !strchr(s, ':')) ||
           parse_row(s, &row);
}

static enum ex_begin slub_begins(const struct ex_line *l)
{
    bool kernel;
    const char *s = strip_info(l, &kernel);
    char cache[EX_NAME_MAX], taint[64];
    const char *reason;
    if (header_line(s, cache, sizeof(cache), taint, sizeof(taint), &reason))
        return BEGIN_STRONG;
    if (s[0] == '[' && strstr(s, " overwritten] ")) {
        struct ex_fault f;
        return parse_fault(s, &f) ? BEGIN_STRONG : BEGIN_NO;
    }
    return report_only_line(s) ? BEGIN_WEAK : BEGIN_NO;
}

static void add_fault(struct ex_report *r, const struct ex_fault *f)
{
    if (r->slub.nfaults < EX_FAULTS_MAX)
        r->slub.faults[r->slub.nfaults++] = *f;
}

static void take_header(struct slub_state *st, const char *s, bool kernel)
{
    struct ex_report *r = st->r;
    const char *reason;
    header_line(s, r->cache, sizeof(r->cache), r->taint, sizeof(r->taint), &reason);
    ex_copy_str(r->reason, sizeof(r->reason), reason);
    st->has_header = true;
    r->kernel_marks |= kernel;
}

static enum ex_feed slub_feed(void *state, const struct ex_line *l);

static bool slub_open(void *state, struct ex_model *m, const struct ex_line *l)
{
    struct slub_state *st = state;
    st->m = m;
    st->r = ex_new_report(m);
    if (!st->r)
        return false;
    ex_src_init(&st->r->src, FMT_SLUB, l);
    bool kernel;
    const char *s = strip_info(l, &kernel);
    char cache[EX_NAME_MAX], taint[64];
    const char *reason;
    if (header_line(s, cache, sizeof(cache), taint, sizeof(taint), &reason)) {
        take_header(st, s, kernel);
        return true;
    }
    if (!(s[0] == '[' && strstr(s, " overwritten] ")))
        st->r->missing |= MISS_HEADER; /* cleared if the 2025 header follows */
    slub_feed(state, l);
    return true;
}

/* "instead of 0x6b Allocated in ...": a fault line a mailer broke after
 * "First byte 0x6c", with the next line joined on. */
static bool rewrapped_line(struct slub_state *st, const char *s)
{
    struct ex_report *r = st->r;
    if (!ex_starts(s, "instead of 0x") || !r->slub.nfaults)
        return false;
    struct ex_fault *f = &r->slub.faults[r->slub.nfaults - 1];
    const char *p = s + strlen("instead of ");
    uint64_t y;
    if (!f->has_first || f->has_expected || !ex_scan_hex(&p, &y))
        return false;
    f->has_expected = true;
    f->expected = (unsigned)(y & 0xff);
    p = ex_skip_ws(p);
    struct ex_track t;
    bool alloc;
    if (ex_slub_track_line(p, &t, &alloc)) {
        struct ex_track *dst = alloc ? &r->alloc : &r->free;
        if (!dst->present)
            *dst = t;
        st->stack = alloc ? 1 : 2;
    }
    return true;
}

static bool report_line(struct slub_state *st, const char *s)
{
    struct ex_report *r = st->r;
    struct ex_fault f;
    struct ex_row row;
    struct ex_track t;
    bool alloc;
    if (parse_fault(s, &f)) {
        add_fault(r, &f);
        st->stack = 0;
    } else if (ex_slub_track_line(s, &t, &alloc)) {
        struct ex_track *dst = alloc ? &r->alloc : &r->free;
        if (!dst->present)
            *dst = t;
        st->stack = dst->stack.n ? 0 : alloc ? 1 : 2;
    } else if (parse_slab(s, r) || parse_object_line(s, r)) {
        st->stack = 0;
    } else if (parse_row(s, &row)) {
        if (r->slub.nrows < EX_ROWS_MAX)
            r->slub.rows[r->slub.nrows++] = row;
        else
            r->slub.rows_dropped++;
        st->stack = 0;
    } else if (ex_task_line(s, &r->cpu, &r->pid, r->comm, sizeof(r->comm), r->release,
                            sizeof(r->release))) {
        r->has_task = r->has_cpu = true;
        st->stack = 3; /* 32-bit arm prints the trace without "Call Trace:" */
    } else if (ex_starts(s, "Call Trace:") || ex_starts(s, "Call trace:")) {
        r->has_trace = true;
        st->stack = 3;
    } else {
        return false;
    }
    return true;
}

static enum ex_feed slub_feed(void *state, const struct ex_line *l)
{
    struct slub_state *st = state;
    struct ex_report *r = st->r;
    bool kernel;
    const char *s = strip_info(l, &kernel);
    char cache[EX_NAME_MAX], taint[64];
    const char *reason;
    if (!*s)
        return FEED_IGNORED;
    if (st->after_fix && !ex_starts(s, "FIX "))
        return FEED_ENDED;
    if (is_foreign_start(s))
        return FEED_ENDED;
    if (ex_slub_header(s, cache, sizeof(cache), taint, sizeof(taint), &reason)) {
        if (st->has_header || ex_guard_reason(reason))
            return FEED_ENDED;
        take_header(st, s, kernel); /* the 2025 form: faults first */
        r->missing &= ~(unsigned)MISS_HEADER;
    } else if (ex_starts(s, "=====")) {
        if (st->has_header)
            return FEED_ENDED;
    } else if (ex_starts(s, "-----")) {
        /* the header's underline */
    } else if (s[0] == '[' && strstr(s, " overwritten] ")) {
        struct ex_fault f;
        if (st->has_header || r->has_trace || r->slub.nrows)
            return FEED_ENDED;
        if (!parse_fault(s, &f))
            return FEED_IGNORED;
        add_fault(r, &f);
    } else if (ex_starts(s, "FIX ")) {
        if (r->slub.nfix < EX_FIX_MAX)
            ex_copy_str(r->slub.fix[r->slub.nfix++], sizeof(r->slub.fix[0]), s);
        st->after_fix = true;
        st->stack = 0;
    } else if (report_line(st, s) || rewrapped_line(st, s)) {
        /* taken */
    } else if (ex_is_stack_marker(s)) {
        /* taken */
    } else {
        struct ex_frame f;
        struct ex_reg regs[8];
        if (ex_regs_line(s, regs, 8) > 0 && !ex_parse_frame(s, &f))
            return FEED_TAKEN; /* a register dump inside the trace */
        if (!st->stack || !ex_parse_frame(s, &f))
            return FEED_IGNORED;
        ex_stack_add(st->stack == 1   ? &r->alloc.stack
                     : st->stack == 2 ? &r->free.stack
                                      : &r->trace,
                     &f);
        if (st->stack == 3)
            r->has_trace = true;
    }
    r->kernel_marks |= kernel;
    r->src.last_line = l->no;
    return FEED_TAKEN;
}

/* ---- derived facts -------------------------------------------------------------- */

static void derive_kind(struct ex_report *r)
{
    static const struct {
        const char *words, *kind;
        enum ex_class cls;
    } kinds[] = {
        {"End Poison overwritten", "end_poison_overwritten", CLS_CORRUPTION},
        {"Poison overwritten", "poison_overwritten", CLS_CORRUPTION},
        {"Left Redzone overwritten", "left_redzone_overwritten", CLS_CORRUPTION},
        {"Right Redzone overwritten", "right_redzone_overwritten", CLS_CORRUPTION},
        {"kmalloc Redzone overwritten", "kmalloc_redzone_overwritten", CLS_CORRUPTION},
        {"Redzone overwritten", "redzone_overwritten", CLS_CORRUPTION},
        {"Object padding overwritten", "object_padding_overwritten", CLS_CORRUPTION},
        {"Alignment padding overwritten", "alignment_padding_overwritten", CLS_CORRUPTION},
        {"Padding overwritten", "padding_overwritten", CLS_CORRUPTION},
        {"already free", "already_free", CLS_DOUBLE_FREE},
        {"Invalid object pointer", "invalid_pointer", CLS_INVALID_FREE},
        {"outside of slab", "outside_slab", CLS_INVALID_FREE},
        {"Wrong slab cache", "wrong_cache", CLS_INVALID_FREE},
        {"Freepointer corrupt", "freepointer_corrupt", CLS_CORRUPTION},
        {"Freechain corrupt", "freechain_corrupt", CLS_ALLOCATOR_STATE},
        {"Wrong number of objects", "wrong_count", CLS_ALLOCATOR_STATE},
        {"Objects remaining", "objects_remaining", CLS_LEAK},
        {"Object corrupt", "object_corrupt", CLS_CORRUPTION},
        /* slabdbg's C++ checks (the kinds of its JSON reports) */
        {"Mismatched free", "alloc_dealloc_mismatch", CLS_INVALID_FREE},
        {"Wrong size in sized delete", "sized_delete_mismatch", CLS_INVALID_FREE},
    };
    char reason[300];
    if (r->reason[0])
        ex_copy_str(reason, sizeof(reason), r->reason);
    else if (r->slub.nfaults && r->slub.faults[0].what[0])
        snprintf(reason, sizeof(reason), "%s overwritten", r->slub.faults[0].what);
    else
        reason[0] = 0;
    /* 2025: "Object corrupt" after "[What overwritten]" lines says which */
    if (strstr(reason, "Object corrupt") && r->slub.nfaults && r->slub.faults[0].what[0])
        snprintf(reason, sizeof(reason), "%s overwritten", r->slub.faults[0].what);
    ex_copy_str(r->bug, sizeof(r->bug), reason);
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcasestr(reason, kinds[i].words)) {
            ex_copy_str(r->kind, sizeof(r->kind), kinds[i].kind);
            r->cls = kinds[i].cls;
            return;
        }
    if (r->kind[0])
        return;
    if (!reason[0] && r->slub.nfaults && r->slub.faults[0].has_expected) {
        /* No header: the expected byte says which check it was. */
        unsigned e = r->slub.faults[0].expected;
        ex_copy_str(r->kind, sizeof(r->kind),
                    e == 0x6b || e == 0xa5   ? "poison_overwritten"
                    : e == 0xbb || e == 0xcc ? "redzone_overwritten"
                    : e == 0x5a              ? "padding_overwritten"
                                             : "overwritten");
        r->cls = CLS_CORRUPTION;
        return;
    }
    size_t n = 0;
    for (const char *s = reason; *s && n + 1 < sizeof(r->kind); s++)
        if (isalnum((unsigned char)*s))
            r->kind[n++] = (char)tolower((unsigned char)*s);
        else if (n && r->kind[n - 1] != '_')
            r->kind[n++] = '_';
    while (n && r->kind[n - 1] == '_')
        n--;
    r->kind[n] = 0;
    if (!n)
        ex_copy_str(r->kind, sizeof(r->kind), "unknown");
}

/* Whether an address the report printed is a place: kernel addresses of a
 * 64-bit kernel are >= 0xffff800000000000 (hashed ones, 4.15+ without
 * no_hash_pointers, are 32-bit numbers); a 32-bit kernel's (8 digits) are
 * places when its rows follow each other (hashed rows do not); ours are
 * user-space addresses. */
static bool plausible(const struct ex_report *r, uint64_t a, bool rows_steady)
{
    if (r->origin == ORIGIN_KERNEL) {
        if (r->slub.addr_digits == 8 || (a >> 32) == 0)
            return r->slub.addr_digits == 8 && rows_steady && a >= 0x1000;
        return a >= 0xffff800000000000ull;
    }
    return a >= 0x10000 && a >> 32;
}

/* "Invalid object pointer 0x...", "Attempt to free object(0x...) ...". */
static void derive_pointer(struct ex_report *r)
{
    const char *p = strstr(r->reason, "pointer 0x");
    if (p)
        p += 8;
    else if ((p = strstr(r->reason, "object(0x")))
        p += 7;
    if (p && !r->has_pointer && ex_scan_hex(&p, &r->pointer))
        r->has_pointer = true;
}

static void derive_origin(struct ex_report *r)
{
    const struct ex_slub *sl = &r->slub;
    uint64_t a = r->has_object                            ? r->object
                 : sl->nfaults && sl->faults[0].has_range ? sl->faults[0].start
                 : sl->nrows                              ? sl->rows[0].addr
                 : r->has_pointer                         ? r->pointer
                 : sl->has_slab                           ? sl->slab
                                                          : 0;
    if (r->kernel_marks || a >= 0xffff800000000000ull || strstr(r->taint, "Tainted:"))
        r->origin = ORIGIN_KERNEL;
    else if (a >> 32 && a < 0x800000000000ull)
        r->origin = ORIGIN_SLABDBG;
    else if (sl->nrows || a)
        r->origin = ORIGIN_KERNEL; /* hashed or 32-bit pointers: a kernel's */
}

/* Rows whose addresses are real: placed by address, gaps noticed. */
static void place_by_address(struct ex_report *r)
{
    uint64_t next_obj = r->object;
    for (int i = 0; i < r->slub.nrows; i++) {
        const struct ex_row *row = &r->slub.rows[i];
        int64_t base = (int64_t)(row->addr - r->object);
        if (base < -EX_WIN_LEFT || base >= EX_WIN)
            continue;
        for (int k = 0; k < row->n; k++)
            ex_slub_put_byte(r, base + k, row->b[k]);
        if (row->section == SEC_OBJECT) {
            if (row->addr != next_obj)
                r->missing |= HEXDUMP_GAPS;
            next_obj = row->addr + row->n;
        }
    }
}

/* Rows with hashed addresses: the object's rows follow each other from
 * offset 0, the red zone before them ends at -1, the one after them starts
 * where they end.  Padding cannot be placed. */
static void place_by_order(struct ex_report *r)
{
    struct ex_slub *sl = &r->slub;
    sl->bytes_positional = true;
    int first_obj = -1, last_obj = -1;
    int64_t off = 0;
    for (int i = 0; i < sl->nrows; i++) {
        if (sl->rows[i].section != SEC_OBJECT)
            continue;
        if (first_obj < 0)
            first_obj = i;
        last_obj = i;
        sl->rows[i].placed = true;
        sl->rows[i].pos = (int32_t)off;
        for (int k = 0; k < sl->rows[i].n; k++)
            ex_slub_put_byte(r, off++, sl->rows[i].b[k]);
    }
    if (first_obj < 0)
        return;
    int64_t end = off, left = 0;
    for (int i = first_obj - 1; i >= 0 && sl->rows[i].section != SEC_OBJECT; i--) {
        if (sl->rows[i].section == SEC_PADDING || sl->rows[i].section == SEC_BYTES_B4)
            break;
        for (int k = sl->rows[i].n - 1; k >= 0; k--)
            ex_slub_put_byte(r, --left, sl->rows[i].b[k]);
        sl->rows[i].placed = true;
        sl->rows[i].pos = (int32_t)left;
    }
    for (int i = last_obj + 1; i < sl->nrows && sl->rows[i].section == SEC_REDZONE; i++) {
        sl->rows[i].placed = true;
        sl->rows[i].pos = (int32_t)off;
        for (int k = 0; k < sl->rows[i].n; k++)
            ex_slub_put_byte(r, off++, sl->rows[i].b[k]);
    }
    if (!r->has_object_size && sl->rows[last_obj].n) {
        /* the object rows end at the object's end when the poison's last
         * byte (0xa5) or the right red zone follows */
        const struct ex_row *lr = &sl->rows[last_obj];
        if (lr->b[lr->n - 1] == 0xa5 ||
            (last_obj + 1 < sl->nrows && sl->rows[last_obj + 1].section == SEC_REDZONE)) {
            r->has_object_size = true;
            r->object_size = (uint64_t)end;
            r->size_source = "hexdump";
        }
    }
}

static void derive_size_from_rows(struct ex_report *r)
{
    const struct ex_slub *sl = &r->slub;
    uint64_t obj_end = 0;
    bool seen_obj = false;
    for (int i = 0; i < sl->nrows; i++) {
        const struct ex_row *row = &sl->rows[i];
        if (row->section == SEC_OBJECT) {
            seen_obj = true;
            obj_end = row->addr + row->n;
        } else if (seen_obj && row->section == SEC_REDZONE && row->addr > r->object &&
                   row->addr - r->object < (1u << 24)) {
            r->has_object_size = true;
            r->object_size = row->addr - r->object;
            r->size_source = "hexdump";
            return;
        }
    }
    uint8_t last;
    if (seen_obj && obj_end > r->object && obj_end - r->object < (1u << 24) &&
        !(r->missing & HEXDUMP_GAPS) &&
        ex_slub_byte(r, (int64_t)(obj_end - r->object) - 1, &last) && last == 0xa5) {
        r->has_object_size = true;
        r->object_size = obj_end - r->object;
        r->size_source = "hexdump";
    }
}

static void derive_bytes(struct ex_report *r)
{
    struct ex_slub *sl = &r->slub;
    if (!sl->nrows) {
        r->missing |= MISS_HEXDUMP;
        return;
    }
    int first_obj = -1;
    bool steady = true;
    uint64_t next = 0;
    for (int i = 0; i < sl->nrows; i++) {
        if (sl->rows[i].section != SEC_OBJECT)
            continue;
        if (first_obj < 0)
            first_obj = i;
        else if (sl->rows[i].addr <= sl->rows[first_obj].addr ||
                 (sl->rows[i].addr - sl->rows[first_obj].addr) % 16)
            steady = false;
        if (first_obj != i && sl->rows[i].addr != next && sl->addr_digits == 8)
            steady = false; /* 32-bit: consecutive rows, or hashed */
        next = sl->rows[i].addr + sl->rows[i].n;
    }
    if (first_obj < 0) {
        r->missing |= MISS_HEXDUMP;
        return;
    }
    if (!sl->addr_digits)
        sl->addr_digits = r->origin == ORIGIN_KERNEL && sl->rows[first_obj].addr >> 32 ? 16 : 0;
    uint64_t a0 = sl->rows[first_obj].addr;
    bool real;
    if (r->has_object && plausible(r, r->object, steady))
        real = a0 == r->object ||
               (steady && plausible(r, a0, steady) && a0 > r->object && a0 - r->object < EX_WIN);
    else
        real = steady && plausible(r, a0, steady);
    if (real && !(r->has_object && plausible(r, r->object, steady))) {
        /* No usable Object line: the dump of the object starts at it. */
        r->has_object = true;
        r->object = a0;
    }
    r->hashed = r->origin == ORIGIN_KERNEL && !real;
    if (real) {
        place_by_address(r);
        if (!r->has_object_size)
            derive_size_from_rows(r);
    } else {
        place_by_order(r);
    }
}

static void derive_fault(struct ex_report *r, struct ex_fault *f)
{
    /* hashing makes the start and end of a range unrelated: a short range is
     * a real one (a 32-bit kernel's raw pointers, when no rows told) */
    bool range = f->has_range && f->end >= f->start &&
                 (r->hashed ? f->end - f->start < 4096 && !r->slub.nrows && r->slub.addr_digits == 8
                            : f->end - f->start < (1u << 20));
    if (!f->has_obj_off && range && r->has_object && !r->hashed &&
        f->start + EX_WIN_LEFT >= r->object && f->start < r->object + (1u << 24)) {
        f->has_obj_off = true;
        f->obj_off = (int64_t)(f->start - r->object);
        f->off_source = "addresses";
    }
    if (!f->has_obj_off && r->hashed && f->has_range) {
        /* hashed pointers hash alike: the row printed at the fault's start */
        for (int i = 0; i < r->slub.nrows; i++)
            if (r->slub.rows[i].placed && r->slub.rows[i].addr == f->start) {
                f->has_obj_off = true;
                f->obj_off = r->slub.rows[i].pos;
                f->off_source = "hexdump row at the same (hashed) address";
                break;
            }
    }
    if (!f->has_obj_off && f->has_slab_off && r->slub.has_object_slab_off) {
        f->has_obj_off = true;
        f->obj_off = (int64_t)f->slab_off - (int64_t)r->slub.object_slab_off;
        f->off_source = "@offset";
    }
    if (!f->has_length && range) {
        f->has_length = true;
        f->length = f->end - f->start + 1;
    }
    if (!f->has_length && f->has_obj_off && f->has_expected) {
        /* Hashed range: the bytes that differ from what was expected, from
         * the first one on. */
        uint64_t n = 0, max = 4096;
        uint8_t v;
        if (f->obj_off < 0)
            max = (uint64_t)-f->obj_off; /* the left red zone ends where the object starts */
        while (n < max && ex_slub_byte(r, f->obj_off + (int64_t)n, &v) && v != f->expected)
            n++;
        if (n) {
            f->has_length = true;
            f->length = n;
        }
    }
}

/* The common facts of the model, from the SLUB-specific ones. */
static void derive_common(struct ex_report *r)
{
    if (!r->has_object_size) {
        uint64_t n;
        if (ex_kmalloc_size(r->cache, &n)) {
            r->has_object_size = true;
            r->object_size = n;
            r->size_source = "cache name";
        }
    }
    if (r->slub.nfaults && r->slub.faults[0].has_obj_off) {
        const struct ex_fault *f = &r->slub.faults[0];
        if (f->obj_off < 0) {
            r->rel = REL_LEFT;
            r->has_rel_dist = true;
            r->rel_dist = (uint64_t)-f->obj_off;
        } else if (r->has_object_size && (uint64_t)f->obj_off >= r->object_size) {
            r->rel = REL_RIGHT;
            r->has_rel_dist = true;
            r->rel_dist = (uint64_t)f->obj_off - r->object_size;
        } else {
            r->rel = REL_INSIDE;
            r->has_rel_dist = true;
            r->rel_dist = (uint64_t)f->obj_off;
        }
        r->access = ACC_WRITE; /* SLUB finds writes */
        if (f->has_length) {
            r->has_access_size = true;
            r->access_size = f->length;
        }
        if (f->has_range && !r->hashed) {
            r->has_addr = true;
            r->addr = f->start;
        }
    }
    if (r->has_pointer && !r->has_addr) {
        r->has_addr = true;
        r->addr = r->pointer;
        r->access = ACC_FREE;
    }
}

void ex_slub_derive(struct ex_report *r)
{
    derive_pointer(r);
    derive_origin(r);
    derive_kind(r);
    derive_bytes(r);
    /* without object rows: a 64-bit kernel's Object line printed with its
     * upper half zero is a hashed pointer */
    if (!r->hashed && r->origin == ORIGIN_KERNEL && r->slub.addr_digits == 16 && r->has_object &&
        r->object >> 32 == 0)
        r->hashed = true;
    for (int i = 0; i < r->slub.nfaults; i++)
        derive_fault(r, &r->slub.faults[i]);
    derive_common(r);
    bool bytes_kind = strstr(r->kind, "overwritten") != NULL;
    if (bytes_kind && !r->slub.nfaults)
        r->missing |= MISS_FAULT;
    ex_mark_missing(r, strcmp(r->kind, "padding_overwritten") && strcmp(r->kind, "wrong_count"));
    if (!r->slub.nfix)
        r->missing |= MISS_FIX;
}

static void slub_close(void *state)
{
    struct slub_state *st = state;
    struct ex_report *r = st->r;
    if (!st->has_header && !r->slub.nfaults && !r->alloc.present && !r->free.present &&
        !r->has_object && !r->slub.has_slab) {
        r->src.discarded = true; /* a stray hexdump row is no report */
        return;
    }
    ex_slub_derive(r);
}

const struct ex_parser ex_parser_slub = {
    .name = "slub",
    .state_size = sizeof(struct slub_state),
    .begins = slub_begins,
    .open = slub_open,
    .feed = slub_feed,
    .close = slub_close,
};

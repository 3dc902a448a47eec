/*
 * KASAN reports, generic and tag-based (software and hardware tags), from
 * 4.x to 6.x wording:
 *
 *   ==================================================================
 *   BUG: KASAN: slab-use-after-free in foo+0x1c/0x60 net/x.c:123
 *   Read of size 8 at addr ffff888012345678 by task syz/1234
 *   Pointer tag: [f9], memory tag: [fe]                 (tag-based)
 *   CPU: ... Call Trace: <the access>
 *   Allocated by task 1234:  <stack>
 *   Freed by task 1234:      <stack>
 *   Last potentially related work creation:  <stack>  (also "call_rcu()")
 *   The buggy address belongs to the object at ffff888012345600
 *    which belongs to the cache kmalloc-512 of size 512
 *   The buggy address is located 120 bytes inside of
 *    [freed ]512-byte region [ffff888012345600, ffff888012345800)
 *   The buggy address belongs to the physical page: <page dump>
 *   Memory state around the buggy address: <shadow or tag rows>
 *   ==================================================================
 *
 * Older reports put "at addr" in the header, print "Object at X, in cache C
 * size: N", or (4.0-4.4) a whole SLUB object report inside the KASAN one.
 * Other places are described too: a stack frame, a global variable, a
 * vmalloc area.  Shadow rows are never taken for a memory dump.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "parse/parse.h"
#include "parse/slub.h"

enum kasan_section {
    S_HEAD,   /* header and access lines */
    S_ACCESS, /* the stack of the access */
    S_ALLOC,
    S_FREE,
    S_AUX,
    S_PAGE,     /* the page dump and its page_owner stacks */
    S_LOCATION, /* the line after "located ... in frame:", "belongs to the variable:" */
    S_SHADOW,
    S_OTHER,
};

struct kasan_state {
    int frame_objects; /* after "this frame has N objects:": 1 + those read */
    struct ex_report *r;
    enum kasan_section sec;
    struct ex_track *track; /* where stack lines go in S_ALLOC/S_FREE/S_AUX */
    bool access_seen, object_pending, region_pending, shadow_seen;
};

static bool kasan_header(const char *s, const char **rest)
{
    if (ex_starts(s, "BUG: KASAN: ")) {
        *rest = s + 12;
        return true;
    }
    if (ex_starts(s, "BUG: KASan: ")) { /* 4.0-4.3 */
        *rest = s + 12;
        return true;
    }
    if (ex_starts(s, "BUG: AddressSanitizer: ")) { /* 3.x prototypes */
        *rest = s + 23;
        return true;
    }
    return false;
}

static enum ex_begin kasan_begins(const struct ex_line *l)
{
    const char *rest;
    return kasan_header(l->text, &rest) ? BEGIN_STRONG : BEGIN_NO;
}

/* The bug as printed ("slab-use-after-free", "use after free") into the
 * report's kind and class. */
static void take_bug(struct ex_report *r, const char *bug, size_t n)
{
    ex_copy(r->bug, sizeof(r->bug), bug, n);
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < sizeof(r->kind); i++)
        r->kind[k++] = isalnum((unsigned char)bug[i]) ? (char)tolower((unsigned char)bug[i]) : '_';
    r->kind[k] = 0;
    const char *b = r->kind;
    if (strstr(b, "double_free"))
        r->cls = CLS_DOUBLE_FREE;
    else if (strstr(b, "invalid_free"))
        r->cls = CLS_INVALID_FREE;
    else if (strstr(b, "use_after_free") || strstr(b, "use_after_scope"))
        r->cls = CLS_USE_AFTER_FREE;
    else if (strstr(b, "out_of_bounds"))
        r->cls = CLS_OUT_OF_BOUNDS;
    else if (strstr(b, "null_ptr_deref"))
        r->cls = CLS_NULL_DEREF;
    else if (strstr(b, "wild_memory_access") || strstr(b, "user_memory_access"))
        r->cls = CLS_WILD_ACCESS;
    else if (strstr(b, "invalid_access"))
        r->cls = CLS_INVALID_ACCESS;
    if (r->cls == CLS_DOUBLE_FREE || r->cls == CLS_INVALID_FREE)
        r->access = ACC_FREE;
}

/* "slab-use-after-free in foo+0x1c/0x60 net/x.c:123", "use-after-free in
 * f+0x1/0x2 at addr ffff...", "invalid-access" (asynchronous). */
static void take_header(struct ex_report *r, const char *rest)
{
    const char *in = strstr(rest, " in ");
    size_t n = in ? (size_t)(in - rest) : strcspn(rest, " ");
    if (!r->bug[0])
        take_bug(r, rest, n);
    if (!in)
        return;
    struct ex_frame f;
    char buf[512];
    ex_copy_str(buf, sizeof(buf), in + 4);
    char *at = strstr(buf, " at addr ");
    if (at) {
        const char *p = at + strlen(" at addr ");
        uint64_t a;
        if (ex_scan_hex(&p, &a)) {
            r->has_addr = true;
            r->addr = a;
        }
        *at = 0;
    }
    /* inline frames come first, each on its own header line: keep the
     * outermost (the last) that is not inline, else the first */
    if (ex_parse_frame(buf, &f) && (!r->has_where || !f.inlined)) {
        r->where = f;
        r->has_where = true;
    }
}

/* "Read of size 8 at addr ffff... by task syz/1234", "Write at addr ...",
 * "Free of addr ...", the old "Read of size 8 by task x/1". */
static bool access_line(struct ex_report *r, const char *s)
{
    const char *p;
    if (ex_starts(s, "Read ")) {
        r->access = ACC_READ;
        p = s + 5;
    } else if (ex_starts(s, "Write ")) {
        r->access = ACC_WRITE;
        p = s + 6;
    } else if (ex_starts(s, "Free of addr ")) {
        r->access = ACC_FREE;
        p = s + 5;
    } else {
        return false;
    }
    if (!ex_starts(p, "of size ") && !ex_starts(p, "at addr ") && !ex_starts(p, "of addr "))
        return false;
    long long n;
    if (ex_starts(p, "of size ") && (p += 8, ex_scan_dec(&p, &n)) && n > 0) {
        r->has_access_size = true;
        r->access_size = (uint64_t)n;
    }
    const char *a = strstr(p, "addr ");
    uint64_t addr;
    if (a && (a += 5, ex_scan_hex(&a, &addr))) {
        r->has_addr = true;
        r->addr = addr;
    }
    const char *t = strstr(p, " by task ");
    if (t) {
        t += strlen(" by task ");
        const char *slash = strrchr(t, '/');
        if (slash && slash > t) {
            ex_copy(r->comm, sizeof(r->comm), t, (size_t)(slash - t));
            const char *q = slash + 1;
            if (ex_scan_dec(&q, &r->pid))
                r->has_task = true;
        }
    }
    return true;
}

/* "Allocated by task 2760:", "Freed by task 815:", "Allocated:" (4.9),
 * "Last potentially related work creation:", "Second to last call_rcu():". */
static struct ex_track *track_header(struct ex_report *r, const char *s)
{
    struct ex_track *t = NULL;
    const char *label_end = NULL;
    if (ex_starts(s, "Allocated by task ") || !strcmp(s, "Allocated:")) {
        t = &r->alloc;
        label_end = s + 9;
    } else if (ex_starts(s, "Freed by task ") || !strcmp(s, "Freed:")) {
        t = &r->free;
        label_end = s + 5;
    } else if ((ex_starts(s, "Last ") || ex_starts(s, "Second to last ")) &&
               s[strlen(s) - 1] == ':' &&
               (strstr(s, "work creation") || strstr(s, "call_rcu") || strstr(s, "timer") ||
                strstr(s, "related"))) {
        if (r->naux == 2)
            return NULL;
        t = &r->aux[r->naux++];
        label_end = s + strlen(s) - 1;
    } else {
        return NULL;
    }
    memset(t, 0, sizeof(*t));
    t->present = true;
    ex_copy(t->label, sizeof(t->label), s, (size_t)(label_end - s));
    const char *p = strstr(s, " task ");
    if (p) {
        p += 6;
        if (ex_scan_dec(&p, &t->pid))
            t->has_pid = true;
        const char *cpu = strstr(p, " on cpu ");
        long long c;
        if (cpu && (cpu += 8, ex_scan_dec(&cpu, &c)) && c >= 0 && c < 1 << 20) {
            t->has_cpu = true;
            t->cpu = (int)c;
        }
    }
    return t;
}

/* "The buggy address belongs to the object at ffff8801f44ec300" and its
 * second line " which belongs to the cache kmalloc-128 of size 128". */
static bool object_lines(struct kasan_state *st, const char *s)
{
    struct ex_report *r = st->r;
    const char *p;
    long long n;
    if (ex_starts(s, "The buggy address belongs to the object at ")) {
        p = s + strlen("The buggy address belongs to the object at ");
        if (ex_scan_hex(&p, &r->object))
            r->has_object = true;
        st->object_pending = true;
        return true;
    }
    if (ex_starts(s, "which belongs to the cache ")) {
        p = s + strlen("which belongs to the cache ");
        const char *of = strstr(p, " of size ");
        ex_copy(r->cache, sizeof(r->cache), p, of ? (size_t)(of - p) : strcspn(p, " "));
        if (of && (of += 9, ex_scan_dec(&of, &n)) && n > 0) {
            r->has_object_size = true;
            r->object_size = (uint64_t)n;
            r->size_source = "report";
        }
        st->object_pending = false;
        return true;
    }
    /* 4.9: "Object at ffff88006a4a9300, in cache kmalloc-96 size: 96" */
    if (ex_starts(s, "Object at ")) {
        p = s + 10;
        if (ex_scan_hex(&p, &r->object))
            r->has_object = true;
        const char *c = strstr(p, "in cache ");
        if (c) {
            c += 9;
            ex_copy(r->cache, sizeof(r->cache), c, strcspn(c, " "));
        }
        const char *z = strstr(p, "size: ");
        if (z && (z += 6, ex_scan_dec(&z, &n)) && n > 0) {
            r->has_object_size = true;
            r->object_size = (uint64_t)n;
            r->size_source = "report";
        }
        return true;
    }
    /* "The buggy address is located 123 bytes inside of" and its second line
     * " [freed |allocated ]128-byte region [start, end)" */
    if (ex_starts(s, "The buggy address is located ")) {
        p = s + strlen("The buggy address is located ");
        if (ex_scan_dec(&p, &n) && n >= 0) {
            r->has_rel_dist = true;
            r->rel_dist = (uint64_t)n;
        }
        r->rel = strstr(p, "inside")              ? REL_INSIDE
                 : strstr(p, "to the right")      ? REL_RIGHT
                 : strstr(p, "to the left")       ? REL_LEFT
                                                  : REL_UNKNOWN;
        st->region_pending = true;
        return true;
    }
    if (st->region_pending && strstr(s, "-byte region [")) {
        p = s;
        if (ex_starts(p, "freed ") || ex_starts(p, "allocated ")) {
            ex_copy(r->region_state, sizeof(r->region_state), p, strcspn(p, " "));
            p += strcspn(p, " ") + 1;
        }
        if (ex_scan_dec(&p, &n) && n > 0 && !r->has_object_size) {
            r->has_object_size = true;
            r->object_size = (uint64_t)n;
            r->size_source = "report";
        }
        const char *b = strchr(p, '[');
        uint64_t start;
        if (b && (b++, ex_scan_hex(&b, &start)) && !r->has_object) {
            r->has_object = true;
            r->object = start;
        }
        st->region_pending = false;
        return true;
    }
    return false;
}

static void append_location(struct ex_report *r, const char *sep, const char *s)
{
    size_t n = strlen(r->location);
    if (n + strlen(sep) + 1 < sizeof(r->location))
        snprintf(r->location + n, sizeof(r->location) - n, "%s%s", sep, s);
}

/* Places that are not slab objects: a stack frame and its objects, a
 * global, a vmalloc area. */
static bool location_lines(struct kasan_state *st, const char *s)
{
    struct ex_report *r = st->r;
    if (strstr(s, "is located in stack of task") || ex_starts(s, "The buggy address belongs to stack of task") ||
        ex_starts(s, "The buggy address belongs to the variable:") ||
        ex_starts(s, "The buggy address belongs to the virtual mapping at") ||
        (ex_starts(s, "The buggy address belongs to a ") && strstr(s, "vmalloc region"))) {
        ex_copy_str(r->location, sizeof(r->location), s);
        /* a vmalloc line that names its allocator is whole */
        st->sec = strstr(s, "allocated at ") && strchr(s, '+') ? S_OTHER : S_LOCATION;
        st->frame_objects = 0;
        return true;
    }
    if (ex_starts(s, "this frame has") || ex_starts(s, "This frame has")) {
        append_location(r, "; ", s);
        st->sec = S_LOCATION;
        st->frame_objects = 1;
        return true;
    }
    if (st->sec != S_LOCATION)
        return false;
    /* what follows the place is not part of it */
    if (ex_starts(s, "The buggy address") || ex_starts(s, "Memory state") ||
        ex_starts(s, "page") || ex_starts(s, "flags:") || ex_starts(s, "raw:") ||
        ex_starts(s, "addr ") || ex_starts(s, "=====")) {
        st->sec = S_OTHER;
        return false;
    }
    if (!*s)
        return true;
    if (st->frame_objects) {
        /* " [32, 48) 'trace'": the frame's objects, a few */
        if (s[0] != '[' || st->frame_objects > 4) {
            st->sec = S_OTHER;
            return false;
        }
        append_location(r, st->frame_objects++ == 1 ? " " : ", ", s);
        return true;
    }
    append_location(r, " ", s);
    if (ex_starts(s, "and is located") || ex_starts(s, "[")) /* wrapped: wait for the frame */
        return true;
    if (!strchr(s, '+'))
        return true;
    st->sec = S_OTHER;
    return true;
}

/* " ffff8801f44ec200: fc fc ..." and the marked ">ffff8801f44ec300: ..." */
static bool shadow_row(struct ex_report *r, const char *s)
{
    bool marked = *s == '>';
    const char *p = marked ? s + 1 : s;
    int digits = ex_hex_digits(p);
    if (digits != 8 && digits != 16)
        return false;
    struct ex_shadow_row row;
    memset(&row, 0, sizeof(row));
    if (!ex_scan_hex(&p, &row.addr) || *p != ':')
        return false;
    p++;
    while (row.n < sizeof(row.b) && p[0] == ' ' && ex_hex_digits(p + 1) == 2) {
        uint64_t v;
        p++;
        ex_scan_hex(&p, &v);
        row.b[row.n++] = (uint8_t)v;
    }
    if (!row.n)
        return false;
    row.marked = marked;
    if (r->nshadow < EX_SHADOW_ROWS)
        r->shadow[r->nshadow++] = row;
    return true;
}

/* The caret under the marked row points at the access's granule, which the
 * access address gives as well. */
static bool caret_line(struct ex_report *r, const char *text)
{
    return text[0] == '^' && !text[1] && r->nshadow;
}

static bool kasan_open(void *state, struct ex_model *m, const struct ex_line *l)
{
    struct kasan_state *st = state;
    st->r = ex_new_report(m);
    if (!st->r)
        return false;
    struct ex_report *r = st->r;
    ex_src_init(&r->src, FMT_KASAN, l);
    r->origin = ORIGIN_KERNEL;
    const char *rest;
    kasan_header(l->text, &rest);
    take_header(r, rest);
    return true;
}

static bool foreign_start(const char *s)
{
    return ex_starts(s, "BUG: ") || ex_starts(s, "general protection fault") ||
           ex_starts(s, "Oops: general protection") || ex_starts(s, "Kernel panic") ||
           ex_starts(s, "Unable to handle kernel") || ex_starts(s, "kernel BUG at") ||
           ex_starts(s, "------------[ cut here ]") || ex_starts(s, "WARNING: ") ||
           ex_starts(s, "crash> ");
}

static enum ex_feed kasan_feed(void *state, const struct ex_line *l)
{
    struct kasan_state *st = state;
    struct ex_report *r = st->r;
    const char *s = l->text;
    const char *rest;
    struct ex_track t;
    struct ex_frame f;
    struct ex_reg regs[8];
    bool alloc;
    if (!*s) {
        if (st->sec == S_ACCESS || st->sec == S_ALLOC || st->sec == S_FREE || st->sec == S_AUX)
            st->sec = S_OTHER;
        return FEED_IGNORED;
    }
    if (kasan_header(s, &rest)) {
        if (st->access_seen || st->sec != S_HEAD)
            return FEED_ENDED; /* a new report */
        take_header(r, rest);  /* one header line per inlined frame */
    } else if (ex_starts(s, "=====")) {
        if (strlen(s) >= 70) /* SLUB's separator: its report inside an old KASAN one */
            return FEED_TAKEN;
        r->src.last_line = l->no;
        return FEED_DONE;
    } else if (foreign_start(s)) {
        r->missing |= MISS_END;
        return FEED_ENDED;
    } else if (!st->access_seen && access_line(r, s)) {
        st->access_seen = true;
    } else if (ex_starts(s, "Pointer tag: [")) {
        const char *p = s + strlen("Pointer tag: [");
        uint64_t pt, mt;
        const char *m = strstr(p, "memory tag: [");
        if (ex_scan_hex(&p, &pt) && m && (m += strlen("memory tag: ["), ex_scan_hex(&m, &mt))) {
            r->has_tags = true;
            r->ptr_tag = (unsigned)pt & 0xff;
            r->mem_tag = (unsigned)mt & 0xff;
        }
    } else if (ex_starts(s, "Asynchronous fault")) {
        ex_copy_str(r->location, sizeof(r->location), s);
    } else if (ex_task_line(s, &r->cpu, &r->pid, r->comm, sizeof(r->comm), r->release,
                            sizeof(r->release))) {
        r->has_task = r->has_cpu = true;
        st->sec = S_ACCESS; /* 32-bit arm prints its trace without "Call trace:" */
    } else if (ex_starts(s, "Call Trace:") || ex_starts(s, "Call trace:")) {
        r->has_trace = true;
        st->sec = S_ACCESS;
    } else if (st->sec != S_PAGE && track_header(r, s)) {
        /* the header of a stack: find which */
        st->track = !strcmp(s, "Allocated:") || ex_starts(s, "Allocated by") ? &r->alloc
                    : !strcmp(s, "Freed:") || ex_starts(s, "Freed by")   ? &r->free
                                                                          : &r->aux[r->naux - 1];
        st->sec = st->track == &r->alloc ? S_ALLOC : st->track == &r->free ? S_FREE : S_AUX;
    } else if (ex_starts(s, "PID = ") && (st->sec == S_ALLOC || st->sec == S_FREE)) {
        const char *p = s + 6; /* 4.9: "Allocated:\nPID = 3891" */
        if (ex_scan_dec(&p, &st->track->pid))
            st->track->has_pid = true;
    } else if (ex_slub_track_line(ex_starts(s, "INFO: ") ? s + 6 : s, &t, &alloc)) {
        struct ex_track *dst = alloc ? &r->alloc : &r->free; /* 4.0-4.4: SLUB's tracks */
        if (!dst->present)
            *dst = t;
        st->track = dst;
        st->sec = alloc ? S_ALLOC : S_FREE;
    } else if (ex_starts(s, "BUG ") && strstr(s, "): kasan:")) {
        char taint[64];
        const char *reason;
        ex_slub_header(s, r->cache, sizeof(r->cache), taint, sizeof(taint), &reason);
    } else if (ex_starts(s, "INFO: Object 0x") || ex_starts(s, "Object 0x")) {
        const char *p = strstr(s, "Object 0x") + 7;
        uint64_t a;
        if (!r->has_object && ex_scan_hex(&p, &a) && *p != ':') {
            r->has_object = true;
            r->object = a;
        }
    } else if (object_lines(st, s)) {
        st->sec = S_OTHER;
    } else if (location_lines(st, s)) {
        /* taken */
    } else if (ex_starts(s, "The buggy address belongs to the page:") ||
               ex_starts(s, "The buggy address belongs to the physical page:")) {
        st->sec = S_PAGE;
    } else if (st->sec == S_PAGE && (ex_starts(s, "page:") || ex_starts(s, "page ")) && !r->page[0]) {
        ex_copy_str(r->page, sizeof(r->page), s);
    } else if (ex_starts(s, "Memory state around the buggy address:")) {
        st->sec = S_SHADOW;
        st->shadow_seen = true;
    } else if (st->sec == S_SHADOW && shadow_row(r, s)) {
        /* taken */
    } else if (st->sec == S_SHADOW && caret_line(r, s)) {
        /* taken */
    } else if (ex_is_stack_marker(s)) {
        /* taken */
    } else if ((st->sec == S_ACCESS || st->sec == S_ALLOC || st->sec == S_FREE ||
                st->sec == S_AUX) &&
               ex_parse_frame(s, &f)) {
        if (st->sec == S_ACCESS)
            ex_stack_add(&r->trace, &f);
        else
            ex_stack_add(&st->track->stack, &f);
    } else if (st->sec == S_PAGE && ex_parse_frame(s, &f)) {
        /* page_owner's stacks: not the object's */
    } else if (ex_starts(s, "RIP: ") || ex_starts(s, "Code: ") || ex_regs_line(s, regs, 8) > 0) {
        /* the user-mode registers at the bottom of the access stack */
    } else if (ex_starts(s, "(stack is not available)")) {
        /* taken */
    } else {
        return FEED_IGNORED;
    }
    r->src.last_line = l->no;
    return FEED_TAKEN;
}

static void kasan_close(void *state)
{
    struct kasan_state *st = state;
    struct ex_report *r = st->r;
    if (!r->mode[0]) {
        bool tagged = r->has_tags || (r->has_addr && (r->addr >> 56) != 0xff && (r->addr >> 56) != 0 &&
                                      (r->addr >> 48) != 0xdfff);
        bool hw = false, sw = false;
        for (int i = 0; i < r->trace.n; i++) {
            hw |= strstr(r->trace.f[i].func, "tag_check_fault") != NULL ||
                  strstr(r->trace.f[i].func, "mte_") != NULL;
            sw |= strstr(r->trace.f[i].func, "hwasan") != NULL ||
                  strstr(r->trace.f[i].func, "kasan_tag_mismatch") != NULL;
        }
        if (ex_starts(r->location, "Asynchronous fault"))
            hw = true;
        ex_copy_str(r->mode, sizeof(r->mode),
                    hw ? "hw-tags" : sw ? "sw-tags" : tagged || !strcmp(r->kind, "invalid_access") ? "tags" : "generic");
    }
    if (!r->has_object_size) {
        uint64_t n;
        if (r->cache[0] && ex_kmalloc_size(r->cache, &n)) {
            r->has_object_size = true;
            r->object_size = n;
            r->size_source = "cache name";
        }
    }
    /* a tag mismatch on memory tagged 0xfe (freed) is a use after free */
    if (r->cls == CLS_INVALID_ACCESS && r->has_tags && r->mem_tag == 0xfe)
        r->cls = CLS_USE_AFTER_FREE;
    ex_mark_missing(r, !r->location[0] && r->cls != CLS_NULL_DEREF && r->cls != CLS_WILD_ACCESS);
}

const struct ex_parser ex_parser_kasan = {
    .name = "kasan",
    .state_size = sizeof(struct kasan_state),
    .begins = kasan_begins,
    .open = kasan_open,
    .feed = kasan_feed,
    .close = kasan_close,
};

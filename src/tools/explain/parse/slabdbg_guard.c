/*
 * slabdbg's guard-mode and sampling reports, in text: the SLUB header with
 * the access in words, and an "Access at" line that places it.
 *
 *   BUG kmalloc-1024 (Not tainted): use-after-free write in drv_fib_complete+0x17/0x24
 *   Access at 0x7fe466403ec8: object 0x7fe466403c00 (1024 bytes) offset 0x2c8 (712), freed
 *   Allocated in ... / Freed in ... (with their stacks)
 *   CPU: 0 PID: 26191 Comm: seed Not tainted
 *   Call Trace: <the code that made the access>
 *   Guard: the process ends with the fault's signal (...)
 *
 * Also "out-of-bounds write right (or left) of the object (found at free)" (a write
 * into a kmalloc object's slack, seen when it is freed), "double free" and
 * "invalid free of 0x...".  Guard faults cannot tell the access's size.
 */
#include <stdio.h>
#include <string.h>

#include "parse/parse.h"
#include "parse/slub.h"

struct guard_state {
    struct ex_report *r;
    int stack; /* 0 none, 1 alloc, 2 free, 3 the access */
};

bool ex_guard_reason(const char *reason)
{
    return ex_starts(reason, "use-after-free read") || ex_starts(reason, "use-after-free write") ||
           ex_starts(reason, "out-of-bounds read") || ex_starts(reason, "out-of-bounds write") ||
           !strcmp(reason, "double free") || ex_starts(reason, "invalid free of 0x");
}

static enum ex_begin guard_begins(const struct ex_line *l)
{
    char cache[EX_NAME_MAX], taint[64];
    const char *reason;
    if (ex_slub_header(l->text, cache, sizeof(cache), taint, sizeof(taint), &reason) &&
        ex_guard_reason(reason))
        return BEGIN_STRONG;
    return BEGIN_NO;
}

/* The header's reason: the kind, the class, the access and where. */
static void take_reason(struct ex_report *r, const char *reason)
{
    ex_copy_str(r->reason, sizeof(r->reason), reason);
    bool freed = ex_starts(reason, "use-after-free");
    const char *p = reason;
    if (ex_starts(p, "double free")) {
        ex_copy_str(r->kind, sizeof(r->kind), "double_free");
        ex_copy_str(r->bug, sizeof(r->bug), "double free");
        r->cls = CLS_DOUBLE_FREE;
        r->access = ACC_FREE;
        return;
    }
    if (ex_starts(p, "invalid free of ")) {
        p += strlen("invalid free of ");
        ex_copy_str(r->kind, sizeof(r->kind), "invalid_free");
        ex_copy_str(r->bug, sizeof(r->bug), "invalid free");
        r->cls = CLS_INVALID_FREE;
        r->access = ACC_FREE;
        if (ex_scan_hex(&p, &r->pointer)) {
            r->has_pointer = true;
            r->has_addr = true;
            r->addr = r->pointer;
        }
        return;
    }
    p += strlen(freed ? "use-after-free " : "out-of-bounds ");
    bool write = ex_starts(p, "write");
    r->access = write ? ACC_WRITE : ACC_READ;
    r->cls = freed ? CLS_USE_AFTER_FREE : CLS_OUT_OF_BOUNDS;
    snprintf(r->bug, sizeof(r->bug), "%s %s", freed ? "use-after-free" : "out-of-bounds",
             write ? "write" : "read");
    snprintf(r->kind, sizeof(r->kind), "%s_%s", freed ? "use_after_free" : "out_of_bounds",
             write ? "write" : "read");
    const char *in = strstr(p, " in ");
    if (in && ex_parse_frame(in + 4, &r->where))
        r->has_where = true;
    if (strstr(p, "right of the object"))
        r->rel = REL_RIGHT;
    else if (strstr(p, "left of the object"))
        r->rel = REL_LEFT;
    if (strstr(p, "(found at free)"))
        r->found_later = true;
}

/* "Access at 0x...: object 0x... (1024 bytes) offset 0x2c8 (712), freed",
 * "... (1024 bytes) 1 byte left of it", "... 0 bytes right of its end". */
static bool access_line(struct ex_report *r, const char *s)
{
    if (!ex_starts(s, "Access at 0x"))
        return false;
    const char *p = s + strlen("Access at ");
    if (!ex_scan_hex(&p, &r->addr))
        return true;
    r->has_addr = true;
    const char *o = strstr(p, ": object 0x");
    if (!o)
        return true;
    p = o + strlen(": object ");
    if (ex_scan_hex(&p, &r->object))
        r->has_object = true;
    long long n;
    p = ex_skip_ws(p);
    if (*p == '(' && (p++, ex_scan_dec(&p, &n)) && n > 0) {
        r->has_object_size = true;
        r->object_size = (uint64_t)n;
        r->size_source = "report";
    }
    const char *q;
    if ((q = strstr(p, " offset 0x"))) {
        q += strlen(" offset ");
        uint64_t off;
        if (ex_scan_hex(&q, &off)) {
            r->rel = REL_INSIDE;
            r->has_rel_dist = true;
            r->rel_dist = off;
        }
    } else if ((q = strstr(p, ") ")) && (q += 2, ex_scan_dec(&q, &n)) && n >= 0) {
        if (strstr(q, "left of it"))
            r->rel = REL_LEFT;
        else if (strstr(q, "right of its end"))
            r->rel = REL_RIGHT;
        if (r->rel != REL_UNKNOWN) {
            r->has_rel_dist = true;
            r->rel_dist = (uint64_t)n;
        }
    }
    if (strstr(p, ", freed"))
        ex_copy_str(r->region_state, sizeof(r->region_state), "freed");
    return true;
}

static bool guard_open(void *state, struct ex_model *m, const struct ex_line *l)
{
    struct guard_state *st = state;
    st->r = ex_new_report(m);
    if (!st->r)
        return false;
    struct ex_report *r = st->r;
    ex_src_init(&r->src, FMT_SLABDBG_GUARD, l);
    r->origin = ORIGIN_SLABDBG;
    const char *reason;
    ex_slub_header(l->text, r->cache, sizeof(r->cache), r->taint, sizeof(r->taint), &reason);
    take_reason(r, reason);
    return true;
}

static enum ex_feed guard_feed(void *state, const struct ex_line *l)
{
    struct guard_state *st = state;
    struct ex_report *r = st->r;
    const char *s = l->text;
    struct ex_track t;
    struct ex_frame f;
    bool alloc;
    char cache[EX_NAME_MAX], taint[64];
    const char *reason;
    if (!*s)
        return FEED_IGNORED;
    if (ex_slub_header(s, cache, sizeof(cache), taint, sizeof(taint), &reason))
        return FEED_ENDED;
    if (ex_starts(s, "=====") || ex_starts(s, "BUG: ") || ex_starts(s, "crash> "))
        return FEED_ENDED;
    if (ex_starts(s, "-----")) {
        /* the header's underline */
    } else if (access_line(r, s)) {
        st->stack = 0;
    } else if (ex_starts(s, "First byte 0x")) {
        /* the slack check's "First byte 0x42 instead of 0xcc" */
        const char *p = s + strlen("First byte ");
        uint64_t first, expected;
        if (!r->slub.nfaults && ex_scan_hex(&p, &first) && ex_starts(p, " instead of ") &&
            (p += strlen(" instead of "), ex_scan_hex(&p, &expected))) {
            struct ex_fault *f = &r->slub.faults[r->slub.nfaults++];
            ex_copy_str(f->what, sizeof(f->what), "Slack");
            f->has_first = f->has_expected = true;
            f->first = (unsigned)(first & 0xff);
            f->expected = (unsigned)(expected & 0xff);
        }
    } else if (ex_slub_track_line(s, &t, &alloc)) {
        struct ex_track *dst = alloc ? &r->alloc : &r->free;
        if (!dst->present)
            *dst = t;
        st->stack = alloc ? 1 : 2;
    } else if (ex_task_line(s, &r->cpu, &r->pid, r->comm, sizeof(r->comm), r->release,
                            sizeof(r->release))) {
        r->has_task = r->has_cpu = true;
        st->stack = 0;
    } else if (ex_starts(s, "Call Trace:")) {
        r->has_trace = true;
        st->stack = 3;
    } else if (ex_starts(s, "FIX ")) {
        const char *at = strstr(s, "Object at 0x"); /* double free: "Object at 0x... not freed" */
        if (at && !r->has_pointer) {
            at += strlen("Object at ");
            if (ex_scan_hex(&at, &r->pointer)) {
                r->has_pointer = r->has_addr = true;
                r->addr = r->pointer;
            }
        }
        r->src.last_line = l->no;
        return FEED_DONE;
    } else if (ex_starts(s, "Guard: ")) {
        r->src.last_line = l->no;
        return FEED_DONE;
    } else if (st->stack && ex_parse_frame(s, &f)) {
        ex_stack_add(st->stack == 1   ? &r->alloc.stack
                     : st->stack == 2 ? &r->free.stack
                                      : &r->trace,
                     &f);
    } else {
        return FEED_IGNORED;
    }
    r->src.last_line = l->no;
    return FEED_TAKEN;
}

void ex_guard_finish(struct ex_report *r)
{
    /* the text header says not the side the JSON kind names: the access line does */
    if (r->cls == CLS_OUT_OF_BOUNDS && (r->rel == REL_LEFT || r->rel == REL_RIGHT) &&
        (!strcmp(r->kind, "out_of_bounds_read") || !strcmp(r->kind, "out_of_bounds_write"))) {
        size_t n = strlen(r->kind);
        snprintf(r->kind + n, sizeof(r->kind) - n, "%s", r->rel == REL_LEFT ? "_left" : "_right");
    }
    /* a double free names the object itself */
    if (r->cls == CLS_DOUBLE_FREE && r->has_pointer && !r->has_object) {
        r->has_object = true;
        r->object = r->pointer;
        r->rel = REL_INSIDE;
        r->has_rel_dist = true;
        r->rel_dist = 0;
    }
    /* the slack check's byte: where it is */
    if (r->slub.nfaults && r->rel == REL_RIGHT && r->has_rel_dist && r->has_object_size) {
        struct ex_fault *f = &r->slub.faults[0];
        f->has_obj_off = true;
        f->obj_off = (int64_t)(r->object_size + r->rel_dist);
        f->off_source = "the access line";
    }
}

static void guard_close(void *state)
{
    struct guard_state *st = state;
    struct ex_report *r = st->r;
    ex_guard_finish(r);
    if (!r->has_object_size) {
        uint64_t n;
        if (ex_kmalloc_size(r->cache, &n)) {
            r->has_object_size = true;
            r->object_size = n;
            r->size_source = "cache name";
        }
    }
    ex_mark_missing(r, r->cls != CLS_INVALID_FREE && r->cls != CLS_DOUBLE_FREE);
}

const struct ex_parser ex_parser_slabdbg_guard = {
    .name = "slabdbg-guard",
    .state_size = sizeof(struct guard_state),
    .begins = guard_begins,
    .open = guard_open,
    .feed = guard_feed,
    .close = guard_close,
};

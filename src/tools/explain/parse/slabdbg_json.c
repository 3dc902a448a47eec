/*
 * slabdbg's JSON reports: one object per line, read with json-c.
 *
 * Byte-check reports ({"kind":"overwritten","reason":"Poison overwritten",
 * "cache":..., "fault_start", "fault_end", "length", "first_byte",
 * "expected", "bytes", "offset", "object", "object_size", "requested_size",
 * "alloc"/"free": {"function","age_ms","cpu","pid","stack":[{"pc",
 * "function","where"}]}, "found_by": [...]}) and guard reports ("access",
 * "address", "side", "offset" or "distance").  Keys this reader does not
 * know are left alone, so newer reports (with a "signature", "host",
 * "program", "time") still read.  A line cut short is read as far as it
 * goes, and marked.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "parse/parse.h"
#include "parse/slub.h"

#define JSON_DEPTH 16

struct json_state {
    struct ex_report *r;
};

static enum ex_begin json_begins(const struct ex_line *l)
{
    const char *s = l->text;
    if (s[0] != '{')
        return BEGIN_NO;
    return strstr(s, "\"cache\"") && (strstr(s, "\"kind\"") || strstr(s, "\"reason\""))
               ? BEGIN_STRONG
               : BEGIN_NO;
}

/* A line cut short: its text up to the last member that is whole, with the
 * brackets it leaves open closed.  NULL when nothing whole is left. */
static char *salvage(const char *s)
{
    size_t n = strlen(s), cut = 0;
    char open[JSON_DEPTH + 1];
    int depth = 0, depth_at_cut = 0;
    char closers_at_cut[JSON_DEPTH + 1];
    bool in_string = false, escaped = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (depth == JSON_DEPTH)
                break;
            open[depth++] = c;
        } else if (c == '}' || c == ']') {
            if (!depth)
                break;
            depth--;
        } else if (c == ',' && depth > 0) {
            cut = i;
            depth_at_cut = depth;
            for (int k = 0; k < depth; k++)
                closers_at_cut[k] = open[k] == '{' ? '}' : ']';
        }
    }
    if (!cut)
        return NULL;
    char *out = malloc(cut + (size_t)depth_at_cut + 1);
    if (!out)
        return NULL;
    memcpy(out, s, cut);
    size_t k = cut;
    for (int d = depth_at_cut - 1; d >= 0; d--)
        out[k++] = closers_at_cut[d];
    out[k] = 0;
    return out;
}

static json_object *parse_line(const char *s, bool *truncated)
{
    *truncated = false;
    json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
    if (!tok)
        return NULL;
    json_object *obj = json_tokener_parse_ex(tok, s, (int)strlen(s));
    enum json_tokener_error err = json_tokener_get_error(tok);
    json_tokener_free(tok);
    if (obj && err == json_tokener_success)
        return obj;
    json_object_put(obj);
    char *fixed = salvage(s);
    if (!fixed)
        return NULL;
    tok = json_tokener_new_ex(JSON_DEPTH);
    obj = tok ? json_tokener_parse_ex(tok, fixed, (int)strlen(fixed)) : NULL;
    if (tok && json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(obj);
        obj = NULL;
    }
    json_tokener_free(tok);
    free(fixed);
    *truncated = obj != NULL;
    return obj;
}

/* ---- fields ------------------------------------------------------------------------ */

static const char *get_str(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static bool get_int(json_object *o, const char *key, long long *out)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
        return false;
    *out = (long long)json_object_get_int64(v);
    return true;
}

/* "0x7f..." strings, as our reports write addresses. */
static bool get_hex(json_object *o, const char *key, uint64_t *out)
{
    const char *s = get_str(o, key);
    return s && ex_scan_hex(&s, out) && !*s;
}

static void read_frame(json_object *o, struct ex_frame *f)
{
    memset(f, 0, sizeof(*f));
    const char *fn = get_str(o, "function");
    if (fn && !ex_parse_frame(fn, f))
        ex_copy_str(f->func, sizeof(f->func), fn);
    uint64_t pc;
    if (get_hex(o, "pc", &pc)) {
        f->addr = pc;
        f->has_addr = true;
    }
    const char *where = get_str(o, "where");
    if (where)
        ex_copy_str(f->where, sizeof(f->where), where);
}

static void read_stack(json_object *arr, struct ex_stack *s)
{
    if (!arr || !json_object_is_type(arr, json_type_array))
        return;
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        if (!e || !json_object_is_type(e, json_type_object))
            continue;
        struct ex_frame f;
        read_frame(e, &f);
        ex_stack_add(s, &f);
    }
}

static void read_track(json_object *o, const char *key, const char *label, struct ex_track *t)
{
    json_object *v, *stack;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_object))
        return;
    t->present = true;
    ex_copy_str(t->label, sizeof(t->label), label);
    const char *fn = get_str(v, "function");
    if (fn && !ex_parse_frame(fn, &t->caller))
        ex_copy_str(t->caller.func, sizeof(t->caller.func), fn);
    long long n;
    if (get_int(v, "age_ms", &n)) {
        t->has_age = true;
        t->age = n;
    }
    if (get_int(v, "cpu", &n) && n >= 0 && n < 1 << 20) {
        t->has_cpu = true;
        t->cpu = (int)n;
    }
    if (get_int(v, "pid", &n)) {
        t->has_pid = true;
        t->pid = n;
    }
    if (json_object_object_get_ex(v, "stack", &stack))
        read_stack(stack, &t->stack);
}

static bool guard_shaped(json_object *o, const char *kind)
{
    json_object *v;
    return json_object_object_get_ex(o, "access", &v) || ex_starts(kind, "use_after_free") ||
           ex_starts(kind, "out_of_bounds") || !strcmp(kind, "double_free") ||
           !strcmp(kind, "invalid_free");
}

static void read_guard(json_object *o, struct ex_report *r, const char *kind)
{
    ex_copy_str(r->kind, sizeof(r->kind), kind);
    const char *reason = get_str(o, "reason");
    const char *access = get_str(o, "access");
    bool freed = ex_starts(kind, "use_after_free");
    r->cls = !strcmp(kind, "double_free")    ? CLS_DOUBLE_FREE
             : !strcmp(kind, "invalid_free") ? CLS_INVALID_FREE
             : freed                         ? CLS_USE_AFTER_FREE
                                             : CLS_OUT_OF_BOUNDS;
    if (r->cls == CLS_DOUBLE_FREE || r->cls == CLS_INVALID_FREE)
        r->access = ACC_FREE;
    else if (access)
        r->access = !strcmp(access, "write") ? ACC_WRITE : ACC_READ;
    else
        r->access = strstr(kind, "write") ? ACC_WRITE : ACC_READ;
    if (r->cls == CLS_USE_AFTER_FREE || r->cls == CLS_OUT_OF_BOUNDS)
        snprintf(r->bug, sizeof(r->bug), "%s %s", freed ? "use-after-free" : "out-of-bounds",
                 r->access == ACC_WRITE ? "write" : "read");
    else
        ex_copy_str(r->bug, sizeof(r->bug), r->cls == CLS_DOUBLE_FREE ? "double free" : "invalid free");
    const char *in = reason ? strstr(reason, " in ") : NULL;
    if (in && ex_parse_frame(in + 4, &r->where))
        r->has_where = true;
    if (get_hex(o, "address", &r->addr))
        r->has_addr = true;
    const char *side = get_str(o, "side");
    long long n;
    if (side && !strcmp(side, "inside") && get_int(o, "offset", &n) && n >= 0) {
        r->rel = REL_INSIDE;
        r->has_rel_dist = true;
        r->rel_dist = (uint64_t)n;
    } else if (side && (!strcmp(side, "left") || !strcmp(side, "right"))) {
        r->rel = !strcmp(side, "left") ? REL_LEFT : REL_RIGHT;
        if (get_int(o, "distance", &n) && n >= 0) {
            r->has_rel_dist = true;
            r->rel_dist = (uint64_t)n;
        }
    }
    if (freed)
        ex_copy_str(r->region_state, sizeof(r->region_state), "freed");
    if (r->has_pointer && !r->has_addr) {
        r->has_addr = true;
        r->addr = r->pointer;
    }
    if (!r->has_object_size) {
        uint64_t size;
        if (ex_kmalloc_size(r->cache, &size)) {
            r->has_object_size = true;
            r->object_size = size;
            r->size_source = "cache name";
        }
    }
    if (reason && strstr(reason, "(found at free)"))
        r->found_later = true;
    ex_guard_finish(r);
}

/* A byte-check report: one fault, and the stray bytes when "bytes" says. */
static void read_bytes_check(json_object *o, struct ex_report *r)
{
    struct ex_fault *f = &r->slub.faults[0];
    long long n;
    uint64_t x;
    const char *what = get_str(o, "what");
    if (what)
        ex_copy_str(f->what, sizeof(f->what), what);
    if (get_hex(o, "fault_start", &x)) {
        f->has_range = true;
        f->start = f->end = x;
    }
    if (get_hex(o, "fault_end", &x) && f->has_range && x >= f->start)
        f->end = x;
    if (get_int(o, "length", &n) && n > 0) {
        f->has_length = true;
        f->length = (uint64_t)n;
    }
    if (get_int(o, "first_byte", &n)) {
        f->has_first = true;
        f->first = (unsigned)(n & 0xff);
    }
    if (get_int(o, "expected", &n)) {
        f->has_expected = true;
        f->expected = (unsigned)(n & 0xff);
    }
    if (get_int(o, "offset", &n)) {
        f->has_obj_off = true;
        f->obj_off = n;
        f->off_source = "report";
    }
    if (f->has_range || f->has_first || f->has_obj_off)
        r->slub.nfaults = 1;
    if (f->has_range && !f->has_length) {
        f->has_length = true;
        f->length = f->end - f->start + 1;
    }
    /* "bytes": the stray bytes as found, in hex */
    const char *hex = get_str(o, "bytes");
    if (hex && f->has_obj_off) {
        for (size_t i = 0; isxdigit((unsigned char)hex[2 * i]) && isxdigit((unsigned char)hex[2 * i + 1]) && i < 64; i++) {
            char byte[3] = {hex[2 * i], hex[2 * i + 1], 0};
            ex_slub_put_byte(r, f->obj_off + (int64_t)i, (uint8_t)strtoul(byte, NULL, 16));
        }
    }
}

static bool json_open(void *state, struct ex_model *m, const struct ex_line *l)
{
    struct json_state *st = state;
    bool truncated;
    json_object *o = parse_line(l->text, &truncated);
    const char *cache = o ? get_str(o, "cache") : NULL;
    const char *kind = o ? get_str(o, "kind") : NULL;
    const char *reason = o ? get_str(o, "reason") : NULL;
    if (!o || !json_object_is_type(o, json_type_object) || !cache || (!kind && !reason)) {
        json_object_put(o);
        return false;
    }
    st->r = ex_new_report(m);
    if (!st->r) {
        json_object_put(o);
        return false;
    }
    struct ex_report *r = st->r;
    ex_src_init(&r->src, FMT_SLABDBG_JSON, l);
    r->origin = ORIGIN_SLABDBG;
    ex_copy_str(r->cache, sizeof(r->cache), cache);
    if (reason)
        ex_copy_str(r->reason, sizeof(r->reason), reason);
    long long n;
    uint64_t x;
    if (get_hex(o, "pointer", &x)) {
        r->has_pointer = true;
        r->pointer = x;
    }
    if (get_hex(o, "object", &x)) {
        r->has_object = true;
        r->object = x;
    }
    if (get_int(o, "object_size", &n) && n > 0) {
        r->has_object_size = true;
        r->object_size = (uint64_t)n;
        r->size_source = "report";
    }
    if (get_int(o, "requested_size", &n) && n >= 0) {
        r->has_requested = true;
        r->requested = (uint64_t)n;
    }
    if (get_int(o, "pid", &n)) {
        r->has_task = true;
        r->pid = n;
    }
    read_track(o, "alloc", "Allocated", &r->alloc);
    read_track(o, "free", "Freed", &r->free);
    json_object *found;
    if (json_object_object_get_ex(o, "found_by", &found)) {
        r->has_trace = true;
        read_stack(found, &r->trace);
    }
    if (kind && guard_shaped(o, kind)) {
        read_guard(o, r, kind);
    } else {
        read_bytes_check(o, r);
        ex_slub_derive(r);
        r->missing &= ~(unsigned)(MISS_FIX | MISS_TRACE | MISS_OBJECT);
        if (!r->has_object)
            r->missing |= MISS_OBJECT;
        r->missing |= MISS_HEXDUMP; /* the text report has the bytes, the JSON one not */
    }
    if (!r->alloc.present && !r->free.present)
        r->missing |= MISS_TRACKS;
    if (truncated)
        r->missing |= TRUNCATED;
    json_object_put(o);
    return true;
}

static enum ex_feed json_feed(void *state, const struct ex_line *l)
{
    (void)state;
    (void)l;
    return FEED_ENDED; /* one line, one report */
}

static void json_close(void *state)
{
    (void)state;
}

const struct ex_parser ex_parser_slabdbg_json = {
    .name = "slabdbg-json",
    .state_size = sizeof(struct json_state),
    .begins = json_begins,
    .open = json_open,
    .feed = json_feed,
    .close = json_close,
};

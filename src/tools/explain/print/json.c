/*
 * The JSON output: one object, built with json-c.
 *
 *   {"reports": [...], "oopses": [...], "dumps": [...], "links": ["..."],
 *    "link_details": [{"kind","from","to","text"}], "others": [...],
 *    "types": {...}, "source": {...}}
 *
 * Addresses and values are hex strings ("0x106"), sizes and offsets
 * numbers.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "print/print.h"

static void put(json_object *o, const char *key, json_object *v)
{
    json_object_object_add(o, key, v);
}

/* The length of the UTF-8 sequence at s, 0 if it is not one. */
static size_t utf8_seq(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

/* Input text is any bytes: what is not UTF-8 becomes U+FFFD, so the output
 * is always valid JSON text. */
static json_object *jstr(const char *v)
{
    char buf[4096];
    size_t n = 0;
    const unsigned char *s = (const unsigned char *)(v ? v : "");
    while (*s && n + 4 < sizeof(buf)) {
        size_t k = utf8_seq(s);
        if (k) {
            memcpy(buf + n, s, k);
            n += k;
            s += k;
        } else {
            memcpy(buf + n, "\xef\xbf\xbd", 3);
            n += 3;
            s++;
        }
    }
    buf[n] = 0;
    return json_object_new_string(buf);
}

static void put_str(json_object *o, const char *key, const char *v)
{
    put(o, key, jstr(v));
}

static void put_int(json_object *o, const char *key, long long v)
{
    put(o, key, json_object_new_int64(v));
}

static void put_bool(json_object *o, const char *key, bool v)
{
    put(o, key, json_object_new_boolean(v));
}

static void put_hex(json_object *o, const char *key, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
    put_str(o, key, buf);
}

static json_object *frame(const struct ex_frame *f)
{
    char buf[256];
    json_object *o = json_object_new_object();
    ex_frame_text(f, buf, sizeof(buf));
    if (f->func[0])
        put_str(o, "function", f->func);
    put_str(o, "text", buf);
    if (f->has_addr)
        put_hex(o, "pc", f->addr);
    if (f->module[0])
        put_str(o, "module", f->module);
    if (f->where[0])
        put_str(o, "where", f->where);
    if (f->unreliable)
        put_bool(o, "unreliable", true);
    if (f->inlined)
        put_bool(o, "inline", true);
    return o;
}

static json_object *stack(const struct ex_stack *s)
{
    json_object *a = json_object_new_array();
    for (int i = 0; i < s->n; i++)
        json_object_array_add(a, frame(&s->f[i]));
    return a;
}

static json_object *track(const struct ex_report *r, const struct ex_track *t)
{
    json_object *o = json_object_new_object();
    const struct ex_frame *site = t->caller.func[0] ? &t->caller : ex_first_user_frame(&t->stack);
    char buf[256];
    put_str(o, "label", t->label);
    if (ex_track_overwritten(r, t, buf, sizeof(buf)))
        put_str(o, "overwritten", buf);
    else if (site)
        put_str(o, "function", site->func);
    if (site) {
        ex_frame_text(site, buf, sizeof(buf));
        put_str(o, "text", buf);
    }
    if (t->has_age) {
        put_int(o, "age", t->age);
        put_str(o, "age_unit", ex_age_unit(r));
    }
    if (t->has_time)
        put(o, "time", json_object_new_double(t->time));
    if (t->has_cpu)
        put_int(o, "cpu", t->cpu);
    if (t->has_pid)
        put_int(o, "pid", t->pid);
    put(o, "stack", stack(&t->stack));
    const struct ex_frame *top = ex_first_user_frame(&t->stack);
    if (top)
        put_str(o, "top", top->func);
    return o;
}

static const char *rel_name(enum ex_rel r)
{
    return r == REL_INSIDE ? "inside" : r == REL_LEFT ? "left" : r == REL_RIGHT ? "right" : "unknown";
}

static const char *access_name(enum ex_access a)
{
    return a == ACC_READ ? "read" : a == ACC_WRITE ? "write" : a == ACC_FREE ? "free" : "unknown";
}

static json_object *stray(const struct ex_report *r, const struct ex_finding *fd)
{
    const struct ex_stray *s = &fd->stray;
    json_object *o = json_object_new_object();
    char buf[64];
    put_int(o, "offset", s->off);
    snprintf(buf, sizeof(buf), "%s0x%" PRIx64, s->off < 0 ? "-" : "", (uint64_t)(s->off < 0 ? -s->off : s->off));
    put_str(o, "offset_hex", buf);
    put_int(o, "length", (long long)s->length);
    put_str(o, "offset_from", fd->fault->off_source ? fd->fault->off_source : "report");
    json_object *bytes = json_object_new_array();
    for (uint64_t k = 0; k < s->length && k < 16; k++) {
        uint8_t b;
        if (ex_slub_byte(r, s->off + (int64_t)k, &b)) {
            snprintf(buf, sizeof(buf), "%02x", b);
            json_object_array_add(bytes, json_object_new_string(buf));
        } else {
            json_object_array_add(bytes, NULL);
        }
    }
    put(o, "bytes", bytes);
    if (fd->fault->has_range) {
        put_hex(o, "fault_start", fd->fault->start);
        put_hex(o, "fault_end", fd->fault->end);
    }
    if (fd->fault->has_first)
        put_int(o, "first_byte", fd->fault->first);
    if (fd->fault->has_expected)
        put_int(o, "expected", fd->fault->expected);
    if (fd->value_known) {
        snprintf(buf, sizeof(buf), "0x%0*" PRIx64, (int)(fd->width * 2), fd->value);
        put_str(o, "value", buf);
        put_int(o, "width", fd->width);
        put_bool(o, "aligned_word", s->has_word);
        put_bool(o, "not_a_pointer", fd->value_note.not_pointer);
        put_str(o, "value_kind", ex_value_kind_name(fd->value_note.kind));
        put_str(o, "value_note", fd->value_note.text);
    }
    return o;
}

static json_object *report(const struct ex_analysis *a, int i)
{
    const struct ex_model *m = a->m;
    const struct ex_report *r = &m->reports[i];
    const struct ex_finding *fd = &a->findings[i];
    json_object *o = json_object_new_object();
    char buf[512];
    put_str(o, "input", ex_input_name(m, r->src.input));
    put_int(o, "first_line", r->src.first_line);
    put_int(o, "last_line", r->src.last_line);
    put_str(o, "origin", r->origin == ORIGIN_KERNEL    ? "kernel"
                         : r->origin == ORIGIN_SLABDBG ? "slabdbg"
                                                       : "unknown");
    put_str(o, "format", r->src.format == FMT_SLABDBG_JSON ? "json" : "text");
    put_str(o, "parser", ex_format_name(r->src.format));
    put_str(o, "family", ex_report_family(r));
    put_str(o, "kind", r->kind);
    put_str(o, "class", ex_class_name(r->cls));
    put_str(o, "bug", r->bug);
    put_str(o, "reason", r->reason);
    if (fd->meaning[0])
        put_str(o, "meaning", fd->meaning);
    if (r->mode[0])
        put_str(o, "mode", r->mode);
    put_str(o, "cache", r->cache);
    if (r->has_object)
        put_hex(o, "object", r->object);
    if (r->hashed)
        put_bool(o, "hashed_pointers", true);
    if (r->has_object_size) {
        put_int(o, "object_size", (long long)r->object_size);
        put_str(o, "object_size_from", r->size_source);
    }
    if (r->has_requested)
        put_int(o, "requested_size", (long long)r->requested);
    if (r->region_state[0])
        put_str(o, "object_state", r->region_state);
    if (r->has_kfence_index)
        put_int(o, "kfence_object", r->kfence_index);
    if (r->slub.has_slab)
        put_hex(o, "slab", r->slub.slab);
    if (r->has_pointer)
        put_hex(o, "pointer", r->pointer);
    if (r->access != ACC_UNKNOWN || r->has_addr) {
        json_object *ac = json_object_new_object();
        put_str(ac, "kind", access_name(r->access));
        if (r->has_access_size)
            put_int(ac, "size", (long long)r->access_size);
        if (r->has_addr)
            put_hex(ac, "address", r->addr);
        if (r->has_tags) {
            put_hex(ac, "pointer_tag", r->ptr_tag);
            put_hex(ac, "memory_tag", r->mem_tag);
        }
        put(o, "access", ac);
    }
    if (r->has_where)
        put(o, "where", frame(&r->where));
    if (r->rel != REL_UNKNOWN || fd->has_offset) {
        json_object *rel = json_object_new_object();
        put_str(rel, "where", fd->has_offset && fd->offset < 0 ? "left"
                              : fd->has_offset && r->has_object_size && fd->offset >= (int64_t)r->object_size
                                  ? "right"
                              : fd->has_offset ? "inside"
                                               : rel_name(r->rel));
        if (r->has_rel_dist)
            put_int(rel, "distance", (long long)r->rel_dist);
        put(o, "relation", rel);
    }
    if (fd->has_offset) {
        put_int(o, "offset", fd->offset);
        snprintf(buf, sizeof(buf), "%s0x%" PRIx64, fd->offset < 0 ? "-" : "",
                 (uint64_t)(fd->offset < 0 ? -fd->offset : fd->offset));
        put_str(o, "offset_hex", buf);
    }
    if (r->has_range) {
        put_hex(o, "range_start", r->range_lo);
        put_hex(o, "range_end", r->range_hi);
    }
    if (r->location[0])
        put_str(o, "location", r->location);
    if (r->canary[0])
        put_str(o, "canary", r->canary);
    if (fd->has_shadow) {
        snprintf(buf, sizeof(buf), "%02x", fd->shadow_byte);
        put_str(o, "shadow_byte", buf);
        put_str(o, "shadow_meaning", ex_kasan_shadow_meaning(fd->shadow_byte, strcmp(r->mode, "generic") != 0));
    }
    if (r->page[0])
        put_str(o, "page", r->page);
    if (fd->has_stray) {
        put(o, "stray", stray(r, fd));
    } else if (r->slub.nfaults) {
        /* the damage, without its place in the object */
        const struct ex_fault *f = &r->slub.faults[0];
        json_object *so = json_object_new_object();
        if (f->has_length)
            put_int(so, "length", (long long)f->length);
        if (f->has_range) {
            put_hex(so, "fault_start", f->start);
            put_hex(so, "fault_end", f->end);
        }
        if (f->has_first)
            put_int(so, "first_byte", f->first);
        if (f->has_expected)
            put_int(so, "expected", f->expected);
        put_str(so, "offset_note", "its place in the object is not in the report");
        put(o, "stray", so);
    }
    if (r->alloc.present)
        put(o, "alloc", track(r, &r->alloc));
    if (r->free.present)
        put(o, "free", track(r, &r->free));
    if (r->naux) {
        json_object *aux = json_object_new_array();
        for (int k = 0; k < r->naux; k++)
            json_object_array_add(aux, track(r, &r->aux[k]));
        put(o, "aux", aux);
    }
    if (fd->finder) {
        put(o, strcmp(fd->finder_what, "made the access") ? "found_by" : "access_by", frame(fd->finder));
        if (!strcmp(fd->finder_what, "made the access"))
            put(o, "found_by", frame(fd->finder));
        if (fd->found_when)
            put_str(o, "found_when", fd->found_when);
    }
    if (r->has_task) {
        put_int(o, "pid", r->pid);
        if (r->src.format != FMT_SLABDBG_JSON) {
            if (r->has_cpu)
                put_int(o, "finder_cpu", r->cpu);
            put_int(o, "finder_pid", r->pid);
            put_str(o, "finder_comm", r->comm);
        }
    }
    if (r->release[0])
        put_str(o, "release", r->release);
    put(o, "call_trace", stack(&r->trace));
    json_object *fix = json_object_new_array();
    for (int k = 0; k < r->slub.nfix; k++)
        json_object_array_add(fix, jstr(r->slub.fix[k]));
    put(o, "fix", fix);
    put_str(o, "summary", fd->summary);
    if (r->missing) {
        ex_missing_text(r->missing, buf, sizeof(buf));
        put_str(o, "missing", buf);
    }
    return o;
}

static json_object *oops(const struct ex_analysis *a, int i)
{
    const struct ex_model *m = a->m;
    const struct ex_oops *op = &m->oopses[i];
    const struct ex_oops_view *v = &a->views[i];
    json_object *o = json_object_new_object();
    put_str(o, "input", ex_input_name(m, op->src.input));
    put_int(o, "first_line", op->src.first_line);
    put_int(o, "last_line", op->src.last_line);
    put_str(o, "parser", ex_format_name(op->src.format));
    put_str(o, "arch", ex_arch_name(op->arch));
    put_str(o, "kind", op->kind);
    put_str(o, "header", op->header);
    if (v->duplicates)
        put_int(o, "duplicates", v->duplicates);
    if (v->has_fault_addr) {
        put_hex(o, "fault_address", v->fault_addr);
        put_str(o, "fault_address_from", v->fault_addr_from);
        put_str(o, "fault_address_kind", ex_value_kind_name(v->addr_note.kind));
        put_str(o, "fault_address_note", v->addr_note.text);
    }
    if (op->has_header_addr)
        put_hex(o, "stated_address", op->header_addr);
    if (v->has_range) {
        put_hex(o, "range_start", v->range_lo);
        put_hex(o, "range_end", v->range_hi);
    }
    if (op->has_kasan_range)
        put_str(o, "kasan", op->kasan_kind);
    if (op->has_bug_loc) {
        json_object *b = json_object_new_object();
        put_str(b, "file", op->bug_file);
        put_int(b, "line", op->bug_line);
        put(o, "bug_location", b);
    }
    if (v->location[0])
        put_str(o, "location", v->location);
    if (op->panic[0])
        put_str(o, "panic", op->panic);
    if (op->has_pc) {
        put(o, "rip", frame(&op->pc));
        put(o, "pc", frame(&op->pc));
        if (op->pc_user)
            put_bool(o, "pc_in_user_mode", true);
    }
    if (op->has_lr)
        put(o, "lr", frame(&op->lr));
    if (v->bad_pc)
        put_bool(o, "bad_pc", true);
    if (op->access[0])
        put_str(o, "access", op->access);
    if (op->has_task) {
        put_int(o, "cpu", op->cpu);
        put_int(o, "pid", op->pid);
        put_str(o, "comm", op->comm);
    }
    if (op->release[0])
        put_str(o, "release", op->release);
    json_object *regs = json_object_new_object();
    for (int k = 0; k < op->nregs; k++)
        put_hex(regs, op->regs[k].name, op->regs[k].value);
    put(o, "registers", regs);
    if (v->regs_equal[0])
        put_str(o, "fault_address_in", v->regs_equal);
    if (v->decoded) {
        json_object *code = json_object_new_array();
        for (int k = 0; k < v->ninsns; k++) {
            json_object *in = json_object_new_object();
            put_int(in, "offset", v->insns[k].start - op->code_mark);
            put_str(in, "text", v->insns[k].text);
            if (k == v->fault)
                put_bool(in, "faulting", true);
            json_object_array_add(code, in);
        }
        put(o, "code", code);
        put_str(o, "faulting_instruction", v->insns[v->fault].text);
        if (v->has_operand_addr)
            put_hex(o, "operand_address", v->operand_addr);
        if (v->loader >= 0)
            put_str(o, "base_loaded_by", v->insns[v->loader].text);
        if (v->load_addr_known)
            put_hex(o, "base_loaded_from", v->load_addr);
    } else if (v->decode_note) {
        put_str(o, "code_note", v->decode_note);
    }
    if (v->verdict[0])
        put_str(o, "verdict", v->verdict);
    put(o, "call_trace", stack(&op->trace));
    return o;
}

enum { W_TEXT = 1, W_SELF = 2, W_INSIDE = 4 };

static unsigned word_class(const struct ex_dump *d, int i)
{
    const struct ex_dump_word *w = &d->words[i];
    uint64_t own = d->base + (uint64_t)i * d->word_size;
    uint64_t size = (uint64_t)d->nwords * d->word_size;
    if (!w->known)
        return w->sym[0] ? W_TEXT : 0;
    unsigned c = 0;
    if (d->word_size == 8 && w->value >= 0xffffffff80000000ull && w->value < 0xffffffffd0000000ull)
        c |= W_TEXT;
    if (w->value == own || (d->word_size == 8 && w->value == own - 8 && i > 0 &&
                            d->words[i - 1].known && d->words[i - 1].value == own - 8))
        c |= W_SELF;
    else if (w->value >= d->base && w->value < d->base + size)
        c |= W_INSIDE;
    return c;
}

static json_object *dump(const struct ex_analysis *a, int i)
{
    const struct ex_dump *d = &a->m->dumps[i];
    json_object *o = json_object_new_object();
    put_str(o, "input", ex_input_name(a->m, d->src.input));
    put_hex(o, "base", d->base);
    put_int(o, "word_size", d->word_size);
    put_int(o, "words", d->nwords);
    static const char *const keys[] = {"text", "self", "inside"};
    static const unsigned bits[] = {W_TEXT, W_SELF, W_INSIDE};
    for (int g = 0; g < 3; g++) {
        json_object *arr = json_object_new_array();
        for (int k = 0; k < d->nwords; k++) {
            if (!(word_class(d, k) & bits[g]))
                continue;
            json_object *w = json_object_new_object();
            put_int(w, "offset", (long long)k * d->word_size);
            if (d->words[k].known)
                put_hex(w, "value", d->words[k].value);
            if (d->words[k].sym[0])
                put_str(w, "symbol", d->words[k].sym);
            json_object_array_add(arr, w);
        }
        put(o, keys[g], arr);
    }
    return o;
}

int ex_print_json(FILE *out, const struct ex_analysis *a)
{
    const struct ex_model *m = a->m;
    json_object *root = json_object_new_object();
    if (!root)
        return -1;
    json_object *reports = json_object_new_array();
    for (int i = 0; i < m->nreports; i++)
        if (a->findings[i].shown)
            json_object_array_add(reports, report(a, i));
    put(root, "reports", reports);
    json_object *oopses = json_object_new_array();
    for (int i = 0; i < m->noopses; i++)
        if (a->views[i].shown)
            json_object_array_add(oopses, oops(a, i));
    put(root, "oopses", oopses);
    json_object *dumps = json_object_new_array();
    for (int i = 0; i < m->ndumps; i++)
        json_object_array_add(dumps, dump(a, i));
    put(root, "dumps", dumps);
    json_object *links = json_object_new_array(), *details = json_object_new_array();
    for (int i = 0; i < a->nlinks; i++) {
        json_object_array_add(links, jstr(a->links[i].text));
        json_object *l = json_object_new_object();
        put_str(l, "kind", a->links[i].kind);
        put_str(l, "from", a->links[i].from);
        put_str(l, "to", a->links[i].to);
        put_str(l, "text", a->links[i].text);
        json_object_array_add(details, l);
    }
    put(root, "links", links);
    put(root, "link_details", details);
    json_object *others = json_object_new_array();
    for (int i = 0; i < m->nothers; i++) {
        json_object *x = json_object_new_object();
        put_str(x, "what", m->others[i].what);
        put_str(x, "input", ex_input_name(m, m->others[i].src.input));
        put_int(x, "line", m->others[i].src.first_line);
        put_str(x, "header", m->others[i].header);
        json_object_array_add(others, x);
    }
    put(root, "others", others);
    const struct ex_type_result *tr = &a->types;
    if (tr->tried) {
        json_object *t = json_object_new_object();
        if (a->target.has)
            put_int(t, "offset", a->target.off);
        json_object *cands = json_object_new_array();
        for (int i = 0; i < tr->ncands; i++) {
            json_object *c = json_object_new_object();
            put_str(c, "name", tr->cands[i].name);
            put_int(c, "size", (long long)tr->cands[i].size);
            put_str(c, "why", tr->cands[i].why);
            json_object_array_add(cands, c);
        }
        put(t, "candidates", cands);
        if (tr->has_field) {
            put_str(t, "layout", tr->spec);
            put_str(t, "field", tr->field.path);
            put_str(t, "field_type", tr->field.field_type);
            put_int(t, "field_offset", (long long)tr->field.field_offset);
            put_int(t, "field_size", (long long)tr->field.field_size);
            put_str(t, "struct", tr->field.type);
            put_int(t, "struct_start", (long long)tr->field.type_start);
        }
        if (tr->error[0])
            put_str(t, "note", tr->error);
        put(root, "types", t);
    }
    const struct ex_src_result *sr = &a->src;
    if (sr->tried) {
        json_object *s = json_object_new_object();
        if (a->target.has_value)
            put_hex(s, "value", a->target.value);
        if (sr->field[0])
            put_str(s, "field", sr->field);
        if (sr->by_field)
            put_bool(s, "by_field", true);
        json_object *consts = json_object_new_array();
        for (int i = 0; i < sr->nconsts; i++) {
            json_object *c = json_object_new_object();
            put_str(c, "name", sr->consts[i].name);
            put_str(c, "kind", sr->consts[i].kind);
            put_str(c, "file", sr->consts[i].file);
            put_int(c, "line", sr->consts[i].line);
            json_object_array_add(consts, c);
        }
        put(s, "constants", consts);
        json_object *assigns = json_object_new_array();
        for (int i = 0; i < sr->nassigns; i++) {
            const struct src_assign *as = &sr->assigns[i];
            json_object *c = json_object_new_object();
            put_str(c, "file", as->file);
            put_int(c, "line", as->line);
            put_str(c, "function", as->function);
            put_str(c, "constant", as->constant);
            put_str(c, "text", as->text);
            put_bool(c, "same_field", as->same_field);
            json_object_array_add(assigns, c);
        }
        put(s, "assignments", assigns);
        if (sr->error[0])
            put_str(s, "note", sr->error);
        put(root, "source", s);
    }
    const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE);
    int status = text ? 0 : -1;
    if (text)
        fprintf(out, "%s\n", text);
    json_object_put(root);
    return status;
}

/* The text output: one section per report, oops and dump, then links,
 * types, sources and the short version. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "print/print.h"

#define LABEL "%-11s"

static bool ex_starts_with(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

const char *ex_report_family(const struct ex_report *r)
{
    switch (r->src.format) {
    case FMT_KASAN:
        return "KASAN";
    case FMT_KFENCE:
        return "KFENCE";
    case FMT_SLABDBG_GUARD:
        return "slabdbg guard";
    case FMT_SLABDBG_JSON:
        return ex_starts_with(r->kind, "use_after_free") ||
                       ex_starts_with(r->kind, "out_of_bounds") ||
                       !strcmp(r->kind, "double_free") || !strcmp(r->kind, "invalid_free")
                   ? "slabdbg guard"
                   : "SLUB";
    default:
        return "SLUB";
    }
}

void ex_chain(const struct ex_stack *s, int max, char *buf, size_t size)
{
    size_t len = 0;
    int shown = 0;
    buf[0] = 0;
    for (int i = 0; i < s->n && shown < max; i++) {
        const struct ex_frame *f = &s->f[i];
        if (f->unreliable || !f->func[0] || ex_is_machinery_frame(f->func))
            continue;
        int k = snprintf(buf + len, size - len, "%s%s", shown ? " <- " : "", f->func);
        if (k < 0 || (size_t)k >= size - len)
            break;
        len += (size_t)k;
        shown++;
        if (!strcmp(f->func, "main"))
            break; /* what calls main says nothing */
    }
}

void ex_missing_text(unsigned m, char *buf, size_t size)
{
    static const struct {
        unsigned bit;
        const char *text;
    } t[] = {
        {MISS_HEADER, "the BUG header line"},
        {MISS_FAULT, "the line with the overwritten bytes"},
        {MISS_TRACKS, "the allocation and free tracks"},
        {MISS_OBJECT, "the Object line"},
        {MISS_HEXDUMP, "the object's bytes"},
        {MISS_TRACE, "the call trace"},
        {MISS_FIX, "the FIX line (the report may be cut short)"},
        {HEXDUMP_GAPS, "some hexdump rows (elided; those bytes are unknown)"},
        {TRUNCATED, "the end of the JSON line (cut short)"},
        {MISS_END, "the report's closing line (cut short)"},
    };
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (!(m & t[i].bit))
            continue;
        int k = snprintf(buf + n, size - n, "%s%s", n ? "; " : "", t[i].text);
        if (k < 0 || (size_t)k >= size - n)
            break;
        n += (size_t)k;
    }
}

static void hexoff(char *buf, size_t size, int64_t off)
{
    snprintf(buf, size, "%s0x%" PRIx64, off < 0 ? "-" : "", (uint64_t)(off < 0 ? -off : off));
}

static void lines_of(FILE *out, const struct ex_model *m, const struct ex_src *src)
{
    fprintf(out, "%s, line%s %d", ex_input_name(m, src->input),
            src->last_line > src->first_line ? "s" : "", src->first_line);
    if (src->last_line > src->first_line)
        fprintf(out, "-%d", src->last_line);
}

static void text_track(FILE *out, const char *label, const struct ex_report *r,
                       const struct ex_track *t)
{
    char fn[256], ch[512];
    if (!t->present)
        return;
    if (ex_track_overwritten(r, t, ch, sizeof(ch))) {
        fprintf(out, LABEL " the track itself is overwritten: %s\n", label, ch);
        return;
    }
    const struct ex_frame *site = t->caller.func[0] ? &t->caller : ex_first_user_frame(&t->stack);
    if (site)
        ex_frame_text(site, fn, sizeof(fn));
    else
        snprintf(fn, sizeof(fn), "(no stack)");
    fprintf(out, LABEL " %s", label, fn);
    if (t->has_age)
        fprintf(out, ", %lld %s before the report", t->age, ex_age_unit(r));
    if (t->has_time)
        fprintf(out, ", at %.6fs", t->time);
    if (t->has_cpu)
        fprintf(out, ", cpu %d", t->cpu);
    if (t->has_pid)
        fprintf(out, ", %s %lld%s",
                r->src.format == FMT_KASAN || r->src.format == FMT_KFENCE ? "task" : "pid", t->pid,
                t->pid == 0 && r->origin == ORIGIN_KERNEL ? " (idle task or interrupt)" : "");
    fputc('\n', out);
    ex_chain(&t->stack, 8, ch, sizeof(ch));
    if (ch[0])
        fprintf(out, LABEL " stack: %s\n", "", ch);
}

static void text_stray(FILE *out, const struct ex_report *r, const struct ex_finding *fd)
{
    char buf[512];
    const struct ex_stray *s = &fd->stray;
    const struct ex_fault *f = fd->fault;
    fprintf(out, LABEL " %" PRIu64 " byte%s at object offset %s0x%" PRIx64, "Stray:", s->length,
            s->length == 1 ? "" : "s", s->off < 0 ? "-" : "",
            (uint64_t)(s->off < 0 ? -s->off : s->off));
    if (s->has_word)
        fprintf(out, ": 0x%0*" PRIx64, (int)(s->width * 2), s->word);
    if (s->off < 0)
        fputs(" (in the left red zone, before the object)", out);
    else if (r->has_object_size && (uint64_t)s->off == r->object_size)
        fputs(" (the first byte past the object's end)", out);
    else if (r->has_object_size && (uint64_t)s->off > r->object_size)
        fprintf(out, " (0x%" PRIx64 " past the object's end)", (uint64_t)s->off - r->object_size);
    else if (r->has_requested && (uint64_t)s->off >= r->requested)
        fprintf(out, " (past the %" PRIu64 " requested bytes)", r->requested);
    fputc('\n', out);
    size_t n = 0;
    buf[0] = 0;
    for (uint64_t k = 0; k < s->length && k < 16; k++) {
        uint8_t b;
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", k ? " " : "");
        if (ex_slub_byte(r, s->off + (int64_t)k, &b))
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%02x", b);
        else if (k == 0 && f->has_first)
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%02x", f->first);
        else
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "??");
    }
    fprintf(out, LABEL " bytes %s%s", "", buf, s->length > 16 ? " ..." : "");
    if (f->has_range && (!r->hashed || f->has_length))
        fprintf(out, " at 0x%" PRIx64 "-0x%" PRIx64, f->start, f->end);
    if (f->has_expected)
        fprintf(out, ", expected 0x%02x", f->expected);
    fprintf(out, " (offset from the %s)\n", f->off_source ? f->off_source : "report");
    if (!s->nknown)
        fprintf(out, LABEL " the written value is not in the report%s\n", "",
                f->has_first ? "; its first byte is above" : "");
    else if ((uint64_t)s->nknown < s->length)
        fprintf(out, LABEL " only %d of the %" PRIu64 " bytes are in the report\n", "", s->nknown,
                s->length);
    else if (!s->has_word && fd->value_known)
        fprintf(out,
                LABEL " as a little-endian number: 0x%" PRIx64
                      " (not aligned to its size: maybe part of a wider store)\n",
                "", fd->value);
    if (fd->value_known)
        fprintf(out, LABEL " %s\n", "", fd->value_note.text);
    if (r->slub.nfaults > 1)
        fprintf(out, LABEL " and %d more overwritten range%s in the report\n", "",
                r->slub.nfaults - 1, r->slub.nfaults > 2 ? "s" : "");
}

/* "Access: read of 8 bytes at 0x... (task x/12)" and where it fell. */
static void text_access(FILE *out, const struct ex_report *r, const struct ex_finding *fd)
{
    static const char *const verbs[] = {
        [ACC_UNKNOWN] = "access", [ACC_READ] = "read", [ACC_WRITE] = "write", [ACC_FREE] = "free"};
    if (r->access == ACC_UNKNOWN && !r->has_addr)
        return;
    fprintf(out, LABEL " %s", "Access:", verbs[r->access]);
    if (r->has_access_size && r->access != ACC_FREE)
        fprintf(out, " of %" PRIu64 " byte%s", r->access_size, r->access_size == 1 ? "" : "s");
    else if (r->access != ACC_FREE && r->src.format != FMT_SLUB)
        fprintf(out, " (size not reported)");
    if (r->has_addr)
        fprintf(out, " %s 0x%" PRIx64 "%s", r->access == ACC_FREE ? "of" : "at", r->addr,
                r->hashed ? " (a hashed pointer)" : "");
    if (r->has_task && r->comm[0] && r->src.format != FMT_SLUB)
        fprintf(out, " by task %s/%lld", r->comm, r->pid);
    fputc('\n', out);
    if (r->has_tags)
        fprintf(out, LABEL " pointer tag 0x%02x, memory tag 0x%02x%s\n", "", r->ptr_tag, r->mem_tag,
                r->mem_tag == 0xfe ? " (0xfe: freed memory)" : "");
    if (r->has_range)
        fprintf(out, LABEL " KASAN's range 0x%" PRIx64 "-0x%" PRIx64 "\n", "", r->range_lo,
                r->range_hi);
    char off[32];
    if (fd->has_offset && !fd->has_stray) {
        fprintf(out, LABEL " ", "Place:");
        if (fd->offset < 0)
            fprintf(out, "%" PRId64 " byte%s before the object (left of it)", -fd->offset,
                    fd->offset == -1 ? "" : "s");
        else if (r->has_object_size && fd->offset == (int64_t)r->object_size)
            fputs("the first byte past the object's end (right of it)", out);
        else if (r->has_object_size && fd->offset > (int64_t)r->object_size)
            fprintf(out, "%" PRId64 " byte%s past the object's end (right of it)",
                    fd->offset - (int64_t)r->object_size,
                    fd->offset - (int64_t)r->object_size == 1 ? "" : "s");
        else {
            hexoff(off, sizeof(off), fd->offset);
            fprintf(out, "object offset %s (%" PRId64 ")%s", off, fd->offset,
                    r->has_requested && (uint64_t)fd->offset >= r->requested
                        ? ", past the requested size"
                        : "");
        }
        if (fd->offset_from_addresses)
            fputs(" (from the addresses)", out);
        fputc('\n', out);
    }
    if (r->location[0])
        fprintf(out, LABEL " %s\n", fd->has_offset ? "" : "Place:", r->location);
    if (fd->has_shadow)
        fprintf(out, LABEL " %s byte at the address: %02x, %s\n", "",
                strcmp(r->mode, "generic") ? "memory tag" : "shadow", fd->shadow_byte,
                ex_kasan_shadow_meaning(fd->shadow_byte, strcmp(r->mode, "generic") != 0));
}

static void text_report(FILE *out, const struct ex_analysis *a, int i)
{
    const struct ex_model *m = a->m;
    const struct ex_report *r = &m->reports[i];
    const struct ex_finding *fd = &a->findings[i];
    char buf[512];
    const char *title = r->src.format == FMT_SLUB || !strcmp(ex_report_family(r), "SLUB")
                            ? (r->reason[0] ? r->reason : r->kind)
                            : (r->bug[0] ? r->bug : r->kind);
    fprintf(out, "\n== %s report %d: %s", ex_report_family(r), i + 1, title);
    if (r->src.format == FMT_SLUB || !strcmp(ex_report_family(r), "SLUB"))
        fprintf(out, " in %s", r->cache[0] ? r->cache : "an unknown cache");
    else if (r->has_where) {
        ex_frame_text(&r->where, buf, sizeof(buf));
        fprintf(out, " in %s", buf);
    }
    fprintf(out, " (%s; ",
            r->origin == ORIGIN_KERNEL    ? "kernel"
            : r->origin == ORIGIN_SLABDBG ? "slabdbg"
                                          : "origin unknown");
    lines_of(out, m, &r->src);
    fputs(r->src.format == FMT_SLABDBG_JSON ? ", JSON)\n" : ")\n", out);
    if (fd->merged_json)
        fprintf(out, LABEL " the JSON report on line %d of %s says the same\n",
                "Also:", m->reports[fd->merged_json - 1].src.first_line,
                ex_input_name(m, m->reports[fd->merged_json - 1].src.input));
    fprintf(out, LABEL " %s\n", "What:", fd->meaning[0] ? fd->meaning : r->kind);
    if (r->src.format == FMT_KASAN && r->mode[0])
        fprintf(out, LABEL " KASAN %s mode\n", "", r->mode);
    if (r->has_object || r->has_object_size || r->cache[0]) {
        fprintf(out, LABEL " ", "Object:");
        if (r->has_object)
            fprintf(out, "0x%" PRIx64 "%s", r->object, r->hashed ? " (a hashed pointer)" : "");
        else
            fputs("address unknown", out);
        if (r->has_object_size)
            fprintf(out, ", %" PRIu64 " bytes (from the %s)", r->object_size, r->size_source);
        if (r->has_requested)
            fprintf(out, ", %" PRIu64 " requested", r->requested);
        if (r->src.format != FMT_SLUB && r->cache[0])
            fprintf(out, ", cache %s", r->cache);
        if (r->region_state[0])
            fprintf(out, ", %s", r->region_state);
        if (r->has_kfence_index)
            fprintf(out, ", kfence-#%d", r->kfence_index);
        if (r->slub.has_slab)
            fprintf(out, "; slab 0x%" PRIx64, r->slub.slab);
        if (r->slub.has_counts)
            fprintf(out, " (%u objects, %u in use)", r->slub.objects, r->slub.used);
        fputc('\n', out);
    }
    if (r->has_pointer)
        fprintf(out, LABEL " 0x%" PRIx64 "\n", "Pointer:", r->pointer);
    if (r->src.format != FMT_SLUB && !(r->src.format == FMT_SLABDBG_JSON && r->slub.nfaults))
        text_access(out, r, fd);
    if (fd->has_stray) {
        text_stray(out, r, fd);
    } else if (r->slub.nfaults) {
        const struct ex_fault *f = &r->slub.faults[0];
        fprintf(out, LABEL, "Stray:");
        if (f->has_length)
            fprintf(out, " %" PRIu64 " byte%s", f->length, f->length == 1 ? "" : "s");
        if (f->has_range)
            fprintf(out, "%s 0x%" PRIx64 "-0x%" PRIx64, f->has_length ? " at" : "", f->start,
                    f->end);
        if (f->has_range && f->has_length && r->hashed)
            fputs(" (hashed)", out);
        const char *sep = f->has_length || f->has_range ? ", f" : " F";
        if (f->has_first && f->has_expected)
            fprintf(out, "%sirst byte 0x%02x instead of 0x%02x", sep, f->first, f->expected);
        else if (f->has_first)
            fprintf(out, "%sirst byte 0x%02x", sep, f->first);
        fputs(" (its place in the object is not in the report)\n", out);
    } else if (r->canary[0]) {
        fprintf(out, LABEL " %s (bytes the kernel hides are shown as \"!\")\n",
                "Stray:", r->canary);
    }
    text_track(out, "Allocated:", r, &r->alloc);
    text_track(out, "Freed:", r, &r->free);
    for (int k = 0; k < r->naux; k++) {
        fprintf(out, LABEL " %s\n", k ? "" : "Related:", r->aux[k].label);
        ex_chain(&r->aux[k].stack, 8, buf, sizeof(buf));
        if (buf[0])
            fprintf(out, LABEL " stack: %s\n", "", buf);
    }
    bool access_report = strcmp(fd->finder_what, "made the access") == 0;
    if (fd->finder || r->has_task) {
        fprintf(out, LABEL " ", access_report ? "Access by:" : "Found by:");
        if (fd->finder) {
            ex_frame_text(fd->finder, buf, sizeof(buf));
            fputs(buf, out);
        } else {
            fputs(r->trace.n ? "(the call trace shows only the checker's frames)"
                             : "(no call trace)",
                  out);
        }
        if (r->has_task && r->has_cpu && r->src.format != FMT_SLABDBG_JSON)
            fprintf(out, ", cpu %d", r->cpu);
        if (r->has_task && r->src.format != FMT_SLABDBG_JSON)
            fprintf(out, ", pid %lld%s%s%s", r->pid, r->comm[0] ? " (" : "", r->comm,
                    r->comm[0] ? ")" : "");
        if (fd->found_when)
            fprintf(out, ", %s", fd->found_when);
        fputc('\n', out);
        ex_chain(&r->trace, 8, buf, sizeof(buf));
        if (access_report && buf[0])
            fprintf(out, LABEL " stack: %s\n", "", buf);
    }
    for (int k = 0; k < r->slub.nfix; k++)
        fprintf(out, LABEL " %s\n", k ? "" : "Repaired:", r->slub.fix[k]);
    if (strstr(r->kind, "poison_overwritten") && r->free.present && r->free.has_age)
        fprintf(out,
                LABEL " the write happened after the free, less than %lld %s before the "
                      "report%s; the writer is not in the report: SLUB sees the damage only "
                      "when it checks the object again\n",
                "When:", r->free.age + 1, ex_age_unit(r),
                r->origin == ORIGIN_KERNEL ? " (a jiffy is 1 to 10 ms, by HZ)" : "");
    if (r->src.format != FMT_SLUB && fd->summary[0])
        fprintf(out, LABEL " %s\n", "Summary:", fd->summary);
    if (r->missing) {
        ex_missing_text(r->missing, buf, sizeof(buf));
        fprintf(out, LABEL " %s\n", "Missing:", buf);
    }
}

static void text_code(FILE *out, const struct ex_oops *o, const struct ex_oops_view *v)
{
    if (!v->decoded) {
        if (o->has_code) {
            fprintf(out, LABEL, "Code:");
            for (int i = 0; i < o->ncode; i += o->code_unit) {
                char word[24];
                int n = 0;
                for (int k = o->code_unit - 1; k >= 0 && i + k < o->ncode; k--)
                    n += snprintf(word + n, sizeof(word) - (size_t)n, "%02x", o->code[i + k]);
                fprintf(out, i == o->code_mark ? " <%s>" : " %s", word);
            }
            fputc('\n', out);
        }
        if (v->decode_note)
            fprintf(out, LABEL " %s\n", "", v->decode_note);
        return;
    }
    if (v->branch_base[0])
        fprintf(out, LABEL " (branch targets are offsets in %s)\n", "Code:", v->branch_base);
    else
        fprintf(out, LABEL "\n", "Code:");
    for (int i = 0; i < v->ninsns; i++) {
        const struct ex_insn *in = &v->insns[i];
        char where[160], bytes[64];
        long rel = in->start - o->code_mark;
        int64_t fo = (int64_t)o->pc.off + rel;
        if (o->has_pc && o->pc.func[0])
            snprintf(where, sizeof(where), "%s%c0x%" PRIx64, o->pc.func, fo < 0 ? '-' : '+',
                     (uint64_t)(fo < 0 ? -fo : fo));
        else if (o->has_pc && o->pc.has_addr)
            snprintf(where, sizeof(where), "0x%" PRIx64, o->pc.addr + (uint64_t)rel);
        else
            snprintf(where, sizeof(where), "%+ld", rel);
        size_t n = 0;
        bytes[0] = 0;
        for (int k = 0; k < in->len && n + 4 < sizeof(bytes); k++)
            n += (size_t)snprintf(bytes + n, sizeof(bytes) - n, "%s%02x", k ? " " : "",
                                  o->code[in->start + k]);
        fprintf(out, "  %s %-28s %-24s %s\n", i == v->fault ? "=>" : "  ", where, bytes, in->text);
    }
}

static void upper_reg(const struct ex_oops *o, const char *r, char *buf, size_t size)
{
    size_t i = 0;
    for (; r[i] && i + 1 < size; i++)
        buf[i] = o->arch == ARCH_X86_64 && r[i] >= 'a' && r[i] <= 'z' ? (char)(r[i] - 32) : r[i];
    buf[i] = 0;
}

static void text_oops(FILE *out, const struct ex_analysis *a, int i)
{
    const struct ex_model *m = a->m;
    const struct ex_oops *o = &m->oopses[i];
    const struct ex_oops_view *v = &a->views[i];
    char buf[512];
    fprintf(out, "\n== Oops %d: %s", i + 1, o->kind);
    if (o->has_bug_loc && strcmp(o->kind, "kernel BUG") == 0)
        fprintf(out, " at %s:%d", o->bug_file, o->bug_line);
    else if (v->has_fault_addr)
        fprintf(out, " at 0x%" PRIx64, v->fault_addr);
    fprintf(out, " (%s; ", ex_arch_name(o->arch));
    lines_of(out, m, &o->src);
    fputs(")\n", out);
    if (v->duplicates)
        fprintf(out, LABEL " the same oops is printed %d more time%s in the input (shown once)\n",
                "Printed:", v->duplicates, v->duplicates == 1 ? "" : "s");
    if (v->location[0] || o->has_task) {
        fprintf(out, LABEL " ", "Where:");
        if (v->location[0])
            fputs(v->location, out);
        if (o->has_task)
            fprintf(out, "%scpu %d, pid %lld (%s)", v->location[0] ? ", " : "", o->cpu, o->pid,
                    o->comm);
        if (o->release[0])
            fprintf(out, ", kernel %s", o->release);
        fputc('\n', out);
    }
    if (o->has_lr && o->lr.func[0]) {
        ex_frame_text(&o->lr, buf, sizeof(buf));
        fprintf(out, LABEL " %s (the return address)\n", "Caller:", buf);
    }
    if (o->access[0])
        fprintf(out, LABEL " %s\n", "Access:", o->access);
    else if (o->arch == ARCH_ARM64 && o->has_esr)
        fprintf(out, LABEL " %s (ESR 0x%" PRIx64 ")\n", "Access:",
                v->bad_pc  ? "instruction fetch"
                : o->write ? "write"
                           : "read",
                o->esr);
    if (v->has_fault_addr) {
        fprintf(out, LABEL " 0x%" PRIx64 ", from %s\n", "Address:", v->fault_addr,
                v->fault_addr_from);
        if (o->has_header_addr && o->header_addr != v->fault_addr && !v->bad_pc)
            fprintf(out, LABEL " the oops states 0x%" PRIx64 "%s\n", "", o->header_addr,
                    v->has_range ? ", the KASAN shadow address of it" : "");
    }
    if (o->has_kasan_range)
        fprintf(out, LABEL " KASAN: %s in range 0x%" PRIx64 "-0x%" PRIx64 "\n", "", o->kasan_kind,
                o->kasan_lo, o->kasan_hi);
    text_code(out, o, v);
    if (v->fault >= 0) {
        const struct ex_insn *in = &v->insns[v->fault];
        char base[8], index[8];
        upper_reg(o, in->base, base, sizeof(base));
        upper_reg(o, in->index, index, sizeof(index));
        fprintf(out, LABEL " %s\n", "Faulting:", in->text);
        if (in->mem && (in->base[0] || in->index[0]) && strcmp(in->base, "seg")) {
            fprintf(out, LABEL " %s ", "",
                    in->mem_access == (EX_MEM_READ | EX_MEM_WRITE) ? "reads and writes"
                    : in->mem_access == EX_MEM_WRITE               ? "writes"
                    : in->mem_access == EX_MEM_READ                ? "reads"
                                                                   : "accesses");
            if (in->size)
                fprintf(out, "%d byte%s", in->size, in->size == 1 ? "" : "s");
            else
                fputs("memory", out);
            fprintf(out, " at %s%s%s", base, in->index[0] ? " + " : "", index);
            if (in->index[0] && in->scale > 1)
                fprintf(out, "*%d", in->scale);
            fprintf(out, " + 0x%" PRIx64, (uint64_t)in->disp);
            if (v->has_operand_addr)
                fprintf(out, " = 0x%" PRIx64 "%s", v->operand_addr,
                        v->has_range         ? ", the KASAN shadow of the fault address"
                        : v->operand_matches ? ", the fault address"
                                             : "");
            fputc('\n', out);
        }
    }
    if (v->has_fault_addr && !v->bad_pc && v->fault_addr) {
        if (v->regs_equal[0] && v->has_range && v->range_hi != v->range_lo)
            fprintf(out, LABEL " %s held the fault address (0x%" PRIx64 "-0x%" PRIx64 ")\n",
                    "Register:", v->regs_equal, v->range_lo, v->range_hi);
        else if (v->regs_equal[0])
            fprintf(out, LABEL " %s = 0x%" PRIx64 " held the fault address\n",
                    "Register:", v->regs_equal, v->fault_addr);
        else if (o->nregs)
            fprintf(out, LABEL " no register holds the fault address itself\n", "Register:");
    }
    if (v->loader >= 0) {
        const struct ex_insn *ld = &v->insns[v->loader];
        char base[8], lbase[8];
        upper_reg(o, v->insns[v->fault].base, base, sizeof(base));
        upper_reg(o, ld->base, lbase, sizeof(lbase));
        fprintf(out, LABEL " %s was set by \"%s\" just before", "Loaded:", base, ld->text);
        if (v->load_addr_known)
            fprintf(out, ": from 0x%" PRIx64 " (%s + 0x%" PRIx64 ", if %s still held its value)",
                    v->load_addr, lbase, (uint64_t)ld->disp, lbase);
        fputc('\n', out);
    }
    if (v->verdict[0])
        fprintf(out, LABEL " %s\n", "Verdict:", v->verdict);
    if (o->panic[0])
        fprintf(out, LABEL " %s\n", "Then:", o->panic);
    if (o->trace.n) {
        int skipped = 0, shown = 0;
        for (int k = 0; k < o->trace.n; k++) {
            if (o->trace.f[k].unreliable) {
                skipped++;
                continue;
            }
            ex_frame_text(&o->trace.f[k], buf, sizeof(buf));
            fprintf(out, LABEL " %s\n", shown++ ? "" : "Call trace:", buf);
        }
        if (skipped)
            fprintf(out, LABEL " (%d unreliable \"?\" entr%s left out)\n", "", skipped,
                    skipped == 1 ? "y" : "ies");
    }
}

enum { W_TEXT = 1, W_SELF = 2, W_INSIDE = 4, W_LIST_PREV = 8 };

static bool kernel_text(uint64_t v)
{
    return v >= 0xffffffff80000000ull && v < 0xffffffffd0000000ull;
}

static unsigned word_class(const struct ex_dump *d, int i)
{
    const struct ex_dump_word *w = &d->words[i];
    uint64_t own = d->base + (uint64_t)i * d->word_size;
    uint64_t size = (uint64_t)d->nwords * d->word_size;
    unsigned c = 0;
    if (!w->known)
        return w->sym[0] ? W_TEXT : 0;
    if (d->word_size == 8 && kernel_text(w->value))
        c |= W_TEXT;
    if (w->value == own)
        c |= W_SELF;
    else if (d->word_size == 8 && w->value == own - 8 && i > 0 && d->words[i - 1].known &&
             d->words[i - 1].value == own - 8)
        c |= W_LIST_PREV;
    else if (w->value >= d->base && w->value < d->base + size)
        c |= W_INSIDE;
    return c;
}

/* "  <- the oops' fault address" when another input knows this value. */
static const char *known_value(const struct ex_analysis *a, uint64_t v)
{
    if (!v)
        return "";
    for (int i = 0; i < a->m->noopses; i++)
        if (a->views[i].has_fault_addr && a->views[i].fault_addr == v)
            return "  <- the oops' fault address";
    for (int i = 0; i < a->m->nreports; i++)
        if (a->findings[i].shown && a->findings[i].value_known && a->findings[i].value == v)
            return "  <- the stray value of a report";
    return "";
}

static void text_dump(FILE *out, const struct ex_analysis *a, int i)
{
    const struct ex_dump *d = &a->m->dumps[i];
    uint64_t size = (uint64_t)d->nwords * d->word_size;
    fprintf(out, "\n== Crash dump %d: 0x%" PRIx64 ", %d words of %u bytes (%" PRIu64 " bytes; ",
            i + 1, d->base, d->nwords, d->word_size, size);
    lines_of(out, a->m, &d->src);
    fputs(")\n", out);
    static const struct {
        unsigned bit;
        const char *label, *what;
    } groups[] = {
        {W_TEXT, "Text:", "kernel text addresses (function pointers: they tell the object's type)"},
        {W_SELF | W_LIST_PREV, "Self:", "empty list heads (next and prev pointing at themselves)"},
        {W_INSIDE, "Inside:", "pointers into the object itself"}};
    for (size_t g = 0; g < 3; g++) {
        int shown = 0;
        for (int k = 0; k < d->nwords; k++) {
            unsigned c = word_class(d, k);
            if (!(c & groups[g].bit))
                continue;
            if (!shown++)
                fprintf(out, LABEL " %s\n", groups[g].label, groups[g].what);
            const struct ex_dump_word *w = &d->words[k];
            uint64_t own = (uint64_t)k * d->word_size;
            if (!w->known)
                fprintf(out, LABEL " +0x%03" PRIx64 "  %s\n", "", own, w->sym);
            else if (c & W_TEXT)
                fprintf(out, LABEL " +0x%03" PRIx64 "  0x%016" PRIx64 "%s%s\n", "", own, w->value,
                        w->sym[0] ? "  " : "", w->sym);
            else if (c & W_SELF)
                fprintf(out, LABEL " +0x%03" PRIx64 "  points at itself\n", "", own);
            else if (c & W_LIST_PREV)
                fprintf(out,
                        LABEL " +0x%03" PRIx64 "  points at +0x%03" PRIx64
                              " (a list head's prev)\n",
                        "", own, own - 8);
            else
                fprintf(out, LABEL " +0x%03" PRIx64 "  -> +0x%03" PRIx64 "\n", "", own,
                        w->value - d->base);
        }
    }
    /* Small numbers that are neither flags nor sizes (not powers of two) in
     * pointer-sized slots are what stray constants look like. */
    int shown = 0;
    for (int k = 0; k < d->nwords && d->word_size == 8; k++) {
        const struct ex_dump_word *w = &d->words[k];
        if (!w->known || w->value == 0 || w->value >= 0x10000 || !(w->value & (w->value - 1)))
            continue;
        if (!shown++)
            fprintf(out, LABEL " small constants, not powers of two (stray values look so):\n",
                    "Values:");
        fprintf(out, LABEL " +0x%03" PRIx64 "  0x%" PRIx64 "%s\n", "", (uint64_t)k * 8, w->value,
                known_value(a, w->value));
    }
    for (int k = 0; k < d->nwords; k++) {
        const struct ex_dump_word *w = &d->words[k];
        if (!w->known || (w->value < 0x10000 && w->value & (w->value - 1)) ||
            !*known_value(a, w->value))
            continue;
        fprintf(out, LABEL " +0x%03" PRIx64 "  0x%" PRIx64 "%s\n",
                "Known:", (uint64_t)k * d->word_size, w->value, known_value(a, w->value));
    }
    if (d->dropped)
        fprintf(out, LABEL " %d words outside the first %d were left out\n", "Missing:", d->dropped,
                EX_DUMP_WORDS_MAX);
}

static void text_types(FILE *out, const struct ex_analysis *a)
{
    const struct ex_type_result *tr = &a->types;
    const struct ex_target *t = &a->target;
    if (!tr->tried)
        return;
    fprintf(out, "\n== Types (%s)\n", a->opts.btf ? a->opts.btf : a->opts.binary);
    for (int i = 0; i < tr->ncands; i++)
        fprintf(out, LABEL " %s (%zu bytes), score %.2f: %s\n",
                i ? "" : "Candidates:", tr->cands[i].name, tr->cands[i].size, tr->cands[i].score,
                tr->cands[i].why);
    if (tr->has_field) {
        const struct field_at *f = &tr->field;
        fprintf(out,
                LABEL " at object offset 0x%" PRIx64 " of %s: %s (%s, %zu bytes at 0x%zx; %s "
                      "starts at 0x%zx)\n",
                "Field:", (uint64_t)t->off, tr->spec, f->path, f->field_type, f->field_size,
                f->field_offset, f->type, f->type_start);
        if (t->length && (uint64_t)t->off == f->field_offset && t->length == f->field_size)
            fprintf(out, LABEL " the %" PRIu64 "-byte %s covers exactly this field\n", "",
                    t->length, t->has_value ? "write" : "access");
    }
    if (tr->error[0])
        fprintf(out, LABEL " %s\n", "Note:", tr->error);
}

static void text_src(FILE *out, const struct ex_analysis *a)
{
    const struct ex_src_result *sr = &a->src;
    if (!sr->tried)
        return;
    fprintf(out, "\n== Source (%s)", a->opts.src);
    if (a->target.has_value)
        fprintf(out, ": 0x%" PRIx64, a->target.value);
    else if (sr->by_field)
        fprintf(out, ": the statements assigning %s", sr->field);
    fputc('\n', out);
    for (int i = 0; i < sr->nconsts; i++)
        fprintf(out, LABEL " %s (%s%s, %s:%d)\n", i ? "" : "Constants:", sr->consts[i].name,
                strcmp(sr->consts[i].kind, "define") ? "" : "#", sr->consts[i].kind,
                sr->consts[i].file, sr->consts[i].line);
    for (int i = 0; i < sr->nassigns; i++) {
        const struct src_assign *as = &sr->assigns[i];
        fprintf(out, LABEL " %s:%d %s%s%s%s\n", i ? "" : "Assigned:", as->file, as->line,
                as->function[0] ? as->function : "", as->function[0] ? ": " : "", as->text,
                as->same_field ? "   [the same field]" : "");
    }
    if (!sr->nconsts && !sr->nassigns && !sr->error[0])
        fprintf(out, LABEL " %s\n", "",
                sr->by_field ? "no statement assigning it found"
                             : "no constant with this value found");
    if (sr->error[0])
        fprintf(out, LABEL " %s\n", "Note:", sr->error);
}

static void text_summary(FILE *out, const struct ex_analysis *a)
{
    const struct ex_model *m = a->m;
    const struct ex_type_result *tr = &a->types;
    const struct ex_src_result *sr = &a->src;
    for (int r = 0; r < m->nreports; r++) {
        const struct ex_report *rep = &m->reports[r];
        const struct ex_finding *fd = &a->findings[r];
        if (!fd->shown || !fd->has_offset || (!fd->value_known && !tr->has_field))
            continue;
        fprintf(out, "\n== In short\n");
        fprintf(out, "%s\n", fd->summary);
        if (tr->has_field && a->opts.type)
            fprintf(out, "The offset is %s in the object's previous life as %s.\n", tr->field.path,
                    tr->spec);
        else if (tr->has_field)
            fprintf(out,
                    "The offset is %s if the object was a %s (the best-ranked candidate; --type "
                    "names the layout).\n",
                    tr->field.path, tr->spec);
        if (sr->nconsts)
            fprintf(out, "0x%" PRIx64 " is %s%s.\n", fd->value, sr->consts[0].name,
                    sr->nconsts > 1 ? " (among others)" : "");
        int same = 0;
        for (int i = 0; i < sr->nassigns; i++)
            same += sr->assigns[i].same_field;
        if (same) {
            fputs("Assigned to that field in:", out);
            int shown = 0;
            const struct src_assign *by_finder = NULL;
            char fb[EX_NAME_MAX];
            if (fd->finder)
                ex_base_name(fd->finder->func, fb, sizeof(fb));
            for (int i = 0; i < sr->nassigns; i++) {
                const struct src_assign *as = &sr->assigns[i];
                bool seen = false;
                for (int k = 0; k < i && !seen; k++)
                    seen =
                        sr->assigns[k].same_field && !strcmp(sr->assigns[k].function, as->function);
                if (!as->same_field || !as->function[0] || seen)
                    continue;
                fprintf(out, "%s %s", shown++ ? "," : "", as->function);
                if (fd->finder && !strcmp(fb, as->function) && !by_finder)
                    by_finder = as;
            }
            if (by_finder && !strcmp(fd->finder_what, "made the access"))
                fprintf(out, ": %s, which made the access, is one of them (%s:%d: %s).\n", fb,
                        by_finder->file, by_finder->line, by_finder->text);
            else
                fputs(": a path that writes after the object was freed is the culprit.\n", out);
        }
        if (a->nlinks)
            fputs("Other inputs link to it (see Links above).\n", out);
        (void)rep;
        break;
    }
}

void ex_print_text(FILE *out, const struct ex_analysis *a)
{
    const struct ex_model *m = a->m;
    static const char *const families[] = {"SLUB", "KASAN", "KFENCE", "slabdbg guard"};
    int counts[4] = {0}, noopses = 0;
    for (int i = 0; i < m->nreports; i++) {
        if (!a->findings[i].shown)
            continue;
        for (int f = 0; f < 4; f++)
            if (!strcmp(ex_report_family(&m->reports[i]), families[f]))
                counts[f]++;
    }
    for (int i = 0; i < m->noopses; i++)
        noopses += a->views[i].shown;
    fputs("slabdbg explain: ", out);
    bool any = false;
    for (int f = 0; f < 4; f++)
        if (counts[f]) {
            fprintf(out, "%s%d %s report%s", any ? ", " : "", counts[f], families[f],
                    counts[f] == 1 ? "" : "s");
            any = true;
        }
    if (!any)
        fputs("0 SLUB reports", out);
    fprintf(out, ", %d oops%s, %d crash dump%s", noopses, noopses == 1 ? "" : "es", m->ndumps,
            m->ndumps == 1 ? "" : "s");
    if (m->nothers)
        fprintf(out, ", %d other kernel report%s (not explained)", m->nothers,
                m->nothers == 1 ? "" : "s");
    fputc('\n', out);
    for (int i = 0; i < m->nreports; i++)
        if (a->findings[i].shown)
            text_report(out, a, i);
    for (int i = 0; i < m->noopses; i++)
        if (a->views[i].shown)
            text_oops(out, a, i);
    for (int i = 0; i < m->ndumps; i++)
        text_dump(out, a, i);
    if (a->nlinks) {
        fprintf(out, "\n== Links\n");
        for (int i = 0; i < a->nlinks; i++)
            fprintf(out, "- %s\n", a->links[i].text);
    }
    text_types(out, a);
    text_src(out, a);
    text_summary(out, a);
    if (m->nothers) {
        fprintf(out, "\n== Also in the input (recognised, not explained)\n");
        for (int i = 0; i < m->nothers; i++)
            fprintf(out, "- %s, %s line %d: %s\n", m->others[i].what,
                    ex_input_name(m, m->others[i].src.input), m->others[i].src.first_line,
                    m->others[i].header);
    }
    if (m->dropped_reports || m->dropped_oopses || m->dropped_dumps)
        fprintf(out,
                "\nNote: %d more reports, %d more oopses and %d more dumps were not read (at most "
                "%d, %d and %d)\n",
                m->dropped_reports, m->dropped_oopses, m->dropped_dumps, EX_REPORTS_MAX,
                EX_OOPSES_MAX, EX_DUMPS_MAX);
    for (int i = 0; i < m->ninputs; i++)
        if (m->inputs[i].cut_lines)
            fprintf(out, "Note: %s has lines longer than %d bytes; they were cut\n",
                    ex_input_name(m, i), EX_LINE_MAX - 1);
}

/*
 * Links between what the inputs hold: an oops that trips over the object a
 * memory-error report is about, or over the value a report found written;
 * a crash dump of that object; two reports about one object.  Every pair
 * of formats is compared the same way, through the model's common facts
 * (object address and size, access address, stray value) and the oops'
 * registers, fault address and decoded instruction.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "analyze/analyze.h"

static void add(struct ex_analysis *a, const char *kind, const char *from, const char *to,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void add(struct ex_analysis *a, const char *kind, const char *from, const char *to,
                const char *fmt, ...)
{
    if (a->nlinks == EX_LINKS_MAX)
        return;
    struct ex_link *l = &a->links[a->nlinks];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->text, sizeof(l->text), fmt, ap);
    va_end(ap);
    for (int i = 0; i < a->nlinks; i++)
        if (!strcmp(a->links[i].text, l->text))
            return;
    snprintf(l->kind, sizeof(l->kind), "%s", kind);
    snprintf(l->from, sizeof(l->from), "%s", from);
    snprintf(l->to, sizeof(l->to), "%s", to);
    a->nlinks++;
}

/* "SLUB report 1", "KASAN report 2", ... */
static void report_label(const struct ex_report *r, int i, char *buf, size_t size)
{
    const char *f = r->src.format == FMT_SLUB     ? "SLUB"
                    : r->src.format == FMT_KASAN  ? "KASAN"
                    : r->src.format == FMT_KFENCE ? "KFENCE"
                                                  : "slabdbg";
    snprintf(buf, size, "%s report %d", f, i + 1);
}

static uint64_t untag(uint64_t a)
{
    if ((a >> 56) != 0 && (a >> 56) != 0xff && ((a >> 48) & 0xff) == 0xff)
        return a | 0xff00000000000000ull;
    return a;
}

/* The object a report is about, as an address range; false when its
 * address is unknown or hashed. */
static bool object_range(const struct ex_report *r, uint64_t *lo, uint64_t *hi)
{
    if (!r->has_object || r->hashed || r->object < 0x10000)
        return false;
    *lo = untag(r->object);
    *hi = *lo + (r->has_object_size ? r->object_size : 1);
    return true;
}

static bool gpr(const char *name)
{
    return strncmp(name, "CR", 2) && strcmp(name, "EFLAGS") && strcmp(name, "RSP") &&
           strcmp(name, "sp") && strcmp(name, "pc") && strcmp(name, "RIP") &&
           strcmp(name, "badaddr") && strcmp(name, "pstate") && strcmp(name, "psr") &&
           strcmp(name, "status") && strcmp(name, "cause") && strcmp(name, "FS") &&
           strcmp(name, "GS") && strcmp(name, "knlGS") && strncmp(name, "DR", 2) &&
           strcmp(name, "ORIG_RAX") && strcmp(name, "epc") && strcmp(name, "gp") &&
           strcmp(name, "tp");
}

/* Whether o comes after r in the inputs. */
static bool after(const struct ex_src *r, const struct ex_src *o)
{
    return o->input > r->input || (o->input == r->input && o->first_line > r->first_line);
}

/* The checking or reporting function of an allocator or sanitizer in an
 * oops' trace: the oops happened while a report was being made. */
static const char *checker_frame(const struct ex_oops *o)
{
    static const char *const checkers[] = {
        "print_trailer", "object_err", "slab_err", "slab_bug", "check_bytes_and_report",
        "check_object", "free_debug_processing", "alloc_debug_processing", "on_freelist",
        "print_track", "print_tracking", "print_address_description", "print_report",
        "kasan_report", "kfence_report_error"};
    for (int i = -1; i < o->trace.n; i++) {
        /* the pc first, then the trace from its top */
        const struct ex_frame *f = i < 0 ? (o->has_pc ? &o->pc : NULL) : &o->trace.f[i];
        if (!f || !f->func[0])
            continue;
        char base[EX_NAME_MAX];
        ex_base_name(f->func, base, sizeof(base));
        for (size_t k = 0; k < sizeof(checkers) / sizeof(checkers[0]); k++)
            if (!strcmp(base, checkers[k]))
                return checkers[k];
    }
    return NULL;
}

static void report_oops(struct ex_analysis *a, int ri, int oi)
{
    const struct ex_report *r = &a->m->reports[ri];
    const struct ex_finding *fd = &a->findings[ri];
    const struct ex_oops *o = &a->m->oopses[oi];
    const struct ex_oops_view *v = &a->views[oi];
    char rl[32], ol[32];
    report_label(r, ri, rl, sizeof(rl));
    snprintf(ol, sizeof(ol), "oops %d", oi + 1);
    char off[32];
    /* the value the report found written, dereferenced by the oops */
    if (fd->value_known && fd->value >= 0x10 && v->has_fault_addr) {
        snprintf(off, sizeof(off), "%s0x%" PRIx64, fd->stray.off < 0 ? "-" : "",
                 (uint64_t)(fd->stray.off < 0 ? -fd->stray.off : fd->stray.off));
        if (v->fault_addr == fd->value)
            add(a, "value", rl, ol,
                "the oops dereferenced 0x%" PRIx64 ", the value found written into the %s%s object "
                "at offset %s (oops %d, %s)",
                fd->value, r->cls == CLS_CORRUPTION && strstr(r->kind, "poison") ? "freed " : "",
                r->cache, off, oi + 1, rl);
        else if (v->has_base_value && v->base_value == fd->value)
            add(a, "value", rl, ol,
                "oops %d used 0x%" PRIx64 " as a pointer, the value %s found written into the %s "
                "object at offset %s",
                oi + 1, fd->value, rl, r->cache, off);
    }
    /* the oops while the report was being made (it cut the report short) */
    const char *checker = checker_frame(o);
    if (checker && after(&r->src, &o->src) && o->src.input == r->src.input &&
        o->src.first_line <= r->src.last_line + 8)
        add(a, "during", rl, ol,
            "oops %d happened while %s was being made (in %s): the report is cut "
            "short, and the allocator's own metadata may be what is damaged",
            oi + 1, rl, checker);
    /* text over the report's object, text as the oops' pointer */
    if (fd->value_known && fd->value_note.kind == VAL_ASCII && v->has_fault_addr &&
        v->addr_note.kind == VAL_ASCII && after(&r->src, &o->src))
        add(a, "text", rl, ol,
            "oops %d's bad pointer 0x%" PRIx64 " is ASCII text, like the bytes %s found written "
            "over the %s object: the same overrun of text may have reached that pointer",
            oi + 1, v->fault_addr, rl, r->cache[0] ? r->cache : "slab");
    uint64_t lo, hi;
    if (!object_range(r, &lo, &hi))
        goto same_address;
    uint64_t slack = 64; /* red zones around the object */
    if (v->has_fault_addr && v->fault_addr + slack >= lo && v->fault_addr < hi + slack) {
        int64_t d = (int64_t)(v->fault_addr - lo);
        add(a, "object", rl, ol,
            "oops %d faulted at 0x%" PRIx64 ", %s0x%" PRIx64 " from the start of the %s object "
            "%s is about",
            oi + 1, v->fault_addr, d < 0 ? "-" : "+", (uint64_t)(d < 0 ? -d : d), r->cache, rl);
    }
    if (v->fault >= 0 && v->has_base_value && v->base_value >= lo && v->base_value < hi) {
        char base[8];
        snprintf(base, sizeof(base), "%s", v->insns[v->fault].base);
        add(a, "object", rl, ol,
            "oops %d dereferenced a pointer into the %s object of %s: %s = object + 0x%" PRIx64
            " (the object %s)",
            oi + 1, r->cache, rl, base, v->base_value - lo,
            r->cls == CLS_USE_AFTER_FREE || r->cls == CLS_DOUBLE_FREE || !strcmp(r->region_state, "freed")
                ? "was freed"
                : "is the one the report is about");
    }
    if (v->load_addr_known && v->load_addr >= lo && v->load_addr < hi) {
        uint64_t d = v->load_addr - lo;
        char base[8];
        snprintf(base, sizeof(base), "%s", v->insns[v->fault].base);
        for (char *p = base; *p && o->arch == ARCH_X86_64; p++)
            *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        add(a, "object", rl, ol,
            "oops %d loaded %s from 0x%" PRIx64 ", offset 0x%" PRIx64 " of the %s object of %s%s",
            oi + 1, base, v->load_addr, d, r->cache, rl,
            fd->has_stray && (uint64_t)fd->stray.off == d ? ", the offset of the stray write" : "");
    }
    /* registers holding pointers into the object */
    char regs[200];
    size_t n = 0;
    regs[0] = 0;
    for (int i = 0; i < o->nregs; i++) {
        uint64_t val = o->regs[i].value;
        if (!gpr(o->regs[i].name) || val < lo || val >= hi)
            continue;
        int k = snprintf(regs + n, sizeof(regs) - n, "%s%s = +0x%" PRIx64, n ? ", " : "",
                         o->regs[i].name, val - lo);
        if (k < 0 || (size_t)k >= sizeof(regs) - n)
            break;
        n += (size_t)k;
    }
    if (n)
        add(a, "register", rl, ol,
            "oops %d was working on the %s object of %s (0x%" PRIx64 "): %s", oi + 1, r->cache,
            rl, lo, regs);
same_address:
    if (fd->addr && v->has_fault_addr && fd->addr == v->fault_addr && !r->hashed)
        add(a, "address", rl, ol,
            "oops %d faulted at 0x%" PRIx64 ", the address of the bad access %s reported", oi + 1,
            v->fault_addr, rl);
}

static void report_report(struct ex_analysis *a, int i, int j)
{
    const struct ex_report *x = &a->m->reports[i], *y = &a->m->reports[j];
    uint64_t xlo, xhi, ylo, yhi;
    char xl[32], yl[32];
    report_label(x, i, xl, sizeof(xl));
    report_label(y, j, yl, sizeof(yl));
    if (object_range(x, &xlo, &xhi) && object_range(y, &ylo, &yhi) && xlo == ylo)
        add(a, "same-object", xl, yl,
            "%s and %s are about the %s object at the same address 0x%" PRIx64
            " (the same object, or one allocated there later)",
            xl, yl, x->cache[0] ? x->cache : "slab", xlo);
}

static void dump_links(struct ex_analysis *a)
{
    const struct ex_model *m = a->m;
    for (int d = 0; d < m->ndumps; d++) {
        const struct ex_dump *dp = &m->dumps[d];
        uint64_t size = (uint64_t)dp->nwords * dp->word_size;
        char dl[32];
        snprintf(dl, sizeof(dl), "dump %d", d + 1);
        for (int r = 0; r < m->nreports; r++) {
            const struct ex_finding *fd = &a->findings[r];
            char rl[32];
            report_label(&m->reports[r], r, rl, sizeof(rl));
            if (!fd->shown || !fd->value_known || fd->value < 0x10)
                continue;
            for (int i = 0; i < dp->nwords; i++) {
                if (!dp->words[i].known || dp->words[i].value != fd->value)
                    continue;
                int64_t off = (int64_t)i * dp->word_size;
                if (off == fd->stray.off)
                    add(a, "dump", rl, dl,
                        "crash dump %d holds 0x%" PRIx64 " at offset 0x%" PRIx64
                        " of its object, the offset where %s found it written",
                        d + 1, fd->value, (uint64_t)off, rl);
                else
                    add(a, "dump", rl, dl,
                        "crash dump %d holds 0x%" PRIx64 " at offset 0x%" PRIx64
                        " (%s found it at 0x%" PRIx64 ")",
                        d + 1, fd->value, (uint64_t)off, rl, (uint64_t)fd->stray.off);
            }
        }
        for (int o = 0; o < m->noopses; o++) {
            const struct ex_oops *op = &m->oopses[o];
            const struct ex_oops_view *v = &a->views[o];
            char ol[32];
            snprintf(ol, sizeof(ol), "oops %d", o + 1);
            if (!v->shown)
                continue;
            char regs[256];
            size_t n = 0;
            regs[0] = 0;
            for (int i = 0; i < op->nregs; i++) {
                uint64_t val = op->regs[i].value;
                if (!gpr(op->regs[i].name) || val < dp->base || val - dp->base >= size)
                    continue;
                int k = snprintf(regs + n, sizeof(regs) - n, "%s%s = +0x%" PRIx64, n ? ", " : "",
                                 op->regs[i].name, val - dp->base);
                if (k < 0 || (size_t)k >= sizeof(regs) - n)
                    break;
                n += (size_t)k;
            }
            if (n)
                add(a, "dump", ol, dl,
                    "oops %d was working on the object of crash dump %d: %s (object at 0x%" PRIx64
                    ")",
                    o + 1, d + 1, regs, dp->base);
            if (v->has_fault_addr && v->fault_addr)
                for (int i = 0; i < dp->nwords; i++)
                    if (dp->words[i].known && dp->words[i].value == v->fault_addr)
                        add(a, "dump", ol, dl,
                            "crash dump %d holds the oops' fault address 0x%" PRIx64
                            " at offset 0x%" PRIx64,
                            d + 1, v->fault_addr, (uint64_t)i * dp->word_size);
            if (v->load_addr_known && v->load_addr >= dp->base && v->load_addr - dp->base < size) {
                uint64_t off = v->load_addr - dp->base;
                bool holds = false;
                if (off % dp->word_size == 0) {
                    const struct ex_dump_word *w = &dp->words[off / dp->word_size];
                    holds = w->known && v->has_base_value && w->value == v->base_value;
                }
                char base[8];
                snprintf(base, sizeof(base), "%s", v->insns[v->fault].base);
                for (char *p = base; *p && op->arch == ARCH_X86_64; p++)
                    *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
                add(a, "dump", ol, dl,
                    "oops %d loaded %s from 0x%" PRIx64 " = crash dump %d + 0x%" PRIx64 "%s",
                    o + 1, base, v->load_addr, d + 1, off,
                    holds ? ", which holds that very value" : "");
            }
        }
    }
}

void ex_find_links(struct ex_analysis *a)
{
    const struct ex_model *m = a->m;
    for (int r = 0; r < m->nreports; r++) {
        if (!a->findings[r].shown)
            continue;
        for (int o = 0; o < m->noopses; o++)
            if (a->views[o].shown)
                report_oops(a, r, o);
        for (int s = r + 1; s < m->nreports; s++)
            if (a->findings[s].shown)
                report_report(a, r, s);
    }
    dump_links(a);
}

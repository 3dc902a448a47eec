/*
 * slabdbg explain [FILE|-]... : reads SLUB reports (the kernel's and ours,
 * text or JSON), kernel oopses and crash(8) dumps, and says what happened:
 * which bytes of which object were written, with what value, who allocated,
 * freed and found the object, which register held a bad address and where
 * it came from, and how the inputs relate.  With type information (DWARF or
 * BTF) it names the field at the stray offset; with a source tree it lists
 * the constants equal to the stray value and where they are assigned.
 *
 * The analysis is done once into plain records, then printed as text or as
 * one JSON object.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_CAPSTONE
#include <capstone/capstone.h>
#endif

#include "tools/explain.h"
#include "tools/oops_parse.h"
#include "tools/report_parse.h"
#include "tools/tools.h"

/* The type and source helpers are built from their own files, which may be
 * absent from a build: weak references are NULL then, and the features say
 * they are not built. */
#pragma weak types_open_elf
#pragma weak types_open_btf
#pragma weak types_close
#pragma weak types_field_at
#pragma weak types_rank
#pragma weak types_rank_hinted
#pragma weak src_scan

#define MAX_REPORTS 16
#define MAX_OOPSES 8
#define MAX_DUMPS 4
#define MAX_INPUTS 16
#define MAX_INSNS 48

/* ---- inputs ------------------------------------------------------------------- */

struct input {
    const char *name;
    int lines;
    bool cut_lines; /* some lines were longer than RP_LINE_MAX */
};

struct item_src {
    int input; /* index into inputs */
};

struct explain {
    struct explain_opts opts;
    int ninputs;
    struct input inputs[MAX_INPUTS];
    struct slub_report *reports;
    struct item_src report_src[MAX_REPORTS];
    int nreports, dropped_reports;
    int shown[MAX_REPORTS];       /* 0: merged into another report */
    int merged_json[MAX_REPORTS]; /* index+1 of the JSON report merged in */
    struct oops *oopses;
    struct item_src oops_src[MAX_OOPSES];
    int noopses, dropped_oopses;
    struct crash_dump *dumps;
    struct item_src dump_src[MAX_DUMPS];
    int ndumps, dropped_dumps;
};

/* Reads one input line by line into both parsers.  Lines longer than the
 * buffer are cut (the rest is dropped), so no line costs more memory. */
static void read_input(struct explain *e, FILE *f, const char *name)
{
    static char line[RP_LINE_MAX];
    int idx = e->ninputs++;
    struct input *in = &e->inputs[idx];
    in->name = name;
    struct slub_parser sp;
    struct oops_parser op;
    slub_parser_init(&sp, e->reports + e->nreports, MAX_REPORTS - e->nreports);
    oops_parser_init(&op, e->oopses + e->noopses, MAX_OOPSES - e->noopses, e->dumps + e->ndumps,
                     MAX_DUMPS - e->ndumps);
    while (fgets(line, sizeof(line), f)) {
        size_t n = strlen(line);
        if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
            int c;
            in->cut_lines = true;
            while ((c = getc(f)) != EOF && c != '\n')
                ;
        }
        /* NUL bytes end a line early: the rest of it is not text anyway. */
        line[strcspn(line, "\n")] = 0;
        in->lines++;
        slub_parser_line(&sp, line);
        oops_parser_line(&op, line);
    }
    slub_parser_finish(&sp);
    oops_parser_finish(&op);
    for (int i = 0; i < sp.n; i++)
        e->report_src[e->nreports + i].input = idx;
    for (int i = 0; i < op.noopses; i++)
        e->oops_src[e->noopses + i].input = idx;
    for (int i = 0; i < op.ndumps; i++)
        e->dump_src[e->ndumps + i].input = idx;
    e->nreports += sp.n;
    e->dropped_reports += sp.dropped;
    e->noopses += op.noopses;
    e->dropped_oopses += op.dropped_oopses;
    e->ndumps += op.ndumps;
    e->dropped_dumps += op.dropped_dumps;
}

/* The text and JSON reports of one finding (same cache, same fault) are
 * shown once: the JSON adds the requested size, the text the bytes. */
static void merge_duplicates(struct explain *e)
{
    for (int i = 0; i < e->nreports; i++)
        e->shown[i] = 1;
    for (int j = 0; j < e->nreports; j++) {
        struct slub_report *js = &e->reports[j];
        if (!js->from_json || !js->nfaults || !js->faults[0].has_range)
            continue;
        for (int i = 0; i < e->nreports; i++) {
            struct slub_report *tx = &e->reports[i];
            if (i == j || !tx->from_text || !e->shown[i] || !tx->nfaults ||
                !tx->faults[0].has_range || strcmp(tx->cache, js->cache) ||
                tx->faults[0].start != js->faults[0].start)
                continue;
            if (!tx->has_requested && js->has_requested) {
                tx->has_requested = true;
                tx->requested_size = js->requested_size;
            }
            if (!tx->has_object_size && js->has_object_size) {
                tx->has_object_size = true;
                tx->object_size = js->object_size;
                tx->size_source = js->size_source;
            }
            e->shown[j] = 0;
            e->merged_json[i] = j + 1;
            break;
        }
    }
}

/* ---- words about values ---------------------------------------------------------- */

static bool kernel_text(uint64_t v)
{
    return v >= 0xffffffff80000000ull && v < 0xffffffffd0000000ull;
}

/* What a value looks like, as a pointer or not; one sentence into buf.
 * Returns true when it cannot be a valid pointer. */
static bool value_note(uint64_t v, unsigned width, char *buf, size_t size)
{
    static const struct {
        uint64_t v;
        const char *what;
    } poisons[] = {
        {0x6b6b6b6b6b6b6b6bull, "SLUB's poison of a free object (0x6b): read from freed memory"},
        {0x5a5a5a5a5a5a5a5aull, "SLUB's padding poison (0x5a)"},
        {0xbbbbbbbbbbbbbbbbull, "SLUB's red zone of a free object (0xbb)"},
        {0xccccccccccccccccull, "SLUB's red zone of an allocated object (0xcc)"},
        {0xdead000000000100ull, "LIST_POISON1: the next pointer of a deleted list entry"},
        {0xdead000000000122ull, "LIST_POISON2: the prev pointer of a deleted list entry"},
        {0xdead4ead00000000ull, "a spinlock's poison"},
    };
    for (size_t i = 0; i < sizeof(poisons) / sizeof(poisons[0]); i++)
        if (v == poisons[i].v) {
            snprintf(buf, size, "0x%" PRIx64 " is %s", v, poisons[i].what);
            return true;
        }
    if (v == 0) {
        snprintf(buf, size, "zero: a NULL pointer, or a cleared field");
        return false;
    }
    if (v < 0x10000) {
        snprintf(buf, size,
                 "0x%" PRIx64 " looks like a small constant (a flag, state, count or #define), "
                 "not a pointer: nothing is ever mapped below 64 KiB",
                 v);
        return true;
    }
    if (width && width < 8) {
        snprintf(buf, size, "0x%" PRIx64 " is a %u-bit value: too narrow for a pointer", v,
                 width * 8);
        return true;
    }
    if (!oops_canonical(v)) {
        snprintf(buf, size, "0x%" PRIx64 " is not a canonical address: data, not a pointer", v);
        return true;
    }
    if (kernel_text(v))
        snprintf(buf, size, "0x%" PRIx64 " looks like a kernel text address (a function pointer)",
                 v);
    else if (v >= 0xffff800000000000ull)
        snprintf(buf, size, "0x%" PRIx64 " looks like a kernel pointer", v);
    else
        snprintf(buf, size, "0x%" PRIx64 " could be a user-space pointer", v);
    return false;
}

static const char *kind_meaning(const char *kind)
{
    static const struct {
        const char *kind, *meaning;
    } m[] = {
        {"poison_overwritten",
         "a write into an object after it was freed (use after free): its poison was overwritten"},
        {"end_poison_overwritten",
         "a write into the last byte of a freed object (use after free, or an off-by-one)"},
        {"left_redzone_overwritten",
         "a write just before the object (buffer underflow, or a write into a neighbour)"},
        {"right_redzone_overwritten", "a write past the end of the object (buffer overflow)"},
        {"redzone_overwritten", "a write past the end of the object (buffer overflow)"},
        {"kmalloc_redzone_overwritten",
         "a write past the requested size, inside the kmalloc class's slack (buffer overflow)"},
        {"object_padding_overwritten", "a write into the padding behind the object's metadata"},
        {"alignment_padding_overwritten", "a write into the alignment padding behind the object"},
        {"padding_overwritten", "a write into the unused end of a slab"},
        {"already_free", "a double free: the object was freed again"},
        {"invalid_pointer", "a free of a pointer that is not the start of an object"},
        {"outside_slab", "a free of an address outside any object of this slab"},
        {"wrong_cache", "a free to the wrong cache"},
        {"freepointer_corrupt",
         "the free list pointer inside a free object was overwritten (use after free)"},
        {"freechain_corrupt", "the chain of free objects is broken (use after free, double free)"},
        {"wrong_count", "the slab's object count disagrees with its free list"},
        {"objects_remaining", "objects still allocated when their cache was destroyed (a leak)"},
    };
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
        if (!strcmp(kind, m[i].kind))
            return m[i].meaning;
    return NULL;
}

static bool poison_kind(const struct slub_report *r)
{
    return strstr(r->kind, "poison_overwritten") || !strcmp(r->kind, "freepointer_corrupt");
}

/* ---- per-report analysis ------------------------------------------------------------ */

struct finding {
    bool has_stray;
    struct rp_stray stray;
    const struct rp_fault *fault;
    bool value_known; /* a word, or the leading known bytes as one */
    uint64_t value;
    unsigned width;
    bool not_pointer;
    char value_note[256];
    const struct rp_frame *finder;
    const char *found_when; /* "when it allocated the object again" ... */
};

static const struct rp_frame *first_user_frame(const struct rp_frame *f, int n)
{
    for (int i = 0; i < n; i++)
        if (!f[i].unreliable && f[i].func[0] && !rp_is_allocator_frame(f[i].func))
            return &f[i];
    return NULL;
}

static const char *found_when(const struct slub_report *r)
{
    for (int i = 0; i < r->nframes; i++) {
        const char *fn = r->frames[i].func;
        if (r->frames[i].unreliable)
            continue;
        if (strstr(fn, "alloc_debug_processing") || strstr(fn, "slab_alloc"))
            return "when it allocated the object again";
        if (strstr(fn, "free_debug_processing") || strstr(fn, "slab_free"))
            return "when it freed an object";
        if (strstr(fn, "validate_slab"))
            return "while validating the cache";
        if (strstr(fn, "kmem_cache_destroy") || strstr(fn, "shutdown"))
            return "when the cache was destroyed";
    }
    return NULL;
}

static void analyse_report(const struct slub_report *r, struct finding *fd)
{
    memset(fd, 0, sizeof(*fd));
    if (r->nfaults && rp_stray(r, 0, &fd->stray)) {
        fd->has_stray = true;
        fd->fault = &r->faults[0];
        if (fd->stray.has_word) {
            fd->value_known = true;
            fd->value = fd->stray.word;
            fd->width = fd->stray.width;
        } else if (fd->stray.nknown && (uint64_t)fd->stray.nknown == fd->stray.length &&
                   fd->stray.length <= 8) {
            fd->value_known = true; /* unaligned or odd-sized: still one number */
            fd->width = (unsigned)fd->stray.length;
            for (unsigned i = fd->width; i-- > 0;)
                fd->value = fd->value << 8 | fd->stray.bytes[i];
        }
        if (fd->value_known)
            fd->not_pointer =
                value_note(fd->value, fd->width, fd->value_note, sizeof(fd->value_note));
    }
    fd->finder = first_user_frame(r->frames, r->nframes);
    fd->found_when = found_when(r);
}

static const char *age_unit(const struct slub_report *r)
{
    return r->origin == RP_ORIGIN_KERNEL ? "jiffies" : "ms";
}

/* ---- oops analysis: decoding and registers ------------------------------------------- */

struct insn {
    int start, len;
    char text[200];
    /* memory operand, if any */
    bool mem;
    char base[8], index[8];
    int scale;
    int64_t disp;
    int size;
    char dest[8]; /* register written, "" if none */
};

struct oops_view {
    int ninsns, fault; /* fault: index of the faulting instruction, -1 */
    struct insn insns[MAX_INSNS];
    bool decoded, branch_base_func;
    const char *decode_note;
    /* who held the fault address */
    char regs_equal[128];
    bool addr_from_operand; /* fault address = base + index*scale + disp */
    uint64_t base_value;
    /* where the base register came from */
    int loader; /* index of the instruction that set the base register, -1 */
    bool load_addr_known;
    uint64_t load_addr;
    char verdict[512];
};

#ifdef HAVE_CAPSTONE
static void upper(char *dst, size_t size, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < size; i++)
        dst[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
    dst[i] = 0;
}

/* AT&T mnemonics carry a size suffix ("movq"); like objdump, drop it when a
 * register operand already says the size. */
static void mnemonic(const cs_insn *in, char *buf, size_t size)
{
    static const char *const plain[] = {"mov",  "add", "sub",  "and",  "or",  "xor", "cmp",
                                        "test", "lea", "push", "pop",  "inc", "dec", "adc",
                                        "sbb",  "neg", "not",  "xchg", "shl", "shr", "sar"};
    snprintf(buf, size, "%s", in->mnemonic);
    size_t n = strlen(buf);
    bool reg = false;
    for (int i = 0; i < in->detail->x86.op_count; i++)
        reg |= in->detail->x86.operands[i].type == X86_OP_REG;
    if (!reg || n < 2 || !strchr("bwlq", buf[n - 1]))
        return;
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        if (strlen(plain[i]) == n - 1 && !strncmp(buf, plain[i], n - 1)) {
            buf[n - 1] = 0;
            return;
        }
}

static void fill_insn(csh h, const cs_insn *in, int start, struct insn *out)
{
    char mn[32];
    memset(out, 0, sizeof(*out));
    out->start = start;
    out->len = in->size;
    mnemonic(in, mn, sizeof(mn));
    snprintf(out->text, sizeof(out->text), "%s%s%s", mn, in->op_str[0] ? " " : "", in->op_str);
    const cs_x86 *x = &in->detail->x86;
    for (int i = 0; i < x->op_count; i++) {
        const cs_x86_op *op = &x->operands[i];
        if (op->type == X86_OP_MEM && !out->mem) {
            out->mem = true;
            if (op->mem.base != X86_REG_INVALID && op->mem.base != X86_REG_RIP)
                upper(out->base, sizeof(out->base), cs_reg_name(h, op->mem.base));
            if (op->mem.index != X86_REG_INVALID)
                upper(out->index, sizeof(out->index), cs_reg_name(h, op->mem.index));
            out->scale = op->mem.scale;
            out->disp = op->mem.disp;
            out->size = op->size;
        } else if (op->type == X86_OP_REG && (op->access & CS_AC_WRITE)) {
            upper(out->dest, sizeof(out->dest), cs_reg_name(h, op->reg));
        }
    }
}

/* Decodes from `start`; returns the number of instructions, and in *end
 * where decoding stopped. */
static int decode_run(csh h, const uint8_t *code, int ncode, uint64_t base, int start, int stop,
                      struct insn *out, int max, int *end)
{
    cs_insn *in = cs_malloc(h);
    const uint8_t *p = code + start;
    size_t left = (size_t)(ncode - start);
    uint64_t addr = base + (uint64_t)start;
    int n = 0, pos = start;
    while (pos < stop && n < max && cs_disasm_iter(h, &p, &left, &addr, in)) {
        if (out)
            fill_insn(h, in, pos, &out[n]);
        n++;
        pos += in->size;
    }
    cs_free(in, 1);
    *end = pos;
    return n;
}

/* The bytes before the marked one have no known instruction boundary:
 * like the kernel's decodecode, start at the earliest byte from which
 * decoding lands exactly on the marked byte. */
static void decode_code(const struct oops *o, struct oops_view *v)
{
    csh h;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
        v->decode_note = "capstone could not be opened";
        return;
    }
    cs_option(h, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
    cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
    int mark = o->code_mark >= 0 ? o->code_mark : 0, end;
    /* Branch targets read as offsets in the function when RIP names it,
     * as addresses when RIP is one. */
    uint64_t base = 0;
    if (o->has_rip && o->rip.func[0] && o->rip.off >= (uint64_t)mark)
        base = o->rip.off - (uint64_t)mark;
    else if (o->has_rip && o->rip.has_addr)
        base = o->rip.addr - (uint64_t)mark;
    v->branch_base_func = o->has_rip && o->rip.func[0];
    int before = 0, from = mark;
    for (int s = 0; s < mark; s++) {
        int n = decode_run(h, o->code, o->ncode, base, s, mark, NULL, MAX_INSNS, &end);
        if (end == mark && n < MAX_INSNS / 2) {
            from = s;
            before = n;
            break;
        }
    }
    v->ninsns = decode_run(h, o->code, o->ncode, base, from, mark, v->insns, before, &end);
    v->fault = v->ninsns;
    int after = decode_run(h, o->code, o->ncode, base, mark, o->ncode, v->insns + v->ninsns,
                           MAX_INSNS - v->ninsns, &end);
    if (!after)
        v->fault = -1;
    v->ninsns += after;
    v->decoded = v->fault >= 0;
    if (!v->decoded)
        v->decode_note = "the marked bytes do not decode as an x86-64 instruction";
    cs_close(&h);
}
#else
static void decode_code(const struct oops *o, struct oops_view *v)
{
    (void)o;
    v->decode_note = "Code: bytes not decoded (built without capstone)";
}
#endif

static bool dump_word_at(const struct explain *e, uint64_t addr, int *dump, int64_t *off,
                         uint64_t *value, bool *known)
{
    for (int i = 0; i < e->ndumps; i++) {
        const struct crash_dump *d = &e->dumps[i];
        uint64_t size = (uint64_t)d->nwords * d->word_size;
        if (addr < d->base || addr - d->base >= size)
            continue;
        *dump = i;
        *off = (int64_t)(addr - d->base);
        *known = false;
        if ((addr - d->base) % d->word_size == 0) {
            const struct dump_word *w = &d->words[(addr - d->base) / d->word_size];
            *known = w->known;
            *value = w->value;
        }
        return true;
    }
    return false;
}

static void list_regs_equal(const struct oops *o, uint64_t v, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < o->nregs; i++) {
        const char *name = o->regs[i].name;
        if (o->regs[i].value != v || !strncmp(name, "CR", 2) || !strcmp(name, "EFLAGS"))
            continue;
        int k = snprintf(buf + n, size - n, "%s%s", n ? ", " : "", name);
        if (k < 0 || (size_t)k >= size - n)
            break;
        n += (size_t)k;
    }
}

static void verdict(const struct oops *o, struct oops_view *v)
{
    uint64_t a = o->fault_addr;
    const struct insn *in = v->fault >= 0 ? &v->insns[v->fault] : NULL;
    char note[256];
    bool not_ptr = value_note(a, 8, note, sizeof(note));
    if (!o->has_fault_addr) {
        v->verdict[0] = 0;
        return;
    }
    if (in && in->mem && v->addr_from_operand && in->base[0] && !in->index[0]) {
        if (v->base_value == 0 && (uint64_t)in->disp == a) {
            snprintf(v->verdict, sizeof(v->verdict),
                     "a NULL pointer plus a field offset: %s was NULL and the instruction reads "
                     "the field at offset 0x%" PRIx64,
                     in->base, a);
            return;
        }
        if (a < 0x10000 && in->disp == 0) {
            snprintf(v->verdict, sizeof(v->verdict),
                     "0x%" PRIx64 " is not a NULL pointer plus a field offset of a plausible "
                     "struct: the instruction (%s) adds no offset, so %s itself held 0x%" PRIx64
                     "%s; it looks like a constant written over a pointer",
                     a, in->text, in->base, a,
                     in->size > 1 && a % (uint64_t)in->size
                         ? ", and a pointer-sized load from a misaligned address is no field access"
                         : "");
            return;
        }
        if (a < 0x10000 && v->base_value < 0x10000 && v->base_value) {
            snprintf(v->verdict, sizeof(v->verdict),
                     "%s held 0x%" PRIx64 ", not NULL: a small constant used as a pointer, plus "
                     "the field offset 0x%" PRIx64,
                     in->base, v->base_value, (uint64_t)in->disp);
            return;
        }
    }
    if (a == 0) {
        snprintf(v->verdict, sizeof(v->verdict), "a NULL pointer was dereferenced");
    } else if (a < 0x10000 && !o->nregs) {
        snprintf(v->verdict, sizeof(v->verdict),
                 "0x%" PRIx64 " is below 64 KiB: a NULL pointer plus a field offset, or a small "
                 "constant used as a pointer (the oops has no registers to tell)",
                 a);
    } else if (a < 0x1000 && !v->regs_equal[0]) {
        snprintf(v->verdict, sizeof(v->verdict),
                 "possibly a NULL pointer plus the field offset 0x%" PRIx64
                 " (no register held the address itself)",
                 a);
    } else if (a < 0x10000 && v->regs_equal[0]) {
        snprintf(v->verdict, sizeof(v->verdict),
                 "0x%" PRIx64 " is not a NULL pointer plus a field offset of a plausible struct: "
                 "%s held exactly 0x%" PRIx64 "; it looks like a constant written over a pointer",
                 a, v->regs_equal, a);
    } else {
        snprintf(v->verdict, sizeof(v->verdict), "%s%s", note,
                 not_ptr ? "" : "; the pointer may be stale (use after free) or corrupted");
    }
}

static void analyse_oops(const struct explain *e, const struct oops *o, struct oops_view *v)
{
    memset(v, 0, sizeof(*v));
    v->fault = -1;
    v->loader = -1;
    if (o->has_code && o->code_mark >= 0)
        decode_code(o, v);
    else if (o->has_code)
        v->decode_note = "no faulting byte is marked in the Code: line";
    if (o->has_fault_addr)
        list_regs_equal(o, o->fault_addr, v->regs_equal, sizeof(v->regs_equal));
    const struct insn *in = v->fault >= 0 ? &v->insns[v->fault] : NULL;
    if (in && in->mem && in->base[0] && oops_reg(o, in->base, &v->base_value)) {
        uint64_t idx = 0;
        if (!in->index[0] || oops_reg(o, in->index, &idx)) {
            uint64_t ea = v->base_value + idx * (uint64_t)in->scale + (uint64_t)in->disp;
            v->addr_from_operand = o->has_fault_addr && ea == o->fault_addr;
        }
        /* the last instruction before the fault that wrote the base register */
        for (int i = v->fault - 1; i >= 0; i--) {
            if (!strcmp(v->insns[i].dest, in->base)) {
                v->loader = i;
                break;
            }
        }
        if (v->loader >= 0) {
            const struct insn *ld = &v->insns[v->loader];
            uint64_t b;
            if (ld->mem && ld->base[0] && !ld->index[0] && strcmp(ld->base, in->base) &&
                oops_reg(o, ld->base, &b)) {
                v->load_addr_known = true;
                v->load_addr = b + (uint64_t)ld->disp;
            }
        }
    }
    (void)e;
    verdict(o, v);
}

/* ---- crash dump analysis -------------------------------------------------------------- */

enum { W_TEXT = 1, W_SELF = 2, W_INSIDE = 4, W_LIST_PREV = 8 };

static unsigned word_class(const struct crash_dump *d, int i)
{
    const struct dump_word *w = &d->words[i];
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

/* For types_rank: names of function addresses, from rd -s symbols when
 * the dump has them, else only "this is kernel text". */
static const char *dump_func_name(uint64_t addr, void *ctx)
{
    const struct crash_dump *d = ctx;
    for (int i = 0; d && i < d->nwords; i++)
        if (d->words[i].sym[0] && d->words[i].known && d->words[i].value == addr)
            return d->words[i].sym;
    return kernel_text(addr) ? "(kernel text)" : NULL;
}

/* ---- output helpers --------------------------------------------------------------------- */

/* A small JSON writer: commas and nesting are tracked here. */
struct jw {
    FILE *f;
    int depth;
    bool first[16];
};

static void jw_sep(struct jw *w, const char *key)
{
    if (w->depth > 0) {
        if (!w->first[w->depth])
            fputc(',', w->f);
        w->first[w->depth] = false;
    }
    if (key) {
        fputc('"', w->f);
        fputs(key, w->f);
        fputs("\":", w->f);
    }
}

static void jw_string_body(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void jw_open(struct jw *w, const char *key, char c)
{
    jw_sep(w, key);
    fputc(c, w->f);
    if (w->depth < 15)
        w->depth++;
    w->first[w->depth] = true;
}

static void jw_close(struct jw *w, char c)
{
    fputc(c, w->f);
    if (w->depth > 0)
        w->depth--;
}

static void jw_str(struct jw *w, const char *key, const char *v)
{
    jw_sep(w, key);
    jw_string_body(w->f, v ? v : "");
}

static void jw_int(struct jw *w, const char *key, long long v)
{
    jw_sep(w, key);
    fprintf(w->f, "%lld", v);
}

static void jw_bool(struct jw *w, const char *key, bool v)
{
    jw_sep(w, key);
    fputs(v ? "true" : "false", w->f);
}

static void jw_hex(struct jw *w, const char *key, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
    jw_str(w, key, buf);
}

static void frame_name(const struct rp_frame *f, char *buf, size_t size)
{
    rp_frame_text(f, buf, size);
}

/* "a <- b <- c": the non-allocator functions of a stack, innermost first. */
static void chain(const struct rp_frame *f, int n, int max, char *buf, size_t size)
{
    size_t len = 0;
    int shown = 0;
    buf[0] = 0;
    for (int i = 0; i < n && shown < max; i++) {
        if (f[i].unreliable || !f[i].func[0] || rp_is_allocator_frame(f[i].func))
            continue;
        int k = snprintf(buf + len, size - len, "%s%s", shown ? " <- " : "", f[i].func);
        if (k < 0 || (size_t)k >= size - len)
            break;
        len += (size_t)k;
        shown++;
        if (!strcmp(f[i].func, "main"))
            break; /* what calls main says nothing */
    }
}

static void missing_text(unsigned m, char *buf, size_t size)
{
    static const struct {
        unsigned bit;
        const char *text;
    } t[] = {
        {RP_MISS_HEADER, "the BUG header line"},
        {RP_MISS_FAULT, "the line with the overwritten bytes"},
        {RP_MISS_TRACKS, "the allocation and free tracks"},
        {RP_MISS_OBJECT, "the Object line"},
        {RP_MISS_HEXDUMP, "the object's bytes"},
        {RP_MISS_TRACE, "the call trace of the code that found it"},
        {RP_MISS_FIX, "the FIX line (the report may be cut short)"},
        {RP_HEXDUMP_GAPS, "some hexdump rows (elided; those bytes are unknown)"},
        {RP_TRUNCATED, "the end of the JSON line (cut short)"},
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

/* ---- links between inputs ------------------------------------------------------------------ */

#define MAX_LINKS 16

struct links {
    int n;
    char text[MAX_LINKS][320];
};

static void link_add(struct links *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void link_add(struct links *l, const char *fmt, ...)
{
    if (l->n == MAX_LINKS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->text[l->n++], sizeof(l->text[0]), fmt, ap);
    va_end(ap);
}

static void find_links(const struct explain *e, const struct finding *fds,
                       const struct oops_view *views, struct links *l)
{
    for (int r = 0; r < e->nreports; r++) {
        const struct finding *fd = &fds[r];
        const struct slub_report *rep = &e->reports[r];
        if (!e->shown[r] || !fd->value_known)
            continue;
        for (int o = 0; o < e->noopses; o++) {
            const struct oops *op = &e->oopses[o];
            if (op->has_fault_addr && op->fault_addr == fd->value)
                link_add(l,
                         "the oops dereferenced 0x%" PRIx64 ", the value found written into the "
                         "%s%s object at offset 0x%" PRIx64 " (oops %d, SLUB report %d)",
                         fd->value, poison_kind(rep) ? "freed " : "", rep->cache,
                         (uint64_t)fd->stray.off, o + 1, r + 1);
            else if (views[o].regs_equal[0] && fd->value >= 0x10000 && false)
                (void)0;
        }
        for (int d = 0; d < e->ndumps; d++) {
            const struct crash_dump *dp = &e->dumps[d];
            for (int i = 0; i < dp->nwords; i++) {
                if (!dp->words[i].known || dp->words[i].value != fd->value)
                    continue;
                int64_t off = (int64_t)i * dp->word_size;
                if (off == fd->stray.off)
                    link_add(l,
                             "crash dump %d holds 0x%" PRIx64 " at offset 0x%" PRIx64
                             " of its object, the offset where SLUB report %d found it written",
                             d + 1, fd->value, (uint64_t)off, r + 1);
                else
                    link_add(l,
                             "crash dump %d holds 0x%" PRIx64 " at offset 0x%" PRIx64
                             " (SLUB report %d found it at 0x%" PRIx64 ")",
                             d + 1, fd->value, (uint64_t)off, r + 1, (uint64_t)fd->stray.off);
            }
        }
    }
    for (int o = 0; o < e->noopses; o++) {
        const struct oops *op = &e->oopses[o];
        const struct oops_view *v = &views[o];
        /* registers pointing into a dumped object */
        for (int d = 0; d < e->ndumps; d++) {
            const struct crash_dump *dp = &e->dumps[d];
            uint64_t size = (uint64_t)dp->nwords * dp->word_size;
            char regs[256];
            size_t n = 0;
            regs[0] = 0;
            for (int i = 0; i < op->nregs; i++) {
                uint64_t val = op->regs[i].value;
                if (val < dp->base || val - dp->base >= size)
                    continue;
                int k = snprintf(regs + n, sizeof(regs) - n, "%s%s = +0x%" PRIx64, n ? ", " : "",
                                 op->regs[i].name, val - dp->base);
                if (k < 0 || (size_t)k >= sizeof(regs) - n)
                    break;
                n += (size_t)k;
            }
            if (n)
                link_add(l,
                         "oops %d was working on the object of crash dump %d: %s (object at "
                         "0x%" PRIx64 ")",
                         o + 1, d + 1, regs, dp->base);
            if (op->has_fault_addr) {
                for (int i = 0; i < dp->nwords; i++)
                    if (dp->words[i].known && dp->words[i].value == op->fault_addr &&
                        op->fault_addr)
                        link_add(l,
                                 "crash dump %d holds the oops' fault address 0x%" PRIx64
                                 " at offset 0x%" PRIx64,
                                 d + 1, op->fault_addr, (uint64_t)i * dp->word_size);
            }
        }
        for (int r = 0; v->load_addr_known && r < e->nreports; r++) {
            const struct slub_report *rep = &e->reports[r];
            if (!e->shown[r] || !rep->has_object || !rep->has_object_size || rep->hashed ||
                v->load_addr < rep->object || v->load_addr - rep->object >= rep->object_size)
                continue;
            uint64_t off = v->load_addr - rep->object;
            link_add(l,
                     "oops %d loaded %s from 0x%" PRIx64 ", offset 0x%" PRIx64
                     " of the %s object of SLUB report %d%s",
                     o + 1, v->insns[v->fault].base, v->load_addr, off, rep->cache, r + 1,
                     fds[r].has_stray && (uint64_t)fds[r].stray.off == off
                         ? ", the offset of the stray write"
                         : "");
        }
        if (v->load_addr_known) {
            int d;
            int64_t off;
            uint64_t val = 0;
            bool known;
            if (dump_word_at(e, v->load_addr, &d, &off, &val, &known))
                link_add(l,
                         "oops %d loaded %s from 0x%" PRIx64 " = crash dump %d + 0x%" PRIx64 "%s",
                         o + 1, v->insns[v->fault].base, v->load_addr, d + 1, (uint64_t)off,
                         known && val == v->base_value ? ", which holds that very value" : "");
        }
    }
}

/* ---- types and sources ------------------------------------------------------------------- */

static bool types_built(void)
{
    return types_open_elf && types_open_btf && types_close && types_field_at && types_rank;
}

struct target {
    bool has;
    int64_t off;
    uint64_t length;
    bool has_value;
    uint64_t value;
    uint64_t object_size;
    const uint8_t *bytes; /* the object's bytes when they are its contents */
    size_t nbytes;
    uint64_t object_addr;
    const struct crash_dump *dump;
    const struct slub_report *report; /* its tracks hint at the type */
    char from[64];
};

static uint8_t dump_bytes[DUMP_WORDS_MAX * 8];

/* The offset and value to explain with types and sources: the first SLUB
 * finding with a known offset, else a crash dump word equal to an oops'
 * fault address.  A dump also gives the object's bytes for ranking. */
static void pick_target(const struct explain *e, const struct finding *fds, struct target *t)
{
    memset(t, 0, sizeof(*t));
    for (int r = 0; r < e->nreports && !t->has; r++) {
        const struct slub_report *rep = &e->reports[r];
        if (!e->shown[r] || !fds[r].has_stray)
            continue;
        t->has = true;
        t->off = fds[r].stray.off;
        t->length = fds[r].stray.length;
        t->has_value = fds[r].value_known;
        t->value = fds[r].value;
        t->object_size = rep->has_object_size ? rep->object_size : 0;
        t->object_addr = rep->object;
        t->report = rep;
        snprintf(t->from, sizeof(t->from), "SLUB report %d", r + 1);
    }
    for (int d = 0; d < e->ndumps; d++) {
        const struct crash_dump *dp = &e->dumps[d];
        if (!dp->nwords || dp->word_size != 8)
            continue;
        if (!t->has) {
            for (int o = 0; o < e->noopses && !t->has; o++)
                for (int i = 0; i < dp->nwords && !t->has; i++)
                    if (e->oopses[o].has_fault_addr && dp->words[i].known &&
                        dp->words[i].value == e->oopses[o].fault_addr) {
                        t->has = true;
                        t->off = (int64_t)i * 8;
                        t->length = 8;
                        t->has_value = true;
                        t->value = dp->words[i].value;
                        snprintf(t->from, sizeof(t->from), "crash dump %d", d + 1);
                    }
        }
        if (!t->object_size)
            t->object_size = (uint64_t)dp->nwords * 8;
        for (int i = 0; i < dp->nwords; i++)
            for (int k = 0; k < 8; k++)
                dump_bytes[i * 8 + k] = (uint8_t)(dp->words[i].value >> (8 * k));
        t->bytes = dump_bytes;
        t->nbytes = (size_t)dp->nwords * 8;
        t->object_addr = dp->base;
        t->dump = dp;
        break;
    }
}

static const char *last_component(const char *path, char *buf, size_t size)
{
    const char *dot = strrchr(path, '.');
    const char *s = dot ? dot + 1 : path;
    size_t n = strcspn(s, "[");
    if (n >= size)
        n = size - 1;
    memcpy(buf, s, n);
    buf[n] = 0;
    return buf;
}

struct type_result {
    bool tried;
    char error[256];
    bool has_field;
    struct field_at field;
    int ncands;
    struct type_candidate cands[5];
    const char *spec;
};

static bool hint_add(const char **hints, int *n, int max, const char *name)
{
    if (!name[0] || rp_is_allocator_frame(name) || !strcmp(name, "main") || *n == max)
        return false;
    for (int i = 0; i < *n; i++)
        if (!strcmp(hints[i], name))
            return false;
    hints[(*n)++] = name;
    return true;
}

/* The names that may spell the object's type: the allocating and freeing
 * functions first, then the rest of their stacks. */
static int track_hints(const struct slub_report *r, const char **hints, int max)
{
    int n = 0;
    if (!r)
        return 0;
    hint_add(hints, &n, max, r->alloc.caller.func);
    hint_add(hints, &n, max, r->free.caller.func);
    const struct rp_track *tracks[2] = {&r->alloc, &r->free};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < tracks[k]->nframes; i++) {
            if (!strcmp(tracks[k]->frames[i].func, "main"))
                break;
            hint_add(hints, &n, max, tracks[k]->frames[i].func);
        }
    return n;
}

static void run_types(const struct explain *e, const struct target *t, struct type_result *tr)
{
    memset(tr, 0, sizeof(*tr));
    const struct explain_opts *o = &e->opts;
    if (!o->binary && !o->btf)
        return;
    tr->tried = true;
    if (!types_built()) {
        snprintf(tr->error, sizeof(tr->error), "types support not built");
        return;
    }
    struct types *ty = o->btf ? types_open_btf(o->btf, tr->error, sizeof(tr->error))
                              : types_open_elf(o->binary, tr->error, sizeof(tr->error));
    if (!ty)
        return;
    if (!t->has || t->off < 0) {
        snprintf(tr->error, sizeof(tr->error), "no stray offset in the input to look up");
        types_close(ty);
        return;
    }
    char err[256];
    tr->spec = o->type;
    if (!o->type) {
        const char *hints[24];
        int nhints = track_hints(t->report, hints, 24);
        if (types_rank_hinted && nhints)
            tr->ncands =
                types_rank_hinted(ty, (size_t)t->object_size, t->bytes, t->nbytes, t->object_addr,
                                  dump_func_name, (void *)t->dump, hints, nhints, tr->cands, 5);
        else
            tr->ncands = types_rank(ty, (size_t)t->object_size, t->bytes, t->nbytes, t->object_addr,
                                    dump_func_name, (void *)t->dump, tr->cands, 5);
        if (tr->ncands > 5)
            tr->ncands = 5;
        /* the best candidate that reaches the stray offset */
        for (int i = 0; i < tr->ncands && !tr->has_field; i++)
            if (types_field_at(ty, tr->cands[i].name, (size_t)t->off, &tr->field, err,
                               sizeof(err)) == 0) {
                tr->has_field = true;
                tr->spec = tr->cands[i].name;
            } else if (i == 0) {
                snprintf(tr->error, sizeof(tr->error), "%s", err);
            }
        if (tr->has_field)
            tr->error[0] = 0;
    } else {
        if (types_field_at(ty, tr->spec, (size_t)t->off, &tr->field, err, sizeof(err)) == 0)
            tr->has_field = true;
        else
            snprintf(tr->error, sizeof(tr->error), "%s", err);
    }
    types_close(ty);
}

#define MAX_CONSTS 16
#define MAX_ASSIGNS 32

struct src_result {
    bool tried;
    char error[256];
    int nconsts, nassigns;
    struct src_const consts[MAX_CONSTS];
    struct src_assign assigns[MAX_ASSIGNS];
    char field[128];
};

static void run_src(const struct explain *e, const struct target *t, const struct type_result *tr,
                    struct src_result *sr)
{
    memset(sr, 0, sizeof(*sr));
    if (!e->opts.src)
        return;
    sr->tried = true;
    if (!src_scan) {
        snprintf(sr->error, sizeof(sr->error), "source scanning not built");
        return;
    }
    if (!t->has_value) {
        snprintf(sr->error, sizeof(sr->error), "no stray value in the input to look for");
        return;
    }
    const char *field = NULL;
    if (tr->has_field)
        field = last_component(tr->field.path, sr->field, sizeof(sr->field));
    if (src_scan(e->opts.src, t->value, field, sr->consts, MAX_CONSTS, &sr->nconsts, sr->assigns,
                 MAX_ASSIGNS, &sr->nassigns, sr->error, sizeof(sr->error)) != 0) {
        sr->nconsts = sr->nassigns = 0;
        return;
    }
    sr->error[0] = 0;
    if (sr->nconsts > MAX_CONSTS)
        sr->nconsts = MAX_CONSTS;
    if (sr->nassigns > MAX_ASSIGNS)
        sr->nassigns = MAX_ASSIGNS;
}

/* ---- text output -------------------------------------------------------------------------- */

static const char *input_name(const struct explain *e, int idx)
{
    const char *n = e->inputs[idx].name;
    return strcmp(n, "-") ? n : "standard input";
}

static void text_track(FILE *out, const char *label, const struct slub_report *r,
                       const struct rp_track *t)
{
    char fn[256], ch[512];
    if (!t->present)
        return;
    frame_name(&t->caller, fn, sizeof(fn));
    fprintf(out, "%-11s %s", label, fn);
    if (t->has_age)
        fprintf(out, ", %lld %s before the report", t->age, age_unit(r));
    if (t->has_cpu)
        fprintf(out, ", cpu %d", t->cpu);
    if (t->has_pid)
        fprintf(out, ", pid %lld%s", t->pid,
                t->pid == 0 && r->origin == RP_ORIGIN_KERNEL ? " (idle task or interrupt)" : "");
    fputc('\n', out);
    chain(t->frames, t->nframes, 8, ch, sizeof(ch));
    if (ch[0])
        fprintf(out, "%-11s stack: %s\n", "", ch);
}

static void text_report(FILE *out, const struct explain *e, int i, const struct finding *fd)
{
    const struct slub_report *r = &e->reports[i];
    char buf[512];
    fprintf(out, "\n== SLUB report %d: %s in %s (%s; %s, line%s %d", i + 1,
            r->reason[0] ? r->reason : r->kind, r->cache[0] ? r->cache : "an unknown cache",
            r->origin == RP_ORIGIN_KERNEL    ? "kernel"
            : r->origin == RP_ORIGIN_SLABDBG ? "slabdbg"
                                             : "origin unknown",
            input_name(e, e->report_src[i].input), r->last_line > r->first_line ? "s" : "",
            r->first_line);
    if (r->last_line > r->first_line)
        fprintf(out, "-%d", r->last_line);
    fputs(r->from_json ? ", JSON)\n" : ")\n", out);
    if (e->merged_json[i])
        fprintf(out, "%-11s the JSON report on line %d of %s says the same\n",
                "Also:", e->reports[e->merged_json[i] - 1].first_line,
                input_name(e, e->report_src[e->merged_json[i] - 1].input));
    const char *m = kind_meaning(r->kind);
    fprintf(out, "%-11s %s\n", "What:", m ? m : r->kind);
    if (r->has_object || r->has_object_size) {
        fprintf(out, "%-11s ", "Object:");
        if (r->has_object)
            fprintf(out, "0x%" PRIx64 "%s", r->object, r->hashed ? " (a hashed pointer)" : "");
        else
            fputs("address unknown", out);
        if (r->has_object_size)
            fprintf(out, ", %" PRIu64 " bytes (from the %s)", r->object_size, r->size_source);
        if (r->has_requested)
            fprintf(out, ", %" PRIu64 " requested", r->requested_size);
        if (r->has_slab)
            fprintf(out, "; slab 0x%" PRIx64, r->slab);
        if (r->has_counts)
            fprintf(out, " (%u objects, %u in use)", r->objects, r->used);
        fputc('\n', out);
    }
    if (r->has_pointer)
        fprintf(out, "%-11s 0x%" PRIx64 "\n", "Pointer:", r->pointer);
    if (fd->has_stray) {
        const struct rp_stray *s = &fd->stray;
        const struct rp_fault *f = fd->fault;
        fprintf(out, "%-11s %" PRIu64 " byte%s at object offset %s0x%" PRIx64, "Stray:", s->length,
                s->length == 1 ? "" : "s", s->off < 0 ? "-" : "",
                (uint64_t)(s->off < 0 ? -s->off : s->off));
        if (s->has_word)
            fprintf(out, ": 0x%0*" PRIx64, (int)(s->width * 2), s->word);
        if (s->off < 0)
            fputs(" (in the left red zone, before the object)", out);
        else if (r->has_object_size && (uint64_t)s->off >= r->object_size)
            fprintf(out, " (0x%" PRIx64 " past the object's end)",
                    (uint64_t)s->off - r->object_size);
        else if (r->has_requested && (uint64_t)s->off >= r->requested_size)
            fprintf(out, " (past the %" PRIu64 " requested bytes)", r->requested_size);
        fputc('\n', out);
        size_t n = 0;
        for (uint64_t k = 0; k < s->length && k < 16; k++) {
            uint8_t b;
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", k ? " " : "");
            if (rp_byte(r, s->off + (int64_t)k, &b))
                n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%02x", b);
            else
                n += (size_t)snprintf(buf + n, sizeof(buf) - n, "??");
        }
        fprintf(out, "%-11s bytes %s%s", "", buf, s->length > 16 ? " ..." : "");
        if (f->has_range && !r->hashed)
            fprintf(out, " at 0x%" PRIx64 "-0x%" PRIx64, f->start, f->end);
        if (f->has_first)
            fprintf(out, ", expected 0x%02x", f->expected);
        fprintf(out, " (offset from the %s)\n", f->off_source ? f->off_source : "report");
        if (!s->nknown)
            fprintf(out, "%-11s the written value is not in the report%s\n", "",
                    f->has_first ? "; its first byte is above" : "");
        else if ((uint64_t)s->nknown < s->length)
            fprintf(out, "%-11s only %d of the %" PRIu64 " bytes are in the hexdump\n", "",
                    s->nknown, s->length);
        else if (!s->has_word && fd->value_known)
            fprintf(out,
                    "%-11s as a little-endian number: 0x%" PRIx64
                    " (not aligned to its size: maybe part of a wider store)\n",
                    "", fd->value);
        if (fd->value_known)
            fprintf(out, "%-11s %s\n", "", fd->value_note);
        if (r->nfaults > 1)
            fprintf(out, "%-11s and %d more overwritten range%s in the report\n", "",
                    r->nfaults - 1, r->nfaults > 2 ? "s" : "");
    } else if (r->nfaults) {
        const struct rp_fault *f = &r->faults[0];
        fprintf(out, "%-11s", "Stray:");
        if (f->has_range)
            fprintf(out, " 0x%" PRIx64 "-0x%" PRIx64, f->start, f->end);
        if (f->has_first)
            fprintf(out, " first byte 0x%02x instead of 0x%02x", f->first, f->expected);
        fputs(" (its place in the object is not in the report)\n", out);
    }
    text_track(out, "Allocated:", r, &r->alloc);
    text_track(out, "Freed:", r, &r->free);
    if (fd->finder || r->has_finder_ctx) {
        fprintf(out, "%-11s ", "Found by:");
        if (fd->finder) {
            frame_name(fd->finder, buf, sizeof(buf));
            fputs(buf, out);
        } else {
            fputs("(no call trace)", out);
        }
        if (r->has_finder_ctx && !r->from_json)
            fprintf(out, ", cpu %d, pid %lld%s%s%s", r->finder_cpu, r->finder_pid,
                    r->finder_comm[0] ? " (" : "", r->finder_comm, r->finder_comm[0] ? ")" : "");
        if (fd->found_when)
            fprintf(out, ", %s", fd->found_when);
        fputc('\n', out);
    }
    for (int k = 0; k < r->nfix; k++)
        fprintf(out, "%-11s %s\n", k ? "" : "Repaired:", r->fix[k]);
    if (poison_kind(r) && r->free.present && r->free.has_age) {
        fprintf(out,
                "%-11s the write happened after the free, less than %lld %s before the "
                "report%s; the writer is not in the report: SLUB sees the damage only when "
                "it checks the object again\n",
                "When:", r->free.age + 1, age_unit(r),
                r->origin == RP_ORIGIN_KERNEL ? " (a jiffy is 1 to 10 ms, by HZ)" : "");
    }
    if (r->missing & ~(unsigned)RP_MISS_FIX ? 1 : (r->missing & RP_MISS_FIX) != 0) {
        missing_text(r->missing, buf, sizeof(buf));
        fprintf(out, "%-11s %s\n", "Missing:", buf);
    }
}

static void text_code(FILE *out, const struct oops *o, const struct oops_view *v)
{
    if (!v->decoded) {
        if (o->has_code) {
            fprintf(out, "%-11s", "Code:");
            for (int i = 0; i < o->ncode; i++)
                fprintf(out, i == o->code_mark ? " <%02x>" : " %02x", o->code[i]);
            fputc('\n', out);
        }
        if (v->decode_note)
            fprintf(out, "%-11s %s\n", "", v->decode_note);
        return;
    }
    if (v->branch_base_func)
        fprintf(out, "%-11s (branch targets are offsets in %s)\n", "Code:", o->rip.func);
    else
        fprintf(out, "%-11s\n", "Code:");
    for (int i = 0; i < v->ninsns; i++) {
        const struct insn *in = &v->insns[i];
        char where[160], bytes[64];
        long rel = in->start - o->code_mark;
        int64_t fo = (int64_t)o->rip.off + rel;
        if (o->has_rip && o->rip.func[0])
            snprintf(where, sizeof(where), "%s%c0x%" PRIx64, o->rip.func, fo < 0 ? '-' : '+',
                     (uint64_t)(fo < 0 ? -fo : fo));
        else if (o->has_rip && o->rip.has_addr)
            snprintf(where, sizeof(where), "0x%" PRIx64, o->rip.addr + (uint64_t)rel);
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

static void text_oops(FILE *out, const struct explain *e, int i, const struct oops_view *v)
{
    const struct oops *o = &e->oopses[i];
    char buf[512];
    fprintf(out, "\n== Oops %d: %s", i + 1, o->kind);
    if (o->has_fault_addr)
        fprintf(out, " at 0x%" PRIx64, o->fault_addr);
    fprintf(out, " (%s, lines %d-%d)\n", input_name(e, e->oops_src[i].input), o->first_line,
            o->last_line);
    if (o->has_rip || o->has_task) {
        fprintf(out, "%-11s ", "Where:");
        if (o->has_rip) {
            frame_name(&o->rip, buf, sizeof(buf));
            fputs(buf, out);
        }
        if (o->has_task)
            fprintf(out, "%scpu %d, pid %lld (%s)", o->has_rip ? ", " : "", o->cpu, o->pid,
                    o->comm);
        if (o->release[0])
            fprintf(out, ", kernel %s", o->release);
        fputc('\n', out);
    }
    if (o->access[0])
        fprintf(out, "%-11s %s\n", "Access:", o->access);
    text_code(out, o, v);
    if (v->fault >= 0) {
        const struct insn *in = &v->insns[v->fault];
        fprintf(out, "%-11s %s\n", "Faulting:", in->text);
        if (in->mem && in->base[0])
            fprintf(out, "%-11s reads or writes %d bytes at %s%s%s + 0x%" PRIx64 "%s\n", "",
                    in->size, in->base, in->index[0] ? " + " : "", in->index, (uint64_t)in->disp,
                    v->addr_from_operand ? " = the fault address" : "");
    }
    if (o->has_fault_addr) {
        if (v->regs_equal[0])
            fprintf(out, "%-11s %s = 0x%" PRIx64 " held the fault address\n",
                    "Register:", v->regs_equal, o->fault_addr);
        else if (o->nregs)
            fprintf(out, "%-11s no register holds the fault address itself\n", "Register:");
    }
    if (v->loader >= 0) {
        const struct insn *ld = &v->insns[v->loader];
        fprintf(out, "%-11s %s was set by \"%s\" just before", "Loaded:", v->insns[v->fault].base,
                ld->text);
        if (v->load_addr_known)
            fprintf(out, ": from 0x%" PRIx64 " (%s + 0x%" PRIx64 ", if %s still held its value)",
                    v->load_addr, ld->base, (uint64_t)ld->disp, ld->base);
        fputc('\n', out);
    }
    if (v->verdict[0])
        fprintf(out, "%-11s %s\n", "Verdict:", v->verdict);
    if (o->nframes) {
        int skipped = 0, shown = 0;
        for (int k = 0; k < o->nframes; k++) {
            if (o->frames[k].unreliable) {
                skipped++;
                continue;
            }
            frame_name(&o->frames[k], buf, sizeof(buf));
            fprintf(out, "%-11s %s\n", shown++ ? "" : "Call trace:", buf);
        }
        if (skipped)
            fprintf(out, "%-11s (%d unreliable \"?\" entr%s left out)\n", "", skipped,
                    skipped == 1 ? "y" : "ies");
    }
}

/* " (the oops' fault address)" when another input knows this value. */
static const char *known_value(const struct explain *e, uint64_t v)
{
    if (!v)
        return "";
    for (int i = 0; i < e->noopses; i++)
        if (e->oopses[i].has_fault_addr && e->oopses[i].fault_addr == v)
            return "  <- the oops' fault address";
    for (int i = 0; i < e->nreports; i++) {
        struct rp_stray s;
        if (e->shown[i] && rp_stray(&e->reports[i], 0, &s) && s.has_word && s.word == v)
            return "  <- the SLUB report's stray value";
    }
    return "";
}

static void text_dump(FILE *out, const struct explain *e, int i)
{
    const struct crash_dump *d = &e->dumps[i];
    uint64_t size = (uint64_t)d->nwords * d->word_size;
    fprintf(out,
            "\n== Crash dump %d: 0x%" PRIx64 ", %d words of %u bytes (%" PRIu64
            " bytes; %s, lines %d-%d)\n",
            i + 1, d->base, d->nwords, d->word_size, size, input_name(e, e->dump_src[i].input),
            d->first_line, d->last_line);
    static const struct {
        unsigned bit;
        const char *label;
    } groups[] = {{W_TEXT, "Text:"}, {W_SELF | W_LIST_PREV, "Self:"}, {W_INSIDE, "Inside:"}};
    static const char *const what[] = {
        "kernel text addresses (function pointers: they tell the object's type)",
        "empty list heads (next and prev pointing at themselves)",
        "pointers into the object itself"};
    for (size_t g = 0; g < 3; g++) {
        int shown = 0;
        for (int k = 0; k < d->nwords; k++) {
            unsigned c = word_class(d, k);
            if (!(c & groups[g].bit))
                continue;
            if (!shown++)
                fprintf(out, "%-11s %s\n", groups[g].label, what[g]);
            const struct dump_word *w = &d->words[k];
            uint64_t own = (uint64_t)k * d->word_size;
            if (!w->known)
                fprintf(out, "%-11s +0x%03" PRIx64 "  %s\n", "", own, w->sym);
            else if (c & W_TEXT)
                fprintf(out, "%-11s +0x%03" PRIx64 "  0x%016" PRIx64 "%s%s\n", "", own, w->value,
                        w->sym[0] ? "  " : "", w->sym);
            else if (c & W_SELF)
                fprintf(out, "%-11s +0x%03" PRIx64 "  points at itself\n", "", own);
            else if (c & W_LIST_PREV)
                fprintf(out,
                        "%-11s +0x%03" PRIx64 "  points at +0x%03" PRIx64 " (a list head's prev)\n",
                        "", own, own - 8);
            else
                fprintf(out, "%-11s +0x%03" PRIx64 "  -> +0x%03" PRIx64 "\n", "", own,
                        w->value - d->base);
        }
    }
    /* Small numbers that are neither flags nor sizes (not powers of two)
     * in pointer-sized slots are what stray constants look like. */
    int shown = 0;
    for (int k = 0; k < d->nwords && d->word_size == 8; k++) {
        const struct dump_word *w = &d->words[k];
        if (!w->known || w->value == 0 || w->value >= 0x10000 || !(w->value & (w->value - 1)))
            continue;
        if (!shown++)
            fprintf(out, "%-11s small constants, not powers of two (stray values look so):\n",
                    "Values:");
        fprintf(out, "%-11s +0x%03" PRIx64 "  0x%" PRIx64 "%s\n", "", (uint64_t)k * 8, w->value,
                known_value(e, w->value));
    }
    for (int k = 0; k < d->nwords; k++) {
        const struct dump_word *w = &d->words[k];
        if (!w->known || (w->value < 0x10000 && w->value & (w->value - 1)) ||
            !*known_value(e, w->value))
            continue;
        fprintf(out, "%-11s +0x%03" PRIx64 "  0x%" PRIx64 "%s\n",
                "Known:", (uint64_t)k * d->word_size, w->value, known_value(e, w->value));
    }
    if (d->dropped)
        fprintf(out, "%-11s %d words outside the first %d were left out\n", "Missing:", d->dropped,
                DUMP_WORDS_MAX);
}

static void text_types(FILE *out, const struct explain *e, const struct target *t,
                       const struct type_result *tr)
{
    if (!tr->tried)
        return;
    fprintf(out, "\n== Types (%s)\n", e->opts.btf ? e->opts.btf : e->opts.binary);
    for (int i = 0; i < tr->ncands; i++)
        fprintf(out, "%-11s %s (%zu bytes), score %.2f: %s\n",
                i ? "" : "Candidates:", tr->cands[i].name, tr->cands[i].size, tr->cands[i].score,
                tr->cands[i].why);
    if (tr->has_field) {
        const struct field_at *f = &tr->field;
        fprintf(out,
                "%-11s at object offset 0x%" PRIx64 " of %s: %s (%s, %zu bytes at 0x%zx; %s "
                "starts at 0x%zx)\n",
                "Field:", (uint64_t)t->off, tr->spec, f->path, f->field_type, f->field_size,
                f->field_offset, f->type, f->type_start);
        if (t->length && (uint64_t)t->off == f->field_offset && t->length == f->field_size)
            fprintf(out, "%-11s the %" PRIu64 "-byte write covers exactly this field\n", "",
                    t->length);
    }
    if (tr->error[0])
        fprintf(out, "%-11s %s\n", "Note:", tr->error);
}

static void text_src(FILE *out, const struct explain *e, const struct target *t,
                     const struct src_result *sr)
{
    if (!sr->tried)
        return;
    fprintf(out, "\n== Source (%s)", e->opts.src);
    if (t->has_value)
        fprintf(out, ": 0x%" PRIx64, t->value);
    fputc('\n', out);
    for (int i = 0; i < sr->nconsts; i++)
        fprintf(out, "%-11s %s (%s%s, %s:%d)\n", i ? "" : "Constants:", sr->consts[i].name,
                strcmp(sr->consts[i].kind, "define") ? "" : "#", sr->consts[i].kind,
                sr->consts[i].file, sr->consts[i].line);
    for (int i = 0; i < sr->nassigns; i++) {
        const struct src_assign *a = &sr->assigns[i];
        fprintf(out, "%-11s %s:%d %s%s%s%s\n", i ? "" : "Assigned:", a->file, a->line,
                a->function[0] ? a->function : "", a->function[0] ? ": " : "", a->text,
                a->same_field ? "   [the same field]" : "");
    }
    if (!sr->nconsts && !sr->nassigns && !sr->error[0])
        fprintf(out, "%-11s no constant with this value found\n", "");
    if (sr->error[0])
        fprintf(out, "%-11s %s\n", "Note:", sr->error);
}

static void text_summary(FILE *out, const struct explain *e, const struct finding *fds,
                         const struct type_result *tr, const struct src_result *sr,
                         const struct links *l)
{
    for (int r = 0; r < e->nreports; r++) {
        const struct slub_report *rep = &e->reports[r];
        const struct finding *fd = &fds[r];
        if (!e->shown[r] || !fd->has_stray || !fd->value_known)
            continue;
        fprintf(out, "\n== In short\n");
        fprintf(out,
                "Something wrote 0x%" PRIx64 " (%" PRIu64 " byte%s) at offset %s0x%" PRIx64
                " of a %s object%s",
                fd->value, fd->stray.length, fd->stray.length == 1 ? "" : "s",
                fd->stray.off < 0 ? "-" : "",
                (uint64_t)(fd->stray.off < 0 ? -fd->stray.off : fd->stray.off), rep->cache,
                poison_kind(rep) ? " after it was freed" : "");
        if (rep->free.present)
            fprintf(out, " (freed by %s)", rep->free.caller.func);
        fputs(".\n", out);
        if (tr->has_field && e->opts.type)
            fprintf(out, "The offset is %s in the object's previous life as %s.\n", tr->field.path,
                    tr->spec);
        else if (tr->has_field)
            fprintf(out,
                    "The offset is %s if the object was a %s (the best-ranked candidate; "
                    "--type names the layout).\n",
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
            for (int i = 0; i < sr->nassigns; i++)
                if (sr->assigns[i].same_field && sr->assigns[i].function[0])
                    fprintf(out, "%s %s", shown++ ? "," : "", sr->assigns[i].function);
            fputs(": a path that writes after the object was freed is the culprit.\n", out);
        }
        if (l->n)
            fputs("Other inputs link to it (see Links above).\n", out);
        break;
    }
}

static void print_text(FILE *out, const struct explain *e, const struct finding *fds,
                       const struct oops_view *views, const struct links *l, const struct target *t,
                       const struct type_result *tr, const struct src_result *sr)
{
    int shown = 0;
    for (int i = 0; i < e->nreports; i++)
        shown += e->shown[i];
    fprintf(out, "slabdbg explain: %d SLUB report%s, %d oops%s, %d crash dump%s\n", shown,
            shown == 1 ? "" : "s", e->noopses, e->noopses == 1 ? "" : "es", e->ndumps,
            e->ndumps == 1 ? "" : "s");
    for (int i = 0; i < e->nreports; i++)
        if (e->shown[i])
            text_report(out, e, i, &fds[i]);
    for (int i = 0; i < e->noopses; i++)
        text_oops(out, e, i, &views[i]);
    for (int i = 0; i < e->ndumps; i++)
        text_dump(out, e, i);
    if (l->n) {
        fprintf(out, "\n== Links\n");
        for (int i = 0; i < l->n; i++)
            fprintf(out, "- %s\n", l->text[i]);
    }
    text_types(out, e, t, tr);
    text_src(out, e, t, sr);
    text_summary(out, e, fds, tr, sr, l);
    if (e->dropped_reports || e->dropped_oopses || e->dropped_dumps)
        fprintf(out,
                "\nNote: %d more reports, %d more oopses and %d more dumps were not read "
                "(at most %d, %d and %d)\n",
                e->dropped_reports, e->dropped_oopses, e->dropped_dumps, MAX_REPORTS, MAX_OOPSES,
                MAX_DUMPS);
    for (int i = 0; i < e->ninputs; i++)
        if (e->inputs[i].cut_lines)
            fprintf(out, "Note: %s has lines longer than %d bytes; they were cut\n",
                    input_name(e, i), RP_LINE_MAX - 1);
}

/* ---- JSON output --------------------------------------------------------------------------- */

static void json_frame(struct jw *w, const char *key, const struct rp_frame *f)
{
    char buf[256];
    frame_name(f, buf, sizeof(buf));
    jw_open(w, key, '{');
    jw_str(w, "function", f->func);
    jw_str(w, "text", buf);
    if (f->has_addr)
        jw_hex(w, "pc", f->addr);
    if (f->where[0])
        jw_str(w, "where", f->where);
    if (f->unreliable)
        jw_bool(w, "unreliable", true);
    jw_close(w, '}');
}

static void json_frames(struct jw *w, const char *key, const struct rp_frame *f, int n)
{
    jw_open(w, key, '[');
    for (int i = 0; i < n; i++)
        json_frame(w, NULL, &f[i]);
    jw_close(w, ']');
}

static void json_track(struct jw *w, const char *key, const struct slub_report *r,
                       const struct rp_track *t)
{
    if (!t->present)
        return;
    jw_open(w, key, '{');
    jw_str(w, "function", t->caller.func);
    char buf[256];
    frame_name(&t->caller, buf, sizeof(buf));
    jw_str(w, "text", buf);
    if (t->has_age) {
        jw_int(w, "age", t->age);
        jw_str(w, "age_unit", age_unit(r));
    }
    if (t->has_cpu)
        jw_int(w, "cpu", t->cpu);
    if (t->has_pid)
        jw_int(w, "pid", t->pid);
    json_frames(w, "stack", t->frames, t->nframes);
    jw_close(w, '}');
}

static void json_report(struct jw *w, const struct explain *e, int i, const struct finding *fd)
{
    const struct slub_report *r = &e->reports[i];
    char buf[512];
    jw_open(w, NULL, '{');
    jw_str(w, "input", input_name(e, e->report_src[i].input));
    jw_int(w, "first_line", r->first_line);
    jw_int(w, "last_line", r->last_line);
    jw_str(w, "origin",
           r->origin == RP_ORIGIN_KERNEL    ? "kernel"
           : r->origin == RP_ORIGIN_SLABDBG ? "slabdbg"
                                            : "unknown");
    jw_str(w, "format", r->from_json ? "json" : "text");
    jw_str(w, "kind", r->kind);
    jw_str(w, "reason", r->reason);
    const char *m = kind_meaning(r->kind);
    if (m)
        jw_str(w, "meaning", m);
    jw_str(w, "cache", r->cache);
    if (r->has_object)
        jw_hex(w, "object", r->object);
    if (r->has_object_size) {
        jw_int(w, "object_size", (long long)r->object_size);
        jw_str(w, "object_size_from", r->size_source);
    }
    if (r->has_requested)
        jw_int(w, "requested_size", (long long)r->requested_size);
    if (r->has_slab)
        jw_hex(w, "slab", r->slab);
    if (r->has_pointer)
        jw_hex(w, "pointer", r->pointer);
    if (fd->has_stray) {
        const struct rp_stray *s = &fd->stray;
        jw_open(w, "stray", '{');
        jw_int(w, "offset", s->off);
        snprintf(buf, sizeof(buf), "%s0x%" PRIx64, s->off < 0 ? "-" : "",
                 (uint64_t)(s->off < 0 ? -s->off : s->off));
        jw_str(w, "offset_hex", buf);
        jw_int(w, "length", (long long)s->length);
        jw_str(w, "offset_from", fd->fault->off_source ? fd->fault->off_source : "report");
        jw_open(w, "bytes", '[');
        for (uint64_t k = 0; k < s->length && k < 16; k++) {
            uint8_t b;
            if (rp_byte(r, s->off + (int64_t)k, &b)) {
                snprintf(buf, sizeof(buf), "%02x", b);
                jw_str(w, NULL, buf);
            } else {
                jw_sep(w, NULL);
                fputs("null", w->f);
            }
        }
        jw_close(w, ']');
        if (fd->fault->has_range) {
            jw_hex(w, "fault_start", fd->fault->start);
            jw_hex(w, "fault_end", fd->fault->end);
        }
        if (fd->fault->has_first) {
            jw_int(w, "first_byte", fd->fault->first);
            jw_int(w, "expected", fd->fault->expected);
        }
        if (fd->value_known) {
            snprintf(buf, sizeof(buf), "0x%0*" PRIx64, (int)(fd->width * 2), fd->value);
            jw_str(w, "value", buf);
            jw_int(w, "width", fd->width);
            jw_bool(w, "aligned_word", s->has_word);
            jw_bool(w, "not_a_pointer", fd->not_pointer);
            jw_str(w, "value_note", fd->value_note);
        }
        jw_close(w, '}');
    }
    json_track(w, "alloc", r, &r->alloc);
    json_track(w, "free", r, &r->free);
    if (fd->finder) {
        json_frame(w, "found_by", fd->finder);
        if (fd->found_when)
            jw_str(w, "found_when", fd->found_when);
    }
    if (r->has_finder_ctx && !r->from_json) {
        jw_int(w, "finder_cpu", r->finder_cpu);
        jw_int(w, "finder_pid", r->finder_pid);
        jw_str(w, "finder_comm", r->finder_comm);
    }
    json_frames(w, "call_trace", r->frames, r->nframes);
    jw_open(w, "fix", '[');
    for (int k = 0; k < r->nfix; k++)
        jw_str(w, NULL, r->fix[k]);
    jw_close(w, ']');
    if (r->missing) {
        missing_text(r->missing, buf, sizeof(buf));
        jw_str(w, "missing", buf);
    }
    jw_close(w, '}');
}

static void json_oops(struct jw *w, const struct explain *e, int i, const struct oops_view *v)
{
    const struct oops *o = &e->oopses[i];
    jw_open(w, NULL, '{');
    jw_str(w, "input", input_name(e, e->oops_src[i].input));
    jw_int(w, "first_line", o->first_line);
    jw_int(w, "last_line", o->last_line);
    jw_str(w, "kind", o->kind);
    jw_str(w, "header", o->header);
    if (o->has_fault_addr)
        jw_hex(w, "fault_address", o->fault_addr);
    if (o->has_rip)
        json_frame(w, "rip", &o->rip);
    if (o->has_task) {
        jw_int(w, "cpu", o->cpu);
        jw_int(w, "pid", o->pid);
        jw_str(w, "comm", o->comm);
    }
    if (o->release[0])
        jw_str(w, "release", o->release);
    jw_open(w, "registers", '{');
    for (int k = 0; k < o->nregs; k++)
        jw_hex(w, o->regs[k].name, o->regs[k].value);
    jw_close(w, '}');
    if (v->regs_equal[0])
        jw_str(w, "fault_address_in", v->regs_equal);
    if (v->decoded) {
        jw_open(w, "code", '[');
        for (int k = 0; k < v->ninsns; k++) {
            jw_open(w, NULL, '{');
            jw_int(w, "offset", v->insns[k].start - o->code_mark);
            jw_str(w, "text", v->insns[k].text);
            if (k == v->fault)
                jw_bool(w, "faulting", true);
            jw_close(w, '}');
        }
        jw_close(w, ']');
        jw_str(w, "faulting_instruction", v->insns[v->fault].text);
        if (v->loader >= 0)
            jw_str(w, "base_loaded_by", v->insns[v->loader].text);
        if (v->load_addr_known)
            jw_hex(w, "base_loaded_from", v->load_addr);
    } else if (v->decode_note) {
        jw_str(w, "code_note", v->decode_note);
    }
    if (v->verdict[0])
        jw_str(w, "verdict", v->verdict);
    json_frames(w, "call_trace", o->frames, o->nframes);
    jw_close(w, '}');
}

static void json_dump(struct jw *w, const struct explain *e, int i)
{
    const struct crash_dump *d = &e->dumps[i];
    jw_open(w, NULL, '{');
    jw_str(w, "input", input_name(e, e->dump_src[i].input));
    jw_hex(w, "base", d->base);
    jw_int(w, "word_size", d->word_size);
    jw_int(w, "words", d->nwords);
    static const char *const keys[] = {"text", "self", "inside"};
    static const unsigned bits[] = {W_TEXT, W_SELF | W_LIST_PREV, W_INSIDE};
    for (int g = 0; g < 3; g++) {
        jw_open(w, keys[g], '[');
        for (int k = 0; k < d->nwords; k++) {
            if (!(word_class(d, k) & bits[g]))
                continue;
            jw_open(w, NULL, '{');
            jw_int(w, "offset", (long long)k * d->word_size);
            if (d->words[k].known)
                jw_hex(w, "value", d->words[k].value);
            if (d->words[k].sym[0])
                jw_str(w, "symbol", d->words[k].sym);
            jw_close(w, '}');
        }
        jw_close(w, ']');
    }
    jw_close(w, '}');
}

static void print_json(FILE *out, const struct explain *e, const struct finding *fds,
                       const struct oops_view *views, const struct links *l, const struct target *t,
                       const struct type_result *tr, const struct src_result *sr)
{
    struct jw w = {.f = out};
    jw_open(&w, NULL, '{');
    jw_open(&w, "reports", '[');
    for (int i = 0; i < e->nreports; i++)
        if (e->shown[i])
            json_report(&w, e, i, &fds[i]);
    jw_close(&w, ']');
    jw_open(&w, "oopses", '[');
    for (int i = 0; i < e->noopses; i++)
        json_oops(&w, e, i, &views[i]);
    jw_close(&w, ']');
    jw_open(&w, "dumps", '[');
    for (int i = 0; i < e->ndumps; i++)
        json_dump(&w, e, i);
    jw_close(&w, ']');
    jw_open(&w, "links", '[');
    for (int i = 0; i < l->n; i++)
        jw_str(&w, NULL, l->text[i]);
    jw_close(&w, ']');
    if (tr->tried) {
        jw_open(&w, "types", '{');
        if (t->has)
            jw_int(&w, "offset", t->off);
        jw_open(&w, "candidates", '[');
        for (int i = 0; i < tr->ncands; i++) {
            jw_open(&w, NULL, '{');
            jw_str(&w, "name", tr->cands[i].name);
            jw_int(&w, "size", (long long)tr->cands[i].size);
            jw_str(&w, "why", tr->cands[i].why);
            jw_close(&w, '}');
        }
        jw_close(&w, ']');
        if (tr->has_field) {
            jw_str(&w, "layout", tr->spec);
            jw_str(&w, "field", tr->field.path);
            jw_str(&w, "field_type", tr->field.field_type);
            jw_int(&w, "field_offset", (long long)tr->field.field_offset);
            jw_int(&w, "field_size", (long long)tr->field.field_size);
            jw_str(&w, "struct", tr->field.type);
            jw_int(&w, "struct_start", (long long)tr->field.type_start);
        }
        if (tr->error[0])
            jw_str(&w, "note", tr->error);
        jw_close(&w, '}');
    }
    if (sr->tried) {
        jw_open(&w, "source", '{');
        if (t->has_value)
            jw_hex(&w, "value", t->value);
        jw_open(&w, "constants", '[');
        for (int i = 0; i < sr->nconsts; i++) {
            jw_open(&w, NULL, '{');
            jw_str(&w, "name", sr->consts[i].name);
            jw_str(&w, "kind", sr->consts[i].kind);
            jw_str(&w, "file", sr->consts[i].file);
            jw_int(&w, "line", sr->consts[i].line);
            jw_close(&w, '}');
        }
        jw_close(&w, ']');
        jw_open(&w, "assignments", '[');
        for (int i = 0; i < sr->nassigns; i++) {
            const struct src_assign *a = &sr->assigns[i];
            jw_open(&w, NULL, '{');
            jw_str(&w, "file", a->file);
            jw_int(&w, "line", a->line);
            jw_str(&w, "function", a->function);
            jw_str(&w, "constant", a->constant);
            jw_str(&w, "text", a->text);
            jw_bool(&w, "same_field", a->same_field);
            jw_close(&w, '}');
        }
        jw_close(&w, ']');
        if (sr->error[0])
            jw_str(&w, "note", sr->error);
        jw_close(&w, '}');
    }
    jw_close(&w, '}');
    fputc('\n', out);
}

/* ---- the command ------------------------------------------------------------------------------
 */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: slabdbg explain [FILE|-]... [--json] [--binary ELF] [--type NAME[+NAME...]]\n"
            "                       [--btf FILE] [--src DIR]\n"
            "\n"
            "Reads SLUB reports (slabdbg's, in text or JSON, and the Linux kernel's, with or\n"
            "without syslog/dmesg prefixes), kernel oopses and crash(8) \"rd\" dumps from the\n"
            "files (standard input if none or '-'), and explains them: the kind of error, the\n"
            "object, the offset, length and value of the stray bytes, who allocated, freed and\n"
            "found the object and when, the faulting instruction and register of an oops,\n"
            "and how the inputs are linked (an oops dereferencing the value a SLUB report\n"
            "found written into a freed object).\n"
            "\n"
            "  --json             one JSON object instead of text\n"
            "  --binary ELF       the program (or vmlinux) with DWARF: name the field at the\n"
            "                     stray offset\n"
            "  --btf FILE         the same from BTF (e.g. /sys/kernel/btf/vmlinux)\n"
            "  --type NAME[+NAME] the object's layout, structs one after another\n"
            "                     (e.g. request+scsi_cmnd); without it, candidate types\n"
            "                     are ranked by the object's size and bytes\n"
            "  --src DIR          list the constants equal to the stray value in the C\n"
            "                     sources under DIR, and the statements assigning them\n"
            "  -h, --help         this help\n"
            "\n"
            "types support: %s\n"
            "source scanning: %s\n"
            "instruction decoding: %s\n"
            "\n"
            "Exit status: 0 when something was explained, 2 when the input holds no report,\n"
            "oops or dump, or on a usage or input error.\n",
            types_built() ? "yes (--binary with DWARF, --btf)" : "not built",
            src_scan ? "yes (--src)" : "not built",
#ifdef HAVE_CAPSTONE
            "yes (x86-64, capstone)"
#else
            "not built (capstone missing)"
#endif
    );
}

int explain_streams(FILE **ins, const char **names, int n, const struct explain_opts *opts,
                    FILE *out, FILE *err)
{
    struct explain *e = calloc(1, sizeof(*e));
    struct finding *fds = calloc(MAX_REPORTS, sizeof(*fds));
    struct oops_view *views = calloc(MAX_OOPSES, sizeof(*views));
    struct links *l = calloc(1, sizeof(*l));
    struct type_result *tr = calloc(1, sizeof(*tr));
    struct src_result *sr = calloc(1, sizeof(*sr));
    struct target t;
    int status = 0;
    if (e) {
        e->reports = calloc(MAX_REPORTS, sizeof(*e->reports));
        e->oopses = calloc(MAX_OOPSES, sizeof(*e->oopses));
        e->dumps = calloc(MAX_DUMPS, sizeof(*e->dumps));
    }
    if (!e || !fds || !views || !l || !tr || !sr || !e->reports || !e->oopses || !e->dumps) {
        fprintf(err, "slabdbg explain: out of memory\n");
        status = 2;
        goto out;
    }
    e->opts = *opts;
    for (int i = 0; i < n && i < MAX_INPUTS; i++)
        read_input(e, ins[i], names[i]);
    if (!e->nreports && !e->noopses && !e->ndumps) {
        fprintf(err, "slabdbg explain: %s: no SLUB report, kernel oops or crash dump found\n",
                n == 1 ? (strcmp(names[0], "-") ? names[0] : "standard input") : "the inputs");
        status = 2;
        goto out;
    }
    merge_duplicates(e);
    for (int i = 0; i < e->nreports; i++)
        analyse_report(&e->reports[i], &fds[i]);
    for (int i = 0; i < e->noopses; i++)
        analyse_oops(e, &e->oopses[i], &views[i]);
    find_links(e, fds, views, l);
    pick_target(e, fds, &t);
    run_types(e, &t, tr);
    run_src(e, &t, tr, sr);
    if (opts->json)
        print_json(out, e, fds, views, l, &t, tr, sr);
    else
        print_text(out, e, fds, views, l, &t, tr, sr);
out:
    if (e) {
        free(e->reports);
        free(e->oopses);
        free(e->dumps);
    }
    free(e);
    free(fds);
    free(views);
    free(l);
    free(tr);
    free(sr);
    return status;
}

int cmd_explain(int argc, char **argv)
{
    static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
                                             {"binary", required_argument, NULL, 'b'},
                                             {"type", required_argument, NULL, 't'},
                                             {"btf", required_argument, NULL, 'B'},
                                             {"src", required_argument, NULL, 's'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    struct explain_opts opts = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hj", longopts, NULL)) != -1) {
        switch (c) {
        case 'j':
            opts.json = true;
            break;
        case 'b':
            opts.binary = optarg;
            break;
        case 't':
            opts.type = optarg;
            break;
        case 'B':
            opts.btf = optarg;
            break;
        case 's':
            opts.src = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (opts.type && !opts.binary && !opts.btf) {
        fprintf(stderr, "slabdbg explain: --type needs --binary or --btf\n");
        return 2;
    }
    const char *names[MAX_INPUTS];
    FILE *ins[MAX_INPUTS];
    int n = 0;
    if (optind == argc)
        names[n++] = "-";
    for (int i = optind; i < argc; i++) {
        if (n == MAX_INPUTS) {
            fprintf(stderr, "slabdbg explain: at most %d inputs\n", MAX_INPUTS);
            return 2;
        }
        names[n++] = argv[i];
    }
    int status = 2;
    int opened = 0;
    for (; opened < n; opened++) {
        ins[opened] = strcmp(names[opened], "-") ? fopen(names[opened], "r") : stdin;
        if (!ins[opened]) {
            fprintf(stderr, "slabdbg explain: %s: %s\n", names[opened], strerror(errno));
            goto close;
        }
    }
    status = explain_streams(ins, names, n, &opts, stdout, stderr);
close:
    for (int i = 0; i < opened; i++)
        if (ins[i] != stdin)
            fclose(ins[i]);
    return status;
}

/*
 * Oopses: the address the fault was really at, and what it means.
 *
 * The address is taken only from where it is real: a page fault's header
 * (x86 CR2 is the same, and only then); a general protection fault's
 * decoded instruction, whose memory operand the registers give (CR2 is a
 * stale value in a GPF); KASAN's range when it states one (the address a
 * shadow check was for); the pc itself when the code jumped to a bad
 * address.  A "kernel BUG at FILE:LINE" is an assertion, with no address.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "analyze/analyze.h"

/* A register of an operand, under the name the oops printed: x86 32-bit
 * forms read as their 64-bit register, arm64 "w" as "x", zero registers. */
static bool reg_value(const struct ex_oops *o, const char *name, uint64_t *v)
{
    char n[8];
    snprintf(n, sizeof(n), "%s", name);
    if (!strcmp(n, "xzr") || !strcmp(n, "wzr")) {
        *v = 0;
        return true;
    }
    if (n[0] == 'e' && strlen(n) == 3)
        n[0] = 'r'; /* eax -> rax */
    if (n[0] == 'r' && isdigit((unsigned char)n[1])) {
        size_t k = strlen(n);
        if (n[k - 1] == 'd' || n[k - 1] == 'w' || n[k - 1] == 'b')
            n[k - 1] = 0; /* r8d -> r8 */
    }
    if (n[0] == 'w' && isdigit((unsigned char)n[1]))
        n[0] = 'x';
    if (ex_oops_reg(o, n, v))
        return true;
    if (!strcmp(n, "fp") && ex_oops_reg(o, "x29", v))
        return true;
    if (!strcmp(n, "x29") && ex_oops_reg(o, "fp", v))
        return true;
    return false;
}

/* base + index*scale + disp from the registers. */
static bool operand_address(const struct ex_oops *o, const struct ex_insn *in, uint64_t *ea,
                            uint64_t *base, bool *has_base)
{
    uint64_t b = 0, x = 0;
    *has_base = false;
    if (!in->mem || !strcmp(in->base, "seg"))
        return false;
    if (in->base[0]) {
        if (!reg_value(o, in->base, &b))
            return false;
        *has_base = true;
    }
    if (in->index[0] && !reg_value(o, in->index, &x))
        return false;
    *base = b;
    *ea = b + x * (uint64_t)(in->scale ? in->scale : 1) + (uint64_t)in->disp;
    return true;
}

static bool is_page_fault_kind(const struct ex_oops *o)
{
    static const char *const kinds[] = {"NULL pointer dereference", "paging request", "page fault",
                                        "kernel fault"};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (!strcmp(o->kind, kinds[i]))
            return true;
    return o->arch != ARCH_X86_64 && o->arch != ARCH_USER && o->has_header_addr;
}

/* The pc was the bad address: an instruction fetch fault. */
static bool bad_pc(const struct ex_oops *o)
{
    if (o->instr_fetch)
        return true;
    if (o->arch == ARCH_ARM64 && o->has_esr) {
        unsigned ec = (unsigned)(o->esr >> 26) & 0x3f;
        if (ec == 0x20 || ec == 0x21)
            return true;
    }
    uint64_t cause;
    if (o->arch == ARCH_RISCV && ex_oops_reg(o, "cause", &cause) && (cause == 0xc || cause == 0x1))
        return true;
    return o->has_pc && !o->pc.func[0] && o->has_header_addr && o->pc.addr == o->header_addr &&
           !o->user_space;
}

static void regs_equal(const struct ex_oops *o, uint64_t v, uint64_t hi, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < o->nregs; i++) {
        const char *name = o->regs[i].name;
        if (o->regs[i].value < v || o->regs[i].value > hi || !strncmp(name, "CR", 2) ||
            !strcmp(name, "EFLAGS") || !strcmp(name, "badaddr") || !strcmp(name, "pstate"))
            continue;
        int k = snprintf(buf + n, size - n, "%s%s", n ? ", " : "", name);
        if (k < 0 || (size_t)k >= size - n)
            break;
        n += (size_t)k;
    }
}

static struct ex_value_ctx value_ctx(const struct ex_oops *o)
{
    struct ex_value_ctx c = {.arch = o->arch, .kernel = !o->user_space};
    return c;
}

static void reg_name(const struct ex_oops *o, const char *r, char *buf, size_t size)
{
    /* x86 registers as the oops prints them (RDI), others as they are */
    size_t i = 0;
    for (; r[i] && i + 1 < size; i++)
        buf[i] = o->arch == ARCH_X86_64 ? (char)toupper((unsigned char)r[i]) : r[i];
    buf[i] = 0;
}

/* A KASAN shadow check: one register of the memory operand holds the
 * shadow offset, the other the pointer shifted right by 3 (*idx). */
static bool shadow_check(const struct ex_oops *o, const struct ex_insn *in, uint64_t *idx)
{
    uint64_t off = ex_kasan_shadow_offset(o->arch), b, x;
    if (!in || !in->mem || !off || !in->base[0] || !in->index[0] || in->scale > 1 || in->disp)
        return false;
    if (!reg_value(o, in->base, &b) || !reg_value(o, in->index, &x))
        return false;
    if (b == off)
        *idx = x;
    else if (x == off)
        *idx = b;
    else
        return false;
    return *idx < (UINT64_C(1) << 61);
}

/* Where the fault address came from, and the address. */
static void resolve_address(const struct ex_oops *o, struct ex_oops_view *v)
{
    const struct ex_insn *in = v->fault >= 0 ? &v->insns[v->fault] : NULL;
    if (in && in->mem) {
        uint64_t ea, base;
        bool has_base;
        if (operand_address(o, in, &ea, &base, &has_base)) {
            v->has_operand_addr = true;
            v->operand_addr = ea;
            v->has_base_value = has_base;
            v->base_value = base;
        }
    }
    if (o->has_kasan_range) {
        v->has_range = true;
        v->range_lo = o->kasan_lo;
        v->range_hi = o->kasan_hi;
    }
    /* A user-space fault with no address (from a core) reads like a GPF:
     * the decoded instruction and the registers give the address. */
    bool gpf =
        !strcmp(o->kind, "general protection fault") || !strcmp(o->kind, "segmentation fault");
    if ((v->bad_pc = bad_pc(o))) {
        v->has_fault_addr = true;
        v->fault_addr = o->has_header_addr ? o->header_addr : o->pc.addr;
        v->fault_addr_from = "the pc: the code jumped there";
    } else if (v->has_range) {
        v->has_fault_addr = true;
        v->fault_addr = v->range_lo;
        v->fault_addr_from = "KASAN's range (the access its shadow check was for)";
    } else if (gpf) {
        uint64_t lo, hi, idx;
        if (v->has_operand_addr && shadow_check(o, in, &idx)) {
            /* the instruction adds KASAN's shadow offset to pointer >> 3: the
             * pointer is known but for its low 3 bits, wherever it points */
            v->has_range = true;
            v->range_lo = idx << 3;
            v->range_hi = v->range_lo + 7;
            v->has_fault_addr = true;
            v->fault_addr = v->range_lo;
            v->fault_addr_from = "the faulting instruction, a KASAN shadow check (its operand is "
                                 "the shadow of this pointer)";
        } else if (v->has_operand_addr && o->arch == ARCH_X86_64 &&
                   ex_kasan_shadow_range(v->operand_addr, ARCH_X86_64, &lo, &hi)) {
            v->has_range = true;
            v->range_lo = lo;
            v->range_hi = hi;
            v->has_fault_addr = true;
            v->fault_addr = lo;
            v->fault_addr_from = "the faulting instruction, a KASAN shadow check (the shadow "
                                 "address is that of this range)";
        } else if (v->has_operand_addr) {
            v->has_fault_addr = true;
            v->fault_addr = v->operand_addr;
            v->fault_addr_from = "the faulting instruction's operand and the registers";
        } else if (o->has_header_addr) {
            v->has_fault_addr = true;
            v->fault_addr = o->header_addr;
            v->fault_addr_from = "the header";
        }
    } else if (is_page_fault_kind(o) || o->access[0]) {
        uint64_t cr2;
        if (o->has_header_addr) {
            v->has_fault_addr = true;
            v->fault_addr = o->header_addr;
            v->fault_addr_from = o->header_addr_from ? o->header_addr_from : "the header";
        } else if (o->arch == ARCH_X86_64 && ex_oops_reg(o, "CR2", &cr2)) {
            v->has_fault_addr = true;
            v->fault_addr = cr2;
            v->fault_addr_from = "CR2 (a page fault's address)";
        }
    }
    if (v->has_fault_addr && v->has_operand_addr && !v->bad_pc)
        v->operand_matches = v->operand_addr == v->fault_addr ||
                             (o->has_header_addr && v->operand_addr == o->header_addr);
    if (v->has_fault_addr) {
        struct ex_value_ctx c = value_ctx(o);
        ex_value_note(v->fault_addr, 8, &c, &v->addr_note);
        /* zero is in many registers and says nothing about which one was used */
        if (v->fault_addr)
            regs_equal(o, v->fault_addr, v->has_range ? v->range_hi : v->fault_addr, v->regs_equal,
                       sizeof(v->regs_equal));
    }
}

static void find_loader(const struct ex_oops *o, struct ex_oops_view *v)
{
    v->loader = -1;
    if (v->fault < 0)
        return;
    const struct ex_insn *in = &v->insns[v->fault];
    if (!in->mem || !in->base[0] || !strcmp(in->base, "seg"))
        return;
    for (int i = v->fault - 1; i >= 0; i--) {
        if (!strcmp(v->insns[i].dest, in->base)) {
            v->loader = i;
            break;
        }
        const char *t = v->insns[i].text;
        if (!strncmp(t, "call", 4) || !strncmp(t, "jmp", 3) || !strncmp(t, "ret", 3) ||
            !strncmp(t, "bl ", 3) || !strncmp(t, "b ", 2) || !strncmp(t, "br ", 3))
            return; /* the register may be set elsewhere, or clobbered by the call */
    }
    if (v->loader < 0)
        return;
    const struct ex_insn *ld = &v->insns[v->loader];
    uint64_t b;
    if (ld->mem && ld->base[0] && !ld->index[0] && strcmp(ld->base, in->base) &&
        strcmp(ld->base, "seg") && !strstr(ld->text, "lea") && reg_value(o, ld->base, &b)) {
        v->load_addr_known = true;
        v->load_addr = b + (uint64_t)ld->disp;
    }
}

static void location(const struct ex_oops *o, struct ex_oops_view *v)
{
    char pc[200];
    ex_frame_text(&o->pc, pc, sizeof(pc));
    if (o->has_bug_loc)
        snprintf(v->location, sizeof(v->location), "kernel BUG at %s:%d%s%s", o->bug_file,
                 o->bug_line, o->has_pc && !o->pc_user && o->pc.func[0] ? " in " : "",
                 o->has_pc && !o->pc_user && o->pc.func[0] ? pc : "");
    else if (o->has_pc && o->pc_user && !o->user_space)
        snprintf(v->location, sizeof(v->location), "user mode (pc 0x%" PRIx64 ")", o->pc.addr);
    else if (o->has_pc)
        snprintf(v->location, sizeof(v->location), "%s", pc);
}

static void verdict(const struct ex_oops *o, struct ex_oops_view *v)
{
    char *s = v->verdict;
    size_t size = sizeof(v->verdict);
    const struct ex_insn *in = v->fault >= 0 ? &v->insns[v->fault] : NULL;
    char base[8];
    reg_name(o, in ? in->base : "", base, sizeof(base));
    uint64_t a = v->fault_addr;
    if (o->has_bug_loc || !strcmp(o->kind, "kernel BUG")) {
        snprintf(s, size,
                 "an assertion failed: %s (BUG_ON or BUG): the code found a state it "
                 "does not allow",
                 v->location[0] ? v->location : "kernel BUG");
        return;
    }
    if (!strcmp(o->kind, "invalid opcode")) {
        snprintf(s, size,
                 "an invalid instruction: a BUG() whose location line is missing, or "
                 "corrupted code");
        return;
    }
    if (v->bad_pc) {
        const struct ex_frame *caller = NULL;
        for (int k = 0; k < o->trace.n && !caller; k++)
            if (!o->trace.f[k].unreliable && o->trace.f[k].func[0])
                caller = &o->trace.f[k];
        char cbuf[EX_NAME_MAX + 48] = "";
        if (caller)
            ex_frame_text(caller, cbuf, sizeof(cbuf));
        int n = snprintf(s, size,
                         "the code jumped to 0x%" PRIx64
                         ", where there is no code: a call through a %s "
                         "function pointer (or a smashed return address)%s%s%s%s%s",
                         a, a < 0x10000 ? "NULL (or NULL plus an offset)" : "corrupted",
                         caller ? "; the call was made from " : "", cbuf,
                         caller ? " (the first frame of the trace)" : "", a >= 0x10000 ? ". " : "",
                         a >= 0x10000 ? v->addr_note.text : "");
        (void)n; /* a verdict longer than its buffer is cut, never overrun */
        return;
    }
    if (!v->has_fault_addr) {
        if (!strcmp(o->kind, "general protection fault"))
            snprintf(s, size, "a general protection fault at an address the oops does not state%s",
                     o->has_code ? " (the faulting instruction could not be computed from the "
                                   "registers)"
                                 : " (no Code: bytes to decode; CR2 is no help in a GPF)");
        return;
    }
    if (v->has_range && in && in->mem) {
        /* a KASAN shadow check faulted: what was the real pointer? */
        struct ex_value_ctx c = value_ctx(o);
        struct ex_value_note n;
        ex_value_note(v->range_lo, 8, &c, &n);
        if (v->range_lo < 0x1000)
            snprintf(s, size,
                     "a NULL pointer plus the field offset 0x%" PRIx64 ": KASAN checked the "
                     "shadow of 0x%" PRIx64 "-0x%" PRIx64 " before the access",
                     v->range_lo, v->range_lo, v->range_hi);
        else
            snprintf(s, size, "KASAN checked the shadow of 0x%" PRIx64 "-0x%" PRIx64 ": %s",
                     v->range_lo, v->range_hi, n.text);
        return;
    }
    if (v->has_range) {
        snprintf(s, size, "%s: KASAN says the access was to 0x%" PRIx64 "-0x%" PRIx64,
                 v->range_lo < 0x1000 ? "a NULL pointer plus a field offset" : "a wild pointer",
                 v->range_lo, v->range_hi);
        return;
    }
    if (in && in->mem && v->has_base_value && !in->index[0] && v->operand_matches) {
        if (v->base_value == 0 && (uint64_t)in->disp == a) {
            snprintf(s, size,
                     "a NULL pointer plus a field offset: %s was NULL and the instruction reads "
                     "the field at offset 0x%" PRIx64,
                     base, a);
            return;
        }
        if (a < 0x10000 && in->disp == 0) {
            snprintf(s, size,
                     "0x%" PRIx64 " is not a NULL pointer plus a field offset of a plausible "
                     "struct: the instruction (%s) adds no offset, so %s itself held 0x%" PRIx64
                     "%s; it looks like a constant written over a pointer",
                     a, in->text, base, a,
                     in->size > 1 && a % (uint64_t)in->size
                         ? ", and a pointer-sized load from a misaligned address is no field access"
                         : "");
            return;
        }
        if (a < 0x10000 && v->base_value < 0x10000 && v->base_value) {
            snprintf(s, size,
                     "%s held 0x%" PRIx64 ", not NULL: a small constant used as a pointer, plus "
                     "the field offset 0x%" PRIx64,
                     base, v->base_value, (uint64_t)in->disp);
            return;
        }
        struct ex_value_ctx c = value_ctx(o);
        struct ex_value_note bn;
        ex_value_note(v->base_value, 8, &c, &bn);
        if (bn.not_pointer && bn.kind != VAL_SMALL) {
            snprintf(s, size, "%s held a value that is no pointer: %s%s", base, bn.text,
                     in->disp ? "; the instruction adds the field offset " : "");
            if (in->disp) {
                size_t k = strlen(s);
                snprintf(s + k, size - k, "0x%" PRIx64, (uint64_t)in->disp);
            }
            return;
        }
    }
    if (a == 0) {
        snprintf(s, size, "a NULL pointer was dereferenced");
    } else if (a < 0x10000 && !o->nregs) {
        snprintf(s, size,
                 "0x%" PRIx64 " is below 64 KiB: a NULL pointer plus a field offset, or a small "
                 "constant used as a pointer (the oops has no registers to tell)",
                 a);
    } else if (a < 0x1000 && !v->regs_equal[0]) {
        snprintf(s, size,
                 "possibly a NULL pointer plus the field offset 0x%" PRIx64
                 " (no register held the address itself)",
                 a);
    } else if (a < 0x10000 && v->regs_equal[0]) {
        snprintf(s, size,
                 "0x%" PRIx64 " is not a NULL pointer plus a field offset of a plausible struct: "
                 "%s held exactly 0x%" PRIx64 "; it looks like a constant written over a pointer",
                 a, v->regs_equal, a);
    } else {
        snprintf(s, size, "%s%s", v->addr_note.text,
                 v->addr_note.not_pointer
                     ? ""
                     : "; the pointer may be stale (use after free) or corrupted");
    }
}

void ex_analyze_oops(struct ex_analysis *a, int i)
{
    const struct ex_oops *o = &a->m->oopses[i];
    struct ex_oops_view *v = &a->views[i];
    ex_decode(o, v);
    resolve_address(o, v);
    find_loader(o, v);
    location(o, v);
    verdict(o, v);
}

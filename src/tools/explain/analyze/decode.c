/*
 * The oops' Code: bytes decoded with capstone: x86-64 (AT&T syntax, as
 * objdump and the kernel's decodecode print it), arm64 and 32-bit arm.
 *
 * x86 code has no known instruction boundary before the marked byte.
 * Decoding from every earlier byte, most starts fall into step with the
 * real instruction stream after an instruction or two; the listing starts
 * at the first boundary that most earlier starts agree on, so that it
 * shows no half-instructions ("junk") before the marked one.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#ifdef HAVE_CAPSTONE
#include <capstone/capstone.h>
#endif

#include "analyze/analyze.h"

#ifdef HAVE_CAPSTONE
static void lower(char *dst, size_t size, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < size; i++)
        dst[i] = (char)tolower((unsigned char)s[i]);
    dst[i] = 0;
}

/* AT&T mnemonics carry a size suffix ("movq"); like objdump, drop it when a
 * register operand already says the size. */
static void x86_mnemonic(const cs_insn *in, char *buf, size_t size)
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

static bool is_branch(const cs_insn *in)
{
    for (int i = 0; i < in->detail->groups_count; i++)
        if (in->detail->groups[i] == CS_GRP_JUMP || in->detail->groups[i] == CS_GRP_CALL ||
            in->detail->groups[i] == CS_GRP_RET)
            return true;
    return false;
}

static void x86_fill(csh h, const cs_insn *in, int start, struct ex_insn *out)
{
    char mn[32];
    memset(out, 0, sizeof(*out));
    out->start = start;
    out->len = in->size;
    x86_mnemonic(in, mn, sizeof(mn));
    snprintf(out->text, sizeof(out->text), "%s%s%s", mn, in->op_str[0] ? " " : "", in->op_str);
    out->branch = is_branch(in);
    const cs_x86 *x = &in->detail->x86;
    for (int i = 0; i < x->op_count; i++) {
        const cs_x86_op *op = &x->operands[i];
        if (op->type == X86_OP_MEM && !out->mem) {
            out->mem = true;
            if (op->mem.segment != X86_REG_INVALID && op->mem.segment != X86_REG_DS &&
                op->mem.segment != X86_REG_SS && op->mem.segment != X86_REG_ES &&
                op->mem.segment != X86_REG_CS)
                snprintf(out->base, sizeof(out->base), "%s", "seg"); /* fs:/gs: bases are unknown */
            else if (op->mem.base != X86_REG_INVALID && op->mem.base != X86_REG_RIP)
                lower(out->base, sizeof(out->base), cs_reg_name(h, op->mem.base));
            if (op->mem.index != X86_REG_INVALID)
                lower(out->index, sizeof(out->index), cs_reg_name(h, op->mem.index));
            out->scale = op->mem.scale;
            out->disp = op->mem.disp;
            out->size = op->size;
            out->mem_access = (op->access & CS_AC_READ ? EX_MEM_READ : 0) |
                              (op->access & CS_AC_WRITE ? EX_MEM_WRITE : 0);
            if (!strncmp(mn, "lea", 3) || !strncmp(mn, "nop", 3) || !strncmp(mn, "prefetch", 8))
                out->mem_access = 0; /* no access at all */
        } else if (op->type == X86_OP_REG && (op->access & CS_AC_WRITE)) {
            lower(out->dest, sizeof(out->dest), cs_reg_name(h, op->reg));
        }
    }
}

/* Decodes from `start` up to `stop`; returns the number of instructions,
 * and in *end where decoding stopped; boundaries get the starts. */
static int x86_run(csh h, const uint8_t *code, int ncode, uint64_t base, int start, int stop,
                   struct ex_insn *out, int max, int *end, bool *boundaries)
{
    cs_insn *in = cs_malloc(h);
    const uint8_t *p = code + start;
    size_t left = (size_t)(ncode - start);
    uint64_t addr = base + (uint64_t)start;
    int n = 0, pos = start;
    while (pos < stop && n < max && cs_disasm_iter(h, &p, &left, &addr, in)) {
        if (boundaries)
            boundaries[pos] = true;
        if (out)
            x86_fill(h, in, pos, &out[n]);
        n++;
        pos += in->size;
    }
    cs_free(in, 1);
    *end = pos;
    return n;
}

/* The first boundary before the mark that most earlier decoding starts
 * agree on; the mark itself when there is none. */
static int x86_align(csh h, const struct ex_oops *o, uint64_t base, int mark)
{
    static bool paths[128][128];
    bool lands[128];
    int end;
    memset(lands, 0, sizeof(lands));
    for (int s = 0; s < mark; s++) {
        memset(paths[s], 0, sizeof(paths[s]));
        x86_run(h, o->code, o->ncode, base, s, mark, NULL, EX_INSNS_MAX, &end, paths[s]);
        lands[s] = end == mark;
    }
    for (int p = 0; p < mark; p++) {
        if (!lands[p])
            continue;
        int earlier = 0, through = 0;
        for (int s = 0; s < p; s++) {
            if (!lands[s])
                continue;
            earlier++;
            through += paths[s][p];
        }
        if (earlier >= 2 && 4 * through >= 3 * earlier)
            return p; /* three quarters of the earlier starts at least */
    }
    return mark;
}

static void x86_decode(const struct ex_oops *o, struct ex_oops_view *v)
{
    csh h;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
        v->decode_note = "capstone could not be opened";
        return;
    }
    cs_option(h, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
    cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
    int mark = o->code_mark >= 0 ? o->code_mark : 0, end;
    /* branch targets read as offsets in the function when the pc names it,
     * as addresses when the pc is one */
    uint64_t base = 0;
    if (o->has_pc && o->pc.func[0] && o->pc.off >= (uint64_t)mark) {
        base = o->pc.off - (uint64_t)mark;
        snprintf(v->branch_base, sizeof(v->branch_base), "%s", o->pc.func);
    } else if (o->has_pc && o->pc.has_addr) {
        base = o->pc.addr - (uint64_t)mark;
    }
    int from = x86_align(h, o, base, mark);
    v->ninsns = x86_run(h, o->code, o->ncode, base, from, mark, v->insns, EX_INSNS_MAX / 2, &end, NULL);
    if (end != mark) /* cannot happen for a start that landed; be safe */
        v->ninsns = 0;
    v->fault = v->ninsns;
    int after = x86_run(h, o->code, o->ncode, base, mark, o->ncode, v->insns + v->ninsns,
                        EX_INSNS_MAX - v->ninsns, &end, NULL);
    if (!after)
        v->fault = -1;
    v->ninsns += after;
    v->decoded = v->fault >= 0;
    if (!v->decoded)
        v->decode_note = "the marked bytes do not decode as an x86-64 instruction";
    cs_close(&h);
}

/* Loads read, stores write, atomics do both (by the mnemonic: capstone 4
 * does not mark memory operands' access on arm). */
static unsigned arm_mem_access(const char *mn)
{
    static const char *const both[] = {"ldadd", "ldclr", "ldeor", "ldset", "ldsmax", "ldsmin",
                                       "ldumax", "ldumin", "swp", "cas"};
    for (size_t i = 0; i < sizeof(both) / sizeof(both[0]); i++)
        if (!strncmp(mn, both[i], strlen(both[i])))
            return EX_MEM_READ | EX_MEM_WRITE;
    if (!strncmp(mn, "ld", 2) || !strncmp(mn, "pop", 3))
        return EX_MEM_READ;
    if (!strncmp(mn, "st", 2) || !strncmp(mn, "push", 4))
        return EX_MEM_WRITE;
    return 0;
}

static void arm_fill(csh h, const cs_insn *in, int start, bool arm64, struct ex_insn *out)
{
    memset(out, 0, sizeof(*out));
    out->start = start;
    out->len = in->size;
    snprintf(out->text, sizeof(out->text), "%s%s%s", in->mnemonic, in->op_str[0] ? " " : "",
             in->op_str);
    out->branch = is_branch(in);
    if (arm64) {
        const cs_arm64 *x = &in->detail->arm64;
        for (int i = 0; i < x->op_count; i++) {
            const cs_arm64_op *op = &x->operands[i];
            if (op->type == ARM64_OP_MEM && !out->mem) {
                out->mem = true;
                if (op->mem.base != ARM64_REG_INVALID)
                    lower(out->base, sizeof(out->base), cs_reg_name(h, op->mem.base));
                if (op->mem.index != ARM64_REG_INVALID) {
                    lower(out->index, sizeof(out->index), cs_reg_name(h, op->mem.index));
                    out->scale = op->shift.type == ARM64_SFT_LSL ? 1 << op->shift.value : 1;
                }
                out->disp = op->mem.disp;
            } else if (op->type == ARM64_OP_REG && (op->access & CS_AC_WRITE) && !out->dest[0]) {
                lower(out->dest, sizeof(out->dest), cs_reg_name(h, op->reg));
            }
        }
        /* the access size, from the mnemonic and the register */
        const char *mn = in->mnemonic;
        if (out->mem && (!strncmp(mn, "ldr", 3) || !strncmp(mn, "str", 3) || !strncmp(mn, "ld", 2) ||
                         !strncmp(mn, "st", 2))) {
            size_t n = strlen(mn);
            char last = mn[n - 1];
            if (last == 'b' && strncmp(mn, "ldaxrb", 6))
                out->size = 1;
            else if (last == 'h')
                out->size = 2;
            else if (!strncmp(mn, "ldrsw", 5))
                out->size = 4;
            else if (x->op_count > 0 && x->operands[0].type == ARM64_OP_REG)
                out->size = cs_reg_name(h, x->operands[0].reg)[0] == 'w' ? 4 : 8;
        }
        if (out->mem)
            out->mem_access = arm_mem_access(mn);
        /* a "w" register is its "x" register's low half */
        if (out->dest[0] == 'w')
            out->dest[0] = 'x';
    } else {
        const cs_arm *x = &in->detail->arm;
        for (int i = 0; i < x->op_count; i++) {
            const cs_arm_op *op = &x->operands[i];
            if (op->type == ARM_OP_MEM && !out->mem) {
                out->mem = true;
                if (op->mem.base != ARM_REG_INVALID)
                    lower(out->base, sizeof(out->base), cs_reg_name(h, op->mem.base));
                if (op->mem.index != ARM_REG_INVALID) {
                    lower(out->index, sizeof(out->index), cs_reg_name(h, op->mem.index));
                    out->scale = 1;
                }
                out->disp = op->mem.disp;
            } else if (op->type == ARM_OP_REG && (op->access & CS_AC_WRITE) && !out->dest[0]) {
                lower(out->dest, sizeof(out->dest), cs_reg_name(h, op->reg));
            }
        }
        if (out->mem)
            out->mem_access = arm_mem_access(in->mnemonic);
    }
}

static void arm_decode(const struct ex_oops *o, struct ex_oops_view *v, bool arm64)
{
    csh h;
    if (o->code_unit != 4) {
        v->decode_note = arm64 ? "the Code: line does not hold 32-bit words"
                               : "Thumb code is not decoded (only 32-bit ARM words)";
        return;
    }
    if (cs_open(arm64 ? CS_ARCH_ARM64 : CS_ARCH_ARM, CS_MODE_ARM, &h) != CS_ERR_OK) {
        v->decode_note = "capstone could not be opened";
        return;
    }
    cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
    uint64_t base = 0;
    if (o->has_pc && o->pc.func[0] && o->pc.off >= (uint64_t)o->code_mark) {
        base = o->pc.off - (uint64_t)o->code_mark;
        snprintf(v->branch_base, sizeof(v->branch_base), "%s", o->pc.func);
    } else if (o->has_pc && o->pc.has_addr) {
        base = o->pc.addr - (uint64_t)o->code_mark;
    }
    cs_insn *in = cs_malloc(h);
    v->fault = -1;
    for (int pos = 0; pos + 4 <= o->ncode && v->ninsns < EX_INSNS_MAX; pos += 4) {
        const uint8_t *p = o->code + pos;
        size_t left = 4;
        uint64_t addr = base + (uint64_t)pos;
        struct ex_insn *x = &v->insns[v->ninsns];
        if (cs_disasm_iter(h, &p, &left, &addr, in)) {
            arm_fill(h, in, pos, arm64, x);
        } else {
            memset(x, 0, sizeof(*x));
            x->start = pos;
            x->len = 4;
            snprintf(x->text, sizeof(x->text), "(bad)");
        }
        if (pos == o->code_mark)
            v->fault = v->ninsns;
        v->ninsns++;
    }
    cs_free(in, 1);
    cs_close(&h);
    v->decoded = v->fault >= 0 && strcmp(v->insns[v->fault].text, "(bad)");
    if (!v->decoded)
        v->decode_note = arm64 ? "the marked word does not decode as an arm64 instruction"
                               : "the marked word does not decode as an ARM instruction";
}
#endif

void ex_decode(const struct ex_oops *o, struct ex_oops_view *v)
{
    v->fault = -1;
    if (!o->has_code) {
        if (o->code_unavailable)
            v->decode_note = "the oops says its code bytes were unavailable";
        return;
    }
    if (o->code_mark < 0) {
        v->decode_note = "no faulting instruction is marked in the Code: line";
        return;
    }
    if (o->arch == ARCH_RISCV) {
        v->decode_note = "riscv instructions are not decoded (capstone 4 has no riscv)";
        return;
    }
#ifdef HAVE_CAPSTONE
    if (o->arch == ARCH_ARM64)
        arm_decode(o, v, true);
    else if (o->arch == ARCH_ARM)
        arm_decode(o, v, false);
    else
        x86_decode(o, v);
#else
    v->decode_note = "Code: bytes not decoded (built without capstone)";
#endif
}

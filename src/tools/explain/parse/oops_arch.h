/*
 * The oops parser (oops.c) reads what every architecture's oops has (the
 * task line, the call trace, "kernel BUG at", KASAN's range, the end
 * markers); each architecture's file reads its own header forms and the
 * lines only it prints (registers, pc/lr, fault details, Code: words).
 */
#ifndef SLABDBG_EXPLAIN_PARSE_OOPS_ARCH_H
#define SLABDBG_EXPLAIN_PARSE_OOPS_ARCH_H

#include "parse/parse.h"

struct oops_state {
    struct ex_oops *o;
    bool header_seen;  /* a header line (not only a hint) was read */
    bool in_trace;     /* frame lines go to the trace */
    bool regs_started; /* the fault's register dump began */
    bool regs_done;    /* ... and ended: later dumps (IRQ frames, user regs) are not the fault's */
    bool hint_only;    /* opened on a hint line ("KASAN: null-ptr-deref in range") */
    bool nested;       /* a later register dump (an IRQ frame's, the user's) is being read:
                        * its Code: line is not the fault's */
    bool trace_ended;  /* "---[ end trace" was read: only the panic it causes follows */
};

/* Header lines.  With o NULL they only tell whether s is one; with o they
 * fill kind, header, the stated address and the architecture. */
bool ex_oops_x86_header(const char *s, struct ex_oops *o);
bool ex_oops_arm_header(const char *s, struct ex_oops *o); /* arm64, 32-bit arm, riscv */
bool ex_oops_riscv_header(const char *s, struct ex_oops *o);

/* Lines that continue a header ("Oops: 0000 [#1]", "#PF: ...", "Mem abort
 * info:", "Internal error: Oops: ...", "Oops [#1]"): taken while no
 * register or trace line came. */
bool ex_oops_x86_continuation(struct oops_state *st, const char *s);
bool ex_oops_arm_continuation(struct oops_state *st, const char *s);
bool ex_oops_riscv_continuation(struct oops_state *st, const char *s);

/* Body lines only an architecture prints; they may settle o->arch. */
bool ex_oops_x86_line(struct oops_state *st, const char *s);
bool ex_oops_arm_line(struct oops_state *st, const char *s);
bool ex_oops_riscv_line(struct oops_state *st, const char *s);

/* Adds the register dump pairs that name registers of the oops' arch;
 * the first value of a register is kept (it is the fault's). */
void ex_oops_add_regs(struct oops_state *st, const struct ex_reg *regs, int n,
                      bool (*is_reg)(const char *name));

#endif

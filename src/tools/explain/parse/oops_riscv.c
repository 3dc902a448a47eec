/*
 * riscv oops lines: recognised and read (capstone 4 cannot decode riscv,
 * so Code: parcels are shown as they are).
 *
 *   Unable to handle kernel NULL pointer dereference at virtual address 0000000000000960
 *   Oops [#1]
 *   epc : walk_stackframe+0xc4/0xdc
 *    ra : dump_backtrace+0x30/0x38
 *   epc : ffffffff80004922 ra : ffffffff8000496a sp : ffffffe000f3bd00
 *    gp : ... tp : ... t0 : ...
 *   status: 0000000000000100 badaddr: 0000000000000960 cause: 000000000000000d
 *   [<ffffffff80004922>] walk_stackframe+0xc4/0xdc
 *   Code: 8793 0107 (6394) 0000
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "parse/oops_arch.h"

/* "Oops - illegal instruction [#1]", "Kernel BUG [#1]" */
bool ex_oops_riscv_header(const char *s, struct ex_oops *o)
{
    bool oops = ex_starts(s, "Oops - ") && strstr(s, " [#");
    bool bug = ex_starts(s, "Kernel BUG [#");
    if (!oops && !bug)
        return false;
    if (!o)
        return true;
    if (!o->header[0] || !strcmp(o->kind, "oops")) {
        ex_copy_str(o->header, sizeof(o->header), s);
        if (bug) {
            ex_copy_str(o->kind, sizeof(o->kind), "kernel BUG");
        } else {
            const char *what = s + 7;
            ex_copy(o->kind, sizeof(o->kind), what, (size_t)(strstr(s, " [#") - what));
        }
    }
    o->arch = ARCH_RISCV;
    return true;
}

bool ex_oops_riscv_continuation(struct oops_state *st, const char *s)
{
    if (!ex_starts(s, "Oops [#"))
        return false;
    st->o->arch = ARCH_RISCV;
    return true;
}

static bool is_riscv_reg(const char *name)
{
    static const char *const named[] = {"epc", "ra", "sp", "gp", "tp", "status", "badaddr", "cause"};
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        if (!strcmp(name, named[i]))
            return true;
    if ((name[0] == 't' || name[0] == 's' || name[0] == 'a') && isdigit((unsigned char)name[1])) {
        for (const char *p = name + 1; *p; p++)
            if (!isdigit((unsigned char)*p))
                return false;
        return true;
    }
    return false;
}

bool ex_oops_riscv_line(struct oops_state *st, const char *s)
{
    struct ex_oops *o = st->o;
    if (o->arch != ARCH_RISCV && o->arch != ARCH_ARM64 && o->arch != ARCH_UNKNOWN)
        return false;
    struct ex_frame f;
    /* "epc : walk_stackframe+0xc4/0xdc", " ra : dump_backtrace+0x30/0x38" */
    if ((ex_starts(s, "epc : ") || ex_starts(s, "ra : ")) && ex_parse_frame(s + (s[0] == 'e' ? 6 : 5), &f) &&
        f.func[0]) {
        o->arch = ARCH_RISCV;
        if (s[0] == 'e' && !o->has_pc) {
            o->pc = f;
            o->has_pc = true;
        } else if (s[0] == 'r' && !o->has_lr) {
            o->lr = f;
            o->has_lr = true;
        }
        return true;
    }
    struct ex_reg regs[8];
    int n = ex_regs_line(s, regs, 8);
    if (n <= 0 || !is_riscv_reg(regs[0].name))
        return false;
    /* riscv's register names are arm64's in part ("sp"): the line is riscv's
     * when one of its names is riscv-only */
    bool riscv = o->arch == ARCH_RISCV;
    for (int i = 0; i < n && !riscv; i++)
        riscv = strcmp(regs[i].name, "sp") && is_riscv_reg(regs[i].name);
    if (!riscv)
        return false;
    o->arch = ARCH_RISCV;
    if (st->regs_done)
        return true;
    st->regs_started = true;
    ex_oops_add_regs(st, regs, n, is_riscv_reg);
    uint64_t v;
    if (!o->has_header_addr && ex_oops_reg(o, "badaddr", &v)) {
        o->has_header_addr = true;
        o->header_addr = v;
        o->header_addr_from = "badaddr";
    }
    if (!o->has_pc && ex_oops_reg(o, "epc", &v)) {
        memset(&o->pc, 0, sizeof(o->pc));
        o->pc.addr = v;
        o->pc.has_addr = true;
        o->has_pc = true;
    }
    return true;
}

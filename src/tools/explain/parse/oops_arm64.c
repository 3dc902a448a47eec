/*
 * arm64 (and 32-bit arm) oops lines.
 *
 *   Unable to handle kernel paging request at virtual address dead000000000150
 *   Mem abort info:
 *     ESR = 0x0000000096000004
 *     EC = 0x25: DABT (current EL), IL = 32 bits ...
 *   Data abort info:
 *     ISV = 0, ISS = 0x00000004 ... CM = 0, WnR = 0 ...
 *   [dead000000000150] address between user and kernel address ranges
 *   Internal error: Oops: 0000000096000004 [#1] SMP
 *   pc : eventfs_iterate+0x2c0/0x398
 *   lr : eventfs_iterate+0x2fc/0x398
 *   sp : ffff80008d56bbd0
 *   x29: ffff80008d56bbf0 x28: ffff001ff5be2600 x27: 0000000000000000 ...
 *   Call trace: <frames>
 *   Code: 54ffff6c f9400676 910006d6 f9000676 (b9405300)
 *
 * 32-bit arm prints "PC is at func+off/size", "LR is at ...", "pc : [<...>]
 * lr : [<...>] psr: ...", registers r0..r10, fp, ip, and a backtrace of
 * "[<pc>] (func) from [<lr>] (caller+off/size)" lines.  The "Unable to
 * handle kernel ..." header is riscv's too: its body lines tell.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "parse/oops_arch.h"

bool ex_oops_arm_header(const char *s, struct ex_oops *o)
{
    if (!ex_starts(s, "Unable to handle kernel "))
        return false;
    const char *at = strstr(s, " at virtual address ");
    if (!at)
        at = strstr(s, " at address ");
    if (!at)
        return false;
    if (!o)
        return true;
    const char *what = s + strlen("Unable to handle kernel ");
    if (!o->header[0] || !strcmp(o->kind, "oops")) {
        ex_copy_str(o->header, sizeof(o->header), s);
        if (ex_starts(what, "NULL pointer dereference"))
            ex_copy_str(o->kind, sizeof(o->kind), "NULL pointer dereference");
        else if (ex_starts(what, "paging request"))
            ex_copy_str(o->kind, sizeof(o->kind), "paging request");
        else
            ex_copy(o->kind, sizeof(o->kind), what, (size_t)(at - what));
    }
    const char *p = strstr(at + 1, "address ") + 8;
    int digits = ex_hex_digits(p[0] == '0' && p[1] == 'x' ? p + 2 : p);
    uint64_t a;
    if (ex_scan_hex(&p, &a)) {
        o->has_header_addr = true;
        o->header_addr = a;
        o->header_addr_from = "the header";
    }
    if (o->arch == ARCH_UNKNOWN)
        o->arch = digits <= 8 ? ARCH_ARM : ARCH_ARM64;
    if (strstr(what, "write") || strstr(what, "execute"))
        o->write = strstr(what, "write") != NULL;
    if (strstr(what, "execute"))
        o->instr_fetch = true;
    return true;
}

bool ex_oops_arm_continuation(struct oops_state *st, const char *s)
{
    struct ex_oops *o = st->o;
    const char *p;
    if (ex_starts(s, "Mem abort info:") || ex_starts(s, "Data abort info:") ||
        ex_starts(s, "EC = ") || ex_starts(s, "Exception class = ") || ex_starts(s, "SET = ") ||
        ex_starts(s, "EA = ") || ex_starts(s, "FSC = ") || ex_starts(s, "ISV = ") ||
        ex_starts(s, "GCS = ") || ex_starts(s, "user pgtable:") ||
        ex_starts(s, "swapper pgtable:") || ex_starts(s, "pgd = ")) {
        if (o->arch != ARCH_ARM)
            o->arch = ARCH_ARM64;
        return true;
    }
    if (ex_starts(s, "ESR = ")) {
        p = s + 6;
        uint64_t v;
        if (ex_scan_hex(&p, &v)) {
            o->has_esr = true;
            o->esr = v;
        }
        o->arch = ARCH_ARM64;
        return true;
    }
    if (ex_starts(s, "CM = ")) {
        const char *w = strstr(s, "WnR = ");
        if (w && w[6] == '1')
            o->write = true;
        return true;
    }
    /* "[dead000000000150] address between user and kernel address ranges",
     * "[0000000000000008] pgd=0000000000000000, p4d=..." */
    if (s[0] == '[' && isxdigit((unsigned char)s[1])) {
        p = s + 1;
        uint64_t a;
        if (!ex_scan_hex(&p, &a) || *p != ']')
            return false;
        if (!o->has_header_addr) {
            o->has_header_addr = true;
            o->header_addr = a;
            o->header_addr_from = "the fault address line";
        }
        if (strstr(p, "address between user and kernel") && (!o->kind[0] || !strcmp(o->kind, "oops")))
            ex_copy_str(o->kind, sizeof(o->kind), "address between the user and kernel ranges");
        return true;
    }
    if (ex_starts(s, "Internal error: ")) {
        if (!o->kind[0] || !strcmp(o->kind, "oops")) {
            ex_copy_str(o->kind, sizeof(o->kind), strstr(s, "BUG") ? "kernel BUG" : "oops");
            if (!o->header[0])
                ex_copy_str(o->header, sizeof(o->header), s);
        }
        if (o->arch == ARCH_UNKNOWN)
            o->arch = strstr(s, " ARM") ? ARCH_ARM : ARCH_ARM64;
        return true;
    }
    return false;
}

static bool is_arm_reg(const char *name)
{
    static const char *const named[] = {"sp", "pc", "lr", "pstate", "fp", "ip", "psr"};
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        if (!strcmp(name, named[i]))
            return true;
    if ((name[0] == 'x' || name[0] == 'r') && isdigit((unsigned char)name[1])) {
        for (const char *p = name + 1; *p; p++)
            if (!isdigit((unsigned char)*p))
                return false;
        return true;
    }
    return false;
}

/* "pc : func+off/size", "lr : ...", "PC is at func+off/size", "LR is at ..." */
static bool pc_lr_line(struct oops_state *st, const char *s)
{
    struct ex_oops *o = st->o;
    bool pc;
    const char *p;
    if (ex_starts(s, "pc : ") || ex_starts(s, "PC is at ")) {
        pc = true;
    } else if (ex_starts(s, "lr : ") || ex_starts(s, "LR is at ")) {
        pc = false;
    } else {
        return false;
    }
    p = ex_starts(s, "pc : ") || ex_starts(s, "lr : ") ? s + 5 : s + 9;
    struct ex_frame f;
    p = ex_skip_ws(p);
    if (p[0] == '[' && p[1] == '<')
        return false; /* arm's "pc : [<c0312c40>] lr : ..." is a register line */
    if (!ex_parse_frame(p, &f))
        return false;
    if (ex_starts(s, "PC is at ") || ex_starts(s, "LR is at ")) {
        if (o->arch == ARCH_UNKNOWN)
            o->arch = ARCH_ARM;
    } else if (o->arch == ARCH_UNKNOWN || o->arch == ARCH_ARM) {
        o->arch = ARCH_ARM64;
    }
    if (pc && !o->has_pc) {
        o->pc = f;
        o->has_pc = true;
        if (!f.func[0] && f.has_addr && f.addr >> 63 == 0)
            o->pc_user = true;
    } else if (!pc && !o->has_lr) {
        o->lr = f;
        o->has_lr = true;
    }
    return true;
}

bool ex_oops_arm_line(struct oops_state *st, const char *s)
{
    struct ex_oops *o = st->o;
    if (o->arch != ARCH_ARM64 && o->arch != ARCH_ARM && o->arch != ARCH_UNKNOWN)
        return false;
    if (pc_lr_line(st, s))
        return true;
    if (ex_starts(s, "Flags: ") || ex_starts(s, "Control: ") || ex_starts(s, "Register r"))
        return o->arch == ARCH_ARM;
    struct ex_reg regs[8];
    int n = ex_regs_line(s, regs, 8);
    if (n <= 0 || !is_arm_reg(regs[0].name))
        return false;
    if (regs[0].name[0] == 'r' || !strcmp(regs[0].name, "psr"))
        o->arch = ARCH_ARM;
    else if (o->arch == ARCH_UNKNOWN)
        o->arch = ARCH_ARM64;
    if (st->regs_done)
        return true;
    st->regs_started = true;
    ex_oops_add_regs(st, regs, n, is_arm_reg);
    /* arm's "pc : [<c0312c40>]" carries the pc when no "PC is at" came */
    uint64_t v;
    if (!o->has_pc && ex_oops_reg(o, "pc", &v)) {
        memset(&o->pc, 0, sizeof(o->pc));
        o->pc.addr = v;
        o->pc.has_addr = true;
        o->has_pc = true;
    }
    return true;
}

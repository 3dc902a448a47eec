/*
 * x86-64 oops lines.
 *
 * Headers: "BUG: unable to handle kernel NULL pointer dereference at ADDR"
 * (before 4.20), "BUG: kernel NULL pointer dereference, address: ADDR",
 * "BUG: unable to handle page fault for address: ADDR" (later; also our
 * user-space form without the colon), "general protection fault[, probably
 * for non-canonical address 0x...]: 0000 [#1]", "invalid opcode: 0000",
 * "stack segment: 0000", "divide error: 0000", all with "Oops: " in front
 * since 6.9.  Then "#PF: supervisor read access in kernel mode", "Oops:
 * 0000 [#1]", "RIP: 0010:func+0xa3/0x170" (several for inlined frames),
 * "RIP: 0033:..." for user mode, "IP: [<...>] func" (before 4.11), the
 * register dump, "Code:" bytes.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "parse/oops_arch.h"

static const struct {
    const char *prefix, *kind, *addr_key;
} forms[] = {
    {"BUG: unable to handle kernel NULL pointer dereference", "NULL pointer dereference", " at "},
    {"BUG: kernel NULL pointer dereference", "NULL pointer dereference", "address:"},
    {"BUG: unable to handle kernel paging request", "paging request", " at "},
    {"BUG: unable to handle page fault for address", "page fault", ""},
    {"BUG: unable to handle kernel", "kernel fault", " at "},
    {"BUG: kernel paging request", "paging request", " at "},
    {"general protection fault", "general protection fault", "non-canonical address"},
    {"invalid opcode:", "invalid opcode", NULL},
    {"stack segment:", "stack segment fault", NULL},
    {"divide error:", "divide error", NULL},
    {"double fault:", "double fault", NULL},
};

static const char *strip_oops(const char *s)
{
    if (ex_starts(s, "Oops: ") && !isdigit((unsigned char)s[6]) && !ex_starts(s + 6, "Oops"))
        return s + 6; /* 6.9+: "Oops: general protection fault, ..." */
    return s;
}

bool ex_oops_x86_header(const char *s, struct ex_oops *o)
{
    s = strip_oops(s);
    size_t i;
    for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
        if (ex_starts(s, forms[i].prefix))
            break;
    if (i == sizeof(forms) / sizeof(forms[0]))
        return false;
    if (!o)
        return true;
    if (!o->header[0] || !strcmp(o->kind, "oops") || !strcmp(o->kind, "kernel BUG")) {
        if (!(!strcmp(o->kind, "kernel BUG") && !strcmp(forms[i].kind, "invalid opcode"))) {
            ex_copy_str(o->kind, sizeof(o->kind), forms[i].kind);
            ex_copy_str(o->header, sizeof(o->header), s);
        }
    }
    o->arch = ARCH_X86_64;
    const char *key = forms[i].addr_key;
    const char *rest = s + strlen(forms[i].prefix);
    uint64_t a;
    if (!key)
        return true;
    if (!*key) { /* "for address: ADDR", ours "for address ADDR" */
        if (*rest == ':')
            rest++;
        rest = ex_skip_ws(rest);
    } else {
        const char *p = strstr(rest, key);
        if (!p)
            return true;
        rest = ex_skip_ws(p + strlen(key));
    }
    if (ex_scan_hex(&rest, &a)) {
        o->has_header_addr = true;
        o->header_addr = a;
        o->header_addr_from = "the header";
    }
    return true;
}

bool ex_oops_x86_continuation(struct oops_state *st, const char *s)
{
    struct ex_oops *o = st->o;
    if (ex_starts(s, "#PF: ")) {
        if (!o->access[0])
            ex_copy_str(o->access, sizeof(o->access), s + 5);
        if (strstr(s, "instruction fetch"))
            o->instr_fetch = true;
        if (strstr(s, "write access"))
            o->write = true;
        o->arch = ARCH_X86_64;
        return true;
    }
    if (ex_starts(s, "Oops: 0") || ex_starts(s, "Oops: Oops: ") || ex_starts(s, "PGD ") ||
        ex_starts(s, "P4D ")) {
        if (ex_starts(s, "Oops: ") && o->arch == ARCH_UNKNOWN)
            o->arch = ARCH_X86_64;
        return true;
    }
    return false;
}

static bool is_x86_reg(const char *name)
{
    for (const char *p = name; *p; p++)
        if (islower((unsigned char)*p))
            return !strcmp(name, "knlGS");
    return isupper((unsigned char)name[0]);
}

/* "RIP: 0010:func+0xa3/0x170 file:line", "RIP: 0010:[<ffffffff81...>]  [<...>]
 * func+..", "IP: func+...", "IP: [<...>] func+...", "RIP: 0033:0x7f...",
 * ours "RIP: 0000562c46fb6732". */
static bool parse_rip(struct oops_state *st, const char *s)
{
    struct ex_oops *o = st->o;
    const char *p;
    if (ex_starts(s, "RIP: "))
        p = s + 5;
    else if (ex_starts(s, "IP: "))
        p = s + 4;
    else
        return false;
    o->arch = ARCH_X86_64;
    if (st->regs_done || o->has_trace) {
        st->nested = true; /* a user-mode or nested frame's: not the fault's */
        return true;
    }
    p = ex_skip_ws(p);
    bool user = false, segment = false;
    if (isxdigit((unsigned char)p[0]) && p[4] == ':' && p[5] != ' ') {
        segment = true;
        user = ex_starts(p, "0033") || ex_starts(p, "0023") || ex_starts(p, "002b");
        p += 5; /* code segment */
    }
    char buf[512];
    ex_copy_str(buf, sizeof(buf), p);
    char *rsp = strstr(buf, " RSP: ");
    if (rsp)
        *rsp = 0;
    struct ex_frame f;
    char *second = strstr(buf, "] [<");
    if (!second)
        second = strstr(buf, "]  [<");
    if (second) {
        const char *q = buf + 2;
        uint64_t a = 0;
        bool has = buf[0] == '[' && buf[1] == '<' && ex_scan_hex(&q, &a);
        char *next = strchr(second + 1, '[');
        if (!next || !ex_parse_frame(next, &f))
            return true;
        if (has && !f.has_addr) {
            f.addr = a;
            f.has_addr = true;
        }
    } else if (!ex_parse_frame(buf, &f)) {
        /* a bare address without 0x: "RIP: 0000562c46fb6732" */
        const char *q = buf;
        memset(&f, 0, sizeof(f));
        if (!ex_scan_hex(&q, &f.addr) || (*q && *q != ' '))
            return true;
        f.has_addr = true;
    }
    /* several RIP lines name the inlined frames first: the last one that
     * is not inline is the function */
    if (!o->has_pc || (o->pc.inlined && !st->regs_started)) {
        o->pc = f;
        o->has_pc = true;
        /* slabdbg's own fault line prints a bare user-space address */
        o->user_space = !segment && !f.func[0] && f.addr < 0x800000000000ull;
        o->pc_user = user || o->user_space;
    }
    return true;
}

bool ex_oops_x86_line(struct oops_state *st, const char *s)
{
    struct ex_oops *o = st->o;
    if (o->arch != ARCH_X86_64 && o->arch != ARCH_UNKNOWN)
        return false;
    if (parse_rip(st, s))
        return true;
    struct ex_reg regs[8];
    int n = ex_regs_line(s, regs, 8);
    if (n <= 0 || !is_x86_reg(regs[0].name))
        return false;
    o->arch = ARCH_X86_64;
    if (st->regs_done) /* a later dump: an IRQ frame's or the user's */
        return true;
    st->regs_started = true;
    ex_oops_add_regs(st, regs, n, is_x86_reg);
    return true;
}

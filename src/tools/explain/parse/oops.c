/*
 * Kernel oopses: what every architecture prints, and the dispatch to the
 * architectures' own lines (oops_x86.c, oops_arm64.c, oops_riscv.c).
 *
 * An oops starts at its header ("BUG: unable to handle page fault for
 * address: ...", "general protection fault, probably for non-canonical
 * address ...", "kernel BUG at FILE:LINE!", "Unable to handle kernel NULL
 * pointer dereference at virtual address ...", "Internal error: Oops: ..."),
 * or at a line that announces one when the header was lost ("KASAN:
 * null-ptr-deref in range [...]", "Mem abort info:").  It ends at its
 * "---[ end trace" marker, at a panic, or where another report starts;
 * the register summary printed after the end marker is the same oops'.
 */
#include <stdio.h>
#include <string.h>

#include "parse/oops_arch.h"

static bool kernel_bug_line(const char *s)
{
    return ex_starts(s, "kernel BUG at ") || ex_starts(s, "Kernel BUG at ");
}

/* "KASAN: null-ptr-deref in range [0x...-0x...]" (the GPF's or arm64
 * fault's note on a shadow address), "kasan: GPF could be caused by ...". */
static bool kasan_hint(const char *s)
{
    return (ex_starts(s, "KASAN: ") && strstr(s, " in range [0x")) ||
           ex_starts(s, "kasan: GPF could be caused by");
}

static bool header_line(const char *s)
{
    return ex_oops_x86_header(s, NULL) || ex_oops_arm_header(s, NULL) ||
           ex_oops_riscv_header(s, NULL) || kernel_bug_line(s) ||
           ex_starts(s, "Internal error: Oops");
}

static enum ex_begin oops_begins(const struct ex_line *l)
{
    const char *s = l->text;
    if (header_line(s))
        return BEGIN_STRONG;
    if (kasan_hint(s) || ex_starts(s, "Mem abort info:") || ex_starts(s, "Oops: 0") ||
        ex_starts(s, "Oops: Oops: ") || ex_starts(s, "Oops [#"))
        return BEGIN_WEAK;
    return BEGIN_NO;
}

void ex_oops_add_regs(struct oops_state *st, const struct ex_reg *regs, int n,
                      bool (*is_reg)(const char *name))
{
    struct ex_oops *o = st->o;
    for (int i = 0; i < n; i++) {
        if (is_reg && !is_reg(regs[i].name))
            continue;
        bool have = false;
        for (int k = 0; k < o->nregs && !have; k++)
            have = !strcmp(o->regs[k].name, regs[i].name);
        if (have || o->nregs == EX_REGS_MAX)
            continue; /* the first dump is the one at the fault */
        o->regs[o->nregs++] = regs[i];
    }
}

/* "KASAN: null-ptr-deref in range [0x0000000000000020-0x0000000000000027]" */
static void take_kasan_range(struct ex_oops *o, const char *s)
{
    if (ex_starts(s, "kasan: GPF could be caused by")) {
        if (!o->kasan_kind[0])
            ex_copy_str(o->kasan_kind, sizeof(o->kasan_kind), "null-ptr-deref or user-memory-access");
        return;
    }
    const char *in = strstr(s, " in range [");
    if (!in)
        return;
    ex_copy(o->kasan_kind, sizeof(o->kasan_kind), s + 7, (size_t)(in - s - 7));
    const char *p = in + strlen(" in range [");
    uint64_t lo, hi;
    if (ex_scan_hex(&p, &lo) && *p == '-' && (p++, ex_scan_hex(&p, &hi)) && hi >= lo) {
        o->has_kasan_range = true;
        o->kasan_lo = lo;
        o->kasan_hi = hi;
    }
}

/* "kernel BUG at net/core/skbuff.c:105!" */
static void take_bug_location(struct ex_oops *o, const char *s)
{
    const char *p = s + strlen("kernel BUG at ");
    const char *colon = strrchr(p, ':');
    long long line;
    const char *q = colon ? colon + 1 : NULL;
    if (!colon || !ex_scan_dec(&q, &line) || line <= 0)
        return;
    ex_copy(o->bug_file, sizeof(o->bug_file), p, (size_t)(colon - p));
    o->bug_line = (int)line;
    o->has_bug_loc = true;
    if (!o->kind[0] || !strcmp(o->kind, "oops"))
        ex_copy_str(o->kind, sizeof(o->kind), "kernel BUG");
    if (!o->header[0])
        ex_copy_str(o->header, sizeof(o->header), s);
}

/* Fills the header from a header line; true if it was one. */
static bool take_header(struct oops_state *st, const char *s)
{
    struct ex_oops *o = st->o;
    if (kernel_bug_line(s)) {
        take_bug_location(o, s);
    } else if (!ex_oops_x86_header(s, o) && !ex_oops_arm_header(s, o) &&
               !ex_oops_riscv_header(s, o)) {
        if (!ex_starts(s, "Internal error: Oops"))
            return false;
        if (!o->kind[0])
            ex_copy_str(o->kind, sizeof(o->kind), "oops");
        if (!o->header[0])
            ex_copy_str(o->header, sizeof(o->header), s);
        if (o->arch == ARCH_UNKNOWN)
            o->arch = ARCH_ARM64;
    }
    st->header_seen = true;
    st->hint_only = false;
    return true;
}

static bool oops_open(void *state, struct ex_model *m, const struct ex_line *l)
{
    struct oops_state *st = state;
    st->o = ex_new_oops(m);
    if (!st->o)
        return false;
    struct ex_oops *o = st->o;
    ex_src_init(&o->src, FMT_OOPS_X86, l);
    o->code_mark = -1;
    const char *s = l->text;
    if (take_header(st, s))
        return true;
    st->hint_only = true;
    if (kasan_hint(s))
        take_kasan_range(o, s);
    else if (ex_starts(s, "Mem abort info:"))
        o->arch = ARCH_ARM64;
    else if (ex_starts(s, "Oops [#"))
        o->arch = ARCH_RISCV;
    else if (ex_starts(s, "Oops: ")) {
        ex_copy_str(o->kind, sizeof(o->kind), "oops");
        ex_copy_str(o->header, sizeof(o->header), s);
        st->hint_only = false;
        st->header_seen = true;
    }
    return true;
}

static bool other_report_start(const char *s)
{
    char cache[EX_NAME_MAX], taint[64];
    (void)cache;
    (void)taint;
    return ex_starts(s, "BUG: KASAN") || ex_starts(s, "BUG: KFENCE") || ex_starts(s, "=====") ||
           ex_starts(s, "crash> ") || ex_starts(s, "WARNING: ") ||
           ex_starts(s, "------------[ cut here ]") ||
           (ex_starts(s, "BUG ") && strstr(s, "): ") && !ex_starts(s, "BUG: "));
}

static bool quiet_line(const char *s)
{
    return ex_starts(s, "Modules linked in") || ex_starts(s, "Hardware name:") ||
           ex_starts(s, "Workqueue:") || ex_starts(s, "task: ") || ex_starts(s, "PGD ") ||
           ex_starts(s, "Dumping ftrace buffer") || ex_starts(s, "(ftrace buffer empty)") ||
           ex_starts(s, "Tainted: [") || ex_starts(s, "Source Version:") ||
           ex_starts(s, "Process ") || ex_starts(s, "Stack: (") || ex_starts(s, "note: ") ||
           ex_starts(s, "Kernel Offset:") || ex_starts(s, "Shutting down cpus") ||
           ex_starts(s, "Exception stack(") || ex_starts(s, "Backtrace:");
}

static enum ex_feed oops_feed(void *state, const struct ex_line *l)
{
    struct oops_state *st = state;
    struct ex_oops *o = st->o;
    const char *s = l->text;
    struct ex_frame f;
    if (!*s)
        return FEED_IGNORED;
    if (st->trace_ended) {
        /* after the end marker, only the panic the oops caused belongs here */
        if (ex_starts(s, "Kernel panic")) {
            ex_copy_str(o->panic, sizeof(o->panic), s);
            o->src.last_line = l->no;
            return FEED_DONE;
        }
        /* x86 repeats the fault's registers after the marker */
        struct ex_reg regs[8];
        if (ex_starts(s, "Kernel Offset:") || ex_starts(s, "Shutting down cpus") ||
            ex_starts(s, "Dumping ftrace buffer") || ex_starts(s, "(ftrace buffer empty)") ||
            ex_starts(s, "RIP:") || ex_starts(s, "Code:") || ex_starts(s, "FS:") ||
            ex_starts(s, "CS:") || ex_starts(s, "CR2:") || ex_starts(s, "DR") ||
            ex_starts(s, "PKRU:") || ex_starts(s, "Fixing recursive fault") ||
            ex_starts(s, "note: ") || ex_regs_line(s, regs, 8) > 0)
            return FEED_TAKEN;
        return FEED_ENDED;
    }
    if (ex_starts(s, "---[ end trace")) {
        o->src.last_line = l->no;
        st->trace_ended = true;
        return FEED_TAKEN;
    }
    if (ex_starts(s, "Kernel panic")) {
        ex_copy_str(o->panic, sizeof(o->panic), s);
        o->src.last_line = l->no;
        return FEED_DONE;
    }
    if (other_report_start(s))
        return FEED_ENDED;
    bool fresh = !st->regs_started && !o->has_trace && !o->has_pc;
    if (header_line(s)) {
        if (st->header_seen && !fresh) {
            /* a second header: the same oops' continuation ("kernel BUG at"
             * then "invalid opcode"), or a new oops */
            bool cont = (kernel_bug_line(o->header) || !strcmp(o->kind, "kernel BUG")) &&
                        (ex_starts(s, "invalid opcode") || ex_starts(s, "Oops: invalid opcode") ||
                         ex_starts(s, "Internal error: Oops - BUG"));
            if (!cont)
                return FEED_ENDED;
        } else {
            take_header(st, s);
        }
    } else if (kasan_hint(s)) {
        take_kasan_range(o, s);
    } else if (kernel_bug_line(s)) {
        take_bug_location(o, s);
    } else if ((fresh || st->hint_only) &&
               (ex_oops_x86_continuation(st, s) || ex_oops_arm_continuation(st, s) ||
                ex_oops_riscv_continuation(st, s))) {
        /* taken */
    } else if (ex_starts(s, "Call Trace:") || ex_starts(s, "Call trace:")) {
        o->has_trace = true;
        st->in_trace = true;
        if (st->regs_started)
            st->regs_done = true;
    } else if (ex_task_line(s, &o->cpu, &o->pid, o->comm, sizeof(o->comm), o->release,
                            sizeof(o->release))) {
        if (!o->has_task) {
            o->has_task = true;
        }
    } else if (ex_starts(s, "Code: ")) {
        /* the first Code: line is the fault's (before the registers since
         * 4.17, after the trace before), unless it is a nested frame's */
        if (!o->has_code && !o->code_unavailable && !st->nested)
            ex_parse_code(s, o);
        st->nested = false;
    } else if (ex_oops_x86_line(st, s) || ex_oops_arm_line(st, s) || ex_oops_riscv_line(st, s)) {
        /* taken */
    } else if (ex_is_stack_marker(s)) {
        /* taken */
    } else if (quiet_line(s)) {
        if (ex_starts(s, "Backtrace:")) {
            o->has_trace = true;
            st->in_trace = true;
        }
    } else if (ex_parse_frame(s, &f) &&
               (st->in_trace || (f.has_addr && (o->arch == ARCH_RISCV || o->arch == ARCH_ARM)))) {
        /* riscv 5.x and 32-bit arm print the frames without a header */
        o->has_trace = true;
        st->in_trace = true;
        ex_stack_add(&o->trace, &f);
    } else {
        return FEED_IGNORED;
    }
    o->src.last_line = l->no;
    return FEED_TAKEN;
}

static void oops_close(void *state)
{
    struct oops_state *st = state;
    struct ex_oops *o = st->o;
    if (st->hint_only && !o->has_pc && !o->nregs && !o->has_trace) {
        o->src.discarded = true; /* a hint with no oops after it */
        return;
    }
    if (!o->kind[0])
        ex_copy_str(o->kind, sizeof(o->kind), "oops");
    if (o->arch == ARCH_UNKNOWN) {
        /* registers or a pc tell; else the x86 forms */
        uint64_t v;
        if (ex_oops_reg(o, "x29", &v) || ex_oops_reg(o, "pstate", &v))
            o->arch = ARCH_ARM64;
        else if (ex_oops_reg(o, "epc", &v) || ex_oops_reg(o, "badaddr", &v))
            o->arch = ARCH_RISCV;
        else if (ex_oops_reg(o, "psr", &v))
            o->arch = ARCH_ARM;
        else
            o->arch = ARCH_X86_64;
    }
    o->src.format = o->arch == ARCH_ARM64 || o->arch == ARCH_ARM ? FMT_OOPS_ARM64
                    : o->arch == ARCH_RISCV                      ? FMT_OOPS_RISCV
                                                                 : FMT_OOPS_X86;
}

const struct ex_parser ex_parser_oops = {
    .name = "oops",
    .state_size = sizeof(struct oops_state),
    .begins = oops_begins,
    .open = oops_open,
    .feed = oops_feed,
    .close = oops_close,
};

/*
 * slabdbg explain --core: the analysis of a crash, from its core.
 *
 * What the analyst of the seed did in crash(8), in order: the faulting
 * thread's registers and the faulting instruction (decoded) say which
 * register held the bad address and what kind of value it is; walking back
 * the function's instructions finds where that value was loaded from; the
 * load address is looked up in the heap (whatis: cache, object, offset,
 * state, tracks); the object's bytes are dumped, function pointers named
 * through the core's mapped files, and explain's type ranking and source
 * scan name the field and the constant.
 *
 * The crash is put into explain's model as an oops (registers, code bytes
 * with the faulting one marked) and the object as a crash dump, so the
 * analysis and printing are explain's own.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "analyze/analyze.h"
#include "inspect/inspect.h"
#include "model.h"
#include "print/print.h"

static const struct {
    const char *name;
    size_t off;
} x86_regs[] = {
#define R(n, f) {n, offsetof(struct user_regs_struct, f)}
    R("RAX", rax), R("RBX", rbx), R("RCX", rcx), R("RDX", rdx), R("RSI", rsi), R("RDI", rdi),
    R("RBP", rbp), R("RSP", rsp), R("R08", r8),  R("R09", r9),  R("R10", r10), R("R11", r11),
    R("R12", r12), R("R13", r13), R("R14", r14), R("R15", r15), R("RIP", rip), R("EFLAGS", eflags),
#undef R
};

static uint64_t reg_at(const struct user_regs_struct *r, size_t off)
{
    uint64_t v;
    memcpy(&v, (const char *)r + off, 8);
    return v;
}

static void frame_of(struct inspect *in, uint64_t pc, struct ex_frame *f)
{
    struct tsym_info si;
    memset(f, 0, sizeof(*f));
    f->addr = pc;
    f->has_addr = true;
    if (tsym_lookup(in->sym, pc, &si) == 0 && si.func[0]) {
        snprintf(f->func, sizeof(f->func), "%s", si.func);
        f->off = si.offset;
        f->has_off = true;
        f->size = si.size;
        f->has_size = si.size != 0;
        if (si.file[0] && si.line) {
            /* the end of a long path: the file name matters most */
            size_t n = strlen(si.file);
            const char *file = n > 140 ? si.file + n - 140 : si.file;
            snprintf(f->where, sizeof(f->where), "%.140s:%d", file, si.line);
        }
    }
}

/* x86-64 Linux: the return address of a signal handler's frame points at
 * the trampoline `mov $15, %rax; syscall` (rt_sigreturn); the kernel's
 * ucontext follows it, then the siginfo.  glibc's ucontext_t has the same
 * prefix (flags, link, stack, then the registers in mcontext). */
static const uint8_t sigreturn_code[] = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};
#define KERNEL_UCONTEXT_SIZE 304

static bool is_fault_signal(int sig)
{
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE;
}

/* When a handler re-raised the signal (or died of another one), the core's
 * registers are those of the handler: the fault's are in the signal frame
 * on the stack.  Finds the innermost frame of a fault the kernel sent;
 * fills the registers and the fault address. */
static bool fault_frame(struct target *t, const struct tgt_thread *th,
                        struct user_regs_struct *regs, int *signo, uint64_t *addr)
{
    uint64_t sp = th->regs.rsp & ~(uint64_t)7;
    const struct tgt_map *m = tgt_map_of(t, sp);
    uint64_t end = m ? m->end : sp + 65536;
    if (end - sp > ((uint64_t)1 << 20))
        end = sp + ((uint64_t)1 << 20);
    enum { CHUNK = 4096 };
    static uint64_t buf[CHUNK / 8];
    for (uint64_t a = sp; a < end; a += CHUNK) {
        size_t n = tgt_read(t, a, buf, CHUNK) / 8;
        for (size_t i = 0; i < n; i++) {
            uint8_t code[sizeof(sigreturn_code)];
            if (buf[i] < 0x10000 || !tgt_read_all(t, buf[i], code, sizeof(code)) ||
                memcmp(code, sigreturn_code, sizeof(code)))
                continue;
            uint64_t frame = a + i * 8;
            ucontext_t uc;
            siginfo_t si;
            if (!tgt_read_all(t, frame + 8, &uc, offsetof(ucontext_t, uc_mcontext.fpregs)) ||
                !tgt_read_all(t, frame + 8 + KERNEL_UCONTEXT_SIZE, &si, sizeof(si)))
                continue;
            /* A fault signal re-raised by a handler comes back when the
             * handler returns, at the faulting instruction: its frame has
             * the fault's registers, but not the fault's siginfo. */
            if (!is_fault_signal(si.si_signo))
                continue;
            const greg_t *g = uc.uc_mcontext.gregs;
            memset(regs, 0, sizeof(*regs));
            regs->r8 = (uint64_t)g[REG_R8], regs->r9 = (uint64_t)g[REG_R9];
            regs->r10 = (uint64_t)g[REG_R10], regs->r11 = (uint64_t)g[REG_R11];
            regs->r12 = (uint64_t)g[REG_R12], regs->r13 = (uint64_t)g[REG_R13];
            regs->r14 = (uint64_t)g[REG_R14], regs->r15 = (uint64_t)g[REG_R15];
            regs->rdi = (uint64_t)g[REG_RDI], regs->rsi = (uint64_t)g[REG_RSI];
            regs->rbp = (uint64_t)g[REG_RBP], regs->rbx = (uint64_t)g[REG_RBX];
            regs->rdx = (uint64_t)g[REG_RDX], regs->rax = (uint64_t)g[REG_RAX];
            regs->rcx = (uint64_t)g[REG_RCX], regs->rsp = (uint64_t)g[REG_RSP];
            regs->rip = (uint64_t)g[REG_RIP], regs->eflags = (uint64_t)g[REG_EFL];
            *signo = si.si_signo;
            *addr = si.si_code > 0 ? (uint64_t)(uintptr_t)si.si_addr : 0;
            return true;
        }
        if (n < CHUNK / 8)
            break;
    }
    return false;
}

/* The crash as an oops of explain's model. */
static void fill_oops(struct inspect *in, const struct tgt_thread *core_th, struct ex_oops *o,
                      bool *from_frame, struct user_regs_struct *regs_out)
{
    struct target *t = &in->t;
    struct tgt_thread frame_th = *core_th;
    const struct tgt_thread *th = core_th;
    int signo;
    uint64_t addr;
    *from_frame = false;
    if (fault_frame(t, core_th, &frame_th.regs, &signo, &addr)) {
        th = &frame_th;
        t->signo = signo;
        t->has_fault_addr = addr != 0;
        t->fault_addr = addr;
        *from_frame = true;
    }
    *regs_out = th->regs;
    o->arch = ARCH_X86_64;
    o->user_space = true;
    o->pc_user = true;
    o->src.format = FMT_OOPS_X86;
    const char *sig = t->signo > 0 && t->signo < NSIG ? sigabbrev_np(t->signo) : NULL;
    if (t->has_fault_addr && t->fault_addr) {
        snprintf(o->kind, sizeof(o->kind), "page fault");
        o->has_header_addr = true;
        o->header_addr = t->fault_addr;
        o->header_addr_from = "the signal (si_addr)";
    } else {
        /* No address from the signal (a non-canonical address, or a signal
         * re-raised by a handler): the decoded instruction gives it. */
        snprintf(o->kind, sizeof(o->kind), "segmentation fault");
    }
    snprintf(o->header, sizeof(o->header), "signal %d (SIG%s) in thread %d", t->signo,
             sig ? sig : "?", th->tid);
    for (size_t i = 0; i < sizeof(x86_regs) / sizeof(x86_regs[0]) && o->nregs < EX_REGS_MAX; i++) {
        snprintf(o->regs[o->nregs].name, sizeof(o->regs[0].name), "%s", x86_regs[i].name);
        o->regs[o->nregs++].value = reg_at(&th->regs, x86_regs[i].off);
    }
    uint64_t rip = th->regs.rip;
    o->has_pc = true;
    frame_of(in, rip, &o->pc);
    o->has_task = true;
    o->pid = th->tid;
    snprintf(o->comm, sizeof(o->comm), "%s", t->comm);
    /* The code: from the function's start when it is near, so the walk back
     * decodes from a real instruction boundary; the faulting byte marked. */
    uint64_t before = 64;
    if (o->pc.has_off && o->pc.off <= 96)
        before = o->pc.off;
    uint64_t start = rip - before;
    size_t n = tgt_read(t, start, o->code, sizeof(o->code));
    if (n <= before) {
        start = rip;
        before = 0;
        n = tgt_read(t, rip, o->code, sizeof(o->code));
    }
    if (n > before) {
        o->has_code = true;
        o->ncode = (int)n;
        o->code_mark = (int)before;
        o->code_unit = 1;
    } else {
        o->code_unavailable = true;
        o->code_mark = -1;
    }
    /* The stack: the pc, then return addresses found by the frame pointers
     * (best effort: code without them ends the walk). */
    o->has_trace = true;
    ex_stack_add(&o->trace, &o->pc);
    uint64_t fp = th->regs.rbp;
    for (int i = 0; i < 32 && fp && fp % 8 == 0; i++) {
        uint64_t pair[2];
        if (!tgt_read_all(t, fp, pair, 16) || !pair[1])
            break;
        const struct tgt_map *m = tgt_map_of(t, pair[1]);
        if (!m || !m->path[0] || m->path[0] == '[')
            break;
        struct ex_frame f;
        frame_of(in, pair[1] - 1, &f);
        if (f.has_off)
            f.off++;
        f.addr = pair[1];
        ex_stack_add(&o->trace, &f);
        if (pair[0] <= fp)
            break;
        fp = pair[0];
    }
}

/* The object's bytes as a crash dump, words that are function addresses
 * named. */
static void fill_dump(struct inspect *in, const struct h_where *w, struct ex_dump *d)
{
    uint64_t size = w->obj_size;
    if (size > EX_DUMP_WORDS_MAX * 8)
        size = EX_DUMP_WORDS_MAX * 8;
    uint8_t *b = calloc(1, (size_t)size + 8);
    if (!b)
        return;
    size_t got = tgt_read(&in->t, w->obj, b, (size_t)size);
    d->src.format = FMT_CRASH_RD;
    d->base = w->obj;
    d->word_size = 8;
    d->count = (long long)(size / 8);
    d->nwords = (int)(got / 8);
    for (int i = 0; i < d->nwords; i++) {
        struct ex_dump_word *dw = &d->words[i];
        memcpy(&dw->value, b + (size_t)i * 8, 8);
        dw->known = true;
        const struct tgt_map *m = dw->value >= 0x10000 ? tgt_map_of(&in->t, dw->value) : NULL;
        const char *fn = m && m->path[0] == '/' ? tsym_func(in->sym, dw->value) : NULL;
        if (fn)
            snprintf(dw->sym, sizeof(dw->sym), "%s", fn);
    }
    free(b);
}

static bool is_object(const struct h_where *w)
{
    return w->kind == W_OBJECT || w->kind == W_HUGE || w->kind == W_GUARD;
}

/* Does the object of w hold `value` (a whole aligned word)?  *at: where. */
static bool holds(struct inspect *in, const struct h_where *w, uint64_t value, uint64_t *at)
{
    uint64_t size = w->obj_size < 65536 ? w->obj_size : 65536;
    uint64_t *words = malloc((size_t)size + 8);
    if (!words)
        return false;
    size_t got = tgt_read(&in->t, w->obj, words, (size_t)size) / 8;
    bool found = false;
    for (size_t i = 0; i < got && !found; i++)
        if (words[i] == value) {
            *at = w->obj + i * 8;
            found = true;
        }
    free(words);
    return found;
}

/* When the load address is not in the heap (the value went through a
 * local variable, or the registers were reused): the objects the faulting
 * thread still points to, from its registers and then its stack (innermost
 * frames first), are searched for the bad value, as the analyst would look
 * around. */
static bool object_holding(struct inspect *in, const struct user_regs_struct *regs,
                           const struct ex_oops *o, uint64_t value, struct h_where *w,
                           uint64_t *at)
{
    enum { STACK_WORDS = 2048, SEEN = 64 };
    uint64_t cand[EX_REGS_MAX + STACK_WORDS];
    size_t n = 0;
    for (int r = 0; r < o->nregs; r++)
        cand[n++] = o->regs[r].value;
    n += tgt_read(&in->t, regs->rsp & ~(uint64_t)7, cand + n, STACK_WORDS * 8) / 8;
    uint64_t seen[SEEN];
    int nseen = 0;
    for (size_t i = 0; i < n; i++) {
        if (cand[i] < 0x10000 || heap_whatis(&in->h, cand[i], w) != 0 || !is_object(w) ||
            w->state == ST_GUARD_FREED)
            continue;
        bool dup = false;
        for (int k = 0; k < nseen && !dup; k++)
            dup = seen[k] == w->obj;
        if (dup)
            continue;
        if (nseen < SEEN)
            seen[nseen++] = w->obj;
        if (holds(in, w, value, at))
            return true;
    }
    return false;
}

int inspect_explain_core(const char *core, const char *exe, const struct explain_opts *opts)
{
    struct inspect in;
    int status = inspect_open(&in, "explain", 0, core, exe);
    if (status)
        return status;
    struct ex_model *m = ex_model_new();
    if (!m) {
        inspect_close(&in);
        return 2;
    }
    m->ninputs = 1;
    m->inputs[0].name = core;
    const struct tgt_thread *th = &in.t.threads[0];
    struct ex_oops *o = ex_new_oops(m);
    bool from_frame;
    struct user_regs_struct regs;
    fill_oops(&in, th, o, &from_frame, &regs);

    /* First pass: the faulting instruction, the bad value, its loader. */
    struct ex_opts eo = {.json = opts->json};
    struct ex_analysis *a = ex_analyze(m, &eo);
    if (!a) {
        ex_model_free(m);
        inspect_close(&in);
        return 2;
    }
    struct ex_oops_view v = a->views[0];
    ex_analysis_free(a);

    FILE *out = stdout;
    bool json = opts->json;
    uint64_t bad = v.has_base_value ? v.base_value : v.fault_addr;
    bool has_bad = v.has_base_value || v.has_fault_addr;
    struct h_where w;
    bool found = false;
    uint64_t load_at = 0;
    const char *how = NULL;
    if (v.load_addr_known && heap_whatis(&in.h, v.load_addr, &w) == 0 && is_object(&w)) {
        found = true;
        load_at = v.load_addr;
        how = "the instruction that loaded the bad register";
    } else if (has_bad && bad && object_holding(&in, &regs, o, bad, &w, &load_at)) {
        heap_whatis(&in.h, load_at, &w);
        found = true;
        how = "the faulting thread still points to it, and it holds the bad value";
    }
    if (!json) {
        fprintf(out, "slabdbg explain --core %s: %s (pid %d, %s), slabdbg %s\n", core,
                o->header, in.t.pid, in.t.comm[0] ? in.t.comm : "?", in.h.lib_version);
        if (from_frame)
            fprintf(out, "the registers of the fault are those its signal handler found on the "
                         "stack (the handler re-raised the signal)\n");
        if (v.has_fault_addr)
            fprintf(out, "fault address 0x%" PRIx64 " (%s)\n", v.fault_addr,
                    v.fault_addr_from ? v.fault_addr_from : "?");
        if (v.loader >= 0)
            fprintf(out, "the bad value was loaded by: %s%s\n", v.insns[v.loader].text,
                    v.load_addr_known ? "" : " (its address cannot be computed from the registers)");
        if (v.load_addr_known)
            fprintf(out, "from address 0x%" PRIx64 "\n", v.load_addr);
        if (!found)
            fprintf(out, "the bad value was not found in a heap object%s\n",
                    v.load_addr_known ? " (the load address is not slabdbg's heap)" : "");
    }
    if (found) {
        if (!json) {
            fprintf(out, "\n== The object the bad value was read from (%s)\n", how);
            inspect_whatis(&in, load_at);
            fprintf(out, "\nThe word at offset 0x%" PRIx64 " of this %s object held 0x%" PRIx64
                         ", which the faulting code used as a pointer.\n",
                    (uint64_t)w.off, w.kind == W_HUGE ? "huge" : w.c.name, bad);
        }
        fill_dump(&in, &w, ex_new_dump(m));
    }
    /* Second pass, with the object: the oops, the dump, the field and the
     * constant, as explain prints them. */
    eo = (struct ex_opts){.json = opts->json, .binary = opts->binary ? opts->binary : exe,
                          .type = opts->type, .btf = opts->btf, .src = opts->src};
    if (!eo.binary && in.t.nmaps && in.t.maps[0].path[0] == '/')
        eo.binary = tgt_file_path(&in.t, in.t.maps[0].path);
    a = ex_analyze(m, &eo);
    if (a) {
        if (!json)
            fputc('\n', out);
        if (json)
            ex_print_json(out, a);
        else
            ex_print_text(out, a);
        ex_analysis_free(a);
    }
    ex_model_free(m);
    inspect_close(&in);
    return 0;
}

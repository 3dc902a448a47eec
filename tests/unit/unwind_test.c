/*
 * The unwinder (src/base/unwind.c) against libgcc's _Unwind_Backtrace, the
 * reference, on the stacks a preloaded allocator meets: C with and without
 * frame pointers, alloca and VLAs, libc (qsort, bsearch), C++ (std::sort,
 * exceptions), a dlopen'ed object, threads (small and user-given stacks),
 * a coroutine stack, signal handlers on an alternate stack (a fault, a
 * stack overflow, a profiling timer that lands anywhere, every instruction
 * of a lazy PLT call single-stepped), truncation, and stacks or contexts
 * full of garbage (no crash, a correct prefix).
 *
 * Throughout: the unwinder must not call malloc (interposed here), and a
 * child process runs it under seccomp filters that kill it on any system
 * call opening a file descriptor, then, on warm stacks, on any system call
 * at all.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <unwind.h>

#include "base/unwind.h"
#include "unwind_test.h"

#define MAXF 128

static _Atomic int failures, checks;
static const char *volatile current_case = "";

/* ---- malloc must not be called by the unwinder ------------------------- */

static __thread int in_unwinder;
static _Atomic int bad_mallocs;

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static void note_alloc(void)
{
    if (in_unwinder)
        atomic_fetch_add(&bad_mallocs, 1);
}

void *malloc(size_t n)
{
    note_alloc();
    return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
    note_alloc();
    return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
    note_alloc();
    return __libc_realloc(p, n);
}

void free(void *p)
{
    note_alloc();
    __libc_free(p);
}

void *memalign(size_t a, size_t n)
{
    note_alloc();
    return __libc_memalign(a, n);
}

void *aligned_alloc(size_t a, size_t n)
{
    note_alloc();
    return __libc_memalign(a, n);
}

int posix_memalign(void **p, size_t a, size_t n)
{
    note_alloc();
    *p = __libc_memalign(a, n);
    return *p ? 0 : ENOMEM;
}

static unsigned ours_capture(uintptr_t *f, unsigned max, unsigned skip);

/* ---- the reference ------------------------------------------------------ */

struct ref_arg {
    uintptr_t *f;
    unsigned n, max, skip;
};

static _Unwind_Reason_Code ref_cb(struct _Unwind_Context *ctx, void *p)
{
    struct ref_arg *a = p;
    if (a->skip) {
        a->skip--;
        return _URC_NO_REASON;
    }
    if (a->n == a->max)
        return _URC_END_OF_STACK;
    a->f[a->n++] = (uintptr_t)_Unwind_GetIP(ctx);
    return _URC_NO_REASON;
}

/* What _Unwind_Backtrace finds, from the caller of ref_capture on (as
 * unwind_capture), `skip` frames left out.  It reports the end of the
 * stack as a last frame of 0: dropped. */
static NOINLINE unsigned ref_capture(uintptr_t *f, unsigned max, unsigned skip)
{
    struct ref_arg a = {f, 0, max, skip + 1};
    _Unwind_Backtrace(ref_cb, &a);
    while (a.n && f[a.n - 1] == 0)
        a.n--;
    __asm__ volatile("" : : : "memory");
    return a.n;
}

static const char *name_of(uintptr_t pc, char *buf, size_t len)
{
    Dl_info d;
    if (pc && dladdr((void *)(pc - 1), &d) && d.dli_fname) {
        const char *file = strrchr(d.dli_fname, '/') ? strrchr(d.dli_fname, '/') + 1 : d.dli_fname;
        if (d.dli_sname)
            snprintf(buf, len, "%s+%#lx (%s)", d.dli_sname, pc - (uintptr_t)d.dli_saddr, file);
        else
            snprintf(buf, len, "%s+%#lx", file, pc - (uintptr_t)d.dli_fbase);
    } else {
        snprintf(buf, len, "?");
    }
    return buf;
}

static void print_frames(const char *title, const uintptr_t *f, unsigned n)
{
    char buf[256];
    fprintf(stderr, "  %s: %u frames\n", title, n);
    for (unsigned i = 0; i < n; i++)
        fprintf(stderr, "    #%-2u %#014lx %s\n", i, f[i], name_of(f[i], buf, sizeof(buf)));
}

static void fail_frames(const char *why, const uintptr_t *ours, unsigned n, const uintptr_t *ref,
                        unsigned m)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&lock);
    if (atomic_fetch_add(&failures, 1) < 10) {
        fprintf(stderr, "FAIL [%s] %s\n", current_case, why);
        print_frames("ours", ours, n);
        print_frames("reference", ref, m);
    }
    pthread_mutex_unlock(&lock);
}

static void expect(bool ok, const char *what)
{
    if (!ok && atomic_fetch_add(&failures, 1) < 10)
        fprintf(stderr, "FAIL [%s] %s\n", current_case, what);
}

static void compare(const uintptr_t *ours, unsigned n, const uintptr_t *ref, unsigned m)
{
    atomic_fetch_add(&checks, 1);
    if (n != m || memcmp(ours, ref, n * sizeof(*ours)) != 0)
        fail_frames("frames differ", ours, n, ref, m);
    else if (n < 3)
        fail_frames("suspiciously short", ours, n, ref, m);
}

static NOINLINE unsigned ours_capture(uintptr_t *f, unsigned max, unsigned skip)
{
    in_unwinder = 1;
    unsigned n = unwind_capture(f, max, skip + 1);
    in_unwinder = 0;
    __asm__ volatile("" : : : "memory");
    return n;
}

NOINLINE void check_stack(void)
{
    uintptr_t ours[MAXF], ref[MAXF];
    unsigned n = ours_capture(ours, MAXF, 1);
    unsigned m = ref_capture(ref, MAXF, 1);
    compare(ours, n, ref, m);
}

/* ---- plain stacks ------------------------------------------------------- */

static void test_recursion(void)
{
    current_case = "recursion -O2 without frame pointers";
    for (int d = 0; d < 40; d += 7)
        recurse_nofp(d, check_stack);
    current_case = "recursion with frame pointers";
    for (int d = 0; d < 40; d += 7)
        recurse_fp(d, check_stack);
    current_case = "alloca";
    recurse_alloca(12, check_stack);
    current_case = "VLA";
    recurse_vla(12, check_stack);
    current_case = "1 MiB frame";
    big_frame(check_stack);
    current_case = "callee-saved registers";
    many_saves(6, check_stack);
}

/* ---- remembered walks --------------------------------------------------- */

/* The stacks of the walks made, by number: the payload a walk is
 * remembered with, so that a repeat tells which stack it repeats. */
#define MEMO_STACKS 4096
static uintptr_t memo_stacks[MEMO_STACKS][MAXF + 2];
static unsigned memo_nframes[MEMO_STACKS], memo_made;
static int memo_hits;

/* unwind_capture_memo() from here: frames[0] is in this function. */
static NOINLINE unsigned memo_capture(uintptr_t *f, unsigned max)
{
    struct unwind_memo_req req = {.frames = f, .max = max};
    in_unwinder = 1;
    bool repeat = unwind_capture_memo(&req);
    in_unwinder = 0;
    if (repeat) {
        uint64_t k = req.payload[0];
        memo_hits++;
        expect(k < memo_made, "a remembered walk's payload");
        unsigned n = k < memo_made ? memo_nframes[k] : 0;
        memcpy(f, memo_stacks[k < memo_made ? k : 0], n * sizeof(*f));
        return n;
    }
    unsigned k = memo_made < MEMO_STACKS ? memo_made++ : MEMO_STACKS - 1;
    memcpy(memo_stacks[k], f, req.n * sizeof(*f));
    memo_nframes[k] = req.n;
    req.payload[0] = k;
    unwind_remember(&req);
    __asm__ volatile("" : : : "memory");
    return req.n;
}

/* Compares a capture through the memory (remembered or walked) with the
 * reference, from the caller's frame on. */
static NOINLINE void check_stack_memo(void)
{
    uintptr_t ours[MAXF + 2], ref[MAXF];
    unsigned n = memo_capture(ours, MAXF + 2);
    unsigned m = ref_capture(ref, MAXF, 1);
    /* ours[0] is in memo_capture, ours[1] in this function */
    compare(ours + 2, n > 2 ? n - 2 : 0, ref, m);
}

/* The same call chains again and again, and chains that part at every
 * depth from the same stack pointer (the same depths of recursion through
 * frames with and without frame pointers, alloca and VLAs: CFAs from rbp):
 * whatever is remembered, the frames are the walk's. */
static void test_memo(void)
{
    current_case = "remembered walks";
    for (int round = 0; round < 4; round++) {
        for (int d = 0; d < 8; d += 1 + round) {
            for (volatile int again = 0; again < 4; again++) { /* one call site */
                recurse_nofp(d, check_stack_memo);
                recurse_fp(d, check_stack_memo);
            }
        }
        for (volatile int again = 0; again < 4; again++) {
            recurse_alloca(3 + round, check_stack_memo);
            recurse_vla(3 + round, check_stack_memo);
            many_saves(2 + round, check_stack_memo);
        }
    }
    expect(memo_hits > 100, "walks repeated were recognised"); /* 156 of 184 here */
}

static int qsort_checks;

static int cmp_int(const void *a, const void *b)
{
    if (qsort_checks > 0) {
        qsort_checks--;
        check_stack();
    }
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void test_libc(void)
{
    int v[300];
    for (int i = 0; i < 300; i++)
        v[i] = (i * 7919) % 307;
    current_case = "qsort comparator";
    qsort_checks = 3;
    qsort(v, 300, sizeof(v[0]), cmp_int);
    current_case = "bsearch comparator";
    /* Through a pointer: <stdlib.h> may inline bsearch. */
    void *(*volatile bs)(const void *, const void *, size_t, size_t,
                         int (*)(const void *, const void *)) = bsearch;
    int key = v[123];
    qsort_checks = 2;
    expect(bs(&key, v, 300, sizeof(v[0]), cmp_int) != NULL, "bsearch found the key");
}

static void test_cxx(void)
{
    current_case = "std::sort comparator";
    cxx_sort_capture();
    current_case = "C++ exception (destructor, catch)";
    cxx_exception_capture();
}

static void *dso_handle;
static int (*dso_entry)(int, leaf_fn);
static int (*dso_plt_call)(void);

static void dso_open(void)
{
    dso_handle = dlopen(UNWIND_TEST_DSO, RTLD_NOW | RTLD_LOCAL);
    if (!dso_handle) {
        fprintf(stderr, "dlopen %s: %s\n", UNWIND_TEST_DSO, dlerror());
        exit(1);
    }
    dso_entry = (int (*)(int, leaf_fn))dlsym(dso_handle, "dso_entry");
    dso_plt_call = (int (*)(void))dlsym(dso_handle, "dso_plt_call");
    if (!dso_entry || !dso_plt_call)
        exit(1);
}

static void test_dlopen(void)
{
    current_case = "dlopen'ed object";
    dso_entry(4, check_stack);
    recurse_nofp(2, check_stack);
    /* Unloaded and loaded again (maybe elsewhere): no stale rule may count. */
    dlclose(dso_handle);
    unwind_forget_code();
    dso_open();
    current_case = "dlopen'ed object, reloaded";
    dso_entry(6, check_stack);
}

static NOINLINE unsigned cap_loop_site(uintptr_t *f, unsigned max, unsigned skip)
{
    return ours_capture(f, max, skip + 1);
}

static void truncation_leaf(void)
{
    uintptr_t full[MAXF], f[MAXF];
    unsigned n = 0;
    for (int i = 0; i < 2; i++) /* one call site: the same first frame */
        n = cap_loop_site(full, MAXF, 0);
    expect(n > 5, "a stack to truncate");
    for (unsigned max = 0; max <= n + 1; max++) {
        unsigned k = cap_loop_site(f, max, 0);
        expect(k == (max < n ? max : n) && !memcmp(f, full, k * sizeof(*f)), "max truncates");
    }
    for (unsigned skip = 0; skip <= n + 1; skip++) {
        unsigned k = cap_loop_site(f, MAXF, skip);
        expect(k == (skip < n ? n - skip : 0) && !memcmp(f, full + skip, k * sizeof(*f)),
               "skip drops the innermost frames");
    }
    unsigned k = cap_loop_site(f, 3, 2);
    expect(k == 3 && !memcmp(f, full + 2, 3 * sizeof(*f)), "skip and max together");
}

static void test_truncation(void)
{
    current_case = "max and skip";
    recurse_nofp(10, truncation_leaf);
}

/* ---- threads ------------------------------------------------------------ */

static void *thread_main(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < 150; i++) {
        int d = (i * 7 + id) % 25;
        switch ((i + id) % 5) {
        case 0:
            recurse_nofp(d, check_stack);
            break;
        case 1:
            recurse_fp(d, check_stack);
            break;
        case 2:
            recurse_alloca(d % 8, check_stack);
            break;
        case 3:
            many_saves(d % 6, check_stack);
            break;
        default:
            dso_entry(d % 9, check_stack);
            break;
        }
    }
    return NULL;
}

static void *small_thread_main(void *arg)
{
    (void)arg;
    recurse_nofp(30, check_stack);
    recurse_vla(10, check_stack);
    return NULL;
}

static void test_threads(void)
{
    current_case = "threads";
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, thread_main, (void *)(intptr_t)i);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);

    current_case = "thread with a 64 KiB stack";
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 << 10);
    pthread_t s;
    pthread_create(&s, &attr, small_thread_main, NULL);
    pthread_join(s, NULL);

    current_case = "thread on a stack of the program's own";
    size_t len = 256 << 10;
    void *stack = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    pthread_attr_setstack(&attr, stack, len);
    pthread_create(&s, &attr, small_thread_main, NULL);
    pthread_join(s, NULL);
    pthread_attr_destroy(&attr);
    munmap(stack, len);
}

/* ---- a coroutine: a stack the unwinder knows nothing about -------------- */

static ucontext_t co_main_ctx, co_ctx;

static void co_body(void)
{
    recurse_nofp(5, check_stack);
    recurse_fp(3, check_stack);
}

static void test_coroutine(void)
{
    current_case = "makecontext stack";
    size_t len = 256 << 10;
    char *stack = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    getcontext(&co_ctx);
    co_ctx.uc_stack.ss_sp = stack;
    co_ctx.uc_stack.ss_size = len;
    co_ctx.uc_link = &co_main_ctx;
    makecontext(&co_ctx, co_body, 0);
    swapcontext(&co_main_ctx, &co_ctx);
    munmap(stack, len);
}

/* ---- signals ------------------------------------------------------------- */

/* Compares unwind_from_context with the reference seen from the handler:
 * the frames from the interrupted pc on.  In `partial` code (ld.so's lazy
 * binding: a CFA kept in rbx) ours may stop early: a prefix is enough.
 * Called in handlers: no stdio, no dladdr (the interrupted code may hold
 * their locks); a difference is kept for later. */
struct saved_failure {
    const char *what;
    uintptr_t ours[MAXF], ref[MAXF];
    unsigned n, m;
};
static struct saved_failure handler_failure;
static _Atomic int handler_failures, handler_checks;

/* ld.so's mapping, found before any handler needs it (from its load
 * address: its variables may have copies in the executable). */
static uintptr_t ldso_lo, ldso_hi;

static void find_ldso(void)
{
    struct dl_find_object o;
    if (_dl_find_object((void *)getauxval(AT_BASE), &o) == 0) {
        ldso_lo = (uintptr_t)o.dlfo_map_start;
        ldso_hi = (uintptr_t)o.dlfo_map_end;
    }
}

static bool in_ldso(uintptr_t pc)
{
    return pc >= ldso_lo && pc < ldso_hi;
}

static void check_context(const ucontext_t *uc, const char *what, bool (*partial)(uintptr_t),
                          unsigned max)
{
    uintptr_t ours[MAXF], ref[MAXF];
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    if (max > MAXF)
        max = MAXF;
    in_unwinder = 1;
    unsigned n = unwind_from_context(uc, ours, max);
    in_unwinder = 0;
    unsigned m = ref_capture(ref, MAXF, 0);
    unsigned at = 0;
    while (at < m && ref[at] != pc)
        at++;
    bool ok, prefix_ok = false;
    unsigned want = m - at < max ? m - at : max;
    for (unsigned i = at; partial && i < m; i++)
        prefix_ok |= partial(ref[i]);
    if (at == m)
        ok = false;
    else if (prefix_ok)
        ok = n >= 1 && n <= want && !memcmp(ours, ref + at, n * sizeof(*ours));
    else
        ok = n == want && !memcmp(ours, ref + at, n * sizeof(*ours));
    ok = ok && n >= 1 && ours[0] == pc;
    atomic_fetch_add(&handler_checks, 1);
    if (!ok && atomic_fetch_add(&handler_failures, 1) == 0) {
        handler_failure.what = what;
        memcpy(handler_failure.ours, ours, n * sizeof(*ours));
        memcpy(handler_failure.ref, ref + (at < m ? at : 0),
               (m - (at < m ? at : 0)) * sizeof(*ref));
        handler_failure.n = n;
        handler_failure.m = m - (at < m ? at : 0);
    }
}

static void report_handler_failures(void)
{
    if (!handler_failures)
        return;
    struct saved_failure *f = &handler_failure;
    current_case = f->what;
    fail_frames("frames from a signal context differ", f->ours, f->n, f->ref, f->m);
    atomic_fetch_add(&failures, handler_failures - 1);
    handler_failures = 0;
}

static void install(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void *alt_stack_on(void)
{
    size_t len = 256 << 10;
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    stack_t ss = {.ss_sp = m, .ss_size = len, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    return m;
}

static void alt_stack_off(void *m)
{
    stack_t ss = {.ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    munmap(m, 256 << 10);
}

/* A fault, its handler on the alternate stack. */
static sigjmp_buf fault_env;
static volatile int *fault_addr;

static void segv_handler(int sig, siginfo_t *si, void *ctx)
{
    (void)sig, (void)si;
    check_context(ctx, current_case, NULL, MAXF);
    /* From inside the handler, through the signal frame, from the
     * alternate stack to the thread's. */
    uintptr_t ours[MAXF], ref[MAXF];
    unsigned n = ours_capture(ours, MAXF, 1); /* from __restore_rt on */
    unsigned m = ref_capture(ref, MAXF, 1);
    atomic_fetch_add(&handler_checks, 1);
    if ((n != m || memcmp(ours, ref, n * sizeof(*ours))) &&
        atomic_fetch_add(&handler_failures, 1) == 0) {
        handler_failure.what = "capture inside a handler, through the signal frame";
        memcpy(handler_failure.ours, ours, n * sizeof(*ours));
        memcpy(handler_failure.ref, ref, m * sizeof(*ref));
        handler_failure.n = n;
        handler_failure.m = m;
    }
    siglongjmp(fault_env, 1);
}

static void fault_leaf(void)
{
    *fault_addr = 1;
}

static void fault_in_recursion(void)
{
    if (!sigsetjmp(fault_env, 1))
        recurse_nofp(6, fault_leaf);
    if (!sigsetjmp(fault_env, 1))
        recurse_fp(4, fault_leaf);
    if (!sigsetjmp(fault_env, 1))
        recurse_alloca(3, fault_leaf);
}

static void *fault_thread(void *arg)
{
    (void)arg;
    void *alt = alt_stack_on();
    fault_in_recursion();
    alt_stack_off(alt);
    return NULL;
}

static void test_fault(void)
{
    current_case = "SIGSEGV on an alternate stack";
    fault_addr = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    install(SIGSEGV, segv_handler, SA_ONSTACK);
    void *alt = alt_stack_on();
    fault_in_recursion();
    alt_stack_off(alt);
    current_case = "SIGSEGV on an alternate stack, other thread";
    pthread_t t;
    pthread_create(&t, NULL, fault_thread, NULL);
    pthread_join(t, NULL);
    current_case = "SIGSEGV on the thread's own stack";
    fault_in_recursion();
    signal(SIGSEGV, SIG_DFL);
    munmap((void *)fault_addr, 4096);
    report_handler_failures();
}

/* A stack overflow: the stack pointer is in the guard page. */
static volatile int overflow_seen;

static void overflow_handler(int sig, siginfo_t *si, void *ctx)
{
    (void)sig, (void)si;
    overflow_seen = 1;
    check_context(ctx, "stack overflow", NULL, 40);
    siglongjmp(fault_env, 1);
}

static NOINLINE int overflow(int n)
{
    volatile char pad[200];
    pad[0] = (char)n;
    if (n > 100000000)
        return 0;
    return overflow(n + 1) + pad[0];
}

static void *overflow_thread(void *arg)
{
    (void)arg;
    void *alt = alt_stack_on();
    if (!sigsetjmp(fault_env, 1))
        overflow(0);
    alt_stack_off(alt);
    return NULL;
}

static void test_overflow(void)
{
    current_case = "stack overflow";
    install(SIGSEGV, overflow_handler, SA_ONSTACK);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 128 << 10);
    pthread_t t;
    pthread_create(&t, &attr, overflow_thread, NULL);
    pthread_join(t, NULL);
    pthread_attr_destroy(&attr);
    signal(SIGSEGV, SIG_DFL);
    expect(overflow_seen, "the overflow faulted");
    report_handler_failures();
}

/* Every instruction of a few calls, single-stepped: prologues, epilogues,
 * PLT stubs (the first call of a function goes through lazy binding: the
 * PLT's CFA expression, both of its cases, and ld.so's resolver), libc. */
static volatile unsigned steps, ldso_steps;

NOINLINE static void step_end(void)
{
    __asm__ volatile("");
}

static void trap_handler(int sig, siginfo_t *si, void *ctx)
{
    (void)sig, (void)si;
    ucontext_t *uc = ctx;
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    if (pc == (uintptr_t)step_end || ++steps > 300000) {
        uc->uc_mcontext.gregs[REG_EFL] &= ~0x100L;
        return;
    }
    ldso_steps += in_ldso(pc);
    check_context(uc, "single-step", in_ldso, MAXF);
}

static NOINLINE void stepped_calls(void)
{
    getpgrp(); /* first call: lazy binding */
    getpid();
    dso_plt_call(); /* first call: the object's own PLT */
    dso_plt_call();
    recurse_nofp(2, step_end);
}

static void test_single_step(void)
{
    current_case = "single-step";
    getpid();
    install(SIGTRAP, trap_handler, 0);
    __asm__ volatile("pushfq\n\torq $0x100, (%%rsp)\n\tpopfq" : : : "memory", "cc");
    stepped_calls();
    step_end();
    signal(SIGTRAP, SIG_DFL);
    expect(steps > 100, "instructions were stepped");
    expect(ldso_steps > 100, "lazy binding was stepped through");
    report_handler_failures();
}

/* A profiling timer: the handler lands anywhere, the unwinder itself
 * included (its rule cache and stack bounds used from the handler). */
static volatile int prof_on;
static uintptr_t prof_expect[MAXF];
static unsigned prof_expect_n;
static _Atomic int prof_mismatch;
static uintptr_t prof_bad[MAXF];
static unsigned prof_bad_n;

static int prof_samples;

static void prof_handler(int sig, siginfo_t *si, void *ctx)
{
    (void)sig, (void)si;
    if (prof_on) {
        prof_samples++;
        check_context(ctx, "profiling timer", NULL, MAXF);
    }
}

static void prof_round(void);

/* The same stack every time: the same frames, whatever the timer hit (up
 * to prof_round's: the compiler may peel the loop that calls it). */
static void prof_leaf(void)
{
    uintptr_t f[MAXF];
    unsigned n = cap_loop_site(f, MAXF, 0);
    for (unsigned i = 0; i < n; i++)
        if (f[i] > (uintptr_t)prof_round && f[i] < (uintptr_t)prof_round + 256) {
            n = i + 1;
            break;
        }
    if (!prof_expect_n) {
        prof_expect_n = n;
        memcpy(prof_expect, f, n * sizeof(*f));
    } else if (n != prof_expect_n || memcmp(f, prof_expect, n * sizeof(*f))) {
        if (atomic_fetch_add(&prof_mismatch, 1) == 0) {
            prof_bad_n = n;
            memcpy(prof_bad, f, n * sizeof(*f));
        }
    }
}

static void prof_other_leaf(void)
{
    uintptr_t f[MAXF];
    cap_loop_site(f, MAXF, 0);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static NOINLINE void prof_round(void)
{
    __asm__ volatile("" : : : "memory");
    recurse_nofp(8, prof_leaf);
    recurse_fp(3, prof_other_leaf);
    recurse_alloca(2, prof_other_leaf);
}

static void test_profiling_timer(void)
{
    current_case = "profiling timer";
    void *alt = alt_stack_on();
    /* ITIMER_REAL: high resolution, unlike the CPU-time timers. */
    install(SIGALRM, prof_handler, SA_ONSTACK | SA_RESTART);
    struct itimerval it = {{0, 100}, {0, 100}};
    /* One call site: the first round, before the timer, is the expectation. */
    double end = 0;
    for (int i = 0; i <= 1 || now_s() < end; i++) {
        if (i == 1) {
            prof_on = 1;
            setitimer(ITIMER_REAL, &it, NULL);
            end = now_s() + 0.4;
        }
        prof_round();
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    prof_on = 0;
    signal(SIGALRM, SIG_DFL);
    alt_stack_off(alt);
    if (prof_mismatch)
        fail_frames("the same stack captured differently, interrupted by the timer", prof_bad,
                    prof_bad_n, prof_expect, prof_expect_n);
    report_handler_failures();
}

/* ---- garbage ------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Values that look like something: code, stack, zero, kernel, garbage. */
static uintptr_t plausible(uintptr_t stack_near)
{
    switch (rng() % 8) {
    case 0:
        return 0;
    case 1:
        return (uintptr_t)check_stack + rng() % 64;
    case 2:
        return (uintptr_t)recurse_nofp + rng() % 32;
    case 3:
        return stack_near + (rng() % 512) * 8 - 2048;
    case 4:
        return 0xffffffffff600000ull; /* vsyscall page */
    case 5:
        return (uintptr_t)&failures;
    case 6:
        return (uintptr_t)dlsym(RTLD_DEFAULT, "qsort") + rng() % 16;
    default:
        return rng();
    }
}

static uintptr_t corrupt_truth[MAXF];
static unsigned corrupt_truth_n;
static unsigned corrupt_keep; /* frames before the corrupted one */

static NOINLINE void corrupt_leaf2(void)
{
    uintptr_t f[MAXF];
    unsigned n = cap_loop_site(f, MAXF, 0);
    if (!corrupt_truth_n) {
        corrupt_truth_n = n;
        memcpy(corrupt_truth, f, n * sizeof(*f));
        return;
    }
    /* The frames up to corrupted_frame's own are right; what follows
     * comes from garbage and may be anything. */
    if (!(n <= MAXF && n >= corrupt_keep && !memcmp(f, corrupt_truth, corrupt_keep * sizeof(*f))))
        fail_frames("not a correct prefix from a corrupted stack", f, n, corrupt_truth,
                    corrupt_truth_n);
}

static NOINLINE void corrupt_leaf(void)
{
    corrupt_leaf2();
    __asm__ volatile("" : : : "memory");
}

static void corrupt_none(uintptr_t *slots, unsigned nslots, void *arg)
{
    (void)slots, (void)nslots, (void)arg;
}

static void corrupt_ra_bp(uintptr_t *slots, unsigned nslots, void *arg)
{
    (void)nslots, (void)arg;
    slots[0] = plausible((uintptr_t)slots);
    slots[1] = plausible((uintptr_t)slots);
}

static void corrupt_callers(uintptr_t *slots, unsigned nslots, void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < nslots; i++)
        slots[i] = plausible((uintptr_t)slots);
}

static void test_corrupted(void)
{
    current_case = "corrupted stack";
    corrupt_truth_n = 0;
    corrupted_frame(corrupt_none, 0, NULL, corrupt_leaf);
    /* Right up to corrupted_frame's own pc (its call of the leaf); its
     * return address, the first slot overwritten, comes next. */
    corrupt_keep = 0;
    for (unsigned i = 0; i < corrupt_truth_n && !corrupt_keep; i++)
        if (corrupt_truth[i] > (uintptr_t)corrupted_frame &&
            corrupt_truth[i] < (uintptr_t)corrupted_frame + 1024)
            corrupt_keep = i + 1;
    expect(corrupt_keep > 0 && corrupt_truth_n > corrupt_keep, "a stack to corrupt");
    for (int i = 0; i < 3000; i++)
        corrupted_frame(corrupt_ra_bp, 2, NULL, corrupt_leaf);
    for (int i = 0; i < 3000; i++)
        corrupted_frame(corrupt_callers, 2 + (unsigned)(rng() % 200), NULL, corrupt_leaf);
}

/* Contexts whose registers are garbage: a pc, and whatever can be proven. */
static void test_garbage_contexts(void)
{
    current_case = "garbage contexts";
    size_t len = 64 << 10;
    uintptr_t *heap = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uintptr_t local;
    for (size_t i = 0; i < len / 8; i++)
        heap[i] = i % 3 ? plausible((uintptr_t)(heap + i)) : (uintptr_t)(heap + i + rng() % 64);
    ucontext_t uc;
    getcontext(&uc);
    for (int i = 0; i < 20000; i++) {
        uintptr_t sps[] = {0,
                           8,
                           (uintptr_t)none + 64,
                           0xffff800000000000ull,
                           (uintptr_t)heap + (rng() % (len / 8)) * 8,
                           (uintptr_t)heap + len - 8,
                           (uintptr_t)&local + (rng() % 4096) * 8,
                           (uintptr_t)&local - (rng() % 64) * 8,
                           rng()};
        uc.uc_mcontext.gregs[REG_RSP] = (greg_t)sps[rng() % (sizeof(sps) / sizeof(sps[0]))];
        uc.uc_mcontext.gregs[REG_RBP] =
            (greg_t)(rng() % 2 ? plausible((uintptr_t)heap)
                               : (uintptr_t)uc.uc_mcontext.gregs[REG_RSP] + 16);
        uc.uc_mcontext.gregs[REG_RIP] = (greg_t)plausible((uintptr_t)heap);
        for (int r = 0; r < 16; r++)
            if (r != REG_RSP && r != REG_RBP && r != REG_RIP && rng() % 2)
                uc.uc_mcontext.gregs[r] = (greg_t)plausible((uintptr_t)heap);
        uintptr_t f[MAXF];
        unsigned max = 1 + (unsigned)(rng() % MAXF);
        in_unwinder = 1;
        unsigned n = unwind_from_context(&uc, f, max);
        in_unwinder = 0;
        if (!(n >= 1 && n <= max && f[0] == (uintptr_t)uc.uc_mcontext.gregs[REG_RIP])) {
            expect(false, "garbage context: at least the pc, at most max");
            break;
        }
    }
    munmap(heap, len);
    munmap(none, 4096);
}

/* ---- no file descriptor, no system call ---------------------------------- */

static int seccomp_filter(const int *nrs, unsigned n, bool allow_listed)
{
    struct sock_filter f[80];
    unsigned k = 0;
    f[k++] =
        (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    f[k++] =
        (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    for (unsigned i = 0; i < n && k < 76; i++) {
        f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nrs[i], 0, 1);
        f[k++] = (struct sock_filter)BPF_STMT(
            BPF_RET | BPF_K, allow_listed ? SECCOMP_RET_ALLOW : SECCOMP_RET_KILL_PROCESS);
    }
    f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, allow_listed ? SECCOMP_RET_KILL_PROCESS
                                                                        : SECCOMP_RET_ALLOW);
    struct sock_fprog prog = {(unsigned short)k, f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static void quiet_leaf(void)
{
    uintptr_t f[MAXF];
    cap_loop_site(f, MAXF, 0);
}

static void *fd_thread(void *arg)
{
    (void)arg;
    recurse_nofp(10, quiet_leaf); /* a new thread: its stack is found and proven */
    fault_in_recursion();
    return NULL;
}

/* In a child: first no system call that makes a file descriptor, while
 * threads start, stacks are proven and faults unwound; then, on warm
 * stacks, no system call at all. */
static void test_no_fd_no_syscall(void)
{
    current_case = "no file descriptor, no system call";
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        static const int fd_calls[] = {SYS_open,
                                       SYS_openat,
                                       SYS_openat2,
                                       SYS_creat,
                                       SYS_pipe,
                                       SYS_pipe2,
                                       SYS_socket,
                                       SYS_socketpair,
                                       SYS_dup,
                                       SYS_dup2,
                                       SYS_dup3,
                                       SYS_memfd_create,
                                       SYS_eventfd,
                                       SYS_eventfd2,
                                       SYS_epoll_create,
                                       SYS_epoll_create1,
                                       SYS_signalfd,
                                       SYS_signalfd4,
                                       SYS_timerfd_create,
                                       SYS_inotify_init,
                                       SYS_inotify_init1,
                                       SYS_userfaultfd,
                                       SYS_perf_event_open,
                                       SYS_fanotify_init,
                                       SYS_pidfd_open,
                                       SYS_accept,
                                       SYS_accept4,
                                       SYS_fcntl};
        if (seccomp_filter(fd_calls, sizeof(fd_calls) / sizeof(fd_calls[0]), false) != 0)
            _exit(77);
        fault_addr = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        install(SIGSEGV, segv_handler, SA_ONSTACK);
        void *alt = alt_stack_on();
        fault_in_recursion();
        pthread_t t;
        pthread_create(&t, NULL, fd_thread, NULL);
        pthread_join(t, NULL);
        for (int i = 0; i < 3; i++) {
            recurse_nofp(12, quiet_leaf);
            recurse_fp(12, quiet_leaf);
            recurse_alloca(5, quiet_leaf);
            dso_entry(5, quiet_leaf);
        }
        (void)alt;
        /* Warm: now nothing but exit may be called. */
        static const int exits[] = {SYS_exit_group, SYS_exit};
        if (seccomp_filter(exits, 2, true) != 0)
            _exit(78);
        for (int i = 0; i < 1000; i++) {
            recurse_nofp(12, quiet_leaf);
            recurse_fp(12, quiet_leaf);
            recurse_alloca(5, quiet_leaf);
        }
        syscall(SYS_exit_group, 0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && (WEXITSTATUS(status) == 77 || WEXITSTATUS(status) == 78)) {
        fprintf(stderr, "note: seccomp unavailable, file descriptor check by /proc only\n");
        return;
    }
    expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "the unwinder made a forbidden system call (killed by seccomp)");
    if (WIFSIGNALED(status))
        fprintf(stderr, "  child killed by signal %d\n", WTERMSIG(status));
}

static unsigned count_fds(char names[][32], unsigned max)
{
    unsigned n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.' && n < max)
            snprintf(names[n++], 32, "%.31s", e->d_name);
    closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    static char fds_before[256][32], fds_after[256][32];
    unsigned nfd_before = count_fds(fds_before, 256);
    if (!unwind_available()) {
        fprintf(stderr, "unwind_available() is false on this system\n");
        return 1;
    }
    bool stress = argc > 1 && !strcmp(argv[1], "--stress");
    find_ldso();
    dso_open();
    test_recursion();
    test_memo();
    test_libc();
    test_cxx();
    test_dlopen();
    test_truncation();
    test_threads();
    test_coroutine();
    test_fault();
    test_overflow();
    test_single_step();
    test_profiling_timer();
    test_corrupted();
    test_garbage_contexts();
    if (stress) { /* again: with a tiny rule cache, thrashing between threads */
        test_threads();
        test_recursion();
    }
    test_no_fd_no_syscall();

    current_case = "file descriptors";
    dlclose(dso_handle);
    unsigned nfd_after = count_fds(fds_after, 256);
    expect(nfd_after == nfd_before && !memcmp(fds_before, fds_after, sizeof(fds_before)),
           "the same file descriptors open at the end as at the start");
    current_case = "malloc";
    expect(bad_mallocs == 0, "no malloc from the unwinder");
    printf("%d stack comparisons, %d from signal contexts (%u single steps, %u in ld.so; "
           "%d timer samples), %d failures\n",
           checks, handler_checks, steps, ldso_steps, prof_samples, failures);
    return failures ? 1 : 0;
}

/*
 * Stack unwinding from DWARF call frame information (see unwind.h).
 *
 * A walk goes from frame to frame.  For the pc of a frame a *rule* says
 * how to find the caller's registers: the CFA (the caller's rsp) as rsp or
 * rbp plus an offset, where rbp and the return address were saved.  The
 * rule comes from the rule cache; on a miss, from the FDE that covers the
 * pc: _dl_find_object() names the object and its .eh_frame_hdr, whose
 * sorted table gives the FDE by binary search, and the CIE's and the FDE's
 * CFA programs run up to the pc.  The rule is then cached for the pc, so a
 * stack seen before costs a hash lookup and two loads per frame.
 *
 * Safety: every read of a walk's stack goes through a *window*, a range
 * proven readable.  A thread's own stack is proven once, page by page from
 * its top down to the deepest stack pointer seen (a one-syscall probe per
 * page, see page_readable), and stays proven for the thread's life; an
 * alternate signal stack is the range the kernel was given; any other
 * stack is proven page by page as the walk reads it.  The CFA must grow
 * from frame to frame (a walk may change stacks only through a signal
 * frame, a bounded number of times), so a walk ends whatever the stack
 * contains.  .eh_frame is trusted to be what the linker wrote, but every
 * read of it stays inside its object's mapping.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>

#include "base/unwind.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
/* Invariants of our own making (never conditions on what we read: those
 * end the walk).  No stdio, no lock: this runs in signal handlers. */
#define unwind_assert(x)                                                                           \
    do {                                                                                           \
        if (unlikely(!(x)))                                                                        \
            __builtin_trap();                                                                      \
    } while (0)

#if defined(__x86_64__) && defined(__linux__) && defined(DLFO_EH_SEGMENT_TYPE)
#define UNWIND_SUPPORTED 1
extern void *__libc_stack_end __attribute__((weak)); /* ld.so: the main stack's top */
#else
#define UNWIND_SUPPORTED 0
#endif

#if UNWIND_SUPPORTED

/* DWARF register numbers on x86-64 (psABI figure 3.36). */
enum { DW_RBP = 6, DW_RSP = 7, DW_RIP = 16 };

/* ==== Readable memory ===================================================== */

#define PAGE ((uintptr_t)4096)
/* A stack pointer this far below a thread's stack top is taken to be on
 * that stack (then proven page by page).  The kernel keeps at least
 * 128 MiB between the main stack's top and the mmap area. */
#define STACK_SPAN ((uintptr_t)64 << 20)
/* Pages a walk may prove on a stack we know nothing about. */
#define FOREIGN_PROBES 32u
#define MAX_SIGNAL_FRAMES 8u

static inline uintptr_t page_down(uintptr_t a)
{
    return a & ~(PAGE - 1);
}

/* Is the page of `addr` readable?  One system call, no side effect:
 * rt_sigprocmask copies its `set` from user memory before it looks at
 * `how`, so with an invalid `how` it answers EFAULT for unreadable memory
 * and EINVAL otherwise.  Raw syscall: errno is left alone (signal
 * handlers).  unwind_available() checks that the kernel answers so. */
static bool page_readable(uintptr_t addr)
{
    long ret;
    register long sigsetsize __asm__("r10") = 8;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "0"((long)SYS_rt_sigprocmask), "D"(-1L), "S"(page_down(addr)), "d"(0L),
                       "r"(sigsetsize)
                     : "rcx", "r11", "memory");
    return ret == -EINVAL;
}

/*
 * The calling thread's stack as far as it is proven readable: [lo, hi).
 * hi is the stack's top: the main thread's from __libc_stack_end, another
 * thread's is its thread pointer (glibc puts the thread descriptor at the
 * top of the stack block, above the stack); 0 until known.  lo only moves
 * down, a page at a time, as deeper stack pointers are proven; `bottom`
 * once a probe below lo failed (the guard page: no use trying again).
 * A thread's stack stays mapped while it runs, so what was proven stays
 * true.  A signal handler may interrupt an update and make its own: every
 * value either stores was proven, and lo <= hi always.
 */
static __thread struct {
    uintptr_t lo, hi;
    bool bottom;
} thread_stack;

/* Memory a walk may read: [lo, hi).  `probes`: pages it may still prove
 * above hi (a stack we know nothing about); 0 for a known stack, whose
 * top is hi.  `signals`: the signal frames the walk went through. */
struct window {
    uintptr_t lo, hi;
    unsigned probes, signals;
};

/* Finds the top of the calling thread's stack, when sp is on it. */
static void thread_stack_find(uintptr_t sp)
{
    uintptr_t tp = (uintptr_t)pthread_self();
    uintptr_t end = &__libc_stack_end ? (uintptr_t)__libc_stack_end : 0;
    uintptr_t top = 0;
    if (sp < tp && tp - sp <= STACK_SPAN)
        top = tp;
    else if (end && sp < end && end - sp <= STACK_SPAN)
        top = page_down(end) + PAGE; /* the page of __libc_stack_end is mapped */
    if (!top)
        return; /* on a stack of the program's own (coroutine): next time */
    thread_stack.lo = top;
    thread_stack.bottom = false;
    thread_stack.hi = top;
}

/* Proves the thread's stack down to sp's page.  False when a page between
 * is not readable: sp is then on some other stack (or in the guard page). */
static bool thread_stack_extend(uintptr_t sp)
{
    uintptr_t target = page_down(sp);
    while (thread_stack.lo > target) {
        if (thread_stack.bottom)
            return false;
        uintptr_t p = page_down(thread_stack.lo - 1);
        if (!page_readable(p)) {
            thread_stack.bottom = true;
            return false;
        }
        if (p < thread_stack.lo)
            thread_stack.lo = p;
    }
    unwind_assert(thread_stack.lo <= thread_stack.hi);
    return true;
}

/* The window of a walk whose stack pointer is `sp`, when it is not on the
 * proven part of the thread's stack. */
static __attribute__((noinline)) bool stack_window_slow(uintptr_t sp, struct window *w)
{
    w->probes = 0; /* w->signals is the walk's: kept */
    /* On the alternate signal stack: the range the kernel was given (the
     * program handed it over as stack memory).  Asked before the thread's
     * stack is extended, so that never grows into an adjacent one. */
    stack_t ss;
    if (sigaltstack(NULL, &ss) == 0 && !(ss.ss_flags & SS_DISABLE) && sp >= (uintptr_t)ss.ss_sp &&
        sp - (uintptr_t)ss.ss_sp < ss.ss_size) {
        w->lo = (uintptr_t)ss.ss_sp;
        w->hi = (uintptr_t)ss.ss_sp + ss.ss_size;
        return w->hi - sp >= sizeof(uintptr_t);
    }
    if (!thread_stack.hi)
        thread_stack_find(sp);
    if (sp < thread_stack.hi && thread_stack.hi - sp <= STACK_SPAN && thread_stack_extend(sp)) {
        w->lo = thread_stack.lo;
        w->hi = thread_stack.hi;
        return true;
    }
    /* A stack of the program's own: proven as the walk reads it. */
    if (!page_readable(sp))
        return false;
    w->lo = page_down(sp);
    w->hi = w->lo + PAGE;
    w->probes = FOREIGN_PROBES;
    return true;
}

/* The window of a walk whose stack pointer is `sp`. */
static inline bool stack_window(uintptr_t sp, struct window *w)
{
    if (likely(sp >= thread_stack.lo && sp < thread_stack.hi)) {
        w->lo = thread_stack.lo;
        w->hi = thread_stack.hi;
        w->probes = 0;
        return true;
    }
    return stack_window_slow(sp, w);
}

/* Proves the pages up to the one holding [addr, addr + 8), within the
 * window's allowance. */
static __attribute__((noinline)) bool window_grow(struct window *w, uintptr_t addr)
{
    if (addr < w->lo || addr > UINTPTR_MAX - PAGE || !w->probes)
        return false;
    uintptr_t last = page_down(addr + sizeof(uintptr_t) - 1);
    for (uintptr_t p = page_down(w->hi - 1) + PAGE; p <= last; p += PAGE) {
        if (!w->probes || !page_readable(p)) {
            w->probes = 0;
            return false;
        }
        w->probes--;
        w->hi = p + PAGE;
    }
    return addr <= w->hi - sizeof(uintptr_t);
}

/* Reads a word of the stack, if the window allows. */
static inline bool win_read(struct window *w, uintptr_t addr, uintptr_t *v)
{
    if (unlikely(addr < w->lo || addr > w->hi - sizeof(uintptr_t)) && !window_grow(w, addr))
        return false;
    memcpy(v, (const void *)addr, sizeof(*v));
    return true;
}

/* ==== Rules =============================================================== */

/* Where a value is found, in unwind_rule's *_base fields: a DWARF register
 * (0-15: its value in the frame), or one of these. */
enum {
    LOC_CFA = 17,   /* the CFA */
    LOC_SAME = 18,  /* rbp only: unchanged in the caller */
    LOC_UNDEF = 19, /* unknown (rbp), or no caller (return address) */
};

enum {
    RULE_CFA_DEREF = 1, /* CFA = *(cfa_reg + cfa_off) (realigned stacks, signal frames) */
    RULE_SIGNAL = 2,    /* a signal frame: the caller's pc is exact, its stack may differ */
    RULE_STOP = 4,      /* an FDE covers the pc but we do not follow it: report, stop */
    RULE_NO_FDE = 8,    /* no FDE covers the pc: do not report, stop */
    /* Nothing but: CFA = rsp|rbp + cfa_off, return address at CFA - 8,
     * rbp unchanged (then rbp_off is -8 too: a harmless read) or at
     * CFA + rbp_off.  Every frame of compiled code but a few in
     * prologues; the walk's fast path. */
    RULE_SIMPLE = 16,
    RULE_VALID = 128, /* set in every rule: a word of zeros is no rule */
};

/*
 * How to find the caller's registers at a pc: the payload of the rule
 * cache, 16 bytes.  The caller's rsp is the CFA (x86-64 psABI):
 *   CFA = cfa_reg + cfa_off, or *(cfa_reg + cfa_off) with RULE_CFA_DEREF;
 *   return address = *(ra_base + ra_off), rbp = *(rbp_base + rbp_off),
 * where a base is a register of this frame or the CFA.  cfa_reg is rsp or
 * rbp, except at the first frame of a context (every register known).
 */
struct unwind_rule {
    int32_t cfa_off, ra_off, rbp_off;
    uint8_t cfa_reg, ra_base, rbp_base, flags;
};
/* The cache holds a rule as two little-endian words, which walk()'s fast
 * path reads field by field with shifts: w0 = cfa_off | ra_off << 32,
 * w1 = rbp_off | cfa_reg << 32 | ra_base << 40 | rbp_base << 48 | flags << 56. */
_Static_assert(sizeof(struct unwind_rule) == 16, "two words in the cache");
_Static_assert(offsetof(struct unwind_rule, ra_off) == 4 &&
                   offsetof(struct unwind_rule, rbp_off) == 8 &&
                   offsetof(struct unwind_rule, cfa_reg) == 12 &&
                   offsetof(struct unwind_rule, ra_base) == 13 &&
                   offsetof(struct unwind_rule, rbp_base) == 14 &&
                   offsetof(struct unwind_rule, flags) == 15,
               "the layout walk() decodes");

/* ==== Reading .eh_frame =================================================== */

/* DW_EH_PE_*: pointer encodings (LSB, "Exception Frames"). */
enum {
    PE_ABSPTR = 0x00,
    PE_ULEB128 = 0x01,
    PE_UDATA2 = 0x02,
    PE_UDATA4 = 0x03,
    PE_UDATA8 = 0x04,
    PE_SLEB128 = 0x09,
    PE_SDATA2 = 0x0a,
    PE_SDATA4 = 0x0b,
    PE_SDATA8 = 0x0c,
    PE_PCREL = 0x10,
    PE_DATAREL = 0x30,
    PE_ALIGNED = 0x50,
    PE_INDIRECT = 0x80,
    PE_OMIT = 0xff,
};

/* A read position inside one object's mapping; `ok` turns false at the
 * first read past `end`, and stays false. */
struct cursor {
    const uint8_t *p, *end;
    uintptr_t obj_lo, obj_hi; /* the object's mapping, for indirect pointers */
    bool ok;
};

static uint64_t cur_fixed(struct cursor *c, unsigned n)
{
    if (!c->ok || (size_t)(c->end - c->p) < n) {
        c->ok = false;
        return 0;
    }
    uint64_t v = 0;
    memcpy(&v, c->p, n); /* little-endian */
    c->p += n;
    return v;
}

static uint8_t cur_u8(struct cursor *c)
{
    return (uint8_t)cur_fixed(c, 1);
}

static uint64_t cur_uleb(struct cursor *c)
{
    uint64_t v = 0;
    for (unsigned shift = 0; c->ok; shift += 7) {
        uint8_t b = cur_u8(c);
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        else if (b & 0x7f)
            c->ok = false; /* does not fit */
        if (!(b & 0x80))
            return v;
    }
    return 0;
}

static int64_t cur_sleb(struct cursor *c)
{
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t b;
    do {
        b = cur_u8(c);
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
    } while ((b & 0x80) && c->ok);
    if (shift < 64 && (b & 0x40))
        v |= ~(uint64_t)0 << shift;
    return c->ok ? (int64_t)v : 0;
}

/* An encoded pointer.  `datarel` is the base of PE_DATAREL (the
 * .eh_frame_hdr in its table; none in .eh_frame on x86-64). */
static uintptr_t cur_pointer(struct cursor *c, uint8_t enc, uintptr_t datarel)
{
    uintptr_t field = (uintptr_t)c->p;
    uint64_t v;
    if ((enc & 0x70) == PE_ALIGNED) {
        size_t pad = (size_t)(-field & 7);
        cur_fixed(c, (unsigned)pad);
        field += pad;
        enc = PE_ABSPTR | (enc & PE_INDIRECT);
    }
    switch (enc & 0x0f) {
    case PE_ABSPTR:
    case PE_UDATA8:
    case PE_SDATA8:
        v = cur_fixed(c, 8);
        break;
    case PE_UDATA2:
        v = cur_fixed(c, 2);
        break;
    case PE_UDATA4:
        v = cur_fixed(c, 4);
        break;
    case PE_SDATA2:
        v = (uint64_t)(int64_t)(int16_t)cur_fixed(c, 2);
        break;
    case PE_SDATA4:
        v = (uint64_t)(int64_t)(int32_t)cur_fixed(c, 4);
        break;
    case PE_ULEB128:
        v = cur_uleb(c);
        break;
    case PE_SLEB128:
        v = (uint64_t)cur_sleb(c);
        break;
    default:
        c->ok = false;
        return 0;
    }
    switch (enc & 0x70) {
    case PE_ABSPTR:
        break;
    case PE_PCREL:
        v += field;
        break;
    case PE_DATAREL:
        if (!datarel)
            c->ok = false;
        v += datarel;
        break;
    default:
        c->ok = false;
        return 0; /* textrel, funcrel: not used for code addresses */
    }
    if ((enc & PE_INDIRECT) && c->ok) {
        if (v < c->obj_lo || v > c->obj_hi - sizeof(uintptr_t)) {
            c->ok = false;
            return 0;
        }
        memcpy(&v, (const void *)(uintptr_t)v, sizeof(v));
    }
    return c->ok ? (uintptr_t)v : 0;
}

/* Size of a value of encoding `enc`, 0 if variable or unknown. */
static unsigned pointer_size(uint8_t enc)
{
    switch (enc & 0x0f) {
    case PE_UDATA2:
    case PE_SDATA2:
        return 2;
    case PE_UDATA4:
    case PE_SDATA4:
        return 4;
    case PE_ABSPTR:
    case PE_UDATA8:
    case PE_SDATA8:
        return 8;
    default:
        return 0;
    }
}

/* Steps over an encoded pointer without following it. */
static void cur_skip_pointer(struct cursor *c, uint8_t enc)
{
    if ((enc & 0x70) == PE_ALIGNED)
        cur_fixed(c, (unsigned)(-(uintptr_t)c->p & 7) + 8);
    else if (pointer_size(enc))
        cur_fixed(c, pointer_size(enc));
    else if ((enc & 0x0f) == PE_ULEB128)
        cur_uleb(c);
    else if ((enc & 0x0f) == PE_SLEB128)
        cur_sleb(c);
    else
        c->ok = false;
}

/* What the CIE says, for its FDEs. */
struct cie {
    uint64_t code_align;
    int64_t data_align;
    uint64_t ra_reg;
    uint8_t fde_enc;
    bool has_z, signal;
    const uint8_t *insns, *end; /* initial instructions */
};

/* Reads the length of a CIE or FDE at c->p: `end` is set to its end. */
static bool record_bounds(struct cursor *c, const uint8_t **end)
{
    uint32_t len = (uint32_t)cur_fixed(c, 4);
    /* 0 is the terminator; 0xffffffff (64-bit lengths) is not used in
     * .eh_frame on this platform. */
    if (!c->ok || len == 0 || len == 0xffffffffu || len > (size_t)(c->end - c->p))
        return false;
    *end = c->p + len;
    return true;
}

static bool parse_cie(struct cursor c, struct cie *cie)
{
    const uint8_t *end;
    if (!record_bounds(&c, &end))
        return false;
    c.end = end;
    if (cur_fixed(&c, 4) != 0) /* CIE id */
        return false;
    uint8_t version = cur_u8(&c);
    if (version != 1 && version != 3)
        return false;
    char aug[8];
    unsigned n = 0;
    for (;;) {
        uint8_t ch = cur_u8(&c);
        if (!c.ok || n == sizeof(aug))
            return false;
        aug[n++] = (char)ch;
        if (!ch)
            break;
    }
    cie->code_align = cur_uleb(&c);
    cie->data_align = cur_sleb(&c);
    cie->ra_reg = version == 1 ? cur_u8(&c) : cur_uleb(&c);
    cie->fde_enc = PE_ABSPTR;
    cie->has_z = aug[0] == 'z';
    cie->signal = false;
    const uint8_t *aug_end = NULL;
    if (cie->has_z) {
        uint64_t len = cur_uleb(&c);
        if (!c.ok || len > (size_t)(c.end - c.p))
            return false;
        aug_end = c.p + len;
    }
    for (const char *a = aug + cie->has_z; *a && c.ok; a++) {
        if (*a == 'R') {
            cie->fde_enc = cur_u8(&c);
        } else if (*a == 'L') {
            cur_u8(&c); /* LSDA encoding: the FDE's augmentation data, skipped */
        } else if (*a == 'P') {
            cur_skip_pointer(&c, cur_u8(&c)); /* the personality routine: not ours to call */
        } else if (*a == 'S') {
            cie->signal = true;
        } else if (!cie->has_z) {
            return false; /* an augmentation we cannot step over */
        } else {
            break; /* unknown: 'z' tells where the data ends */
        }
    }
    if (cie->has_z)
        c.p = aug_end;
    if (!c.ok || c.p > c.end || cie->code_align == 0 || cie->ra_reg >= 128 ||
        cie->ra_reg == DW_RBP || cie->ra_reg == DW_RSP)
        return false;
    cie->insns = c.p;
    cie->end = c.end;
    return true;
}

/* The object that holds a pc, as _dl_find_object() describes it. */
struct object {
    uintptr_t lo, hi;   /* its mapping */
    const uint8_t *hdr; /* its .eh_frame_hdr */
};

/* glibc's _dl_find_object (2.35), found by unwind_available(): a link-time
 * reference would make the library need GLIBC_2.35 to load at all. */
static int (*find_object_fn)(void *, struct dl_find_object *);

static bool find_object(uintptr_t pc, struct object *o)
{
    struct dl_find_object dlfo;
    if (find_object_fn((void *)pc, &dlfo) != 0)
        return false;
    o->lo = (uintptr_t)dlfo.dlfo_map_start;
    o->hi = (uintptr_t)dlfo.dlfo_map_end;
    o->hdr = dlfo.dlfo_eh_frame;
    return o->hi > o->lo;
}

/* An FDE that covers a pc, and its CIE. */
struct fde {
    uintptr_t pc_begin, pc_end;
    const uint8_t *insns, *end;
    struct cie cie;
};

/* What find_fde() found. */
enum fde_search {
    FDE_FOUND,
    FDE_GAP,  /* none, but pc lies between two FDEs: code without CFI */
    FDE_NONE, /* none: outside the code the table covers, or no usable table */
};

/* Parses the FDE at `at` and its CIE into *f. */
static bool parse_fde(const struct object *o, uintptr_t at, struct fde *f)
{
    if (at < o->lo || at > o->hi - 8)
        return false;
    struct cursor fc = {(const uint8_t *)at, (const uint8_t *)o->hi, o->lo, o->hi, true};
    const uint8_t *end;
    if (!record_bounds(&fc, &end))
        return false;
    fc.end = end;
    uintptr_t cie_field = (uintptr_t)fc.p;
    uint32_t cie_delta = (uint32_t)cur_fixed(&fc, 4);
    uintptr_t cie_at = cie_field - cie_delta;
    if (!fc.ok || cie_delta == 0 || cie_delta > cie_field || cie_at < o->lo || cie_at > o->hi - 8)
        return false;
    struct cursor cc = {(const uint8_t *)cie_at, (const uint8_t *)o->hi, o->lo, o->hi, true};
    if (!parse_cie(cc, &f->cie))
        return false;
    f->pc_begin = cur_pointer(&fc, f->cie.fde_enc, 0);
    uintptr_t range = cur_pointer(&fc, f->cie.fde_enc & 0x0f, 0);
    if (f->cie.has_z) {
        uint64_t len = cur_uleb(&fc);
        if (!fc.ok || len > (size_t)(fc.end - fc.p))
            return false;
        fc.p += len;
    }
    if (!fc.ok || f->pc_begin + range < f->pc_begin)
        return false;
    f->pc_end = f->pc_begin + range;
    f->insns = fc.p;
    f->end = fc.end;
    return true;
}

/* Finds the FDE of `pc` in the object's .eh_frame_hdr table (the sorted
 * one of 32-bit offsets that every linker writes; another is not used). */
static enum fde_search find_fde(const struct object *o, uintptr_t pc, struct fde *f)
{
    const uint8_t *hdr = o->hdr;
    if (!hdr || (uintptr_t)hdr < o->lo || (uintptr_t)hdr > o->hi - 4)
        return FDE_NONE;
    struct cursor c = {hdr, (const uint8_t *)o->hi, o->lo, o->hi, true};
    uint8_t version = cur_u8(&c), ptr_enc = cur_u8(&c), count_enc = cur_u8(&c),
            table_enc = cur_u8(&c);
    if (version != 1 || ptr_enc == PE_OMIT || count_enc == PE_OMIT ||
        table_enc != (PE_DATAREL | PE_SDATA4))
        return FDE_NONE;
    cur_pointer(&c, ptr_enc, (uintptr_t)hdr); /* .eh_frame itself: not needed */
    uintptr_t count = cur_pointer(&c, count_enc, (uintptr_t)hdr);
    if (!c.ok || count == 0 || count > (size_t)(c.end - c.p) / 8)
        return FDE_NONE;
    const uint8_t *table = c.p;
    /* The last entry whose initial location is <= pc.  Locations are
     * offsets from hdr; the text may lie on either side of it. */
    int64_t target = (int64_t)(pc - (uintptr_t)hdr);
    size_t lo = 0, hi = count;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        int32_t loc;
        memcpy(&loc, table + mid * 8, 4);
        if ((int64_t)loc <= target)
            lo = mid;
        else
            hi = mid;
    }
    int32_t loc, off;
    memcpy(&loc, table + lo * 8, 4);
    memcpy(&off, table + lo * 8 + 4, 4);
    if ((int64_t)loc > target || !parse_fde(o, (uintptr_t)hdr + (intptr_t)off, f))
        return FDE_NONE;
    if (pc >= f->pc_begin && pc < f->pc_end)
        return FDE_FOUND;
    /* Before the next FDE: a gap in the code (asm without CFI, or the
     * return address makecontext gives a context, the first byte of
     * __start_context); after the last one: not code. */
    return lo + 1 < count && pc > f->pc_begin ? FDE_GAP : FDE_NONE;
}

/* ==== The CFA program ===================================================== */

/* DW_CFA_* (DWARF 5, 6.4.2), with the GNU extensions gcc emits. */
enum {
    CFA_advance_loc = 0x40,
    CFA_offset = 0x80,
    CFA_restore = 0xc0,
    CFA_nop = 0x00,
    CFA_set_loc = 0x01,
    CFA_advance_loc1 = 0x02,
    CFA_advance_loc2 = 0x03,
    CFA_advance_loc4 = 0x04,
    CFA_offset_extended = 0x05,
    CFA_restore_extended = 0x06,
    CFA_undefined = 0x07,
    CFA_same_value = 0x08,
    CFA_register = 0x09,
    CFA_remember_state = 0x0a,
    CFA_restore_state = 0x0b,
    CFA_def_cfa = 0x0c,
    CFA_def_cfa_register = 0x0d,
    CFA_def_cfa_offset = 0x0e,
    CFA_def_cfa_expression = 0x0f,
    CFA_expression = 0x10,
    CFA_offset_extended_sf = 0x11,
    CFA_def_cfa_sf = 0x12,
    CFA_def_cfa_offset_sf = 0x13,
    CFA_val_offset = 0x14,
    CFA_val_offset_sf = 0x15,
    CFA_val_expression = 0x16,
    CFA_GNU_args_size = 0x2e,
    CFA_GNU_negative_offset_extended = 0x2f,
};

/* The rule of one register (or of the CFA) in a row of the table. */
enum { R_UNSET, R_SAME, R_UNDEF, R_OFFSET, R_VAL_OFFSET, R_REG, R_EXPR, R_VAL_EXPR };
struct reg_rule {
    uint8_t how;
    uint8_t reg;         /* R_REG; the CFA's register for R_OFFSET */
    int64_t off;         /* R_OFFSET, R_VAL_OFFSET */
    const uint8_t *expr; /* R_EXPR, R_VAL_EXPR */
    uint64_t len;
};

/* The registers we follow: the CFA (R_OFFSET from a register, or R_EXPR),
 * rbp and the return address.  The others' rules are read and dropped. */
struct row {
    struct reg_rule cfa, rbp, ra;
};

#define STATE_STACK 8 /* remember_state depth; gcc nests one or two */

struct program {
    const struct cie *cie;
    const struct row *initial; /* after the CIE's instructions, for restore */
    uintptr_t loc, target;     /* the row at target is wanted */
    struct row stack[STATE_STACK];
    unsigned depth;
};

static struct reg_rule *reg_slot(struct program *pg, struct row *row, uint64_t reg)
{
    if (reg == DW_RBP)
        return &row->rbp;
    if (reg == pg->cie->ra_reg)
        return &row->ra;
    return NULL;
}

/* v times a CIE alignment factor, wrapping (out-of-range results are
 * rejected when the rule is made). */
static int64_t scaled(uint64_t v, int64_t factor)
{
    return (int64_t)(v * (uint64_t)factor);
}

/* Runs instructions [p, end) until the row at pg->target is complete.
 * False on an instruction we do not know or a malformed one. */
static bool run_cfa(struct program *pg, struct cursor c, struct row *row)
{
    const struct cie *cie = pg->cie;
    while (c.p < c.end) {
        uint8_t op = cur_u8(&c);
        uint64_t reg = 0, delta = 0;
        struct reg_rule r = {0};
        bool set = false, advance = false;
        switch (op & 0xc0) {
        case CFA_advance_loc:
            delta = (op & 0x3f) * cie->code_align;
            advance = true;
            break;
        case CFA_offset:
            reg = op & 0x3f;
            r = (struct reg_rule){.how = R_OFFSET, .off = scaled(cur_uleb(&c), cie->data_align)};
            set = true;
            break;
        case CFA_restore:
            reg = op & 0x3f;
            if (reg_slot(pg, row, reg))
                *reg_slot(pg, row, reg) = *reg_slot(pg, (struct row *)pg->initial, reg);
            break;
        default:
            switch (op) {
            case CFA_nop:
                break;
            case CFA_set_loc: {
                uintptr_t to = cur_pointer(&c, cie->fde_enc, 0);
                if (!c.ok || to < pg->loc)
                    return false;
                delta = to - pg->loc;
                advance = true;
                break;
            }
            case CFA_advance_loc1:
                delta = cur_fixed(&c, 1) * cie->code_align;
                advance = true;
                break;
            case CFA_advance_loc2:
                delta = cur_fixed(&c, 2) * cie->code_align;
                advance = true;
                break;
            case CFA_advance_loc4:
                delta = cur_fixed(&c, 4) * cie->code_align;
                advance = true;
                break;
            case CFA_offset_extended:
                reg = cur_uleb(&c);
                r = (struct reg_rule){.how = R_OFFSET,
                                      .off = scaled(cur_uleb(&c), cie->data_align)};
                set = true;
                break;
            case CFA_offset_extended_sf:
                reg = cur_uleb(&c);
                r = (struct reg_rule){.how = R_OFFSET,
                                      .off = scaled((uint64_t)cur_sleb(&c), cie->data_align)};
                set = true;
                break;
            case CFA_GNU_negative_offset_extended:
                reg = cur_uleb(&c);
                r = (struct reg_rule){.how = R_OFFSET,
                                      .off = scaled(0 - cur_uleb(&c), cie->data_align)};
                set = true;
                break;
            case CFA_val_offset:
                reg = cur_uleb(&c);
                r = (struct reg_rule){.how = R_VAL_OFFSET,
                                      .off = scaled(cur_uleb(&c), cie->data_align)};
                set = true;
                break;
            case CFA_val_offset_sf:
                reg = cur_uleb(&c);
                r = (struct reg_rule){.how = R_VAL_OFFSET,
                                      .off = scaled((uint64_t)cur_sleb(&c), cie->data_align)};
                set = true;
                break;
            case CFA_restore_extended:
                reg = cur_uleb(&c);
                if (reg_slot(pg, row, reg))
                    *reg_slot(pg, row, reg) = *reg_slot(pg, (struct row *)pg->initial, reg);
                break;
            case CFA_undefined:
                reg = cur_uleb(&c);
                r.how = R_UNDEF;
                set = true;
                break;
            case CFA_same_value:
                reg = cur_uleb(&c);
                r.how = R_SAME;
                set = true;
                break;
            case CFA_register:
                reg = cur_uleb(&c);
                r = (struct reg_rule){.how = R_REG, .reg = (uint8_t)cur_uleb(&c)};
                if (r.reg == reg)
                    r.how = R_SAME;
                set = true;
                break;
            case CFA_remember_state:
                if (pg->depth == STATE_STACK)
                    return false;
                pg->stack[pg->depth++] = *row;
                break;
            case CFA_restore_state:
                /* The CFA comes back too, as gcc expects. */
                if (pg->depth == 0)
                    return false;
                *row = pg->stack[--pg->depth];
                break;
            case CFA_def_cfa:
                row->cfa = (struct reg_rule){.how = R_OFFSET, .reg = (uint8_t)cur_uleb(&c)};
                row->cfa.off = (int64_t)cur_uleb(&c);
                break;
            case CFA_def_cfa_sf:
                row->cfa = (struct reg_rule){.how = R_OFFSET, .reg = (uint8_t)cur_uleb(&c)};
                row->cfa.off = scaled((uint64_t)cur_sleb(&c), cie->data_align);
                break;
            case CFA_def_cfa_register:
                if (row->cfa.how != R_OFFSET)
                    return false;
                row->cfa.reg = (uint8_t)cur_uleb(&c);
                break;
            case CFA_def_cfa_offset:
                if (row->cfa.how != R_OFFSET)
                    return false;
                row->cfa.off = (int64_t)cur_uleb(&c);
                break;
            case CFA_def_cfa_offset_sf:
                if (row->cfa.how != R_OFFSET)
                    return false;
                row->cfa.off = scaled((uint64_t)cur_sleb(&c), cie->data_align);
                break;
            case CFA_def_cfa_expression: {
                uint64_t len = cur_uleb(&c); /* before c.p is taken */
                if (!c.ok || len > (size_t)(c.end - c.p))
                    return false;
                row->cfa = (struct reg_rule){.how = R_EXPR, .len = len, .expr = c.p};
                c.p += len;
                break;
            }
            case CFA_expression:
            case CFA_val_expression: {
                reg = cur_uleb(&c);
                uint64_t len = cur_uleb(&c);
                if (!c.ok || len > (size_t)(c.end - c.p))
                    return false;
                r = (struct reg_rule){
                    .how = op == CFA_expression ? R_EXPR : R_VAL_EXPR, .len = len, .expr = c.p};
                c.p += len;
                set = true;
                break;
            }
            case CFA_GNU_args_size:
                cur_uleb(&c);
                break;
            default:
                return false; /* DW_CFA_GNU_window_save and what we do not know */
            }
        }
        if (!c.ok)
            return false;
        if (advance) {
            /* The row at target is the one before the first location past it. */
            if (delta > pg->target - pg->loc)
                return true;
            pg->loc += delta;
        }
        if (set) {
            struct reg_rule *slot = reg_slot(pg, row, reg);
            if (slot)
                *slot = r;
        }
    }
    return c.ok;
}

/* ==== DWARF expressions =================================================== */

/* The expressions gcc and glibc emit in CFI compute an address from one
 * register plus constants (the PLT: rsp + 8 + ((rip & 15) >= 11) * 8;
 * realigned stacks: *(rbp - 8); the signal trampoline: *(rsp + 160), and
 * registers at rsp + n).  They are evaluated symbolically once, when the
 * rule of a pc is made: a value is a constant, or a register (or the CFA)
 * plus a constant.  Anything else is "complex" and ends the walk. */
enum { SYM_CONST = 0xff };
struct sym {
    uint8_t base; /* SYM_CONST, a DWARF register, or LOC_CFA */
    uint64_t off; /* wraps, as the DWARF machine's arithmetic does */
};

#define EXPR_STACK 8

/* DW_OP_* (DWARF 5, 2.5.1): those that CFI uses. */
enum {
    OP_deref = 0x06,
    OP_const1u = 0x08,
    OP_const1s = 0x09,
    OP_const2u = 0x0a,
    OP_const2s = 0x0b,
    OP_const4u = 0x0c,
    OP_const4s = 0x0d,
    OP_const8u = 0x0e,
    OP_const8s = 0x0f,
    OP_constu = 0x10,
    OP_consts = 0x11,
    OP_dup = 0x12,
    OP_drop = 0x13,
    OP_over = 0x14,
    OP_swap = 0x16,
    OP_and = 0x1a,
    OP_minus = 0x1c,
    OP_mul = 0x1e,
    OP_neg = 0x1f,
    OP_not = 0x20,
    OP_or = 0x21,
    OP_plus = 0x22,
    OP_plus_uconst = 0x23,
    OP_shl = 0x24,
    OP_shr = 0x25,
    OP_shra = 0x26,
    OP_xor = 0x27,
    OP_eq = 0x29,
    OP_ge = 0x2a,
    OP_gt = 0x2b,
    OP_le = 0x2c,
    OP_lt = 0x2d,
    OP_ne = 0x2e,
    OP_lit0 = 0x30,
    OP_lit31 = 0x4f,
    OP_breg0 = 0x70,
    OP_breg16 = 0x80,
    OP_nop = 0x96,
};

/* A binary operation on constants (false: not one we know). */
static bool binary_op(uint8_t op, uint64_t x, uint64_t y, uint64_t *v)
{
    int64_t sx = (int64_t)x, sy = (int64_t)y;
    switch (op) {
    case OP_and:
        *v = x & y;
        break;
    case OP_or:
        *v = x | y;
        break;
    case OP_xor:
        *v = x ^ y;
        break;
    case OP_mul:
        *v = x * y;
        break;
    case OP_shl:
        *v = y < 64 ? x << y : 0;
        break;
    case OP_shr:
        *v = y < 64 ? x >> y : 0;
        break;
    case OP_shra:
        *v = (uint64_t)(sx >> (y < 64 ? y : 63));
        break;
    case OP_eq:
        *v = sx == sy;
        break;
    case OP_ge:
        *v = sx >= sy;
        break;
    case OP_gt:
        *v = sx > sy;
        break;
    case OP_le:
        *v = sx <= sy;
        break;
    case OP_lt:
        *v = sx < sy;
        break;
    case OP_ne:
        *v = sx != sy;
        break;
    default:
        return false; /* branches, calls, pieces... */
    }
    return true;
}

/* Evaluates `len` bytes at `p`, `push` on the stack first if not NULL;
 * rip is `pc`.  The result is the top of the stack; *deref when the last
 * operation read memory at that address (allowed only as the last one). */
static bool eval_expr(const uint8_t *p, uint64_t len, const struct sym *push, uintptr_t pc,
                      struct sym *out, bool *deref)
{
    struct sym st[EXPR_STACK];
    unsigned sp = 0;
    struct cursor c = {p, p + len, 0, 0, true};
    *deref = false;
    if (push)
        st[sp++] = *push;
    while (c.p < c.end && c.ok) {
        if (*deref)
            return false;
        uint8_t op = cur_u8(&c);
        struct sym v = {SYM_CONST, 0};
        if (op >= OP_lit0 && op <= OP_lit31) {
            v.off = op - OP_lit0;
        } else if (op >= OP_breg0 && op <= OP_breg16) {
            v.off = (uint64_t)cur_sleb(&c);
            if (op - OP_breg0 == DW_RIP)
                v.off += pc; /* known: the rule is made for this pc */
            else
                v.base = (uint8_t)(op - OP_breg0);
        } else {
            switch (op) {
            case OP_const1u:
                v.off = cur_fixed(&c, 1);
                break;
            case OP_const1s:
                v.off = (uint64_t)(int8_t)cur_fixed(&c, 1);
                break;
            case OP_const2u:
                v.off = cur_fixed(&c, 2);
                break;
            case OP_const2s:
                v.off = (uint64_t)(int16_t)cur_fixed(&c, 2);
                break;
            case OP_const4u:
                v.off = cur_fixed(&c, 4);
                break;
            case OP_const4s:
                v.off = (uint64_t)(int32_t)cur_fixed(&c, 4);
                break;
            case OP_const8u:
            case OP_const8s:
                v.off = cur_fixed(&c, 8);
                break;
            case OP_constu:
                v.off = cur_uleb(&c);
                break;
            case OP_consts:
                v.off = (uint64_t)cur_sleb(&c);
                break;
            case OP_nop:
                continue;
            case OP_dup:
            case OP_over:
                if (sp < (op == OP_dup ? 1u : 2u))
                    return false;
                v = st[sp - (op == OP_dup ? 1 : 2)];
                break;
            case OP_drop:
                if (sp < 1)
                    return false;
                sp--;
                continue;
            case OP_swap:
                if (sp < 2)
                    return false;
                v = st[sp - 1], st[sp - 1] = st[sp - 2], st[sp - 2] = v;
                continue;
            case OP_deref:
                if (sp < 1 || st[sp - 1].base == SYM_CONST)
                    return false;
                *deref = true;
                continue;
            case OP_plus_uconst:
                if (sp < 1)
                    return false;
                st[sp - 1].off += cur_uleb(&c);
                continue;
            case OP_neg:
            case OP_not:
                if (sp < 1 || st[sp - 1].base != SYM_CONST)
                    return false;
                st[sp - 1].off = op == OP_neg ? 0 - st[sp - 1].off : ~st[sp - 1].off;
                continue;
            default: { /* binary operations */
                if (sp < 2)
                    return false;
                struct sym a = st[sp - 2], b = st[sp - 1];
                if (op == OP_plus) { /* one side may be a register */
                    if (a.base != SYM_CONST && b.base != SYM_CONST)
                        return false;
                    v.base = a.base == SYM_CONST ? b.base : a.base;
                    v.off = a.off + b.off;
                } else if (op == OP_minus) { /* reg - const, or reg - same reg */
                    if (b.base != SYM_CONST && b.base != a.base)
                        return false;
                    v.base = b.base == SYM_CONST ? a.base : SYM_CONST;
                    v.off = a.off - b.off;
                } else if (a.base != SYM_CONST || b.base != SYM_CONST ||
                           !binary_op(op, a.off, b.off, &v.off)) {
                    return false;
                }
                sp -= 2;
                break;
            }
            }
        }
        if (sp == EXPR_STACK)
            return false;
        st[sp++] = v;
    }
    if (!c.ok || sp == 0)
        return false;
    *out = st[sp - 1];
    return true;
}

/* ==== From a row to a rule ================================================ */

static bool fits32(int64_t v)
{
    return v >= INT32_MIN && v <= INT32_MAX;
}

/* Where a saved register is, from its rule: base and offset.  `pc` is
 * the frame's rip for expressions. */
static bool saved_at(const struct reg_rule *r, uintptr_t pc, uint8_t *base, int32_t *off)
{
    struct sym s;
    bool deref;
    const struct sym cfa = {LOC_CFA, 0};
    switch (r->how) {
    case R_OFFSET:
        s = (struct sym){LOC_CFA, (uint64_t)r->off};
        break;
    case R_EXPR: /* the CFA is pushed first */
        if (!eval_expr(r->expr, r->len, &cfa, pc, &s, &deref) || deref || s.base == SYM_CONST ||
            s.base == DW_RIP)
            return false;
        break;
    default:
        return false; /* in another register, a computed value... */
    }
    if (!fits32((int64_t)s.off))
        return false;
    *base = s.base;
    *off = (int32_t)s.off;
    return true;
}

/* Fills *rule from the row; RULE_STOP when we cannot follow it. */
static void row_to_rule(const struct row *row, const struct cie *cie, uintptr_t pc,
                        struct unwind_rule *rule)
{
    memset(rule, 0, sizeof(*rule));
    rule->flags = cie->signal ? RULE_SIGNAL : 0;
    /* The CFA. */
    if (row->cfa.how == R_OFFSET) {
        if (row->cfa.reg >= DW_RIP || !fits32(row->cfa.off))
            goto stop;
        rule->cfa_reg = row->cfa.reg;
        rule->cfa_off = (int32_t)row->cfa.off;
    } else if (row->cfa.how == R_EXPR) {
        struct sym s;
        bool deref;
        if (!eval_expr(row->cfa.expr, row->cfa.len, NULL, pc, &s, &deref) || s.base >= DW_RIP ||
            !fits32((int64_t)s.off))
            goto stop;
        rule->cfa_reg = s.base;
        rule->cfa_off = (int32_t)s.off;
        if (deref)
            rule->flags |= RULE_CFA_DEREF;
    } else {
        goto stop;
    }
    /* The return address. */
    if (row->ra.how == R_UNDEF)
        rule->ra_base = LOC_UNDEF;
    else if (!saved_at(&row->ra, pc, &rule->ra_base, &rule->ra_off))
        goto stop;
    /* rbp. */
    if (row->rbp.how == R_SAME || row->rbp.how == R_UNSET)
        rule->rbp_base = LOC_SAME;
    else if (row->rbp.how == R_UNDEF)
        rule->rbp_base = LOC_UNDEF;
    else if (!saved_at(&row->rbp, pc, &rule->rbp_base, &rule->rbp_off))
        goto stop;
    if (rule->flags == 0 && (rule->cfa_reg == DW_RSP || rule->cfa_reg == DW_RBP) &&
        rule->ra_base == LOC_CFA && rule->ra_off == -8 &&
        (rule->rbp_base == LOC_SAME || rule->rbp_base == LOC_CFA)) {
        rule->flags = RULE_SIMPLE;
        if (rule->rbp_base == LOC_SAME)
            rule->rbp_off = -8;
    }
    rule->flags |= RULE_VALID;
    return;
stop:
    rule->flags |= RULE_STOP | RULE_VALID;
}

/* The slow path: the rule of `pc` from .eh_frame.  `exact`: pc is the
 * next instruction to run (an interrupted pc, or behind a signal frame);
 * otherwise it is a return address, and the call is at pc - 1.  False
 * when no loaded object holds the pc (nothing to cache). */
static __attribute__((noinline)) bool compute_rule(uintptr_t pc, bool exact,
                                                   struct unwind_rule *rule)
{
    uintptr_t at = exact ? pc : pc - 1;
    struct object o;
    if (!find_object(at, &o))
        return false;
    memset(rule, 0, sizeof(*rule));
    struct fde f;
    switch (find_fde(&o, at, &f)) {
    case FDE_FOUND:
        break;
    case FDE_GAP:
        rule->flags = RULE_STOP | RULE_VALID;
        return true;
    case FDE_NONE:
        rule->flags = RULE_NO_FDE | RULE_VALID;
        return true;
    }
    struct program pg = {.cie = &f.cie, .loc = f.pc_begin, .target = at};
    struct row initial = {.cfa = {.how = R_UNSET}, .rbp = {.how = R_SAME}, .ra = {.how = R_UNSET}};
    pg.initial = &initial;
    struct cursor c = {f.cie.insns, f.cie.end, o.lo, o.hi, true};
    if (!run_cfa(&pg, c, &initial) || pg.depth != 0) {
        rule->flags = RULE_STOP | RULE_VALID;
        return true;
    }
    struct row row = initial;
    pg.loc = f.pc_begin;
    c = (struct cursor){f.insns, f.end, o.lo, o.hi, true};
    if (!run_cfa(&pg, c, &row)) {
        rule->flags = RULE_STOP | RULE_VALID;
        return true;
    }
    unwind_assert(pg.loc <= at);
    row_to_rule(&row, &f.cie, pc, rule);
    return true;
}

/* ==== The rule cache ====================================================== */

/*
 * Rules by pc: a fixed table of buckets of two slots (one cache line),
 * statically allocated, lock-free for readers and writers, safe in signal
 * handlers.
 *
 * Each slot is a sequence lock whose word also holds the slot's code
 * generation: tag = gen << 32 | seq, seq odd while a writer fills the
 * slot.  A writer takes the slot by making seq odd with a compare-and-swap
 * (a writer that loses, or finds it odd, just does not cache: nothing ever
 * waits, so a signal handler that interrupts a writer of the same slot
 * cannot deadlock); a reader copies the slot and keeps the copy only if
 * the tag was even, of the current generation, and unchanged around it.
 *
 * Invariants: key is (pc << 1 | exact) of a pc that _dl_find_object knew
 * when the rule was made, or 0 for an empty slot; the rule is the one
 * compute_rule() gives for that key; gen is code_gen's value then.  A rule
 * counts only while its gen is current: dlclose may unmap code, and other
 * code may later be mapped at the same address.
 */
#ifndef CACHE_BUCKET_BITS
#define CACHE_BUCKET_BITS 12 /* 4096 buckets, 8192 rules, 256 KiB of bss (tests: fewer) */
#endif
#define CACHE_BUCKETS (1u << CACHE_BUCKET_BITS)

struct rule_slot {
    _Atomic uint64_t tag;
    _Atomic uint64_t key;
    _Atomic uint64_t rule[2];
};
_Static_assert(sizeof(struct rule_slot) == 32, "two slots per cache line");
_Static_assert(sizeof(struct unwind_rule) == 2 * sizeof(uint64_t), "a rule is two words");

static struct rule_slot rule_cache[CACHE_BUCKETS][2] __attribute__((aligned(64)));
static _Atomic uint32_t code_gen = 1; /* slots start at gen 0: never current */
static __thread unsigned cache_victim;

static inline struct rule_slot *cache_bucket(uint64_t key)
{
    return rule_cache[(key * 0x9e3779b97f4a7c15ull) >> (64 - CACHE_BUCKET_BITS)];
}

/* A rule as the cache holds it; w1 == 0: none. */
struct rule_words {
    uint64_t w0, w1;
};

static inline struct rule_words slot_get(struct rule_slot *s, uint64_t key, uint64_t gen_tag)
{
    struct rule_words none = {0, 0};
    uint64_t tag = atomic_load_explicit(&s->tag, memory_order_acquire);
    if (atomic_load_explicit(&s->key, memory_order_relaxed) != key)
        return none;
    struct rule_words r = {atomic_load_explicit(&s->rule[0], memory_order_relaxed),
                           atomic_load_explicit(&s->rule[1], memory_order_relaxed)};
    atomic_thread_fence(memory_order_acquire);
    /* Current generation, even seq, unchanged. */
    if (((tag ^ gen_tag) & 0xffffffff00000001ull) ||
        atomic_load_explicit(&s->tag, memory_order_relaxed) != tag)
        return none;
    return r;
}

/* The rule of `key`, if cached. */
static inline struct rule_words cache_get(uint64_t key, uint64_t gen_tag)
{
    struct rule_slot *b = cache_bucket(key);
    struct rule_words r = slot_get(&b[0], key, gen_tag);
    return r.w1 ? r : slot_get(&b[1], key, gen_tag);
}

static void cache_put(uint64_t key, uint64_t gen_tag, struct rule_words rule)
{
    struct rule_slot *b = cache_bucket(key);
    /* An empty or outdated slot if there is one, else each in turn. */
    unsigned i = 0;
    while (i < 2 && atomic_load_explicit(&b[i].key, memory_order_relaxed) &&
           (atomic_load_explicit(&b[i].tag, memory_order_relaxed) >> 32) == gen_tag >> 32)
        i++;
    if (i == 2)
        i = cache_victim++ & 1;
    struct rule_slot *s = &b[i];
    uint64_t tag = atomic_load_explicit(&s->tag, memory_order_relaxed);
    if ((tag & 1) || !atomic_compare_exchange_strong_explicit(
                         &s->tag, &tag, tag + 1, memory_order_acquire, memory_order_relaxed))
        return;
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&s->key, key, memory_order_relaxed);
    atomic_store_explicit(&s->rule[0], rule.w0, memory_order_relaxed);
    atomic_store_explicit(&s->rule[1], rule.w1, memory_order_relaxed);
    unwind_assert(atomic_load_explicit(&s->tag, memory_order_relaxed) == tag + 1);
    atomic_store_explicit(&s->tag, gen_tag | (uint32_t)(tag + 2), memory_order_release);
}

/* A cache miss: the rule of `key` computed, and cached.  None for a pc
 * in no object (not cached: code may be loaded there later). */
static __attribute__((noinline)) struct rule_words rule_miss(uint64_t key, uint64_t gen_tag)
{
    uintptr_t pc = (uintptr_t)(key >> 1);
    struct unwind_rule rule;
    struct rule_words words = {0, 0};
    if (!pc || !compute_rule(pc, key & 1, &rule))
        return words;
    memcpy(&words, &rule, sizeof(rule));
    unwind_assert(words.w1);
    cache_put(key, gen_tag, words);
    return words;
}

/* The rule of a pc, cached or computed. */
static inline struct rule_words rule_for(uintptr_t pc, bool exact, uint64_t gen_tag)
{
    uint64_t key = (uint64_t)pc << 1 | exact;
    struct rule_words r = cache_get(key, gen_tag);
    return likely(r.w1) ? r : rule_miss(key, gen_tag);
}

void unwind_forget_code(void)
{
    atomic_fetch_add_explicit(&code_gen, 1, memory_order_acq_rel);
}

/* ==== Remembered walks ====================================================
 *
 * A walk is a function of its start (pc, sp, and rbp if a rule computes a
 * CFA from it), of the rules of the pcs it meets (fixed within one
 * code_gen) and of the words it reads from the stack.  Allocations made
 * again from the same call chain read the same words at the same
 * addresses, so each thread remembers its last walks (made by the fast
 * path alone, on its own proven stack) by what they read: a walk that
 * would repeat one of them is recognised by reading those words again, a
 * load and a compare a frame instead of a rule lookup and a step.
 *
 * What a walk reads: the return address of every frame, and a saved rbp
 * only if a later rule computes its CFA from that rbp (a saved rbp that
 * is never used as a frame pointer, say a loop counter of the caller,
 * changes nothing the walk finds: it is not compared).  Every address was
 * proven readable when it was read, and the thread's proven stack only
 * grows, so a check reads only readable memory.
 *
 * A signal handler that captures while its thread is inside
 * unwind_capture_memo() or before unwind_remember() does not use the
 * memory (thread_memo.busy): it walks.
 */
#define MEMO_READS 24 /* words a remembered walk compares, at most */

/* What the walk of a capture read, kept while it runs. */
struct memo_log {
    bool ok;          /* the walk can be remembered */
    bool bp_used;     /* the start's rbp made a CFA */
    unsigned bp_from; /* where the current rbp comes from: */
#define BP_START 0    /*   the start, */
#define BP_PENDING 1  /*   a read not logged yet (pend_*), */
#define BP_LOGGED 2   /*   a read logged */
    uintptr_t pend_at, pend_val;
    unsigned nreads;
    uintptr_t at[MEMO_READS], val[MEMO_READS];
};

static inline void memo_log_read(struct memo_log *log, uintptr_t at, uintptr_t val)
{
    if (log->nreads == MEMO_READS) {
        log->ok = false;
        return;
    }
    log->at[log->nreads] = at;
    log->val[log->nreads++] = val;
}

/* One step of the fast path: CFA from rbp or not, the return address
 * read at ra_at, rbp read at bp_at when saved. */
static inline void memo_log_step(struct memo_log *log, bool cfa_from_bp, uintptr_t ra_at,
                                 uintptr_t ra, bool bp_saved, uintptr_t bp_at, uintptr_t saved_bp)
{
    if (cfa_from_bp) {
        if (log->bp_from == BP_START)
            log->bp_used = true;
        else if (log->bp_from == BP_PENDING)
            memo_log_read(log, log->pend_at, log->pend_val);
        log->bp_from = log->bp_from == BP_START ? BP_START : BP_LOGGED;
    }
    memo_log_read(log, ra_at, ra);
    if (bp_saved) {
        log->bp_from = BP_PENDING;
        log->pend_at = bp_at;
        log->pend_val = saved_bp;
    }
}

/* ==== The walk ============================================================ */

/* A frame: its pc and the registers we know in it. */
struct frame {
    uintptr_t pc, sp;
    uintptr_t bp;          /* 0: unknown (a frame left rbp undefined) */
    bool exact;            /* pc is the next instruction to run, not a return address */
    const uintptr_t *regs; /* every register (DWARF order): a context's first frame */
};

/* The value of a register in frame f.  An rbp of 0 counts as unknown:
 * any address made from it is unreadable anyway. */
static inline bool reg_value(const struct frame *f, unsigned reg, uintptr_t *v)
{
    if (reg == DW_RSP)
        *v = f->sp;
    else if (reg == DW_RBP && f->bp)
        *v = f->bp;
    else if (f->regs && reg < DW_RIP)
        *v = f->regs[reg];
    else
        return false;
    return true;
}

/* Reads a saved register at base + off. */
static inline bool saved_read(const struct frame *f, struct window *w, uint8_t base, int32_t off,
                              uintptr_t cfa, uintptr_t *v)
{
    uintptr_t b = cfa;
    if (base != LOC_CFA && !reg_value(f, base, &b))
        return false;
    return win_read(w, b + (intptr_t)off, v);
}

/* Moves to the caller of frame *f by any rule, into *f: the general case
 * of walk()'s fast path.  False at the end of the stack or when the walk
 * cannot be trusted further. */
static __attribute__((noinline)) bool step(struct frame *f, struct rule_words words,
                                           struct window *w)
{
    struct unwind_rule rule, *r = &rule;
    memcpy(&rule, &words, sizeof(rule));
    uintptr_t cfa, ra, bp = f->bp;
    if (!(r->flags & RULE_VALID) || (r->flags & (RULE_STOP | RULE_NO_FDE)) ||
        r->ra_base == LOC_UNDEF || !reg_value(f, r->cfa_reg, &cfa))
        return false;
    cfa += (intptr_t)r->cfa_off;
    if ((r->flags & RULE_CFA_DEREF) && !win_read(w, cfa, &cfa))
        return false;
    if (!saved_read(f, w, r->ra_base, r->ra_off, cfa, &ra) || !ra)
        return false;
    if (r->rbp_base == LOC_UNDEF)
        bp = 0;
    else if (r->rbp_base != LOC_SAME && !saved_read(f, w, r->rbp_base, r->rbp_off, cfa, &bp))
        return false;
    if (r->flags & RULE_SIGNAL) {
        /* The interrupted code's stack: maybe another one (sigaltstack). */
        unsigned signals = w->signals + 1;
        if (signals > MAX_SIGNAL_FRAMES || !stack_window(cfa, w))
            return false;
        w->signals = signals;
    } else if (cfa <= f->sp || (cfa > w->hi && !w->probes)) {
        return false; /* the CFA must grow, and stay on the stack */
    }
    f->pc = ra;
    f->sp = cfa;
    f->bp = bp;
    f->exact = r->flags & RULE_SIGNAL;
    f->regs = NULL;
    return true;
}

/* Walks from frame f: reports its pc and its callers', the first `skip`
 * left out.  The loop ends: each step either fails or moves sp up within a
 * bounded window (or changes stacks at one of MAX_SIGNAL_FRAMES signal
 * frames), and at most skip + max pcs are looked at.
 *
 * Written for the fast path, a cached RULE_SIMPLE rule: pc, sp, rbp and
 * the window's bounds stay in registers, the rule is decoded from its two
 * words with shifts, rbp is loaded without a branch (from the return
 * address's slot when it is not saved), and both reads are checked against
 * the window with one comparison each.  Anything else goes to step(). */
static inline __attribute__((always_inline)) unsigned walk(uintptr_t pc, uintptr_t sp, uintptr_t bp,
                                                           bool exact, struct window *w,
                                                           uintptr_t *frames, unsigned max,
                                                           unsigned skip, struct memo_log *log)
{
    const uint64_t gen_tag = (uint64_t)atomic_load_explicit(&code_gen, memory_order_acquire) << 32;
    uintptr_t lo = w->lo, hi = w->hi;
    long i = -(long)skip; /* where the next pc goes in frames[] */
    for (;;) {
        struct rule_words r = rule_for(pc, exact, gen_tag);
        uint8_t flags = (uint8_t)(r.w1 >> 56), cfa_reg = (uint8_t)(r.w1 >> 32);
        bool simple = flags == (RULE_SIMPLE | RULE_VALID);
        if (unlikely(!simple) && (!r.w1 || (flags & RULE_NO_FDE))) {
            if (log && !r.w1)
                log->ok = false; /* no rule: not cached, code may come later */
            break;
        }
        if (i >= 0)
            frames[i] = pc;
        if (++i == (long)max)
            break;
        if (likely(simple)) {
            bool bp_saved = (uint8_t)(r.w1 >> 48) == LOC_CFA;
            /* An unknown rbp (0) makes an address below the window. */
            uintptr_t cfa = (cfa_reg == DW_RSP ? sp : bp) + (intptr_t)(int32_t)r.w0;
            uintptr_t ra_at = cfa - sizeof(uintptr_t);
            uintptr_t bp_at = cfa + (intptr_t)(int32_t)r.w1;
            uintptr_t span = hi - lo - sizeof(uintptr_t);
            /* ra_at inside the window also keeps the CFA at most hi. */
            if (likely(ra_at - lo <= span && bp_at - lo <= span && cfa > sp)) {
                uintptr_t ra, saved_bp;
                memcpy(&ra, (const void *)ra_at, sizeof(ra));
                memcpy(&saved_bp, (const void *)bp_at, sizeof(saved_bp));
                if (log)
                    memo_log_step(log, cfa_reg == DW_RBP, ra_at, ra, bp_saved, bp_at, saved_bp);
                bp = bp_saved ? saved_bp : bp;
                if (!ra)
                    break;
                pc = ra;
                sp = cfa;
                exact = false;
                continue;
            }
        }
        if ((uint8_t)(r.w1 >> 40) == LOC_UNDEF)
            break; /* the outermost frame (ra_base, read without step()) */
        /* Anything else: the general step. */
        if (log)
            log->ok = false;
        struct frame f = {pc, sp, bp, exact, NULL};
        if (!step(&f, r, w))
            break;
        pc = f.pc, sp = f.sp, bp = f.bp, exact = f.exact;
        lo = w->lo, hi = w->hi; /* a signal frame may change stacks */
    }
    unwind_assert(i <= (long)max);
    return i > 0 ? (unsigned)i : 0;
}

/* ==== Availability ======================================================== */

static _Atomic int available; /* 0: not checked yet, 1: yes, -1: no */

static bool check_available(void)
{
    find_object_fn =
        (int (*)(void *, struct dl_find_object *))dlsym(RTLD_DEFAULT, "_dl_find_object");
    if (!find_object_fn)
        return false;
    /* The probe must tell a readable page from an inaccessible one. */
    uintptr_t here = (uintptr_t)&here;
    if (!page_readable(here) || page_readable(0))
        return false;
    void *guard = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (guard == MAP_FAILED)
        return false;
    bool guard_unreadable = !page_readable((uintptr_t)guard);
    munmap(guard, PAGE);
    if (!guard_unreadable)
        return false;
    /* Our own code must be found and have usable CFI. */
    struct unwind_rule r;
    return compute_rule((uintptr_t)check_available, true, &r) && (r.flags & RULE_SIMPLE);
}

bool unwind_available(void)
{
    int a = atomic_load_explicit(&available, memory_order_relaxed);
    if (likely(a))
        return a > 0;
    int saved = errno;
    a = check_available() ? 1 : -1;
    errno = saved;
    atomic_store_explicit(&available, a, memory_order_relaxed);
    return a > 0;
}

/* ==== Entry points ======================================================== */

/* unwind_capture() from its caller's frame: the return address `pc`, the
 * caller's rsp and rbp.  Named for the assembly below, which jumps to it. */
static unsigned capture_from(uintptr_t *frames, unsigned max, unsigned skip, uintptr_t pc,
                             uintptr_t sp, uintptr_t bp) __asm__("unwind_capture_from");
static __attribute__((used, noipa)) unsigned capture_from(uintptr_t *frames, unsigned max,
                                                          unsigned skip, uintptr_t pc, uintptr_t sp,
                                                          uintptr_t bp)
{
    struct window w = {.signals = 0};
    if (!max || !unwind_available() || !stack_window(sp, &w))
        return 0;
    return walk(pc, sp, bp, false, &w, frames, max, skip, NULL);
}

/* ---- Remembered walks: the memory ---------------------------------------- */

/* A set is chosen by the stack pointer, and, once walks from one stack
 * depth were seen to collide (the call chains of one function's callees
 * often start at one depth: cfrac has 33 of its 70 there), also by the
 * word at a probe: where two of them parted.  In a set, each way has a
 * read that tells it from the others of its depth, compared first.
 * Chains that share the probe's word but part elsewhere share a set, so
 * sets are wide: with 16 sets of 4 ways, cfrac under FZPU missed 2.1 of
 * 5.7 million walks, nearly all of them with a way of the same depth and
 * function parting at the 2nd or 4th word read (user time 0.85-1.06 s at
 * scale 0.3).  4 sets of 16 (the same memory): 0.55-0.68 s, but 1.61 s in
 * one run of 8 (the sets are chosen by sp, so where a program's chains
 * fall changes with the stack's random placement).  8 sets of 16: 0.50-
 * 0.62 s in 14 runs out of 14, for twice the memory. */
#define MEMO_WAYS 16 /* walks remembered per set */
#define MEMO_SET_BITS 3
#define MEMO_SETS (1u << MEMO_SET_BITS)
#define MEMO_PROBES 16 /* stack depths with a probe */
/* A walk missed costs the look-up and the keeping on top of the walk: a
 * thread that misses more walks than it recognises, over its last few
 * dozen, walks without the memory for a while.  (Weighing a miss twice
 * turned it off too often: cfrac under FZPU at scale 0.05, 2.60e9
 * instructions against 2.40e9.) */
#define MEMO_CREDIT 32
#define MEMO_PLAIN 4096

/* A remembered walk.  Invariant: valid only when complete; every read
 * (sp + off[k]) lay in [lo, hi), the thread's proven stack then;
 * first < nreads unless nreads == 0. */
struct memo {
    uintptr_t sp, pc, bp, lo, hi; /* the start (bp compared when bp_used); the stack */
    uint32_t gen;                 /* code_gen when it was walked */
    uint8_t max, nreads, first;   /* first: the read compared first */
    bool valid, bp_used;
    uint64_t payload[2];
    uint32_t off[MEMO_READS]; /* where each word was read, from sp */
    uintptr_t val[MEMO_READS];
};

/* The remembered walks of a thread: about 46 KiB, mapped at its first
 * capture by a debugged cache (not in the thread's TLS: every thread of
 * every program would carry it, and glibc refuses threads whose stack
 * cannot hold the static TLS), given back when the thread exits. */
struct memo_store {
    struct {
        uintptr_t sp;
        uint32_t off; /* the probe: at sp + off */
    } probe[MEMO_PROBES];
    struct memo m[MEMO_SETS][MEMO_WAYS];
};

static __thread struct {
    bool busy;                /* in use by the code a signal handler may have interrupted */
    unsigned victim;          /* the next way replaced */
    struct memo *fresh;       /* the walk unwind_remember() completes; NULL: none */
    int credit;               /* walks recognised minus those missed, recently */
    unsigned plain;           /* captures left to walk without the memory */
    struct memo_store *store; /* NULL until the first remembered capture */
} thread_memo;

static pthread_key_t memo_key;
static pthread_once_t memo_once = PTHREAD_ONCE_INIT;
static bool memo_key_ok;

static void memo_store_free(void *p)
{
    if (p == thread_memo.store)
        thread_memo.store = NULL;
    munmap(p, sizeof(struct memo_store));
}

static void memo_key_init(void)
{
    memo_key_ok = pthread_key_create(&memo_key, memo_store_free) == 0;
}

/* The thread's store, mapped now if need be (thread_memo.busy held, so no
 * handler of a signal maps a second one); NULL if it cannot be. */
static __attribute__((noinline)) struct memo_store *memo_store_new(void)
{
    pthread_once(&memo_once, memo_key_init);
    if (!memo_key_ok)
        return NULL;
    void *p = mmap(NULL, sizeof(struct memo_store), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (pthread_setspecific(memo_key, p) != 0) {
        munmap(p, sizeof(struct memo_store));
        return NULL;
    }
    thread_memo.store = p;
    return p;
}

/* The set of the walks from sp (on the thread's proven stack) chosen by
 * sp alone, or with `probed` by sp and the word at its probe: NULL when
 * sp has none.  A walk is kept in the probed set when it read the probe's
 * word, else in the other. */
static inline struct memo *memo_set(uintptr_t sp, bool probed)
{
    uint64_t key = sp;
    if (probed) {
        unsigned pi = (unsigned)(sp >> 4) % MEMO_PROBES;
        uintptr_t at = sp + thread_memo.store->probe[pi].off, v;
        if (thread_memo.store->probe[pi].sp != sp ||
            at - sp > thread_stack.hi - sizeof(uintptr_t) - sp) /* sp <= at <= hi - 8 */
            return NULL;
        memcpy(&v, (const void *)at, sizeof(v));
        key ^= v * 0xff51afd7ed558ccdull;
    }
    return thread_memo.store->m[(key * 0x9e3779b97f4a7c15ull) >> (64 - MEMO_SET_BITS)];
}

/* Would the walk from (pc, sp, bp) on stack [.., hi) repeat m? */
static inline bool memo_repeats(const struct memo *m, uintptr_t pc, uintptr_t sp, uintptr_t bp,
                                uintptr_t hi, uint32_t gen, unsigned max)
{
    if (!m->valid || m->sp != sp || m->pc != pc || m->hi != hi || m->gen != gen || m->max != max ||
        (m->bp_used && m->bp != bp))
        return false;
    unwind_assert(m->lo >= thread_stack.lo); /* what was proven stays so */
    if (m->nreads) {
        uintptr_t v;
        memcpy(&v, (const void *)(sp + m->off[m->first]), sizeof(v));
        if (v != m->val[m->first])
            return false;
    }
    for (unsigned k = 0; k < m->nreads; k++) {
        uintptr_t v;
        memcpy(&v, (const void *)(sp + m->off[k]), sizeof(v));
        if (v != m->val[k])
            return false;
    }
    return true;
}

/* Keeps the walk just logged, incomplete until unwind_remember(). */
/* Where a new walk parts from the remembered walks of set (NULL: none)
 * from its depth: the number of reads it shares with the most like it. */
static unsigned memo_parts(const struct memo *set, const struct memo_log *log, uintptr_t pc,
                           uintptr_t sp)
{
    unsigned first = 0;
    for (unsigned i = 0; set && i < MEMO_WAYS; i++) {
        const struct memo *e = &set[i];
        if (!e->valid || e->sp != sp || e->pc != pc)
            continue;
        unsigned k = 0;
        while (k < e->nreads && k < log->nreads && e->off[k] == log->at[k] - sp &&
               e->val[k] == log->val[k])
            k++;
        first = k > first ? k : first;
    }
    return first;
}

static void memo_keep(const struct memo_log *log, uintptr_t pc, uintptr_t sp, uintptr_t bp,
                      const struct window *w, uint32_t gen, unsigned max)
{
    for (unsigned k = 0; k < log->nreads; k++) {
        unwind_assert(log->at[k] >= w->lo && log->at[k] <= w->hi - sizeof(uintptr_t));
        if (log->at[k] < sp || log->at[k] - sp > UINT32_MAX)
            return; /* not kept: fresh stays NULL */
    }
    /* The read compared first: where this walk parts from the walk of its
     * depth most like it. */
    unsigned first = memo_parts(memo_set(sp, false), log, pc, sp);
    unsigned probed_first = memo_parts(memo_set(sp, true), log, pc, sp);
    first = probed_first > first ? probed_first : first;
    unsigned pi = (unsigned)(sp >> 4) % MEMO_PROBES;
    if (first && first < log->nreads && thread_memo.store->probe[pi].sp != sp) {
        /* Walks from sp collide: probe where they part, from now on. */
        thread_memo.store->probe[pi].sp = sp;
        thread_memo.store->probe[pi].off = (uint32_t)(log->at[first] - sp);
    }
    bool read_probe = false;
    for (unsigned k = 0; k < log->nreads && thread_memo.store->probe[pi].sp == sp; k++)
        read_probe |= log->at[k] - sp == thread_memo.store->probe[pi].off;
    struct memo *set = memo_set(sp, read_probe);
    /* The way: an empty one, else each in turn. */
    unsigned way = MEMO_WAYS;
    for (unsigned i = 0; i < MEMO_WAYS && way == MEMO_WAYS; i++)
        if (!set[i].valid)
            way = i;
    if (way == MEMO_WAYS)
        way = thread_memo.victim++ % MEMO_WAYS;
    struct memo *m = &set[way];
    m->valid = false;
    atomic_signal_fence(memory_order_seq_cst);
    for (unsigned k = 0; k < log->nreads; k++) {
        m->off[k] = (uint32_t)(log->at[k] - sp);
        m->val[k] = log->val[k];
    }
    m->pc = pc, m->sp = sp, m->bp = bp, m->lo = w->lo, m->hi = w->hi;
    m->gen = gen;
    m->max = (uint8_t)max;
    m->nreads = (uint8_t)log->nreads;
    m->first = (uint8_t)(first < log->nreads ? first : log->nreads ? log->nreads - 1 : 0);
    m->bp_used = log->bp_used;
    thread_memo.fresh = m;
}

/* A walk that repeats none remembered: made, and kept if it can be. */
static __attribute__((noinline)) bool capture_memo_walk(struct unwind_memo_req *req, uintptr_t pc,
                                                        uintptr_t sp, uintptr_t bp, uint32_t gen)
{
    struct window w = {.lo = thread_stack.lo, .hi = thread_stack.hi};
    req->owns_memo = true;
    struct memo_log log = {.ok = true, .bp_from = BP_START};
    req->n = walk(pc, sp, bp, false, &w, req->frames, req->max, 0, &log);
    thread_memo.fresh = NULL;
    thread_memo.credit -= 1;
    if (thread_memo.credit < -MEMO_CREDIT) {
        thread_memo.credit = 0;
        thread_memo.plain = MEMO_PLAIN;
    }
    if (log.ok)
        memo_keep(&log, pc, sp, bp, &w, gen, req->max);
    return false;
}

/* Anything but the thread's own proven stack, a signal handler that
 * interrupted a capture, or a thread whose walks rarely repeat lately:
 * walked, not remembered. */
static __attribute__((noinline)) bool capture_unremembered(struct unwind_memo_req *req,
                                                           uintptr_t pc, uintptr_t sp, uintptr_t bp)
{
    if (thread_memo.plain && !thread_memo.busy)
        thread_memo.plain--;
    struct window w = {.signals = 0};
    req->n = 0;
    req->owns_memo = false;
    if (!req->max || !unwind_available() || !stack_window(sp, &w))
        return false;
    req->n = walk(pc, sp, bp, false, &w, req->frames, req->max, 0, NULL);
    return false;
}

/* Written for a walk remembered: no frame of its own beyond a few
 * registers; anything else leaves through one call. */
static bool capture_memo_from(struct unwind_memo_req *req, uintptr_t pc, uintptr_t sp,
                              uintptr_t bp) __asm__("unwind_capture_memo_from");
static __attribute__((used, noipa)) bool capture_memo_from(struct unwind_memo_req *req,
                                                           uintptr_t pc, uintptr_t sp, uintptr_t bp)
{
    /* On the thread's proven stack (so unwind_available() held once). */
    if (unlikely(!(sp >= thread_stack.lo && sp < thread_stack.hi) || thread_memo.busy ||
                 !req->max || req->max > UNWIND_MEMO_MAX || thread_memo.plain))
        return capture_unremembered(req, pc, sp, bp);
    thread_memo.busy = true;
    atomic_signal_fence(memory_order_seq_cst);
    if (unlikely(!thread_memo.store) && !memo_store_new()) {
        atomic_signal_fence(memory_order_seq_cst);
        thread_memo.busy = false;
        thread_memo.plain = MEMO_PLAIN; /* try again much later */
        return capture_unremembered(req, pc, sp, bp);
    }
    uint32_t gen = atomic_load_explicit(&code_gen, memory_order_acquire);
    for (int probed = 1; probed >= 0; probed--) {
        struct memo *set = memo_set(sp, probed);
        for (unsigned i = 0; set && i < MEMO_WAYS; i++) {
            if (memo_repeats(&set[i], pc, sp, bp, thread_stack.hi, gen, req->max)) {
                memcpy(req->payload, set[i].payload, sizeof(req->payload));
                thread_memo.credit += thread_memo.credit < MEMO_CREDIT;
                req->owns_memo = false;
                atomic_signal_fence(memory_order_seq_cst);
                thread_memo.busy = false;
                return true;
            }
        }
    }
    return capture_memo_walk(req, pc, sp, bp, gen);
}

void unwind_remember(struct unwind_memo_req *req)
{
    if (!req->owns_memo)
        return;
    unwind_assert(thread_memo.busy);
    struct memo *m = thread_memo.fresh;
    if (m) {
        memcpy(m->payload, req->payload, sizeof(m->payload));
        atomic_signal_fence(memory_order_seq_cst);
        m->valid = true;
        thread_memo.fresh = NULL;
    }
    atomic_signal_fence(memory_order_seq_cst);
    thread_memo.busy = false;
    req->owns_memo = false;
}

/* unwind_capture() is four instructions of assembly: at its entry the
 * caller's frame is known without unwinding anything (the return address
 * at rsp, the caller's rsp above it, rbp untouched), and it leaves no frame
 * of its own (a tail jump).  unwind_capture_memo() is the same in front of
 * unwind_capture_memo_from, whose (pc, sp, bp) are its second to fourth arguments. */
#ifdef __CET__
#define TRAMPOLINE_ENDBR "endbr64\n"
#else
#define TRAMPOLINE_ENDBR ""
#endif
#define CAPTURE_TRAMPOLINE(name, to, pc, sp, bp)                                                   \
    __asm__(".text\n"                                                                              \
            ".globl " name "\n"                                                                    \
            ".hidden " name "\n"                                                                   \
            ".type " name ", @function\n"                                                          \
            ".p2align 4\n" name ":\n"                                                              \
            ".cfi_startproc\n" TRAMPOLINE_ENDBR "mov (%rsp), " pc                                  \
            "\n"                    /* pc: the return address */                                   \
            "lea 8(%rsp), " sp "\n" /* sp: the caller's */                                         \
            "mov %rbp, " bp "\n"    /* bp: the caller's */                                         \
            "jmp " to "\n"                                                                         \
            ".cfi_endproc\n"                                                                       \
            ".size " name ", .-" name "\n")

CAPTURE_TRAMPOLINE("unwind_capture_memo", "unwind_capture_memo_from", "%rsi", "%rdx", "%rcx");
CAPTURE_TRAMPOLINE("unwind_capture", "unwind_capture_from", "%rcx", "%r8", "%r9");

unsigned unwind_from_context(const void *ucontext, uintptr_t *frames, unsigned max)
{
    if (!max)
        return 0;
    const greg_t *g = ((const ucontext_t *)ucontext)->uc_mcontext.gregs;
    static const uint8_t greg_of[DW_RIP] = {REG_RAX, REG_RDX, REG_RCX, REG_RBX, REG_RSI, REG_RDI,
                                            REG_RBP, REG_RSP, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                            REG_R12, REG_R13, REG_R14, REG_R15};
    uintptr_t regs[DW_RIP];
    for (unsigned i = 0; i < DW_RIP; i++)
        regs[i] = (uintptr_t)g[greg_of[i]];
    struct frame f = {.pc = (uintptr_t)g[REG_RIP],
                      .sp = regs[DW_RSP],
                      .bp = regs[DW_RBP],
                      .exact = true,
                      .regs = regs};
    frames[0] = f.pc; /* a fact, whatever follows */
    if (max == 1 || !unwind_available())
        return 1;
    /* A stack overflow faults with sp in the guard page: the frame's own
     * slots (return address, saved rbp) are above it. */
    struct window w = {.signals = 0};
    if (!stack_window(f.sp, &w) && !stack_window(page_down(f.sp) + PAGE, &w))
        return 1;
    /* The first step may use any register (a prologue's, the PLT's CFA). */
    uint64_t gen_tag = (uint64_t)atomic_load_explicit(&code_gen, memory_order_acquire) << 32;
    if (!step(&f, rule_for(f.pc, true, gen_tag), &w))
        return 1;
    return 1 + walk(f.pc, f.sp, f.bp, f.exact, &w, frames + 1, max - 1, 0, NULL);
}

#else /* !UNWIND_SUPPORTED */

bool unwind_available(void)
{
    return false;
}

unsigned unwind_capture(uintptr_t *frames, unsigned max, unsigned skip)
{
    (void)frames, (void)max, (void)skip;
    return 0;
}

unsigned unwind_from_context(const void *ucontext, uintptr_t *frames, unsigned max)
{
    (void)ucontext, (void)frames, (void)max;
    return 0;
}

void unwind_forget_code(void) {}

bool unwind_capture_memo(struct unwind_memo_req *req)
{
    req->n = 0;
    req->owns_memo = false;
    return false;
}

void unwind_remember(struct unwind_memo_req *req)
{
    (void)req;
}

#endif

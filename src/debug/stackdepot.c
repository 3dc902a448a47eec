/*
 * Stack capture and the stack depot.
 *
 * Capture uses our own unwinder (base/unwind.h: DWARF call frame
 * information, rules cached per pc, a few ns a frame once warm; it
 * allocates nothing, opens no file descriptor and is safe in signal
 * handlers).  Where it is unavailable (glibc older than 2.35), glibc's
 * backtrace() is used (~2 us a stack, and its first call loads libgcc_s),
 * and the user is told once.
 *
 * The depot is a hash table of singly linked records carved from a bounded
 * arena: lookups and inserts are lock-free (insert = compare-and-swap on the
 * bucket head); growth of the arena takes a lock.
 */
#include <dlfcn.h>
#include <elf.h>
#include <execinfo.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "base/lock.h"
#include "base/unwind.h"
#include "debug/stackdepot.h"
#include "base/options.h"

#define DEPOT_BUCKETS (1u << 16)
#define DEPOT_ARENA ((size_t)64 << 20) /* bound on the memory stacks may take */
#define DEPOT_CHUNK ((size_t)1 << 20)

static _Atomic uint32_t depot_buckets[DEPOT_BUCKETS];
char *depot_arena;             /* reserved once, committed by chunks */
_Atomic size_t depot_used = 8; /* offset 0 is handle 0: "no stack" */
static pthread_mutex_t depot_lock = PTHREAD_MUTEX_INITIALIZER; /* lock order 8 (base/lock.h) */
/* Stacks are captured only once stack_unwinder_init() ran (allocations
 * made before the library constructor get none).  With glibc's
 * backtrace(), never from inside a capture: it allocates on first use. */
static _Atomic int unwinder_ready;
static bool use_unwinder; /* ours; else glibc's backtrace() */
static __thread int in_capture;
static uintptr_t own_text_start, own_text_end;

/* slabdbg's own executable segment, found from its ELF program headers. */
static void find_own_text(void)
{
    Dl_info info;
    if (!dladdr((void *)find_own_text, &info) || !info.dli_fbase)
        return;
    const ElfW(Ehdr) *eh = info.dli_fbase;
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)((const char *)eh + eh->e_phoff);
    /* dli_fbase is the load address; p_vaddr of a shared object is relative. */
    uintptr_t bias = (uintptr_t)info.dli_fbase;
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X)) {
            uintptr_t lo = ph[i].p_vaddr & ~(uintptr_t)(PAGE_SIZE_MIN - 1);
            own_text_start = bias + lo;
            own_text_end = bias + ph[i].p_vaddr + ph[i].p_memsz;
        }
    }
}

int pc_is_ours(uintptr_t pc)
{
    return pc >= own_text_start && pc < own_text_end;
}

/* The C++ runtime's code (libstdc++), when the program has it: the frames
 * of its wrappers (std::string's _M_create, the containers' out-of-line
 * growth, ...) between the program and operator new are not where the
 * program allocated, so a stack starts at the program's own frame. */
static uintptr_t cxx_text_start, cxx_text_end;

struct text_of {
    const char *base; /* the library's file name up to its version */
    uintptr_t lo, hi;
    bool found;
};

static int text_of_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct text_of *t = arg;
    const char *slash = strrchr(info->dlpi_name, '/');
    const char *base = slash ? slash + 1 : info->dlpi_name;
    if (strncmp(base, t->base, strlen(t->base)))
        return 0;
    for (unsigned i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            t->lo = info->dlpi_addr + ph->p_vaddr;
            t->hi = t->lo + ph->p_memsz;
            t->found = true;
            break;
        }
    }
    return 1;
}

bool library_text(const char *base, uintptr_t *lo, uintptr_t *hi)
{
    struct text_of t = {.base = base};
    dl_iterate_phdr(text_of_cb, &t);
    if (t.found) {
        *lo = t.lo;
        *hi = t.hi;
    }
    return t.found;
}

static int pc_is_cxx_runtime(uintptr_t pc)
{
    return pc >= cxx_text_start && pc < cxx_text_end;
}

void stack_unwinder_init(bool fast)
{
    find_own_text();
    library_text("libstdc++.so", &cxx_text_start, &cxx_text_end);
    use_unwinder = unwind_available(); /* its first call: here, not in malloc */
    if (!use_unwinder && fast) {
        options_warn("this C library has no _dl_find_object (glibc 2.35): stacks are "
                     "captured with glibc's backtrace(), which is slow");
        void *warm[2];
        backtrace(warm, 2); /* its first call loads libgcc_s: do it now, not in malloc */
    }
    /* Sampling only, without our unwinder: glibc's backtrace() loads
     * libgcc_s at the first sampled allocation, not in every process at
     * start-up.  That first call may allocate; in_capture keeps those
     * allocations from capturing again. */
    atomic_store(&unwinder_ready, 1);
}

/* glibc's backtrace(), for a libc without _dl_find_object. */
static unsigned capture_backtrace(uintptr_t *frames, unsigned max)
{
    void *buf[STACK_MAX_FRAMES + 16];
    if (in_capture)
        return 0;
    in_capture = 1;
    int n = backtrace(buf, (int)max);
    in_capture = 0;
    for (int i = 0; i < n; i++)
        frames[i] = (uintptr_t)buf[i];
    return n > 0 ? (unsigned)n : 0;
}

/* A stack as captured (buf[0..n)) without slabdbg's frames at its top
 * into frames[0..max); returns the number kept. */
static unsigned drop_own_frames(const uintptr_t *buf, unsigned n, uintptr_t *frames, unsigned max)
{
    unsigned i = 0, out = 0;
    while (i < n && pc_is_ours(buf[i]))
        i++;
    /* then the C++ runtime's, unless the stack is nothing else */
    unsigned j = i;
    while (j < n && pc_is_cxx_runtime(buf[j]))
        j++;
    if (j < n)
        i = j;
    for (; i < n && out < max; i++)
        frames[out++] = buf[i];
    return out;
}

/* A few more frames than asked are captured: slabdbg's own (malloc, the
 * slow path, the debug path, the capture) are dropped from the top. */
static unsigned capture_want(unsigned max)
{
    return (max > STACK_MAX_FRAMES ? STACK_MAX_FRAMES : max) + 8;
}

unsigned stack_capture(uintptr_t *frames, unsigned max)
{
    uintptr_t buf[STACK_MAX_FRAMES + 16];
    unsigned want = capture_want(max);
    if (!atomic_load_explicit(&unwinder_ready, memory_order_acquire))
        return 0;
    unsigned n = use_unwinder ? unwind_capture(buf, want, 0) : capture_backtrace(buf, want);
    return drop_own_frames(buf, n, frames, max);
}

/* A walk that repeats none remembered: its stack saved, and remembered
 * with the payload stack_save() returns: the first frame, the handle. */
static __attribute__((noinline)) depot_handle_t stack_save_walked(struct unwind_memo_req *req,
                                                                  unsigned max, uintptr_t *caller)
{
    uintptr_t frames[STACK_MAX_FRAMES];
    unsigned n = drop_own_frames(req->frames, req->n, frames, max);
    *caller = n ? frames[0] : 0;
    depot_handle_t h = depot_save(frames, n);
    req->payload[0] = *caller;
    req->payload[1] = h;
    unwind_remember(req);
    return h;
}

depot_handle_t stack_save(unsigned max, uintptr_t *caller)
{
    *caller = 0;
    if (!atomic_load_explicit(&unwinder_ready, memory_order_acquire))
        return 0;
    if (!use_unwinder) {
        uintptr_t frames[STACK_MAX_FRAMES];
        unsigned n = stack_capture(frames, max);
        *caller = n ? frames[0] : 0;
        return depot_save(frames, n);
    }
    uintptr_t buf[STACK_MAX_FRAMES + 16];
    struct unwind_memo_req req = {.frames = buf, .max = capture_want(max)};
    if (likely(unwind_capture_memo(&req))) {
        *caller = (uintptr_t)req.payload[0];
        return (depot_handle_t)req.payload[1];
    }
    return stack_save_walked(&req, max, caller);
}

unsigned stack_capture_context(const void *uc, uintptr_t *frames, unsigned max)
{
    if (!max || !atomic_load_explicit(&unwinder_ready, memory_order_acquire))
        return 0;
    if (use_unwinder)
        return unwind_from_context(uc, frames, max);
    /* backtrace() from the handler: the interrupted pc first, after the
     * frames of the handler and the signal trampoline. */
    uintptr_t pc = (uintptr_t)((const ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
    unsigned n = stack_capture(frames, max);
    for (unsigned i = 0; i < n; i++) {
        if (frames[i] == pc) {
            memmove(frames, frames + i, (n - i) * sizeof(frames[0]));
            return n - i;
        }
    }
    if (n == max)
        n--;
    memmove(frames + 1, frames, n * sizeof(frames[0]));
    frames[0] = pc;
    return n + 1;
}

static uint32_t hash_frames(const uintptr_t *f, unsigned n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    for (unsigned i = 0; i < n; i++) {
        h ^= f[i];
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    return (uint32_t)h;
}

static struct depot_record *rec_at(uint32_t handle)
{
    return (struct depot_record *)(depot_arena + (size_t)handle * 8);
}

/* Carves a record; NULL when the arena is exhausted. */
static struct depot_record *depot_carve(size_t bytes, uint32_t *handle)
{
    if (!depot_arena) {
        lock(&depot_lock, LOCK_DEPOT);
        if (!depot_arena) {
            void *p = mmap(NULL, DEPOT_ARENA, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (p != MAP_FAILED)
                depot_arena = p;
        }
        unlock(&depot_lock, LOCK_DEPOT);
        if (!depot_arena)
            return NULL;
    }
    bytes = align_up(bytes, 8);
    size_t off = atomic_fetch_add(&depot_used, bytes);
    if (off + bytes > DEPOT_ARENA)
        return NULL;
    *handle = (uint32_t)(off / 8);
    return (struct depot_record *)(depot_arena + off);
}

depot_handle_t depot_save(const uintptr_t *frames, unsigned n)
{
    if (!n)
        return 0;
    uint32_t hash = hash_frames(frames, n);
    _Atomic uint32_t *bucket = &depot_buckets[hash & (DEPOT_BUCKETS - 1)];
    uint32_t head = atomic_load_explicit(bucket, memory_order_acquire);
    for (uint32_t h = head; h; h = rec_at(h)->next) {
        struct depot_record *r = rec_at(h);
        if (r->hash == hash && r->nframes == n && !memcmp(r->frames, frames, n * sizeof(*frames)))
            return h;
    }
    uint32_t handle;
    struct depot_record *r = depot_carve(sizeof(*r) + n * sizeof(*frames), &handle);
    if (!r)
        return 0;
    r->hash = hash;
    r->nframes = n;
    memcpy(r->frames, frames, n * sizeof(*frames));
    /* A racing insert of the same stack leaves a duplicate record: harmless. */
    do
        r->next = head;
    while (!atomic_compare_exchange_weak_explicit(bucket, &head, handle, memory_order_release,
                                                  memory_order_acquire));
    return handle;
}

/* A handle is checked before use: it may come from memory the program
 * could have overwritten (a guarded slot's header, a copy in a report). */
unsigned depot_fetch(depot_handle_t h, const uintptr_t **frames)
{
    *frames = NULL;
    size_t used = atomic_load_explicit(&depot_used, memory_order_acquire);
    if (!h || !depot_arena || (size_t)h * 8 + sizeof(struct depot_record) > used)
        return 0;
    struct depot_record *r = rec_at(h);
    if (r->nframes > STACK_MAX_FRAMES || (size_t)h * 8 + sizeof(*r) + r->nframes * 8 > used)
        return 0;
    *frames = r->frames;
    return r->nframes;
}

void depot_fork(enum fork_phase phase)
{
    fork_lock(&depot_lock, phase);
}

/*
 * Stack unwinding: the return addresses of the calling thread, or of the
 * code a signal interrupted, for the stack depot and the fault reports.
 *
 * The walk follows the DWARF call frame information that C++ exceptions
 * use (.eh_frame, found through .eh_frame_hdr and glibc's
 * _dl_find_object()), so it works through code built without frame
 * pointers.  Only rsp, rbp and rip are tracked: enough for return
 * addresses.
 *
 * Every function here is async-signal-safe, allocates nothing, takes no
 * lock and opens no file descriptor.  Once a thread's stack is known and
 * the rules for its pcs are cached (the first captures), a capture makes no
 * system call either.  Every memory read of a walk is proven safe before
 * it is made, so a corrupted stack ends the walk early instead of crashing
 * it: the frames returned are then the ones found before the damage.
 *
 * The walk stops (the frames found so far are returned) at:
 *   - the outermost frame (_start, a thread's start: return address undefined);
 *   - a return address of 0, or one outside every loaded object (JIT code,
 *     garbage), or outside the code an object's .eh_frame_hdr table covers
 *     (data; or an object without that table): it is not reported;
 *   - a pc between two FDEs (code without CFI, as the __start_context that
 *     makecontext returns to), or whose rule we do not interpret (a DWARF
 *     expression other than the PLT's, the stack realignment's and the
 *     signal trampoline's; a CFA computed from a register other than
 *     rsp/rbp below the first frame, as in ld.so's lazy-binding
 *     trampoline): that pc is reported, its callers are not;
 *   - a CFA that does not grow, or leaves the stack (a stack may change
 *     only through a signal frame), or memory that cannot be proven
 *     readable (a stack of the program's own: 32 pages are proven at most);
 *   - registered JIT unwind tables (__register_frame) are not consulted.
 */
#ifndef SLABDBG_BASE_UNWIND_H
#define SLABDBG_BASE_UNWIND_H

#include <stdbool.h>
#include <stdint.h>

#define UNWIND_API __attribute__((visibility("hidden")))

/* Can the walk run in this process?  False on a libc without
 * _dl_find_object (glibc < 2.35) or a kernel where readable memory cannot
 * be told from unreadable; the caller then uses glibc's backtrace().
 * The first call looks _dl_find_object up with dlsym and makes a few
 * system calls: make it at start-up, outside signal handlers and malloc
 * (the other functions call it); later calls are a load. */
UNWIND_API bool unwind_available(void);

/* Return addresses of the calling thread, innermost first: frames[0] is
 * the address in the caller of unwind_capture() just after that call (as
 * the first entry of backtrace()), unless `skip` drops the `skip`
 * innermost ones.  Returns the number stored, at most `max`; 0 when
 * !unwind_available(). */
UNWIND_API unsigned unwind_capture(uintptr_t *frames, unsigned max, unsigned skip);

/* A capture through the calling thread's memory of its last walks (see
 * unwind.c, "Remembered walks"): an allocation made again from the same
 * call chain is recognised by reading again the words its walk read. */
#define UNWIND_MEMO_MAX 255 /* frames a remembered walk may have */
struct unwind_memo_req {
    uintptr_t *frames;   /* in: room for max frames */
    unsigned max;        /* in */
    unsigned n;          /* out: frames walked */
    uint64_t payload[2]; /* what the caller keeps with a walk */
    bool owns_memo;      /* unwind_remember() has something to do */
};

/* unwind_capture(req->frames, req->max, 0), remembered.  True when the
 * walk from the caller's frame would repeat one this thread remembers
 * (the same start, the same words read): req->payload is then what was
 * given to unwind_remember() after that walk, and nothing is walked.
 * False after a walk into req->frames (req->n of them); the caller then
 * sets req->payload (say, what it made of those frames) and calls
 * unwind_remember(req) before it captures again. */
UNWIND_API bool unwind_capture_memo(struct unwind_memo_req *req);
UNWIND_API void unwind_remember(struct unwind_memo_req *req);

/* From a signal handler: `ucontext` is its third argument (SA_SIGINFO).
 * frames[0] is the interrupted pc, then the return addresses of its
 * callers, unwound from the interrupted registers (the handler's own
 * frames and the signal trampoline are not walked).  Works on an
 * alternate signal stack, and when the interrupted stack pointer is in a
 * guard page (stack overflow).  Returns at least 1 when max > 0. */
UNWIND_API unsigned unwind_from_context(const void *ucontext, uintptr_t *frames, unsigned max);

/* Code may have been unloaded (dlclose): the cached rules are forgotten,
 * as new code could be mapped at the same addresses. */
UNWIND_API void unwind_forget_code(void);

#endif

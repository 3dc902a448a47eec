/*
 * The symbolizer: turns a code address of this process into what a SLUB
 * report prints for a stack frame, "alloc_request+0x2b/0x70" and, when the
 * object has debug information, "examples/seed.c:42".
 *
 * Two sources, best first:
 *   - elfutils libdw (its Dwfl API): the ELF .symtab, so static functions
 *     too, and the DWARF line table for file:line of the objects that carry
 *     their own (a separate debug file only names: its DWARF would be
 *     decompressed whole for a line).  Answers are kept for later frames
 *     and reports.  libdw is loaded with
 *     dlopen at the first lookup, never linked: the allocator is preloaded
 *     into every program and must not drag libdw and its dependencies into
 *     programs that never print a report.
 *   - dladdr1(): exported (dynamic) symbols only, no file:line.  The only
 *     source when libdw.so.1 cannot be loaded; one line on stderr says so.
 *
 * Setting SLABDBG_NO_LIBDW=1 in the environment makes the symbolizer behave
 * as if libdw.so.1 were not installed (the degraded mode, message included).
 * If libdw's headers were missing at build time, the degraded mode is the
 * only one.  As with any libdw tool, when libdebuginfod is installed and
 * DEBUGINFOD_URLS is set, libdw may fetch missing debug information over
 * the network the first time.
 *
 * Calling context: the symbolizer allocates (libdw uses malloc), so callers
 * must hold no allocator lock.  It takes a lock of its own and may be called
 * from several threads at once.  A call made from inside a call on the same
 * thread (malloc reached from libdw reporting a bug) gets dladdr1() results
 * instead of deadlocking.
 */
#ifndef SLABDBG_REPORT_SYMBOLIZE_H
#define SLABDBG_REPORT_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

struct sym_info {
    /* Path of the ELF object containing pc, or NULL.  Points to storage kept
     * by the symbolizer for the life of the process: a sym_info may be
     * copied and kept after the object is unloaded. */
    const char *module;
    uintptr_t module_base; /* load bias of that module */
    char func[256];        /* symbol name (C++ names demangled), "" if unknown */
    uintptr_t offset;      /* pc - symbol start */
    uintptr_t size;        /* symbol size (0 if unknown) */
    /* Source file from the DWARF line table, "" if unknown.  Usually an
     * absolute path; when too long, its beginning is dropped. */
    char file[256];
    int line;     /* 0 if unknown */
    uintptr_t pc; /* the address looked up, as given */
};

/*
 * Fills *out for a code address of this process.  Returns 0 if at least the
 * module is known, -1 otherwise.  Thread-safe.
 *
 * The address is looked up as given.  A return address points after its
 * call instruction, possibly at the first instruction of the next line or
 * past the end of a function that ends in a call to a noreturn function;
 * callers pass `ret_addr - 1` for every frame but the innermost one (which
 * is a real pc), so that func and file:line name the call.  The offset then
 * is that of `ret_addr - 1`; add 1 to si->offset to print the return address
 * as the kernel does.
 */
INTERNAL int symbolize_pc(uintptr_t pc, struct sym_info *out);

/*
 * Prints into buf, whatever is known best:
 *   "func+0xoff/0xsize"       symbol and its size
 *   "func+0xoff"              symbol of unknown size
 *   "module+0xoff"            module basename, offset pc - module_base (the
 *                             address addr2line -e module takes)
 *   "0xaddr"                  nothing known
 * The offset is that of si->pc (see symbolize_pc).  Returns the length of
 * the text written, without the terminating NUL, truncated to fit: at most
 * size - 1, 0 when size is 0.
 */
INTERNAL size_t sym_format(const struct sym_info *si, char *buf, size_t size);

INTERNAL void symbolize_fork(enum fork_phase phase);
/* Loads the symbolizer's library now (from the library constructor, when
 * debug flags are on) instead of at the first report. */
INTERNAL void symbolize_preload(void);

#endif

/*
 * Symbols of a target's code addresses, with libdwfl over the target's own
 * mappings (a live process's /proc/PID/maps, a core's NT_FILE note): the
 * frames of tracks, the faulting function of explain --core, function
 * pointers found in an object's bytes.
 */
#ifndef SLABDBG_INSPECT_SYM_H
#define SLABDBG_INSPECT_SYM_H

#include <stddef.h>
#include <stdint.h>

#include "inspect/target.h"

struct tsym;
struct tsym *tsym_open(struct target *t);
void tsym_close(struct tsym *s);

struct tsym_info {
    char func[128]; /* "" if unknown */
    uint64_t start, offset, size;
    char module[256]; /* path of the module, "" if none */
    uint64_t module_base;
    char file[256];
    int line;
};
/* 0 if pc lies in a module (func may still be unknown), -1 if in none. */
int tsym_lookup(struct tsym *s, uint64_t pc, struct tsym_info *out);
/* As the in-process reports print a frame: "func+0xoff/0xsize", else
 * "module+0xoff", else "0xaddr"; for a return address pc (ret: the
 * function of pc - 1, offset of pc), plus " file:line" when known. */
void tsym_frame(struct tsym *s, uint64_t pc, int ret, char *buf, size_t size);
/* The function's name alone, or NULL (for the type ranking). */
const char *tsym_func(struct tsym *s, uint64_t addr);

#endif

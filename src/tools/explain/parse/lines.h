/*
 * What every parser reads: one line at a time, cleaned of the prefixes
 * logs add, and the tokens that recur across formats (numbers, stack
 * frames, the task line, register dumps, Code: bytes).
 */
#ifndef SLABDBG_EXPLAIN_PARSE_LINES_H
#define SLABDBG_EXPLAIN_PARSE_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* A line as the parsers see it. */
struct ex_line {
    const char *text; /* without prefixes, leading and trailing white space */
    int no;           /* 1-based, in its input */
    int input;
    bool kernel;      /* a kernel log prefix was seen (syslog "kernel:", dmesg stamp) */
    bool indented;    /* the text started with white space (stack lines do) */
    char stream[16];  /* printk caller id ("T123", "C0"), "" if none */
    bool crash_session; /* the input showed a "crash>" prompt before this line */
};

/* Strips a line, in place, of its trailing white space and of what logs
 * and mailers put in front of the kernel's text: mail quotes ("> "),
 * syslog, ISO and journal prefixes, dmesg stamps ("[57117.948006]", human
 * "[Mon Jan 12 ...]"), printk levels ("<3>"), caller ids ("[ T123]", which
 * go to l->stream), Android "[4:  comm:  825]" prefixes and "** N printk
 * messages dropped **" markers.  Fills l (text, kernel, indented, stream). */
void ex_clean_line(char *line, struct ex_line *l);

/* Numbers: hex with optional "0x" (at most 16 significant digits), decimal
 * (at most 18 digits, optional '-').  Advance *ps past them on success. */
bool ex_scan_hex(const char **ps, uint64_t *v);
bool ex_scan_dec(const char **ps, long long *v);
/* Hex digits at s (no prefix), and how many: for telling 8- from 16-digit
 * pointers. */
int ex_hex_digits(const char *s);

bool ex_starts(const char *s, const char *prefix);
const char *ex_skip_ws(const char *s);
void ex_copy(char *dst, size_t size, const char *s, size_t n);
void ex_copy_str(char *dst, size_t size, const char *s);

/* A stack frame in any of the kernel's and our forms:
 *   "[<ffffffff8155e0a3>] ? ixgbe_poll+0x7d7/0x14a0 [ixgbe] file.c:12"
 *   "dump_stack_lvl+0xd9/0x150 lib/dump_stack.c:106"
 *   "__dump_stack lib/dump_stack.c:88 [inline]"
 *   "sysfs_get_tree (fs/sysfs/mount.c:32)" (decode_stacktrace.sh)
 *   "[<c0113fac>] (unwind_backtrace) from [<c010e71c>] (show_stack+0x10/0x14)"
 *   "el0_svc+0x38/0x8c (P)", "0x7f00deadbeef"
 * false if the line is not a frame. */
bool ex_parse_frame(const char *s, struct ex_frame *f);

/* The kernel's task line, "CPU: 28 [UID: 0] PID: 180 Comm: ksoftirqd/28
 * Tainted: ...": *rest points after the PID; release gets "4.14.0-generic #1"
 * when the line has it. */
bool ex_task_line(const char *s, int *cpu, long long *pid, char *comm, size_t comm_size,
                  char *release, size_t release_size);

/* Register dumps, "RAX: 0000000000000000 RBX: ...", "RSP: 0018:ffffabb086977cb8",
 * "x29: ffff80001005bd50 x28: ...", "x9 : dfff...", " gp : ... tp : ...",
 * "pc : [<c03...>]    lr : [<...>]    psr: 60000013": the name/value pairs
 * in order (values of at least 8 hex digits).  Returns how many. */
int ex_regs_line(const char *s, struct ex_reg *regs, int max);

/* "Code: 45 fa ... <48> 8b 1f ..." (x86 bytes), "Code: a9bf7bfd ... (b9400000)"
 * (arm64/arm words), "Code: 8793 0107 (6394)" (riscv parcels), "Code: Bad RIP
 * value." / "Code: Unable to access opcode bytes ...".  Fills the oops' code
 * fields; false if the line is not a Code: line. */
bool ex_parse_code(const char *s, struct ex_oops *o);

/* Lines that frame a stack without being frames: "<IRQ>", "</TASK>", ... */
bool ex_is_stack_marker(const char *s);

#endif

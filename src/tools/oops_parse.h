/*
 * Reading kernel oopses and crash(8) memory dumps.
 *
 * Oopses: "BUG: unable to handle kernel NULL pointer dereference at ADDR"
 * (before 4.20), "BUG: kernel NULL pointer dereference, address: ADDR" and
 * "BUG: unable to handle page fault for address: ADDR" (later), "general
 * protection fault[, probably for non-canonical address ADDR]", and the
 * short form the seed example prints in user space.  From them: the fault
 * address, RIP, registers, the task, the call trace ("?" entries kept but
 * marked), and the Code: bytes with the faulting one marked "<48>".
 *
 * Dumps: "crash> rd ADDR COUNT" output, words by address (also rd -32 and
 * rd -s, whose symbols stand for words).
 *
 * Like report_parse, fed line by line, bounded in memory and time.
 */
#ifndef SLABDBG_TOOLS_OOPS_PARSE_H
#define SLABDBG_TOOLS_OOPS_PARSE_H

#include "tools/report_parse.h"

#define OOPS_FRAMES_MAX 64
#define OOPS_REGS_MAX 40
#define OOPS_CODE_MAX 128
#define DUMP_WORDS_MAX 1024 /* 8 KiB of 64-bit words per dump */

struct oops_reg {
    char name[8]; /* as printed, upper case: "RDI", "R08", "CR2", "EFLAGS" */
    uint64_t value;
};

struct oops {
    int first_line, last_line;
    char kind[48];    /* "NULL pointer dereference", "page fault", ... */
    char header[200]; /* the first line, as printed */
    bool has_fault_addr;
    uint64_t fault_addr;
    char access[96]; /* "#PF: supervisor read access in kernel mode" */
    bool has_rip;
    struct rp_frame rip; /* function+off/size, or only an address */
    int nregs;
    struct oops_reg regs[OOPS_REGS_MAX];
    bool has_task;
    int cpu;
    long long pid;
    char comm[64];
    char release[64]; /* "4.14.0-generic #1" */
    bool has_trace;
    int nframes;
    struct rp_frame frames[OOPS_FRAMES_MAX];
    bool has_code, code_unavailable;
    int ncode, code_mark; /* code_mark: index of the "<..>" byte, -1 if none */
    uint8_t code[OOPS_CODE_MAX];
    bool user_space; /* the seed example's user-space form */
};

/* A register's value by name ("rdi", "RDI", "r8", "R08", "cr2"). */
bool oops_reg(const struct oops *o, const char *name, uint64_t *value);

struct dump_word {
    uint64_t value;
    bool known;
    char sym[48]; /* rd -s: the symbol printed instead of the value */
};

struct crash_dump {
    int first_line, last_line;
    uint64_t base;      /* address of word 0 */
    unsigned word_size; /* 8, 4, 2 or 1 */
    long long count;    /* as asked on the rd command line, -1 if unseen */
    int nwords;         /* words [0, nwords) span the dump */
    int dropped;        /* words beyond DUMP_WORDS_MAX or before base */
    struct dump_word words[DUMP_WORDS_MAX];
};

struct oops_parser {
    struct oops *oopses;
    int max_oopses, noopses, dropped_oopses;
    struct crash_dump *dumps;
    int max_dumps, ndumps, dropped_dumps;
    int line_no;
    struct oops *cur;
    struct crash_dump *dump;
    bool in_trace, skipping;
};

void oops_parser_init(struct oops_parser *p, struct oops *oopses, int max_oopses,
                      struct crash_dump *dumps, int max_dumps);
void oops_parser_line(struct oops_parser *p, const char *line);
void oops_parser_finish(struct oops_parser *p);

/* Is addr canonical x86-64 (bits 63..47 all equal)? */
bool oops_canonical(uint64_t addr);

#endif

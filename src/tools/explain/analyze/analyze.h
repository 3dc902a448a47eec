/*
 * What slabdbg explain derives from the model: per report, the stray bytes
 * and the access against the object; per oops, the decoded faulting
 * instruction, the real fault address and a verdict; values read in plain
 * words (kernel poisons, ASCII, shadow addresses); links between reports,
 * oopses and dumps; the struct field and the source constants behind a
 * stray value.  Printers read this and the model; nothing here prints.
 */
#ifndef SLABDBG_EXPLAIN_ANALYZE_H
#define SLABDBG_EXPLAIN_ANALYZE_H

#include <stdbool.h>
#include <stdint.h>

#include "analyze/srcscan.h"
#include "analyze/types.h"
#include "model.h"

/* ---- values ------------------------------------------------------------------------ */

enum ex_value_kind {
    VAL_ZERO,
    VAL_SMALL,        /* below 64 KiB: a constant, or NULL + a field offset */
    VAL_NARROW,       /* a 1-, 2- or 4-byte value on a 64-bit machine */
    VAL_POISON,       /* slab or page poison, red zone patterns */
    VAL_POISON_NEAR,  /* poison + a small delta: an increment or a field of freed memory */
    VAL_LIST_POISON,  /* LIST_POISON1/2 (and + a field offset), TIMER_ENTRY_STATIC */
    VAL_KASAN_SHADOW, /* a KASAN shadow address: the real access was elsewhere */
    VAL_ASCII,        /* text where a number or pointer belongs */
    VAL_NONCANONICAL, /* not an address at all on x86-64/arm64 */
    VAL_USER,         /* a user-space address (in a kernel context) */
    VAL_KERNEL_TEXT,  /* a function pointer */
    VAL_KERNEL,       /* a kernel data pointer */
    VAL_TAGGED,       /* an arm64 pointer with a KASAN/MTE tag in its top byte */
    VAL_HASHED,       /* a hashed %p value */
    VAL_POINTER,      /* a plausible user-space pointer (our reports) */
};

struct ex_value_ctx {
    enum ex_arch arch; /* ARCH_UNKNOWN: x86-64 rules */
    bool kernel;       /* the value comes from a kernel's log */
    bool hashed;       /* the log prints hashed pointers */
};

struct ex_value_note {
    enum ex_value_kind kind;
    bool not_pointer; /* it cannot be a valid pointer */
    uint64_t base;    /* VAL_*_NEAR, LIST_POISON, SHADOW: the pattern; the delta is value - base */
    char text[320];   /* one sentence */
};

void ex_value_note(uint64_t v, unsigned width, const struct ex_value_ctx *ctx,
                   struct ex_value_note *out);
const char *ex_value_kind_name(enum ex_value_kind k);

/* KASAN generic shadow: the address range a shadow address covers. */
bool ex_kasan_shadow_range(uint64_t shadow, enum ex_arch arch, uint64_t *lo, uint64_t *hi);
/* The generic KASAN shadow offset of an architecture, 0 if unknown. */
uint64_t ex_kasan_shadow_offset(enum ex_arch arch);
/* What a KASAN shadow (or tag) byte means. */
const char *ex_kasan_shadow_meaning(uint8_t b, bool tags);

/* ---- reports ------------------------------------------------------------------------- */

/* The stray bytes of a byte-check report (SLUB, KFENCE canary, ours). */
struct ex_stray {
    int64_t off;     /* object offset of the first byte */
    uint64_t length; /* as reported */
    int nknown;      /* how many of the bytes are known */
    uint8_t bytes[16];
    bool has_word; /* all known, 1/2/4/8 bytes, aligned to their size */
    unsigned width;
    uint64_t word; /* little-endian */
};
/* false when the fault's place in the object is unknown. */
bool ex_stray(const struct ex_report *r, int fault, struct ex_stray *out);

struct ex_finding {
    bool shown;      /* false: merged into another report */
    int merged_json; /* index+1 of our JSON report of the same finding */
    bool has_stray;
    struct ex_stray stray;
    const struct ex_fault *fault;
    bool value_known; /* the stray bytes as one number */
    uint64_t value;
    unsigned width;
    struct ex_value_note value_note;
    bool has_offset; /* where the access is, from the object's start */
    int64_t offset;
    bool offset_from_addresses; /* computed (address - object) rather than stated */
    uint64_t addr;              /* the access address without a pointer tag */
    bool has_shadow;            /* KASAN: the shadow/tag byte at the address */
    uint8_t shadow_byte;
    const char *finder_what; /* "made the access" / "found the damage" */
    const struct ex_frame *finder;
    const char *found_when; /* SLUB: "when it allocated the object again" ... */
    const struct ex_frame *alloc_site, *free_site; /* first non-machinery frames */
    char meaning[200];                             /* the kind in words */
    char summary[600];                             /* one paragraph, plain words */
};

/* ---- oopses --------------------------------------------------------------------------- */

#define EX_INSNS_MAX 48
#define EX_MEM_READ 1u
#define EX_MEM_WRITE 2u

struct ex_insn {
    int start, len; /* bytes into the oops' code */
    char text[200];
    bool mem; /* has a memory operand */
    char base[8], index[8];
    int scale;
    int64_t disp;
    int size;     /* of the memory access, 0 if unknown */
    unsigned mem_access; /* EX_MEM_READ | EX_MEM_WRITE, 0 if unknown */
    char dest[8]; /* register written, "" if none */
    bool branch;  /* a call or jump */
};

struct ex_oops_view {
    bool shown;     /* false: the same oops printed again */
    int duplicates; /* how many times it was printed again */
    int ninsns, fault; /* fault: index of the faulting instruction, -1 */
    struct ex_insn insns[EX_INSNS_MAX];
    bool decoded;
    const char *decode_note;
    char branch_base[EX_NAME_MAX]; /* offsets are from this function, "" for addresses */
    /* the address the fault was at, and how it is known */
    bool has_fault_addr;
    uint64_t fault_addr;
    const char *fault_addr_from; /* "CR2", "the header", "the faulting instruction", "KASAN's range", ... */
    bool has_range;              /* KASAN's range of the real access */
    uint64_t range_lo, range_hi;
    bool has_operand_addr; /* the faulting instruction's operand, from the registers */
    uint64_t operand_addr;
    bool operand_matches; /* ... equals the stated fault address */
    uint64_t base_value;
    bool has_base_value;
    bool bad_pc; /* the pc itself was the bad address (a jump or call through it) */
    struct ex_value_note addr_note;
    char regs_equal[128]; /* registers that held the fault address */
    int loader;           /* the instruction that set the base register, -1 */
    bool load_addr_known;
    uint64_t load_addr;
    char location[420]; /* "skb_release_data+0xa3/0x170", "kernel BUG at f.c:12 in f+0x1/0x2" */
    char verdict[600];
};

/* ---- links ------------------------------------------------------------------------------ */

#define EX_LINKS_MAX 24

struct ex_link {
    char kind[16]; /* "value", "object", "register", "dump", "same-object" */
    char from[32]; /* "report 1", "oops 2", "dump 1" */
    char to[32];
    char text[400];
};

/* ---- types and sources ------------------------------------------------------------------ */

struct ex_target {
    bool has;
    int64_t off;
    uint64_t length;
    bool has_value;
    uint64_t value;
    uint64_t object_size;
    const uint8_t *bytes; /* the object's bytes when they are its contents */
    size_t nbytes;
    uint64_t object_addr;
    const struct ex_dump *dump;
    const struct ex_report *report; /* its tracks hint at the type */
    char from[64];
};

struct ex_type_result {
    bool tried;
    char error[256];
    bool has_field;
    struct field_at field;
    int ncands;
    struct type_candidate cands[5];
    char spec[256];
};

#define EX_CONSTS_MAX 16
#define EX_ASSIGNS_MAX 32

struct ex_src_result {
    bool tried;
    char error[256];
    int nconsts, nassigns;
    struct src_const consts[EX_CONSTS_MAX];
    struct src_assign assigns[EX_ASSIGNS_MAX];
    char field[128];
    bool by_field; /* no value: the assignments to the field, whatever they assign */
};

/* ---- the whole analysis ------------------------------------------------------------------ */

struct ex_opts {
    bool json;
    const char *binary, *type, *btf, *src;
};

struct ex_analysis {
    struct ex_model *m; /* merging enriches a report with its twin's facts */
    struct ex_opts opts;
    struct ex_finding findings[EX_REPORTS_MAX];
    struct ex_oops_view views[EX_OOPSES_MAX];
    int nlinks;
    struct ex_link links[EX_LINKS_MAX];
    struct ex_target target;
    struct ex_type_result types;
    struct ex_src_result src;
    uint8_t dump_bytes[EX_DUMP_WORDS_MAX * 8];
};

/* Everything above, for a model read to its end. */
struct ex_analysis *ex_analyze(struct ex_model *m, const struct ex_opts *opts);
void ex_analysis_free(struct ex_analysis *a);

/* Parts of the analysis, one file each in analyze/. */
void ex_merge(struct ex_analysis *a);
void ex_analyze_report(struct ex_analysis *a, int i);
void ex_analyze_oops(struct ex_analysis *a, int i);
void ex_decode(const struct ex_oops *o, struct ex_oops_view *v);
void ex_find_links(struct ex_analysis *a);
void ex_run_types(struct ex_analysis *a);
void ex_run_src(struct ex_analysis *a);
bool ex_types_built(void);
bool ex_src_built(void);

/* The kind of a memory-error report in words; NULL if unknown. */
const char *ex_kind_meaning(const struct ex_report *r);
/* Whether a kernel track's own words were overwritten (its caller is text
 * or no address, its pid beyond any pid), and why in *why. */
bool ex_track_overwritten(const struct ex_report *r, const struct ex_track *t, char *why,
                          size_t size);
/* "jiffies" or "ms" for SLUB track ages. */
const char *ex_age_unit(const struct ex_report *r);

#endif

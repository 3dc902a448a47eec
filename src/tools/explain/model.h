/*
 * The model slabdbg explain reads every input into: memory-error reports
 * (SLUB of every vintage, KASAN, KFENCE, slabdbg's guard reports, text and
 * JSON), oopses (x86-64, arm64 and 32-bit arm, riscv), crash(8) memory
 * dumps, and the kernel reports that are recognised but not explained
 * (warnings, lockdep, ...).  Each parser in parse/ fills these records from
 * the lines of one format; analyze/ derives from them; print/ shows them.
 *
 * Records have fixed sizes: input of any size and shape costs bounded
 * memory, and nothing in a record points outside it (strings are copied).
 */
#ifndef SLABDBG_EXPLAIN_MODEL_H
#define SLABDBG_EXPLAIN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EX_LINE_MAX 65536 /* input lines are cut here (JSON lines are long) */
#define EX_NAME_MAX 128
#define EX_FRAMES_MAX 64  /* frames kept per stack */
#define EX_INPUTS_MAX 16
#define EX_REPORTS_MAX 32
#define EX_OOPSES_MAX 16
#define EX_DUMPS_MAX 4
#define EX_OTHERS_MAX 32
#define EX_REGS_MAX 48

/* ---- formats ------------------------------------------------------------- */

enum ex_format {
    FMT_SLUB,          /* SLUB debug reports, the kernel's and ours */
    FMT_SLABDBG_GUARD, /* slabdbg's guard-mode and sampling reports (text) */
    FMT_SLABDBG_JSON,  /* slabdbg's JSON reports, either kind */
    FMT_KASAN,         /* generic, software and hardware tag-based */
    FMT_KFENCE,
    FMT_OOPS_X86,
    FMT_OOPS_ARM64, /* and 32-bit arm */
    FMT_OOPS_RISCV,
    FMT_CRASH_RD, /* crash(8) "rd" output */
    FMT_OTHER,    /* recognised kernel reports that are not explained */
    FMT_COUNT
};
const char *ex_format_name(enum ex_format f); /* "slub", "kasan", "oops-x86", ... */

struct ex_src {
    enum ex_format format;
    int input; /* index in ex_model.inputs */
    int first_line, last_line;
    char stream[16]; /* the printk caller id the lines carried ("T123"), "" if none */
    bool discarded;  /* a parser found too little: removed by ex_model_compact */
};

/* ---- frames and stacks -------------------------------------------------- */

struct ex_frame {
    char func[EX_NAME_MAX]; /* "" when only an address is known */
    uint64_t off, size;     /* func+off/size */
    bool has_off, has_size;
    uint64_t addr; /* "[<ffffffff81...>]" or a bare address */
    bool has_addr;
    bool unreliable; /* the kernel's "? " mark */
    bool inlined;    /* "func file.c:12 [inline]" */
    char module[48]; /* "[ixgbe]" */
    char where[160]; /* "net/core/skbuff.c:113" */
};

struct ex_stack {
    int n, dropped;
    struct ex_frame f[EX_FRAMES_MAX];
};

void ex_stack_add(struct ex_stack *s, const struct ex_frame *f);
/* "func+0xoff/0xsize [module]" into buf. */
void ex_frame_text(const struct ex_frame *f, char *buf, size_t size);
/* The function name without compiler suffixes (".isra.43", ".cold"). */
void ex_base_name(const char *func, char *buf, size_t size);
/* Whether a frame belongs to an allocator, a sanitizer or the reporting
 * machinery (kmalloc, kmem_cache_*, kasan_*, dump_stack, malloc, ...),
 * i.e. is not the code that used the object. */
bool ex_is_machinery_frame(const char *func);
/* The first frame of a stack that is reliable and not machinery. */
const struct ex_frame *ex_first_user_frame(const struct ex_stack *s);

/* ---- memory-error reports ----------------------------------------------- */

enum ex_origin { ORIGIN_UNKNOWN, ORIGIN_KERNEL, ORIGIN_SLABDBG };

/* What kind of bug a report is about, across formats. */
enum ex_class {
    CLS_UNKNOWN,
    CLS_USE_AFTER_FREE,   /* an access to a freed object */
    CLS_OUT_OF_BOUNDS,    /* an access outside an object */
    CLS_CORRUPTION,       /* a write found later (poison, red zone, canary) */
    CLS_DOUBLE_FREE,
    CLS_INVALID_FREE,
    CLS_NULL_DEREF,       /* KASAN null-ptr-deref */
    CLS_WILD_ACCESS,      /* KASAN wild/user-memory-access, KFENCE invalid access */
    CLS_INVALID_ACCESS,   /* tag mismatch of unknown kind */
    CLS_ALLOCATOR_STATE,  /* free list, slab counts, wrong cache */
    CLS_LEAK,             /* objects remaining */
};
const char *ex_class_name(enum ex_class c);

enum ex_access { ACC_UNKNOWN, ACC_READ, ACC_WRITE, ACC_FREE };
enum ex_rel { REL_UNKNOWN, REL_INSIDE, REL_LEFT, REL_RIGHT };

struct ex_track {
    bool present;
    char label[64];         /* "Allocated", "Freed", "Last potentially related work creation" */
    struct ex_frame caller; /* SLUB's "Allocated in <caller>"; else empty */
    bool has_age, has_cpu, has_pid, has_time;
    long long age; /* jiffies (kernel SLUB) or milliseconds (ours) */
    int cpu;
    long long pid;
    double time; /* seconds since boot (KFENCE) */
    struct ex_stack stack;
};

/* SLUB: an overwritten byte range. */
struct ex_fault {
    char what[48]; /* "Poison", "Right Redzone", ... */
    bool has_range;
    uint64_t start, end; /* as printed: inclusive; hashed in some kernels */
    bool has_slab_off;
    uint64_t slab_off; /* the "@offset=" of the fault line: from the slab start */
    bool has_first, has_expected;
    unsigned first, expected;
    /* Derived: where it is in the object, and how long. */
    bool has_obj_off;
    int64_t obj_off; /* negative: in the left red zone */
    bool has_length;
    uint64_t length;
    const char *off_source; /* how obj_off was found */
};

enum ex_section { SEC_REDZONE, SEC_OBJECT, SEC_PADDING, SEC_BYTES_B4 };

struct ex_row {
    uint64_t addr;
    uint8_t section, n;
    bool placed; /* pos is known */
    uint8_t b[16];
    int32_t pos; /* object offset of the row's first byte */
};

#define EX_FAULTS_MAX 8
#define EX_FIX_MAX 4
#define EX_ROWS_MAX 640 /* hexdump rows kept per report: 10 KiB of bytes */
#define EX_WIN_LEFT 256 /* known bytes: object offsets -256 ..  */
#define EX_WIN 8192     /* .. EX_WIN - EX_WIN_LEFT - 1 */

/* What a SLUB report shows beyond the common facts. */
struct ex_slub {
    int nfaults;
    struct ex_fault faults[EX_FAULTS_MAX];
    bool has_slab, has_counts;
    uint64_t slab;
    unsigned objects, used;
    bool has_object_slab_off;
    uint64_t object_slab_off;
    int addr_digits; /* how the Object line printed its address: 8 or 16 */
    int nrows, rows_dropped;
    struct ex_row rows[EX_ROWS_MAX];
    int nfix;
    char fix[EX_FIX_MAX][160];
    int listed_objects; /* "Objects remaining": how many were listed */
    /* The bytes known around the object, by object offset + EX_WIN_LEFT. */
    bool bytes_positional; /* addresses were hashed: placed by row order */
    uint8_t bytes[EX_WIN];
    uint8_t known[EX_WIN / 8];
};

/* KASAN's "Memory state around the buggy address" rows. */
#define EX_SHADOW_ROWS 8
struct ex_shadow_row {
    uint64_t addr;
    uint8_t n;
    bool marked; /* the ">" row */
    uint8_t b[32];
};

/* What a report lacked (bits of ex_report.missing). */
enum {
    MISS_HEADER = 1 << 0,  /* no header line */
    MISS_FAULT = 1 << 1,   /* a byte-check report without its fault line */
    MISS_TRACKS = 1 << 2,  /* no allocation or free track */
    MISS_OBJECT = 1 << 3,  /* no object address line */
    MISS_HEXDUMP = 1 << 4, /* no object bytes */
    MISS_TRACE = 1 << 5,   /* no call trace of the access */
    MISS_FIX = 1 << 6,     /* SLUB: no FIX line, the report was cut short */
    HEXDUMP_GAPS = 1 << 7, /* some hexdump rows are absent (elided) */
    TRUNCATED = 1 << 8,    /* a JSON line cut short */
    MISS_END = 1 << 9,     /* the report's closing line never came */
};

struct ex_report {
    struct ex_src src;
    enum ex_origin origin;
    enum ex_class cls;
    char kind[48];    /* canonical: "poison_overwritten", "slab_use_after_free", ... */
    char bug[64];     /* as printed: "slab-use-after-free", "Poison overwritten" */
    char reason[256]; /* the header's text after the cache or "in" */
    char taint[64];
    bool kernel_marks; /* kernel log prefixes were seen */

    /* The access (KASAN, KFENCE, guard) or the freed pointer. */
    enum ex_access access;
    bool has_access_size, has_addr;
    uint64_t access_size, addr;
    bool has_where;
    struct ex_frame where; /* "... in func+off/size" */
    bool has_tags;
    unsigned ptr_tag, mem_tag;
    bool has_range; /* KASAN "null-ptr-deref in range [lo-hi]" */
    uint64_t range_lo, range_hi;

    /* The object. */
    char cache[EX_NAME_MAX];
    bool has_object, has_object_size, has_requested;
    uint64_t object, object_size, requested;
    const char *size_source; /* "report", "hexdump", "cache name" */
    bool hashed;             /* the kernel printed hashed pointers (no places) */
    enum ex_rel rel;         /* where the access is, against the object */
    bool has_rel_dist;
    uint64_t rel_dist;      /* inside: the offset; left/right: the distance */
    char region_state[16];  /* KASAN 6.x: "freed", "allocated" */
    char mode[16];          /* KASAN: "generic", "sw-tags", "hw-tags", "tags" */
    char location[256];     /* stack frame, global variable, vmalloc area, page */
    bool has_kfence_index;
    int kfence_index;
    char canary[96];        /* KFENCE "[ 0xac . . ]" as printed */
    bool found_later; /* the access was not caught as it happened: its damage was
                       * found later (ours: "(found at free)"); the trace is the finder's */
    bool has_pointer;
    uint64_t pointer; /* SLUB "Invalid object pointer 0x...", guard/JSON "pointer" */

    /* Who allocated, freed and last touched the object. */
    struct ex_track alloc, free;
    int naux;
    struct ex_track aux[2];
    /* The stack of the access (KASAN, KFENCE, guard) or of the code that
     * found the damage (SLUB). */
    bool has_trace;
    struct ex_stack trace;
    bool has_task, has_cpu; /* has_cpu: the task line gave the CPU */
    int cpu;
    long long pid;
    char comm[64];
    char release[64];
    int nregs; /* registers printed with the report (KFENCE with no_hash_pointers) */
    struct {
        char name[8];
        uint64_t value;
    } regs[EX_REGS_MAX];

    /* KASAN shadow or tag rows. */
    int nshadow;
    struct ex_shadow_row shadow[EX_SHADOW_ROWS];
    char page[200]; /* the first line after "belongs to the (physical) page:" */

    struct ex_slub slub;
    unsigned missing; /* MISS_* */
};

/* Whether SLUB byte `off` (object offset) is known, and its value. */
bool ex_slub_byte(const struct ex_report *r, int64_t off, uint8_t *v);
void ex_slub_put_byte(struct ex_report *r, int64_t off, uint8_t v);

/* ---- oopses --------------------------------------------------------------- */

enum ex_arch { ARCH_UNKNOWN, ARCH_X86_64, ARCH_ARM64, ARCH_ARM, ARCH_RISCV, ARCH_USER };
const char *ex_arch_name(enum ex_arch a);

struct ex_reg {
    char name[8]; /* as printed, upper case for x86: "RDI", "R08", "CR2"; "x0", "pc" */
    uint64_t value;
};

struct ex_oops {
    struct ex_src src;
    enum ex_arch arch;
    char kind[48];    /* "NULL pointer dereference", "page fault", "general protection fault", ... */
    char header[200]; /* the first line, as printed */
    /* An address the oops states (page fault address, the GPF's
     * non-canonical address, arm64/riscv virtual address, riscv badaddr). */
    bool has_header_addr;
    uint64_t header_addr;
    const char *header_addr_from; /* "the header", "badaddr", "FAR" */
    bool has_kasan_range;         /* "KASAN: null-ptr-deref in range [lo-hi]" */
    uint64_t kasan_lo, kasan_hi;
    char kasan_kind[48];
    char access[96];     /* "#PF: supervisor read access in kernel mode" */
    bool instr_fetch;    /* the fault was an instruction fetch */
    bool write;          /* the access was a write (#PF, ESR WnR) */
    bool has_esr;
    uint64_t esr;
    bool has_bug_loc;    /* "kernel BUG at FILE:LINE!" */
    char bug_file[160];
    int bug_line;
    bool has_pc;
    struct ex_frame pc; /* RIP / pc / epc */
    bool pc_user;       /* the pc is a user-space address */
    bool has_lr;
    struct ex_frame lr; /* arm64 lr, riscv ra */
    int nregs;
    struct ex_reg regs[EX_REGS_MAX];
    bool has_task;
    int cpu;
    long long pid;
    char comm[64];
    char release[64];
    bool has_trace;
    struct ex_stack trace;
    bool has_code, code_unavailable;
    int ncode, code_mark; /* code_mark: index of the marked byte, -1 if none */
    int code_unit;        /* 1: x86 bytes; 4: arm64 words; 2: riscv parcels */
    uint8_t code[128];    /* in memory order */
    bool user_space;      /* slabdbg's own user-space fault line */
    char panic[160];      /* the "Kernel panic - not syncing: ..." that followed, "" if none */
};

/* A register's value by name ("rdi", "RDI", "r8", "R08", "cr2", "x1"). */
bool ex_oops_reg(const struct ex_oops *o, const char *name, uint64_t *value);

/* ---- crash(8) dumps --------------------------------------------------------- */

#define EX_DUMP_WORDS_MAX 1024 /* 8 KiB of 64-bit words per dump */

struct ex_dump_word {
    uint64_t value;
    bool known;
    char sym[48]; /* rd -s: the symbol printed instead of the value */
};

struct ex_dump {
    struct ex_src src;
    uint64_t base;      /* address of word 0 */
    unsigned word_size; /* 8, 4, 2 or 1 */
    long long count;    /* as asked on the rd command line, -1 if unseen */
    int nwords;         /* words [0, nwords) span the dump */
    int dropped;        /* words beyond EX_DUMP_WORDS_MAX or before base */
    struct ex_dump_word words[EX_DUMP_WORDS_MAX];
};

/* ---- recognised, not explained ------------------------------------------------ */

struct ex_other {
    struct ex_src src;
    char what[64];    /* "kernel warning", "lockdep report", ... */
    char header[200]; /* the line, as printed */
};

/* ---- the whole input ---------------------------------------------------------- */

struct ex_input {
    const char *name;
    int lines;
    bool cut_lines; /* some lines were longer than EX_LINE_MAX */
};

struct ex_model {
    int ninputs;
    struct ex_input inputs[EX_INPUTS_MAX];
    struct ex_report *reports;
    int nreports, dropped_reports;
    struct ex_oops *oopses;
    int noopses, dropped_oopses;
    struct ex_dump *dumps;
    int ndumps, dropped_dumps;
    struct ex_other *others;
    int nothers, dropped_others;
    bool crash_prompt_seen; /* rows without a prompt are a dump only then */
};

/* A model with room for EX_*_MAX records of each kind; NULL if out of memory. */
struct ex_model *ex_model_new(void);
void ex_model_free(struct ex_model *m);
/* Empty again, its room kept (for reading many inputs one after another). */
void ex_model_reset(struct ex_model *m);
/* New cleared records, or NULL (counted as dropped) when full. */
struct ex_report *ex_new_report(struct ex_model *m);
struct ex_oops *ex_new_oops(struct ex_model *m);
struct ex_dump *ex_new_dump(struct ex_model *m);
struct ex_other *ex_new_other(struct ex_model *m);
/* Removes the records whose src.discarded is set. */
void ex_model_compact(struct ex_model *m);

const char *ex_input_name(const struct ex_model *m, int input);

#endif

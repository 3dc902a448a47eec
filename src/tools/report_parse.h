/*
 * Reading SLUB reports: the kernel's (before 5.12 with "INFO: " prefixes,
 * 5.12 and later without, and the 2025 form that prints
 * "[Poison overwritten] ..." before a "BUG ...: Object corrupt" header),
 * ours in text, and ours as JSON lines.  Lines may carry syslog or dmesg
 * prefixes, and any line may be missing.
 *
 * The parser is fed one line at a time and keeps everything in fixed-size
 * records: input of any size and shape costs bounded memory and time
 * linear in its length.  Nothing here reads files or prints.
 */
#ifndef SLABDBG_TOOLS_REPORT_PARSE_H
#define SLABDBG_TOOLS_REPORT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RP_LINE_MAX 65536 /* input lines are cut here (JSON lines are long) */
#define RP_NAME_MAX 128
#define RP_FRAMES_MAX 64 /* frames kept per stack */
#define RP_FAULTS_MAX 8  /* byte ranges per report */
#define RP_FIX_MAX 4
#define RP_ROWS_MAX 640 /* hexdump rows kept per report: 10 KiB of bytes */
#define RP_WIN_LEFT 256 /* known bytes: object offsets -256 ..  */
#define RP_WIN 8192     /* .. RP_WIN - RP_WIN_LEFT - 1 */

/* ---- lines ------------------------------------------------------------ */

/* Numbers: hex with optional "0x" (at most 16 significant digits), decimal
 * (at most 18 digits, optional '-').  Advance *ps past them on success. */
bool rp_scan_hex(const char **ps, uint64_t *v);
bool rp_scan_dec(const char **ps, long long *v);
bool rp_task_line(const char *s, int *cpu, long long *pid, char *comm, size_t comm_size,
                  const char **rest);

/* Strips a line of its trailing white space and newline and of the
 * prefixes logs add (syslog "Jan 12 16:11:01 host kernel: ", dmesg
 * "[57117.948006] ", printk levels "<3>", callers "[ T123]"), in place.
 * Returns the text; *kernel is set when a kernel log prefix was seen,
 * *indented when the text started with white space (stack lines do). */
char *rp_clean_line(char *line, bool *kernel, bool *indented);

/* ---- frames ----------------------------------------------------------- */

struct rp_frame {
    char func[RP_NAME_MAX]; /* "" when only an address is known */
    uint64_t off, size;     /* func+off/size */
    bool has_off, has_size;
    uint64_t addr; /* "[<ffffffff81...>]" or a bare address */
    bool has_addr;
    bool unreliable; /* the kernel's "? " mark */
    char module[48]; /* "[ixgbe]" */
    char where[160]; /* "file.c:123" */
};

/* Parses "[<addr>] ? func+0xoff/0xsize [module] file:line" and its
 * shorter forms (a bare "0xaddr" too).  false if it is not a frame. */
bool rp_parse_frame(const char *s, struct rp_frame *f);
/* "func+0xoff/0xsize [module]" into buf. */
void rp_frame_text(const struct rp_frame *f, char *buf, size_t size);
/* The function name without compiler suffixes (".isra.43", ".part.0",
 * ".constprop.0", ".cold") into buf. */
void rp_base_name(const char *func, char *buf, size_t size);
/* Whether a frame belongs to the allocator or the report machinery
 * (kmalloc, kmem_cache_*, slab internals, dump_stack, malloc, free, ...),
 * i.e. is not the code that used the object. */
bool rp_is_allocator_frame(const char *func);

/* ---- reports ---------------------------------------------------------- */

enum rp_origin { RP_ORIGIN_UNKNOWN, RP_ORIGIN_KERNEL, RP_ORIGIN_SLABDBG };

/* What a report lacked (bits of slub_report.missing). */
enum {
    RP_MISS_HEADER = 1 << 0,  /* no "BUG cache (...): reason" line */
    RP_MISS_FAULT = 1 << 1,   /* a byte-check report without its fault line */
    RP_MISS_TRACKS = 1 << 2,  /* no "Allocated in"/"Freed in" */
    RP_MISS_OBJECT = 1 << 3,  /* no "Object 0x... @offset=" line */
    RP_MISS_HEXDUMP = 1 << 4, /* no object bytes */
    RP_MISS_TRACE = 1 << 5,   /* no call trace of the finder */
    RP_MISS_FIX = 1 << 6,     /* no FIX line: the report was cut short */
    RP_HEXDUMP_GAPS = 1 << 7, /* some hexdump rows are absent (elided) */
    RP_TRUNCATED = 1 << 8,    /* a JSON line cut short */
};

struct rp_fault {
    char what[48]; /* "Poison", "Right Redzone", ... */
    bool has_range;
    uint64_t start, end; /* as printed: inclusive; hashed in some kernels */
    bool has_slab_off;
    uint64_t slab_off; /* the "@offset=" of the fault line: from the slab start */
    bool has_first;
    unsigned first, expected;
    /* Derived: where it is in the object, and how long. */
    bool has_obj_off;
    int64_t obj_off; /* negative: in the left red zone */
    bool has_length;
    uint64_t length;
    const char *off_source; /* how obj_off was found (for the reader) */
};

enum rp_section { RP_SEC_REDZONE, RP_SEC_OBJECT, RP_SEC_PADDING, RP_SEC_BYTES_B4 };

struct rp_row {
    uint64_t addr;
    uint8_t section, n;
    uint8_t b[16];
};

struct rp_track {
    bool present;
    struct rp_frame caller; /* "Allocated in <caller> age=..." */
    bool has_age, has_cpu, has_pid;
    long long age; /* jiffies (kernel) or milliseconds (ours) */
    int cpu;
    long long pid;
    int nframes;
    struct rp_frame frames[RP_FRAMES_MAX];
};

struct slub_report {
    int first_line, last_line;
    enum rp_origin origin;
    bool from_json, from_text, kernel_marks;
    bool has_header;
    char cache[RP_NAME_MAX];
    char reason[256]; /* the header's reason, as printed */
    char taint[64];
    char kind[40]; /* canonical: "poison_overwritten", "already_free", ... */
    int nfaults;
    struct rp_fault faults[RP_FAULTS_MAX];
    bool has_pointer;
    uint64_t pointer; /* "Invalid object pointer 0x...", "free object(0x...)" */
    bool has_slab, has_counts;
    uint64_t slab;
    unsigned objects, used;
    bool has_object, has_object_slab_off, has_object_size, has_requested;
    uint64_t object, object_slab_off, object_size, requested_size;
    const char *size_source; /* "report", "hexdump", "cache name" */
    int nrows, rows_dropped;
    struct rp_row rows[RP_ROWS_MAX];
    struct rp_track alloc, free;
    bool has_finder_ctx;
    int finder_cpu;
    long long finder_pid;
    char finder_comm[64];
    bool has_trace;
    int nframes;
    struct rp_frame frames[RP_FRAMES_MAX];
    int nfix;
    char fix[RP_FIX_MAX][160];
    int listed_objects; /* "Objects remaining": how many were listed */
    unsigned missing;   /* RP_MISS_* */
    /* Derived from the hexdump rows: the bytes known around the object,
     * indexed by object offset + RP_WIN_LEFT. */
    bool bytes_positional; /* addresses were hashed: placed by row order */
    bool hashed;           /* the kernel printed hashed pointers (no places) */
    uint8_t bytes[RP_WIN];
    uint8_t known[RP_WIN / 8];
};

/* Whether byte `off` (object offset) is known, and its value. */
bool rp_byte(const struct slub_report *r, int64_t off, uint8_t *v);

/* The stray bytes of a fault, read back from the hexdump. */
struct rp_stray {
    int64_t off;     /* object offset of the first byte */
    uint64_t length; /* as reported */
    int nknown;      /* how many of the bytes the hexdump shows */
    uint8_t bytes[16];
    bool has_word; /* all known, 1/2/4/8 bytes, aligned to their size */
    unsigned width;
    uint64_t word; /* little-endian */
};
/* false when the fault's place in the object is unknown. */
bool rp_stray(const struct slub_report *r, int fault, struct rp_stray *out);

struct slub_parser {
    struct slub_report *reports; /* caller's array */
    int max, n, dropped;
    int line_no;
    struct slub_report *cur;
    int stack; /* where frame lines go: 0 none, 1 alloc, 2 free, 3 trace */
    bool after_fix, skipping;
    int sep_line; /* the last "=====" line: a report starts there */
    /* The 2025 form prints the faults and their FIX lines before the
     * header they belong to. */
    int npending, npending_fix, pending_line;
    struct rp_fault pending[RP_FAULTS_MAX];
    char pending_fix[RP_FIX_MAX][160];
};

void slub_parser_init(struct slub_parser *p, struct slub_report *reports, int max);
/* One input line (without its newline; cut to RP_LINE_MAX). */
void slub_parser_line(struct slub_parser *p, const char *line);
/* Ends the input: closes the last report and derives offsets and bytes. */
void slub_parser_finish(struct slub_parser *p);

/* Parses one JSON report line of ours into r (cleared first); false if the
 * line is not one.  Exposed for tests. */
bool rp_parse_json(const char *line, struct slub_report *r);

#endif

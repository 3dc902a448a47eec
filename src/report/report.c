/*
 * The report writer.  Every finding of the debug checks is printed here, in
 * the layout of the Linux SLUB allocator's reports, from a few helpers
 * (header, tracks, trailer, hexdump, FIX line) reused by every kind, plus
 * one JSON line per report for machines.
 *
 * Findings are captured under the cache lock into per-thread records
 * (bug_new/bug_object) and printed by bugs_flush() after the lock is
 * dropped, because symbolizing a stack may allocate.  While a thread prints,
 * findings of its own nested allocations are repaired without a report.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "base/lock.h"
#include "base/report_mode.h"
#include "base/options.h"
#include "report/bug.h"
#include "base/out.h"
#include "report/symbolize.h"
#include "common/signature.h"

#define PENDING_MAX 4
/* "function+0xoff/0xsize" of one frame; C++ names are long. */
#define FRAME_TEXT_MAX 320

struct pending {
    unsigned n;
    struct bug bug[PENDING_MAX];
};

static _Atomic uint64_t reports_made;
static __thread struct pending *pending;
static __thread int in_report;
__thread const char *bug_context;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER; /* lock order 2 (base/lock.h) */
static int log_fd = -2, json_fd = -2, status_fd = -2;           /* -2: not opened yet */

/* Reports made, by kind (the JSON "kind" names, static strings), in the
 * order of their first appearance; report_lock held. */
static const char *kind_names[REPORT_KINDS_MAX];
static unsigned long kind_counts[REPORT_KINDS_MAX];
static unsigned nr_kinds;

/* ---- capture (cache lock held) ---------------------------------------------- */

struct bug *bug_new(enum bug_kind kind, const char *cache)
{
    if (in_report)
        return NULL;
    if (!pending) {
        void *m = mmap(NULL, sizeof(struct pending), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        pending = m;
    }
    if (pending->n == PENDING_MAX)
        return NULL;
    struct bug *b = &pending->bug[pending->n++];
    memset(b, 0, offsetof(struct bug, snap));
    b->kind = kind;
    b->cache = cache;
    b->context = bug_context;
    /* No stack here: this runs under a cache lock, and the unwinder may
     * allocate on first use.  bugs_flush() captures the finder's stack. */
    b->nframes = 0;
    return b;
}

void bug_object(struct bug *b, struct kmem_cache *c, struct slab *s, void *p)
{
    b->flags = c->debug;
    if (s) {
        b->has_slab = true;
        b->slab = (uintptr_t)s;
        b->slab_start = (uintptr_t)s->start;
        b->slab_fp = (uintptr_t)s->freelist;
        b->objects = s->objects;
        b->inuse = s->inuse;
    }
    if (!p)
        return;
    b->has_object = true;
    b->object = (uintptr_t)p;
    b->object_fp = (uintptr_t)fp_get(c, p);
    b->red_left_pad = c->red_left_pad;
    b->object_size = c->size;
    b->cache_inuse = c->debug ? c->inuse : c->size;
    b->pad_offset = c->debug ? c->pad_offset : c->size;
    b->slot_size = c->debug ? c->stride : c->size;
    b->orig_size = s->meta ? get_meta(c, s, p)->orig_size : c->size;
    /* The slot as it is now: left red zone, object (at most
     * BUG_OBJECT_SHOWN bytes of it), everything behind it. */
    size_t shown = c->size < BUG_OBJECT_SHOWN ? c->size : BUG_OBJECT_SHOWN;
    size_t tail = c->debug ? c->stride - c->red_left_pad - c->size : 0;
    if (tail > BUG_SNAPSHOT - BUG_OBJECT_SHOWN - c->red_left_pad)
        tail = 0;
    char *slot = (char *)p - c->red_left_pad;
    memcpy(b->snap, slot, c->red_left_pad + shown);
    memcpy(b->snap + c->red_left_pad + shown, (char *)p + c->size, tail);
    b->snap_len = (uint32_t)(c->red_left_pad + shown + tail);
    if ((c->debug & SLAB_STORE_USER) && s->meta) {
        b->has_tracks = true;
        memcpy(b->track, get_track(c, s, p, TRACK_ALLOC), sizeof(b->track));
    }
}

/* ---- printing helpers ---------------------------------------------------------- */

static int open_dest(const char *value, int fallback)
{
    if (!value[0])
        return -1;
    if (!strcmp(value, "stderr"))
        return 2;
    int fd = out_open_dest(value);
    return fd < 0 ? fallback : fd;
}

static char syslog_prefix[48]; /* "<11>slabdbg[pid]: " when logging to syslog */
/* A setuid/setgid program: its reports must not show its memory to
 * whoever runs it (the object's bytes are left out). */
static bool secure;

/* color=: SGR sequences around a report's key lines, as dmesg --color
 * marks the kernel's: the BUG header red, the FIX line green, the track
 * headers and the summary bold.  Only on a terminal with color=auto. */
static bool color;
#define COLOR_BUG "\033[1;31m"
#define COLOR_FIX "\033[32m"
#define COLOR_HEAD "\033[1m"
#define COLOR_SUMMARY "\033[1;33m"
#define COLOR_OFF "\033[0m"

static void out_color(struct out *o, const char *seq)
{
    if (color)
        out_str(o, seq);
}

static void open_outputs(void)
{
    if (log_fd != -2)
        return;
    secure = getauxval(AT_SECURE) != 0;
    if (!strcmp(opt.log, "syslog")) {
        log_fd = out_open_syslog();
        if (log_fd < 0) {
            options_warn("SLABDBG_OPTIONS: log=syslog: no /dev/log; reports go to stderr");
            log_fd = 2;
        } else {
            struct out p;
            out_init(&p, -1);
            out_str(&p, "<11>slabdbg[");
            out_u64(&p, (uint64_t)getpid());
            out_str(&p, "]: ");
            memcpy(syslog_prefix, p.buf, p.len);
        }
    } else {
        log_fd = open_dest(opt.log, 2);
    }
    json_fd = open_dest(opt.json, -1);
    status_fd = open_dest(opt.status_file, -1);
    color = log_fd >= 0 && !syslog_prefix[0] &&
            (!strcmp(opt.color, "always") || (!strcmp(opt.color, "auto") && isatty(log_fd)));
}

/* "func+0xoff/0xsize", and in `where` "file:line" when known.  Frames other
 * than the innermost are return addresses: looked up at pc - 1 (the call),
 * printed with the return address's offset, as the kernel prints them. */
static void frame_text(uintptr_t pc, bool ret, char *buf, size_t size, char *where, size_t wsize)
{
    struct sym_info si;
    where[0] = 0;
    if (symbolize_pc(ret ? pc - 1 : pc, &si) < 0) {
        si.func[0] = 0;
        si.module = NULL;
        si.size = 0;
    }
    if (ret)
        si.offset++, si.pc = pc;
    sym_format(&si, buf, size);
    if (si.file[0] && si.line) {
        size_t n = strlen(si.file);
        const char *f = si.file;
        if (n > wsize - 16)
            f += n - (wsize - 16);
        struct out o;
        out_init(&o, -1);
        out_str(&o, f);
        out_char(&o, ':');
        out_u64(&o, (uint64_t)si.line);
        size_t l = o.len < wsize - 1 ? o.len : wsize - 1;
        memcpy(where, o.buf, l);
        where[l] = 0;
    }
}

static void print_stack(struct out *o, const uintptr_t *f, unsigned n, bool first_is_pc)
{
    char fn[FRAME_TEXT_MAX], where[256];
    for (unsigned i = 0; i < n; i++) {
        frame_text(f[i], !(first_is_pc && i == 0), fn, sizeof(fn), where, sizeof(where));
        out_char(o, ' ');
        out_str(o, fn);
        if (where[0]) {
            out_char(o, ' ');
            out_str(o, where);
        }
        out_char(o, '\n');
    }
}

static void print_track(struct out *o, const char *what, const struct track *t, uint64_t now)
{
    if (!t->addr)
        return;
    char fn[FRAME_TEXT_MAX], where[256];
    frame_text(t->addr, true, fn, sizeof(fn), where, sizeof(where));
    out_color(o, COLOR_HEAD);
    out_str(o, what);
    out_str(o, " in ");
    out_str(o, fn);
    out_str(o, " age=");
    out_u64(o, now > t->when ? (now - t->when) / 1000000 : 0);
    out_str(o, " cpu=");
    out_u64(o, (uint64_t)(t->cpu < 0 ? 0 : t->cpu));
    out_str(o, " pid=");
    out_u64(o, (uint64_t)t->pid);
    out_color(o, COLOR_OFF);
    out_char(o, '\n');
    const uintptr_t *frames;
    unsigned n = depot_fetch(t->handle, &frames);
    print_stack(o, frames, n, false);
}

static void out_hex2(struct out *o, unsigned v)
{
    static const char digits[] = "0123456789abcdef";
    out_char(o, digits[(v >> 4) & 15]);
    out_char(o, digits[v & 15]);
}

static void out_addr(struct out *o, uintptr_t a)
{
    for (int shift = 60; shift >= 0; shift -= 4)
        out_char(o, "0123456789abcdef"[(a >> shift) & 15]);
}

/* print_section: "<text><address>: xx xx ... (16 a line)  <ascii>" */
static void print_section(struct out *o, const char *text, uintptr_t addr, const uint8_t *p,
                          size_t len)
{
    for (size_t off = 0; off < len; off += 16) {
        size_t n = len - off < 16 ? len - off : 16;
        out_str(o, text);
        out_addr(o, addr + off);
        out_str(o, ": ");
        for (size_t i = 0; i < 16; i++) {
            if (i < n) {
                out_hex2(o, p[off + i]);
                if (i + 1 < n)
                    out_char(o, ' ');
            } else {
                out_str(o, "   ");
            }
        }
        out_str(o, "  ");
        for (size_t i = 0; i < n; i++) {
            uint8_t ch = p[off + i];
            out_char(o, ch >= 0x20 && ch < 0x7f ? (char)ch : '.');
        }
        out_char(o, '\n');
    }
}

static void print_slab_line(struct out *o, const struct bug *b)
{
    out_str(o, "Slab ");
    out_hex(o, b->slab);
    out_str(o, " objects=");
    out_u64(o, b->objects);
    out_str(o, " used=");
    out_u64(o, b->inuse);
    out_str(o, " fp=");
    out_hex(o, b->slab_fp);
    out_str(o, " flags=");
    out_hex(o, b->flags);
    out_char(o, '\n');
}

/* print_trailer: tracks, Slab and Object lines, the slot's bytes. */
static void print_trailer(struct out *o, const struct bug *b, uint64_t now)
{
    if (b->has_tracks) {
        print_track(o, "Allocated", &b->track[TRACK_ALLOC], now);
        print_track(o, "Freed", &b->track[TRACK_FREE], now);
    }
    if (b->has_slab)
        print_slab_line(o, b);
    if (!b->has_object)
        return;
    out_str(o, "Object ");
    out_hex(o, b->object);
    out_str(o, " @offset=");
    out_u64(o, b->object - b->slab_start);
    out_str(o, " fp=");
    out_hex(o, b->object_fp);
    out_str(o, "\n\n");
    if (secure) {
        out_str(o, "(object bytes not shown in a setuid/setgid program)\n");
        return;
    }
    const uint8_t *snap = b->snap;
    uintptr_t obj = b->object;
    size_t shown = b->object_size < BUG_OBJECT_SHOWN ? b->object_size : BUG_OBJECT_SHOWN;
    if (b->red_left_pad)
        print_section(o, "Redzone  ", obj - b->red_left_pad, snap, b->red_left_pad);
    print_section(o, "Object   ", obj, snap + b->red_left_pad, shown);
    const uint8_t *tail = snap + b->red_left_pad + shown;
    size_t tail_len = b->snap_len - b->red_left_pad - shown;
    uintptr_t tail_addr = obj + b->object_size;
    if ((b->flags & SLAB_RED_ZONE) && tail_len) {
        size_t rz = b->cache_inuse - b->object_size;
        print_section(o, "Redzone  ", tail_addr, tail, rz);
    }
    /* Free pointer, tracks and info are not shown (as in SLUB); the
     * padding behind them is. */
    size_t meta = b->pad_offset - b->object_size;
    if (tail_len > meta)
        print_section(o, "Padding  ", tail_addr + meta, tail + meta, tail_len - meta);
}

static void print_finder(struct out *o, const struct bug *b)
{
    bool first_is_pc = b->kind == BUG_GUARD_ACCESS;
    char name[32];
    out_comm(name, sizeof(name));
    out_str(o, "CPU: ");
    int cpu = sched_getcpu();
    out_u64(o, (uint64_t)(cpu < 0 ? 0 : cpu));
    out_str(o, " PID: ");
    out_u64(o, (uint64_t)gettid());
    out_str(o, " Comm: ");
    out_str(o, name);
    out_str(o, " Not tainted\nCall Trace:\n");
    print_stack(o, b->frames, b->nframes, first_is_pc);
}

/* The machine name of a guard finding: "use_after_free_write",
 * "out_of_bounds_read_left", ... */
static const char *guard_kind_name(const struct bug *b)
{
    static const char *names[2][2][3] = {
        {{"out_of_bounds_read_left", "out_of_bounds_read", "out_of_bounds_read_right"},
         {"out_of_bounds_write_left", "out_of_bounds_write", "out_of_bounds_write_right"}},
        {{"use_after_free_read", "use_after_free_read", "use_after_free_read"},
         {"use_after_free_write", "use_after_free_write", "use_after_free_write"}},
    };
    return names[b->freed][b->write][b->side + 1];
}

static const char *kind_name(const struct bug *b)
{
    if (b->kind == BUG_GUARD_ACCESS || b->kind == BUG_GUARD_SLACK)
        return guard_kind_name(b);
    if (b->kind == BUG_GUARD_DOUBLE_FREE)
        return "double_free";
    if (b->kind == BUG_GUARD_INVALID_FREE)
        return "invalid_free";
    static const char *names[] = {
        [BUG_BYTES] = "overwritten",
        [BUG_SLAB_PADDING] = "padding_overwritten",
        [BUG_ALREADY_FREE] = "already_free",
        [BUG_INVALID_POINTER] = "invalid_pointer",
        [BUG_OUTSIDE_SLAB] = "outside_slab",
        [BUG_WRONG_CACHE] = "wrong_cache",
        [BUG_FREEPOINTER] = "freepointer_corrupt",
        [BUG_FREECHAIN] = "freechain_corrupt",
        [BUG_WRONG_COUNT] = "wrong_count",
        [BUG_OBJECTS_REMAINING] = "objects_remaining",
        [BUG_ALLOC_MISMATCH] = "alloc_dealloc_mismatch",
        [BUG_SIZE_MISMATCH] = "sized_delete_mismatch",
        [BUG_TRACE_ALLOC] = "trace_alloc",
        [BUG_TRACE_FREE] = "trace_free",
    };
    return names[b->kind];
}

/* The allocation and free functions of each family (enum alloc_family). */
static const char *const family_alloc[] = {"malloc", "operator new", "operator new[]", "?"};
static const char *const family_free[] = {"free", "operator delete", "operator delete[]", "?"};

static const char *family_name(const char *const names[4], unsigned f)
{
    return names[f < 4 ? f : 3];
}

/* The header's reason, as SLUB words it. */
static void print_reason(struct out *o, const struct bug *b)
{
    switch (b->kind) {
    case BUG_BYTES:
        out_str(o, b->what);
        out_str(o, " overwritten");
        break;
    case BUG_SLAB_PADDING:
        out_str(o, "Padding overwritten. ");
        out_hex(o, b->fault_start);
        out_char(o, '-');
        out_hex(o, b->fault_end);
        out_str(o, " @offset=");
        out_u64(o, b->fault_start - b->slab_start);
        break;
    case BUG_ALREADY_FREE:
        out_str(o, "Object already free");
        break;
    case BUG_INVALID_POINTER:
        out_str(o, "Invalid object pointer ");
        out_hex(o, b->ptr);
        break;
    case BUG_OUTSIDE_SLAB:
        out_str(o, "Attempt to free object(");
        out_hex(o, b->ptr);
        out_str(o, ") outside of slab");
        break;
    case BUG_WRONG_CACHE:
        out_str(o, "Wrong slab cache. ");
        out_str(o, b->cache);
        out_str(o, " but object is from ");
        out_str(o, b->other_cache);
        break;
    case BUG_FREEPOINTER:
        out_str(o, "Freepointer corrupt");
        break;
    case BUG_FREECHAIN:
        out_str(o, "Freechain corrupt");
        break;
    case BUG_WRONG_COUNT:
        out_str(o, "Wrong number of objects. Found ");
        out_u64(o, (uint64_t)b->found);
        out_str(o, " but should be ");
        out_u64(o, (uint64_t)b->should_be);
        break;
    case BUG_OBJECTS_REMAINING:
        out_str(o, "Objects remaining in ");
        out_str(o, b->cache);
        out_str(o, " on kmem_cache_destroy()");
        break;
    case BUG_ALLOC_MISMATCH: /* worded as "Wrong slab cache. X but object is from Y" */
        out_str(o, "Mismatched free. ");
        out_str(o, family_name(family_free, b->free_family));
        out_str(o, " but object is from ");
        out_str(o, family_name(family_alloc, b->alloc_family));
        break;
    case BUG_SIZE_MISMATCH:
        out_str(o, "Wrong size in sized delete. ");
        out_u64(o, (uint64_t)b->found);
        out_str(o, " but object is ");
        out_u64(o, (uint64_t)b->should_be);
        out_str(o, " bytes");
        break;
    case BUG_GUARD_ACCESS:
    case BUG_GUARD_SLACK: {
        out_str(o, b->freed ? "use-after-free " : "out-of-bounds ");
        out_str(o, b->write ? "write" : "read");
        if (b->kind == BUG_GUARD_SLACK) {
            out_str(o, b->side < 0 ? " left of the object (found at free)"
                                   : " right of the object (found at free)");
            break;
        }
        char fn[FRAME_TEXT_MAX], where[256];
        frame_text(b->fault_pc, false, fn, sizeof(fn), where, sizeof(where));
        out_str(o, " in ");
        out_str(o, fn);
        break;
    }
    case BUG_GUARD_DOUBLE_FREE:
        out_str(o, "double free");
        break;
    case BUG_GUARD_INVALID_FREE:
        out_str(o, "invalid free of ");
        out_hex(o, b->ptr);
        break;
    default:
        break;
    }
}

/* Where a guarded access fell: "0x...: object 0x... (1024 bytes) offset
 * 0x2c8 (712), freed" or "... 1 byte right of its end". */
static void print_guard_access(struct out *o, const struct bug *b)
{
    long d = b->distance;
    out_str(o, "Access at ");
    out_hex(o, b->fault_start);
    out_str(o, ": object ");
    out_hex(o, b->object);
    out_str(o, " (");
    out_u64(o, b->obj_size);
    out_str(o, " bytes)");
    if (b->side) {
        out_char(o, ' ');
        out_u64(o, (uint64_t)d);
        out_str(o, d == 1 ? " byte " : " bytes ");
        out_str(o, b->side < 0 ? "left of it" : "right of its end");
    } else {
        out_str(o, " offset ");
        out_hex(o, b->fault_start - b->object);
        out_str(o, " (");
        out_u64(o, b->fault_start - b->object);
        out_char(o, ')');
    }
    out_str(o, b->freed ? ", freed\n" : "\n");
    if (b->kind == BUG_GUARD_SLACK) {
        out_str(o, "First byte ");
        out_hex(o, b->first_byte);
        out_str(o, " instead of ");
        out_hex(o, b->expected);
        out_char(o, '\n');
    }
}

static void print_fix(struct out *o, const struct bug *b)
{
    out_color(o, COLOR_FIX);
    out_str(o, "FIX ");
    out_str(o, b->cache);
    out_str(o, ": ");
    switch (b->kind) {
    case BUG_BYTES:
    case BUG_SLAB_PADDING:
        out_str(o, "Restoring ");
        out_str(o, b->kind == BUG_BYTES ? b->what : "slab padding");
        out_char(o, ' ');
        out_hex(o, b->fault_start);
        out_char(o, '-');
        out_hex(o, b->fault_end);
        out_char(o, '=');
        out_hex(o, b->expected);
        break;
    case BUG_FREEPOINTER:
    case BUG_FREECHAIN:
        out_str(o, "Isolate corrupted freechain");
        break;
    case BUG_WRONG_COUNT:
        out_str(o, "Number of objects adjusted");
        break;
    case BUG_OBJECTS_REMAINING:
        out_str(o, "Cache left in place");
        break;
    case BUG_ALLOC_MISMATCH:
    case BUG_SIZE_MISMATCH:
        out_str(o, "Object at ");
        out_hex(o, b->ptr);
        out_str(o, " freed all the same");
        break;
    default:
        out_str(o, "Object at ");
        out_hex(o, b->ptr);
        out_str(o, " not freed");
    }
    out_color(o, COLOR_OFF);
    out_char(o, '\n');
}

/* ---- the plain-words summary -------------------------------------------------
 * After the kernel's lines, for readers who never read a SLUB report: what
 * happened in words, where in the object, which stack is which, and how to
 * have `slabdbg explain` go further.  Every line starts "Summary: " (or
 * "explain: "), never with a space: readers of the kernel's format take
 * indented lines for stack frames.  summary=0 leaves it out. */

/* "put_request" for a frame: its function name without offset and size;
 * the address when no name is known. */
static void frame_name(uintptr_t pc, bool ret, char *buf, size_t size)
{
    char where[64];
    frame_text(pc, ret, buf, size, where, sizeof(where));
    char *plus = strchr(buf, '+');
    if (plus && plus != buf)
        *plus = 0;
}

static void out_plural(struct out *o, uint64_t n, const char *one)
{
    out_u64(o, n);
    out_char(o, ' ');
    out_str(o, one);
    if (n != 1)
        out_char(o, 's');
}

/* "offset 0x2c8 (712)" */
static void out_offset(struct out *o, uint64_t off)
{
    out_str(o, "offset ");
    out_hex(o, off);
    out_str(o, " (");
    out_u64(o, off);
    out_char(o, ')');
}

/* "a 64" or "an 8", "an 11", "an 18000": English reads the number. */
static void out_a_number(struct out *o, uint64_t n)
{
    char d[24];
    struct out t;
    out_init(&t, -1);
    out_u64(&t, n);
    size_t len = t.len < sizeof(d) - 1 ? t.len : sizeof(d) - 1;
    memcpy(d, t.buf, len);
    d[len] = 0;
    bool an = d[0] == '8' || (len % 3 == 2 && d[0] == '1' && (d[1] == '1' || d[1] == '8'));
    out_str(o, an ? "an " : "a ");
    out_str(o, d);
}

static void out_object_size(struct out *o, const struct bug *b)
{
    out_a_number(o, b->object_size);
    out_str(o, "-byte ");
    out_str(o, b->cache);
    out_str(o, " object");
    if (b->orig_size != b->object_size) {
        out_str(o, " (");
        out_u64(o, b->orig_size);
        out_str(o, " bytes requested)");
    }
}

static bool track_known(const struct bug *b, enum track_item i)
{
    return b->has_tracks && b->track[i].addr;
}

static void out_track_name(struct out *o, const struct bug *b, enum track_item i)
{
    char fn[FRAME_TEXT_MAX];
    frame_name(b->track[i].addr, true, fn, sizeof(fn));
    out_str(o, fn);
}

/* The finder: the first frame of the code that found the bug. */
static void out_finder_name(struct out *o, const struct bug *b)
{
    char fn[FRAME_TEXT_MAX];
    if (!b->nframes) {
        out_str(o, "an unknown function");
        return;
    }
    frame_name(b->frames[0], b->kind != BUG_GUARD_ACCESS, fn, sizeof(fn));
    out_str(o, fn);
}

static void summary_start(struct out *o)
{
    out_color(o, COLOR_SUMMARY);
    out_str(o, "Summary:");
    out_color(o, COLOR_OFF);
    out_char(o, ' ');
}

/* The bytes of a BUG_BYTES finding: "4 bytes written at offset 0x2c8 (712)
 * of a 1024-byte kmalloc-1024 object after it was freed". */
static void summary_bytes(struct out *o, const struct bug *b, uint64_t now)
{
    uint64_t len = b->fault_end - b->fault_start + 1;
    bool freed = !strcmp(b->what, "Poison") || !strcmp(b->what, "End Poison");
    summary_start(o);
    out_plural(o, len, "byte");
    out_str(o, len == 1 ? " was written " : " were written ");
    if (!b->has_object) {
        out_str(o, "over the ");
        out_str(o, b->what);
        out_str(o, " bytes\n");
        return;
    }
    int64_t off = (int64_t)(b->fault_start - b->object);
    if (off < 0) {
        out_plural(o, (uint64_t)-off, "byte");
        out_str(o, " before the start of ");
        out_object_size(o, b);
        out_str(o, ": an underflow");
    } else {
        out_str(o, "at ");
        out_offset(o, (uint64_t)off);
        out_str(o, " of ");
        out_object_size(o, b);
        if (freed) {
            out_str(o, " after it was freed");
            if (track_known(b, TRACK_FREE)) {
                out_str(o, " by ");
                out_track_name(o, b, TRACK_FREE);
                out_str(o, " (found ");
                uint64_t when = b->track[TRACK_FREE].when;
                out_u64(o, now > when ? (now - when) / 1000000 : 0);
                out_str(o, " ms after the free)");
            }
            out_str(o, ": a write after free");
        } else if ((uint64_t)off >= b->object_size) {
            out_str(o, ", ");
            out_plural(o, (uint64_t)off - b->object_size + 1, "byte");
            out_str(o, " past its end: an overflow");
        } else if ((uint64_t)off >= b->orig_size) {
            out_str(o, ", ");
            out_plural(o, (uint64_t)off - b->orig_size + 1, "byte");
            out_str(o, " past the size requested: an overflow");
        }
    }
    if (!strcmp(b->what, "Object padding") || !strcmp(b->what, "Alignment padding"))
        out_str(o, " (into the padding behind the object)");
    out_char(o, '\n');
    summary_start(o);
    if (track_known(b, TRACK_ALLOC)) {
        out_str(o, "allocated by ");
        out_track_name(o, b, TRACK_ALLOC);
        if (track_known(b, TRACK_FREE)) {
            out_str(o, ", freed by ");
            out_track_name(o, b, TRACK_FREE);
        }
        out_str(o, "; ");
    }
    out_str(o, "found by ");
    if (b->context) {
        out_str(o, b->context);
    } else {
        out_finder_name(o, b);
        out_str(o, " (Call Trace), which looked at the object after the damage was done");
    }
    out_char(o, '\n');
    summary_start(o);
    out_str(o, "the code that wrote is in none of these stacks; SLABDBG=G,");
    out_str(o, b->cache);
    out_str(o, " stops it in the act\n");
}

static void summary_free(struct out *o, const struct bug *b)
{
    summary_start(o);
    switch (b->kind) {
    case BUG_ALREADY_FREE:
        out_str(o, "double free: ");
        out_finder_name(o, b);
        out_str(o, " freed ");
        if (b->has_object)
            out_object_size(o, b);
        else
            out_str(o, "an object");
        out_str(o, " that was already free");
        if (track_known(b, TRACK_FREE)) {
            out_str(o, " (freed before by ");
            out_track_name(o, b, TRACK_FREE);
            out_char(o, ')');
        }
        break;
    case BUG_INVALID_POINTER:
        out_str(o, "invalid free: ");
        out_finder_name(o, b);
        out_str(o, " freed ");
        out_hex(o, b->ptr);
        out_str(o, ", which is not the start of an object of ");
        out_str(o, b->cache);
        break;
    case BUG_OUTSIDE_SLAB:
        out_str(o, "invalid free: ");
        out_finder_name(o, b);
        out_str(o, " freed ");
        out_hex(o, b->ptr);
        out_str(o, ", memory that malloc did not hand out (the stack, static data, "
                   "another allocator's)");
        break;
    case BUG_WRONG_CACHE:
        out_str(o, "wrong cache: ");
        out_finder_name(o, b);
        out_str(o, " freed an object of ");
        out_str(o, b->other_cache);
        out_str(o, " to ");
        out_str(o, b->cache);
        break;
    default:
        break;
    }
    out_str(o, "; the free was ignored\n");
}

static void summary_guard(struct out *o, const struct bug *b)
{
    summary_start(o);
    out_str(o, b->write ? "a write " : "a read ");
    if (b->side) {
        out_plural(o, (uint64_t)b->distance, "byte");
        out_str(o, b->side < 0 ? " before the start of " : " past the end of ");
    } else {
        out_str(o, "at ");
        out_offset(o, b->fault_start - b->object);
        out_str(o, " of ");
    }
    out_a_number(o, b->obj_size);
    out_str(o, "-byte object");
    out_str(o, b->freed ? " after it was freed" : "");
    if (b->kind == BUG_GUARD_SLACK) {
        out_str(o, ", seen when it was freed\n");
    } else {
        out_str(o, ", by ");
        char fn[FRAME_TEXT_MAX];
        frame_name(b->fault_pc, false, fn, sizeof(fn));
        out_str(o, fn);
        out_str(o, " (the first frame of the Call Trace)\n");
    }
}

static void summary_mismatch(struct out *o, const struct bug *b)
{
    summary_start(o);
    out_finder_name(o, b);
    out_str(o, " gave ");
    out_object_size(o, b);
    if (b->kind == BUG_ALLOC_MISMATCH) {
        out_str(o, " to ");
        out_str(o, family_name(family_free, b->free_family));
        out_str(o, ", but it was allocated with ");
        out_str(o, family_name(family_alloc, b->alloc_family));
    } else {
        out_str(o, " to a sized delete of ");
        out_u64(o, (uint64_t)b->found);
        out_str(o, " bytes (deleted through a pointer to another type?)");
    }
    if (track_known(b, TRACK_ALLOC)) {
        out_str(o, " by ");
        out_track_name(o, b, TRACK_ALLOC);
    }
    out_str(o, "; freed all the same\n");
}

static void print_summary(struct out *o, const struct bug *b, uint64_t now)
{
    if (!opt.summary)
        return;
    switch (b->kind) {
    case BUG_BYTES:
        summary_bytes(o, b, now);
        break;
    case BUG_SLAB_PADDING:
        summary_start(o);
        out_str(o, "bytes at the end of a slab, behind its last object, were overwritten\n");
        break;
    case BUG_ALREADY_FREE:
    case BUG_INVALID_POINTER:
    case BUG_OUTSIDE_SLAB:
    case BUG_WRONG_CACHE:
        summary_free(o, b);
        break;
    case BUG_FREEPOINTER:
    case BUG_FREECHAIN:
        summary_start(o);
        out_str(o, "the free-list pointer of a free object was overwritten, most likely a "
                   "write after free");
        if (track_known(b, TRACK_FREE)) {
            out_str(o, " (freed by ");
            out_track_name(o, b, TRACK_FREE);
            out_char(o, ')');
        }
        out_str(o, "; the slab's remaining free objects are no longer used\n");
        break;
    case BUG_WRONG_COUNT:
        summary_start(o);
        out_str(o, "the slab's count of objects in use is wrong: the slab was corrupted\n");
        break;
    case BUG_OBJECTS_REMAINING:
        summary_start(o);
        out_plural(o, b->nr_remaining, "object");
        out_str(o, " of ");
        out_str(o, b->cache);
        out_str(o, b->nr_remaining == 1 ? " was" : " were");
        out_str(o, " still allocated when the cache was destroyed (a leak)\n");
        break;
    case BUG_ALLOC_MISMATCH:
    case BUG_SIZE_MISMATCH:
        summary_mismatch(o, b);
        break;
    case BUG_GUARD_ACCESS:
    case BUG_GUARD_SLACK:
        summary_guard(o, b);
        break;
    case BUG_GUARD_DOUBLE_FREE:
    case BUG_GUARD_INVALID_FREE:
        summary_start(o);
        out_str(o, b->kind == BUG_GUARD_DOUBLE_FREE ? "double free of " : "invalid free of ");
        out_hex(o, b->ptr);
        out_str(o, " by ");
        out_finder_name(o, b);
        out_char(o, '\n');
        break;
    default:
        return;
    }
    out_str(o, "explain: slabdbg explain ");
    if (!strcmp(opt.log, "stderr") || !strcmp(opt.log, "1") || !strcmp(opt.log, "syslog")) {
        out_str(o, "<this log>");
    } else {
        char path[512];
        out_dest_path(opt.log, path, sizeof(path));
        out_str(o, path);
    }
    out_char(o, '\n');
}

/* One report at a time (report_lock): each is written with one write(2)
 * when it fits, so reports appended to one file by several processes never
 * interleave. */
static char report_buf[64 << 10];

static void print_text(int fd, const struct bug *b, uint64_t now)
{
    struct out o;
    out_init_buffer(&o, fd, report_buf, sizeof(report_buf));
    if (syslog_prefix[0])
        o.line_prefix = syslog_prefix;
    if (b->kind == BUG_TRACE_ALLOC || b->kind == BUG_TRACE_FREE) {
        out_str(&o, "TRACE ");
        out_str(&o, b->cache);
        out_str(&o, b->kind == BUG_TRACE_ALLOC ? " alloc " : " free ");
        out_hex(&o, b->object);
        out_str(&o, " inuse=");
        out_u64(&o, b->inuse);
        out_str(&o, " fp=");
        out_hex(&o, b->slab_fp);
        out_char(&o, '\n');
        if (b->kind == BUG_TRACE_FREE)
            print_section(&o, "Object ", b->object, b->snap + b->red_left_pad,
                          b->object_size < 64 ? b->object_size : 64);
        print_stack(&o, b->frames, b->nframes, false);
        out_flush(&o);
        return;
    }
    out_str(&o, "=============================================================================\n");
    out_color(&o, COLOR_BUG);
    out_str(&o, "BUG ");
    out_str(&o, b->cache);
    out_str(&o, " (Not tainted): ");
    print_reason(&o, b);
    out_color(&o, COLOR_OFF);
    out_str(&o, "\n-----------------------------------------------------------------------------"
                "\n\n");
    if (b->kind == BUG_BYTES) {
        out_hex(&o, b->fault_start);
        out_char(&o, '-');
        out_hex(&o, b->fault_end);
        out_str(&o, " @offset=");
        out_u64(&o, b->fault_start - b->slab_start);
        out_str(&o, ". First byte ");
        out_hex(&o, b->first_byte);
        out_str(&o, " instead of ");
        out_hex(&o, b->expected);
        out_char(&o, '\n');
    }
    if (b->kind >= BUG_GUARD_ACCESS) {
        if (b->kind == BUG_GUARD_ACCESS || b->kind == BUG_GUARD_SLACK)
            print_guard_access(&o, b);
        print_track(&o, "Allocated", &b->track[TRACK_ALLOC], now);
        print_track(&o, "Freed", &b->track[TRACK_FREE], now);
        print_finder(&o, b);
        if (b->kind == BUG_GUARD_ACCESS)
            out_str(&o, opt.guard_continue
                            ? "Guard: the access goes through; the page is guarded again after it\n"
                            : "Guard: the process ends with the fault's signal "
                              "(SLABDBG_OPTIONS=guard_continue=1 to go on)\n");
        else if (b->kind != BUG_GUARD_SLACK)
            print_fix(&o, b);
        print_summary(&o, b, now);
        out_char(&o, '\n');
        out_flush(&o);
        return;
    }
    if (b->kind == BUG_OBJECTS_REMAINING) {
        for (unsigned i = 0; i < b->nr_listed; i++) {
            out_str(&o, "Object ");
            out_hex(&o, b->listed[i]);
            out_char(&o, '\n');
            print_track(&o, "Allocated", &b->listed_alloc[i], now);
        }
        if (b->nr_remaining > b->nr_listed) {
            out_str(&o, "... and ");
            out_u64(&o, b->nr_remaining - b->nr_listed);
            out_str(&o, " more objects\n");
        }
    } else {
        print_trailer(&o, b, now);
    }
    print_finder(&o, b);
    print_fix(&o, b);
    print_summary(&o, b, now);
    out_char(&o, '\n');
    out_flush(&o);
}

/* ---- JSON --------------------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at s (1 to 4), or 0 when it is
 * not one (a stray continuation byte, a truncated sequence, an overlong
 * form, a surrogate, beyond U+10FFFF). */
static int utf8_valid(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    int n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
    if (!n || c >= 0xf5 || c == 0xc0 || c == 0xc1)
        return 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0) || (c == 0xf0 && s[1] < 0x90) ||
        (c == 0xf4 && s[1] >= 0x90))
        return 0;
    return n;
}

/* A JSON string: quotes and backslashes escaped, control bytes as \uXXXX,
 * and each byte that is not part of valid UTF-8 (a cache name or a symbol
 * may hold anything) as U+FFFD, so that every line is valid JSON. */
static void json_str(struct out *o, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    out_char(o, '"');
    while (*s) {
        int n = utf8_valid(s);
        if (*s == '"' || *s == '\\') {
            out_char(o, '\\');
            out_char(o, (char)*s);
        } else if (*s < 0x20 || *s == 0x7f) {
            out_str(o, "\\u00");
            out_hex2(o, *s);
        } else if (!n) {
            out_str(o, "\\ufffd");
            n = 1;
        } else {
            for (int i = 0; i < n; i++)
                out_char(o, (char)s[i]);
        }
        s += n ? n : 1;
    }
    out_char(o, '"');
}

static void json_key(struct out *o, const char *k)
{
    out_char(o, ',');
    json_str(o, k);
    out_char(o, ':');
}

static void json_hex(struct out *o, const char *k, uintptr_t v)
{
    char buf[24];
    struct out t;
    out_init(&t, -1);
    out_hex(&t, v);
    memcpy(buf, t.buf, t.len);
    buf[t.len] = 0;
    json_key(o, k);
    json_str(o, buf);
}

static void json_u64(struct out *o, const char *k, uint64_t v)
{
    json_key(o, k);
    out_u64(o, v);
}

/* Offsets before an object (left red zone) are negative. */
static void json_i64(struct out *o, const char *k, int64_t v)
{
    json_key(o, k);
    if (v < 0)
        out_char(o, '-');
    out_u64(o, v < 0 ? (uint64_t)-v : (uint64_t)v);
}

static void json_stack(struct out *o, const char *k, const uintptr_t *f, unsigned n,
                       bool first_is_pc)
{
    char fn[FRAME_TEXT_MAX], where[256];
    json_key(o, k);
    out_char(o, '[');
    for (unsigned i = 0; i < n; i++) {
        frame_text(f[i], !(first_is_pc && i == 0), fn, sizeof(fn), where, sizeof(where));
        if (i)
            out_char(o, ',');
        out_str(o, "{\"pc\":");
        out_char(o, '"');
        out_hex(o, f[i]);
        out_str(o, "\",\"function\":");
        json_str(o, fn);
        if (where[0]) {
            out_str(o, ",\"where\":");
            json_str(o, where);
        }
        out_char(o, '}');
    }
    out_char(o, ']');
}

static void json_track(struct out *o, const char *k, const struct track *t, uint64_t now)
{
    if (!t->addr)
        return;
    char fn[FRAME_TEXT_MAX], where[256];
    frame_text(t->addr, true, fn, sizeof(fn), where, sizeof(where));
    json_key(o, k);
    out_str(o, "{\"function\":");
    json_str(o, fn);
    json_u64(o, "age_ms", now > t->when ? (now - t->when) / 1000000 : 0);
    json_u64(o, "cpu", (uint64_t)(t->cpu < 0 ? 0 : t->cpu));
    json_u64(o, "pid", (uint64_t)t->pid);
    const uintptr_t *frames;
    unsigned n = depot_fetch(t->handle, &frames);
    json_stack(o, "stack", frames, n, false);
    out_char(o, '}');
}

/* "bytes": the stray bytes as found (hex), from the snapshot of the slot. */
static void json_bytes(struct out *o, const struct bug *b)
{
    if (!b->has_object || secure)
        return;
    uintptr_t slot = b->object - b->red_left_pad;
    if (b->fault_start < slot || b->fault_end >= slot + b->snap_len)
        return; /* beyond what the snapshot holds (a very large object) */
    json_key(o, "bytes");
    out_char(o, '"');
    for (uintptr_t a = b->fault_start; a <= b->fault_end && a - b->fault_start < 64; a++)
        out_hex2(o, b->snap[a - slot]);
    out_char(o, '"');
}

/* "signature": common/signature.h over the kind, the cache and the first
 * frames of the relevant stack, as printed (so slabdbg triage, which
 * computes it from the same text, agrees). */
static void json_signature(struct out *o, const struct bug *b)
{
    enum slabdbg_sig_stack order[3];
    slabdbg_sig_stacks(kind_name(b), b->kind == BUG_BYTES ? b->what : NULL, order);
    const uintptr_t *frames = NULL;
    unsigned n = 0;
    bool first_is_pc = false;
    for (int i = 0; i < 3 && !n; i++) {
        if (order[i] == SLABDBG_SIG_FOUND_BY) {
            frames = b->frames;
            n = b->nframes;
            first_is_pc = b->kind == BUG_GUARD_ACCESS;
        } else {
            const struct track *t =
                &b->track[order[i] == SLABDBG_SIG_ALLOC ? TRACK_ALLOC : TRACK_FREE];
            if (b->has_tracks && t->addr)
                n = depot_fetch(t->handle, &frames);
            first_is_pc = false;
        }
    }
    char text[SLABDBG_SIG_FRAMES][FRAME_TEXT_MAX];
    const char *names[SLABDBG_SIG_FRAMES];
    char where[64];
    if (n > SLABDBG_SIG_FRAMES)
        n = SLABDBG_SIG_FRAMES;
    for (unsigned i = 0; i < n; i++) {
        frame_text(frames[i], !(first_is_pc && i == 0), text[i], sizeof(text[i]), where,
                   sizeof(where));
        names[i] = text[i];
    }
    char hex[SLABDBG_SIG_HEX];
    slabdbg_sig_hex(slabdbg_signature(kind_name(b), b->kind == BUG_BYTES ? b->what : NULL, b->cache,
                                      names, (int)n),
                    hex);
    json_key(o, "signature");
    json_str(o, hex);
}

/* "host", "program" and "time" (UTC, RFC 3339, microseconds): where and
 * when, for reports gathered from many machines. */
static void json_origin(struct out *o)
{
    static char host[256];
    if (!host[0] && gethostname(host, sizeof(host) - 1) < 0)
        host[0] = 0;
    char comm[256];
    out_program(comm, sizeof(comm));
    json_key(o, "host");
    json_str(o, host);
    json_key(o, "program");
    json_str(o, comm);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* civil_from_days (H. Hinnant), no locale, no allocation */
    int64_t days = ts.tv_sec / 86400, secs = ts.tv_sec % 86400;
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    uint64_t fields[] = {(uint64_t)y,
                         (uint64_t)m,
                         (uint64_t)d,
                         (uint64_t)secs / 3600,
                         (uint64_t)secs / 60 % 60,
                         (uint64_t)secs % 60,
                         (uint64_t)ts.tv_nsec / 1000};
    static const char seps[] = "--T::.Z";
    static const int widths[] = {4, 2, 2, 2, 2, 2, 6};
    json_key(o, "time");
    out_char(o, '"');
    for (int i = 0; i < 7; i++) {
        char digits[8];
        uint64_t v = fields[i];
        for (int k = widths[i] - 1; k >= 0; k--, v /= 10)
            digits[k] = (char)('0' + v % 10);
        digits[widths[i]] = 0;
        out_str(o, digits);
        out_char(o, seps[i]);
    }
    out_char(o, '"');
}

static void print_json(int fd, const struct bug *b, uint64_t now)
{
    struct out o;
    out_init_buffer(&o, fd, report_buf, sizeof(report_buf));
    struct out r;
    out_init(&r, -1);
    print_reason(&r, b);
    r.buf[r.len < r.cap ? r.len : r.cap - 1] = 0;
    out_str(&o, "{\"kind\":");
    json_str(&o, kind_name(b));
    json_key(&o, "reason");
    json_str(&o, r.buf);
    json_key(&o, "cache");
    json_str(&o, b->cache);
    json_signature(&o, b);
    json_u64(&o, "pid", (uint64_t)getpid());
    json_origin(&o);
    if (b->kind == BUG_BYTES) {
        json_key(&o, "what");
        json_str(&o, b->what);
        json_hex(&o, "fault_start", b->fault_start);
        json_hex(&o, "fault_end", b->fault_end);
        json_u64(&o, "length", b->fault_end - b->fault_start + 1);
        json_u64(&o, "first_byte", b->first_byte);
        json_u64(&o, "expected", b->expected);
        json_bytes(&o, b);
        if (b->has_object)
            json_i64(&o, "offset", (int64_t)(b->fault_start - b->object));
    }
    if (b->kind == BUG_GUARD_ACCESS || b->kind == BUG_GUARD_SLACK) {
        json_key(&o, "access");
        json_str(&o, b->write ? "write" : "read");
        json_hex(&o, "address", b->fault_start);
        json_hex(&o, "object", b->object);
        json_u64(&o, "object_size", b->obj_size);
        json_key(&o, "side");
        json_str(&o, b->side < 0 ? "left" : b->side > 0 ? "right" : "inside");
        if (b->side)
            json_u64(&o, "distance", (uint64_t)b->distance);
        else
            json_u64(&o, "offset", b->fault_start - b->object);
    }
    if (b->kind == BUG_ALLOC_MISMATCH) {
        json_key(&o, "allocated_with");
        json_str(&o, family_name(family_alloc, b->alloc_family));
        json_key(&o, "freed_with");
        json_str(&o, family_name(family_free, b->free_family));
    }
    if (b->kind == BUG_SIZE_MISMATCH)
        json_u64(&o, "delete_size", (uint64_t)b->found);
    if (b->ptr)
        json_hex(&o, "pointer", b->ptr);
    if (b->has_object) {
        json_hex(&o, "object", b->object);
        json_u64(&o, "object_size", b->object_size);
        json_u64(&o, "requested_size", b->orig_size);
    }
    if (b->has_tracks) {
        json_track(&o, "alloc", &b->track[TRACK_ALLOC], now);
        json_track(&o, "free", &b->track[TRACK_FREE], now);
    }
    json_stack(&o, "found_by", b->frames, b->nframes, b->kind == BUG_GUARD_ACCESS);
    out_str(&o, "}\n");
    out_flush(&o);
}

/* ---- flushing ----------------------------------------------------------------- */

static void count_kind(const char *name)
{
    unsigned i = 0;
    while (i < nr_kinds && strcmp(kind_names[i], name))
        i++;
    if (i == REPORT_KINDS_MAX)
        return;
    if (i == nr_kinds)
        kind_names[nr_kinds++] = name;
    kind_counts[i]++;
}

unsigned report_kinds(const char **names, unsigned long *counts, unsigned max)
{
    lock(&report_lock, LOCK_REPORT);
    unsigned n = nr_kinds < max ? nr_kinds : max;
    for (unsigned i = 0; i < n; i++) {
        names[i] = kind_names[i];
        counts[i] = kind_counts[i];
    }
    unlock(&report_lock, LOCK_REPORT);
    return n;
}

void bugs_flush(void)
{
    if (in_report || !pending || !pending->n)
        return;
    bool any_bug = false;
    in_report = 1;
    report_enter();
    /* The code that found them: still the caller, the locks now dropped. */
    uintptr_t frames[STACK_MAX_FRAMES];
    unsigned nframes = 0;
    for (unsigned i = 0; i < pending->n; i++) {
        struct bug *b = &pending->bug[i];
        if (b->nframes)
            continue;
        if (!nframes)
            nframes = stack_capture(frames, STACK_MAX_FRAMES);
        memcpy(b->frames, frames, nframes * sizeof(frames[0]));
        b->nframes = nframes;
    }
    lock(&report_lock, LOCK_REPORT);
    open_outputs();
    uint64_t now = track_now();
    for (unsigned i = 0; i < pending->n; i++) {
        struct bug *b = &pending->bug[i];
        bool is_trace = b->kind == BUG_TRACE_ALLOC || b->kind == BUG_TRACE_FREE;
        if (log_fd >= 0)
            print_text(log_fd, b, now);
        if (is_trace)
            continue;
        any_bug = true;
        atomic_fetch_add(&reports_made, 1);
        count_kind(kind_name(b));
        if (opt.abort_on_error) /* the first report only: then stop */
            pending->n = i + 1;
        if (json_fd >= 0)
            print_json(json_fd, b, now);
        if (status_fd >= 0) {
            struct out o;
            out_init(&o, status_fd);
            out_str(&o, "report ");
            out_str(&o, kind_name(b));
            out_char(&o, ' ');
            out_str(&o, b->cache);
            out_char(&o, '\n');
            out_flush(&o);
        }
    }
    pending->n = 0;
    unlock(&report_lock, LOCK_REPORT);
    report_leave();
    in_report = 0;
    if (any_bug && opt.abort_on_error)
        abort();
}

EXPORT unsigned long slabdbg_report_count(void)
{
    return (unsigned long)atomic_load(&reports_made);
}

/* In a forked child, a destination named with %p is the child's own file,
 * and syslog lines carry the child's pid: the outputs are opened again at
 * the child's first report.  One without %p stays shared (reports are
 * appended whole). */
static void outputs_forget(void)
{
    if (log_fd == -2)
        return;
    if (strstr(opt.log, "%p") || syslog_prefix[0]) {
        if (log_fd > 2)
            close(log_fd);
        log_fd = -2;
        syslog_prefix[0] = 0;
    }
    if (strstr(opt.json, "%p") && json_fd > 2) {
        close(json_fd);
        json_fd = -2;
    }
    if (log_fd == -2 || json_fd == -2) { /* open_outputs opens them all */
        if (log_fd > 2)
            close(log_fd);
        if (json_fd > 2)
            close(json_fd);
        if (status_fd > 2)
            close(status_fd);
        log_fd = json_fd = status_fd = -2;
    }
}

void report_fork(enum fork_phase phase)
{
    fork_lock(&report_lock, phase);
    if (phase == FORK_CHILD)
        outputs_forget();
}

/*
 * SLUB report parser (see report_parse.h).
 *
 * A report is recognised line by line; every line kind is optional, so a
 * report with lines missing still yields what its other lines say.  Input
 * is never trusted: numbers are bounded, strings are cut to their fields,
 * nothing recurses on the input and nothing is allocated.
 */
#include "tools/report_parse.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* ---- small scanning helpers ----------------------------------------------- */

#define scan_hex rp_scan_hex
#define scan_dec rp_scan_dec

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Hex number with optional "0x"; at most 16 significant digits, so that
 * a long run of digits is refused rather than silently wrapped. */
bool rp_scan_hex(const char **ps, uint64_t *v)
{
    const char *s = *ps;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && hexval(s[2]) >= 0)
        s += 2;
    if (hexval(*s) < 0)
        return false;
    while (*s == '0' && hexval(s[1]) >= 0)
        s++;
    uint64_t x = 0;
    int n = 0;
    for (; hexval(*s) >= 0; s++, n++) {
        if (n == 16)
            return false;
        x = x << 4 | (uint64_t)hexval(*s);
    }
    *v = x;
    *ps = s;
    return true;
}

/* Decimal number, optionally negative, bounded to 18 digits. */
bool rp_scan_dec(const char **ps, long long *v)
{
    const char *s = *ps;
    bool neg = *s == '-';
    if (neg)
        s++;
    if (!isdigit((unsigned char)*s))
        return false;
    long long x = 0;
    int n = 0;
    for (; isdigit((unsigned char)*s); s++, n++) {
        if (n == 18)
            return false;
        x = x * 10 + (*s - '0');
    }
    *v = neg ? -x : x;
    *ps = s;
    return true;
}

/* Copies at most size-1 bytes of [s, s+n) and terminates. */
static void copy_n(char *dst, size_t size, const char *s, size_t n)
{
    if (!size)
        return;
    if (n > size - 1)
        n = size - 1;
    memcpy(dst, s, n);
    dst[n] = 0;
}

static void copy_str(char *dst, size_t size, const char *s)
{
    copy_n(dst, size, s, strlen(s));
}

/* The value after "key=" somewhere in s. */
static bool find_kv_dec(const char *s, const char *key, long long *v)
{
    const char *p = strstr(s, key);
    if (!p)
        return false;
    p += strlen(key);
    return scan_dec(&p, v);
}

/* ---- line prefixes -------------------------------------------------------- */

/* "Jan 12 16:11:01 host tag: " (traditional syslog) */
static const char *syslog_prefix(const char *s)
{
    if (!(isalpha((unsigned char)s[0]) && isalpha((unsigned char)s[1]) &&
          isalpha((unsigned char)s[2]) && s[3] == ' '))
        return NULL;
    const char *p = skip_ws(s + 4);
    if (!isdigit((unsigned char)*p))
        return NULL;
    while (isdigit((unsigned char)*p))
        p++;
    if (*p != ' ')
        return NULL;
    p++;
    for (int i = 0; i < 8; i++) /* hh:mm:ss */
        if (!(i == 2 || i == 5 ? p[i] == ':' : isdigit((unsigned char)p[i])))
            return NULL;
    p += 8;
    if (*p != ' ')
        return NULL;
    return p + 1;
}

/* "2025-01-12T16:11:01.123456+01:00 host tag: " (ISO syslog, journalctl) */
static const char *iso_prefix(const char *s)
{
    for (int i = 0; i < 10; i++)
        if (!(i == 4 || i == 7 ? s[i] == '-' : isdigit((unsigned char)s[i])))
            return NULL;
    if (s[10] != 'T' && s[10] != ' ')
        return NULL;
    const char *p = s + 11;
    while (*p && *p != ' ')
        p++;
    if (*p != ' ')
        return NULL;
    return p + 1;
}

/* After a syslog timestamp: "host tag: " where tag is "kernel" or
 * "name[pid]". */
static const char *host_tag(const char *p, bool *kernel)
{
    const char *host = p;
    while (*p && *p != ' ')
        p++;
    if (*p != ' ' || p == host)
        return NULL;
    p++;
    const char *tag = p;
    while (*p && *p != ' ' && *p != ':')
        p++;
    if (*p != ':' || p == tag)
        return NULL;
    if (p - tag == 6 && !strncmp(tag, "kernel", 6))
        *kernel = true;
    p++;
    return *p == ' ' ? p + 1 : p;
}

/* "[57117.948006]", "[Mon Jan 12 16:11:01 2025]" and caller ids "[ T123]". */
static const char *bracket_prefix(const char *s, bool *kernel)
{
    if (*s != '[')
        return NULL;
    const char *p = skip_ws(s + 1);
    const char *close = NULL;
    for (int i = 0; i < 40 && s[i]; i++)
        if (s[i] == ']') {
            close = s + i;
            break;
        }
    if (!close)
        return NULL;
    bool stamp = isdigit((unsigned char)*p);
    for (const char *q = p; q < close && stamp; q++)
        stamp = isdigit((unsigned char)*q) || *q == '.';
    bool human = isalpha((unsigned char)p[0]) && isalpha((unsigned char)p[1]) &&
                 isalpha((unsigned char)p[2]) && p[3] == ' ' && memchr(p, ':', close - p);
    bool caller = (*p == 'T' || *p == 'C') && close > p + 1;
    for (const char *q = p + 1; q < close && caller; q++)
        caller = isdigit((unsigned char)*q);
    if (!stamp && !human && !caller)
        return NULL;
    *kernel = true;
    return close[1] == ' ' ? close + 2 : close + 1;
}

char *rp_clean_line(char *line, bool *kernel, bool *indented)
{
    bool k = false;
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
                 line[n - 1] == '\t'))
        line[--n] = 0;
    const char *s = line;
    for (int round = 0; round < 4; round++) {
        const char *p;
        if (s[0] == '<' && isdigit((unsigned char)s[1]) && s[2] == '>') {
            s += 3;
        } else if ((p = syslog_prefix(s)) || (p = iso_prefix(s))) {
            const char *q = host_tag(p, &k);
            if (!q)
                break;
            s = q;
        } else if ((p = bracket_prefix(s, &k))) {
            s = p;
        } else {
            break;
        }
    }
    if (kernel)
        *kernel = k;
    if (indented)
        *indented = *s == ' ' || *s == '\t';
    return (char *)skip_ws(s);
}

/* ---- frames ----------------------------------------------------------------- */

static bool name_char(int c)
{
    return isalnum(c) || c == '_' || c == '.' || c == '@' || c == '$';
}

bool rp_parse_frame(const char *s, struct rp_frame *f)
{
    memset(f, 0, sizeof(*f));
    s = skip_ws(s);
    if (s[0] == '[' && s[1] == '<') {
        const char *p = s + 2;
        if (!scan_hex(&p, &f->addr) || p[0] != '>' || p[1] != ']')
            return false;
        f->has_addr = true;
        s = skip_ws(p + 2);
    }
    if (s[0] == '?' && s[1] == ' ') {
        f->unreliable = true;
        s = skip_ws(s + 2);
    }
    if (s[0] == '0' && s[1] == 'x') {
        const char *p = s;
        uint64_t a;
        if (scan_hex(&p, &a) && (*p == 0 || *p == ' ')) {
            f->addr = a;
            f->has_addr = true;
            s = p;
            goto tail;
        }
    }
    const char *name = s;
    while (name_char((unsigned char)*s))
        s++;
    if (s == name || *s != '+' || (size_t)(s - name) >= sizeof(f->func))
        return false;
    copy_n(f->func, sizeof(f->func), name, (size_t)(s - name));
    s++;
    if (!scan_hex(&s, &f->off))
        return false;
    f->has_off = true;
    if (*s == '/') {
        s++;
        if (!scan_hex(&s, &f->size))
            return false;
        f->has_size = true;
    }
    if (*s && *s != ' ' && *s != '\t')
        return false;
tail:
    s = skip_ws(s);
    if (*s == '[') {
        const char *end = strchr(s, ']');
        if (!end)
            return false;
        copy_n(f->module, sizeof(f->module), s + 1, (size_t)(end - s - 1));
        s = skip_ws(end + 1);
    }
    if (*s == '(') {
        s++;
        size_t n = strlen(s);
        if (n && s[n - 1] == ')')
            n--;
        copy_n(f->where, sizeof(f->where), s, n);
    } else if (*s) {
        copy_str(f->where, sizeof(f->where), s);
    }
    return f->func[0] || f->has_addr;
}

void rp_frame_text(const struct rp_frame *f, char *buf, size_t size)
{
    int n;
    if (!f->func[0])
        n = snprintf(buf, size, "0x%llx", (unsigned long long)f->addr);
    else if (f->has_size)
        n = snprintf(buf, size, "%s+0x%llx/0x%llx", f->func, (unsigned long long)f->off,
                     (unsigned long long)f->size);
    else if (f->has_off)
        n = snprintf(buf, size, "%s+0x%llx", f->func, (unsigned long long)f->off);
    else
        n = snprintf(buf, size, "%s", f->func);
    if (n >= 0 && (size_t)n < size && f->module[0])
        snprintf(buf + n, size - (size_t)n, " [%s]", f->module);
}

void rp_base_name(const char *func, char *buf, size_t size)
{
    size_t n = 0;
    while (func[n] && func[n] != '@' && !(func[n] == '.' && n > 0))
        n++;
    copy_n(buf, size, func, n);
}

bool rp_is_allocator_frame(const char *func)
{
    static const char *const exact[] = {"malloc",
                                        "calloc",
                                        "realloc",
                                        "reallocarray",
                                        "free",
                                        "cfree",
                                        "aligned_alloc",
                                        "posix_memalign",
                                        "memalign",
                                        "valloc",
                                        "pvalloc",
                                        "strdup",
                                        "strndup",
                                        "check_object",
                                        "check_bytes_and_report",
                                        "check_slab",
                                        "check_valid_pointer",
                                        "on_freelist",
                                        "object_err",
                                        "slab_err",
                                        "slab_bug",
                                        "print_trailer",
                                        "print_track",
                                        "init_object",
                                        "setup_object",
                                        "new_slab",
                                        "allocate_slab",
                                        "get_partial",
                                        "deactivate_slab",
                                        "validate_slab",
                                        "show_stack",
                                        "stack_capture",
                                        "bugs_flush",
                                        "restore_bytes",
                                        "set_track",
                                        "slab_pad_check",
                                        "check_pad_bytes",
                                        "free_consistency_checks",
                                        "alloc_consistency_checks",
                                        "memchr_inv",
                                        "kmemdup",
                                        "kstrdup",
                                        "kstrndup"};
    static const char *const contains[] = {
        "kmalloc",          "kmem_cache", "slab_alloc", "slab_free", "kfree",
        "krealloc",         "kvmalloc",   "kvfree",     "kzalloc",   "kcalloc",
        "debug_processing", "dump_stack", "kasan_",     "kmsan_",    "kfence_",
        "mempool_",         "slabdbg"};
    static const char *const prefix[] = {
        "__slab", "___slab",       "slub_",       "_Znw",          "_Zna",          "_Zdl",
        "_Zda",   "__libc_malloc", "__libc_free", "__libc_calloc", "__libc_realloc"};
    char base[RP_NAME_MAX];
    rp_base_name(func, base, sizeof(base));
    for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
        if (!strcmp(base, exact[i]))
            return true;
    for (size_t i = 0; i < sizeof(contains) / sizeof(contains[0]); i++)
        if (strstr(base, contains[i]))
            return true;
    for (size_t i = 0; i < sizeof(prefix) / sizeof(prefix[0]); i++)
        if (starts(base, prefix[i]))
            return true;
    return false;
}

/* ---- report lines ------------------------------------------------------------ */

/* "BUG kmalloc-1024 (Tainted: G    B      OE  ): Poison overwritten", also
 * the old "BUG kmalloc-1024: reason".  Not the oops' "BUG: ...". */
static bool parse_header(const char *s, struct slub_report *r)
{
    if (!starts(s, "BUG ") || s[4] == ' ')
        return false;
    const char *name = s + 4, *p = name;
    while (*p && *p != ' ' && *p != '(')
        p++;
    const char *name_end = p;
    const char *reason;
    if (p[0] == ' ' && p[1] == '(') {
        const char *close = strstr(p, "): ");
        if (!close)
            return false;
        copy_n(r->taint, sizeof(r->taint), p + 2, (size_t)(close - p - 2));
        reason = close + 3;
    } else if (p > name && p[-1] == ':' && p[0] == ' ') {
        name_end = p - 1;
        reason = p + 1;
    } else {
        return false;
    }
    if (name_end == name)
        return false;
    copy_n(r->cache, sizeof(r->cache), name, (size_t)(name_end - name));
    copy_str(r->reason, sizeof(r->reason), skip_ws(reason));
    r->has_header = true;
    return true;
}

/* "0xA-0xB @offset=N. First byte 0xX instead of 0xY", optionally
 * "[What overwritten] " in front (2025). */
static bool parse_fault(const char *s, struct rp_fault *f)
{
    memset(f, 0, sizeof(*f));
    if (*s == '[') {
        const char *close = strstr(s, " overwritten] ");
        if (!close || close - s > 48)
            return false;
        copy_n(f->what, sizeof(f->what), s + 1, (size_t)(close - s - 1));
        s = close + strlen(" overwritten] ");
    }
    const char *p = s;
    uint64_t a, b;
    if (p[0] == '0' && p[1] == 'x' && scan_hex(&p, &a) && p[0] == '-' && p[1] == '0' &&
        p[2] == 'x') {
        p++;
        if (scan_hex(&p, &b)) {
            f->has_range = true;
            f->start = a;
            f->end = b;
        }
    }
    const char *off = strstr(s, "@offset=");
    long long v;
    if (off && (off += 8, scan_dec(&off, &v)) && v >= 0) {
        f->has_slab_off = true;
        f->slab_off = (uint64_t)v;
    }
    const char *fb = strstr(s, "First byte ");
    if (fb) {
        fb += strlen("First byte ");
        uint64_t x, y;
        if (scan_hex(&fb, &x) && starts(fb, " instead of ") &&
            (fb += strlen(" instead of "), scan_hex(&fb, &y))) {
            f->has_first = true;
            f->first = (unsigned)(x & 0xff);
            f->expected = (unsigned)(y & 0xff);
        }
    }
    return (f->has_range && (f->has_first || f->has_slab_off)) || f->has_first;
}

/* "Allocated in F+off/size age=N cpu=N pid=N" */
static bool parse_track(const char *s, struct rp_track *t)
{
    const char *rest;
    if (starts(s, "Allocated in "))
        rest = s + strlen("Allocated in ");
    else if (starts(s, "Freed in "))
        rest = s + strlen("Freed in ");
    else
        return false;
    memset(t, 0, sizeof(*t));
    t->present = true;
    const char *age = strstr(rest, " age=");
    char fn[RP_LINE_MAX];
    copy_n(fn, sizeof(fn), rest, age ? (size_t)(age - rest) : strlen(rest));
    if (!rp_parse_frame(fn, &t->caller)) {
        char *sp = strchr(fn, ' ');
        if (sp)
            *sp = 0;
        copy_str(t->caller.func, sizeof(t->caller.func), fn);
    }
    long long v;
    if (find_kv_dec(rest, "age=", &v)) {
        t->has_age = true;
        t->age = v;
    }
    if (find_kv_dec(rest, "cpu=", &v) && v >= 0 && v < 1 << 20) {
        t->has_cpu = true;
        t->cpu = (int)v;
    }
    if (find_kv_dec(rest, "pid=", &v)) {
        t->has_pid = true;
        t->pid = v;
    }
    return true;
}

/* "Slab 0x... objects=24 used=24 fp=0x... flags=..." */
static bool parse_slab(const char *s, struct slub_report *r)
{
    if (!starts(s, "Slab 0x"))
        return false;
    const char *p = s + 5;
    if (!scan_hex(&p, &r->slab))
        return false;
    r->has_slab = true;
    long long o, u;
    if (find_kv_dec(p, "objects=", &o) && find_kv_dec(p, "used=", &u) && o >= 0 && u >= 0 &&
        o < 1 << 30 && u < 1 << 30) {
        r->has_counts = true;
        r->objects = (unsigned)o;
        r->used = (unsigned)u;
    }
    return true;
}

/* "Object 0x... @offset=8 fp=0x..." (not a hexdump row: those have no 0x
 * and a colon after the address). */
static bool parse_object_line(const char *s, struct slub_report *r)
{
    if (!starts(s, "Object 0x"))
        return false;
    const char *p = s + 7;
    uint64_t a;
    if (!scan_hex(&p, &a) || *p == ':')
        return false;
    r->listed_objects++;
    if (r->has_object)
        return true;
    r->has_object = true;
    r->object = a;
    long long v;
    if (find_kv_dec(p, "@offset=", &v) && v >= 0) {
        r->has_object_slab_off = true;
        r->object_slab_off = (uint64_t)v;
    }
    return true;
}

/* "Object ffff956178460008: 6b 6b ... 6b  kkkk", with "Redzone",
 * "Padding", "Bytes b4", one or more spaces before the address. */
static bool parse_row(const char *s, struct rp_row *row)
{
    static const struct {
        const char *word;
        uint8_t section;
    } words[] = {{"Redzone", RP_SEC_REDZONE},
                 {"Object", RP_SEC_OBJECT},
                 {"Padding", RP_SEC_PADDING},
                 {"Bytes b4", RP_SEC_BYTES_B4}};
    size_t i;
    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (starts(s, words[i].word) && s[strlen(words[i].word)] == ' ')
            break;
    if (i == sizeof(words) / sizeof(words[0]))
        return false;
    const char *p = skip_ws(s + strlen(words[i].word));
    memset(row, 0, sizeof(*row));
    row->section = words[i].section;
    if (!scan_hex(&p, &row->addr) || *p != ':')
        return false;
    p++;
    while (row->n < 16 && p[0] == ' ' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0 &&
           (p[3] == ' ' || p[3] == 0)) {
        row->b[row->n++] = (uint8_t)(hexval(p[1]) << 4 | hexval(p[2]));
        p += 3;
    }
    return row->n > 0;
}

static bool is_register_line(const char *s)
{
    /* "RIP: 0010:...", "RAX: ...", "R10: ...": an upper-case word with a
     * colon, never a frame. */
    int n = 0;
    while (isupper((unsigned char)s[n]) || isdigit((unsigned char)s[n]) || s[n] == '_')
        n++;
    return n >= 2 && s[n] == ':';
}

/* Lines that begin something else than a SLUB report. */
static bool is_foreign_start(const char *s)
{
    return starts(s, "BUG: ") || starts(s, "general protection fault") || starts(s, "Oops:") ||
           starts(s, "kernel BUG at") || starts(s, "------------[ cut here ]") ||
           starts(s, "Kernel panic") || starts(s, "crash> ") || starts(s, "---[ end trace") ||
           starts(s, "WARNING: ");
}

/* ---- the parser --------------------------------------------------------------- */

void slub_parser_init(struct slub_parser *p, struct slub_report *reports, int max)
{
    memset(p, 0, sizeof(*p));
    p->reports = reports;
    p->max = max;
}

static void derive(struct slub_report *r);

static void close_report(struct slub_parser *p)
{
    if (p->cur) {
        if (!p->cur->from_json)
            derive(p->cur);
        p->cur = NULL;
    }
    p->stack = 0;
    p->after_fix = false;
}

/* A new report record, or NULL (and counted) when the caller's array is
 * full; the lines of a dropped report are then skipped. */
static struct slub_report *open_report(struct slub_parser *p)
{
    close_report(p);
    if (p->n == p->max) {
        p->dropped++;
        p->skipping = true;
        return NULL;
    }
    p->skipping = false;
    struct slub_report *r = &p->reports[p->n++];
    memset(r, 0, sizeof(*r));
    r->first_line = r->last_line = p->line_no;
    r->from_text = true;
    p->cur = r;
    return r;
}

static void take_pending(struct slub_parser *p, struct slub_report *r)
{
    for (int i = 0; i < p->npending && r->nfaults < RP_FAULTS_MAX; i++)
        r->faults[r->nfaults++] = p->pending[i];
    for (int i = 0; i < p->npending_fix && r->nfix < RP_FIX_MAX; i++)
        memcpy(r->fix[r->nfix++], p->pending_fix[i], sizeof(r->fix[0]));
    if (p->npending)
        r->first_line = p->pending_line;
    p->npending = p->npending_fix = 0;
}

static void add_frame(struct rp_frame *frames, int *n, const struct rp_frame *f)
{
    if (*n < RP_FRAMES_MAX)
        frames[(*n)++] = *f;
}

/* A frame line goes to the stack being read: a track's or the finder's. */
static bool frame_line(struct slub_parser *p, const char *s)
{
    struct slub_report *r = p->cur;
    struct rp_frame f;
    if (!p->stack || !rp_parse_frame(s, &f))
        return false;
    if (p->stack == 1)
        add_frame(r->alloc.frames, &r->alloc.nframes, &f);
    else if (p->stack == 2)
        add_frame(r->free.frames, &r->free.nframes, &f);
    else
        add_frame(r->frames, &r->nframes, &f);
    return true;
}

/* The kernel's task line, "CPU: 28 [UID: 0] PID: 180 Comm: ksoftirqd/28
 * Tainted: ...": shared by the report and oops parsers.  *rest points after
 * the PID (where "Comm:" and the taint follow). */
bool rp_task_line(const char *s, int *cpu, long long *pid, char *comm, size_t comm_size,
                  const char **rest)
{
    if (!starts(s, "CPU: "))
        return false;
    const char *p = s + 5;
    long long c;
    if (!scan_dec(&p, &c))
        return false;
    if (starts(p, " UID: ")) { /* 6.x */
        long long uid;
        p += 6;
        if (!scan_dec(&p, &uid))
            return false;
    }
    if (!starts(p, " PID: "))
        return false;
    p += 6;
    if (!scan_dec(&p, pid))
        return false;
    *cpu = c >= 0 && c < 1 << 20 ? (int)c : 0;
    comm[0] = 0;
    const char *name = strstr(p, "Comm: ");
    if (name) {
        name += 6;
        const char *end = strstr(name, " Tainted");
        if (!end)
            end = strstr(name, " Not tainted");
        copy_n(comm, comm_size, name, end ? (size_t)(end - name) : strcspn(name, " "));
    }
    *rest = p;
    return true;
}

/* "CPU: 0 PID: 0 Comm: swapper/0 Tainted: ..." */
static bool finder_line(const char *s, struct slub_report *r)
{
    const char *rest;
    if (!rp_task_line(s, &r->finder_cpu, &r->finder_pid, r->finder_comm, sizeof(r->finder_comm),
                      &rest))
        return false;
    r->has_finder_ctx = true;
    return true;
}

/* One line inside a report (or one that may start a report without a
 * header); false if the line is not a report line. */
static bool report_line(struct slub_parser *p, const char *s)
{
    struct slub_report *r = p->cur;
    struct rp_fault f;
    struct rp_row row;
    struct rp_track t;
    if (parse_fault(s, &f)) {
        if (r->nfaults < RP_FAULTS_MAX)
            r->faults[r->nfaults++] = f;
        p->stack = 0;
    } else if (parse_track(s, &t)) {
        if (starts(s, "Allocated")) {
            if (!r->alloc.present)
                r->alloc = t;
            p->stack = r->alloc.nframes ? 0 : 1;
        } else {
            if (!r->free.present)
                r->free = t;
            p->stack = r->free.nframes ? 0 : 2;
        }
    } else if (parse_slab(s, r) || parse_object_line(s, r)) {
        p->stack = 0;
    } else if (parse_row(s, &row)) {
        if (r->nrows < RP_ROWS_MAX)
            r->rows[r->nrows++] = row;
        else
            r->rows_dropped++;
        p->stack = 0;
    } else if (finder_line(s, r)) {
        p->stack = 0;
    } else if (starts(s, "Call Trace:")) {
        r->has_trace = true;
        p->stack = 3;
    } else {
        return false;
    }
    return true;
}

/* Our JSON lines and lines that start a report. */
static bool starter(struct slub_parser *p, const char *s, bool kernel)
{
    struct slub_report tmp_hdr;
    if (s[0] == '{') {
        close_report(p);
        if (p->n == p->max) {
            if (strstr(s, "\"cache\""))
                p->dropped++;
            return true;
        }
        struct slub_report *r = &p->reports[p->n];
        if (rp_parse_json(s, r)) {
            r->first_line = r->last_line = p->line_no;
            p->n++;
        }
        return true;
    }
    if (starts(s, "BUG ") && parse_header(s, &tmp_hdr)) {
        struct slub_report *r = open_report(p);
        if (!r)
            return true;
        memcpy(r->cache, tmp_hdr.cache, sizeof(r->cache));
        memcpy(r->reason, tmp_hdr.reason, sizeof(r->reason));
        memcpy(r->taint, tmp_hdr.taint, sizeof(r->taint));
        r->has_header = true;
        r->kernel_marks = kernel;
        if (p->sep_line == p->line_no - 1)
            r->first_line = p->sep_line;
        take_pending(p, r);
        return true;
    }
    return false;
}

static void pending_line(struct slub_parser *p, const char *s)
{
    struct rp_fault f;
    if (starts(s, "FIX ")) {
        if (p->npending_fix < RP_FIX_MAX)
            copy_str(p->pending_fix[p->npending_fix++], sizeof(p->pending_fix[0]), s);
        return;
    }
    if (parse_fault(s, &f) && p->npending < RP_FAULTS_MAX) {
        if (!p->npending)
            p->pending_line = p->line_no;
        p->pending[p->npending++] = f;
    }
}

/* A report whose header is missing: one starts at any line that can only
 * belong to a report (a fault line, a track, the Slab or Object line, a
 * hexdump row), not at lines other texts have too (CPU:, Call Trace:). */
static bool open_headerless(struct slub_parser *p, const char *s)
{
    if (starts(s, "FIX ")) {
        if (p->npending)
            pending_line(p, s);
        return false;
    }
    if (starts(s, "CPU: ") || starts(s, "Call Trace:"))
        return false;
    struct rp_fault f;
    struct rp_row row;
    bool ours = parse_fault(s, &f) || starts(s, "Allocated in ") || starts(s, "Freed in ") ||
                starts(s, "Slab 0x") || (starts(s, "Object 0x") && !strchr(s, ':')) ||
                parse_row(s, &row);
    if (!ours || !open_report(p))
        return false;
    p->cur->missing |= RP_MISS_HEADER;
    take_pending(p, p->cur);
    return true;
}

void slub_parser_line(struct slub_parser *p, const char *line)
{
    char buf[RP_LINE_MAX];
    copy_str(buf, sizeof(buf), line);
    p->line_no++;
    bool kernel = false;
    char *s = rp_clean_line(buf, &kernel, NULL);
    if (starts(s, "INFO: ")) {
        s += 6;
        kernel = true;
    }
    /* Anything but another FIX line after the FIX lines ends a report. */
    if (p->cur && p->after_fix && *s && !starts(s, "FIX "))
        close_report(p);
    if (is_foreign_start(s)) {
        close_report(p);
        p->skipping = false;
        p->npending = p->npending_fix = 0;
        return;
    }
    if (starter(p, s, kernel))
        return;
    if (starts(s, "=====")) {
        if (p->cur && p->cur->has_header)
            close_report(p);
        p->sep_line = p->line_no;
        return;
    }
    /* The 2025 form: "[Poison overwritten] ..." before its header. */
    if (s[0] == '[' && strstr(s, " overwritten] ")) {
        if (p->cur && (p->cur->has_trace || p->after_fix || p->cur->nrows))
            close_report(p);
        if (!p->cur) {
            pending_line(p, s);
            return;
        }
    }
    if (p->skipping)
        return;
    if (!p->cur && !open_headerless(p, s))
        return;
    struct slub_report *r = p->cur;
    if (kernel)
        r->kernel_marks = true;
    if (starts(s, "FIX ")) {
        if (r->nfix < RP_FIX_MAX)
            copy_str(r->fix[r->nfix++], sizeof(r->fix[0]), s);
        p->after_fix = true;
        p->stack = 0;
        r->last_line = p->line_no;
        return;
    }
    if (!*s)
        return;
    r->last_line = p->line_no;
    if (report_line(p, s))
        return;
    if (s[0] == '<' &&
        (starts(s, "<IRQ>") || starts(s, "</IRQ>") || starts(s, "<TASK>") || starts(s, "</TASK>") ||
         starts(s, "<NMI>") || starts(s, "</NMI>") || starts(s, "<EOI>")))
        return;
    if (!is_register_line(s))
        frame_line(p, s);
}

void slub_parser_finish(struct slub_parser *p)
{
    close_report(p);
    if (p->npending && p->n < p->max) {
        /* Faults without the header that should have followed them. */
        struct slub_report *r = &p->reports[p->n++];
        memset(r, 0, sizeof(*r));
        r->from_text = true;
        r->missing |= RP_MISS_HEADER;
        r->first_line = r->last_line = p->pending_line;
        take_pending(p, r);
        derive(r);
    }
    p->npending = p->npending_fix = 0;
}

/* ---- JSON lines ---------------------------------------------------------------- */

/* A JSON walker without recursion: containers are kept on a small explicit
 * stack (deeper input is refused), and every scalar is handed to `leaf`
 * with its path ("alloc.stack.2.function"). */
#define JSON_DEPTH 6
#define JSON_STR 256

struct json_walk {
    int depth;
    bool array[JSON_DEPTH];
    int index[JSON_DEPTH];
    char key[JSON_DEPTH][32];
};

static void json_path(const struct json_walk *w, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 1; i < w->depth; i++) {
        char part[40];
        if (w->array[i - 1])
            snprintf(part, sizeof(part), "%d", w->index[i - 1]);
        else
            snprintf(part, sizeof(part), "%s", w->key[i - 1]);
        int k = snprintf(buf + n, size - n, "%s%s", n ? "." : "", part);
        if (k < 0 || (size_t)k >= size - n)
            return;
        n += (size_t)k;
    }
    /* the innermost level names the leaf itself */
    if (w->depth >= 1) {
        char part[40];
        if (w->array[w->depth - 1])
            snprintf(part, sizeof(part), "%d", w->index[w->depth - 1]);
        else
            snprintf(part, sizeof(part), "%s", w->key[w->depth - 1]);
        snprintf(buf + n, size - n, "%s%s", n ? "." : "", part);
    }
}

/* A JSON string at *ps (after its opening quote) into out, cut to size. */
static bool json_string(const char **ps, char *out, size_t size)
{
    const char *s = *ps;
    size_t n = 0;
    for (;;) {
        char c = *s++;
        if (!c)
            return false;
        if (c == '"')
            break;
        if (c == '\\') {
            char e = *s++;
            switch (e) {
            case 'n':
                c = '\n';
                break;
            case 't':
                c = '\t';
                break;
            case 'r':
                c = '\r';
                break;
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'u':
                for (int i = 0; i < 4; i++)
                    if (hexval(*s++) < 0)
                        return false;
                c = '?';
                break;
            case '"':
            case '\\':
            case '/':
                c = e;
                break;
            default:
                return false;
            }
        }
        if (n + 1 < size)
            out[n++] = c;
    }
    out[n] = 0;
    *ps = s;
    return true;
}

typedef void (*json_leaf)(void *ctx, const char *path, const char *value, bool is_string);

static bool json_walk(const char *s, json_leaf leaf, void *ctx)
{
    struct json_walk w;
    memset(&w, 0, sizeof(w));
    char val[JSON_STR], path[JSON_DEPTH * 40];
    s = skip_ws(s);
    if (*s != '{')
        return false;
    enum { VALUE, KEY_OR_END, AFTER } state = VALUE;
    for (;;) {
        s = skip_ws(s);
        if (state == KEY_OR_END) {
            if (*s == '}' && w.index[w.depth - 1] == 0) {
                s++;
                w.depth--;
                state = AFTER;
            } else {
                if (*s++ != '"' || !json_string(&s, w.key[w.depth - 1], sizeof(w.key[0])))
                    return false;
                s = skip_ws(s);
                if (*s++ != ':')
                    return false;
                state = VALUE;
            }
        } else if (state == VALUE) {
            if (*s == '{' || *s == '[') {
                if (w.depth == JSON_DEPTH)
                    return false;
                w.array[w.depth] = *s == '[';
                w.index[w.depth] = 0;
                w.key[w.depth][0] = 0;
                w.depth++;
                s = skip_ws(s + 1);
                if (w.array[w.depth - 1] && *s == ']') {
                    s++;
                    w.depth--;
                    state = AFTER;
                } else {
                    state = w.array[w.depth - 1] ? VALUE : KEY_OR_END;
                }
                continue;
            }
            if (w.depth == 0)
                return false;
            bool is_string = *s == '"';
            if (is_string) {
                s++;
                if (!json_string(&s, val, sizeof(val)))
                    return false;
            } else {
                size_t n = 0;
                while (isalnum((unsigned char)*s) || *s == '-' || *s == '+' || *s == '.') {
                    if (n + 1 < sizeof(val))
                        val[n++] = *s;
                    s++;
                }
                if (!n)
                    return false;
                val[n] = 0;
            }
            json_path(&w, path, sizeof(path));
            leaf(ctx, path, val, is_string);
            state = AFTER;
        } else {
            if (w.depth == 0)
                return true;
            if (*s == ',') {
                s++;
                w.index[w.depth - 1]++;
                state = w.array[w.depth - 1] ? VALUE : KEY_OR_END;
                /* a key must follow a comma in an object */
                if (!w.array[w.depth - 1] && *skip_ws(s) == '}')
                    return false;
            } else if ((*s == '}' && !w.array[w.depth - 1]) ||
                       (*s == ']' && w.array[w.depth - 1])) {
                s++;
                w.depth--;
            } else {
                return false;
            }
        }
    }
}

static bool json_hex(const char *v, uint64_t *out)
{
    return scan_hex(&v, out) && !*v;
}

static bool json_num(const char *v, long long *out)
{
    return scan_dec(&v, out) && !*v;
}

/* "stack.3.function" -> the frame, growing the stack by one at a time. */
static struct rp_frame *json_frame(struct rp_frame *frames, int *n, const char *path,
                                   const char **field)
{
    const char *p = path;
    long long i;
    if (!scan_dec(&p, &i) || i < 0 || i >= RP_FRAMES_MAX || i > *n)
        return NULL;
    *field = *p == '.' ? p + 1 : "";
    if (i == *n)
        memset(&frames[(*n)++], 0, sizeof(frames[0]));
    return &frames[i];
}

static void json_frame_field(struct rp_frame *f, const char *field, const char *v)
{
    if (!*field || !strcmp(field, "function")) {
        struct rp_frame parsed;
        uint64_t pc = f->addr;
        bool has = f->has_addr;
        char where[sizeof(f->where)];
        memcpy(where, f->where, sizeof(where));
        if (rp_parse_frame(v, &parsed))
            *f = parsed;
        else
            copy_str(f->func, sizeof(f->func), v);
        if (has) {
            f->addr = pc;
            f->has_addr = true;
        }
        if (where[0])
            memcpy(f->where, where, sizeof(where));
    } else if (!strcmp(field, "pc")) {
        f->has_addr = json_hex(v, &f->addr);
    } else if (!strcmp(field, "where")) {
        copy_str(f->where, sizeof(f->where), v);
    }
}

static void json_track(struct rp_track *t, const char *field, const char *v)
{
    long long n;
    t->present = true;
    const char *sub;
    if (!strcmp(field, "function")) {
        if (!rp_parse_frame(v, &t->caller))
            copy_str(t->caller.func, sizeof(t->caller.func), v);
    } else if (!strcmp(field, "age_ms") && json_num(v, &n)) {
        t->has_age = true;
        t->age = n;
    } else if (!strcmp(field, "cpu") && json_num(v, &n) && n >= 0 && n < 1 << 20) {
        t->has_cpu = true;
        t->cpu = (int)n;
    } else if (!strcmp(field, "pid") && json_num(v, &n)) {
        t->has_pid = true;
        t->pid = n;
    } else if (starts(field, "stack.")) {
        struct rp_frame *f = json_frame(t->frames, &t->nframes, field + 6, &sub);
        if (f)
            json_frame_field(f, sub, v);
    }
}

static void json_leaf_report(void *ctx, const char *path, const char *v, bool is_string)
{
    struct slub_report *r = ctx;
    struct rp_fault *f = &r->faults[0];
    long long n;
    uint64_t x;
    const char *sub;
    (void)is_string;
    if (!strcmp(path, "cache")) {
        copy_str(r->cache, sizeof(r->cache), v);
        r->has_header = true;
    } else if (!strcmp(path, "reason")) {
        copy_str(r->reason, sizeof(r->reason), v);
    } else if (!strcmp(path, "kind") && !r->kind[0]) {
        copy_str(r->kind, sizeof(r->kind), v); /* replaced by the reason's kind */
    } else if (!strcmp(path, "what")) {
        copy_str(f->what, sizeof(f->what), v);
    } else if (!strcmp(path, "fault_start") && json_hex(v, &x)) {
        f->start = x;
        f->has_range = true;
        f->end = f->end ? f->end : x;
    } else if (!strcmp(path, "fault_end") && json_hex(v, &x)) {
        f->end = x;
    } else if (!strcmp(path, "length") && json_num(v, &n) && n > 0) {
        f->has_length = true;
        f->length = (uint64_t)n;
    } else if (!strcmp(path, "first_byte") && json_num(v, &n)) {
        f->has_first = true;
        f->first = (unsigned)(n & 0xff);
    } else if (!strcmp(path, "expected") && json_num(v, &n)) {
        f->expected = (unsigned)(n & 0xff);
    } else if (!strcmp(path, "offset") && json_num(v, &n)) {
        f->has_obj_off = true;
        f->obj_off = n;
        f->off_source = "report";
    } else if (!strcmp(path, "pointer") && json_hex(v, &x)) {
        r->has_pointer = true;
        r->pointer = x;
    } else if (!strcmp(path, "object") && json_hex(v, &x)) {
        r->has_object = true;
        r->object = x;
    } else if (!strcmp(path, "object_size") && json_num(v, &n) && n > 0) {
        r->has_object_size = true;
        r->object_size = (uint64_t)n;
        r->size_source = "report";
    } else if (!strcmp(path, "requested_size") && json_num(v, &n) && n >= 0) {
        r->has_requested = true;
        r->requested_size = (uint64_t)n;
    } else if (!strcmp(path, "pid") && json_num(v, &n)) {
        r->has_finder_ctx = true;
        r->finder_pid = n;
    } else if (starts(path, "alloc.")) {
        json_track(&r->alloc, path + 6, v);
    } else if (starts(path, "free.")) {
        json_track(&r->free, path + 5, v);
    } else if (starts(path, "found_by.")) {
        r->has_trace = true;
        struct rp_frame *fr = json_frame(r->frames, &r->nframes, path + 9, &sub);
        if (fr)
            json_frame_field(fr, sub, v);
    } else if (!strcmp(path, "bytes")) {
        /* Not written by every version: the stray bytes, in hex. */
        size_t len = strlen(v);
        for (size_t i = 0; i + 1 < len && i / 2 < 16; i += 2) {
            if (hexval(v[i]) < 0 || hexval(v[i + 1]) < 0)
                break;
            r->rows[0].b[r->rows[0].n++] = (uint8_t)(hexval(v[i]) << 4 | hexval(v[i + 1]));
        }
    }
}

static void derive_kind(struct slub_report *r);

bool rp_parse_json(const char *line, struct slub_report *r)
{
    memset(r, 0, sizeof(*r));
    r->nfaults = 1;
    /* A line cut short still says what it got to: keep it, marked. */
    bool whole = json_walk(line, json_leaf_report, r);
    if (!r->cache[0] || (!r->reason[0] && !r->kind[0])) {
        memset(r, 0, sizeof(*r));
        return false;
    }
    if (!whole)
        r->missing |= RP_TRUNCATED;
    struct rp_fault *f = &r->faults[0];
    if (!f->has_range && !f->has_first && !f->has_obj_off)
        r->nfaults = 0;
    if (f->has_range && f->end >= f->start && !f->has_length) {
        f->has_length = true;
        f->length = f->end - f->start + 1;
    }
    r->from_json = true;
    r->origin = RP_ORIGIN_SLABDBG;
    /* "bytes", when present, are the stray bytes: place them. */
    uint8_t n = r->rows[0].n;
    if (n && r->nfaults && f->has_obj_off) {
        for (uint8_t i = 0; i < n; i++) {
            int64_t off = f->obj_off + i + RP_WIN_LEFT;
            if (off >= 0 && off < RP_WIN) {
                r->bytes[off] = r->rows[0].b[i];
                r->known[off / 8] |= (uint8_t)(1u << (off % 8));
            }
        }
    }
    memset(&r->rows[0], 0, sizeof(r->rows[0]));
    if (!r->has_object)
        r->missing |= RP_MISS_OBJECT;
    if (!r->alloc.present && !r->free.present)
        r->missing |= RP_MISS_TRACKS;
    r->missing |= RP_MISS_HEXDUMP;
    derive_kind(r);
    return true;
}

/* ---- derived facts --------------------------------------------------------------- */

static void derive_kind(struct slub_report *r)
{
    static const struct {
        const char *words, *kind;
    } kinds[] = {
        {"End Poison overwritten", "end_poison_overwritten"},
        {"Poison overwritten", "poison_overwritten"},
        {"Left Redzone overwritten", "left_redzone_overwritten"},
        {"Right Redzone overwritten", "right_redzone_overwritten"},
        {"kmalloc Redzone overwritten", "kmalloc_redzone_overwritten"},
        {"Redzone overwritten", "redzone_overwritten"},
        {"Object padding overwritten", "object_padding_overwritten"},
        {"Alignment padding overwritten", "alignment_padding_overwritten"},
        {"Padding overwritten", "padding_overwritten"},
        {"already free", "already_free"},
        {"Invalid object pointer", "invalid_pointer"},
        {"outside of slab", "outside_slab"},
        {"Wrong slab cache", "wrong_cache"},
        {"Freepointer corrupt", "freepointer_corrupt"},
        {"Freechain corrupt", "freechain_corrupt"},
        {"Wrong number of objects", "wrong_count"},
        {"Objects remaining", "objects_remaining"},
        {"Object corrupt", "object_corrupt"},
    };
    char reason[300];
    if (r->reason[0])
        copy_str(reason, sizeof(reason), r->reason);
    else if (r->nfaults && r->faults[0].what[0])
        snprintf(reason, sizeof(reason), "%s overwritten", r->faults[0].what);
    else
        reason[0] = 0;
    /* 2025: "Object corrupt" after "[What overwritten]" lines says which. */
    if (strstr(reason, "Object corrupt") && r->nfaults && r->faults[0].what[0])
        snprintf(reason, sizeof(reason), "%s overwritten", r->faults[0].what);
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcasestr(reason, kinds[i].words)) {
            copy_str(r->kind, sizeof(r->kind), kinds[i].kind);
            return;
        }
    if (r->kind[0] && r->from_json)
        return;
    if (!reason[0] && r->nfaults && r->faults[0].has_first) {
        /* No header: the expected byte says which check it was. */
        unsigned e = r->faults[0].expected;
        copy_str(r->kind, sizeof(r->kind),
                 e == 0x6b || e == 0xa5   ? "poison_overwritten"
                 : e == 0xbb || e == 0xcc ? "redzone_overwritten"
                 : e == 0x5a              ? "padding_overwritten"
                                          : "overwritten");
        return;
    }
    size_t n = 0;
    for (const char *s = reason; *s && n + 1 < sizeof(r->kind); s++)
        if (isalnum((unsigned char)*s))
            r->kind[n++] = (char)tolower((unsigned char)*s);
        else if (n && r->kind[n - 1] != '_')
            r->kind[n++] = '_';
    while (n && r->kind[n - 1] == '_')
        n--;
    r->kind[n] = 0;
    if (!n)
        copy_str(r->kind, sizeof(r->kind), "unknown");
}

/* Kernel addresses are >= 0xffff800000000000; hashed ones (4.15+ without
 * no_hash_pointers) are 32-bit numbers and say nothing about places. */
static bool plausible(const struct slub_report *r, uint64_t a)
{
    if (r->origin == RP_ORIGIN_KERNEL)
        return a >= 0xffff800000000000ull;
    return a >= 0x10000 && a >> 32;
}

/* "Invalid object pointer 0x...", "Attempt to free object(0x...) ...". */
static void derive_pointer(struct slub_report *r)
{
    const char *p = strstr(r->reason, "pointer 0x");
    if (p)
        p += 8;
    else if ((p = strstr(r->reason, "object(0x")))
        p += 7;
    if (p && !r->has_pointer && scan_hex(&p, &r->pointer))
        r->has_pointer = true;
}

static void derive_origin(struct slub_report *r)
{
    uint64_t a = r->has_object                          ? r->object
                 : r->nfaults && r->faults[0].has_range ? r->faults[0].start
                 : r->nrows                             ? r->rows[0].addr
                 : r->has_pointer                       ? r->pointer
                 : r->has_slab                          ? r->slab
                                                        : 0;
    if (r->kernel_marks || a >= 0xffff800000000000ull || strstr(r->taint, "Tainted:"))
        r->origin = RP_ORIGIN_KERNEL;
    else if (a >> 32 && a < 0x800000000000ull)
        r->origin = RP_ORIGIN_SLABDBG;
    else if (r->nrows || a)
        r->origin = RP_ORIGIN_KERNEL; /* hashed pointers: a kernel's */
}

static void put_byte(struct slub_report *r, int64_t off, uint8_t v)
{
    off += RP_WIN_LEFT;
    if (off < 0 || off >= RP_WIN)
        return;
    r->bytes[off] = v;
    r->known[off / 8] |= (uint8_t)(1u << (off % 8));
}

bool rp_byte(const struct slub_report *r, int64_t off, uint8_t *v)
{
    off += RP_WIN_LEFT;
    if (off < 0 || off >= RP_WIN || !(r->known[off / 8] & (1u << (off % 8))))
        return false;
    *v = r->bytes[off];
    return true;
}

/* Rows whose addresses are real: placed by address, gaps noticed. */
static void place_by_address(struct slub_report *r)
{
    uint64_t next_obj = r->object;
    for (int i = 0; i < r->nrows; i++) {
        const struct rp_row *row = &r->rows[i];
        int64_t base = (int64_t)(row->addr - r->object);
        if (base < -RP_WIN_LEFT || base >= RP_WIN)
            continue;
        for (int k = 0; k < row->n; k++)
            put_byte(r, base + k, row->b[k]);
        if (row->section == RP_SEC_OBJECT) {
            if (row->addr != next_obj)
                r->missing |= RP_HEXDUMP_GAPS;
            next_obj = row->addr + row->n;
        }
    }
}

/* Rows with hashed addresses: the object's rows follow each other from
 * offset 0, the red zone before them ends at -1, the one after them starts
 * where they end.  Padding cannot be placed. */
static void place_by_order(struct slub_report *r)
{
    r->bytes_positional = true;
    int first_obj = -1, last_obj = -1;
    int64_t off = 0;
    for (int i = 0; i < r->nrows; i++) {
        if (r->rows[i].section != RP_SEC_OBJECT)
            continue;
        if (first_obj < 0)
            first_obj = i;
        last_obj = i;
        for (int k = 0; k < r->rows[i].n; k++)
            put_byte(r, off++, r->rows[i].b[k]);
    }
    if (first_obj < 0)
        return;
    int64_t end = off, left = 0;
    for (int i = first_obj - 1; i >= 0 && r->rows[i].section != RP_SEC_OBJECT; i--) {
        if (r->rows[i].section == RP_SEC_PADDING)
            break;
        for (int k = r->rows[i].n - 1; k >= 0; k--)
            put_byte(r, --left, r->rows[i].b[k]);
    }
    for (int i = last_obj + 1; i < r->nrows && r->rows[i].section == RP_SEC_REDZONE; i++)
        for (int k = 0; k < r->rows[i].n; k++)
            put_byte(r, off++, r->rows[i].b[k]);
    if (!r->has_object_size && r->rows[last_obj].n) {
        /* the object rows end at the object's end when the poison's last
         * byte (0xa5) or the right red zone follows */
        const struct rp_row *lr = &r->rows[last_obj];
        if (lr->b[lr->n - 1] == 0xa5 ||
            (last_obj + 1 < r->nrows && r->rows[last_obj + 1].section == RP_SEC_REDZONE)) {
            r->has_object_size = true;
            r->object_size = (uint64_t)end;
            r->size_source = "hexdump";
        }
    }
}

static void derive_size_from_rows(struct slub_report *r)
{
    uint64_t obj_end = 0;
    bool seen_obj = false;
    for (int i = 0; i < r->nrows; i++) {
        const struct rp_row *row = &r->rows[i];
        if (row->section == RP_SEC_OBJECT) {
            seen_obj = true;
            obj_end = row->addr + row->n;
        } else if (seen_obj && row->section == RP_SEC_REDZONE && row->addr > r->object &&
                   row->addr - r->object < (1u << 24)) {
            r->has_object_size = true;
            r->object_size = row->addr - r->object;
            r->size_source = "hexdump";
            return;
        }
    }
    uint8_t last;
    if (seen_obj && obj_end > r->object && obj_end - r->object < (1u << 24) &&
        !(r->missing & RP_HEXDUMP_GAPS) && rp_byte(r, (int64_t)(obj_end - r->object) - 1, &last) &&
        last == 0xa5) {
        r->has_object_size = true;
        r->object_size = obj_end - r->object;
        r->size_source = "hexdump";
    }
}

static void derive_bytes(struct slub_report *r)
{
    if (!r->nrows) {
        r->missing |= RP_MISS_HEXDUMP;
        return;
    }
    int first_obj = -1;
    bool steady = true;
    for (int i = 0; i < r->nrows; i++) {
        if (r->rows[i].section != RP_SEC_OBJECT)
            continue;
        if (first_obj < 0)
            first_obj = i;
        else if (r->rows[i].addr <= r->rows[first_obj].addr ||
                 (r->rows[i].addr - r->rows[first_obj].addr) % 16)
            steady = false;
    }
    if (first_obj < 0) {
        r->missing |= RP_MISS_HEXDUMP;
        return;
    }
    uint64_t a0 = r->rows[first_obj].addr;
    bool real;
    if (r->has_object && plausible(r, r->object))
        real = a0 == r->object ||
               (steady && plausible(r, a0) && a0 > r->object && a0 - r->object < RP_WIN);
    else
        real = steady && plausible(r, a0);
    if (real && !(r->has_object && plausible(r, r->object))) {
        /* No usable Object line: the dump of the object starts at it. */
        r->has_object = true;
        r->object = a0;
    }
    if (real) {
        place_by_address(r);
        if (!r->has_object_size)
            derive_size_from_rows(r);
    } else {
        place_by_order(r);
    }
}

static void derive_size_from_name(struct slub_report *r)
{
    long long n;
    const char *p = r->cache;
    if (r->has_object_size || !starts(p, "kmalloc-"))
        return;
    p += 8;
    if (starts(p, "rcl-") || starts(p, "cg-") || starts(p, "rnd-"))
        p = strchr(p, '-') + 1;
    const char *q = p;
    if (!scan_dec(&q, &n) || n <= 0)
        return;
    if (*q == 'k')
        n *= 1024;
    r->has_object_size = true;
    r->object_size = (uint64_t)n;
    r->size_source = "cache name";
}

static void derive_fault(struct slub_report *r, struct rp_fault *f)
{
    bool range = f->has_range && plausible(r, f->start) && plausible(r, f->end) &&
                 f->end >= f->start && f->end - f->start < (1u << 20);
    if (!f->has_obj_off && range && r->has_object && plausible(r, r->object) &&
        f->start + RP_WIN_LEFT >= r->object && f->start < r->object + (1u << 24)) {
        f->has_obj_off = true;
        f->obj_off = (int64_t)(f->start - r->object);
        f->off_source = "addresses";
    }
    if (!f->has_obj_off && f->has_slab_off && r->has_object_slab_off) {
        f->has_obj_off = true;
        f->obj_off = (int64_t)(f->slab_off - r->object_slab_off);
        f->off_source = "@offset";
    }
    if (!f->has_length && range) {
        f->has_length = true;
        f->length = f->end - f->start + 1;
    }
    if (!f->has_length && f->has_obj_off && f->has_first) {
        /* Hashed range: the bytes that differ from what was expected,
         * from the first one on. */
        uint64_t n = 0;
        uint8_t v;
        while (n < 4096 && rp_byte(r, f->obj_off + (int64_t)n, &v) && v != f->expected)
            n++;
        if (n) {
            f->has_length = true;
            f->length = n;
        }
    }
}

static void derive(struct slub_report *r)
{
    derive_pointer(r);
    derive_origin(r);
    r->hashed = r->origin == RP_ORIGIN_KERNEL && r->has_object && !plausible(r, r->object);
    derive_kind(r);
    derive_bytes(r);
    derive_size_from_name(r);
    for (int i = 0; i < r->nfaults; i++)
        derive_fault(r, &r->faults[i]);
    bool bytes_kind = strstr(r->kind, "overwritten") != NULL;
    if (bytes_kind && !r->nfaults)
        r->missing |= RP_MISS_FAULT;
    if (!r->alloc.present && !r->free.present)
        r->missing |= RP_MISS_TRACKS;
    if (!r->has_object && strcmp(r->kind, "padding_overwritten") && strcmp(r->kind, "wrong_count"))
        r->missing |= RP_MISS_OBJECT;
    if (!r->has_trace)
        r->missing |= RP_MISS_TRACE;
    if (!r->nfix)
        r->missing |= RP_MISS_FIX;
}

bool rp_stray(const struct slub_report *r, int fault, struct rp_stray *out)
{
    memset(out, 0, sizeof(*out));
    if (fault < 0 || fault >= r->nfaults)
        return false;
    const struct rp_fault *f = &r->faults[fault];
    if (!f->has_obj_off)
        return false;
    out->off = f->obj_off;
    out->length = f->has_length ? f->length : 1;
    uint64_t n = out->length < 16 ? out->length : 16;
    for (uint64_t i = 0; i < n; i++)
        if (rp_byte(r, out->off + (int64_t)i, &out->bytes[i]))
            out->nknown++;
    if (!out->nknown && f->has_first) {
        out->bytes[0] = (uint8_t)f->first;
        out->nknown = out->length == 1;
    }
    unsigned w = (unsigned)out->length;
    if ((uint64_t)out->nknown == out->length && (w == 1 || w == 2 || w == 4 || w == 8) &&
        (out->off % (int64_t)w + (int64_t)w) % (int64_t)w == 0) {
        out->has_word = true;
        out->width = w;
        for (unsigned i = w; i-- > 0;)
            out->word = out->word << 8 | out->bytes[i];
    }
    return true;
}

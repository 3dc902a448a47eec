/*
 * Text reports for slabdbg triage: ours (the SLUB layout) and the kernel's,
 * bare or behind the prefixes that logs add.  What a group needs is read
 * (kind, cache, the first frames of the tracks and of the call trace, the
 * task line); the hexdumps are not.
 *
 * A log interleaves the lines of many processes, so each source (host,
 * tag and pid of the prefix; the file when lines have none) has a report
 * of its own in progress.  A source exists only while a report of it is
 * being read.
 *
 * Prefixes understood (each optional, in this order):
 *   "<11>"                                    syslog priority (raw datagrams)
 *   "Dec  2 04:25:01 " "Dec 02 04:25:01.123 " BSD syslog, journalctl -o short(-precise)
 *   "2026-12-02T04:25:01.5+00:00 "            RFC 3339: rsyslog, journalctl -o short-iso
 *   "host "                                   after a time only
 *   "slabdbg[4900]: " "kernel: "              the tag
 *   "[57117.948006] "                         dmesg times
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parse/lines.h"
#include "tools/triage.h"

/* ---- times ------------------------------------------------------------------ */

static bool digits(const char *s, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return true;
}

/* ".123456": microseconds. */
static const char *fraction(const char *s, int64_t *us)
{
    *us = 0;
    if (*s != '.' && *s != ',')
        return s;
    s++;
    int64_t scale = 100000;
    while (isdigit((unsigned char)*s)) {
        *us += (*s - '0') * scale;
        scale /= 10;
        s++;
    }
    return s;
}

int64_t triage_parse_iso_time(const char *s, const char **end)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    int y, mo, d, h, mi, sec;
    if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec) ||
        mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return 0;
    int64_t us;
    const char *p = fraction(s + 19, &us);
    long zone = 0;
    bool has_zone = true;
    if (*p == 'Z') {
        p++;
    } else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1])) {
        int zh, zm = 0;
        if (!digits(p + 1, 2, &zh))
            return 0;
        const char *q = p + 3;
        if (*q == ':')
            q++;
        if (digits(q, 2, &zm))
            q += 2;
        zone = (zh * 60L + zm) * 60 * (*p == '-' ? -1 : 1);
        p = q;
    } else {
        has_zone = false;
    }
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t;
    if (has_zone) {
        t = timegm(&tm) - zone;
    } else {
        tm.tm_isdst = -1;
        t = mktime(&tm);
    }
    if (end)
        *end = p;
    return (int64_t)t * 1000000 + us;
}

/* "Dec  2 04:25:01[.frac]": local time of a year not said; the latest that
 * is not in the future.  Consecutive lines mostly share their second, so
 * the last conversion is remembered (mktime is slow). */
static int64_t bsd_time(const char *s, const char **end)
{
    static char last[16];
    static int64_t last_t;
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *m = NULL;
    for (int i = 0; i < 12; i++)
        if (!strncmp(s, months + 3 * i, 3))
            m = months + 3 * i;
    int d, h, mi, sec;
    if (!m || s[3] != ' ')
        return 0;
    const char *p = s + 4;
    if (*p == ' ')
        p++;
    if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1])) {
        digits(p, 2, &d);
        p += 2;
    } else if (isdigit((unsigned char)p[0])) {
        d = p[0] - '0';
        p += 1;
    } else {
        return 0;
    }
    if (*p++ != ' ' || !digits(p, 2, &h) || p[2] != ':' || !digits(p + 3, 2, &mi) || p[5] != ':' ||
        !digits(p + 6, 2, &sec) || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return 0;
    int64_t us;
    const char *stamp_end = p + 8;
    p = fraction(stamp_end, &us);
    size_t stamp_len = (size_t)(stamp_end - s);
    if (stamp_len < sizeof(last) && last_t && !memcmp(last, s, stamp_len) && !last[stamp_len]) {
        *end = p;
        return last_t + us;
    }
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    int year = tm.tm_year;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year;
    tm.tm_mon = (int)(m - months) / 3;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    if (t > now + 86400) {
        tm.tm_year--;
        tm.tm_isdst = -1;
        t = mktime(&tm);
    }
    *end = p;
    if (stamp_len < sizeof(last)) {
        memcpy(last, s, stamp_len);
        last[stamp_len] = 0;
        last_t = (int64_t)t * 1000000;
    }
    return (int64_t)t * 1000000 + us;
}

/* ---- prefixes ------------------------------------------------------------------ */

struct prefix {
    char host[64];
    char tag[64];
    long long pid;
    int64_t time_us;
    bool dmesg; /* a "[57117.948006] " time: the kernel's log */
};

static void copy_n(char *dst, size_t size, const char *src, size_t n)
{
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* "tag[pid]: " or "tag: " at s (a tag has no spaces); returns the message. */
static const char *tag(const char *s, struct prefix *px)
{
    const char *p = s;
    while (*p && *p != ' ' && *p != ':' && *p != '[')
        p++;
    if (p == s)
        return NULL;
    const char *name_end = p;
    long long pid = 0;
    if (*p == '[') {
        p++;
        if (!isdigit((unsigned char)*p))
            return NULL;
        while (isdigit((unsigned char)*p)) {
            if (pid > 100000000000LL) /* no pid is that large */
                return NULL;
            pid = pid * 10 + (*p++ - '0');
        }
        if (*p++ != ']')
            return NULL;
    }
    if (p[0] != ':' || (p[1] != ' ' && p[1] != 0))
        return NULL;
    copy_n(px->tag, sizeof(px->tag), s, (size_t)(name_end - s));
    px->pid = pid;
    return p[1] ? p + 2 : p + 1;
}

/* Splits off the prefixes; returns the message. */
static const char *strip_prefix(const char *s, struct prefix *px)
{
    memset(px, 0, sizeof(*px));
    if (s[0] == '<' && isdigit((unsigned char)s[1])) {
        const char *p = s + 1;
        while (isdigit((unsigned char)*p))
            p++;
        if (*p == '>') {
            s = p + 1;
            const char *m = tag(s, px);
            if (m)
                return m;
        }
    }
    const char *p;
    int64_t t = triage_parse_iso_time(s, &p);
    if (!t)
        t = bsd_time(s, &p);
    if (t && *p == ' ') {
        const char *h = p + 1;
        const char *m = tag(h, px);
        if (!m) { /* a host first */
            const char *he = h;
            while (*he && *he != ' ')
                he++;
            if (*he == ' ' && (m = tag(he + 1, px)))
                copy_n(px->host, sizeof(px->host), h, (size_t)(he - h));
        }
        if (m) {
            px->time_us = t;
            s = m;
        }
    }
    /* dmesg "[57117.948006] " */
    if (s[0] == '[') {
        p = s + 1;
        while (*p == ' ')
            p++;
        const char *q = p;
        while (isdigit((unsigned char)*q) || *q == '.')
            q++;
        if (q > p && q[0] == ']' && (q[1] == ' ' || !q[1])) {
            s = q[1] ? q + 2 : q + 1;
            px->dmesg = true;
        }
    }
    return s;
}

/* ---- reports ------------------------------------------------------------------- */

/* The report a source is writing. */
struct current {
    bool open, after_fix, kernel;
    int stack; /* enum slabdbg_sig_stack, or -1 */
    int side;  /* guard reports: -1 left, +1 right */
    bool has_head[3];
    char head[3][TR_NAME]; /* "Allocated in <head> age=..." */
    struct triage_report r;
    struct tr_stacks st;
    struct tr_meta line_meta; /* of the header line */
};

struct source {
    struct source *next;
    uint64_t hash;
    char key[160];
    char separator[128]; /* the "=====" line before the header */
    struct current c;
    char *example; /* the report's lines */
    size_t example_len, example_cap;
};

#define SOURCE_SLOTS 256

struct triage_text {
    struct triage_groups *groups;
    const char *file;
    struct tr_meta file_meta;
    struct source *slots[SOURCE_SLOTS];
};

struct triage_text *triage_text_new(struct triage_groups *g, const char *file,
                                    const struct tr_meta *file_meta)
{
    struct triage_text *t = calloc(1, sizeof(*t));
    if (!t)
        abort();
    t->groups = g;
    t->file = file;
    if (file_meta)
        t->file_meta = *file_meta;
    return t;
}

static bool starts(const char *s, const char *p)
{
    return !strncmp(s, p, strlen(p));
}

/* The JSON kind of a header's reason (and `what` for "overwritten"). */
static void kind_of(const char *reason, int side, char *kind, size_t ksize, char *what,
                    size_t wsize)
{
    static const struct {
        const char *prefix, *kind;
    } fixed[] = {
        {"Object already free", "already_free"},
        {"Invalid object pointer", "invalid_pointer"},
        {"Attempt to free object", "outside_slab"},
        {"Wrong slab cache", "wrong_cache"},
        {"Freepointer corrupt", "freepointer_corrupt"},
        {"Freechain corrupt", "freechain_corrupt"},
        {"Wrong number of objects", "wrong_count"},
        {"Objects remaining", "objects_remaining"},
        {"Padding overwritten", "padding_overwritten"},
        {"double free", "double_free"},
        {"invalid free", "invalid_free"},
    };
    what[0] = 0;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (starts(reason, fixed[i].prefix)) {
            snprintf(kind, ksize, "%s", fixed[i].kind);
            return;
        }
    const char *ow = strstr(reason, " overwritten");
    if (ow && !ow[12]) {
        snprintf(kind, ksize, "overwritten");
        copy_n(what, wsize, reason, (size_t)(ow - reason));
        return;
    }
    bool uaf = starts(reason, "use-after-free "), oob = starts(reason, "out-of-bounds ");
    if (uaf || oob) {
        const char *rw = reason + (uaf ? 15 : 14);
        bool write = starts(rw, "write");
        if (strstr(rw, "right of the object"))
            side = 1;
        else if (strstr(rw, "left of the object"))
            side = -1;
        snprintf(kind, ksize, "%s_%s%s", uaf ? "use_after_free" : "out_of_bounds",
                 write ? "write" : "read",
                 uaf || !side ? ""
                 : side < 0   ? "_left"
                              : "_right");
        return;
    }
    /* Something newer: its words, as an identifier. */
    size_t n = 0;
    for (const char *p = reason; *p && n + 1 < ksize && !(p[0] == ' ' && p[1] == '0'); p++)
        kind[n++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_';
    kind[n] = 0;
}

/* "BUG kmalloc-1024 (Not tainted): Poison overwritten" */
static bool parse_header(const char *s, char *cache, size_t csize, char *reason, size_t rsize)
{
    if (!starts(s, "BUG "))
        return false;
    s += 4;
    const char *paren = strstr(s, " (");
    const char *colon = paren ? strstr(paren, "): ") : NULL;
    if (!paren || !colon || paren == s)
        return false;
    copy_n(cache, csize, s, (size_t)(paren - s));
    copy_n(reason, rsize, colon + 3, strlen(colon + 3));
    return true;
}

static void example_add(struct source *src, const char *line)
{
    size_t n = strlen(line);
    if (src->example_len + n + 1 > TR_EXAMPLE_MAX)
        return;
    if (src->example_len + n + 1 > src->example_cap) {
        size_t cap = src->example_cap ? src->example_cap * 2 : 4096;
        while (cap < src->example_len + n + 1)
            cap *= 2;
        src->example = realloc(src->example, cap);
        if (!src->example)
            abort();
        src->example_cap = cap;
    }
    memcpy(src->example + src->example_len, line, n);
    src->example_len += n;
    src->example[src->example_len++] = '\n';
}

static void close_report(struct triage_text *t, struct source *src)
{
    if (!src->c.open)
        return;
    struct triage_report *r = &src->c.r;
    kind_of(r->reason, src->c.side, r->kind, sizeof(r->kind), r->what, sizeof(r->what));
    for (int s = 0; s < 3; s++)
        if (!src->c.st.n[s] && src->c.has_head[s]) { /* a track without its stack lines */
            snprintf(src->c.st.f[s][0], TR_NAME, "%s", src->c.head[s]);
            src->c.st.n[s] = 1;
        }
    if (!r->meta.host[0])
        memcpy(r->meta.host, src->c.line_meta.host, sizeof(r->meta.host));
    if (!r->meta.program[0])
        memcpy(r->meta.program, src->c.line_meta.program, sizeof(r->meta.program));
    if (!r->meta.pid)
        r->meta.pid = src->c.line_meta.pid;
    r->meta.time_us = src->c.line_meta.time_us;
    r->meta.time_source = src->c.line_meta.time_source;
    if (!r->meta.time_us && t->file_meta.time_us) {
        r->meta.time_us = t->file_meta.time_us;
        r->meta.time_source = TR_TIME_FILE;
    }
    triage_finish_report(r, &src->c.st, src->c.kernel);
    r->example = src->example;
    r->example_len = src->example_len;
    r->example_json = false;
    triage_groups_add(t->groups, r);
    src->c.open = false;
}

static struct source **find_source(struct triage_text *t, const char *key, uint64_t h)
{
    struct source **pp = &t->slots[h % SOURCE_SLOTS];
    while (*pp && ((*pp)->hash != h || strcmp((*pp)->key, key)))
        pp = &(*pp)->next;
    return pp;
}

static void drop_source(struct source **pp)
{
    struct source *src = *pp;
    *pp = src->next;
    free(src->example);
    free(src);
}

/* A frame line: "func+0x../0x.. file:line", the kernel's "[<addr>] ..."
 * and "? " marks (unreliable frames are left out). */
static void frame_line(struct source *src, const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (s[0] == '[' && s[1] == '<') {
        const char *e = strstr(s, "] ");
        if (!e)
            return;
        s = e + 2;
    }
    if ((s[0] == '?' && s[1] == ' ') || s[0] == '<' || !*s)
        return;
    int k = src->c.stack;
    const char *mod = strstr(s, " [");
    if (mod && strchr(mod, ']')) /* "f+0x1/0x2 [module]": a kernel module */
        src->c.kernel = true;
    if (src->c.st.n[k] < TR_STACK_KEEP)
        snprintf(src->c.st.f[k][src->c.st.n[k]++], TR_NAME, "%s", s);
}

/* A stack line even without its indentation (the journal may strip it):
 * "f+0x1/0x2 ...", "0x7f...", "[<ffff...>] ...", "? f+0x...". */
static bool looks_like_frame(const char *s)
{
    if ((s[0] == '[' && s[1] == '<') || (s[0] == '?' && s[1] == ' ') ||
        (s[0] == '0' && s[1] == 'x'))
        return true;
    for (const char *p = s; *p && *p != ' '; p++)
        if (*p == '+' && slabdbg_sig_offset_at(p))
            return true;
    return false;
}

/* One line of a source: `s` without its indentation, `raw` with it (for
 * the example). */
static void source_line(struct triage_text *t, struct source **pp, const char *s, const char *raw,
                        bool indented, const struct tr_meta *lm, long line_no)
{
    struct source *src = *pp;
    bool kernel = false;
    if (starts(s, "INFO: ")) {
        s += 6;
        kernel = true;
    }
    char cache[TR_NAME], reason[256];
    if (parse_header(s, cache, sizeof(cache), reason, sizeof(reason))) {
        close_report(t, src);
        memset(&src->c, 0, sizeof(src->c));
        src->example_len = 0;
        src->c.open = true;
        src->c.stack = -1;
        src->c.kernel = kernel || !strcmp(lm->program, "kernel");
        src->c.line_meta = *lm;
        copy_n(src->c.r.cache, sizeof(src->c.r.cache), cache, strlen(cache));
        copy_n(src->c.r.reason, sizeof(src->c.r.reason), reason, strlen(reason));
        src->c.r.file = t->file;
        src->c.r.line = line_no;
        if (src->separator[0])
            example_add(src, src->separator);
        src->separator[0] = 0;
        example_add(src, s);
        return;
    }
    if (starts(s, "=====")) {
        close_report(t, src);
        copy_n(src->separator, sizeof(src->separator), s, strlen(s));
        return;
    }
    if (!src->c.open) {
        drop_source(pp); /* nothing of a report here */
        return;
    }
    if (src->c.after_fix && *s && !starts(s, "FIX ")) {
        close_report(t, src);
        drop_source(pp);
        return;
    }
    example_add(src, raw);
    if (kernel)
        src->c.kernel = true;
    if (starts(s, "FIX ")) {
        src->c.after_fix = true;
        src->c.stack = -1;
        return;
    }
    if (!*s) {
        src->c.stack = -1;
        return;
    }
    if (src->c.stack >= 0 && (indented || looks_like_frame(s))) {
        frame_line(src, s);
        return;
    }
    src->c.stack = -1;
    if (starts(s, "Allocated in ") || starts(s, "Freed in ")) {
        int k = s[0] == 'A' ? SLABDBG_SIG_ALLOC : SLABDBG_SIG_FREE;
        const char *head = s + (k == SLABDBG_SIG_ALLOC ? 13 : 9);
        const char *e = strstr(head, " age=");
        copy_n(src->c.head[k], TR_NAME, head, e ? (size_t)(e - head) : strlen(head));
        src->c.has_head[k] = true;
        src->c.stack = k;
    } else if (starts(s, "Call Trace:")) {
        src->c.stack = SLABDBG_SIG_FOUND_BY;
    } else if (starts(s, "CPU: ")) {
        int cpu;
        long long pid;
        char comm[64];
        if (ex_task_line(s, &cpu, &pid, comm, sizeof(comm), NULL, 0)) {
            src->c.r.meta.pid = pid;
            copy_n(src->c.r.meta.program, sizeof(src->c.r.meta.program), comm, strlen(comm));
        }
        /* ours ends at "Not tainted"; the kernel adds its taint flags or
         * its version ("Not tainted 5.13.0 #1") */
        const char *taint = strstr(s, "ainted");
        if (taint && taint[6])
            src->c.kernel = true;
    } else if (starts(s, "Access at ")) {
        src->c.side = strstr(s, " left of it") ? -1 : strstr(s, " right of its end") ? 1 : 0;
    } else if (starts(s, "Hardware name: ")) {
        src->c.kernel = true;
    }
}

void triage_text_line(struct triage_text *t, const char *line, const struct tr_meta *meta,
                      long line_no)
{
    struct prefix px;
    const char *s = strip_prefix(line, &px);
    struct tr_meta lm;
    if (meta) {
        lm = *meta;
    } else {
        memset(&lm, 0, sizeof(lm));
        memcpy(lm.host, px.host, sizeof(lm.host));
        memcpy(lm.program, px.tag, sizeof(lm.program)); /* "slabdbg" or "kernel" */
        lm.pid = px.pid;
        lm.time_us = px.time_us;
        lm.time_source = px.time_us ? TR_TIME_LOG : TR_TIME_NONE;
        if (px.dmesg && !lm.program[0])
            snprintf(lm.program, sizeof(lm.program), "kernel");
    }
    bool indented = *s == ' ' || *s == '\t';
    const char *text = s;
    while (*text == ' ' || *text == '\t')
        text++;
    /* the source: who wrote the line */
    char key[160];
    snprintf(key, sizeof(key), "%s|%s|%lld", lm.host, meta ? "" : px.tag, lm.pid);
    uint64_t h = slabdbg_fnv1a_str(SLABDBG_FNV64_BASIS, key);
    struct source **pp = find_source(t, key, h);
    if (!*pp) {
        if (!starts(text, "BUG ") && !starts(text, "====="))
            return;
        struct source *src = calloc(1, sizeof(*src));
        if (!src)
            abort();
        src->hash = h;
        src->c.stack = -1;
        copy_n(src->key, sizeof(src->key), key, strlen(key));
        *pp = src;
    }
    /* the program: our syslog tag says "slabdbg", the report says who */
    if (!strcmp(lm.program, "slabdbg"))
        lm.program[0] = 0;
    source_line(t, pp, text, s, indented, &lm, line_no);
}

void triage_text_free(struct triage_text *t)
{
    if (!t)
        return;
    for (int i = 0; i < SOURCE_SLOTS; i++)
        while (t->slots[i]) {
            close_report(t, t->slots[i]);
            drop_source(&t->slots[i]);
        }
    free(t);
}

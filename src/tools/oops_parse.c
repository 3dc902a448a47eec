/*
 * Kernel oops and crash(8) dump parser (see oops_parse.h).
 */
#include "tools/oops_parse.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

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

static void copy_n(char *dst, size_t size, const char *s, size_t n)
{
    if (n > size - 1)
        n = size - 1;
    memcpy(dst, s, n);
    dst[n] = 0;
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

bool oops_canonical(uint64_t addr)
{
    uint64_t top = addr >> 47;
    return top == 0 || top == 0x1ffff;
}

/* ---- oops lines -------------------------------------------------------------- */

/* The address after `key` in s (hex, with or without 0x). */
static bool addr_after(const char *s, const char *key, uint64_t *v)
{
    const char *p = strstr(s, key);
    if (!p)
        return false;
    p = skip_ws(p + strlen(key));
    return rp_scan_hex(&p, v);
}

/* Oops headers, and where their fault address is. */
static const struct {
    const char *prefix, *kind, *addr_key;
} forms[] = {
    {"BUG: unable to handle kernel NULL pointer dereference", "NULL pointer dereference", " at "},
    {"BUG: kernel NULL pointer dereference", "NULL pointer dereference", "address:"},
    {"BUG: unable to handle kernel paging request", "paging request", " at "},
    {"BUG: unable to handle page fault for address", "page fault", ""},
    {"BUG: unable to handle kernel", "kernel fault", " at "},
    {"BUG: kernel paging request", "paging request", " at "},
    {"general protection fault", "general protection fault", "non-canonical address"},
    {"kernel BUG at ", "kernel BUG", NULL},
    {"Oops: ", "oops", NULL},
    {"Unable to handle kernel NULL pointer dereference", "NULL pointer dereference",
     "virtual address"},
    {"Unable to handle kernel paging request", "paging request", "virtual address"},
};

static int oops_form(const char *s)
{
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
        if (starts(s, forms[i].prefix))
            return (int)i;
    return -1;
}

static void fill_header(const char *s, int form, struct oops *o)
{
    copy_n(o->kind, sizeof(o->kind), forms[form].kind, strlen(forms[form].kind));
    copy_n(o->header, sizeof(o->header), s, strlen(s));
    const char *key = forms[form].addr_key;
    const char *rest = s + strlen(forms[form].prefix);
    if (!key)
        return;
    if (!*key) { /* "for address: ADDR" or, in the seed example, "for address ADDR" */
        if (*rest == ':')
            rest++;
        rest = skip_ws(rest);
        o->has_fault_addr = rp_scan_hex(&rest, &o->fault_addr);
    } else {
        o->has_fault_addr = addr_after(rest, key, &o->fault_addr);
    }
}

static void add_reg(struct oops *o, const char *name, size_t n, uint64_t v)
{
    if (n == 0 || n >= sizeof(o->regs[0].name))
        return;
    for (int i = 0; i < o->nregs; i++)
        if (strlen(o->regs[i].name) == n && !strncmp(o->regs[i].name, name, n))
            return; /* the first dump is the one at the fault */
    if (o->nregs == OOPS_REGS_MAX)
        return;
    copy_n(o->regs[o->nregs].name, sizeof(o->regs[0].name), name, n);
    o->regs[o->nregs++].value = v;
}

/* "RAX: 0000000000000000 RBX: ... ", "RSP: 0018:ffffabb086977cb8 EFLAGS:
 * 00010206", "FS:  0000000000000000(0000) GS:ffff9612bfc80000(0000)". */
static bool parse_regs(const char *s, struct oops *o)
{
    int found = 0;
    while (*s) {
        const char *name = s;
        while (isupper((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_' ||
               (s == name && *s == 'k') || (s > name && islower((unsigned char)*s)))
            s++;
        size_t n = (size_t)(s - name);
        if (*s != ':' || n < 2 || !(isupper((unsigned char)name[0]) || name[0] == 'k'))
            break;
        const char *p = skip_ws(s + 1);
        uint64_t v, v2;
        if (!rp_scan_hex(&p, &v))
            break;
        if (*p == ':') { /* segment:value */
            p++;
            if (!rp_scan_hex(&p, &v2))
                break;
            v = v2;
        }
        if (*p == '(') {
            const char *close = strchr(p, ')');
            p = close ? close + 1 : p + strlen(p);
        }
        add_reg(o, name, n, v);
        found++;
        s = skip_ws(p);
    }
    return found > 0;
}

/* "RIP: 0010:func+0xa3/0x170", "RIP: 0010:[<ffffffff81...>]  [<...>] func+..",
 * "IP: func+...", "IP: [<...>] func+...", "RIP: 0000560f80226732". */
static bool parse_rip(const char *s, struct oops *o)
{
    const char *p;
    if (starts(s, "RIP: "))
        p = s + 5;
    else if (starts(s, "IP: "))
        p = s + 4;
    else
        return false;
    p = skip_ws(p);
    if (isxdigit((unsigned char)p[0]) && p[4] == ':' && p[5] != ' ')
        p += 5; /* code segment */
    char buf[RP_LINE_MAX < 512 ? RP_LINE_MAX : 512];
    copy_n(buf, sizeof(buf), p, strlen(p));
    /* "[<a>]  [<a>] func": the first address, then the named frame. */
    char *second = strstr(buf, "] [<");
    if (!second)
        second = strstr(buf, "]  [<");
    struct rp_frame f;
    char *rsp = strstr(buf, " RSP: ");
    if (rsp)
        *rsp = 0;
    if (second) {
        const char *q = buf + 2;
        uint64_t a = 0;
        bool has = buf[0] == '[' && buf[1] == '<' && rp_scan_hex(&q, &a);
        char *next = strchr(second + 1, '[');
        if (!next || !rp_parse_frame(next, &f))
            return false;
        if (has && !f.has_addr) {
            f.addr = a;
            f.has_addr = true;
        }
    } else if (!rp_parse_frame(buf, &f)) {
        /* a bare address without 0x: "RIP: 0000562c46fb6732" */
        const char *q = buf;
        memset(&f, 0, sizeof(f));
        if (!rp_scan_hex(&q, &f.addr) || (*q && *q != ' ') || q - buf < 8)
            return false;
        f.has_addr = true;
    }
    if (!o->has_rip) {
        o->rip = f;
        o->has_rip = true;
        if (!f.func[0] && f.addr < 0x800000000000ull)
            o->user_space = true;
    }
    return true;
}

/* "CPU: 28 PID: 180 Comm: ksoftirqd/28 Tainted: G OE 4.14.0-generic #1" */
static bool parse_task(const char *s, struct oops *o)
{
    int cpu;
    long long pid;
    char comm[sizeof(o->comm)];
    const char *p;
    if (!rp_task_line(s, &cpu, &pid, comm, sizeof(comm), &p))
        return false;
    if (o->has_task)
        return true;
    o->has_task = true;
    o->cpu = cpu;
    o->pid = pid;
    memcpy(o->comm, comm, sizeof(comm));
    /* the release: the first word after the taint that looks like 4.14.0 */
    for (const char *q = strstr(p, "ainted"); q && *q; q++) {
        if (q[-1] == ' ' && isdigit((unsigned char)q[0]) &&
            (q[1] == '.' || (isdigit((unsigned char)q[1]) && q[2] == '.'))) {
            copy_n(o->release, sizeof(o->release), q, strlen(q));
            break;
        }
    }
    return true;
}

/* "Code: 45 fa ... <48> 8b 1f ..." */
static bool parse_code(const char *s, struct oops *o)
{
    if (!starts(s, "Code: "))
        return false;
    if (o->has_code || o->code_unavailable)
        return true; /* the summary after the trace repeats it */
    const char *p = s + 6;
    if (starts(p, "Unable") || starts(p, "Bad")) {
        o->code_unavailable = true;
        return true;
    }
    o->code_mark = -1;
    o->ncode = 0;
    while (*p && o->ncode < OOPS_CODE_MAX) {
        p = skip_ws(p);
        bool mark = *p == '<' || *p == '(';
        char close = *p == '<' ? '>' : ')';
        if (mark)
            p++;
        if (hexval(p[0]) < 0 || hexval(p[1]) < 0)
            break;
        if (mark && p[2] != close)
            break;
        if (!mark && p[2] && p[2] != ' ')
            break;
        if (mark)
            o->code_mark = o->ncode;
        o->code[o->ncode++] = (uint8_t)(hexval(p[0]) << 4 | hexval(p[1]));
        p += mark ? 3 : 2;
    }
    o->has_code = o->ncode > 0;
    if (!o->has_code)
        o->code_unavailable = true;
    return true;
}

bool oops_reg(const struct oops *o, const char *name, uint64_t *value)
{
    /* Normalise: upper case, "R08" and "R8" alike. */
    char want[8], have[8];
    size_t n = 0;
    for (; name[n] && n < sizeof(want) - 1; n++)
        want[n] = (char)toupper((unsigned char)name[n]);
    want[n] = 0;
    if (want[0] == 'R' && want[1] == '0' && isdigit((unsigned char)want[2]))
        memmove(want + 1, want + 2, strlen(want + 1));
    for (int i = 0; i < o->nregs; i++) {
        copy_n(have, sizeof(have), o->regs[i].name, strlen(o->regs[i].name));
        if (have[0] == 'R' && have[1] == '0' && isdigit((unsigned char)have[2]))
            memmove(have + 1, have + 2, strlen(have + 1));
        if (!strcmp(have, want)) {
            *value = o->regs[i].value;
            return true;
        }
    }
    return false;
}

/* ---- crash rd output ------------------------------------------------------------ */

/* "crash> rd [-64|-32|-16|-8|-s|-x|-a...] ADDR [COUNT]" */
static bool parse_rd_command(const char *s, struct crash_dump *d)
{
    if (!starts(s, "crash> rd ") && !starts(s, "rd "))
        return false;
    const char *p = strstr(s, "rd ") + 3;
    d->word_size = 8;
    d->count = -1;
    bool have_addr = false;
    while (*(p = skip_ws(p))) {
        const char *tok = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        size_t n = (size_t)(p - tok);
        if (tok[0] == '-') {
            if (n == 3 && !strncmp(tok, "-32", 3))
                d->word_size = 4;
            else if (n == 3 && !strncmp(tok, "-16", 3))
                d->word_size = 2;
            else if (n == 2 && !strncmp(tok, "-8", 2))
                d->word_size = 1;
            continue;
        }
        const char *q = tok;
        uint64_t v;
        long long c;
        if (!have_addr) {
            have_addr = true;
            if (rp_scan_hex(&q, &v) && q == p)
                d->base = v;
        } else if (rp_scan_dec(&q, &c) && q == p && c > 0) {
            d->count = c;
        }
    }
    return true;
}

/* A word token: hex of the dump's width, or a symbol (rd -s). */
static bool word_token(const char *tok, size_t n, struct crash_dump *d, struct dump_word *w)
{
    memset(w, 0, sizeof(*w));
    bool hex = n > 0;
    for (size_t i = 0; i < n && hex; i++)
        hex = hexval(tok[i]) >= 0;
    if (hex) {
        unsigned ws = n == 16 ? 8 : n == 8 ? 4 : n == 4 ? 2 : n == 2 ? 1 : 0;
        if (!ws || (d->word_size && ws != d->word_size))
            return false;
        d->word_size = ws;
        const char *q = tok;
        if (!rp_scan_hex(&q, &w->value))
            return false;
        w->known = true;
        return true;
    }
    if (!(isalpha((unsigned char)tok[0]) || tok[0] == '_'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)tok[i]) || tok[i] == '_' || tok[i] == '.' || tok[i] == '+'))
            return false;
    copy_n(w->sym, sizeof(w->sym), tok, n);
    return true;
}

/* "ffff9612a277cc00:  21bd62ac2ee34ae2 ffff9612a277cc00   .J...b.!..w.....":
 * returns the number of words taken, 0 if the line is not a row. */
static int parse_rd_row(const char *s, struct crash_dump *d, bool commit)
{
    const char *p = s;
    uint64_t addr;
    int digits = 0;
    while (hexval(p[digits]) >= 0)
        digits++;
    if (digits < 4 || p[digits] != ':' || !rp_scan_hex(&p, &addr))
        return 0;
    p++;
    unsigned ws = d->word_size ? d->word_size : 8;
    struct dump_word words[16];
    int n = 0;
    bool symbols = false;
    while (n < 16) {
        const char *before = p;
        p = skip_ws(p);
        if (!*p)
            break;
        /* ASCII columns follow the words after a wider gap */
        if (n > 0 && p - before >= 2 && !symbols)
            break;
        const char *tok = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        struct crash_dump probe = *d;
        if (!word_token(tok, (size_t)(p - tok), commit ? d : &probe, &words[n]))
            break;
        if (!words[n].known)
            symbols = true;
        ws = commit ? d->word_size : probe.word_size;
        n++;
        if ((unsigned)n * (ws ? ws : 8) >= 16)
            break;
    }
    if (!n)
        return 0;
    if (!commit)
        return n;
    if (!d->word_size)
        d->word_size = 8;
    if (!d->nwords && !d->dropped && !d->base)
        d->base = addr;
    for (int i = 0; i < n; i++) {
        uint64_t a = addr + (uint64_t)i * d->word_size;
        if (a < d->base || (a - d->base) % d->word_size ||
            (a - d->base) / d->word_size >= DUMP_WORDS_MAX) {
            d->dropped++;
            continue;
        }
        int idx = (int)((a - d->base) / d->word_size);
        d->words[idx] = words[i];
        if (idx + 1 > d->nwords)
            d->nwords = idx + 1;
    }
    return n;
}

/* ---- the parser ------------------------------------------------------------------ */

void oops_parser_init(struct oops_parser *p, struct oops *oopses, int max_oopses,
                      struct crash_dump *dumps, int max_dumps)
{
    memset(p, 0, sizeof(*p));
    p->oopses = oopses;
    p->max_oopses = max_oopses;
    p->dumps = dumps;
    p->max_dumps = max_dumps;
}

static void close_all(struct oops_parser *p)
{
    p->cur = NULL;
    p->dump = NULL;
    p->in_trace = false;
    p->skipping = false;
}

static struct crash_dump *open_dump(struct oops_parser *p)
{
    close_all(p);
    if (p->ndumps == p->max_dumps) {
        p->dropped_dumps++;
        return NULL;
    }
    struct crash_dump *d = &p->dumps[p->ndumps++];
    memset(d, 0, sizeof(*d));
    d->count = -1;
    d->first_line = d->last_line = p->line_no;
    p->dump = d;
    return d;
}

static bool dump_line(struct oops_parser *p, const char *s)
{
    struct crash_dump probe;
    if (starts(s, "crash> ")) {
        close_all(p);
        if (starts(s, "crash> rd ")) {
            struct crash_dump *d = open_dump(p);
            if (d)
                parse_rd_command(s, d);
        }
        return true;
    }
    if (p->dump) {
        if (parse_rd_row(s, p->dump, true)) {
            p->dump->last_line = p->line_no;
            return true;
        }
        p->dump = NULL;
        return false;
    }
    /* rows without the command line start a dump too */
    memset(&probe, 0, sizeof(probe));
    if (!p->cur && parse_rd_row(s, &probe, false) >= 1) {
        struct crash_dump *d = open_dump(p);
        if (d) {
            parse_rd_row(s, d, true);
            return true;
        }
    }
    return false;
}

static bool is_marker(const char *s)
{
    return starts(s, "<IRQ>") || starts(s, "</IRQ>") || starts(s, "<TASK>") ||
           starts(s, "</TASK>") || starts(s, "<NMI>") || starts(s, "</NMI>") ||
           starts(s, "<EOI>") || starts(s, "<EOE>");
}

static void oops_body_line(struct oops_parser *p, const char *s)
{
    struct oops *o = p->cur;
    struct rp_frame f;
    o->last_line = p->line_no;
    if (starts(s, "Call Trace:")) {
        o->has_trace = true;
        p->in_trace = true;
        return;
    }
    if (p->in_trace && !is_marker(s) && rp_parse_frame(s, &f)) {
        if (o->nframes < OOPS_FRAMES_MAX)
            o->frames[o->nframes++] = f;
        return;
    }
    if (is_marker(s))
        return;
    if (parse_code(s, o) || parse_rip(s, o)) {
        p->in_trace = false;
        return;
    }
    if (starts(s, "#PF: ") && !o->access[0]) {
        copy_n(o->access, sizeof(o->access), s + 5, strlen(s + 5));
        return;
    }
    if (parse_task(s, o))
        return;
    if (parse_regs(s, o)) {
        p->in_trace = false;
        if (!o->has_fault_addr)
            o->has_fault_addr = oops_reg(o, "CR2", &o->fault_addr);
    }
}

void oops_parser_line(struct oops_parser *p, const char *line)
{
    char buf[RP_LINE_MAX];
    copy_n(buf, sizeof(buf), line, strlen(line));
    p->line_no++;
    char *s = rp_clean_line(buf, NULL, NULL);
    if (starts(s, "BUG: ") || starts(s, "general protection fault") || starts(s, "kernel BUG at") ||
        starts(s, "Oops: ") || starts(s, "Unable to handle kernel")) {
        /* "Oops: 0000 [#1]" right after a header is part of it. */
        if (starts(s, "Oops: ") && p->cur && !p->cur->has_trace && !p->cur->nregs)
            return;
        int form = oops_form(s);
        close_all(p);
        if (form < 0)
            return; /* "BUG: KASAN: ..." and other BUG: lines end what was read */
        if (p->noopses == p->max_oopses) {
            p->dropped_oopses++;
            p->skipping = true;
            return;
        }
        struct oops *o = &p->oopses[p->noopses++];
        memset(o, 0, sizeof(*o));
        fill_header(s, form, o);
        o->code_mark = -1;
        o->first_line = o->last_line = p->line_no;
        p->cur = o;
        return;
    }
    /* what ends an oops: its end marker, a SLUB report, a crash prompt */
    if (starts(s, "---[ end trace") || starts(s, "=====") || starts(s, "Kernel panic") ||
        (starts(s, "BUG ") && strstr(s, "): "))) {
        close_all(p);
        return;
    }
    if (dump_line(p, s))
        return;
    if (p->skipping || !p->cur || !*s)
        return;
    oops_body_line(p, s);
}

void oops_parser_finish(struct oops_parser *p)
{
    close_all(p);
}

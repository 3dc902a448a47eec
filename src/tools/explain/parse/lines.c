/*
 * Line cleaning and the tokens shared by the parsers (see lines.h).
 * Input is never trusted: numbers are bounded, strings are cut to their
 * fields, nothing recurses on the input and nothing is allocated.
 */
#include "parse/lines.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

bool ex_starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

const char *ex_skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

void ex_copy(char *dst, size_t size, const char *s, size_t n)
{
    if (!size)
        return;
    if (n > size - 1)
        n = size - 1;
    memcpy(dst, s, n);
    dst[n] = 0;
}

void ex_copy_str(char *dst, size_t size, const char *s)
{
    ex_copy(dst, size, s, strlen(s));
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

int ex_hex_digits(const char *s)
{
    int n = 0;
    while (hexval((unsigned char)s[n]) >= 0)
        n++;
    return n;
}

/* Hex number with optional "0x"; at most 16 significant digits, so that a
 * long run of digits is refused rather than silently wrapped. */
bool ex_scan_hex(const char **ps, uint64_t *v)
{
    const char *s = *ps;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && hexval((unsigned char)s[2]) >= 0)
        s += 2;
    if (hexval((unsigned char)*s) < 0)
        return false;
    while (*s == '0' && hexval((unsigned char)s[1]) >= 0)
        s++;
    uint64_t x = 0;
    int n = 0;
    for (; hexval((unsigned char)*s) >= 0; s++, n++) {
        if (n == 16)
            return false;
        x = x << 4 | (uint64_t)hexval((unsigned char)*s);
    }
    *v = x;
    *ps = s;
    return true;
}

bool ex_scan_dec(const char **ps, long long *v)
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

/* ---- line prefixes ----------------------------------------------------------------- */

/* "Jan 12 16:11:01 host tag: " (traditional syslog) */
static const char *syslog_prefix(const char *s)
{
    if (!(isalpha((unsigned char)s[0]) && isalpha((unsigned char)s[1]) &&
          isalpha((unsigned char)s[2]) && s[3] == ' '))
        return NULL;
    const char *p = ex_skip_ws(s + 4);
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

/* After a syslog timestamp: "host tag: " where tag is "kernel" or "name[pid]". */
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

/* "[57117.948006]", "[  +0.000027]" (dmesg -d), "[Mon Jan 12 16:11:01 2025]",
 * caller ids "[ T123]" / "[C0]", Android "[4:  netbpfload:  825]". */
static const char *bracket_prefix(const char *s, bool *kernel, char *stream, size_t stream_size)
{
    if (*s != '[')
        return NULL;
    const char *p = ex_skip_ws(s + 1);
    const char *close = NULL;
    for (int i = 0; i < 48 && s[i]; i++)
        if (s[i] == ']') {
            close = s + i;
            break;
        }
    if (!close || close == p)
        return NULL;
    const char *q = p;
    if (*q == '+')
        q++;
    bool stamp = isdigit((unsigned char)*q);
    for (; q < close && stamp; q++)
        stamp = isdigit((unsigned char)*q) || *q == '.';
    bool human = isalpha((unsigned char)p[0]) && isalpha((unsigned char)p[1]) &&
                 isalpha((unsigned char)p[2]) && p[3] == ' ' && memchr(p, ':', (size_t)(close - p));
    bool caller = (*p == 'T' || *p == 'C') && close > p + 1;
    for (q = p + 1; q < close && caller; q++)
        caller = isdigit((unsigned char)*q);
    /* "[4:     netbpfload:  825]": cpu, comm, pid */
    bool android = isdigit((unsigned char)*p) && !stamp;
    if (android) {
        q = p;
        while (isdigit((unsigned char)*q))
            q++;
        android = *q == ':' && memchr(q + 1, ':', (size_t)(close - q - 1)) &&
                  isdigit((unsigned char)close[-1]);
    }
    if (!stamp && !human && !caller && !android)
        return NULL;
    if (caller)
        ex_copy(stream, stream_size, p, (size_t)(close - p));
    *kernel = true;
    return close + 1;
}

/* "** 12 printk messages dropped **" (anywhere in the first few columns,
 * after console noise): returns what follows it. */
static const char *dropped_marker(const char *s)
{
    const char *m = strstr(s, " printk messages dropped **");
    if (!m || m - s > 48)
        return NULL;
    const char *start = m;
    while (start > s && isdigit((unsigned char)start[-1]))
        start--;
    if (start - s < 3 || start[-1] != ' ' || start[-2] != '*' || start[-3] != '*')
        return NULL;
    return m + strlen(" printk messages dropped **");
}

void ex_clean_line(char *line, struct ex_line *l)
{
    bool k = false;
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
                 line[n - 1] == '\t'))
        line[--n] = 0;
    const char *s = line;
    l->stream[0] = 0;
    /* mail quotes: "> ", ">> ", "> > "; a KASAN marked row (">ffff...:")
     * has no space after its '>' */
    while (s[0] == '>' && (s[1] == ' ' || s[1] == '>' || s[1] == '\t' || s[1] == 0)) {
        s++;
        if (*s == ' ' || *s == '\t')
            s++;
    }
    if (s[0] == '|' && s[1] == ' ') /* "  | " quoting */
        s += 2;
    for (int round = 0; round < 6; round++) {
        const char *p;
        const char *t = ex_skip_ws(s);
        if (t[0] == '<' && isdigit((unsigned char)t[1]) && t[2] == '>') {
            s = t + 3;
            if (*s == ' ')
                s++;
        } else if ((p = syslog_prefix(t)) || (p = iso_prefix(t))) {
            const char *q = host_tag(p, &k);
            if (!q)
                break;
            s = q;
        } else if ((p = bracket_prefix(t, &k, l->stream, sizeof(l->stream)))) {
            s = *p == ' ' ? p + 1 : p;
        } else if (ex_starts(t, "kernel: ")) {
            k = true;
            s = t + 8;
        } else if ((p = dropped_marker(t))) {
            s = p;
            if (*s == ' ')
                s++;
        } else {
            break;
        }
    }
    l->kernel = k;
    l->indented = *s == ' ' || *s == '\t';
    l->text = ex_skip_ws(s);
}

/* ---- frames ------------------------------------------------------------------------ */

static bool name_char(int c)
{
    return isalnum(c) || c == '_' || c == '.' || c == '@' || c == '$';
}

/* The end of a demangled C++ name: "ns::Foo<int, char>::bar(int, char
 * const*) const", "(anonymous namespace)::f()", "{lambda()#1}::operator()()":
 * spaces only inside brackets; an operator's own symbols ("operator<<",
 * "operator()", "operator+") are part of it. */
static const char *cxx_name_end(const char *s)
{
    int depth = 0;
    while (*s) {
        if (ex_starts(s, "operator") && !isalnum((unsigned char)s[8]) && s[8] != '_') {
            s += 8;
            if (ex_starts(s, "()") || ex_starts(s, "[]"))
                s += 2;
            else
                while (*s && strchr("<>=!+-*/%^&|~,", *s))
                    s++;
            continue;
        }
        char c = *s;
        if (c == '(' || c == '<' || c == '[' || c == '{')
            depth++;
        else if ((c == ')' || c == '>' || c == ']' || c == '}') && depth > 0)
            depth--;
        else if (!depth && (c == ' ' || c == '\t' || c == '+'))
            break;
        s++;
    }
    return s;
}

/* "lib/dump_stack.c:88", "kbuild/src/.../x.c:693 (discriminator 1)": a
 * source location; n is its length. */
static bool source_location(const char *s, size_t *n)
{
    size_t i = 0;
    bool slash = false, dot = false;
    while (s[i] && s[i] != ' ' && s[i] != ':' && s[i] != ')' && s[i] != '(') {
        slash |= s[i] == '/';
        dot |= s[i] == '.';
        i++;
    }
    if (s[i] != ':' || !isdigit((unsigned char)s[i + 1]) || (!slash && !dot))
        return false;
    i++;
    while (isdigit((unsigned char)s[i]))
        i++;
    *n = i;
    return true;
}

/* The rest of a frame line: "[module]", "file:line", "(file:line)", "[inline]",
 * the arm64 "(P)"-style marks. */
static void frame_tail(const char *s, struct ex_frame *f)
{
    s = ex_skip_ws(s);
    if (*s == '[' && !ex_starts(s, "[inline]")) {
        const char *end = strchr(s, ']');
        if (end) {
            ex_copy(f->module, sizeof(f->module), s + 1, (size_t)(end - s - 1));
            s = ex_skip_ws(end + 1);
        }
    }
    size_t n;
    if (*s == '(' && source_location(s + 1, &n)) {
        ex_copy(f->where, sizeof(f->where), s + 1, n);
        s += n + 1;
    } else if (source_location(s, &n)) {
        ex_copy(f->where, sizeof(f->where), s, n);
        s += n;
    } else if (*s && *s != '(' && *s != '[') {
        /* ours: "put_request+0x18/0x1b /src/blk.c:24" or another word */
        const char *e = s;
        while (*e && *e != ' ')
            e++;
        ex_copy(f->where, sizeof(f->where), s, (size_t)(e - s));
        s = e;
    }
    if (strstr(s, "[inline]"))
        f->inlined = true;
}

/* "[<c0113fac>] (unwind_backtrace) from [<c010e71c>] (show_stack+0x10/0x14)" */
static bool arm_backtrace_frame(const char *s, struct ex_frame *f)
{
    const char *p = s + 2;
    if (!ex_scan_hex(&p, &f->addr) || p[0] != '>' || p[1] != ']')
        return false;
    f->has_addr = true;
    p = ex_skip_ws(p + 2);
    if (*p != '(')
        return false;
    const char *name = ++p;
    while (name_char((unsigned char)*p))
        p++;
    if (p == name || (*p != ')' && *p != '+'))
        return false;
    ex_copy(f->func, sizeof(f->func), name, (size_t)(p - name));
    if (*p == '+') {
        p++;
        if (!ex_scan_hex(&p, &f->off))
            return false;
        f->has_off = true;
        if (*p == '/' && (p++, ex_scan_hex(&p, &f->size)))
            f->has_size = true;
    }
    return strstr(p, " from [<") != NULL || *ex_skip_ws(p + 1) == 0;
}

bool ex_parse_frame(const char *s, struct ex_frame *f)
{
    memset(f, 0, sizeof(*f));
    s = ex_skip_ws(s);
    if (s[0] == '[' && s[1] == '<' && strstr(s, ") from [<"))
        return arm_backtrace_frame(s, f);
    if (s[0] == '[' && s[1] == '<') {
        const char *p = s + 2;
        if (!ex_scan_hex(&p, &f->addr) || p[0] != '>' || p[1] != ']')
            return false;
        f->has_addr = true;
        s = ex_skip_ws(p + 2);
    }
    if (s[0] == '?' && s[1] == ' ') {
        f->unreliable = true;
        s = ex_skip_ws(s + 2);
    }
    if (s[0] == '0' && s[1] == 'x') {
        const char *p = s;
        uint64_t a;
        if (ex_scan_hex(&p, &a) && (*p == 0 || *p == ' ')) {
            f->addr = a;
            f->has_addr = true;
            frame_tail(p, f);
            return true;
        }
    }
    const char *name = s;
    if (!(isalpha((unsigned char)*s) || *s == '_' || *s == '.' ||
          ex_starts(s, "(anonymous namespace)")))
        return false;
    while (name_char((unsigned char)*s))
        s++;
    if (*s == ':' || *s == '<' || *s == '(' || *s == '{' || *s == '~' ||
        ex_starts(name, "(anonymous namespace)"))
        s = cxx_name_end(name);
    if (s == name || (size_t)(s - name) >= sizeof(f->func))
        return false;
    if (*s == '+') {
        ex_copy(f->func, sizeof(f->func), name, (size_t)(s - name));
        s++;
        if (!ex_scan_hex(&s, &f->off))
            return false;
        f->has_off = true;
        if (*s == '/') {
            s++;
            if (!ex_scan_hex(&s, &f->size))
                return false;
            f->has_size = true;
        }
        if (*s && *s != ' ' && *s != '\t')
            return false;
        frame_tail(s, f);
        return true;
    }
    /* no offset: only with a source location after it ("[inline]" frames,
     * decode_stacktrace.sh output), so that prose is not taken for frames */
    if (*s != ' ')
        return false;
    const char *t = ex_skip_ws(s);
    size_t n;
    if (!((*t == '(' && source_location(t + 1, &n)) || source_location(t, &n)))
        return false;
    ex_copy(f->func, sizeof(f->func), name, (size_t)(s - name));
    frame_tail(t, f);
    return true;
}

bool ex_is_stack_marker(const char *s)
{
    return s[0] == '<' &&
           (ex_starts(s, "<IRQ>") || ex_starts(s, "</IRQ>") || ex_starts(s, "<TASK>") ||
            ex_starts(s, "</TASK>") || ex_starts(s, "<NMI>") || ex_starts(s, "</NMI>") ||
            ex_starts(s, "<EOI>") || ex_starts(s, "<EOE>") || ex_starts(s, "<SOFTIRQ>") ||
            ex_starts(s, "</SOFTIRQ>"));
}

/* ---- task line --------------------------------------------------------------------- */

bool ex_task_line(const char *s, int *cpu, long long *pid, char *comm, size_t comm_size,
                  char *release, size_t release_size)
{
    if (!ex_starts(s, "CPU: "))
        return false;
    const char *p = s + 5;
    long long c;
    if (!ex_scan_dec(&p, &c))
        return false;
    if (ex_starts(p, " UID: ")) { /* 6.x */
        long long uid;
        p += 6;
        if (!ex_scan_dec(&p, &uid))
            return false;
    }
    if (!ex_starts(p, " PID: "))
        return false;
    p += 6;
    if (!ex_scan_dec(&p, pid))
        return false;
    *cpu = c >= 0 && c < 1 << 20 ? (int)c : 0;
    comm[0] = 0;
    const char *name = strstr(p, "Comm: ");
    if (name) {
        name += 6;
        const char *end = strstr(name, " Tainted");
        if (!end)
            end = strstr(name, " Not tainted");
        ex_copy(comm, comm_size, name, end ? (size_t)(end - name) : strcspn(name, " "));
    }
    if (release && release_size) {
        release[0] = 0;
        /* the first word after the taint that looks like 4.14.0 */
        for (const char *q = strstr(p, "ainted"); q && *q; q++) {
            if (q[-1] == ' ' && isdigit((unsigned char)q[0]) &&
                (q[1] == '.' || (isdigit((unsigned char)q[1]) && q[2] == '.'))) {
                ex_copy_str(release, release_size, q);
                break;
            }
        }
    }
    return true;
}

/* ---- registers ---------------------------------------------------------------------- */

int ex_regs_line(const char *s, struct ex_reg *regs, int max)
{
    int found = 0;
    s = ex_skip_ws(s);
    while (*s && found < max) {
        const char *name = s;
        while (isalnum((unsigned char)*s) || *s == '_')
            s++;
        size_t n = (size_t)(s - name);
        if (n == 0 || n >= sizeof(regs[0].name) || !isalpha((unsigned char)name[0]))
            break;
        const char *p = s;
        while (*p == ' ')
            p++;
        if (*p != ':' || p - s > 2)
            break;
        p = ex_skip_ws(p + 1);
        uint64_t v, v2;
        int digits;
        if (p[0] == '[' && p[1] == '<') { /* arm "pc : [<c0312c40>]" */
            p += 2;
            digits = ex_hex_digits(p);
            if (!ex_scan_hex(&p, &v) || p[0] != '>' || p[1] != ']')
                break;
            p += 2;
        } else {
            digits = ex_hex_digits(p);
            if (digits < 8 && !(digits == 4 && p[4] == ':'))
                break;
            if (!ex_scan_hex(&p, &v))
                break;
            if (*p == ':') { /* x86 segment:value */
                p++;
                digits = ex_hex_digits(p);
                if (!ex_scan_hex(&p, &v2))
                    break;
                v = v2;
            }
        }
        if (digits < 8)
            break;
        if (*p == '(') { /* "FS:  0000000000000000(0000)", "pstate: 60000005 (nZCv ...)" */
            const char *close = strchr(p, ')');
            p = close ? close + 1 : p + strlen(p);
        }
        if (*p && *p != ' ' && *p != '\t')
            break;
        ex_copy(regs[found].name, sizeof(regs[0].name), name, n);
        regs[found].value = v;
        found++;
        s = ex_skip_ws(p);
        if (*s == '(') { /* " (nZCv daif -PAN ...)" after a value */
            const char *close = strchr(s, ')');
            s = close ? ex_skip_ws(close + 1) : s + strlen(s);
        }
    }
    return found;
}

/* ---- Code: lines --------------------------------------------------------------------- */

bool ex_parse_code(const char *s, struct ex_oops *o)
{
    if (!ex_starts(s, "Code: "))
        return false;
    const char *p = ex_skip_ws(s + 6);
    if (!isxdigit((unsigned char)*p) && *p != '<' && *p != '(') {
        o->code_unavailable = true; /* "Bad RIP value.", "Unable to access opcode bytes" */
        return true;
    }
    int ncode = 0, mark = -1, unit = 0;
    uint8_t code[sizeof(o->code)];
    while (*p) {
        p = ex_skip_ws(p);
        bool marked = *p == '<' || *p == '(';
        char close = *p == '<' ? '>' : ')';
        if (marked)
            p++;
        int digits = ex_hex_digits(p);
        if (digits != 2 && digits != 4 && digits != 8)
            break;
        if (!unit)
            unit = digits / 2;
        if (digits / 2 != unit)
            break; /* arm thumb mixes 16- and 32-bit words: keep what is regular */
        if (marked && p[digits] != close)
            break;
        if (!marked && p[digits] && p[digits] != ' ')
            break;
        if (ncode + unit > (int)sizeof(code))
            break;
        uint64_t v;
        const char *q = p;
        ex_scan_hex(&q, &v);
        if (marked)
            mark = ncode;
        for (int i = 0; i < unit; i++) /* words are little-endian in memory */
            code[ncode++] = (uint8_t)(v >> (8 * i));
        p += digits + (marked ? 1 : 0);
    }
    if (!ncode) {
        o->code_unavailable = true;
        return true;
    }
    memcpy(o->code, code, (size_t)ncode);
    o->ncode = ncode;
    o->code_mark = mark;
    o->code_unit = unit;
    o->has_code = true;
    return true;
}

/*
 * Source scan for `slabdbg explain`: the constants whose value is the one a
 * stray write left in memory, and the statements that assign them.
 *
 * This is a grep that knows some C, not a compiler: comments are ignored,
 * the text is cut into tokens, and a few shapes are recognised --
 *   #define NAME <integer expression>
 *   enum { A, B = 4, C }            (implicit increments followed)
 *   [static] const <integer type> NAME = <integer expression>;
 * and, for those names, statements `lvalue = NAME;`, `lvalue |= NAME;`,
 * initialisers `int x = NAME;` and `.field = NAME`, with the function they
 * are in.  Conditional compilation is not evaluated: both branches count.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze/errmsg.h"
#include "analyze/srcscan.h"

#define MAX_FILE_SIZE ((size_t)4 << 20)
#define MAX_LINE 4096
#define MAX_DEPTH 32


static void scopy(char *dst, size_t len, const char *src, size_t srclen)
{
    if (srclen >= len)
        srclen = len - 1;
    memcpy(dst, src, srclen);
    dst[srclen] = 0;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "slabdbg: out of memory\n");
        exit(2);
    }
    return p;
}

/* ---- the files ---------------------------------------------------------- */

struct flist {
    char **v;
    size_t n, cap;
};

static int is_source(const char *name)
{
    size_t l = strlen(name);
    return l > 2 && name[l - 2] == '.' && (name[l - 1] == 'c' || name[l - 1] == 'h');
}

static void flist_add(struct flist *f, const char *path)
{
    if (f->n >= f->cap) {
        f->cap = f->cap ? f->cap * 2 : 64;
        f->v = xrealloc(f->v, f->cap * sizeof(*f->v));
    }
    f->v[f->n] = strdup(path);
    if (!f->v[f->n]) {
        fprintf(stderr, "slabdbg: out of memory\n");
        exit(2);
    }
    f->n++;
}

/* Walks dir: no symbolic links to directories, no hidden directories, at
 * most MAX_DEPTH levels. */
static void walk(const char *dir, int depth, struct flist *f)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue; /* ".", "..", ".git" and the like */
        char path[4096];
        int n = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof(path))
            continue;
        struct stat st;
        if (lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth + 1 < MAX_DEPTH)
                walk(path, depth + 1, f);
        } else if (is_source(e->d_name)) {
            if (S_ISLNK(st.st_mode) && (stat(path, &st) != 0 || !S_ISREG(st.st_mode)))
                continue;
            if (S_ISREG(st.st_mode) && (size_t)st.st_size <= MAX_FILE_SIZE)
                flist_add(f, path);
        }
    }
    closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The file's text with comments blanked (newlines kept) and over-long lines
 * blanked, so that positions and line numbers stay those of the file. */
static char *read_code(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > MAX_FILE_SIZE) {
        close(fd);
        return NULL;
    }
    size_t sz = (size_t)st.st_size;
    char *b = xrealloc(NULL, sz + 1);
    size_t got = 0;
    while (got < sz) {
        ssize_t r = read(fd, b + got, sz - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    b[got] = 0;
    /* comments */
    enum { CODE, LINE_C, BLOCK_C, STR, CHR } s = CODE;
    for (size_t i = 0; i < got; i++) {
        char c = b[i];
        switch (s) {
        case CODE:
            if (c == '/' && i + 1 < got && b[i + 1] == '/') {
                s = LINE_C;
                b[i] = ' ';
            } else if (c == '/' && i + 1 < got && b[i + 1] == '*') {
                s = BLOCK_C;
                b[i] = b[i + 1] = ' ';
                i++;
            } else if (c == '"') {
                s = STR;
            } else if (c == '\'') {
                s = CHR;
            }
            break;
        case LINE_C:
            if (c == '\n') {
                if (i > 0 && b[i - 1] == '\\')
                    break; /* continued */
                s = CODE;
            } else {
                b[i] = c == '\\' ? '\\' : ' ';
            }
            break;
        case BLOCK_C:
            if (c == '*' && i + 1 < got && b[i + 1] == '/') {
                b[i] = b[i + 1] = ' ';
                i++;
                s = CODE;
            } else if (c != '\n') {
                b[i] = ' ';
            }
            break;
        case STR:
        case CHR:
            if (c == '\\' && i + 1 < got) {
                i++;
            } else if ((s == STR && c == '"') || (s == CHR && c == '\'') || c == '\n') {
                s = CODE;
            }
            break;
        }
    }
    /* over-long lines */
    size_t ls = 0;
    for (size_t i = 0; i <= got; i++) {
        if (i == got || b[i] == '\n') {
            if (i - ls > MAX_LINE)
                memset(b + ls, ' ', i - ls);
            ls = i + 1;
        }
    }
    *len = got;
    return b;
}

/* ---- tokens ----------------------------------------------------------------- */

enum { T_ID, T_NUM, T_STR, T_CHR, T_PUNCT, T_DIRECTIVE };

struct tok {
    unsigned pos, len, line;
    unsigned char type;
    unsigned char bol; /* first token of its line, at column 0 */
};

struct toks {
    struct tok *v;
    size_t n, cap;
};

static void tok_add(struct toks *t, unsigned char type, size_t pos, size_t len, unsigned line,
                    int bol)
{
    if (t->n >= t->cap) {
        t->cap = t->cap ? t->cap * 2 : 1024;
        t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
    }
    struct tok *k = &t->v[t->n++];
    k->pos = (unsigned)pos;
    k->len = (unsigned)len;
    k->line = line;
    k->type = type;
    k->bol = (unsigned char)bol;
}

static const char *const puncts3[] = {">>=", "<<=", "..."};
static const char *const puncts2[] = {
    "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||",
    "*=", "/=", "%=", "+=", "-=", "&=", "^=", "|=", "##", "::"};

static int is_id0(char c)
{
    return isalpha((unsigned char)c) || c == '_' || c == '$';
}

static int is_id(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '$';
}

/*
 * Cuts b[from, to) into tokens.  With directives != 0, a '#' first on a
 * line starts a directive, which becomes one T_DIRECTIVE token spanning its
 * logical line (continuations included).
 */
static void tokenize(const char *b, size_t from, size_t to, unsigned line, int directives,
                     struct toks *out)
{
    int at_bol = 1; /* only blanks since the line started */
    size_t i = from;
    while (i < to) {
        char c = b[i];
        if (c == '\n') {
            line++;
            at_bol = 1;
            i++;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            i++;
            continue;
        }
        if (c == '\\' && i + 1 < to && b[i + 1] == '\n') {
            line++;
            i += 2;
            continue;
        }
        int col0 = i == 0 || b[i - 1] == '\n';
        if (c == '#' && at_bol && directives) {
            size_t s = i;
            unsigned l0 = line;
            while (i < to && b[i] != '\n') {
                if (b[i] == '\\' && i + 1 < to && b[i + 1] == '\n') {
                    line++;
                    i += 2;
                    continue;
                }
                i++;
            }
            tok_add(out, T_DIRECTIVE, s, i - s, l0, col0);
            continue;
        }
        at_bol = 0;
        size_t s = i;
        if (is_id0(c)) {
            while (i < to && is_id(b[i]))
                i++;
            tok_add(out, T_ID, s, i - s, line, col0);
        } else if (isdigit((unsigned char)c) ||
                   (c == '.' && i + 1 < to && isdigit((unsigned char)b[i + 1]))) {
            while (i < to) {
                char d = b[i];
                if ((d == '+' || d == '-') &&
                    (b[i - 1] == 'e' || b[i - 1] == 'E' || b[i - 1] == 'p' || b[i - 1] == 'P') &&
                    !(b[s] == '0' && (b[s + 1] == 'x' || b[s + 1] == 'X') && b[i - 1] != 'p' &&
                      b[i - 1] != 'P'))
                    i++;
                else if (is_id(d) || d == '.' || d == '\'')
                    i++;
                else
                    break;
            }
            tok_add(out, T_NUM, s, i - s, line, col0);
        } else if (c == '"' || c == '\'') {
            i++;
            while (i < to && b[i] != c && b[i] != '\n') {
                if (b[i] == '\\' && i + 1 < to)
                    i++;
                i++;
            }
            if (i < to && b[i] == c)
                i++;
            tok_add(out, c == '"' ? T_STR : T_CHR, s, i - s, line, col0);
        } else {
            size_t l = 1;
            for (size_t k = 0; k < sizeof(puncts3) / sizeof(*puncts3) && l == 1; k++)
                if (i + 3 <= to && !memcmp(b + i, puncts3[k], 3))
                    l = 3;
            for (size_t k = 0; k < sizeof(puncts2) / sizeof(*puncts2) && l == 1; k++)
                if (i + 2 <= to && !memcmp(b + i, puncts2[k], 2))
                    l = 2;
            i += l;
            tok_add(out, T_PUNCT, s, l, line, col0);
        }
    }
}

static int tis(const char *b, const struct tok *k, const char *s)
{
    size_t l = strlen(s);
    return k->len == l && !memcmp(b + k->pos, s, l);
}

static int tis_id(const char *b, const struct tok *k, const char *s)
{
    return k->type == T_ID && tis(b, k, s);
}

static int tis_p(const char *b, const struct tok *k, const char *s)
{
    return k->type == T_PUNCT && tis(b, k, s);
}

/* ---- integer constant expressions ------------------------------------------ */

struct sym {
    const char *name; /* points into a file's text */
    unsigned len;
    uint64_t value;
};

struct eval {
    const char *b;
    const struct tok *v;
    size_t i, end;
    int ok;
    const struct sym *syms; /* names known here (the enum's earlier members) */
    size_t nsyms;
};

static int parse_literal(const char *s, size_t len, uint64_t *out)
{
    char buf[72];
    if (len >= sizeof(buf))
        return 0;
    /* without digit separators */
    size_t l = 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] != '\'')
            buf[l++] = s[i];
    buf[l] = 0;
    while (l && (buf[l - 1] == 'u' || buf[l - 1] == 'U' || buf[l - 1] == 'l' || buf[l - 1] == 'L'))
        buf[--l] = 0;
    if (!l)
        return 0;
    int base = 10;
    const char *p = buf;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        base = 16, p += 2;
    else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
        base = 2, p += 2;
    else if (p[0] == '0' && p[1])
        base = 8, p += 1;
    if (!*p)
        return 0;
    errno = 0;
    char *e;
    unsigned long long v = strtoull(p, &e, base);
    if (*e || errno)
        return 0;
    *out = v;
    return 1;
}

static int parse_char(const char *s, size_t len, uint64_t *out)
{
    if (len < 3 || s[0] != '\'' || s[len - 1] != '\'')
        return 0;
    if (len == 3) {
        *out = (unsigned char)s[1];
        return 1;
    }
    if (s[1] != '\\')
        return 0;
    char e = s[2];
    if (len == 4) {
        const char *from = "ntr0abfv\\'\"?", *to = "\n\t\r\0\a\b\f\v\\'\"?";
        const char *q = strchr(from, e);
        if (!q || !e)
            return 0;
        *out = (unsigned char)to[q - from];
        return 1;
    }
    char buf[16];
    if (len - 3 >= sizeof(buf))
        return 0;
    memcpy(buf, s + 2, len - 3);
    buf[len - 3] = 0;
    char *end;
    unsigned long v = buf[0] == 'x' ? strtoul(buf + 1, &end, 16) : strtoul(buf, &end, 8);
    if (*end)
        return 0;
    *out = v & 0xff;
    return 1;
}

static uint64_t ev_expr(struct eval *e, int prec);

static const struct tok *ev_peek(struct eval *e)
{
    return e->i < e->end ? &e->v[e->i] : NULL;
}

static int is_type_word(const char *b, const struct tok *k)
{
    static const char *const words[] = {"int",   "unsigned", "signed", "long", "short", "char",
                                        "const", "volatile", "_Bool",  "bool", "enum",  "struct"};
    if (k->type != T_ID)
        return 0;
    for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
        if (tis(b, k, words[i]))
            return 1;
    /* u8 .. u64, s32, __u32, uint32_t, size_t, ... */
    const char *s = b + k->pos;
    size_t l = k->len;
    return (l >= 2 && s[l - 2] == '_' && s[l - 1] == 't') ||
           (l <= 5 && (s[0] == 'u' || s[0] == 's') && isdigit((unsigned char)s[l - 1])) ||
           (l > 2 && s[0] == '_' && s[1] == '_');
}

static uint64_t ev_primary(struct eval *e)
{
    const struct tok *k = ev_peek(e);
    if (!k) {
        e->ok = 0;
        return 0;
    }
    const char *b = e->b;
    if (k->type == T_NUM) {
        uint64_t v = 0;
        e->i++;
        if (!parse_literal(b + k->pos, k->len, &v))
            e->ok = 0;
        return v;
    }
    if (k->type == T_CHR) {
        uint64_t v = 0;
        e->i++;
        if (!parse_char(b + k->pos, k->len, &v))
            e->ok = 0;
        return v;
    }
    if (k->type == T_ID) {
        e->i++;
        for (size_t s = 0; s < e->nsyms; s++)
            if (e->syms[s].len == k->len && !memcmp(e->syms[s].name, b + k->pos, k->len))
                return e->syms[s].value;
        e->ok = 0;
        return 0;
    }
    if (tis_p(b, k, "(")) {
        /* a cast: only type words up to ')' */
        size_t j = e->i + 1;
        int cast = j < e->end && is_type_word(b, &e->v[j]);
        while (j < e->end && (is_type_word(b, &e->v[j]) || e->v[j].type == T_ID))
            j++;
        if (cast && j < e->end && tis_p(b, &e->v[j], ")") && j + 1 < e->end) {
            e->i = j + 1;
            return ev_primary(e);
        }
        e->i++;
        uint64_t v = ev_expr(e, 0);
        k = ev_peek(e);
        if (!k || !tis_p(b, k, ")"))
            e->ok = 0;
        else
            e->i++;
        return v;
    }
    if (tis_p(b, k, "-") || tis_p(b, k, "+") || tis_p(b, k, "~") || tis_p(b, k, "!")) {
        char op = b[k->pos];
        e->i++;
        uint64_t v = ev_primary(e);
        return op == '-' ? (uint64_t)0 - v : op == '~' ? ~v : op == '!' ? !v : v;
    }
    e->ok = 0;
    return 0;
}

static int binop_prec(const char *b, const struct tok *k)
{
    static const struct {
        const char *op;
        int prec;
    } ops[] = {{"|", 1}, {"^", 2}, {"&", 3}, {"<<", 4}, {">>", 4},
               {"+", 5}, {"-", 5}, {"*", 6}, {"/", 6},  {"%", 6}};
    if (k->type != T_PUNCT)
        return -1;
    for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++)
        if (tis(b, k, ops[i].op))
            return ops[i].prec;
    return -1;
}

static uint64_t ev_expr(struct eval *e, int prec)
{
    uint64_t l = ev_primary(e);
    while (e->ok) {
        const struct tok *k = ev_peek(e);
        int p = k ? binop_prec(e->b, k) : -1;
        if (p < 0 || p <= prec - 1 || p < prec)
            break;
        char op0 = e->b[k->pos], op1 = k->len > 1 ? e->b[k->pos + 1] : 0;
        e->i++;
        uint64_t r = ev_expr(e, p + 1);
        switch (op0) {
        case '|':
            l |= r;
            break;
        case '^':
            l ^= r;
            break;
        case '&':
            l &= r;
            break;
        case '<':
            l = r < 64 ? l << r : 0;
            break;
        case '>':
            l = r < 64 ? l >> r : 0;
            break;
        case '+':
            l += r;
            break;
        case '-':
            l -= r;
            break;
        case '*':
            l *= r;
            break;
        case '/':
            if (!r)
                e->ok = 0;
            else
                l /= r;
            break;
        case '%':
            if (!r)
                e->ok = 0;
            else
                l %= r;
            break;
        default:
            e->ok = 0;
            break;
        }
        (void)op1;
    }
    return l;
}

/* The value of tokens [from, to), if they are an integer constant
 * expression. */
static int eval_range(const char *b, const struct tok *v, size_t from, size_t to,
                      const struct sym *syms, size_t nsyms, uint64_t *out)
{
    if (from >= to)
        return 0;
    struct eval e = {b, v, from, to, 1, syms, nsyms};
    uint64_t r = ev_expr(&e, 0);
    if (!e.ok || e.i != to)
        return 0;
    *out = r;
    return 1;
}

static int value_matches(uint64_t c, uint64_t value)
{
    if (c == value)
        return 1;
    /* -1 and 0xffffffff alike in a 32-bit field */
    return value <= 0xffffffffu && (int64_t)c < 0 && (int64_t)c >= -(int64_t)0x80000000 &&
           (c & 0xffffffffu) == value;
}

/* ---- results --------------------------------------------------------------- */

struct cvec {
    struct src_const *v;
    size_t n, cap;
};

struct avec {
    struct src_assign *v;
    size_t n, cap;
};

static void cvec_add(struct cvec *c, const char *name, size_t nlen, const char *kind,
                     const char *file, unsigned line)
{
    if (c->n >= c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
    }
    struct src_const *k = &c->v[c->n++];
    memset(k, 0, sizeof(*k));
    scopy(k->name, sizeof(k->name), name, nlen);
    scopy(k->kind, sizeof(k->kind), kind, strlen(kind));
    scopy(k->file, sizeof(k->file), file, strlen(file));
    k->line = (int)line;
}

/* The names of the matching constants, for the second pass. */
struct nameset {
    char **v;
    size_t nb, n;
};

static uint64_t hname(const char *s, size_t l)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < l; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static int nameset_has(const struct nameset *s, const char *name, size_t l)
{
    if (!s->nb)
        return 0;
    for (size_t i = hname(name, l) & (s->nb - 1);; i = (i + 1) & (s->nb - 1)) {
        if (!s->v[i])
            return 0;
        if (strlen(s->v[i]) == l && !memcmp(s->v[i], name, l))
            return 1;
    }
}

static void nameset_add(struct nameset *s, const char *name)
{
    size_t l = strlen(name);
    if (nameset_has(s, name, l))
        return;
    if ((s->n + 1) * 2 > s->nb) {
        size_t nb = s->nb ? s->nb * 2 : 64;
        char **v = calloc(nb, sizeof(*v));
        if (!v) {
            fprintf(stderr, "slabdbg: out of memory\n");
            exit(2);
        }
        for (size_t i = 0; i < s->nb; i++)
            if (s->v[i]) {
                size_t j = hname(s->v[i], strlen(s->v[i])) & (nb - 1);
                while (v[j])
                    j = (j + 1) & (nb - 1);
                v[j] = s->v[i];
            }
        free(s->v);
        s->v = v;
        s->nb = nb;
    }
    size_t j = hname(name, l) & (s->nb - 1);
    while (s->v[j])
        j = (j + 1) & (s->nb - 1);
    s->v[j] = strdup(name);
    if (!s->v[j]) {
        fprintf(stderr, "slabdbg: out of memory\n");
        exit(2);
    }
    s->n++;
}

static void nameset_free(struct nameset *s)
{
    for (size_t i = 0; i < s->nb; i++)
        free(s->v[i]);
    free(s->v);
}

/* ---- pass 1: the constants ---------------------------------------------------- */

static void scan_define(const char *b, const struct tok *d, uint64_t value, const char *file,
                        struct cvec *out)
{
    struct toks t = {0};
    tokenize(b, d->pos + 1, d->pos + d->len, d->line, 0, &t);
    if (t.n >= 3 && tis_id(b, &t.v[0], "define") && t.v[1].type == T_ID) {
        /* not a function-like macro: NAME( with no blank */
        int fnlike = t.v[2].pos == t.v[1].pos + t.v[1].len && tis_p(b, &t.v[2], "(");
        uint64_t v;
        if (!fnlike && eval_range(b, t.v, 2, t.n, NULL, 0, &v) && value_matches(v, value))
            cvec_add(out, b + t.v[1].pos, t.v[1].len, "define", file, t.v[1].line);
    }
    free(t.v);
}

static int is_keyword(const char *b, const struct tok *k)
{
    static const char *const kw[] = {"if",       "else",    "while",         "for",    "do",
                                     "switch",   "case",    "default",       "return", "goto",
                                     "sizeof",   "break",   "continue",      "typeof", "__typeof__",
                                     "_Alignof", "alignof", "__attribute__", "asm",    "__asm__"};
    if (k->type != T_ID)
        return 0;
    for (size_t i = 0; i < sizeof(kw) / sizeof(*kw); i++)
        if (tis(b, k, kw[i]))
            return 1;
    return 0;
}

/* enum [name] [: type] { A [= expr], ... } starting at token i ("enum");
 * returns the index after the body. */
static size_t scan_enum(const char *b, const struct toks *t, size_t i, uint64_t value,
                        const char *file, struct cvec *out)
{
    /* enum [__attribute__((...))] [class] [name] [: type] { */
    size_t j = i + 1;
    if (j < t->n && tis_id(b, &t->v[j], "__attribute__")) {
        int d = 0;
        for (j++; j < t->n; j++) {
            if (tis_p(b, &t->v[j], "("))
                d++;
            else if (tis_p(b, &t->v[j], ")") && !--d) {
                j++;
                break;
            }
        }
    }
    if (j < t->n && (tis_id(b, &t->v[j], "class") || tis_id(b, &t->v[j], "struct")))
        j++;
    if (j < t->n && t->v[j].type == T_ID && !is_keyword(b, &t->v[j]))
        j++;
    if (j < t->n && tis_p(b, &t->v[j], ":"))
        for (j++; j < t->n && (t->v[j].type == T_ID || tis_p(b, &t->v[j], "::")); j++)
            ;
    if (j >= t->n || !tis_p(b, &t->v[j], "{"))
        return i + 1;
    size_t body = j + 1, end = body;
    int depth = 1;
    while (end < t->n && depth) {
        if (t->v[end].type == T_PUNCT) {
            if (tis(b, &t->v[end], "{") || tis(b, &t->v[end], "(") || tis(b, &t->v[end], "["))
                depth++;
            else if (tis(b, &t->v[end], "}") || tis(b, &t->v[end], ")") || tis(b, &t->v[end], "]"))
                depth--;
        }
        if (depth)
            end++;
    }
    /* end: the closing brace (or t->n) */
    struct sym *syms = NULL;
    size_t nsyms = 0, capsyms = 0;
    uint64_t next = 0;
    int known = 1;
    size_t k = body;
    while (k < end) {
        /* one enumerator: [k, comma) */
        size_t c = k;
        int d = 0;
        while (c < end) {
            const struct tok *x = &t->v[c];
            if (x->type == T_PUNCT) {
                if (tis(b, x, "(") || tis(b, x, "[") || tis(b, x, "{"))
                    d++;
                else if (tis(b, x, ")") || tis(b, x, "]") || tis(b, x, "}"))
                    d--;
                else if (!d && tis(b, x, ","))
                    break;
            }
            c++;
        }
        if (c > k && t->v[k].type == T_ID) {
            const struct tok *name = &t->v[k];
            /* attributes after the name are skipped: NAME __attribute__(...) = */
            size_t eq = k + 1;
            while (eq < c && !tis_p(b, &t->v[eq], "="))
                eq++;
            uint64_t v = 0;
            int have;
            if (eq < c) {
                have = eval_range(b, t->v, eq + 1, c, syms, nsyms, &v);
            } else {
                have = known;
                v = next;
            }
            known = have;
            if (have) {
                next = v + 1;
                if (value_matches(v, value))
                    cvec_add(out, b + name->pos, name->len, "enum", file, name->line);
                if (nsyms >= capsyms) {
                    capsyms = capsyms ? capsyms * 2 : 16;
                    syms = xrealloc(syms, capsyms * sizeof(*syms));
                }
                syms[nsyms].name = b + name->pos;
                syms[nsyms].len = name->len;
                syms[nsyms].value = v;
                nsyms++;
            }
        }
        k = c + 1;
    }
    free(syms);
    return end + 1;
}

/* NAME at token i is followed by '=': a const integer variable? */
static void scan_const(const char *b, const struct toks *t, size_t i, uint64_t value,
                       const char *file, struct cvec *out)
{
    /* the declaration's start */
    size_t s = i;
    int has_const = 0;
    while (s > 0) {
        const struct tok *x = &t->v[s - 1];
        if (x->type == T_DIRECTIVE || tis_p(b, x, ";") || tis_p(b, x, "{") || tis_p(b, x, "}"))
            break;
        if (x->type == T_PUNCT && !tis(b, x, ",") && !tis(b, x, "=") &&
            !(tis(b, x, "(") || tis(b, x, ")"))) {
            /* pointers, arrays and the like are not integer constants;
               ',' and '=' belong to earlier declarators */
            if (tis(b, x, "*") || tis(b, x, "[") || tis(b, x, "]") || tis(b, x, "&"))
                return;
        }
        if (tis_id(b, x, "const") || tis_id(b, x, "constexpr"))
            has_const = 1;
        if (tis_p(b, x, "(") || tis_p(b, x, ")"))
            return;
        s--;
    }
    if (!has_const)
        return;
    /* the initialiser: up to ',' or ';' at depth 0 */
    size_t e = i + 2;
    int d = 0;
    while (e < t->n) {
        const struct tok *x = &t->v[e];
        if (x->type == T_DIRECTIVE)
            return;
        if (tis_p(b, x, "(") || tis_p(b, x, "[") || tis_p(b, x, "{"))
            d++;
        else if (tis_p(b, x, ")") || tis_p(b, x, "]") || tis_p(b, x, "}")) {
            if (!d)
                break;
            d--;
        } else if (!d && (tis_p(b, x, ",") || tis_p(b, x, ";")))
            break;
        e++;
    }
    uint64_t v;
    if (eval_range(b, t->v, i + 2, e, NULL, 0, &v) && value_matches(v, value))
        cvec_add(out, b + t->v[i].pos, t->v[i].len, "const", file, t->v[i].line);
}

static void pass1(const char *file, uint64_t value, struct cvec *out)
{
    size_t len;
    char *b = read_code(file, &len);
    if (!b)
        return;
    struct toks t = {0};
    tokenize(b, 0, len, 1, 1, &t);
    for (size_t i = 0; i < t.n;) {
        const struct tok *k = &t.v[i];
        if (k->type == T_DIRECTIVE) {
            scan_define(b, k, value, file, out);
            i++;
        } else if (tis_id(b, k, "enum")) {
            i = scan_enum(b, &t, i, value, file, out);
        } else {
            if (k->type == T_ID && i + 1 < t.n && tis_p(b, &t.v[i + 1], "="))
                scan_const(b, &t, i, value, file, out);
            i++;
        }
    }
    free(t.v);
    free(b);
}

/* ---- pass 2: the assignments ----------------------------------------------- */

static int is_assign_op(const char *b, const struct tok *k)
{
    static const char *const ops[] = {
        "=", "|=", "&=", "^=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>="};
    if (k->type != T_PUNCT)
        return 0;
    for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++)
        if (tis(b, k, ops[i]))
            return 1;
    return 0;
}

static int is_stop(const char *b, const struct tok *k)
{
    return k->type == T_DIRECTIVE || tis_p(b, k, ";") || tis_p(b, k, "{") || tis_p(b, k, "}");
}

/* Whether a '?' is between the statement's start and token j. */
static int ternary_before(const char *b, const struct toks *t, size_t j)
{
    while (j > 0) {
        j--;
        if (is_stop(b, &t->v[j]))
            return 0;
        if (tis_p(b, &t->v[j], "?"))
            return 1;
    }
    return 0;
}

/* From the constant at token i back to its assignment operator; the
 * operator's index, or (size_t)-1 when the constant is not assigned
 * (compared, returned, passed, a case label). */
static size_t find_assign(const char *b, const struct toks *t, size_t i)
{
    int depth = 0;
    for (size_t j = i; j > 0;) {
        j--;
        const struct tok *k = &t->v[j];
        if (k->type == T_DIRECTIVE)
            return (size_t)-1;
        if (k->type == T_PUNCT) {
            if (tis(b, k, ")") || tis(b, k, "]")) {
                depth++;
                continue;
            }
            if (tis(b, k, "(") || tis(b, k, "[")) {
                if (depth) {
                    depth--;
                    continue;
                }
                if (tis(b, k, "["))
                    return (size_t)-1; /* an index */
                if (j > 0) {
                    const struct tok *p = &t->v[j - 1];
                    if ((p->type == T_ID && !tis(b, p, "return")) || tis_p(b, p, ")") ||
                        tis_p(b, p, "]"))
                        return (size_t)-1; /* an argument */
                }
                continue; /* grouping or a cast */
            }
            if (depth)
                continue;
            if (is_assign_op(b, k))
                return j;
            if (tis(b, k, ";") || tis(b, k, "{") || tis(b, k, "}") || tis(b, k, ",") ||
                tis(b, k, "==") || tis(b, k, "!=") || tis(b, k, "<") || tis(b, k, ">") ||
                tis(b, k, "<=") || tis(b, k, ">=") || tis(b, k, "&&") || tis(b, k, "||") ||
                tis(b, k, "!"))
                return (size_t)-1;
            if (tis(b, k, ":")) {
                if (ternary_before(b, t, j))
                    continue;
                return (size_t)-1;
            }
            continue; /* arithmetic, '?' */
        }
        if (depth)
            continue;
        if (k->type == T_ID && is_keyword(b, k) && !tis(b, k, "sizeof"))
            return (size_t)-1; /* return NAME, case NAME */
        if (tis_id(b, k, "sizeof"))
            return (size_t)-1;
    }
    return (size_t)-1;
}

/* The start of the lvalue before the assignment operator at token j. */
static size_t lvalue_start(const char *b, const struct toks *t, size_t j)
{
    size_t s = j;
    int depth = 0;
    while (s > 0) {
        const struct tok *k = &t->v[s - 1];
        if (k->type == T_DIRECTIVE)
            break;
        if (k->type == T_PUNCT) {
            if (tis(b, k, ")") || tis(b, k, "]")) {
                /* `if (c) x = ...`: a parenthesis closed right before a
                   name ends the statement's head */
                if (!depth && tis(b, k, ")") && s < j && t->v[s].type == T_ID)
                    break;
                depth++;
            } else if (tis(b, k, "(") || tis(b, k, "[")) {
                if (!depth)
                    break;
                depth--;
            } else if (!depth &&
                       (tis(b, k, ";") || tis(b, k, "{") || tis(b, k, "}") || tis(b, k, ",") ||
                        tis(b, k, ":") || tis(b, k, "?") || is_assign_op(b, k)))
                break;
        } else if (!depth && k->type == T_ID && is_keyword(b, k)) {
            break; /* else x = ..., do x = ... */
        }
        s--;
    }
    return s;
}

/* The member (or variable) an lvalue [s, j) names last. */
static const struct tok *lvalue_last_name(const char *b, const struct toks *t, size_t s, size_t j)
{
    int depth = 0;
    for (size_t k = j; k > s;) {
        k--;
        const struct tok *x = &t->v[k];
        if (tis_p(b, x, "]") || tis_p(b, x, ")"))
            depth++;
        else if (tis_p(b, x, "[") || tis_p(b, x, "("))
            depth--;
        else if (!depth && x->type == T_ID)
            return x;
    }
    return NULL;
}

/* The end of the statement or initialiser element the constant is in. */
static size_t stmt_end(const char *b, const struct toks *t, size_t i)
{
    int depth = 0;
    size_t k = i;
    for (; k < t->n; k++) {
        const struct tok *x = &t->v[k];
        if (x->type == T_DIRECTIVE)
            return k ? k - 1 : 0;
        if (tis_p(b, x, "(") || tis_p(b, x, "[") || tis_p(b, x, "{"))
            depth++;
        else if (tis_p(b, x, ")") || tis_p(b, x, "]") || tis_p(b, x, "}")) {
            if (!depth)
                return k - 1;
            depth--;
        } else if (!depth && tis_p(b, x, ";"))
            return k;
        else if (!depth && tis_p(b, x, ","))
            return k - 1;
    }
    return t->n - 1;
}

static void text_of(const char *b, size_t from, size_t to, char *out, size_t outlen)
{
    size_t o = 0;
    int space = 0;
    for (size_t i = from; i < to && o + 1 < outlen; i++) {
        char c = b[i];
        if (c == '\\' && i + 1 < to && b[i + 1] == '\n')
            continue;
        if (isspace((unsigned char)c)) {
            space = 1;
            continue;
        }
        if (space && o && o + 2 < outlen)
            out[o++] = ' ';
        space = 0;
        out[o++] = c;
    }
    out[o] = 0;
}

/* The function a '{' at depth 0 opens, if it is a function body. */
static int function_name(const char *b, const struct toks *t, size_t brace, char *name, size_t len)
{
    size_t j = brace;
    for (int tries = 0; tries < 4 && j > 0; tries++) {
        if (!tis_p(b, &t->v[j - 1], ")"))
            return 0;
        /* back to the matching '(' */
        int depth = 0;
        size_t k = j - 1;
        for (;;) {
            if (tis_p(b, &t->v[k], ")"))
                depth++;
            else if (tis_p(b, &t->v[k], "(") && !--depth)
                break;
            if (!k || t->v[k].type == T_DIRECTIVE || tis_p(b, &t->v[k], ";") ||
                tis_p(b, &t->v[k], "{") || tis_p(b, &t->v[k], "}"))
                return 0;
            k--;
        }
        if (!k)
            return 0;
        const struct tok *id = &t->v[k - 1];
        if (id->type != T_ID)
            return 0;
        if (tis(b, id, "__attribute__") || tis(b, id, "__attribute") || tis(b, id, "__declspec") ||
            (id->len > 2 && b[id->pos] == '_' && b[id->pos + 1] == '_' && k >= 2 &&
             tis_p(b, &t->v[k - 2], ")"))) {
            /* void f(void) __attribute__((x)) { */
            j = k - 1;
            continue;
        }
        if (is_keyword(b, id))
            return 0;
        scopy(name, len, b + id->pos, id->len);
        return 1;
    }
    return 0;
}

/* The statement assigning the constant at token i, if it is one. */
/* A new, cleared assignment at the end of out. */
static struct src_assign *new_assign(struct avec *out, const char *file, int line,
                                     const char *func)
{
    if (out->n >= out->cap) {
        out->cap = out->cap ? out->cap * 2 : 16;
        out->v = xrealloc(out->v, out->cap * sizeof(*out->v));
    }
    struct src_assign *a = &out->v[out->n++];
    memset(a, 0, sizeof(*a));
    scopy(a->file, sizeof(a->file), file, strlen(file));
    a->line = line;
    scopy(a->function, sizeof(a->function), func, strlen(func));
    return a;
}

static void record(const char *b, const struct toks *t, size_t i, const char *file,
                   const char *func, const char *field, struct avec *out)
{
    const struct tok *k = &t->v[i];
    size_t op = find_assign(b, t, i);
    if (op == (size_t)-1 || op == 0)
        return;
    size_t s = lvalue_start(b, t, op);
    if (s >= op)
        return;
    const struct tok *last = lvalue_last_name(b, t, s, op);
    if (!last)
        return;
    size_t e = stmt_end(b, t, i);
    struct src_assign *a = new_assign(out, file, (int)t->v[s].line, func);
    scopy(a->constant, sizeof(a->constant), b + k->pos, k->len);
    text_of(b, t->v[s].pos, t->v[e].pos + t->v[e].len, a->text, sizeof(a->text));
    a->same_field =
        field && *field && last->len == strlen(field) && !memcmp(b + last->pos, field, last->len);
}

/* "x->FIELD = value;", "x.FIELD |= value;": t->v[i] is FIELD.  The
 * statement's right-hand side goes to `constant`. */
static void record_field(const char *b, const struct toks *t, size_t i, const char *file,
                         const char *func, struct avec *out)
{
    if (i == 0 || i + 2 >= t->n || !(tis_p(b, &t->v[i - 1], ".") || tis_p(b, &t->v[i - 1], "->")))
        return;
    size_t op = i + 1;
    if (t->v[op].type != T_PUNCT || !is_assign_op(b, &t->v[op]))
        return;
    size_t s = lvalue_start(b, t, op);
    if (s >= op)
        return;
    size_t e = stmt_end(b, t, op + 1);
    if (e <= op)
        return;
    struct src_assign *a = new_assign(out, file, (int)t->v[s].line, func);
    size_t rs = t->v[op + 1].pos, re = t->v[e].pos + t->v[e].len;
    if (tis_p(b, &t->v[e], ";") && e > op + 1)
        re = t->v[e - 1].pos + t->v[e - 1].len;
    text_of(b, rs, re, a->constant, sizeof(a->constant));
    text_of(b, t->v[s].pos, t->v[e].pos + t->v[e].len, a->text, sizeof(a->text));
    a->same_field = 1;
}

static void pass2(const char *file, const struct nameset *names, const char *field,
                  struct avec *out)
{
    size_t len;
    char *b = read_code(file, &len);
    if (!b)
        return;
    struct toks t = {0};
    tokenize(b, 0, len, 1, 1, &t);
    int depth = 0;
    char func[128] = "";
    for (size_t i = 0; i < t.n; i++) {
        const struct tok *k = &t.v[i];
        if (k->type == T_PUNCT && tis(b, k, "{")) {
            if (k->bol && i > 0 && tis_p(b, &t.v[i - 1], ")"))
                depth = 0; /* a function's brace at column 0 */
            if (depth == 0) {
                func[0] = 0;
                function_name(b, &t, i, func, sizeof(func));
            }
            depth++;
            continue;
        }
        if (k->type == T_PUNCT && tis(b, k, "}")) {
            if (depth > 0)
                depth--;
            if (k->bol)
                depth = 0; /* a function's end at column 0 */
            if (!depth)
                func[0] = 0;
            continue;
        }
        if (k->type == T_DIRECTIVE) {
            /* #define SET_OWNER(c) ((c)->phase = NAME): the macro's name
               stands for the function */
            struct toks d = {0};
            tokenize(b, k->pos + 1, k->pos + k->len, k->line, 0, &d);
            if (d.n > 2 && tis_id(b, &d.v[0], "define") && d.v[1].type == T_ID) {
                char macro[128];
                scopy(macro, sizeof(macro), b + d.v[1].pos, d.v[1].len);
                for (size_t j = 2; j < d.n; j++)
                    if (names && d.v[j].type == T_ID &&
                        nameset_has(names, b + d.v[j].pos, d.v[j].len))
                        record(b, &d, j, file, macro, field, out);
            }
            free(d.v);
            continue;
        }
        if (k->type == T_ID && !names && field && k->len == strlen(field) &&
            !memcmp(b + k->pos, field, k->len))
            record_field(b, &t, i, file, func, out);
        else if (k->type == T_ID && names && nameset_has(names, b + k->pos, k->len))
            record(b, &t, i, file, func, field, out);
    }
    free(t.v);
    free(b);
}

/* ---- the scan ----------------------------------------------------------------- */

static int cmp_assign(const void *pa, const void *pb)
{
    const struct src_assign *a = pa, *b = pb;
    if (a->same_field != b->same_field)
        return b->same_field - a->same_field;
    int c = strcmp(a->file, b->file);
    if (c)
        return c;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return strcmp(a->constant, b->constant);
}

struct const_rank {
    struct src_const c;
    int same_field, assigned;
};

static int cmp_const(const void *pa, const void *pb)
{
    const struct const_rank *a = pa, *b = pb;
    if (a->same_field != b->same_field)
        return a->same_field ? -1 : 1;
    if (a->assigned != b->assigned)
        return a->assigned ? -1 : 1;
    int c = strcmp(a->c.file, b->c.file);
    if (c)
        return c;
    if (a->c.line != b->c.line)
        return a->c.line < b->c.line ? -1 : 1;
    return strcmp(a->c.name, b->c.name);
}

static int scan(const char *dir, bool by_value, uint64_t value, const char *field,
                struct src_const *consts, int max_consts, int *n_consts,
                struct src_assign *assigns, int max_assigns, int *n_assigns, char *err,
                size_t errlen);

int src_scan(const char *dir, uint64_t value, const char *field, struct src_const *consts,
             int max_consts, int *n_consts, struct src_assign *assigns, int max_assigns,
             int *n_assigns, char *err, size_t errlen)
{
    return scan(dir, true, value, field, consts, max_consts, n_consts, assigns, max_assigns,
                n_assigns, err, errlen);
}

int src_scan_field(const char *dir, const char *field, struct src_assign *assigns,
                   int max_assigns, int *n_assigns, char *err, size_t errlen)
{
    if (!field || !*field) {
        ex_errf(err, errlen, "no field to look for");
        return -1;
    }
    return scan(dir, false, 0, field, NULL, 0, NULL, assigns, max_assigns, n_assigns, err,
                errlen);
}

static int scan(const char *dir, bool by_value, uint64_t value, const char *field,
                struct src_const *consts, int max_consts, int *n_consts,
                struct src_assign *assigns, int max_assigns, int *n_assigns, char *err,
                size_t errlen)
{
    if (n_consts)
        *n_consts = 0;
    if (n_assigns)
        *n_assigns = 0;
    if (!dir || !*dir) {
        ex_errf(err, errlen, "no source directory");
        return -1;
    }
    struct stat st;
    if (stat(dir, &st) != 0) {
        ex_errf(err, errlen, "cannot open %s: %s", dir, strerror(errno));
        return -1;
    }
    struct flist files = {0};
    if (S_ISDIR(st.st_mode)) {
        char root[4096];
        scopy(root, sizeof(root), dir, strlen(dir));
        size_t l = strlen(root);
        while (l > 1 && root[l - 1] == '/')
            root[--l] = 0;
        DIR *d = opendir(root);
        if (!d) {
            ex_errf(err, errlen, "cannot read %s: %s", dir, strerror(errno));
            return -1;
        }
        closedir(d);
        walk(root, 0, &files);
    } else if (S_ISREG(st.st_mode)) {
        flist_add(&files, dir);
    } else {
        ex_errf(err, errlen, "%s is neither a directory nor a file", dir);
        return -1;
    }
    if (files.n)
        qsort(files.v, files.n, sizeof(*files.v), cmp_str);

    struct cvec cv = {0};
    for (size_t i = 0; i < files.n && by_value; i++)
        pass1(files.v[i], value, &cv);

    struct avec av = {0};
    if (!by_value) {
        for (size_t i = 0; i < files.n; i++)
            pass2(files.v[i], NULL, field, &av);
    } else if (cv.n) {
        struct nameset names = {0};
        for (size_t i = 0; i < cv.n; i++)
            nameset_add(&names, cv.v[i].name);
        for (size_t i = 0; i < files.n; i++)
            pass2(files.v[i], &names, field, &av);
        nameset_free(&names);
    }
    if (av.n)
        qsort(av.v, av.n, sizeof(*av.v), cmp_assign);

    /* constants assigned to the field first, then those assigned at all */
    struct const_rank *cr = xrealloc(NULL, (cv.n ? cv.n : 1) * sizeof(*cr));
    for (size_t i = 0; i < cv.n; i++) {
        cr[i].c = cv.v[i];
        cr[i].same_field = cr[i].assigned = 0;
        for (size_t j = 0; j < av.n; j++)
            if (!strcmp(av.v[j].constant, cv.v[i].name)) {
                cr[i].assigned = 1;
                if (av.v[j].same_field)
                    cr[i].same_field = 1;
            }
    }
    if (cv.n)
        qsort(cr, cv.n, sizeof(*cr), cmp_const);

    int nc = 0, na = 0;
    for (size_t i = 0; i < cv.n && nc < max_consts && consts; i++)
        consts[nc++] = cr[i].c;
    for (size_t i = 0; i < av.n && na < max_assigns && assigns; i++)
        assigns[na++] = av.v[i];
    if (n_consts)
        *n_consts = nc;
    if (n_assigns)
        *n_assigns = na;

    free(cr);
    free(cv.v);
    free(av.v);
    for (size_t i = 0; i < files.n; i++)
        free(files.v[i]);
    free(files.v);
    return 0;
}

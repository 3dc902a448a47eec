/*
 * Struct layouts for `slabdbg explain`: which field lies at an offset of an
 * allocation, and which struct type an object most likely is.
 *
 * Both sources of type information are read with their libraries: DWARF
 * with elfutils' libdw (types_dwarf.c), BTF with libbpf (types_btf.c).
 * Each is turned, lazily and one type at a time, into a small common model
 * (struct tnode, types_internal.h) on which the lookups here and the
 * ranking (types_rank.c) work, so that they behave the same on both.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/types_internal.h"


/* Copies a string, truncated to the destination. */
void ty_scopy(char *dst, size_t len, const char *src)
{
    size_t l = strlen(src);
    if (l >= len)
        l = len - 1;
    memcpy(dst, src, l);
    dst[l] = 0;
}

static uint64_t hkey(const void *db, uint64_t off)
{
    uint64_t h = off * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)db;
    return h ^ (h >> 29);
}

static uint64_t hstr(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

void *ty_xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p) {
        fprintf(stderr, "slabdbg: out of memory\n");
        exit(2);
    }
    return p;
}

static void hgrow(struct types *t)
{
    size_t nb = t->hnb ? t->hnb * 2 : 1024;
    struct tnode **b = ty_xcalloc(nb, sizeof(*b));
    for (size_t i = 0; i < t->hnb; i++) {
        struct tnode *n = t->hb[i], *next;
        for (; n; n = next) {
            next = n->hnext;
            size_t j = hkey(n->kdb, n->koff) & (nb - 1);
            n->hnext = b[j];
            b[j] = n;
        }
    }
    free(t->hb);
    t->hb = b;
    t->hnb = nb;
}

/* The node of a key, created unfilled when new. */
struct tnode *ty_node_get(struct types *t, const void *db, uint64_t off,
                                                      int *created)
{
    if (!t->hnb)
        hgrow(t);
    size_t i = hkey(db, off) & (t->hnb - 1);
    for (struct tnode *n = t->hb[i]; n; n = n->hnext)
        if (n->kdb == db && n->koff == off) {
            *created = 0;
            return n;
        }
    if (t->hn >= t->hnb)
        hgrow(t), i = hkey(db, off) & (t->hnb - 1);
    struct tnode *n = ty_xcalloc(1, sizeof(*n));
    n->kdb = db;
    n->koff = off;
    n->hnext = t->hb[i];
    t->hb[i] = n;
    n->anext = t->all;
    t->all = n;
    t->hn++;
    *created = 1;
    return n;
}

/* A node of our own (the inner dimensions of a multi-dimensional array). */
struct tnode *ty_node_synthetic(struct types *t)
{
    struct tnode *n = ty_xcalloc(1, sizeof(*n));
    n->filled = 1;
    n->anext = t->all;
    t->all = n;
    return n;
}

void ty_nindex_add(struct nindex *x, const char *name,
                                               struct tnode *node)
{
    if (x->n >= x->nb) {
        size_t nb = x->nb ? x->nb * 2 : 1024;
        struct nentry **b = ty_xcalloc(nb, sizeof(*b));
        for (size_t i = 0; i < x->nb; i++) {
            struct nentry *e = x->b[i], *next;
            for (; e; e = next) {
                next = e->next;
                size_t j = hstr(e->name) & (nb - 1);
                e->next = b[j];
                b[j] = e;
            }
        }
        free(x->b);
        x->b = b;
        x->nb = nb;
    }
    size_t i = hstr(name) & (x->nb - 1);
    for (struct nentry *e = x->b[i]; e; e = e->next)
        if (!strcmp(e->name, name))
            return; /* the first definition wins */
    struct nentry *e = ty_xcalloc(1, sizeof(*e));
    e->name = name;
    e->node = node;
    e->next = x->b[i];
    x->b[i] = e;
    x->n++;
}

struct tnode *ty_nindex_find(const struct nindex *x, const char *name)
{
    if (!x->nb)
        return NULL;
    for (struct nentry *e = x->b[hstr(name) & (x->nb - 1)]; e; e = e->next)
        if (!strcmp(e->name, name))
            return e->node;
    return NULL;
}

void ty_nindex_free(struct nindex *x)
{
    for (size_t i = 0; i < x->nb; i++) {
        struct nentry *e = x->b[i], *next;
        for (; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    free(x->b);
}

void ty_add_cand(struct types *t, const char *name, struct tnode *node)
{
    if (t->ncands >= t->capcands) {
        t->capcands = t->capcands ? t->capcands * 2 : 256;
        t->cands = realloc(t->cands, t->capcands * sizeof(*t->cands));
        if (!t->cands) {
            fprintf(stderr, "slabdbg: out of memory\n");
            exit(2);
        }
    }
    t->cands[t->ncands].name = name;
    t->cands[t->ncands].node = node;
    t->ncands++;
}

/* ---- open / close ---------------------------------------------------------- */

__attribute__((unused)) static struct types *types_new(const char *path)
{
    struct types *t = ty_xcalloc(1, sizeof(*t));
    ty_scopy(t->path, sizeof(t->path), path);
#ifdef HAVE_LIBDW
    t->fd = -1;
#endif
    return t;
}

struct types *types_open_elf(const char *path, char *err, size_t errlen)
{
#ifdef HAVE_LIBDW
    struct types *t = types_new(path);
    if (ty_dw_open(t, path, err, errlen) == 0)
        return t;
    types_close(t);
#ifdef HAVE_LIBBPF
    /* no DWARF: a .BTF section (a kernel image) will do */
    char err2[256];
    t = types_new(path);
    if (ty_btf_open(t, path, err2, sizeof(err2), 1) == 0)
        return t;
    types_close(t);
#endif
    return NULL;
#else
    (void)path;
    ex_errf(err, errlen, "built without libdw: --binary is not available");
    return NULL;
#endif
}

struct types *types_open_btf(const char *path, char *err, size_t errlen)
{
#ifdef HAVE_LIBBPF
    struct types *t = types_new(path);
    if (ty_btf_open(t, path, err, errlen, 0) == 0)
        return t;
    types_close(t);
    return NULL;
#else
    (void)path;
    ex_errf(err, errlen, "built without libbpf: --btf is not available");
    return NULL;
#endif
}

void types_close(struct types *t)
{
    if (!t)
        return;
    for (struct tnode *n = t->all, *next; n; n = next) {
        next = n->anext;
        free(n->members);
        free(n);
    }
    free(t->hb);
    ty_nindex_free(&t->tags);
    ty_nindex_free(&t->typedefs);
    free(t->cands);
#ifdef HAVE_LIBDW
    if (t->dw)
        dwarf_end(t->dw);
    if (t->fd >= 0)
        close(t->fd);
#endif
#ifdef HAVE_LIBBPF
    btf__free(t->btf);
    btf__free(t->base_btf);
#endif
    free(t);
}

/* ---- queries on the model -------------------------------------------------- */

struct tnode *ty_fill(struct types *t, struct tnode *n)
{
    (void)t;
    if (n && !n->filled) {
        n->filled = 1;
#ifdef HAVE_LIBDW
        if (t->backend == BK_DWARF)
            ty_dw_fill(t, n);
#endif
#ifdef HAVE_LIBBPF
        if (t->backend == BK_BTF)
            ty_btf_fill(t, n);
#endif
    }
    return n;
}

/* Through typedefs and qualifiers, and from a declaration to the
 * definition of the same name.  NULL: void. */
struct tnode *ty_peel(struct types *t, struct tnode *n)
{
    for (int guard = 0; n && guard < 64; guard++) {
        ty_fill(t, n);
        switch (n->kind) {
        case TK_TYPEDEF:
        case TK_CONST:
        case TK_VOLATILE:
        case TK_RESTRICT:
        case TK_ATOMIC:
            n = n->target;
            continue;
        case TK_FWD: {
            struct tnode *d = n->name ? ty_nindex_find(&t->tags, n->name) : NULL;
            if (d && d != n) {
                n = d;
                continue;
            }
            return n;
        }
        default:
            return n;
        }
    }
    return n;
}

uint64_t ty_tsize(struct types *t, struct tnode *n)
{
    if (!n)
        return 0;
    ty_fill(t, n);
    if (n->has_size)
        return n->size;
    if (n->in_size)
        return 0;
    n->in_size = 1;
    uint64_t s = 0;
    switch (n->kind) {
    case TK_ARRAY:
        s = n->nelems * ty_tsize(t, n->target);
        break;
    case TK_TYPEDEF:
    case TK_CONST:
    case TK_VOLATILE:
    case TK_RESTRICT:
    case TK_ATOMIC:
    case TK_ENUM:
        s = ty_tsize(t, n->target);
        if (n->kind == TK_ENUM && !n->target)
            s = 4;
        break;
    case TK_FWD: {
        struct tnode *d = ty_peel(t, n);
        s = d && d != n ? ty_tsize(t, d) : 0;
        break;
    }
    default:
        break;
    }
    n->in_size = 0;
    n->size = s;
    n->has_size = 1;
    return s;
}

uint32_t ty_talign(struct types *t, struct tnode *n)
{
    if (!n)
        return 1;
    ty_fill(t, n);
    if (n->align)
        return n->align;
    if (n->in_align)
        return 1;
    n->in_align = 1;
    uint32_t a = 1;
    switch (n->kind) {
    case TK_INT:
    case TK_FLOAT:
    case TK_ENUM:
    case TK_PTR: {
        uint64_t s = ty_tsize(t, n);
        a = 1;
        while (a < 16 && s % (a * 2) == 0)
            a *= 2;
        break;
    }
    case TK_ARRAY:
    case TK_TYPEDEF:
    case TK_CONST:
    case TK_VOLATILE:
    case TK_RESTRICT:
    case TK_ATOMIC:
        a = ty_talign(t, n->target);
        break;
    case TK_FWD: {
        struct tnode *d = ty_peel(t, n);
        a = d && d != n ? ty_talign(t, d) : 1;
        break;
    }
    case TK_STRUCT:
    case TK_UNION: {
        int packed = 0;
        for (int i = 0; i < n->nmembers; i++) {
            struct tmember *m = &n->members[i];
            uint32_t ma = ty_talign(t, m->type);
            if (!m->bitsize && (m->bitoff % 8 || (m->bitoff / 8) % ma))
                packed = 1;
            if (ma > a)
                a = ma;
        }
        if (packed || (n->size % a))
            a = 1;
        break;
    }
    default:
        break;
    }
    n->in_align = 0;
    n->align = a;
    return a;
}

/* C spelling of a type around a declarator ("" for an abstract one). */
static void tname_decl(struct types *t, struct tnode *n, const char *inner, char *buf, size_t len,
                       int depth)
{
    char tmp[512];
    if (depth > 16) {
        snprintf(buf, len, "...%s%s", *inner ? " " : "", inner);
        return;
    }
    if (!n) {
        snprintf(buf, len, "void%s%s", *inner ? " " : "", inner);
        return;
    }
    ty_fill(t, n);
    const char *sp = *inner ? " " : "";
    switch (n->kind) {
    case TK_PTR: {
        /* parenthesised when pointing at an array or a function spelt out,
           not at a typedef of one */
        struct tnode *p = n->target;
        while (p && ty_fill(t, p) &&
               (p->kind == TK_CONST || p->kind == TK_VOLATILE || p->kind == TK_RESTRICT ||
                p->kind == TK_ATOMIC || (p->kind == TK_TYPEDEF && !p->name)))
            p = p->target;
        int paren = p && (p->kind == TK_ARRAY || p->kind == TK_FUNC);
        snprintf(tmp, sizeof(tmp), paren ? "(*%s)" : "*%s", inner);
        tname_decl(t, n->target, tmp, buf, len, depth + 1);
        return;
    }
    case TK_ARRAY:
        snprintf(tmp, sizeof(tmp), "%s[%" PRIu64 "]", inner, n->nelems);
        tname_decl(t, n->target, tmp, buf, len, depth + 1);
        return;
    case TK_FUNC: {
        char params[384] = "";
        size_t pl = 0;
        for (int i = 0; i < n->nmembers && pl < sizeof(params) - 1; i++) {
            char one[256];
            tname_decl(t, n->members[i].type, "", one, sizeof(one), depth + 1);
            pl += (size_t)snprintf(params + pl, sizeof(params) - pl, "%s%s", i ? ", " : "", one);
        }
        if (n->variadic && pl < sizeof(params) - 1)
            pl += (size_t)snprintf(params + pl, sizeof(params) - pl, "%s...",
                                   n->nmembers ? ", " : "");
        if (!n->nmembers && !n->variadic)
            snprintf(params, sizeof(params), "void");
        snprintf(tmp, sizeof(tmp), "%s(%s)", inner, params);
        tname_decl(t, n->target, tmp, buf, len, depth + 1);
        return;
    }
    case TK_CONST:
    case TK_VOLATILE:
    case TK_RESTRICT:
    case TK_ATOMIC: {
        const char *q = n->kind == TK_CONST      ? "const"
                        : n->kind == TK_VOLATILE ? "volatile"
                        : n->kind == TK_ATOMIC   ? "_Atomic"
                                                 : "restrict";
        struct tnode *tg = n->target ? ty_fill(t, n->target) : NULL;
        if (tg && tg->kind == TK_PTR) {
            snprintf(tmp, sizeof(tmp), "%s%s%s", q, sp, inner);
            tname_decl(t, tg, tmp, buf, len, depth + 1);
        } else {
            char base[448];
            tname_decl(t, n->target, inner, base, sizeof(base), depth + 1);
            snprintf(buf, len, "%s %.*s", q, (int)(len > 16 ? len - 16 : 0), base);
        }
        return;
    }
    case TK_STRUCT:
    case TK_UNION:
    case TK_FWD: {
        const char *kw =
            n->kind == TK_UNION || (n->kind == TK_FWD && n->fwd_union) ? "union" : "struct";
        snprintf(buf, len, "%s %s%s%s", kw, n->name ? n->name : "{...}", sp, inner);
        return;
    }
    case TK_ENUM:
        snprintf(buf, len, "enum %s%s%s", n->name ? n->name : "{...}", sp, inner);
        return;
    case TK_TYPEDEF:
        if (!n->name) { /* a BTF type tag */
            tname_decl(t, n->target, inner, buf, len, depth + 1);
            return;
        }
        /* fall through */
    default:
        snprintf(buf, len, "%s%s%s", n->name ? n->name : "?", sp, inner);
        return;
    }
}

void ty_tname(struct types *t, struct tnode *n, char *buf, size_t len)
{
    tname_decl(t, n, "", buf, len, 0);
}

/* The struct or union named by one part of a spec, NULL if none. */
static struct tnode *lookup_type(struct types *t, const char *name, char *shown, size_t shownlen)
{
    char buf[256];
    while (*name == ' ' || *name == '\t')
        name++;
    ty_scopy(buf, sizeof(buf), name);
    size_t l = strlen(buf);
    while (l && (buf[l - 1] == ' ' || buf[l - 1] == '\t'))
        buf[--l] = 0;
    const char *nm = buf;
    int tag_only = 0;
    if (!strncmp(nm, "struct ", 7) || !strncmp(nm, "union ", 6)) {
        nm += nm[0] == 's' ? 7 : 6;
        while (*nm == ' ')
            nm++;
        tag_only = 1;
    }
    ty_scopy(shown, shownlen, nm);
    struct tnode *n = ty_nindex_find(&t->tags, nm);
    if (!n && !tag_only)
        n = ty_nindex_find(&t->typedefs, nm);
    n = ty_peel(t, n);
    if (n && n->kind != TK_STRUCT && n->kind != TK_UNION && n->kind != TK_ARRAY &&
        n->kind != TK_INT && n->kind != TK_PTR && n->kind != TK_ENUM && n->kind != TK_FLOAT)
        return NULL;
    return n;
}

static void path_append(char *path, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void path_append(char *path, size_t len, const char *fmt, ...)
{
    size_t l = strlen(path);
    if (l >= len - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path + l, len - l, fmt, ap);
    va_end(ap);
}

/*
 * Descends from aggregate `n` (at allocation offset `base`) to the innermost
 * member containing byte `off`.  path already names n.  Returns 1 when a
 * field was found, 0 when the byte is padding (out filled accordingly).
 */
static int descend(struct types *t, struct tnode *n, size_t base, size_t off, struct field_at *out,
                   int depth)
{
    n = ty_peel(t, n);
    size_t rel = off - base;
    if (depth > 32 || !n || (n->kind != TK_STRUCT && n->kind != TK_UNION && n->kind != TK_ARRAY)) {
        out->field_offset = base;
        out->field_size = (size_t)ty_tsize(t, n);
        return 1;
    }
    if (n->kind == TK_ARRAY) {
        uint64_t es = ty_tsize(t, n->target);
        if (!es) {
            out->field_offset = base;
            out->field_size = 0;
            return 1;
        }
        uint64_t idx = rel / es;
        path_append(out->path, sizeof(out->path), "[%" PRIu64 "]", idx);
        struct tnode *e = ty_peel(t, n->target);
        size_t ebase = base + (size_t)(idx * es);
        if (e && (e->kind == TK_STRUCT || e->kind == TK_UNION || e->kind == TK_ARRAY))
            return descend(t, n->target, ebase, off, out, depth + 1);
        out->field_offset = ebase;
        out->field_size = (size_t)es;
        ty_tname(t, n->target, out->field_type, sizeof(out->field_type));
        return 1;
    }
    /* struct or union: the member holding the byte; in a union the first
       one that is not padding there */
    char saved[sizeof(out->path)];
    memcpy(saved, out->path, sizeof(saved));
    int have_pad = 0;
    struct field_at pad;
    for (int i = 0; i < n->nmembers; i++) {
        struct tmember *m = &n->members[i];
        uint64_t mstart = m->bitoff / 8, mend;
        if (m->bitsize)
            mend = (m->bitoff + m->bitsize + 7) / 8;
        else
            mend = mstart + ty_tsize(t, m->type);
        if (rel < mstart || rel >= mend)
            continue;
        memcpy(out->path, saved, sizeof(saved));
        if (m->name)
            path_append(out->path, sizeof(out->path), ".%s", m->name);
        if (m->bitsize) {
            char tn[100];
            ty_tname(t, m->type, tn, sizeof(tn));
            snprintf(out->field_type, sizeof(out->field_type), "%s:%u", tn, m->bitsize);
            out->field_offset = base + (size_t)mstart;
            out->field_size = (size_t)(mend - mstart);
            return 1;
        }
        struct tnode *mt = ty_peel(t, m->type);
        if (mt && (mt->kind == TK_STRUCT || mt->kind == TK_UNION || mt->kind == TK_ARRAY)) {
            struct field_at sub = *out;
            if (descend(t, m->type, base + (size_t)mstart, off, &sub, depth + 1)) {
                *out = sub;
                return 1;
            }
            if (!have_pad) {
                pad = sub;
                have_pad = 1;
            }
            if (n->kind == TK_STRUCT)
                break;
            continue;
        }
        out->field_offset = base + (size_t)mstart;
        out->field_size = (size_t)(mend - mstart);
        ty_tname(t, m->type, out->field_type, sizeof(out->field_type));
        return 1;
    }
    if (have_pad) {
        *out = pad;
        return 0;
    }
    /* padding of this aggregate: the hole around the byte */
    uint64_t hs = 0, he = ty_tsize(t, n);
    for (int i = 0; i < n->nmembers; i++) {
        struct tmember *m = &n->members[i];
        uint64_t ms = m->bitoff / 8;
        uint64_t me = m->bitsize ? (m->bitoff + m->bitsize + 7) / 8 : ms + ty_tsize(t, m->type);
        if (me <= rel && me > hs)
            hs = me;
        if (ms > rel && ms < he)
            he = ms;
    }
    memcpy(out->path, saved, sizeof(saved));
    path_append(out->path, sizeof(out->path), "+0x%zx (padding)", rel);
    out->field_offset = base + (size_t)hs;
    out->field_size = (size_t)(he - hs);
    snprintf(out->field_type, sizeof(out->field_type), "padding");
    return 0;
}

int types_field_at(struct types *t, const char *spec, size_t offset, struct field_at *out,
                   char *err, size_t errlen)
{
    if (!t || !spec || !out) {
        ex_errf(err, errlen, "no type information");
        return -1;
    }
    memset(out, 0, sizeof(*out));
    char names[16][128];
    struct tnode *nodes[16];
    size_t starts[16];
    int nparts = 0;
    char joined[512] = "";
    size_t pos = 0;
    const char *p = spec;
    for (;;) {
        const char *plus = strchr(p, '+');
        size_t l = plus ? (size_t)(plus - p) : strlen(p);
        if (nparts >= 16) {
            ex_errf(err, errlen, "too many types in '%s'", spec);
            return -1;
        }
        char part[256];
        if (l >= sizeof(part))
            l = sizeof(part) - 1;
        memcpy(part, p, l);
        part[l] = 0;
        struct tnode *n = lookup_type(t, part, names[nparts], sizeof(names[nparts]));
        if (!names[nparts][0]) {
            ex_errf(err, errlen, "empty type name in '%s'", spec);
            return -1;
        }
        if (!n) {
            ex_errf(err, errlen,
                    "unknown type '%s': no struct, union or typedef of that name in %s",
                    names[nparts], t->path);
            return -1;
        }
        uint64_t sz = ty_tsize(t, n);
        uint32_t al = ty_talign(t, n);
        pos = (pos + al - 1) / al * al;
        nodes[nparts] = n;
        starts[nparts] = pos;
        pos += (size_t)sz;
        path_append(joined, sizeof(joined), "%s%s", nparts ? "+" : "", names[nparts]);
        nparts++;
        if (!plus)
            break;
        p = plus + 1;
    }
    if (offset >= pos) {
        ex_errf(err, errlen, "offset 0x%zx is beyond %s (0x%zx bytes)", offset, joined, pos);
        return -1;
    }
    int i = nparts - 1;
    while (i > 0 && offset < starts[i])
        i--;
    ty_scopy(out->type, sizeof(out->type), names[i]);
    out->type_start = starts[i];
    size_t end = starts[i] + (size_t)ty_tsize(t, nodes[i]);
    if (offset >= end) {
        /* between this type and the next one's alignment */
        ty_scopy(out->path, sizeof(out->path), names[i]);
        path_append(out->path, sizeof(out->path), "+0x%zx (padding)", offset - starts[i]);
        out->field_offset = end;
        out->field_size = (i + 1 < nparts ? starts[i + 1] : pos) - end;
        snprintf(out->field_type, sizeof(out->field_type), "padding");
        return 0;
    }
    ty_scopy(out->path, sizeof(out->path), names[i]);
    struct tnode *n = ty_peel(t, nodes[i]);
    if (n->kind == TK_STRUCT || n->kind == TK_UNION || n->kind == TK_ARRAY) {
        descend(t, n, starts[i], offset, out, 0);
    } else {
        out->field_offset = starts[i];
        out->field_size = (size_t)ty_tsize(t, n);
        ty_tname(t, nodes[i], out->field_type, sizeof(out->field_type));
    }
    return 0;
}

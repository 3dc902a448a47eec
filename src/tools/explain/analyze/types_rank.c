/*
 * Which struct an object most likely is: candidates ranked by the object's
 * size (against the allocator's size classes), by how well their pointer
 * fields match the object's bytes when they are known, and by the names of
 * the functions that allocated and freed it.
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

/* ---- ranking ---------------------------------------------------------------- */

struct evidence {
    double w;
    uint64_t off;
    int strong;
    char text[96];
};

struct evlist {
    struct evidence *v;
    int n, cap;
    double weak; /* small, many: summed apart and capped */
    int leaves;
};

static void ev_add(struct evlist *l, double w, uint64_t off, int strong, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void ev_add(struct evlist *l, double w, uint64_t off, int strong, const char *fmt, ...)
{
    if (!strong) {
        l->weak += w;
        return;
    }
    if (l->n >= l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = realloc(l->v, (size_t)l->cap * sizeof(*l->v));
        if (!l->v) {
            fprintf(stderr, "slabdbg: out of memory\n");
            exit(2);
        }
    }
    struct evidence *e = &l->v[l->n++];
    e->w = w;
    e->off = off;
    e->strong = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->text, sizeof(e->text), fmt, ap);
    va_end(ap);
}

static double ev_total(const struct evlist *l)
{
    double s = 0;
    for (int i = 0; i < l->n; i++)
        s += l->v[i].w;
    double weak = l->weak;
    if (weak > 1.0)
        weak = 1.0;
    if (weak < -1.0)
        weak = -1.0;
    return s + weak;
}

struct rank_ctx {
    struct types *t;
    const uint8_t *bytes;
    size_t nbytes;
    uint64_t addr;
    func_name_fn func_name;
    void *fctx;
};

static uint64_t rd(const struct rank_ctx *c, uint64_t off, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size && i < 8; i++)
        v |= (uint64_t)c->bytes[off + i] << (8 * i);
    return v;
}

static int is_poison(uint64_t v)
{
    unsigned char b = (unsigned char)v;
    for (int i = 1; i < 8; i++)
        if ((unsigned char)(v >> (8 * i)) != b)
            return 0;
    return b == 0x6b || b == 0x5a || b == 0xa5 || b == 0xcc || b == 0xbb || b == 0x6a ||
           b == 0xfe || b == 0xff;
}

/* The first size bytes of v all one of the slab poison or red zone bytes. */
static int is_poison_n(uint64_t v, unsigned size)
{
    unsigned char b = (unsigned char)v;
    for (unsigned i = 1; i < size && i < 8; i++)
        if ((unsigned char)(v >> (8 * i)) != b)
            return 0;
    return b == 0x6b || b == 0x5a || b == 0xa5 || b == 0xcc || b == 0xbb || b == 0x6a;
}

static int is_list_poison(uint64_t v)
{
    return v == 0xdead000000000100ull || v == 0xdead000000000122ull || v == 0x100 || v == 0x200 ||
           v == 0x122;
}

static int canonical(uint64_t v)
{
    if (v >= 0x10000 && v < 0x0000800000000000ull)
        return 1;                              /* user */
    return (v >> 47) == 0x1ffff && v != ~0ull; /* kernel */
}

static int is_list_head(struct types *t, struct tnode *n)
{
    n = ty_peel(t, n);
    if (!n || n->kind != TK_STRUCT || n->nmembers != 2 || ty_tsize(t, n) != 16)
        return 0;
    struct tmember *a = &n->members[0], *b = &n->members[1];
    if (!a->name || !b->name || strcmp(a->name, "next") || strcmp(b->name, "prev"))
        return 0;
    struct tnode *pa = ty_peel(t, a->type), *pb = ty_peel(t, b->type);
    return pa && pb && pa->kind == TK_PTR && pb->kind == TK_PTR && a->bitoff == 0 &&
           b->bitoff == 64;
}

static void eval_node(struct rank_ctx *c, struct tnode *n, uint64_t off, const char *mname,
                      struct evlist *l, int depth);

static void eval_pointer(struct rank_ctx *c, struct tnode *n, uint64_t off, const char *mname,
                         struct evlist *l)
{
    struct types *t = c->t;
    uint64_t v = rd(c, off, 8);
    struct tnode *target = ty_peel(t, n->target);
    int fn = target && target->kind == TK_FUNC;
    if (!v || is_poison(v))
        return; /* neutral */
    if (fn) {
        const char *name = c->func_name ? c->func_name(v, c->fctx) : NULL;
        if (name) {
            ev_add(l, 3.0, off, 1, "%s at +0x%" PRIx64, name, off);
        } else if (!c->func_name && canonical(v)) {
            ev_add(l, 0.3, off, 0, "code pointer");
        } else {
            ev_add(l, -1.5, off, 1, "%s at +0x%" PRIx64 " holds 0x%" PRIx64 ", not a function",
                   mname ? mname : "function pointer", off, v);
        }
        return;
    }
    if (is_list_poison(v)) {
        ev_add(l, 0.3, off, 0, "list poison");
        return;
    }
    if (!canonical(v)) {
        ev_add(l, -0.7, off, 1, "%s at +0x%" PRIx64 " holds 0x%" PRIx64 ", not a pointer",
               mname ? mname : "pointer", off, v);
        return;
    }
    uint32_t al = target ? ty_talign(t, target) : 1;
    if (al > 8)
        al = 8;
    if (v % al) {
        ev_add(l, -0.5, off, 0, "misaligned pointer");
        return;
    }
    const char *fname = c->func_name ? c->func_name(v, c->fctx) : NULL;
    if (c->addr && v >= c->addr && v < c->addr + c->nbytes)
        ev_add(l, 0.4, off, 0, "pointer into the object");
    else if (fname && target && target->kind != TK_VOID && target->kind != TK_INT)
        ev_add(l, -0.2, off, 0, "data pointer to code");
    else
        ev_add(l, 0.25, off, 0, "plausible pointer");
}

static void eval_node(struct rank_ctx *c, struct tnode *n0, uint64_t off, const char *mname,
                      struct evlist *l, int depth)
{
    struct types *t = c->t;
    struct tnode *n = ty_peel(t, n0);
    if (!n || depth > 12 || l->leaves > 8192)
        return;
    uint64_t size = ty_tsize(t, n);
    if (!size || off + size > c->nbytes)
        return;
    switch (n->kind) {
    case TK_PTR:
        l->leaves++;
        if (size == 8)
            eval_pointer(c, n, off, mname, l);
        return;
    case TK_INT:
    case TK_ENUM: {
        l->leaves++;
        if (size > 8)
            return;
        uint64_t v = rd(c, off, (unsigned)size);
        if (is_poison_n(v, (unsigned)size))
            return; /* a freed or uninitialised object's filler */
        /* small values (and small negative ones) are what integers hold */
        uint64_t mask = size == 8 ? ~0ull : ((1ull << (8 * size)) - 1);
        uint64_t neg = (~v + 1) & mask;
        if (v < 0x10000 || (size >= 4 && neg < 0x100))
            ev_add(l, 0.05, off, 0, "small integer");
        return;
    }
    case TK_ARRAY: {
        struct tnode *e = ty_peel(t, n->target);
        uint64_t es = ty_tsize(t, n->target);
        if (!e || !es ||
            (e->kind != TK_PTR && e->kind != TK_STRUCT && e->kind != TK_UNION &&
             e->kind != TK_ARRAY))
            return; /* bytes, characters, numbers: no evidence */
        uint64_t cnt = n->nelems < 64 ? n->nelems : 64;
        for (uint64_t i = 0; i < cnt; i++)
            eval_node(c, n->target, off + i * es, mname, l, depth + 1);
        return;
    }
    case TK_STRUCT: {
        if (is_list_head(t, n)) {
            uint64_t next = rd(c, off, 8), prev = rd(c, off + 8, 8);
            uint64_t self = c->addr + off;
            if (c->addr && next == self && prev == self) {
                ev_add(l, 2.0, off, 1, "empty list at +0x%" PRIx64, off);
                return;
            }
            if (is_list_poison(next) && is_list_poison(prev)) {
                ev_add(l, 1.0, off, 1, "deleted list entry at +0x%" PRIx64, off);
                return;
            }
            if (canonical(next) && canonical(prev) && !(next % 8) && !(prev % 8)) {
                ev_add(l, 0.6, off, 0, "list");
                return;
            }
        }
        for (int i = 0; i < n->nmembers; i++) {
            struct tmember *m = &n->members[i];
            if (m->bitsize || m->bitoff % 8)
                continue;
            eval_node(c, m->type, off + m->bitoff / 8, m->name, l, depth + 1);
        }
        return;
    }
    case TK_UNION: {
        /* the best reading of the bytes among the members */
        struct evlist best = {0};
        double bestv = -1e9;
        int have = 0;
        for (int i = 0; i < n->nmembers; i++) {
            struct tmember *m = &n->members[i];
            if (m->bitsize || m->bitoff % 8)
                continue;
            struct evlist one = {0};
            one.leaves = l->leaves;
            eval_node(c, m->type, off + m->bitoff / 8, m->name, &one, depth + 1);
            double v = ev_total(&one);
            if (!have || v > bestv) {
                free(best.v);
                best = one;
                bestv = v;
                have = 1;
            } else {
                free(one.v);
            }
        }
        if (have) {
            for (int i = 0; i < best.n; i++)
                ev_add(l, best.v[i].w, best.v[i].off, 1, "%s", best.v[i].text);
            l->weak += best.weak;
            l->leaves = best.leaves;
            free(best.v);
        }
        return;
    }
    default:
        return;
    }
}

/* Our kmalloc classes (as src/core/internal.h lays them out): 8, 16-byte
 * steps to 128, then 8 per doubling.  The class below n, 0 if n is none. */
static size_t our_class_below(size_t n)
{
    size_t prev = 0;
    for (size_t c = 8; c <= n && c <= ((size_t)512 << 10);) {
        if (c == n)
            return prev;
        prev = c;
        if (c < 16)
            c = 16;
        else if (c < 128)
            c += 16;
        else {
            size_t p2 = 1;
            while (p2 * 2 <= c)
                p2 *= 2;
            c += p2 / 8;
        }
    }
    return (size_t)-1;
}

/* The kernel's kmalloc classes: powers of two, and 96 and 192. */
static size_t kernel_class_below(size_t n)
{
    if (n == 96)
        return 64;
    if (n == 192)
        return 128;
    if (n == 128)
        return 96;
    if (n == 256)
        return 192;
    if (n >= 8 && !(n & (n - 1)))
        return n / 2;
    return (size_t)-1;
}

static double size_score(size_t s, size_t n, char *desc, size_t desclen)
{
    if (!n) {
        desc[0] = 0;
        return 0;
    }
    size_t kb = kernel_class_below(n), ob = our_class_below(n);
    size_t lo = kb != (size_t)-1 ? kb : ob != (size_t)-1 ? ob : n / 2;
    double sc;
    if (s > lo) {
        sc = 1.0 + 0.05 * (double)s / (double)n;
        if (ob != (size_t)-1 && s > ob && ob > lo)
            sc += 0.3; /* our finer class fits too */
        snprintf(desc, desclen, "size 0x%zx fits a %zu-byte object", s, n);
    } else {
        sc = 0.5 * (double)s / (double)(lo ? lo : 1);
        snprintf(desc, desclen,
                 "size 0x%zx, smaller than the %zu-byte object: more data may follow", s, n);
    }
    return sc;
}

static int ev_cmp(const void *a, const void *b)
{
    const struct evidence *x = a, *y = b;
    if (x->w != y->w)
        return x->w > y->w ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

static int cand_cmp(const void *a, const void *b)
{
    const struct type_candidate *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->size < y->size ? -1 : x->size > y->size;
}

/* Up to `items` of the strongest evidence, ", "-separated, appended to buf.
 * Returns how many were written. */
static int why_append(char *buf, size_t len, struct evlist *l, int items)
{
    if (l->n)
        qsort(l->v, (size_t)l->n, sizeof(*l->v), ev_cmp);
    size_t wl = strlen(buf);
    int shown = 0;
    for (int k = 0; k < l->n && shown < items && wl < len; k++) {
        if (l->v[k].w <= 0 && shown)
            break;
        wl += (size_t)snprintf(buf + wl, len - wl, "%s%s", shown ? ", " : "", l->v[k].text);
        shown++;
    }
    return shown;
}

static int has_strong(const struct evlist *l)
{
    for (int i = 0; i < l->n; i++)
        if (l->v[i].w >= 2.0)
            return 1;
    return 0;
}

struct ranked {
    struct type_candidate c;
    struct tnode *n;
    int strong; /* a function or an empty list among its evidence */
    int hinted; /* its name is in an allocating or freeing function's */
    int extended;
};

static int ranked_cmp(const void *a, const void *b)
{
    return cand_cmp(&((const struct ranked *)a)->c, &((const struct ranked *)b)->c);
}

/* ---- hints: the names of the functions that allocated and freed ---------- */

#define MAX_HINTS 16
#define MAX_HTOK 16

struct hints {
    char tok[MAX_HINTS][MAX_HTOK][48];
    int ntok[MAX_HINTS];
    const char *name[MAX_HINTS];
    int n;
};

/* Words that say nothing about a type. */
static int stop_word(const char *w)
{
    static const char *const words[] = {
        "alloc",   "free",    "put",    "get",     "new",   "init",   "end",    "done",
        "release", "destroy", "create", "kmalloc", "kfree", "malloc", "calloc", "realloc",
        "kzalloc", "kmem",    "cache",  "do",      "the",   "data",   "info",   "buf",
        "list",    "head",    "node",   "entry",   "work",  "main",   "start",  "run",
        "handle",  "handler", "call",   "fn",      "func",  "size",   "struct", "slab",
        "mempool", "pool",    "node",   "common",  "one",   "all",    "add",    "del",
        "set",     "try",     "sys",    "and",     "for",   "from",   "with",   "to",
        "of",      "in",      "on",     "at",      "by"};
    for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
        if (!strcmp(w, words[i]))
            return 1;
    return 0;
}

/* "__blk_put_request+0xb7/0x190" -> blk, put, request */
static int split_words(const char *s, char out[][48], int max)
{
    int n = 0;
    while (*s == '_')
        s++;
    while (*s && *s != '+' && *s != '.' && *s != ' ' && *s != '(' && *s != '/' && n < max) {
        size_t l = 0;
        while (s[l] && ((s[l] >= 'a' && s[l] <= 'z') || (s[l] >= 'A' && s[l] <= 'Z') ||
                        (s[l] >= '0' && s[l] <= '9')))
            l++;
        if (l) {
            size_t k = l < 47 ? l : 47;
            for (size_t i = 0; i < k; i++)
                out[n][i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
            out[n][k] = 0;
            n++;
            s += l;
        }
        if (*s == '_')
            while (*s == '_')
                s++;
        else if (!l)
            break;
    }
    return n;
}

static void hints_init(struct hints *h, const char *const *names, int n)
{
    memset(h, 0, sizeof(*h));
    for (int i = 0; names && i < n && h->n < MAX_HINTS; i++) {
        if (!names[i] || !*names[i])
            continue;
        h->name[h->n] = names[i];
        h->ntok[h->n] = split_words(names[i], h->tok[h->n], MAX_HTOK);
        h->n++;
    }
}

/* The first hint that spells out the whole type name ("request" in
 * alloc_request_size), -1 if none. */
static int hint_names(const struct hints *h, const char *type)
{
    char w[MAX_HTOK][48];
    int nw = split_words(type, w, MAX_HTOK);
    if (!nw || (nw == 1 && (stop_word(w[0]) || strlen(w[0]) < 3)))
        return -1;
    for (int i = 0; i < h->n; i++)
        for (int k = 0; k + nw <= h->ntok[i]; k++) {
            int j = 0;
            while (j < nw && !strcmp(h->tok[i][k + j], w[j]))
                j++;
            if (j == nw)
                return i;
        }
    return -1;
}

/* Whether hint i spells out the whole type name. */
static int hint_spells(const struct hints *h, int i, const char *type)
{
    char w[MAX_HTOK][48];
    int nw = split_words(type, w, MAX_HTOK);
    for (int k = 0; nw && k + nw <= h->ntok[i]; k++) {
        int j = 0;
        while (j < nw && !strcmp(h->tok[i][k + j], w[j]))
            j++;
        if (j == nw)
            return 1;
    }
    return 0;
}

/*
 * The words of type name b that two hints or more have ("scsi" of scsi_cmnd
 * in scsi_end_request and scsi_done): how many, and the first hint having
 * one of them, among the hints that do not name a (the struct in front).
 * Returns the count; *first is MAX_HINTS when there is none.
 */
static int hint_words(const struct hints *h, const char *b, const char *a, int *first, char *word,
                      size_t wordlen)
{
    char w[MAX_HTOK][48];
    int nw = split_words(b, w, MAX_HTOK), count = 0;
    *first = MAX_HINTS;
    for (int j = 0; j < nw; j++) {
        if (strlen(w[j]) < 3 || stop_word(w[j]))
            continue;
        int found = 0, firsti = MAX_HINTS;
        for (int i = 0; i < h->n; i++)
            for (int k = 0; k < h->ntok[i]; k++)
                if (!strcmp(h->tok[i][k], w[j])) {
                    found++;
                    if (firsti == MAX_HINTS && !hint_spells(h, i, a))
                        firsti = i;
                    break;
                }
        if (found < 2 || firsti == MAX_HINTS)
            continue;
        count++;
        if (firsti < *first) {
            *first = firsti;
            ty_scopy(word, wordlen, w[j]);
        }
    }
    return count;
}

/* The bare function name of a hint, for the `why` line. */
static void hint_func(const char *hint, char *buf, size_t len)
{
    size_t l = strcspn(hint, "+ (/");
    if (l >= len)
        l = len - 1;
    memcpy(buf, hint, l);
    buf[l] = 0;
}

/* Types from system headers are less likely the program's heap objects. */
static int system_type(struct types *t, struct tnode *n)
{
#ifdef HAVE_LIBDW
    if (t->backend == BK_DWARF && n && n->kdb) {
        const char *f = dwarf_decl_file(&n->die);
        return f && (!strncmp(f, "/usr/include/", 13) || strstr(f, "/lib/gcc/"));
    }
#else
    (void)t, (void)n;
#endif
    return 0;
}

#define RANK_EXTEND 8 /* best singles tried with a second struct behind */

int types_rank(struct types *t, size_t object_size, const uint8_t *bytes, size_t nbytes,
               uint64_t object_addr, func_name_fn func_name, void *ctx, struct type_candidate *out,
               int max)
{
    return types_rank_hinted(t, object_size, bytes, nbytes, object_addr, func_name, ctx, NULL, 0,
                             out, max);
}

int types_rank_hinted(struct types *t, size_t object_size, const uint8_t *bytes, size_t nbytes,
                      uint64_t object_addr, func_name_fn func_name, void *ctx,
                      const char *const *hint_names_in, int nhints, struct type_candidate *out,
                      int max)
{
    if (!t || !out || max <= 0)
        return 0;
    struct hints *h = ty_xcalloc(1, sizeof(*h));
    hints_init(h, hint_names_in, nhints);
    if (object_size && nbytes > object_size)
        nbytes = object_size;
    if (!bytes)
        nbytes = 0;
    struct ranked *all = ty_xcalloc(t->ncands + 2 * RANK_EXTEND, sizeof(*all));
    size_t na = 0;
    struct rank_ctx c = {t, bytes, nbytes, object_addr, func_name, ctx};
    for (size_t i = 0; i < t->ncands; i++) {
        struct tnode *n = ty_peel(t, t->cands[i].node);
        if (!n || n->kind != TK_STRUCT)
            continue;
        size_t s = (size_t)ty_tsize(t, n);
        if (!s || (object_size && s > object_size))
            continue;
        struct ranked *r = &all[na++];
        struct type_candidate *o = &r->c;
        r->n = n;
        ty_scopy(o->name, sizeof(o->name), t->cands[i].name);
        o->size = s;
        char sdesc[160];
        o->score = size_score(s, object_size, sdesc, sizeof(sdesc));
        if (nbytes) {
            struct evlist l = {0};
            eval_node(&c, n, 0, NULL, &l, 0);
            o->score += ev_total(&l);
            r->strong = has_strong(&l);
            if (!why_append(o->why, sizeof(o->why), &l, 4))
                snprintf(o->why, sizeof(o->why), "%s; no pointer evidence in the bytes", sdesc);
            free(l.v);
        } else {
            ty_scopy(o->why, sizeof(o->why), sdesc);
        }
        if (system_type(t, n))
            o->score -= 0.3;
        int hi = h->n ? hint_names(h, o->name) : -1;
        if (hi >= 0) {
            char fn[96], tmp[sizeof(o->why)];
            hint_func(h->name[hi], fn, sizeof(fn));
            o->score += hi < 2 ? 1.2 : 0.4;
            r->hinted = 1;
            memcpy(tmp, o->why, sizeof(tmp));
            snprintf(o->why, sizeof(o->why), "named in %s; %.*s", fn, (int)(sizeof(tmp) - 128),
                     tmp);
        }
    }
    qsort(all, na, sizeof(*all), ranked_cmp);

    /*
     * Allocations often hold a struct and more behind it (a request and
     * its command): for the best singles with strong evidence, the struct
     * whose evidence is best right behind them, laid out as types_field_at
     * lays "A+B".
     */
    size_t limit = object_size && object_size < nbytes ? object_size : nbytes;
    size_t nsingles = na;
    for (size_t i = 0, tried = 0; nbytes && i < nsingles && tried < RANK_EXTEND; i++) {
        struct ranked *a = &all[i];
        if (!a->strong)
            continue;
        tried++;
        double best = 0;
        size_t bj = 0, bstart = 0;
        int have = 0;
        for (size_t j = 0; j < nsingles; j++) {
            struct ranked *b = &all[j];
            if (is_list_head(t, b->n))
                continue; /* a bare list head says little about the rest */
            uint32_t al = ty_talign(t, b->n);
            size_t start = (a->c.size + al - 1) / al * al;
            if (start + b->c.size > limit)
                continue;
            struct evlist l = {0};
            eval_node(&c, b->n, start, NULL, &l, 0);
            double v = ev_total(&l);
            int strong = has_strong(&l);
            free(l.v);
            if (!strong)
                continue;
            if (!have || v > best || (v == best && strcmp(b->c.name, all[bj].c.name) < 0)) {
                best = v, bj = j, bstart = start, have = 1;
            }
        }
        if (!have || best < 2.5 ||
            strlen(a->c.name) + strlen(all[bj].c.name) + 2 > sizeof(a->c.name))
            continue;
        struct ranked *r = &all[na++];
        struct ranked *b = &all[bj];
        a->extended = 1;
        r->n = NULL;
        size_t la_ = strlen(a->c.name), lb_ = strlen(b->c.name);
        char nm[sizeof(r->c.name)];
        memcpy(nm, a->c.name, la_);
        nm[la_] = '+';
        memcpy(nm + la_ + 1, b->c.name, lb_ + 1);
        memcpy(r->c.name, nm, sizeof(nm));
        r->c.size = bstart + b->c.size;
        r->c.score = a->c.score + best;
        struct evlist la = {0}, lb = {0};
        eval_node(&c, a->n, 0, NULL, &la, 0);
        eval_node(&c, b->n, bstart, NULL, &lb, 0);
        why_append(r->c.why, sizeof(r->c.why), &la, 2);
        size_t wl = strlen(r->c.why);
        snprintf(r->c.why + wl, sizeof(r->c.why) - wl, "; %s at +0x%zx: ", b->c.name, bstart);
        why_append(r->c.why, sizeof(r->c.why), &lb, 3);
        free(la.v);
        free(lb.v);
    }

    /*
     * Without such evidence (a freed, poisoned object), the hints: a struct
     * the allocating or freeing functions name (request in alloc_request)
     * that leaves room in the object, followed by the struct whose name
     * shares the most words with those functions (scsi_cmnd: "scsi" in
     * scsi_end_request), when the two together fit the size class.
     */
    size_t lo = kernel_class_below(object_size);
    if (lo == (size_t)-1)
        lo = object_size / 2;
    for (size_t i = 0, tried = 0; h->n && object_size && i < nsingles && tried < RANK_EXTEND; i++) {
        struct ranked *a = &all[i];
        if (!a->hinted || a->extended || a->c.size > lo)
            continue;
        int ai = hint_names(h, a->c.name);
        if (ai < 0 || ai >= 2)
            continue; /* named by the allocating or freeing function only */
        tried++;
        int bestw = 0, bestf = MAX_HINTS;
        size_t bj = 0, bstart = 0;
        char bword[48] = "";
        for (size_t j = 0; j < nsingles; j++) {
            struct ranked *b = &all[j];
            if (b == a || is_list_head(t, b->n))
                continue;
            uint32_t al = ty_talign(t, b->n);
            size_t start = (a->c.size + al - 1) / al * al;
            size_t total = start + b->c.size;
            if (total <= lo || total > object_size)
                continue;
            int f;
            char word[48];
            int w = hint_words(h, b->c.name, a->c.name, &f, word, sizeof(word));
            if (!w)
                continue;
            /* the word nearest the hints' start (the allocating and freeing
               functions' callers), then the most words, then by name */
            if (!bestw || f < bestf || (f == bestf && w > bestw) ||
                (f == bestf && w == bestw && strcmp(b->c.name, all[bj].c.name) < 0)) {
                bestw = w, bestf = f, bj = j, bstart = start;
                ty_scopy(bword, sizeof(bword), word);
            }
        }
        if (!bestw || strlen(a->c.name) + strlen(all[bj].c.name) + 2 > sizeof(a->c.name))
            continue;
        const char *bhint = h->name[bestf];
        struct ranked *r = &all[na++];
        struct ranked *b = &all[bj];
        r->n = NULL;
        size_t la_ = strlen(a->c.name), lb_ = strlen(b->c.name);
        char nm[sizeof(r->c.name)];
        memcpy(nm, a->c.name, la_);
        nm[la_] = '+';
        memcpy(nm + la_ + 1, b->c.name, lb_ + 1);
        memcpy(r->c.name, nm, sizeof(nm));
        r->c.size = bstart + b->c.size;
        r->c.score = a->c.score + (bestw > 1 ? 0.8 : 0.5);
        char afn[96], bfn[96];
        hint_func(h->name[ai], afn, sizeof(afn));
        hint_func(bhint, bfn, sizeof(bfn));
        char whybuf[1024];
        snprintf(whybuf, sizeof(whybuf),
                 "%.40s named in %.40s, %.40s behind it at +0x%zx (\"%.20s\" in %.40s): 0x%zx "
                 "bytes together fit "
                 "a %zu-byte object",
                 a->c.name, afn, b->c.name, bstart, bword, bfn, r->c.size, object_size);
        ty_scopy(r->c.why, sizeof(r->c.why), whybuf);
    }
    free(h);
    qsort(all, na, sizeof(*all), ranked_cmp);

    /* one entry per name (a name defined twice keeps its best reading) */
    int k = 0;
    for (size_t i = 0; i < na && k < max; i++) {
        int seen = 0;
        for (int j = 0; j < k && !seen; j++)
            seen = !strcmp(out[j].name, all[i].c.name);
        if (!seen)
            out[k++] = all[i].c;
    }
    free(all);
    return k;
}

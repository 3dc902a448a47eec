/*
 * Struct layouts for `slabdbg explain`: which field lies at an offset of an
 * allocation, and which struct type an object most likely is.
 *
 * Both sources of type information are read with their libraries: DWARF
 * with elfutils' libdw, BTF with libbpf.  Each is turned, lazily and one type
 * at a time, into a small common model (struct tnode) on which the lookups
 * and the ranking work, so that they behave the same on both.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/types.h"

#ifdef HAVE_LIBDW
#include <dwarf.h>
#include <elfutils/libdw.h>
#endif
#ifdef HAVE_LIBBPF
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#endif

/* ---- the common model ---------------------------------------------------- */

enum tkind {
    TK_VOID,
    TK_INT,
    TK_FLOAT,
    TK_ENUM,
    TK_PTR,
    TK_STRUCT,
    TK_UNION,
    TK_ARRAY,
    TK_TYPEDEF,
    TK_CONST,
    TK_VOLATILE,
    TK_RESTRICT,
    TK_ATOMIC,
    TK_FUNC,
    TK_FWD, /* a struct or union declared, not defined, here */
    TK_OTHER,
};

struct tnode;

struct tmember {
    const char *name;   /* NULL for anonymous members and parameters */
    uint64_t bitoff;    /* from the start of the aggregate */
    uint32_t bitsize;   /* 0 unless a bit field */
    struct tnode *type; /* NULL: void */
};

struct tnode {
    const void *kdb; /* key: the Dwarf of the DIE (DWARF) or NULL (BTF) */
    uint64_t koff;   /* key: DIE offset or BTF type id */
    struct tnode *hnext;
    struct tnode *anext; /* every node, for freeing */
    int filled;
    int kind;
    int fwd_union; /* TK_FWD: of a union */
    const char *name;
    uint64_t size;
    int has_size;
    uint32_t align; /* 0: not known yet */
    int in_size, in_align;
    struct tnode *target; /* pointer, typedef, qualifier target; array
                             element; function return (NULL: void) */
    uint64_t nelems;
    int nmembers;
    struct tmember *members; /* struct/union members, function params */
    int variadic;
#ifdef HAVE_LIBDW
    Dwarf_Die die;
#endif
};

/* name -> node, for the struct/union tags and the typedef names */
struct nentry {
    const char *name;
    struct tnode *node;
    struct nentry *next;
};

struct nindex {
    struct nentry **b;
    size_t nb, n;
};

enum backend { BK_DWARF, BK_BTF };

struct types {
    int backend;
    char path[512];
    struct tnode **hb; /* key -> node */
    size_t hnb, hn;
    struct tnode *all;
    struct nindex tags, typedefs;
    /* candidates for ranking: named structs (or anonymous structs named
       by a typedef), with the name to show */
    struct cand {
        const char *name;
        struct tnode *node;
    } * cands;
    size_t ncands, capcands;
#ifdef HAVE_LIBDW
    int fd;
    Dwarf *dw;
#endif
#ifdef HAVE_LIBBPF
    struct btf *btf;
    struct btf *base_btf;
#endif
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Copies a string, truncated to the destination. */
static void scopy(char *dst, size_t len, const char *src)
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

static void *xcalloc(size_t n, size_t sz)
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
    struct tnode **b = xcalloc(nb, sizeof(*b));
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
__attribute__((unused)) static struct tnode *node_get(struct types *t, const void *db, uint64_t off,
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
    struct tnode *n = xcalloc(1, sizeof(*n));
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
__attribute__((unused)) static struct tnode *node_synthetic(struct types *t)
{
    struct tnode *n = xcalloc(1, sizeof(*n));
    n->filled = 1;
    n->anext = t->all;
    t->all = n;
    return n;
}

__attribute__((unused)) static void nindex_add(struct nindex *x, const char *name,
                                               struct tnode *node)
{
    if (x->n >= x->nb) {
        size_t nb = x->nb ? x->nb * 2 : 1024;
        struct nentry **b = xcalloc(nb, sizeof(*b));
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
    struct nentry *e = xcalloc(1, sizeof(*e));
    e->name = name;
    e->node = node;
    e->next = x->b[i];
    x->b[i] = e;
    x->n++;
}

static struct tnode *nindex_find(const struct nindex *x, const char *name)
{
    if (!x->nb)
        return NULL;
    for (struct nentry *e = x->b[hstr(name) & (x->nb - 1)]; e; e = e->next)
        if (!strcmp(e->name, name))
            return e->node;
    return NULL;
}

static void nindex_free(struct nindex *x)
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

__attribute__((unused)) static void add_cand(struct types *t, const char *name, struct tnode *node)
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

/* ---- DWARF ----------------------------------------------------------------- */

#ifdef HAVE_LIBDW
static struct tnode *dw_node(struct types *t, Dwarf_Die *die)
{
    int created;
    Dwarf *db = dwarf_cu_getdwarf(die->cu);
    struct tnode *n = node_get(t, db, dwarf_dieoffset(die), &created);
    if (created)
        n->die = *die;
    return n;
}

/* The node of a DIE's DW_AT_type, NULL for void. */
static struct tnode *dw_type_of(struct types *t, Dwarf_Die *die)
{
    Dwarf_Attribute a;
    Dwarf_Die td;
    if (!dwarf_attr_integrate(die, DW_AT_type, &a) || !dwarf_formref_die(&a, &td))
        return NULL;
    return dw_node(t, &td);
}

static int dw_udata(Dwarf_Die *die, unsigned at, uint64_t *v)
{
    Dwarf_Attribute a;
    Dwarf_Word w;
    if (!dwarf_attr_integrate(die, at, &a) || dwarf_formudata(&a, &w) != 0)
        return 0;
    *v = w;
    return 1;
}

static int dw_sdata(Dwarf_Die *die, unsigned at, int64_t *v)
{
    Dwarf_Attribute a;
    Dwarf_Sword w;
    if (!dwarf_attr_integrate(die, at, &a) || dwarf_formsdata(&a, &w) != 0)
        return 0;
    *v = w;
    return 1;
}

/* DW_AT_data_member_location: a constant, or (DWARF 2) an expression
 * DW_OP_plus_uconst N.  Union members have none: 0. */
static uint64_t dw_member_location(Dwarf_Die *die)
{
    Dwarf_Attribute a;
    if (!dwarf_attr_integrate(die, DW_AT_data_member_location, &a))
        return 0;
    Dwarf_Word w;
    unsigned form = dwarf_whatform(&a);
    if (form != DW_FORM_block && form != DW_FORM_block1 && form != DW_FORM_block2 &&
        form != DW_FORM_block4 && form != DW_FORM_exprloc && dwarf_formudata(&a, &w) == 0)
        return w;
    Dwarf_Op *ops;
    size_t nops;
    if (dwarf_getlocation(&a, &ops, &nops) == 0 && nops == 1 &&
        (ops[0].atom == DW_OP_plus_uconst || ops[0].atom == DW_OP_constu))
        return ops[0].number;
    return 0;
}

static void dw_fill(struct types *t, struct tnode *n)
{
    Dwarf_Die *die = &n->die;
    uint64_t v;
    n->name = dwarf_diename(die);
    if (dw_udata(die, DW_AT_byte_size, &v))
        n->size = v, n->has_size = 1;
    if (dw_udata(die, DW_AT_alignment, &v) && v && v < (1u << 30))
        n->align = (uint32_t)v;
    int tag = dwarf_tag(die);
    switch (tag) {
    case DW_TAG_base_type: {
        uint64_t enc = 0;
        dw_udata(die, DW_AT_encoding, &enc);
        n->kind = (enc == DW_ATE_float || enc == DW_ATE_complex_float) ? TK_FLOAT : TK_INT;
        break;
    }
    case DW_TAG_unspecified_type:
        n->kind = TK_VOID;
        break;
    case DW_TAG_enumeration_type:
        n->kind = TK_ENUM;
        n->target = dw_type_of(t, die);
        break;
    case DW_TAG_pointer_type:
    case DW_TAG_reference_type:
    case DW_TAG_rvalue_reference_type:
        n->kind = TK_PTR;
        n->target = dw_type_of(t, die);
        if (!n->has_size) {
            uint8_t asz = 8;
            Dwarf_Die cudie;
            dwarf_diecu(die, &cudie, &asz, NULL);
            n->size = asz ? asz : 8;
            n->has_size = 1;
        }
        break;
    case DW_TAG_typedef:
        n->kind = TK_TYPEDEF;
        n->target = dw_type_of(t, die);
        break;
    case DW_TAG_const_type:
    case DW_TAG_volatile_type:
    case DW_TAG_restrict_type:
    case DW_TAG_atomic_type:
    case DW_TAG_immutable_type:
        n->kind = tag == DW_TAG_const_type      ? TK_CONST
                  : tag == DW_TAG_volatile_type ? TK_VOLATILE
                  : tag == DW_TAG_atomic_type   ? TK_ATOMIC
                                                : TK_RESTRICT;
        n->target = dw_type_of(t, die);
        break;
    case DW_TAG_structure_type:
    case DW_TAG_class_type:
    case DW_TAG_union_type: {
        n->kind = tag == DW_TAG_union_type ? TK_UNION : TK_STRUCT;
        if (dwarf_hasattr_integrate(die, DW_AT_declaration) || !n->has_size) {
            n->kind = TK_FWD;
            n->fwd_union = tag == DW_TAG_union_type;
            break;
        }
        Dwarf_Die c;
        int cap = 0;
        if (dwarf_child(die, &c) != 0)
            break;
        do {
            int ct = dwarf_tag(&c);
            if (ct != DW_TAG_member && ct != DW_TAG_inheritance)
                continue;
            if (dwarf_hasattr(&c, DW_AT_external) || dwarf_hasattr(&c, DW_AT_declaration))
                continue; /* C++ static members */
            if (n->nmembers >= cap) {
                cap = cap ? cap * 2 : 8;
                n->members = realloc(n->members, (size_t)cap * sizeof(*n->members));
                if (!n->members) {
                    fprintf(stderr, "slabdbg: out of memory\n");
                    exit(2);
                }
            }
            struct tmember *m = &n->members[n->nmembers++];
            memset(m, 0, sizeof(*m));
            m->name = ct == DW_TAG_member ? dwarf_diename(&c) : NULL;
            m->type = dw_type_of(t, &c);
            uint64_t bsz = 0, dbo = 0, bo = 0, bytesz = 0;
            if (dw_udata(&c, DW_AT_bit_size, &bsz) && bsz) {
                m->bitsize = (uint32_t)bsz;
                if (dw_udata(&c, DW_AT_data_bit_offset, &dbo)) {
                    m->bitoff = dbo;
                } else {
                    /* DWARF 2/3: counted from the most significant bit of
                       a storage unit of DW_AT_byte_size bytes */
                    uint64_t loc = dw_member_location(&c);
                    int64_t sbo = 0;
                    if (!dw_udata(&c, DW_AT_byte_size, &bytesz) && m->type) {
                        Dwarf_Word w;
                        Dwarf_Die td = m->type->die;
                        if (dwarf_aggregate_size(&td, &w) == 0)
                            bytesz = w;
                    }
                    if (dw_sdata(&c, DW_AT_bit_offset, &sbo))
                        bo = (uint64_t)sbo;
                    m->bitoff = loc * 8 + bytesz * 8 - bo - bsz;
                }
            } else {
                m->bitoff = dw_member_location(&c) * 8;
            }
        } while (dwarf_siblingof(&c, &c) == 0);
        break;
    }
    case DW_TAG_array_type: {
        n->kind = TK_ARRAY;
        struct tnode *elem = dw_type_of(t, die);
        /* one node per dimension, outermost first */
        struct tnode *cur = n;
        Dwarf_Die c;
        int dims = 0;
        if (dwarf_child(die, &c) == 0) {
            do {
                int ct = dwarf_tag(&c);
                if (ct != DW_TAG_subrange_type && ct != DW_TAG_enumeration_type)
                    continue;
                uint64_t cnt = 0, ub = 0;
                int64_t lb = 0;
                if (dw_udata(&c, DW_AT_count, &cnt)) {
                } else if (dw_udata(&c, DW_AT_upper_bound, &ub)) {
                    dw_sdata(&c, DW_AT_lower_bound, &lb);
                    cnt = ub + 1 - (uint64_t)lb;
                    /* an upper bound of -1: a flexible array */
                    if (ub == UINT64_MAX || ub == UINT32_MAX)
                        cnt = 0;
                }
                if (dims++) {
                    struct tnode *inner = node_synthetic(t);
                    inner->kind = TK_ARRAY;
                    cur->target = inner;
                    cur = inner;
                }
                cur->nelems = cnt;
            } while (dwarf_siblingof(&c, &c) == 0);
        }
        cur->target = elem;
        n->has_size = 0; /* computed from the elements */
        break;
    }
    case DW_TAG_subroutine_type: {
        n->kind = TK_FUNC;
        n->target = dw_type_of(t, die);
        Dwarf_Die c;
        int cap = 0;
        if (dwarf_child(die, &c) != 0)
            break;
        do {
            int ct = dwarf_tag(&c);
            if (ct == DW_TAG_unspecified_parameters) {
                n->variadic = 1;
                continue;
            }
            if (ct != DW_TAG_formal_parameter)
                continue;
            if (n->nmembers >= cap) {
                cap = cap ? cap * 2 : 4;
                n->members = realloc(n->members, (size_t)cap * sizeof(*n->members));
                if (!n->members) {
                    fprintf(stderr, "slabdbg: out of memory\n");
                    exit(2);
                }
            }
            struct tmember *m = &n->members[n->nmembers++];
            memset(m, 0, sizeof(*m));
            m->type = dw_type_of(t, &c);
        } while (dwarf_siblingof(&c, &c) == 0);
        break;
    }
    default:
        n->kind = TK_OTHER;
        break;
    }
}

/* Indexes the named types at the top of every unit (and in namespaces). */
static void dw_index_children(struct types *t, Dwarf_Die *parent, int depth)
{
    Dwarf_Die c;
    if (dwarf_child(parent, &c) != 0)
        return;
    do {
        int tag = dwarf_tag(&c);
        if (tag == DW_TAG_namespace && depth < 8) {
            dw_index_children(t, &c, depth + 1);
            continue;
        }
        if (tag == DW_TAG_structure_type || tag == DW_TAG_class_type || tag == DW_TAG_union_type) {
            const char *name = dwarf_diename(&c);
            if (!name || dwarf_hasattr(&c, DW_AT_declaration) ||
                !dwarf_hasattr(&c, DW_AT_byte_size))
                continue;
            struct tnode *n = dw_node(t, &c);
            if (!nindex_find(&t->tags, name)) {
                nindex_add(&t->tags, name, n);
                if (tag != DW_TAG_union_type)
                    add_cand(t, name, n);
            }
        } else if (tag == DW_TAG_typedef) {
            const char *name = dwarf_diename(&c);
            if (!name || nindex_find(&t->typedefs, name))
                continue;
            struct tnode *n = dw_node(t, &c);
            nindex_add(&t->typedefs, name, n);
            /* typedef struct { ... } name; */
            Dwarf_Attribute a;
            Dwarf_Die td;
            if (dwarf_attr(&c, DW_AT_type, &a) && dwarf_formref_die(&a, &td) &&
                (dwarf_tag(&td) == DW_TAG_structure_type || dwarf_tag(&td) == DW_TAG_class_type) &&
                !dwarf_diename(&td) && dwarf_hasattr(&td, DW_AT_byte_size) &&
                !nindex_find(&t->tags, name))
                add_cand(t, name, dw_node(t, &td));
        }
    } while (dwarf_siblingof(&c, &c) == 0);
}

static int dw_open(struct types *t, const char *path, char *err, size_t errlen)
{
    t->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (t->fd < 0) {
        set_err(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    t->dw = dwarf_begin(t->fd, DWARF_C_READ);
    if (!t->dw) {
        set_err(err, errlen, "%s: no DWARF debug information (%s)", path, dwarf_errmsg(-1));
        return -1;
    }
    Dwarf_CU *cu = NULL;
    Dwarf_Die cudie, subdie;
    uint8_t unit_type;
    while (dwarf_get_units(t->dw, cu, &cu, NULL, &unit_type, &cudie, &subdie) == 0) {
        if (unit_type == DW_UT_skeleton || unit_type == DW_UT_split_compile)
            dw_index_children(t, &subdie, 0);
        dw_index_children(t, &cudie, 0);
    }
    if (!t->tags.n && !t->typedefs.n) {
        set_err(err, errlen, "%s: no struct types in its DWARF debug information", path);
        return -1;
    }
    t->backend = BK_DWARF;
    return 0;
}
#endif /* HAVE_LIBDW */

/* ---- BTF ------------------------------------------------------------------- */

#ifdef HAVE_LIBBPF
static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    (void)level, (void)fmt, (void)ap;
    return 0;
}

static struct tnode *btf_node(struct types *t, uint32_t id)
{
    if (!id)
        return NULL; /* void */
    int created;
    return node_get(t, NULL, id, &created);
}

static const char *btf_str(struct types *t, uint32_t off)
{
    const char *s = btf__name_by_offset(t->btf, off);
    return s && *s ? s : NULL;
}

static void btf_fill(struct types *t, struct tnode *n)
{
    uint32_t id = (uint32_t)n->koff;
    const struct btf_type *bt = btf__type_by_id(t->btf, id);
    if (!bt) {
        n->kind = TK_OTHER;
        return;
    }
    n->name = btf_str(t, bt->name_off);
    switch (btf_kind(bt)) {
    case BTF_KIND_INT:
    case BTF_KIND_FLOAT:
    case BTF_KIND_ENUM:
#ifdef BTF_KIND_ENUM64
    case BTF_KIND_ENUM64:
#endif
        n->kind = btf_kind(bt) == BTF_KIND_INT     ? TK_INT
                  : btf_kind(bt) == BTF_KIND_FLOAT ? TK_FLOAT
                                                   : TK_ENUM;
        n->size = bt->size;
        n->has_size = 1;
        break;
    case BTF_KIND_PTR:
        n->kind = TK_PTR;
        n->target = btf_node(t, bt->type);
        n->size = 8;
        n->has_size = 1;
        break;
    case BTF_KIND_ARRAY: {
        const struct btf_array *a = btf_array(bt);
        n->kind = TK_ARRAY;
        n->target = btf_node(t, a->type);
        n->nelems = a->nelems;
        break;
    }
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION: {
        n->kind = btf_kind(bt) == BTF_KIND_UNION ? TK_UNION : TK_STRUCT;
        n->size = bt->size;
        n->has_size = 1;
        int vlen = btf_vlen(bt);
        const struct btf_member *bm = btf_members(bt);
        n->members = xcalloc((size_t)vlen, sizeof(*n->members));
        for (int i = 0; i < vlen; i++) {
            struct tmember *m = &n->members[n->nmembers++];
            m->name = btf_str(t, bm[i].name_off);
            m->type = btf_node(t, bm[i].type);
            m->bitoff = btf_member_bit_offset(bt, (uint32_t)i);
            m->bitsize = btf_member_bitfield_size(bt, (uint32_t)i);
        }
        break;
    }
    case BTF_KIND_FWD:
        n->kind = TK_FWD;
        n->fwd_union = btf_kflag(bt);
        break;
    case BTF_KIND_TYPEDEF:
        n->kind = TK_TYPEDEF;
        n->target = btf_node(t, bt->type);
        break;
    case BTF_KIND_VOLATILE:
    case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT:
        n->kind = btf_kind(bt) == BTF_KIND_VOLATILE ? TK_VOLATILE
                  : btf_kind(bt) == BTF_KIND_CONST  ? TK_CONST
                                                    : TK_RESTRICT;
        n->target = btf_node(t, bt->type);
        break;
#ifdef BTF_KIND_TYPE_TAG
    case BTF_KIND_TYPE_TAG:
        /* an annotation (__user, __rcu): transparent */
        n->kind = TK_TYPEDEF;
        n->name = NULL;
        n->target = btf_node(t, bt->type);
        break;
#endif
    case BTF_KIND_FUNC_PROTO: {
        n->kind = TK_FUNC;
        n->target = btf_node(t, bt->type);
        int vlen = btf_vlen(bt);
        const struct btf_param *p = btf_params(bt);
        n->members = xcalloc((size_t)vlen, sizeof(*n->members));
        for (int i = 0; i < vlen; i++) {
            if (!p[i].type && i == vlen - 1) {
                n->variadic = 1;
                break;
            }
            n->members[n->nmembers++].type = btf_node(t, p[i].type);
        }
        break;
    }
    default:
        n->kind = TK_OTHER;
        break;
    }
    if (n->kind != TK_FWD && n->kind != TK_FUNC && n->kind != TK_OTHER) {
        libbpf_print_fn_t old = libbpf_set_print(quiet_print);
        int al = btf__align_of(t->btf, id);
        libbpf_set_print(old);
        if (al > 0)
            n->align = (uint32_t)al;
    }
}

static int btf_open(struct types *t, const char *path, char *err, size_t errlen, int elf_only)
{
    libbpf_print_fn_t old = libbpf_set_print(quiet_print);
    errno = 0;
    if (!elf_only && !strncmp(path, "/sys/kernel/btf/", 16) &&
        strcmp(path, "/sys/kernel/btf/vmlinux") != 0) {
        /* a module's BTF is split: on top of the kernel's */
        t->base_btf = btf__parse("/sys/kernel/btf/vmlinux", NULL);
        if (libbpf_get_error(t->base_btf))
            t->base_btf = NULL;
    }
    if (elf_only)
        t->btf = btf__parse_elf(path, NULL);
    else if (t->base_btf)
        t->btf = btf__parse_split(path, t->base_btf);
    else
        t->btf = btf__parse(path, NULL);
    int e = errno;
    libbpf_set_print(old);
    if (!t->btf || libbpf_get_error(t->btf)) {
        long le = t->btf ? libbpf_get_error(t->btf) : -(long)(e ? e : EINVAL);
        t->btf = NULL;
        if (access(path, R_OK) != 0)
            set_err(err, errlen, "cannot open %s: %s", path, strerror(errno));
        else
            set_err(err, errlen, "%s: no BTF type information (%s)", path,
                    strerror((int)(le < 0 ? -le : le)));
        return -1;
    }
    uint32_t cnt = btf__type_cnt(t->btf);
    for (uint32_t id = 1; id < cnt; id++) {
        const struct btf_type *bt = btf__type_by_id(t->btf, id);
        if (!bt)
            continue;
        int k = btf_kind(bt);
        const char *name = btf_str(t, bt->name_off);
        if (!name)
            continue;
        if (k == BTF_KIND_STRUCT || k == BTF_KIND_UNION) {
            if (nindex_find(&t->tags, name))
                continue;
            struct tnode *n = btf_node(t, id);
            nindex_add(&t->tags, name, n);
            if (k == BTF_KIND_STRUCT && bt->size)
                add_cand(t, name, n);
        } else if (k == BTF_KIND_TYPEDEF) {
            if (nindex_find(&t->typedefs, name))
                continue;
            nindex_add(&t->typedefs, name, btf_node(t, id));
            const struct btf_type *tt = btf__type_by_id(t->btf, bt->type);
            if (tt && btf_kind(tt) == BTF_KIND_STRUCT && !btf_str(t, tt->name_off) && tt->size &&
                !nindex_find(&t->tags, name))
                add_cand(t, name, btf_node(t, bt->type));
        }
    }
    if (!t->tags.n && !t->typedefs.n) {
        set_err(err, errlen, "%s: no struct types in its BTF", path);
        return -1;
    }
    t->backend = BK_BTF;
    return 0;
}
#endif /* HAVE_LIBBPF */

/* ---- open / close ---------------------------------------------------------- */

__attribute__((unused)) static struct types *types_new(const char *path)
{
    struct types *t = xcalloc(1, sizeof(*t));
    scopy(t->path, sizeof(t->path), path);
#ifdef HAVE_LIBDW
    t->fd = -1;
#endif
    return t;
}

struct types *types_open_elf(const char *path, char *err, size_t errlen)
{
#ifdef HAVE_LIBDW
    struct types *t = types_new(path);
    if (dw_open(t, path, err, errlen) == 0)
        return t;
    types_close(t);
#ifdef HAVE_LIBBPF
    /* no DWARF: a .BTF section (a kernel image) will do */
    char err2[256];
    t = types_new(path);
    if (btf_open(t, path, err2, sizeof(err2), 1) == 0)
        return t;
    types_close(t);
#endif
    return NULL;
#else
    (void)path;
    set_err(err, errlen, "built without libdw: --binary is not available");
    return NULL;
#endif
}

struct types *types_open_btf(const char *path, char *err, size_t errlen)
{
#ifdef HAVE_LIBBPF
    struct types *t = types_new(path);
    if (btf_open(t, path, err, errlen, 0) == 0)
        return t;
    types_close(t);
    return NULL;
#else
    (void)path;
    set_err(err, errlen, "built without libbpf: --btf is not available");
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
    nindex_free(&t->tags);
    nindex_free(&t->typedefs);
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

static struct tnode *F(struct types *t, struct tnode *n)
{
    (void)t;
    if (n && !n->filled) {
        n->filled = 1;
#ifdef HAVE_LIBDW
        if (t->backend == BK_DWARF)
            dw_fill(t, n);
#endif
#ifdef HAVE_LIBBPF
        if (t->backend == BK_BTF)
            btf_fill(t, n);
#endif
    }
    return n;
}

/* Through typedefs and qualifiers, and from a declaration to the
 * definition of the same name.  NULL: void. */
static struct tnode *peel(struct types *t, struct tnode *n)
{
    for (int guard = 0; n && guard < 64; guard++) {
        F(t, n);
        switch (n->kind) {
        case TK_TYPEDEF:
        case TK_CONST:
        case TK_VOLATILE:
        case TK_RESTRICT:
        case TK_ATOMIC:
            n = n->target;
            continue;
        case TK_FWD: {
            struct tnode *d = n->name ? nindex_find(&t->tags, n->name) : NULL;
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

static uint64_t tsize(struct types *t, struct tnode *n)
{
    if (!n)
        return 0;
    F(t, n);
    if (n->has_size)
        return n->size;
    if (n->in_size)
        return 0;
    n->in_size = 1;
    uint64_t s = 0;
    switch (n->kind) {
    case TK_ARRAY:
        s = n->nelems * tsize(t, n->target);
        break;
    case TK_TYPEDEF:
    case TK_CONST:
    case TK_VOLATILE:
    case TK_RESTRICT:
    case TK_ATOMIC:
    case TK_ENUM:
        s = tsize(t, n->target);
        if (n->kind == TK_ENUM && !n->target)
            s = 4;
        break;
    case TK_FWD: {
        struct tnode *d = peel(t, n);
        s = d && d != n ? tsize(t, d) : 0;
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

static uint32_t talign(struct types *t, struct tnode *n)
{
    if (!n)
        return 1;
    F(t, n);
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
        uint64_t s = tsize(t, n);
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
        a = talign(t, n->target);
        break;
    case TK_FWD: {
        struct tnode *d = peel(t, n);
        a = d && d != n ? talign(t, d) : 1;
        break;
    }
    case TK_STRUCT:
    case TK_UNION: {
        int packed = 0;
        for (int i = 0; i < n->nmembers; i++) {
            struct tmember *m = &n->members[i];
            uint32_t ma = talign(t, m->type);
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
    F(t, n);
    const char *sp = *inner ? " " : "";
    switch (n->kind) {
    case TK_PTR: {
        /* parenthesised when pointing at an array or a function spelt out,
           not at a typedef of one */
        struct tnode *p = n->target;
        while (p && F(t, p) &&
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
        struct tnode *tg = n->target ? F(t, n->target) : NULL;
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

static void tname(struct types *t, struct tnode *n, char *buf, size_t len)
{
    tname_decl(t, n, "", buf, len, 0);
}

/* The struct or union named by one part of a spec, NULL if none. */
static struct tnode *lookup_type(struct types *t, const char *name, char *shown, size_t shownlen)
{
    char buf[256];
    while (*name == ' ' || *name == '\t')
        name++;
    scopy(buf, sizeof(buf), name);
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
    scopy(shown, shownlen, nm);
    struct tnode *n = nindex_find(&t->tags, nm);
    if (!n && !tag_only)
        n = nindex_find(&t->typedefs, nm);
    n = peel(t, n);
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
    n = peel(t, n);
    size_t rel = off - base;
    if (depth > 32 || !n || (n->kind != TK_STRUCT && n->kind != TK_UNION && n->kind != TK_ARRAY)) {
        out->field_offset = base;
        out->field_size = (size_t)tsize(t, n);
        return 1;
    }
    if (n->kind == TK_ARRAY) {
        uint64_t es = tsize(t, n->target);
        if (!es) {
            out->field_offset = base;
            out->field_size = 0;
            return 1;
        }
        uint64_t idx = rel / es;
        path_append(out->path, sizeof(out->path), "[%" PRIu64 "]", idx);
        struct tnode *e = peel(t, n->target);
        size_t ebase = base + (size_t)(idx * es);
        if (e && (e->kind == TK_STRUCT || e->kind == TK_UNION || e->kind == TK_ARRAY))
            return descend(t, n->target, ebase, off, out, depth + 1);
        out->field_offset = ebase;
        out->field_size = (size_t)es;
        tname(t, n->target, out->field_type, sizeof(out->field_type));
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
            mend = mstart + tsize(t, m->type);
        if (rel < mstart || rel >= mend)
            continue;
        memcpy(out->path, saved, sizeof(saved));
        if (m->name)
            path_append(out->path, sizeof(out->path), ".%s", m->name);
        if (m->bitsize) {
            char tn[100];
            tname(t, m->type, tn, sizeof(tn));
            snprintf(out->field_type, sizeof(out->field_type), "%s:%u", tn, m->bitsize);
            out->field_offset = base + (size_t)mstart;
            out->field_size = (size_t)(mend - mstart);
            return 1;
        }
        struct tnode *mt = peel(t, m->type);
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
        tname(t, m->type, out->field_type, sizeof(out->field_type));
        return 1;
    }
    if (have_pad) {
        *out = pad;
        return 0;
    }
    /* padding of this aggregate: the hole around the byte */
    uint64_t hs = 0, he = tsize(t, n);
    for (int i = 0; i < n->nmembers; i++) {
        struct tmember *m = &n->members[i];
        uint64_t ms = m->bitoff / 8;
        uint64_t me = m->bitsize ? (m->bitoff + m->bitsize + 7) / 8 : ms + tsize(t, m->type);
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
        set_err(err, errlen, "no type information");
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
            set_err(err, errlen, "too many types in '%s'", spec);
            return -1;
        }
        char part[256];
        if (l >= sizeof(part))
            l = sizeof(part) - 1;
        memcpy(part, p, l);
        part[l] = 0;
        struct tnode *n = lookup_type(t, part, names[nparts], sizeof(names[nparts]));
        if (!names[nparts][0]) {
            set_err(err, errlen, "empty type name in '%s'", spec);
            return -1;
        }
        if (!n) {
            set_err(err, errlen,
                    "unknown type '%s': no struct, union or typedef of that name in %s",
                    names[nparts], t->path);
            return -1;
        }
        uint64_t sz = tsize(t, n);
        uint32_t al = talign(t, n);
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
        set_err(err, errlen, "offset 0x%zx is beyond %s (0x%zx bytes)", offset, joined, pos);
        return -1;
    }
    int i = nparts - 1;
    while (i > 0 && offset < starts[i])
        i--;
    scopy(out->type, sizeof(out->type), names[i]);
    out->type_start = starts[i];
    size_t end = starts[i] + (size_t)tsize(t, nodes[i]);
    if (offset >= end) {
        /* between this type and the next one's alignment */
        scopy(out->path, sizeof(out->path), names[i]);
        path_append(out->path, sizeof(out->path), "+0x%zx (padding)", offset - starts[i]);
        out->field_offset = end;
        out->field_size = (i + 1 < nparts ? starts[i + 1] : pos) - end;
        snprintf(out->field_type, sizeof(out->field_type), "padding");
        return 0;
    }
    scopy(out->path, sizeof(out->path), names[i]);
    struct tnode *n = peel(t, nodes[i]);
    if (n->kind == TK_STRUCT || n->kind == TK_UNION || n->kind == TK_ARRAY) {
        descend(t, n, starts[i], offset, out, 0);
    } else {
        out->field_offset = starts[i];
        out->field_size = (size_t)tsize(t, n);
        tname(t, nodes[i], out->field_type, sizeof(out->field_type));
    }
    return 0;
}

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
    n = peel(t, n);
    if (!n || n->kind != TK_STRUCT || n->nmembers != 2 || tsize(t, n) != 16)
        return 0;
    struct tmember *a = &n->members[0], *b = &n->members[1];
    if (!a->name || !b->name || strcmp(a->name, "next") || strcmp(b->name, "prev"))
        return 0;
    struct tnode *pa = peel(t, a->type), *pb = peel(t, b->type);
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
    struct tnode *target = peel(t, n->target);
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
    uint32_t al = target ? talign(t, target) : 1;
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
    struct tnode *n = peel(t, n0);
    if (!n || depth > 12 || l->leaves > 8192)
        return;
    uint64_t size = tsize(t, n);
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
        struct tnode *e = peel(t, n->target);
        uint64_t es = tsize(t, n->target);
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
            scopy(word, wordlen, w[j]);
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
    struct hints *h = xcalloc(1, sizeof(*h));
    hints_init(h, hint_names_in, nhints);
    if (object_size && nbytes > object_size)
        nbytes = object_size;
    if (!bytes)
        nbytes = 0;
    struct ranked *all = xcalloc(t->ncands + 2 * RANK_EXTEND, sizeof(*all));
    size_t na = 0;
    struct rank_ctx c = {t, bytes, nbytes, object_addr, func_name, ctx};
    for (size_t i = 0; i < t->ncands; i++) {
        struct tnode *n = peel(t, t->cands[i].node);
        if (!n || n->kind != TK_STRUCT)
            continue;
        size_t s = (size_t)tsize(t, n);
        if (!s || (object_size && s > object_size))
            continue;
        struct ranked *r = &all[na++];
        struct type_candidate *o = &r->c;
        r->n = n;
        scopy(o->name, sizeof(o->name), t->cands[i].name);
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
            scopy(o->why, sizeof(o->why), sdesc);
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
            uint32_t al = talign(t, b->n);
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
            uint32_t al = talign(t, b->n);
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
                scopy(bword, sizeof(bword), word);
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
        scopy(r->c.why, sizeof(r->c.why), whybuf);
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

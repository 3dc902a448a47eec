/*
 * The type reader's DWARF source: nodes filled from the DIEs of an ELF
 * file's debug information, read with elfutils' libdw.
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

#ifdef HAVE_LIBDW
static struct tnode *dw_node(struct types *t, Dwarf_Die *die)
{
    int created;
    Dwarf *db = dwarf_cu_getdwarf(die->cu);
    struct tnode *n = ty_node_get(t, db, dwarf_dieoffset(die), &created);
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

void ty_dw_fill(struct types *t, struct tnode *n)
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
                    struct tnode *inner = ty_node_synthetic(t);
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
            if (!ty_nindex_find(&t->tags, name)) {
                ty_nindex_add(&t->tags, name, n);
                if (tag != DW_TAG_union_type)
                    ty_add_cand(t, name, n);
            }
        } else if (tag == DW_TAG_typedef) {
            const char *name = dwarf_diename(&c);
            if (!name || ty_nindex_find(&t->typedefs, name))
                continue;
            struct tnode *n = dw_node(t, &c);
            ty_nindex_add(&t->typedefs, name, n);
            /* typedef struct { ... } name; */
            Dwarf_Attribute a;
            Dwarf_Die td;
            if (dwarf_attr(&c, DW_AT_type, &a) && dwarf_formref_die(&a, &td) &&
                (dwarf_tag(&td) == DW_TAG_structure_type || dwarf_tag(&td) == DW_TAG_class_type) &&
                !dwarf_diename(&td) && dwarf_hasattr(&td, DW_AT_byte_size) &&
                !ty_nindex_find(&t->tags, name))
                ty_add_cand(t, name, dw_node(t, &td));
        }
    } while (dwarf_siblingof(&c, &c) == 0);
}

int ty_dw_open(struct types *t, const char *path, char *err, size_t errlen)
{
    t->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (t->fd < 0) {
        ex_errf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    t->dw = dwarf_begin(t->fd, DWARF_C_READ);
    if (!t->dw) {
        ex_errf(err, errlen, "%s: no DWARF debug information (%s)", path, dwarf_errmsg(-1));
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
        ex_errf(err, errlen, "%s: no struct types in its DWARF debug information", path);
        return -1;
    }
    t->backend = BK_DWARF;
    return 0;
}
#endif /* HAVE_LIBDW */

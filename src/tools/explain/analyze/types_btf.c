/*
 * The type reader's BTF source: nodes filled from BTF type ids (raw BTF such
 * as /sys/kernel/btf/vmlinux, or an ELF .BTF section), read with libbpf.
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
    return ty_node_get(t, NULL, id, &created);
}

static const char *btf_str(struct types *t, uint32_t off)
{
    const char *s = btf__name_by_offset(t->btf, off);
    return s && *s ? s : NULL;
}

void ty_btf_fill(struct types *t, struct tnode *n)
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
        n->members = ty_xcalloc((size_t)vlen, sizeof(*n->members));
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
        n->members = ty_xcalloc((size_t)vlen, sizeof(*n->members));
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

int ty_btf_open(struct types *t, const char *path, char *err, size_t errlen, int elf_only)
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
            ex_errf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        else
            ex_errf(err, errlen, "%s: no BTF type information (%s)", path,
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
            if (ty_nindex_find(&t->tags, name))
                continue;
            struct tnode *n = btf_node(t, id);
            ty_nindex_add(&t->tags, name, n);
            if (k == BTF_KIND_STRUCT && bt->size)
                ty_add_cand(t, name, n);
        } else if (k == BTF_KIND_TYPEDEF) {
            if (ty_nindex_find(&t->typedefs, name))
                continue;
            ty_nindex_add(&t->typedefs, name, btf_node(t, id));
            const struct btf_type *tt = btf__type_by_id(t->btf, bt->type);
            if (tt && btf_kind(tt) == BTF_KIND_STRUCT && !btf_str(t, tt->name_off) && tt->size &&
                !ty_nindex_find(&t->tags, name))
                ty_add_cand(t, name, btf_node(t, bt->type));
        }
    }
    if (!t->tags.n && !t->typedefs.n) {
        ex_errf(err, errlen, "%s: no struct types in its BTF", path);
        return -1;
    }
    t->backend = BK_BTF;
    return 0;
}
#endif /* HAVE_LIBBPF */

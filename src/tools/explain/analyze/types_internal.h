/*
 * The inside of the type reader (types.c): the common model both sources
 * of type information are read into, one node per type, filled lazily, and
 * what the reader's files share.  types.c holds the model, opening and the
 * field lookups; types_dwarf.c and types_btf.c fill nodes from DWARF (libdw)
 * and BTF (libbpf); types_rank.c ranks candidate structs for an object.
 */
#ifndef SLABDBG_EXPLAIN_ANALYZE_TYPES_INTERNAL_H
#define SLABDBG_EXPLAIN_ANALYZE_TYPES_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "analyze/errmsg.h"
#include "analyze/types.h"

#ifdef HAVE_LIBDW
#include <dwarf.h>
#include <elfutils/libdw.h>
#endif
#ifdef HAVE_LIBBPF
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#endif

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

/* ---- the model (types.c) ---------------------------------------------------- */

void ty_scopy(char *dst, size_t len, const char *src);
void *ty_xcalloc(size_t n, size_t sz);
/* The node of a key, created unfilled when new. */
struct tnode *ty_node_get(struct types *t, const void *db, uint64_t off, int *created);
/* A node of our own (the inner dimensions of a multi-dimensional array). */
struct tnode *ty_node_synthetic(struct types *t);
void ty_nindex_add(struct nindex *x, const char *name, struct tnode *node);
struct tnode *ty_nindex_find(const struct nindex *x, const char *name);
void ty_nindex_free(struct nindex *x);
void ty_add_cand(struct types *t, const char *name, struct tnode *node);
/* A node with its kind, size, members and target read from its source. */
struct tnode *ty_fill(struct types *t, struct tnode *n);
/* Through typedefs and qualifiers, and from a declaration to the definition
 * of the same name.  NULL: void. */
struct tnode *ty_peel(struct types *t, struct tnode *n);
uint64_t ty_tsize(struct types *t, struct tnode *n);
uint32_t ty_talign(struct types *t, struct tnode *n);
void ty_tname(struct types *t, struct tnode *n, char *buf, size_t len);

/* ---- the sources ------------------------------------------------------------- */

#ifdef HAVE_LIBDW
void ty_dw_fill(struct types *t, struct tnode *n);
int ty_dw_open(struct types *t, const char *path, char *err, size_t errlen);
#endif
#ifdef HAVE_LIBBPF
void ty_btf_fill(struct types *t, struct tnode *n);
int ty_btf_open(struct types *t, const char *path, char *err, size_t errlen, int elf_only);
#endif

#endif

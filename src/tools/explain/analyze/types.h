/*
 * Struct layouts from DWARF (libdw) or BTF (libbpf): the field at an offset
 * of an object, and the types an object of some size and contents may have.
 */
#ifndef SLABDBG_EXPLAIN_ANALYZE_TYPES_H
#define SLABDBG_EXPLAIN_ANALYZE_TYPES_H

#include <stddef.h>
#include <stdint.h>

struct types;

/* Opens the type information of an ELF file with DWARF, or a BTF file (raw
 * BTF such as /sys/kernel/btf/vmlinux, or an ELF with a .BTF section).
 * NULL with a one-line message in err on failure. */
struct types *types_open_elf(const char *path, char *err, size_t errlen);
struct types *types_open_btf(const char *path, char *err, size_t errlen);
void types_close(struct types *t);

struct field_at {
    char type[128];        /* the struct the offset falls in */
    size_t type_start;     /* where that struct starts in the allocation */
    char path[512];        /* "scsi_cmnd.SCp.phase", arrays as "frags[2].page" */
    size_t field_offset;   /* the field's offset in the allocation */
    size_t field_size;
    char field_type[128];  /* "volatile int" */
};

/* The field at byte `offset` of an allocation laid out as `spec`: one struct
 * name ("request", "struct request" also accepted) or several joined by '+'
 * ("request+scsi_cmnd"), each starting where the previous one ends, rounded
 * up to its alignment.  0 on success; -1 with a message in err. */
int types_field_at(struct types *t, const char *spec, size_t offset, struct field_at *out,
                   char *err, size_t errlen);

struct type_candidate {
    char name[128];
    size_t size;
    double score; /* higher is better */
    char why[256];  /* one line: the evidence */
};

/* Resolves an address to a function name, or NULL (for ranking). */
typedef const char *(*func_name_fn)(uint64_t addr, void *ctx);

/* Ranks struct types as the type of an object of `object_size` bytes (a
 * kmalloc class: types that land in that class come first), and, when the
 * object's bytes are given (nbytes > 0, object at object_addr), by how well
 * they match: function-pointer fields holding function addresses, pointer
 * fields holding plausible pointers, list heads pointing at themselves.
 * Writes up to max candidates, best first; returns how many. */
int types_rank(struct types *t, size_t object_size, const uint8_t *bytes, size_t nbytes,
               uint64_t object_addr, func_name_fn func_name, void *ctx,
               struct type_candidate *out, int max);

/* types_rank helped by what the report says: hints are the names of the
 * functions that allocated and freed the object, most telling first (the
 * allocating and the freeing function, then the rest of their stacks;
 * "alloc_request_size+0x2b/0x70" is taken as alloc_request_size).  A struct
 * those names spell out ("request" in alloc_request) ranks higher, and, when
 * it leaves room in the object, "request+scsi_cmnd" is offered: the struct
 * behind it whose name shares the most words with the hints, if the two
 * together fit the size class.  Candidate names are specs for
 * types_field_at.  With no hints, types_rank. */
int types_rank_hinted(struct types *t, size_t object_size, const uint8_t *bytes, size_t nbytes,
                      uint64_t object_addr, func_name_fn func_name, void *ctx,
                      const char *const *hints, int nhints, struct type_candidate *out, int max);

#endif

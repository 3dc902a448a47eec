/*
 * Tests of src/tools/types.c: fields at offsets and type ranking, on DWARF
 * (the seed example and this program itself) and on BTF (a blob built here
 * with libbpf, pahole's output when pahole is installed, the running
 * kernel's when it has one).
 *
 *   test_tools_types dwarf SEED          the seed binary's DWARF, this program's
 *   test_tools_types btf-raw DIR         a BTF blob written to DIR
 *   test_tools_types btf-pahole SEED DIR PAHOLE   SEED's DWARF turned into BTF
 *   test_tools_types vmlinux             /sys/kernel/btf/vmlinux, when present
 *   test_tools_types nolibs              built without libdw and libbpf
 *
 * Exit 77: skipped.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze/types.h"
#include "scsi.h"
#include "testutil.h"

#ifdef HAVE_LIBBPF
#include <bpf/btf.h>
#endif

#define SKIP 77

/* ---- a layout the compiler knows, to check the DWARF reading against ------ */

struct frag {
    void *page;
    unsigned int off;
    unsigned short size; /* then 2 bytes of padding */
};

struct flagged {
    unsigned int kind : 3;
    unsigned int busy : 1;
    unsigned int count : 20;
    unsigned char tag;
    short level;
    char gap_before; /* then padding up to the union's alignment */
    union {
        uint64_t raw;
        struct {
            uint32_t lo, hi;
        } half;
    };
    struct frag frags[4];
    const volatile int cv;
    void (*cb)(int, ...);
    char name[3][5];
};

__attribute__((unused)) static struct flagged keep_flagged; /* so that its DWARF is emitted */

/* ---- functions for the ranking to recognise ------------------------------- */

static void fake_end_io(struct request *rq, int error)
{
    (void)rq, (void)error;
}

static void fake_scsi_done(struct scsi_cmnd *cmd)
{
    (void)cmd;
}

static void fake_timer_fn(void *p)
{
    (void)p;
}

static void fake_abort_handler(void *p)
{
    (void)p;
}

static const struct {
    void *addr;
    const char *name;
} functions[] = {
    {(void *)fake_end_io, "blk_end_sync_rq"},
    {(void *)fake_scsi_done, "scsi_done"},
    {(void *)fake_timer_fn, "delayed_work_timer_fn"},
    {(void *)fake_abort_handler, "scmd_eh_abort_handler"},
};

static int lookups;

static const char *func_name(uint64_t addr, void *ctx)
{
    (void)ctx;
    lookups++;
    for (size_t i = 0; i < sizeof(functions) / sizeof(*functions); i++)
        if ((uint64_t)(uintptr_t)functions[i].addr == addr)
            return functions[i].name;
    return NULL;
}

/* A live request and its command, as the block layer leaves them. */
static void fill_request(uint8_t *obj, void *queue)
{
    memset(obj, 0, 1024);
    struct request *rq = (struct request *)obj;
    rq->queuelist.next = rq->queuelist.prev = &rq->queuelist;
    rq->q = queue;
    rq->cpu = 1;
    rq->tag = 17;
    rq->data_len = 4096;
    rq->hash.next = rq->hash.prev = &rq->hash;
    rq->timeout_list.next = rq->timeout_list.prev = &rq->timeout_list;
    rq->end_io = fake_end_io;
    rq->timeout = 30000;
    struct scsi_cmnd *cmd = blk_mq_rq_to_pdu(rq);
    cmd->device = queue;
    cmd->list.next = cmd->list.prev = &cmd->list;
    cmd->eh_entry.next = cmd->eh_entry.prev = &cmd->eh_entry;
    cmd->abort_work.entry.next = cmd->abort_work.entry.prev = &cmd->abort_work.entry;
    cmd->abort_work.func = fake_abort_handler;
    cmd->abort_work.timer_fn = fake_timer_fn;
    cmd->abort_work.data = cmd;
    cmd->request = rq;
    cmd->scsi_done = fake_scsi_done;
    cmd->sense_buffer = (unsigned char *)(cmd + 1);
    cmd->cmd_len = 10;
    cmd->SCp.phase = 0x102;
}

/* ---- checks shared by the DWARF and BTF readings of the seed ---------------- */

static void check_field(struct types *t, const char *spec, size_t off, const char *path,
                        size_t foff, size_t fsize, const char *ftype, size_t tstart)
{
    struct field_at f;
    char err[256] = "";
    int r = types_field_at(t, spec, off, &f, err, sizeof(err));
    CHECK(r == 0, "%s at 0x%zx: %s", spec, off, err);
    if (r)
        return;
    CHECK(!strcmp(f.path, path), "%s at 0x%zx: path '%s', expected '%s'", spec, off, f.path, path);
    CHECK(f.field_offset == foff, "%s at 0x%zx: field offset 0x%zx, expected 0x%zx", spec, off,
          f.field_offset, foff);
    CHECK(f.field_size == fsize, "%s at 0x%zx: size %zu, expected %zu", spec, off, f.field_size,
          fsize);
    if (ftype)
        CHECK(!strcmp(f.field_type, ftype), "%s at 0x%zx: field type '%s', expected '%s'", spec,
              off, f.field_type, ftype);
    CHECK(f.type_start == tstart, "%s at 0x%zx: type start 0x%zx, expected 0x%zx", spec, off,
          f.type_start, tstart);
}

static void check_error(struct types *t, const char *spec, size_t off, const char *needle)
{
    struct field_at f;
    char err[256] = "";
    int r = types_field_at(t, spec, off, &f, err, sizeof(err));
    CHECK(r == -1, "%s at 0x%zx: no error (path %s)", spec, off, f.path);
    CHECK(strstr(err, needle) != NULL, "%s at 0x%zx: error '%s' does not say '%s'", spec, off, err,
          needle);
}

__attribute__((unused)) static void check_seed_fields(struct types *t, int full)
{
    check_field(t, "request+scsi_cmnd", 0x2c8, "scsi_cmnd.SCp.phase", 0x2c8, 4, "volatile int",
                0x148);
    check_field(t, "request+scsi_cmnd", 0x2cb, "scsi_cmnd.SCp.phase", 0x2c8, 4, NULL, 0x148);
    check_field(t, "request+scsi_cmnd", 0x10, "request.q", 0x10, 8, "void *", 0);
    check_field(t, "struct request + struct scsi_cmnd", 0x10, "request.q", 0x10, 8, NULL, 0);
    check_field(t, "struct request", 0x8, "request.queuelist.prev", 0x8, 8, "struct list_head *",
                0);
    check_field(t, "scsi_cmnd", 0x120, "scsi_cmnd.scsi_done", 0x120, 8,
                "void (*)(struct scsi_cmnd *)", 0);
    check_field(t, "request+scsi_cmnd", 0x148 + 0x110, "scsi_cmnd.request", 0x258, 8,
                "struct request *", 0x148);
    if (full) {
        check_field(t, "request", 0x140, "request.pad[96]", 0x140, 1, "uint8_t", 0);
        check_field(t, "request", 0xc8, "request.end_io", 0xc8, 8, "rq_end_io_fn *", 0);
        check_field(t, "request+scsi_cmnd", 0x148 + 0x30, "scsi_cmnd.abort_work.entry.prev", 0x178,
                    8, NULL, 0x148);
    }
    check_error(t, "request+scsi_cmnd", 0x400,
                "offset 0x400 is beyond request+scsi_cmnd (0x2e8 bytes)");
    check_error(t, "request+scsi_cmnd", 0x2e8, "beyond");
    check_error(t, "request+no_such_struct", 0, "no_such_struct");
    check_error(t, "", 0, "type");
}

__attribute__((unused)) static void check_rank(struct types *t, int full)
{
    static uint8_t obj[1024] __attribute__((aligned(64)));
    static uint8_t queue[256] __attribute__((aligned(64)));
    fill_request(obj, queue);
    struct type_candidate c[8];
    lookups = 0;
    int n = types_rank(t, sizeof(obj), obj, sizeof(obj), (uint64_t)(uintptr_t)obj, func_name, NULL,
                       c, 8);
    CHECK(n >= 2, "%d candidates", n);
    CHECK(lookups > 0, "func_name was never asked");
    for (int i = 0; i < n; i++)
        printf("  %d. %-20s 0x%-4zx %6.2f  %s\n", i + 1, c[i].name, c[i].size, c[i].score,
               c[i].why);
    if (n < 1)
        return;
    /* the request with its command behind it first, then the request alone
       before every other single struct */
    CHECK(!strcmp(c[0].name, "request+scsi_cmnd"), "first candidate '%s'", c[0].name);
    CHECK(c[0].size == 0x2e8, "%s size 0x%zx", c[0].name, c[0].size);
    CHECK(strstr(c[0].why, "blk_end_sync_rq at +0xc8"), "why: '%s'", c[0].why);
    CHECK(strstr(c[0].why, "empty list at +0x0"), "why: '%s'", c[0].why);
    CHECK(strstr(c[0].why, "scsi_done at +0x268"), "why: '%s'", c[0].why);
    CHECK(n >= 2 && !strcmp(c[1].name, "request"), "second candidate '%s'", c[1].name);
    CHECK(c[1].size == 0x148, "request size 0x%zx", c[1].size);
    CHECK(strstr(c[1].why, "blk_end_sync_rq at +0xc8") && strstr(c[1].why, "empty list at +0x0"),
          "why: '%s'", c[1].why);
    /* the best candidate is a spec for types_field_at */
    struct field_at f;
    char err[256] = "";
    CHECK(types_field_at(t, c[0].name, 0x2c8, &f, err, sizeof(err)) == 0 &&
              !strcmp(f.path, "scsi_cmnd.SCp.phase"),
          "field at 0x2c8 of %s: %s %s", c[0].name, f.path, err);
    for (int i = 1; i < n; i++)
        CHECK(c[i].score <= c[i - 1].score, "not ordered at %d", i);

    /* the command alone in a 512-byte object: its own evidence */
    static uint8_t cmdobj[512] __attribute__((aligned(64)));
    memset(cmdobj, 0, sizeof(cmdobj));
    memcpy(cmdobj, obj + sizeof(struct request), sizeof(struct scsi_cmnd));
    struct scsi_cmnd *cmd = (struct scsi_cmnd *)cmdobj;
    cmd->list.next = cmd->list.prev = &cmd->list;
    cmd->abort_work.entry.next = cmd->abort_work.entry.prev = &cmd->abort_work.entry;
    n = types_rank(t, sizeof(cmdobj), cmdobj, sizeof(cmdobj), (uint64_t)(uintptr_t)cmdobj,
                   func_name, NULL, c, 8);
    CHECK(n >= 1 && !strcmp(c[0].name, "scsi_cmnd"), "first candidate for the command: '%s'",
          n ? c[0].name : "");
    if (n >= 1) {
        CHECK(strstr(c[0].why, "scsi_done at +0x120"), "why: '%s'", c[0].why);
        if (full)
            CHECK(strstr(c[0].why, "delayed_work_timer_fn at +0x48"), "why: '%s'", c[0].why);
    }

    /* a freed, poisoned object: no evidence either way, size decides; the
       same input gives the same order */
    memset(obj, 0x6b, sizeof(obj));
    struct type_candidate a[8], b[8];
    int na = types_rank(t, 1024, obj, sizeof(obj), (uint64_t)(uintptr_t)obj, func_name, NULL, a, 8);
    int nb = types_rank(t, 1024, obj, sizeof(obj), (uint64_t)(uintptr_t)obj, func_name, NULL, b, 8);
    CHECK(na == nb && na > 0, "%d and %d candidates", na, nb);
    for (int i = 0; i < na && i < nb; i++)
        CHECK(!strcmp(a[i].name, b[i].name) && a[i].score == b[i].score, "order differs at %d", i);
    for (int i = 0; i < na; i++)
        CHECK(a[i].size <= 1024, "%s is 0x%zx bytes", a[i].name, a[i].size);

    /* the freed object again, with the functions of the report's stacks
       (allocating, freeing, then the freeing stack's callers): the struct
       they name, and behind it the one named like the callers */
    static const char *const hints[] = {"alloc_request+0x1d/0x80", "put_request+0x1b/0x30",
                                        "scsi_end_request+0x12/0x20", "scsi_done+0x12/0x20",
                                        "drv_intr_normal", "main"};
    na = types_rank_hinted(t, 1024, obj, sizeof(obj), (uint64_t)(uintptr_t)obj, func_name, NULL,
                           hints, 6, a, 8);
    for (int i = 0; i < na; i++)
        printf("  hinted %d. %-20s 0x%-4zx %6.2f  %s\n", i + 1, a[i].name, a[i].size, a[i].score,
               a[i].why);
    CHECK(na >= 2 && !strcmp(a[0].name, "request+scsi_cmnd"), "hinted first: '%s'",
          na ? a[0].name : "");
    CHECK(na >= 2 && strstr(a[0].why, "request named in alloc_request") &&
              strstr(a[0].why, "\"scsi\" in scsi_done"),
          "hinted why: '%s'", na ? a[0].why : "");
    CHECK(na >= 2 && !strcmp(a[1].name, "request") && strstr(a[1].why, "named in alloc_request"),
          "hinted second: '%s' '%s'", na > 1 ? a[1].name : "", na > 1 ? a[1].why : "");
    if (na >= 1) {
        struct field_at hf;
        CHECK(types_field_at(t, a[0].name, 0x2c8, &hf, err, sizeof(err)) == 0 &&
                  !strcmp(hf.path, "scsi_cmnd.SCp.phase"),
              "field at 0x2c8 of %s: %s", a[0].name, err);
    }
    /* no hints: as types_rank */
    na = types_rank_hinted(t, 1024, obj, sizeof(obj), (uint64_t)(uintptr_t)obj, func_name, NULL,
                           NULL, 0, b, 8);
    nb = types_rank(t, 1024, obj, sizeof(obj), (uint64_t)(uintptr_t)obj, func_name, NULL, a, 8);
    CHECK(na == nb, "%d and %d", na, nb);
    for (int i = 0; i < na && i < nb; i++)
        CHECK(!strcmp(a[i].name, b[i].name), "differs at %d", i);
    /* words of no meaning name nothing */
    static const char *const vague[] = {"kmalloc", "do_alloc", "main"};
    na = types_rank_hinted(t, 1024, obj, sizeof(obj), (uint64_t)(uintptr_t)obj, func_name, NULL,
                           vague, 3, a, 8);
    for (int i = 0; i < na; i++)
        CHECK(!strstr(a[i].why, "named in"), "%s: %s", a[i].name, a[i].why);

    /* sizes only */
    na = types_rank(t, 1024, NULL, 0, 0, NULL, NULL, a, 8);
    CHECK(na > 0, "no candidates by size");
    for (int i = 0; i < na; i++)
        CHECK(a[i].size <= 1024 && a[i].why[0], "%s: size 0x%zx, why '%s'", a[i].name, a[i].size,
              a[i].why);
    CHECK(types_rank(t, 1024, NULL, 0, 0, NULL, NULL, a, 0) == 0, "max 0");
}

/* ---- modes ---------------------------------------------------------------- */

static int mode_dwarf(const char *seed, const char *self)
{
#ifndef HAVE_LIBDW
    (void)seed, (void)self;
    fprintf(stderr, "built without libdw: skipped\n");
    return SKIP;
#else
    char err[256] = "";
    struct types *t = types_open_elf(seed, err, sizeof(err));
    REQUIRE(t, "open %s: %s", seed, err);
    check_seed_fields(t, 1);
    check_rank(t, 1);
    types_close(t);

    /* this program: layouts the compiler computed */
    t = types_open_elf(self, err, sizeof(err));
    REQUIRE(t, "open %s: %s", self, err);
    (void)keep_flagged;
    check_field(t, "flagged", 0, "flagged.kind", 0, 1, "unsigned int:3", 0);
    check_field(t, "flagged", 2, "flagged.count", 0, 3, "unsigned int:20", 0);
    check_field(t, "flagged", offsetof(struct flagged, tag), "flagged.tag",
                offsetof(struct flagged, tag), 1, "unsigned char", 0);
    check_field(t, "flagged", offsetof(struct flagged, level) + 1, "flagged.level",
                offsetof(struct flagged, level), 2, "short int", 0);
    char want[128];
    size_t gap = offsetof(struct flagged, gap_before) + 1;
    snprintf(want, sizeof(want), "flagged+0x%zx (padding)", gap);
    check_field(t, "flagged", gap, want, gap, offsetof(struct flagged, raw) - gap, "padding", 0);
    check_field(t, "flagged", offsetof(struct flagged, raw) + 4, "flagged.raw",
                offsetof(struct flagged, raw), 8, "uint64_t", 0);
    check_field(t, "flagged", offsetof(struct flagged, frags[2].off) + 1, "flagged.frags[2].off",
                offsetof(struct flagged, frags[2].off), 4, "unsigned int", 0);
    check_field(t, "flagged", offsetof(struct flagged, frags[3]) + 15,
                "flagged.frags[3]+0xf (padding)", offsetof(struct flagged, frags[3]) + 14, 2,
                "padding", 0);
    check_field(t, "flagged", offsetof(struct flagged, cv), "flagged.cv",
                offsetof(struct flagged, cv), 4, "const volatile int", 0);
    check_field(t, "flagged", offsetof(struct flagged, cb), "flagged.cb",
                offsetof(struct flagged, cb), 8, "void (*)(int, ...)", 0);
    check_field(t, "flagged", offsetof(struct flagged, name[2][1]), "flagged.name[2][1]",
                offsetof(struct flagged, name[2][1]), 1, "char", 0);
    /* two structs laid back to back with alignment: frag (16 bytes, 8-aligned)
       after flagged */
    size_t second = (sizeof(struct flagged) + 7) & ~(size_t)7;
    check_field(t, "flagged+frag", second + 8, "frag.off", second + 8, 4, NULL, second);
    check_field(t, "frag+flagged", 16 + offsetof(struct flagged, tag), "flagged.tag",
                16 + offsetof(struct flagged, tag), 1, NULL, 16);
    types_close(t);

    /* errors */
    t = types_open_elf("/nonexistent/binary", err, sizeof(err));
    CHECK(!t && strstr(err, "/nonexistent/binary"), "error: %s", err);
    return test_finish();
#endif
}

#ifdef HAVE_LIBBPF
/* A BTF blob shaped like the seed's structs (only some members, so that
 * there are holes), written with libbpf. */
static int write_btf(const char *file)
{
    struct btf *b = btf__new_empty();
    REQUIRE(b, "btf__new_empty");
    int t_int = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
    int t_uint = btf__add_int(b, "unsigned int", 4, 0);
    int t_char = btf__add_int(b, "char", 1, BTF_INT_SIGNED);
    int t_u8 = btf__add_int(b, "unsigned char", 1, 0);
    int t_u64 = btf__add_int(b, "long unsigned int", 8, 0);
    int t_uint8 = btf__add_typedef(b, "uint8_t", t_u8);
    int t_vptr = btf__add_ptr(b, 0);
    int t_cptr = btf__add_ptr(b, t_char);
    int t_vint = btf__add_volatile(b, t_int);
    int t_fwd_lh = btf__add_fwd(b, "list_head", BTF_FWD_STRUCT);
    int t_lhptr = btf__add_ptr(b, t_fwd_lh);
    int t_lh = btf__add_struct(b, "list_head", 16);
    btf__add_field(b, "next", t_lhptr, 0, 0);
    btf__add_field(b, "prev", t_lhptr, 64, 0);
    int t_fwd_rq = btf__add_fwd(b, "request", BTF_FWD_STRUCT);
    int t_rqptr = btf__add_ptr(b, t_fwd_rq);
    int t_endio_proto = btf__add_func_proto(b, 0);
    btf__add_func_param(b, "rq", t_rqptr);
    btf__add_func_param(b, "error", t_int);
    int t_endio = btf__add_typedef(b, "rq_end_io_fn", t_endio_proto);
    int t_endio_ptr = btf__add_ptr(b, t_endio);
    int t_pad = btf__add_array(b, t_int, t_uint8, 0x148 - 0xe0);
    int t_rq = btf__add_struct(b, "request", 0x148);
    btf__add_field(b, "queuelist", t_lh, 0, 0);
    btf__add_field(b, "q", t_vptr, 0x10 * 8, 0);
    btf__add_field(b, "cpu", t_int, 0x20 * 8, 0);
    btf__add_field(b, "cmd_flags", t_uint, 0x24 * 8, 0);
    btf__add_field(b, "hash", t_lh, 0x58 * 8, 0);
    btf__add_field(b, "timeout_list", t_lh, 0xb8 * 8, 0);
    btf__add_field(b, "end_io", t_endio_ptr, 0xc8 * 8, 0);
    btf__add_field(b, "pad", t_pad, 0xe0 * 8, 0);
    int t_fwd_cmd = btf__add_fwd(b, "scsi_cmnd", BTF_FWD_STRUCT);
    int t_cmdptr = btf__add_ptr(b, t_fwd_cmd);
    int t_done_proto = btf__add_func_proto(b, 0);
    btf__add_func_param(b, "cmd", t_cmdptr);
    int t_done_ptr = btf__add_ptr(b, t_done_proto);
    int t_scp = btf__add_struct(b, "scsi_pointer", 0x40);
    btf__add_field(b, "ptr", t_cptr, 0, 0);
    btf__add_field(b, "this_residual", t_int, 0x8 * 8, 0);
    btf__add_field(b, "buffer", t_vptr, 0x10 * 8, 0);
    btf__add_field(b, "dma_handle", t_u64, 0x20 * 8, 0);
    btf__add_field(b, "Status", t_vint, 0x28 * 8, 0);
    btf__add_field(b, "phase", t_vint, 0x38 * 8, 0);
    int t_bits = btf__add_struct(b, "bits", 8);
    btf__add_field(b, "kind", t_uint, 0, 3);
    btf__add_field(b, "busy", t_uint, 3, 1);
    btf__add_field(b, "count", t_uint, 8, 20);
    btf__add_field(b, "level", t_int, 32, 0);
    int t_cmd = btf__add_struct(b, "scsi_cmnd", 0x1a0);
    btf__add_field(b, "device", t_vptr, 0, 0);
    btf__add_field(b, "list", t_lh, 0x8 * 8, 0);
    btf__add_field(b, "eh_entry", t_lh, 0x18 * 8, 0);
    btf__add_field(b, "request", t_rqptr, 0x110 * 8, 0);
    btf__add_field(b, "scsi_done", t_done_ptr, 0x120 * 8, 0);
    btf__add_field(b, "SCp", t_scp, 0x148 * 8, 0);
    btf__add_field(b, "result", t_int, 0x190 * 8, 0);
    REQUIRE(t_rq > 0 && t_cmd > 0 && t_bits > 0, "building BTF: %d %d", t_rq, t_cmd);
    uint32_t size;
    const void *raw = btf__raw_data(b, &size);
    REQUIRE(raw, "btf__raw_data");
    FILE *f = fopen(file, "wb");
    REQUIRE(f, "create %s", file);
    REQUIRE(fwrite(raw, 1, size, f) == size && fclose(f) == 0, "write %s", file);
    btf__free(b);
    return 0;
}
#endif

static int mode_btf_raw(const char *dir)
{
#ifndef HAVE_LIBBPF
    (void)dir;
    fprintf(stderr, "built without libbpf: skipped\n");
    return SKIP;
#else
    char file[4096];
    snprintf(file, sizeof(file), "%s/seed-shaped.btf", dir);
    write_btf(file);
    char err[256] = "";
    struct types *t = types_open_btf(file, err, sizeof(err));
    REQUIRE(t, "open %s: %s", file, err);
    check_seed_fields(t, 0);
    check_field(t, "request", 0xc8, "request.end_io", 0xc8, 8, "rq_end_io_fn *", 0);
    check_field(t, "request", 0x140, "request.pad[96]", 0x140, 1, "uint8_t", 0);
    check_field(t, "request", 0x30, "request+0x30 (padding)", 0x28, 0x30, "padding", 0);
    check_field(t, "request+scsi_cmnd", 0x148 + 0x100, "scsi_cmnd+0x100 (padding)", 0x148 + 0x28,
                0x110 - 0x28, "padding", 0x148);
    check_field(t, "request+scsi_cmnd", 0x148 + 0x148 + 0x30, "scsi_cmnd.SCp+0x30 (padding)",
                0x148 + 0x148 + 0x2c, 0xc, "padding", 0x148);
    check_field(t, "bits", 0, "bits.kind", 0, 1, "unsigned int:3", 0);
    check_field(t, "bits", 2, "bits.count", 1, 3, "unsigned int:20", 0);
    check_field(t, "bits", 5, "bits.level", 4, 4, "int", 0);
    check_rank(t, 0);
    types_close(t);
    unlink(file);

    t = types_open_btf("/nonexistent/file.btf", err, sizeof(err));
    CHECK(!t && strstr(err, "/nonexistent/file.btf"), "error: %s", err);
    /* an ELF without BTF, and a file that is neither */
    t = types_open_btf("/proc/self/exe", err, sizeof(err));
    CHECK(!t && err[0], "no BTF in an ELF without it: %s", t ? "opened" : err);
    if (t)
        types_close(t);
    return test_finish();
#endif
}

static int mode_btf_pahole(const char *seed, const char *dir, const char *pahole)
{
#ifndef HAVE_LIBBPF
    (void)seed, (void)dir, (void)pahole;
    fprintf(stderr, "built without libbpf: skipped\n");
    return SKIP;
#else
    if (!pahole || !*pahole || access(pahole, X_OK) != 0) {
        fprintf(stderr, "pahole not installed (package dwarves): skipped\n");
        return SKIP;
    }
    char file[4096], cmd[12288];
    snprintf(file, sizeof(file), "%s/seed-with-btf", dir);
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && '%s' -J '%s'", seed, file, pahole, file);
    REQUIRE(system(cmd) == 0, "%s failed", cmd);
    char err[256] = "";
    struct types *t = types_open_btf(file, err, sizeof(err));
    REQUIRE(t, "open %s: %s", file, err);
    check_seed_fields(t, 1);
    check_rank(t, 1);
    types_close(t);
    unlink(file);
    return test_finish();
#endif
}

static int mode_vmlinux(void)
{
#ifndef HAVE_LIBBPF
    fprintf(stderr, "built without libbpf: skipped\n");
    return SKIP;
#else
    const char *file = "/sys/kernel/btf/vmlinux";
    if (access(file, R_OK) != 0) {
        fprintf(stderr, "%s: not present, skipped\n", file);
        return SKIP;
    }
    char err[256] = "";
    struct types *t = types_open_btf(file, err, sizeof(err));
    REQUIRE(t, "open %s: %s", file, err);
    struct field_at f;
    /* list_head has been {next, prev} for ever */
    CHECK(types_field_at(t, "list_head", 8, &f, err, sizeof(err)) == 0 &&
              !strcmp(f.path, "list_head.prev") && f.field_size == 8,
          "list_head at 8: %s %s", f.path, err);
    CHECK(types_field_at(t, "sk_buff", 0, &f, err, sizeof(err)) == 0, "sk_buff: %s", err);
    struct type_candidate c[4];
    CHECK(types_rank(t, 1024, NULL, 0, 0, NULL, NULL, c, 4) == 4, "ranking vmlinux types");
    types_close(t);
    return test_finish();
#endif
}

static int mode_nolibs(void)
{
    char err[256] = "";
    struct types *t = types_open_elf("/proc/self/exe", err, sizeof(err));
    CHECK(!t, "opened without libdw");
    CHECK(strstr(err, "built without libdw") && strstr(err, "--binary"), "message: %s", err);
    t = types_open_btf("/sys/kernel/btf/vmlinux", err, sizeof(err));
    CHECK(!t, "opened without libbpf");
    CHECK(strstr(err, "built without libbpf") && strstr(err, "--btf"), "message: %s", err);
    return test_finish();
}

int main(int argc, char **argv)
{
    test_name = "tools.types";
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "dwarf") && argc > 2)
        return mode_dwarf(argv[2], argv[0]);
    if (!strcmp(mode, "btf-raw") && argc > 2)
        return mode_btf_raw(argv[2]);
    if (!strcmp(mode, "btf-pahole") && argc > 3)
        return mode_btf_pahole(argv[2], argv[3], argc > 4 ? argv[4] : NULL);
    if (!strcmp(mode, "vmlinux"))
        return mode_vmlinux();
    if (!strcmp(mode, "nolibs"))
        return mode_nolibs();
    fprintf(stderr,
            "usage: %s dwarf SEED | btf-raw DIR | btf-pahole SEED DIR PAHOLE | vmlinux | "
            "nolibs\n",
            argv[0]);
    return 2;
}

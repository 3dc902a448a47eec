/*
 * The explain parsers, field by field, on the fixtures (the seed
 * incident's logs, other kernel vintages, our guard reports in text and
 * JSON), the line cleaner and the frame parser, plus a replay of the
 * fuzzing corpus: every input there must be read and analysed without a
 * crash or hang.
 *
 *   explain_parse_test FIXTURES_DIR CORPUS_DIR
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "analyze/analyze.h"
#include "model.h"
#include "parse/parse.h"
#include "print/print.h"

static int failures;
static const char *current = "";
static const char *fixtures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s: check failed: %s\n", __FILE__, __LINE__, current, #cond);  \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        if (strcmp((a), (b))) {                                                                    \
            fprintf(stderr, "%s:%d: %s: \"%s\" != \"%s\"\n", __FILE__, __LINE__, current, (a),     \
                    (b));                                                                          \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static struct ex_model *m;

static void parse_buffer(const char *data, size_t size)
{
    ex_model_free(m);
    m = ex_model_new();
    if (!m) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    ex_read_buffer(m, data, size, current);
}

static void parse_string(const char *name, const char *s)
{
    current = name;
    parse_buffer(s, strlen(s));
}

static char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, k;
    char *buf = malloc(cap);
    while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    *size = n;
    return buf;
}

static int parse_fixture(const char *name)
{
    char path[4096];
    size_t size;
    current = name;
    snprintf(path, sizeof(path), "%s/%s", fixtures, name);
    char *data = slurp(path, &size);
    if (!data) {
        fprintf(stderr, "cannot read %s\n", path);
        failures++;
        return -1;
    }
    parse_buffer(data, size);
    free(data);
    return 0;
}

static const char *finder(const struct ex_report *r)
{
    const struct ex_frame *f = ex_first_user_frame(&r->trace);
    return f ? f->func : "";
}

/* The seed's stray write, wherever a report shows it. */
static void check_stray_0x106(const struct ex_report *r)
{
    struct ex_stray s;
    CHECK(ex_stray(r, 0, &s));
    CHECK(s.off == 0x2c8);
    CHECK(s.length == 4);
    CHECK(s.nknown == 4);
    CHECK(s.has_word && s.width == 4 && s.word == 0x106);
}

static void test_seed_slub(void)
{
    if (parse_fixture("slub-poison-overwritten.log"))
        return;
    CHECK(m->nreports == 1 && m->noopses == 0 && m->ndumps == 0);
    if (m->nreports != 1)
        return;
    const struct ex_report *r = &m->reports[0];
    CHECK(r->src.format == FMT_SLUB);
    CHECK_STR(r->kind, "poison_overwritten");
    CHECK(r->cls == CLS_CORRUPTION);
    CHECK_STR(r->cache, "kmalloc-1024");
    CHECK_STR(r->reason, "Poison overwritten");
    CHECK(r->origin == ORIGIN_KERNEL);
    CHECK(r->has_object && r->object == 0xffff956178460008ull);
    CHECK(r->has_object_size && r->object_size == 1024);
    CHECK(r->slub.nfaults == 1);
    const struct ex_fault *f = &r->slub.faults[0];
    CHECK(f->has_range && f->start == 0xffff9561784602d0ull && f->end == 0xffff9561784602d3ull);
    CHECK(f->has_first && f->first == 0x06 && f->expected == 0x6b);
    check_stray_0x106(r);
    CHECK(r->missing & HEXDUMP_GAPS);
    CHECK(!(r->missing & (MISS_HEADER | MISS_TRACKS | MISS_OBJECT | MISS_FIX)));
    CHECK_STR(r->alloc.caller.func, "alloc_request_size");
    CHECK(r->alloc.caller.off == 0x2b && r->alloc.caller.size == 0x70);
    CHECK(r->alloc.has_age && r->alloc.age == 36 && r->alloc.cpu == 1 && r->alloc.pid == 3011);
    CHECK(r->alloc.stack.n == 11);
    CHECK_STR(r->free.caller.func, "__blk_put_request");
    CHECK(r->free.age == 36 && r->free.cpu == 3 && r->free.pid == 0);
    CHECK(r->free.stack.n == 8);
    CHECK(r->slub.has_slab && r->slub.slab == 0xffffdf1680e11800ull && r->slub.objects == 24 &&
          r->slub.used == 24);
    CHECK(r->has_task && r->cpu == 0 && r->pid == 0);
    CHECK_STR(r->comm, "swapper/0");
    CHECK_STR(finder(r), "pskb_expand_head");
    CHECK(r->slub.nfix == 2);
    uint8_t b;
    CHECK(ex_slub_byte(r, -8, &b) && b == 0xbb);   /* left red zone */
    CHECK(ex_slub_byte(r, 1023, &b) && b == 0xa5); /* end of poison */
    CHECK(!ex_slub_byte(r, 0x100, &b));            /* elided */
}

static void test_vintages(void)
{
    if (!parse_fixture("slub-5.15-dmesg.log") && m->nreports == 1) {
        const struct ex_report *r = &m->reports[0];
        CHECK_STR(r->kind, "poison_overwritten");
        CHECK(r->slub.faults[0].has_slab_off && r->slub.faults[0].slab_off == 0x2d0);
        check_stray_0x106(r);
        CHECK_STR(finder(r), "pskb_expand_head");
        CHECK(r->origin == ORIGIN_KERNEL);
    } else {
        CHECK(!"slub-5.15-dmesg.log: one report");
    }
    if (!parse_fixture("slub-5.13-hashed.log") && m->nreports == 1) {
        const struct ex_report *r = &m->reports[0];
        CHECK(r->hashed && r->slub.bytes_positional);
        CHECK(r->slub.faults[0].has_obj_off && !strcmp(r->slub.faults[0].off_source, "@offset"));
        check_stray_0x106(r);
        CHECK(r->object_size == 1024);
        CHECK_STR(r->alloc.caller.module, "mydrv");
        CHECK_STR(finder(r), "other_user");
    } else {
        CHECK(!"slub-5.13-hashed.log: one report");
    }
    if (!parse_fixture("slub-2025-syslog.log") && m->nreports == 1) {
        const struct ex_report *r = &m->reports[0];
        CHECK_STR(r->reason, "Object corrupt");
        CHECK_STR(r->kind, "poison_overwritten");
        CHECK_STR(r->slub.faults[0].what, "Poison");
        CHECK(!(r->missing & MISS_HEADER));
        check_stray_0x106(r);
        CHECK(r->has_task && r->pid == 123);
        CHECK(r->slub.nfix == 1);
    } else {
        CHECK(!"slub-2025-syslog.log: one report");
    }
    if (!parse_fixture("slub-truncated.log") && m->nreports == 1) {
        const struct ex_report *r = &m->reports[0];
        CHECK(r->missing & MISS_OBJECT);
        CHECK(r->missing & MISS_FIX);
        CHECK(r->slub.faults[0].has_range && !r->slub.faults[0].has_obj_off);
        CHECK_STR(r->alloc.caller.func, "alloc_request_size");
    } else {
        CHECK(!"slub-truncated.log: one report");
    }
    if (!parse_fixture("garbage.txt"))
        CHECK(m->nreports == 0 && m->noopses == 0 && m->ndumps == 0 && m->nothers == 0);
}

static void test_oopses(void)
{
    uint64_t v;
    if (!parse_fixture("oops-null-deref-0x106.log") && m->noopses == 1) {
        CHECK(m->nreports == 0);
        const struct ex_oops *o = &m->oopses[0];
        CHECK(o->arch == ARCH_X86_64);
        CHECK_STR(o->kind, "NULL pointer dereference");
        CHECK(o->has_header_addr && o->header_addr == 0x106);
        CHECK(o->has_pc && !strcmp(o->pc.func, "skb_release_data") && o->pc.off == 0xa3 &&
              o->pc.size == 0x170);
        CHECK(ex_oops_reg(o, "RDI", &v) && v == 0x106);
        CHECK(ex_oops_reg(o, "r14", &v) && v == 0xffff9612a277cec0ull);
        CHECK(ex_oops_reg(o, "R8", &v) && v == 0);
        CHECK(ex_oops_reg(o, "CR2", &v) && v == 0x106);
        CHECK(o->has_task && o->cpu == 28 && o->pid == 180 && !strcmp(o->comm, "ksoftirqd/28"));
        CHECK(o->has_code && o->code_unit == 1 && o->code_mark >= 0 &&
              o->code_mark + 2 < o->ncode);
        if (o->code_mark >= 0 && o->code_mark + 2 < o->ncode)
            CHECK(o->code[o->code_mark] == 0x48 && o->code[o->code_mark + 1] == 0x8b &&
                  o->code[o->code_mark + 2] == 0x1f);
        CHECK(o->trace.n == 15);
        int unreliable = 0;
        for (int i = 0; i < o->trace.n; i++)
            unreliable += o->trace.f[i].unreliable;
        CHECK(unreliable == 6);
        CHECK_STR(o->trace.f[0].func, "skb_release_all");
        CHECK_STR(o->trace.f[2].module, "ixgbe");
    } else {
        CHECK(!"oops-null-deref-0x106.log: one oops");
    }
    if (!parse_fixture("oops-5.15-null-deref.log") && m->noopses == 1) {
        const struct ex_oops *o = &m->oopses[0];
        CHECK(o->header_addr == 0x106);
        CHECK_STR(o->access, "supervisor read access in kernel mode");
        CHECK(ex_oops_reg(o, "rdi", &v) && v == 0x106);
        CHECK(o->code_mark >= 0 && o->code[o->code_mark] == 0x48);
        CHECK_STR(o->trace.f[5].func, "skb_release_all");
        CHECK(o->trace.f[0].unreliable);
        /* the panic the oops caused is part of it, not another report */
        CHECK(m->nothers == 0);
        CHECK(!strncmp(o->panic, "Kernel panic - not syncing: Fatal exception", 43));
    } else {
        CHECK(!"oops-5.15-null-deref.log: one oops");
    }
    if (!parse_fixture("oops-gpf-poison.log") && m->noopses == 1) {
        CHECK_STR(m->oopses[0].kind, "general protection fault");
        CHECK(m->oopses[0].has_header_addr && m->oopses[0].header_addr == 0x6b6b6b6b6b6b6b6bull);
    } else {
        CHECK(!"oops-gpf-poison.log: one oops");
    }
    /* the seed example's own line, in user space */
    parse_string("user-space oops", "BUG: unable to handle page fault for address 0000000000000106\n"
                                    "RIP: 000055d0c0ffe732\n");
    CHECK(m->noopses == 1);
    if (m->noopses == 1) {
        CHECK(m->oopses[0].has_header_addr && m->oopses[0].header_addr == 0x106);
        CHECK(m->oopses[0].has_pc && m->oopses[0].pc.addr == 0x55d0c0ffe732ull &&
              m->oopses[0].user_space);
    }
    /* "kernel BUG at", then the invalid opcode it raises: one oops */
    parse_string("kernel BUG", "[ 1.0] kernel BUG at net/core/skbuff.c:104!\n"
                               "[ 1.0] invalid opcode: 0000 [#1] SMP\n"
                               "[ 1.0] RIP: 0010:skb_panic+0x4f/0x51\n"
                               "[ 1.0] Call Trace:\n"
                               "[ 1.0]  skb_put+0x4c/0x50\n");
    CHECK(m->noopses == 1);
    if (m->noopses == 1) {
        CHECK(m->oopses[0].has_bug_loc && m->oopses[0].bug_line == 104);
        CHECK_STR(m->oopses[0].bug_file, "net/core/skbuff.c");
        CHECK_STR(m->oopses[0].pc.func, "skb_panic");
    }
}

static void test_dump(void)
{
    if (!parse_fixture("crash-rd-kmalloc-1024-object.txt") && m->ndumps == 1) {
        CHECK(m->noopses == 0 && m->nreports == 0);
        const struct ex_dump *d = &m->dumps[0];
        CHECK(d->base == 0xffff9612a277cc00ull && d->word_size == 8 && d->count == 128);
        CHECK(d->nwords == 128 && d->dropped == 0);
        CHECK(d->words[0x2c8 / 8].known && d->words[0x2c8 / 8].value == 0x106);
        CHECK(d->words[0x1c0 / 8].value == 0xffffffffb4e2ff70ull);
        CHECK(d->words[0x78 / 8].value == d->base + 0x78);
    } else {
        CHECK(!"crash-rd-kmalloc-1024-object.txt: one dump");
    }
    parse_string("rd -s", "crash> rd -s ffff8800aa000000 4\n"
                          "ffff8800aa000000:  scsi_done        0000000000000106 \n"
                          "ffff8800aa000010:  ffff8800aa000010 ffff8800aa000010 \n");
    CHECK(m->ndumps == 1 && m->dumps[0].nwords == 4);
    if (m->ndumps == 1) {
        CHECK(!m->dumps[0].words[0].known && !strcmp(m->dumps[0].words[0].sym, "scsi_done"));
        CHECK(m->dumps[0].words[1].value == 0x106);
    }
    /* without a prompt, one hex row is not a dump */
    parse_string("stray row", "ffff8800aa000000:  0000000000000000 0000000000000106\n");
    CHECK(m->ndumps == 0);
}

static void test_json(void)
{
    const char *j =
        "{\"kind\":\"overwritten\",\"reason\":\"Poison overwritten\",\"cache\":\"kmalloc-1024\","
        "\"pid\":42,\"what\":\"Poison\",\"fault_start\":\"0x7f0000000308\",\"fault_end\":"
        "\"0x7f000000030b\",\"length\":4,\"first_byte\":6,\"expected\":107,\"offset\":712,"
        "\"object\":\"0x7f0000000040\",\"object_size\":1024,\"requested_size\":1000,"
        "\"signature\":\"abc\",\"host\":\"h\",\"program\":\"p\",\"time\":\"t\",\"extra\":{\"x\":[1]},"
        "\"alloc\":{\"function\":\"alloc_request+0x12/0xa2\",\"age_ms\":5,\"cpu\":1,\"pid\":42,"
        "\"stack\":[{\"pc\":\"0x55\",\"function\":\"alloc_request+0x12/0xa2\",\"where\":"
        "\"blk.c:10\"},{\"pc\":\"0x56\",\"function\":\"main+0x80/0x159\"}]},"
        "\"free\":{\"function\":\"put_request+0x18/0x1b\",\"age_ms\":3,\"cpu\":2,\"pid\":43,"
        "\"stack\":[]},\"found_by\":[{\"pc\":\"0x57\",\"function\":\"alloc_skb+0x36/0xab\"}]}";
    parse_string("json", j);
    CHECK(m->nreports == 1);
    if (m->nreports == 1) {
        const struct ex_report *r = &m->reports[0];
        CHECK(r->src.format == FMT_SLABDBG_JSON && r->origin == ORIGIN_SLABDBG);
        CHECK_STR(r->kind, "poison_overwritten");
        CHECK_STR(r->cache, "kmalloc-1024");
        CHECK(r->slub.faults[0].has_obj_off && r->slub.faults[0].obj_off == 0x2c8);
        CHECK(r->slub.faults[0].length == 4 && r->slub.faults[0].first == 6);
        CHECK(r->object == 0x7f0000000040ull && r->object_size == 1024 && r->requested == 1000);
        CHECK_STR(r->alloc.caller.func, "alloc_request");
        CHECK(r->alloc.age == 5 && r->alloc.cpu == 1 && r->alloc.pid == 42 &&
              r->alloc.stack.n == 2);
        CHECK_STR(r->alloc.stack.f[0].where, "blk.c:10");
        CHECK_STR(r->alloc.stack.f[1].func, "main");
        CHECK_STR(r->free.caller.func, "put_request");
        CHECK(r->trace.n == 1 && !strcmp(r->trace.f[0].func, "alloc_skb"));
        struct ex_stray s;
        CHECK(ex_stray(r, 0, &s) && s.off == 0x2c8 && s.nknown == 0 && !s.has_word);
    }

    /* cut short: what was read is kept, marked */
    char cut[200];
    snprintf(cut, sizeof(cut), "%.*s", 150, j);
    parse_string("json cut", cut);
    CHECK(m->nreports == 1 && (m->reports[0].missing & TRUNCATED));
    parse_string("json deep", "{\"cache\":\"x\",\"kind\":\"k\",\"a\":[[[[[[[[[[[[1]]]]]]]]]]]]}");
    CHECK(m->nreports <= 1);
    /* JSON that is not ours is not a report */
    parse_string("json other", "{\"name\":\"x\",\"version\":3}\n[1,2,3]\n");
    CHECK(m->nreports == 0);
}

/* Our guard reports (generated by slabdbg run on the seed), text and JSON. */
static void check_guard_seed(const struct ex_report *r, enum ex_format fmt)
{
    CHECK(r->src.format == fmt);
    CHECK(r->origin == ORIGIN_SLABDBG);
    CHECK_STR(r->kind, "use_after_free_write");
    CHECK(r->cls == CLS_USE_AFTER_FREE);
    CHECK(r->access == ACC_WRITE);
    CHECK(!r->has_access_size); /* the report does not state one */
    CHECK_STR(r->cache, "kmalloc-1024");
    CHECK(r->has_object && r->object == 0x7fd824003c00ull);
    CHECK(r->has_object_size && r->object_size == 1024);
    CHECK(r->has_addr && r->addr == 0x7fd824003ec8ull);
    CHECK(r->rel == REL_INSIDE && r->has_rel_dist && r->rel_dist == 0x2c8);
    CHECK_STR(r->region_state, "freed");
    CHECK_STR(r->alloc.caller.func, "alloc_request");
    CHECK_STR(r->free.caller.func, "put_request");
    CHECK(r->free.stack.n == 8);
    CHECK(r->has_trace && !strcmp(r->trace.f[0].func, "drv_fib_complete"));
    CHECK(r->has_where && !strcmp(r->where.func, "drv_fib_complete"));
}

static void test_guard(void)
{
    if (!parse_fixture("guard-seed-uaf.log") && m->nreports == 1) {
        check_guard_seed(&m->reports[0], FMT_SLABDBG_GUARD);
        CHECK(m->reports[0].has_task && m->reports[0].pid == 10475);
    } else {
        CHECK(!"guard-seed-uaf.log: one report");
    }
    if (!parse_fixture("guard-seed-uaf.json") && m->nreports == 1)
        check_guard_seed(&m->reports[0], FMT_SLABDBG_JSON);
    else
        CHECK(!"guard-seed-uaf.json: one report");
    /* the lines another version may add are passed over */
    parse_string("guard extra lines",
                 "BUG kmalloc-64 (Not tainted): out-of-bounds read in f+0x1/0x2\n"
                 "In plain words: f read 8 bytes past the end of a 64-byte object.\n"
                 "Access at 0x1048: object 0x1000 (64 bytes) 8 bytes right of its end\n"
                 "Signature: 1234abcd\n"
                 "Call Trace:\n"
                 " f+0x1/0x2 a.c:3\n");
    CHECK(m->nreports == 1);
    if (m->nreports == 1) {
        const struct ex_report *r = &m->reports[0];
        CHECK(r->access == ACC_READ && r->cls == CLS_OUT_OF_BOUNDS);
        CHECK(r->has_object && r->object == 0x1000 && r->object_size == 64);
        CHECK(r->rel == REL_RIGHT && r->rel_dist == 8);
    }
}

static void test_lines_and_frames(void)
{
    struct ex_line l;
    current = "lines";
    char a[] = "Jan 12 16:11:01 cvk126 kernel: [57117.948034]      __slab_alloc+0x1c/0x30\r\n";
    ex_clean_line(a, &l);
    CHECK_STR(l.text, "__slab_alloc+0x1c/0x30");
    CHECK(l.kernel && l.indented);
    char b[] = "<3>[ 1.000000] [  T123] BUG kmalloc-64 (Not tainted): Poison overwritten";
    ex_clean_line(b, &l);
    CHECK_STR(l.text, "BUG kmalloc-64 (Not tainted): Poison overwritten");
    CHECK_STR(l.stream, "T123");
    char c[] = "[Poison overwritten] 0x1-0x2 @offset=3. First byte 0x6 instead of 0x6b";
    ex_clean_line(c, &l);
    CHECK(l.text[0] == '[' && !l.kernel);
    char d[] = "[Mon Jan 12 16:11:01 2025] Call Trace:";
    ex_clean_line(d, &l);
    CHECK_STR(l.text, "Call Trace:");
    char e[] = "** 12 printk messages dropped ** [  100.000001] RIP: 0010:foo+0x1/0x2";
    ex_clean_line(e, &l);
    CHECK_STR(l.text, "RIP: 0010:foo+0x1/0x2");
    char f2[] = "> > [  100.000001] Call trace:";
    ex_clean_line(f2, &l);
    CHECK_STR(l.text, "Call trace:");

    current = "frames";
    struct ex_frame f;
    CHECK(ex_parse_frame(" [<ffffffff8155e0a3>] ? ixgbe_poll+0x7d7/0x14a0 [ixgbe]", &f));
    CHECK(f.has_addr && f.addr == 0xffffffff8155e0a3ull && f.unreliable);
    CHECK_STR(f.func, "ixgbe_poll");
    CHECK(f.off == 0x7d7 && f.size == 0x14a0);
    CHECK_STR(f.module, "ixgbe");
    CHECK(ex_parse_frame("put_request+0x18/0x1b /src/blk.c:24", &f));
    CHECK_STR(f.where, "/src/blk.c:24");
    CHECK(ex_parse_frame("__dump_stack lib/dump_stack.c:88 [inline]", &f));
    CHECK(f.inlined && !strcmp(f.func, "__dump_stack"));
    CHECK(ex_parse_frame("[<c0113fac>] (unwind_backtrace) from [<c010e71c>] (show_stack+0x10/0x14)",
                         &f));
    CHECK_STR(f.func, "unwind_backtrace");
    CHECK(ex_parse_frame("0x7f00deadbeef", &f) && f.has_addr && !f.func[0]);
    CHECK(!ex_parse_frame("RIP: 0010:cpuidle_enter_state+0xa2/0x2e0", &f));
    CHECK(!ex_parse_frame("Allocated in foo+0x1/0x2 age=1", &f));
    CHECK(ex_is_machinery_frame("__kmalloc_reserve.isra.43"));
    CHECK(ex_is_machinery_frame("___slab_alloc"));
    CHECK(ex_is_machinery_frame("kmem_cache_alloc_trace"));
    CHECK(ex_is_machinery_frame("malloc"));
    CHECK(!ex_is_machinery_frame("pskb_expand_head"));
    CHECK(!ex_is_machinery_frame("alloc_skb"));
    /* test functions named after what they test are not the allocator */
    CHECK(!ex_is_machinery_frame("kmalloc_oob_right"));
    CHECK(!ex_is_machinery_frame("test_kmalloc_aligned_oob_write"));
    char base[64];
    ex_base_name("check_bytes_and_report.cold", base, sizeof(base));
    CHECK_STR(base, "check_bytes_and_report");
}

/* Inputs kept from fuzzing (and every crash it found, minimised). */
static void replay_corpus(const char *dir)
{
    DIR *dp = opendir(dir);
    int n = 0;
    if (!dp) {
        fprintf(stderr, "cannot open corpus %s\n", dir);
        failures++;
        return;
    }
    struct dirent *de;
    struct ex_opts opts = {0};
    while ((de = readdir(dp))) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        size_t size;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        char *data = slurp(path, &size);
        if (!data)
            continue;
        current = de->d_name;
        parse_buffer(data, size);
        struct ex_analysis *an = ex_analyze(m, &opts);
        if (an) {
            /* both printers; the JSON must parse back */
            FILE *null = fopen("/dev/null", "w");
            if (null) {
                ex_print_text(null, an);
                fclose(null);
            }
            char *buf = NULL;
            size_t len = 0;
            FILE *mem = open_memstream(&buf, &len);
            if (mem) {
                CHECK(ex_print_json(mem, an) == 0);
                fclose(mem);
                json_object *back = json_tokener_parse(buf);
                CHECK(back != NULL);
                json_object_put(back);
                free(buf);
            }
        }
        ex_analysis_free(an);
        free(data);
        n++;
    }
    closedir(dp);
    printf("corpus: %d inputs replayed\n", n);
    current = "corpus";
    CHECK(n > 0);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s FIXTURES_DIR CORPUS_DIR\n", argv[0]);
        return 2;
    }
    fixtures = argv[1];
    test_seed_slub();
    test_vintages();
    test_oopses();
    test_dump();
    test_json();
    test_guard();
    test_lines_and_frames();
    replay_corpus(argv[2]);
    ex_model_free(m);
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    else
        printf("all parser checks passed\n");
    return failures ? 1 : 0;
}

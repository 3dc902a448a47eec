/*
 * The explain parsers, field by field, on the fixtures (the seed
 * incident's logs and the other kernel vintages), plus a replay of the
 * fuzzing corpus: every input there must parse without a crash or hang.
 *
 *   explain_parse_test FIXTURES_DIR CORPUS_DIR
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/oops_parse.h"
#include "tools/report_parse.h"

static int failures;

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

static const char *current = "";
static const char *fixtures;

#define MAXR 8
static struct slub_report reports[MAXR];
static struct oops oopses[4];
static struct crash_dump dumps[2];
static struct slub_parser sp;
static struct oops_parser op;

/* Feeds a whole file (or a buffer) to both parsers. */
static void parse_buffer(const char *data, size_t size)
{
    static char line[RP_LINE_MAX];
    slub_parser_init(&sp, reports, MAXR);
    oops_parser_init(&op, oopses, 4, dumps, 2);
    size_t i = 0;
    while (i < size) {
        size_t n = 0;
        while (i < size && data[i] != '\n') {
            if (n < sizeof(line) - 1)
                line[n++] = data[i];
            i++;
        }
        i++;
        line[n] = 0;
        slub_parser_line(&sp, line);
        oops_parser_line(&op, line);
    }
    slub_parser_finish(&sp);
    oops_parser_finish(&op);
}

static char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t k;
    while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
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

static const struct rp_frame *finder(const struct slub_report *r)
{
    for (int i = 0; i < r->nframes; i++)
        if (!r->frames[i].unreliable && !rp_is_allocator_frame(r->frames[i].func))
            return &r->frames[i];
    return NULL;
}

/* The seed's stray write, wherever a report shows it. */
static void check_stray_0x106(const struct slub_report *r)
{
    struct rp_stray s;
    CHECK(rp_stray(r, 0, &s));
    CHECK(s.off == 0x2c8);
    CHECK(s.length == 4);
    CHECK(s.nknown == 4);
    CHECK(s.has_word && s.width == 4 && s.word == 0x106);
}

static void test_seed_slub(void)
{
    if (parse_fixture("slub-poison-overwritten.log"))
        return;
    CHECK(sp.n == 1);
    const struct slub_report *r = &reports[0];
    CHECK_STR(r->kind, "poison_overwritten");
    CHECK_STR(r->cache, "kmalloc-1024");
    CHECK_STR(r->reason, "Poison overwritten");
    CHECK(r->origin == RP_ORIGIN_KERNEL);
    CHECK(r->has_object && r->object == 0xffff956178460008ull);
    CHECK(r->has_object_size && r->object_size == 1024);
    CHECK(r->nfaults == 1);
    CHECK(r->faults[0].has_range && r->faults[0].start == 0xffff9561784602d0ull &&
          r->faults[0].end == 0xffff9561784602d3ull);
    CHECK(r->faults[0].has_first && r->faults[0].first == 0x06 && r->faults[0].expected == 0x6b);
    check_stray_0x106(r);
    CHECK(r->missing & RP_HEXDUMP_GAPS);
    CHECK(!(r->missing & (RP_MISS_HEADER | RP_MISS_TRACKS | RP_MISS_OBJECT | RP_MISS_FIX)));
    CHECK_STR(r->alloc.caller.func, "alloc_request_size");
    CHECK(r->alloc.caller.off == 0x2b && r->alloc.caller.size == 0x70);
    CHECK(r->alloc.has_age && r->alloc.age == 36 && r->alloc.cpu == 1 && r->alloc.pid == 3011);
    CHECK(r->alloc.nframes == 11);
    CHECK_STR(r->free.caller.func, "__blk_put_request");
    CHECK(r->free.age == 36 && r->free.cpu == 3 && r->free.pid == 0);
    CHECK(r->free.nframes == 8);
    CHECK(r->has_slab && r->slab == 0xffffdf1680e11800ull && r->objects == 24 && r->used == 24);
    CHECK(r->has_finder_ctx && r->finder_cpu == 0 && r->finder_pid == 0);
    CHECK_STR(r->finder_comm, "swapper/0");
    const struct rp_frame *f = finder(r);
    CHECK(f && !strcmp(f->func, "pskb_expand_head"));
    CHECK(r->nfix == 2);
    uint8_t b;
    CHECK(rp_byte(r, -8, &b) && b == 0xbb);   /* left red zone */
    CHECK(rp_byte(r, 1023, &b) && b == 0xa5); /* end of poison */
    CHECK(!rp_byte(r, 0x100, &b));            /* elided */
    /* the register dump inside the SLUB report's trace is not an oops */
    CHECK(op.noopses == 0);
}

static void test_vintages(void)
{
    if (!parse_fixture("slub-5.15-dmesg.log")) {
        CHECK(sp.n == 1);
        CHECK_STR(reports[0].kind, "poison_overwritten");
        CHECK(reports[0].faults[0].has_slab_off && reports[0].faults[0].slab_off == 0x2d0);
        check_stray_0x106(&reports[0]);
        const struct rp_frame *f = finder(&reports[0]);
        CHECK(f && !strcmp(f->func, "pskb_expand_head"));
        CHECK(reports[0].origin == RP_ORIGIN_KERNEL);
    }
    if (!parse_fixture("slub-5.13-hashed.log")) {
        CHECK(sp.n == 1);
        const struct slub_report *r = &reports[0];
        CHECK(r->hashed && r->bytes_positional);
        CHECK(r->faults[0].has_obj_off && !strcmp(r->faults[0].off_source, "@offset"));
        check_stray_0x106(r);
        CHECK(r->object_size == 1024);
        CHECK_STR(r->alloc.caller.module, "mydrv");
        const struct rp_frame *f = finder(r);
        CHECK(f && !strcmp(f->func, "other_user"));
    }
    if (!parse_fixture("slub-2025-syslog.log")) {
        CHECK(sp.n == 1);
        const struct slub_report *r = &reports[0];
        CHECK_STR(r->reason, "Object corrupt");
        CHECK_STR(r->kind, "poison_overwritten");
        CHECK_STR(r->faults[0].what, "Poison");
        CHECK(!(r->missing & RP_MISS_HEADER));
        check_stray_0x106(r);
        CHECK(r->has_finder_ctx && r->finder_pid == 123);
        CHECK(r->nfix == 1);
    }
    if (!parse_fixture("slub-truncated.log")) {
        CHECK(sp.n == 1);
        const struct slub_report *r = &reports[0];
        CHECK(r->missing & RP_MISS_OBJECT);
        CHECK(r->missing & RP_MISS_FIX);
        CHECK(r->faults[0].has_range && !r->faults[0].has_obj_off);
        CHECK_STR(r->alloc.caller.func, "alloc_request_size");
    }
    if (!parse_fixture("garbage.txt")) {
        CHECK(sp.n == 0 && op.noopses == 0 && op.ndumps == 0);
    }
}

static void test_oopses(void)
{
    uint64_t v;
    if (!parse_fixture("oops-null-deref-0x106.log")) {
        CHECK(op.noopses == 1 && sp.n == 0);
        const struct oops *o = &oopses[0];
        CHECK_STR(o->kind, "NULL pointer dereference");
        CHECK(o->has_fault_addr && o->fault_addr == 0x106);
        CHECK(o->has_rip && !strcmp(o->rip.func, "skb_release_data") && o->rip.off == 0xa3 &&
              o->rip.size == 0x170);
        CHECK(oops_reg(o, "RDI", &v) && v == 0x106);
        CHECK(oops_reg(o, "r14", &v) && v == 0xffff9612a277cec0ull);
        CHECK(oops_reg(o, "R8", &v) && v == 0);
        CHECK(oops_reg(o, "CR2", &v) && v == 0x106);
        CHECK(o->has_task && o->cpu == 28 && o->pid == 180 && !strcmp(o->comm, "ksoftirqd/28"));
        CHECK(o->has_code && o->code_mark >= 0 && o->code_mark + 2 < o->ncode);
        if (o->code_mark >= 0 && o->code_mark + 2 < o->ncode)
            CHECK(o->code[o->code_mark] == 0x48 && o->code[o->code_mark + 1] == 0x8b &&
                  o->code[o->code_mark + 2] == 0x1f);
        CHECK(o->nframes == 15);
        int unreliable = 0;
        for (int i = 0; i < o->nframes; i++)
            unreliable += o->frames[i].unreliable;
        CHECK(unreliable == 6);
        CHECK_STR(o->frames[0].func, "skb_release_all");
        CHECK_STR(o->frames[2].module, "ixgbe");
    }
    if (!parse_fixture("oops-5.15-null-deref.log")) {
        CHECK(op.noopses == 1);
        const struct oops *o = &oopses[0];
        CHECK(o->fault_addr == 0x106);
        CHECK_STR(o->access, "supervisor read access in kernel mode");
        CHECK(oops_reg(o, "rdi", &v) && v == 0x106);
        CHECK(o->code_mark >= 0 && o->code[o->code_mark] == 0x48);
        CHECK_STR(o->frames[5].func, "skb_release_all");
        CHECK(o->frames[0].unreliable);
    }
    if (!parse_fixture("oops-gpf-poison.log")) {
        CHECK(op.noopses == 1);
        CHECK_STR(oopses[0].kind, "general protection fault");
        CHECK(oopses[0].fault_addr == 0x6b6b6b6b6b6b6b6bull);
        CHECK(!oops_canonical(oopses[0].fault_addr));
    }
    /* the seed example's own line, in user space */
    current = "user-space oops";
    const char *u = "BUG: unable to handle page fault for address 0000000000000106\n"
                    "RIP: 000055d0c0ffe732\n";
    parse_buffer(u, strlen(u));
    CHECK(op.noopses == 1 && oopses[0].fault_addr == 0x106);
    CHECK(oopses[0].has_rip && oopses[0].rip.addr == 0x55d0c0ffe732ull && oopses[0].user_space);
}

static void test_dump(void)
{
    if (parse_fixture("crash-rd-kmalloc-1024-object.txt"))
        return;
    CHECK(op.ndumps == 1 && op.noopses == 0 && sp.n == 0);
    const struct crash_dump *d = &dumps[0];
    CHECK(d->base == 0xffff9612a277cc00ull && d->word_size == 8 && d->count == 128);
    CHECK(d->nwords == 128 && d->dropped == 0);
    CHECK(d->words[0x2c8 / 8].known && d->words[0x2c8 / 8].value == 0x106);
    CHECK(d->words[0x1c0 / 8].value == 0xffffffffb4e2ff70ull);
    CHECK(d->words[0x78 / 8].value == d->base + 0x78);

    current = "rd -s";
    const char *s = "crash> rd -s ffff8800aa000000 4\n"
                    "ffff8800aa000000:  scsi_done        0000000000000106 \n"
                    "ffff8800aa000010:  ffff8800aa000010 ffff8800aa000010 \n";
    parse_buffer(s, strlen(s));
    CHECK(op.ndumps == 1 && dumps[0].nwords == 4);
    CHECK(!dumps[0].words[0].known && !strcmp(dumps[0].words[0].sym, "scsi_done"));
    CHECK(dumps[0].words[1].value == 0x106);
}

static void test_json(void)
{
    current = "json";
    const char *j =
        "{\"kind\":\"overwritten\",\"reason\":\"Poison overwritten\",\"cache\":\"kmalloc-1024\","
        "\"pid\":42,\"what\":\"Poison\",\"fault_start\":\"0x7f0000000308\",\"fault_end\":"
        "\"0x7f000000030b\",\"length\":4,\"first_byte\":6,\"expected\":107,\"offset\":712,"
        "\"object\":\"0x7f0000000040\",\"object_size\":1024,\"requested_size\":1000,"
        "\"alloc\":{\"function\":\"alloc_request+0x12/0xa2\",\"age_ms\":5,\"cpu\":1,\"pid\":42,"
        "\"stack\":[{\"pc\":\"0x55\",\"function\":\"alloc_request+0x12/0xa2\",\"where\":"
        "\"blk.c:10\"},{\"pc\":\"0x56\",\"function\":\"main+0x80/0x159\"}]},"
        "\"free\":{\"function\":\"put_request+0x18/0x1b\",\"age_ms\":3,\"cpu\":2,\"pid\":43,"
        "\"stack\":[]},\"found_by\":[{\"pc\":\"0x57\",\"function\":\"alloc_skb+0x36/0xab\"}]}";
    parse_buffer(j, strlen(j));
    CHECK(sp.n == 1);
    const struct slub_report *r = &reports[0];
    CHECK(r->from_json && r->origin == RP_ORIGIN_SLABDBG);
    CHECK_STR(r->kind, "poison_overwritten");
    CHECK_STR(r->cache, "kmalloc-1024");
    CHECK(r->faults[0].has_obj_off && r->faults[0].obj_off == 0x2c8);
    CHECK(r->faults[0].length == 4 && r->faults[0].first == 6);
    CHECK(r->object == 0x7f0000000040ull && r->object_size == 1024 && r->requested_size == 1000);
    CHECK_STR(r->alloc.caller.func, "alloc_request");
    CHECK(r->alloc.age == 5 && r->alloc.cpu == 1 && r->alloc.pid == 42 && r->alloc.nframes == 2);
    CHECK_STR(r->alloc.frames[0].where, "blk.c:10");
    CHECK_STR(r->alloc.frames[1].func, "main");
    CHECK_STR(r->free.caller.func, "put_request");
    CHECK(r->nframes == 1 && !strcmp(r->frames[0].func, "alloc_skb"));
    struct rp_stray s;
    CHECK(rp_stray(r, 0, &s) && s.off == 0x2c8 && s.nknown == 0 && !s.has_word);

    /* cut short: what was read is kept, marked */
    char cut[200];
    snprintf(cut, sizeof(cut), "%.*s", 150, j);
    parse_buffer(cut, strlen(cut));
    CHECK(sp.n == 1 && (reports[0].missing & RP_TRUNCATED));
    const char *deep = "{\"cache\":\"x\",\"kind\":\"k\",\"a\":[[[[[[[[[[[[1]]]]]]]]]]]]}";
    parse_buffer(deep, strlen(deep));
    CHECK(sp.n == 1 && (reports[0].missing & RP_TRUNCATED));
}

static void test_lines_and_frames(void)
{
    current = "lines";
    char a[] = "Jan 12 16:11:01 cvk126 kernel: [57117.948034]      __slab_alloc+0x1c/0x30\r\n";
    bool k, ind;
    char *s = rp_clean_line(a, &k, &ind);
    CHECK_STR(s, "__slab_alloc+0x1c/0x30");
    CHECK(k && ind);
    char b[] = "<3>[ 1.000000] [  T123] BUG kmalloc-64 (Not tainted): Poison overwritten";
    s = rp_clean_line(b, &k, &ind);
    CHECK_STR(s, "BUG kmalloc-64 (Not tainted): Poison overwritten");
    char c[] = "[Poison overwritten] 0x1-0x2 @offset=3. First byte 0x6 instead of 0x6b";
    s = rp_clean_line(c, &k, &ind);
    CHECK(s[0] == '[' && !k);
    char d[] = "[Mon Jan 12 16:11:01 2025] Call Trace:";
    s = rp_clean_line(d, &k, &ind);
    CHECK_STR(s, "Call Trace:");

    current = "frames";
    struct rp_frame f;
    CHECK(rp_parse_frame(" [<ffffffff8155e0a3>] ? ixgbe_poll+0x7d7/0x14a0 [ixgbe]", &f));
    CHECK(f.has_addr && f.addr == 0xffffffff8155e0a3ull && f.unreliable);
    CHECK_STR(f.func, "ixgbe_poll");
    CHECK(f.off == 0x7d7 && f.size == 0x14a0);
    CHECK_STR(f.module, "ixgbe");
    CHECK(rp_parse_frame("put_request+0x18/0x1b /src/blk.c:24", &f));
    CHECK_STR(f.where, "/src/blk.c:24");
    CHECK(rp_parse_frame("0x7f00deadbeef", &f) && f.has_addr && !f.func[0]);
    CHECK(!rp_parse_frame("RIP: 0010:cpuidle_enter_state+0xa2/0x2e0", &f));
    CHECK(!rp_parse_frame("Allocated in foo+0x1/0x2 age=1", &f));
    CHECK(rp_is_allocator_frame("__kmalloc_reserve.isra.43"));
    CHECK(rp_is_allocator_frame("___slab_alloc"));
    CHECK(rp_is_allocator_frame("malloc"));
    CHECK(!rp_is_allocator_frame("pskb_expand_head"));
    CHECK(!rp_is_allocator_frame("alloc_skb"));
    char base[64];
    rp_base_name("check_bytes_and_report.cold", base, sizeof(base));
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
        for (int r = 0; r < sp.n; r++) {
            struct rp_stray s;
            for (int i = 0; i < reports[r].nfaults; i++)
                rp_stray(&reports[r], i, &s);
        }
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
    test_lines_and_frames();
    replay_corpus(argv[2]);
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    else
        printf("all parser checks passed\n");
    return failures ? 1 : 0;
}

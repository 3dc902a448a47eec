/*
 * src/common/signature.h: the FNV-1a vectors, the reduction of frames to
 * function names, the choice of stack by kind, and the documented example.
 * Built with -std=c17 -pedantic -Werror, as the library would include it.
 */
#include <stdio.h>
#include <string.h>

#include "common/signature.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                            \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void function_is(const char *frame, const char *want)
{
    const char *b, *e;
    slabdbg_sig_function(frame, &b, &e);
    char got[256];
    size_t n = (size_t)(e - b) < sizeof(got) - 1 ? (size_t)(e - b) : sizeof(got) - 1;
    memcpy(got, b, n);
    got[n] = 0;
    CHECK(!strcmp(got, want), "function of '%s' is '%s', expected '%s'", frame ? frame : "(null)",
          got, want);
}

static uint64_t fnv(const char *s)
{
    return slabdbg_fnv1a_str(SLABDBG_FNV64_BASIS, s);
}

int main(void)
{
    /* FNV-1a 64 reference values */
    CHECK(fnv("") == 0xcbf29ce484222325ull, "fnv('')");
    CHECK(fnv("a") == 0xaf63dc4c8601ec8cull, "fnv('a')");
    CHECK(fnv("foobar") == 0x85944171f73967e8ull, "fnv('foobar')");

    /* frames to names */
    function_is("put_request+0x18/0x1b", "put_request");
    function_is(" put_request+0x18/0x1b /src/examples/seed/blk.c:24", "put_request");
    function_is("__libc_start_main@@GLIBC_2.34+0x85/0x141", "__libc_start_main");
    function_is("__libc_start_main@GLIBC_2.2.5+0x85/0x141", "__libc_start_main");
    function_is("scsi_end_request.isra.12+0xf7/0x1e0", "scsi_end_request");
    function_is("ext4_writepages.part.0+0x463/0xf40", "ext4_writepages");
    function_is("foo.constprop.3+0x1/0x2", "foo");
    function_is("bar.cold+0x5/0x9", "bar");
    function_is("baz.lto_priv.0+0x5/0x9", "baz");
    function_is("drv_alloc_cmd+0x21/0x60 [mydrv]", "drv_alloc_cmd");
    function_is("? irq_exit+0xae/0xb0", "irq_exit");
    function_is("do_thing+0x10", "do_thing");
    function_is("0x7f3a12345678", "?");
    function_is("0x55d57f0944ac /usr/bin/prog", "?");
    function_is("", "?");
    function_is(NULL, "?");
    function_is("?", "?");
    function_is("plain_name", "plain_name");
    function_is("ns::Queue<int, std::allocator<int> >::push(int const&)+0x12/0x40 q.cc:7",
                "ns::Queue<int, std::allocator<int> >::push(int const&)");
    function_is("operator+(Money const&, Money const&)+0x9/0x20",
                "operator+(Money const&, Money const&)");
    function_is("my.part.ial+0x1/0x2", "my");
    function_is("long* app::make_one<long>()+0xe/0x17 /src/mm.cpp:9",
                "long* app::make_one<long>()");
    function_is("std::vector<int, std::allocator<int> > make()+0x1/0x2",
                "std::vector<int, std::allocator<int> > make()");

    /* the stack that tells the bug */
    enum slabdbg_sig_stack o[3];
    slabdbg_sig_stacks("overwritten", "Poison", o);
    CHECK(o[0] == SLABDBG_SIG_FREE && o[1] == SLABDBG_SIG_ALLOC && o[2] == SLABDBG_SIG_FOUND_BY,
          "Poison: free, alloc, found_by");
    slabdbg_sig_stacks("overwritten", "End Poison", o);
    CHECK(o[0] == SLABDBG_SIG_FREE, "End Poison: free first");
    slabdbg_sig_stacks("freepointer_corrupt", NULL, o);
    CHECK(o[0] == SLABDBG_SIG_FREE, "freepointer_corrupt: free first");
    slabdbg_sig_stacks("overwritten", "Right Redzone", o);
    CHECK(o[0] == SLABDBG_SIG_ALLOC && o[1] == SLABDBG_SIG_FOUND_BY, "Redzone: alloc, found_by");
    slabdbg_sig_stacks("already_free", NULL, o);
    CHECK(o[0] == SLABDBG_SIG_FOUND_BY, "already_free: found_by first");
    slabdbg_sig_stacks("use_after_free_write", NULL, o);
    CHECK(o[0] == SLABDBG_SIG_FOUND_BY, "use_after_free_write: found_by first");
    CHECK(!strcmp(slabdbg_sig_stack_name(SLABDBG_SIG_FREE), "free"), "stack name");

    /* the header's example, by hand and through slabdbg_signature() */
    const char *frames[] = {"put_request+0x18/0x1b", "scsi_end_request+0x1f/0x22 blk.c:29",
                            "scsi_done+0x18/0x1b", "drv_intr_normal+0x53/0x56"};
    uint64_t want = fnv("overwritten:Poison|kmalloc-1024|put_request|scsi_end_request|scsi_done");
    CHECK(slabdbg_signature("overwritten", "Poison", "kmalloc-1024", frames, 4) == want,
          "the documented example");
    /* addresses, offsets and what comes after the third frame do not count */
    const char *other[] = {"put_request+0x20/0x30", "scsi_end_request.isra.1+0x1/0x2",
                           "scsi_done+0x99/0x100", "main+0x1/0x2"};
    CHECK(slabdbg_signature("overwritten", "Poison", "kmalloc-1024", other, 4) == want,
          "offsets and later frames ignored");
    /* what matters only for "overwritten" */
    CHECK(slabdbg_signature("already_free", "Poison", "c", frames, 1) ==
              fnv("already_free|c|put_request||"),
          "what ignored for other kinds, missing frames empty");
    CHECK(slabdbg_signature("already_free", NULL, "c", NULL, 0) == fnv("already_free|c|||"),
          "no frames");
    CHECK(slabdbg_signature("overwritten", "Right Redzone", "c", frames, 1) !=
              slabdbg_signature("overwritten", "Poison", "c", frames, 1),
          "Redzone and Poison differ");

    char hex[SLABDBG_SIG_HEX];
    slabdbg_sig_hex(0x0123456789abcdefull, hex);
    CHECK(!strcmp(hex, "0123456789abcdef"), "hex: %s", hex);
    slabdbg_sig_hex(0, hex);
    CHECK(!strcmp(hex, "0000000000000000"), "hex of 0: %s", hex);

    if (failures)
        return 1;
    printf("signature ok\n");
    return 0;
}

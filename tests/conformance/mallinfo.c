/*
 * glibc's introspection API: mallinfo, mallinfo2, malloc_stats,
 * malloc_info, malloc_trim, mallopt.  Whatever the allocator, the numbers
 * must move with the program's allocations: 2000 blocks of 1000 bytes raise
 * the bytes in use by at least 2,000,000 and freeing them lowers it again;
 * a 4 MiB block is a mapping of its own (hblks, hblkhd); malloc_info writes
 * glibc's XML; malloc_stats its lines on stderr; malloc_trim gives memory
 * back after a big free; mallopt accepts glibc's parameters.  Run on glibc
 * too, so these are glibc's own behaviours.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#define BLOCKS 2000
#define BLOCK 1000
#define BIG ((size_t)4 << 20)

static void *blocks[BLOCKS];

static void test_numbers_move(void)
{
    struct mallinfo2 m0 = mallinfo2();
    for (int i = 0; i < BLOCKS; i++) {
        blocks[i] = malloc(BLOCK);
        REQUIRE(blocks[i] != NULL, "malloc(%d) failed", BLOCK);
        memset(blocks[i], 0x33, BLOCK);
    }
    struct mallinfo2 m1 = mallinfo2();
    CHECK(m1.uordblks >= m0.uordblks + (size_t)BLOCKS * BLOCK,
          "uordblks %zu -> %zu after %d x %d bytes", m0.uordblks, m1.uordblks, BLOCKS, BLOCK);
    CHECK(m1.arena >= m1.uordblks, "arena %zu < uordblks %zu", m1.arena, m1.uordblks);
    CHECK(m1.arena >= m0.arena + (size_t)BLOCKS * BLOCK / 2, "arena %zu -> %zu", m0.arena,
          m1.arena);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    struct mallinfo m1i = mallinfo(); /* the old interface, deprecated but still called */
#pragma GCC diagnostic pop
    CHECK((size_t)m1i.uordblks >= (size_t)BLOCKS * BLOCK, "mallinfo().uordblks = %d",
          m1i.uordblks);

    for (int i = 0; i < BLOCKS; i++)
        free(blocks[i]);
    struct mallinfo2 m2 = mallinfo2();
    CHECK(m2.uordblks + (size_t)BLOCKS * BLOCK / 2 <= m1.uordblks,
          "uordblks %zu -> %zu after freeing %d x %d bytes", m1.uordblks, m2.uordblks, BLOCKS,
          BLOCK);
    /* (fordblks need not grow: both allocators give the memory back) */
    CHECK(m2.arena + m2.hblkhd <= m1.arena + m1.hblkhd + (size_t)BLOCKS * BLOCK,
          "arena %zu -> %zu after the frees", m1.arena, m2.arena);

    /* A big block has a mapping of its own. */
    char *big = malloc(BIG);
    REQUIRE(big != NULL, "malloc(4 MiB) failed");
    memset(big, 1, BIG);
    struct mallinfo2 m3 = mallinfo2();
    CHECK(m3.hblks >= m2.hblks + 1, "hblks %zu -> %zu after a 4 MiB block", m2.hblks, m3.hblks);
    CHECK(m3.hblkhd >= m2.hblkhd + BIG, "hblkhd %zu -> %zu after a 4 MiB block", m2.hblkhd,
          m3.hblkhd);
    free(big);
    struct mallinfo2 m4 = mallinfo2();
    CHECK(m4.hblks + 1 <= m3.hblks && m4.hblkhd + BIG <= m3.hblkhd,
          "hblks %zu, hblkhd %zu after the 4 MiB block went", m4.hblks, m4.hblkhd);
}

/* Reads back what f() writes to fd `fd`. */
static size_t capture(int fd, void (*f)(void), char *buf, size_t size)
{
    char path[] = "/tmp/slabdbg-mallinfo-XXXXXX";
    int tmp = mkstemp(path);
    REQUIRE(tmp >= 0, "mkstemp failed");
    unlink(path);
    fflush(NULL);
    int saved = dup(fd);
    dup2(tmp, fd);
    f();
    fflush(NULL);
    dup2(saved, fd);
    close(saved);
    ssize_t n = pread(tmp, buf, size - 1, 0);
    close(tmp);
    buf[n > 0 ? n : 0] = 0;
    return n > 0 ? (size_t)n : 0;
}

static void call_malloc_stats(void)
{
    malloc_stats();
}

static void test_malloc_stats(void)
{
    static char out[8192];
    capture(2, call_malloc_stats, out, sizeof(out));
    CHECK(strstr(out, "Arena 0:\n") == out, "malloc_stats does not start with 'Arena 0:': %.80s",
          out);
    CHECK(strstr(out, "system bytes     =") && strstr(out, "in use bytes     =") &&
              strstr(out, "Total (incl. mmap):\n") && strstr(out, "max mmap regions ="),
          "malloc_stats lacks glibc's lines: %.300s", out);
}

static void test_malloc_info(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    REQUIRE(f != NULL, "open_memstream failed");
    void *keep[100];
    for (int i = 0; i < 100; i++)
        keep[i] = malloc(200);
    for (int i = 0; i < 100; i += 2)
        free(keep[i]);
    CHECK(malloc_info(0, f) == 0, "malloc_info(0, f) failed");
    CHECK(malloc_info(1, f) == EINVAL, "malloc_info(1, f) accepted options 1");
    fclose(f);
    for (int i = 1; i < 100; i += 2)
        free(keep[i]);
    REQUIRE(text != NULL, "no text");
    CHECK(strncmp(text, "<malloc version=\"1\">\n<heap nr=\"0\">\n<sizes>\n", 43) == 0,
          "malloc_info starts %.60s", text);
    const char *want[] = {"<total type=\"fast\" count=", "<total type=\"rest\" count=",
                          "<total type=\"mmap\" count=", "<system type=\"current\" size=\"",
                          "<system type=\"max\" size=\"",  "<aspace type=\"total\" size=\"",
                          "</heap>\n",                    "</sizes>\n"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        CHECK(strstr(text, want[i]) != NULL, "malloc_info lacks %s", want[i]);
    size_t n = strlen(text);
    CHECK(n >= 10 && strcmp(text + n - 10, "</malloc>\n") == 0, "malloc_info ends %s",
          n > 20 ? text + n - 20 : text);
    free(text);
}

static void test_trim_and_mallopt(void)
{
    /* Many blocks, all freed: empty memory for malloc_trim to give back. */
    static void *many[20000];
    for (int i = 0; i < 20000; i++)
        many[i] = malloc(2000);
    for (int i = 0; i < 20000; i++)
        free(many[i]);
    struct mallinfo2 before = mallinfo2();
    int r = malloc_trim(0);
    struct mallinfo2 after = mallinfo2();
    CHECK(r == 1, "malloc_trim(0) after freeing 40 MB returned %d", r);
    CHECK(after.arena <= before.arena, "arena grew in malloc_trim: %zu -> %zu", before.arena,
          after.arena);
    CHECK(malloc_trim(0) == 0 || malloc_trim(0) == 1, "malloc_trim returns 0 or 1");
    CHECK(mallopt(M_MMAP_THRESHOLD, 256 * 1024) == 1, "mallopt(M_MMAP_THRESHOLD) refused");
    CHECK(mallopt(M_TRIM_THRESHOLD, 1 << 20) == 1, "mallopt(M_TRIM_THRESHOLD) refused");
    CHECK(mallopt(M_ARENA_MAX, 2) == 1, "mallopt(M_ARENA_MAX) refused");
    void *p = malloc(100);
    CHECK(p != NULL, "malloc after mallopt failed");
    free(p);
}

int main(void)
{
    test_begin("mallinfo");
    test_numbers_move();
    test_malloc_stats();
    test_malloc_info();
    test_trim_and_mallopt();
    return test_finish();
}

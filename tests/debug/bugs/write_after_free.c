/*
 * Write after free: malloc(SIZE) (default 256: kmalloc-256), free, then N
 * bytes (1 to 8) written at the start, middle or end of the object; the next
 * malloc of the same size gets the object back and finds the poison
 * overwritten.
 *
 *   write_after_free start|middle|end N [SIZE] [clean]
 *
 * The bytes written are 0x11, 0x22, ... (never 0x6b or 0xa5).  "end" writes
 * the last N bytes, so the last one lands on the end poison byte.
 */
#include "bug_common.h"

static size_t size = 256;

static NOINLINE char *alloc_request(void)
{
    return malloc(size);
}

static NOINLINE void free_request(char *p)
{
    free(p);
}

static NOINLINE void stray_writer(char *p, size_t off, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[off + i] = (char)(0x11 * (i + 1));
}

static NOINLINE char *reuse_request(void)
{
    return malloc(size);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    size_t n = strtoul(argv[2], NULL, 0);
    if (argc > 3 && strcmp(argv[3], "clean"))
        size = strtoul(argv[3], NULL, 0);
    if (n < 1 || n > 8 || n > size)
        return 2;
    size_t off = !strcmp(argv[1], "start") ? 0 : !strcmp(argv[1], "middle") ? size / 2 : size - n;
    char *p = alloc_request();
    free_request(p);
    if (!is_clean(argc, argv))
        stray_writer(p, off, n);
    char *q = reuse_request();
    fact_ptr("object", p);
    fact_long("offset", (long)off);
    fact_long("reused", q == p);
    free_request(q);
    return finish();
}

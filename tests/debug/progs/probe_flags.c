/*
 * Which debug features a cache really got, seen from outside: for each
 * kmalloc size given on the command line, and for a named cache "request"
 * created without flags (so only SLABDBG can debug it), prints
 *
 *   <cache> <features>
 *
 * where the features are Z (the byte before a live object is 0xcc, the
 * active left red zone), K (the byte behind the requested size is 0xcc, the
 * kmalloc red zone), P (a freed object reads 0x6b ... 0xa5), or "-" for
 * none.  Only memory that stays mapped is read; nothing is written outside
 * the objects.  The last thing main() does is write "probe_flags: end of
 * main" to stderr, so that warnings made at exit can be told apart.
 */
#include <slabdbg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static __attribute__((noinline)) const unsigned char *peek(const void *p)
{
    const unsigned char *volatile v = p;
    return v;
}

static int poisoned(const unsigned char *p, size_t size)
{
    for (size_t i = 0; i + 1 < size; i++)
        if (p[i] != 0x6b)
            return 0;
    return p[size - 1] == 0xa5;
}

/* kmalloc-8, 16-byte steps to 128, then eight classes per doubling. */
static size_t class_of(size_t n)
{
    if (n <= 8)
        return 8;
    if (n <= 128)
        return (n + 15) & ~(size_t)15;
    size_t pow = 128;
    while (pow * 2 < n)
        pow *= 2;
    size_t step = pow / 8;
    return (n + step - 1) / step * step;
}

/* before/behind: the bytes at p[-1] and p[requested] while allocated
 * (behind < 0: the request fills the object). */
static void show(const char *name, int before, int behind, const unsigned char *freed,
                 size_t size)
{
    char f[8], *o = f;
    if (before == 0xcc)
        *o++ = 'Z';
    if (behind == 0xcc)
        *o++ = 'K';
    if (poisoned(freed, size))
        *o++ = 'P';
    if (o == f)
        *o++ = '-';
    *o = 0;
    printf("%s %s\n", name, f);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        size_t n = strtoul(argv[i], NULL, 0);
        size_t size = class_of(n);
        char name[32];
        snprintf(name, sizeof(name), "kmalloc-%zu", size);
        char *p = malloc(n);
        memset(p, 'q', n);
        int before = peek(p)[-1], behind = n < size ? peek(p)[n] : -1;
        free(p);
        show(name, before, behind, peek(p), size);
    }
    struct kmem_cache *c = kmem_cache_create("request", 96, 0, 0, NULL);
    char *p = kmem_cache_alloc(c, GFP_KERNEL);
    memset(p, 'q', 96);
    int before = peek(p)[-1];
    kmem_cache_free(c, p);
    show("request", before, -1, peek(p), 96);
    kmem_cache_destroy(c);
    fflush(stdout);
    fputs("probe_flags: end of main\n", stderr);
    return 0;
}

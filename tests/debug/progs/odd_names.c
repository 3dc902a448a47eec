/*
 * A cache whose name holds what a JSON string cannot carry raw: a control
 * byte, a quote, a backslash, bytes that are not UTF-8 (a stray 0xff, a
 * lead byte without its continuation, an overlong form, a surrogate) and
 * one valid multi-byte character.  A double free of one of its objects is
 * reported; the JSON line must still parse, with each bad byte as U+FFFD.
 */
#include <stdio.h>

#include "slabdbg.h"

static const char odd_name[] = "odd\x01\"\\\xff\xc3(\xc0\xaf\xed\xa0\x80\xe2\x82\xac-name";

static __attribute__((noinline)) void free_twice(struct kmem_cache *c, void *p)
{
    kmem_cache_free(c, p);
    kmem_cache_free(c, p);
}

int main(void)
{
    struct kmem_cache *c = kmem_cache_create(odd_name, 64, 0, 0, NULL);
    if (!c)
        return 1;
    void *p = kmem_cache_alloc(c, 0);
    free_twice(c, p);
    printf("reports=%lu\ndone\n", slabdbg_report_count());
    return 0;
}

/*
 * T: one malloc(90) (kmalloc-96) and one malloc(200) (kmalloc-224), both
 * freed; prints their addresses so the TRACE lines can be matched.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static __attribute__((noinline)) char *alloc_traced(size_t n)
{
    return malloc(n);
}

int main(void)
{
    char *a = alloc_traced(90);
    char *b = alloc_traced(200);
    memset(a, 't', 90);
    memset(b, 'u', 200);
    free(a);
    free(b);
    printf("traced=%#lx\nuntraced=%#lx\n", (unsigned long)(uintptr_t)a, (unsigned long)(uintptr_t)b);
    return 0;
}

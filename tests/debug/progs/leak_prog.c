/*
 * Objects left allocated at exit, for traces_at_exit: three malloc(300)
 * from leak_site, one from other_site, all kmalloc-320; one more from
 * leak_site is freed, so it must not be counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *kept[8];

static __attribute__((noinline)) void *leak_site(void)
{
    return malloc(300);
}

static __attribute__((noinline)) void *other_site(void)
{
    return malloc(300);
}

int main(void)
{
    for (int i = 0; i < 3; i++)
        kept[i] = leak_site();
    kept[3] = other_site();
    void *gone = leak_site();
    free(gone);
    for (int i = 0; i < 4; i++)
        memset(kept[i], 'k', 300);
    puts("done");
    return 0;
}

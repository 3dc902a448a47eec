/*
 * Guard mode when the process is near vm.max_map_count: the program first
 * takes map entries (single pages of alternating protection, which the
 * kernel cannot merge) until mmap fails, gives back HEADROOM of them, then
 * allocates and frees objects of many sizes.  Every allocation must
 * succeed (guard mode falls back to ordinary objects, it does not fail
 * the program's malloc), and the program ends.  Prints
 *   taken=N allocs=N failed=N done
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HEADROOM 200

int main(void)
{
    size_t cap = 1 << 17, n = 0;
    void **maps = mmap(NULL, cap * sizeof(void *), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (maps == MAP_FAILED)
        return 2;
    char *hint = NULL;
    while (n < cap) {
        void *p = mmap(hint, 4096, (n & 1) ? PROT_READ : PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            break;
        maps[n++] = p;
        hint = (char *)p - 2 * 4096; /* gaps keep the entries apart */
    }
    size_t taken = n;
    for (size_t i = 0; i < HEADROOM && n; i++)
        munmap(maps[--n], 4096);
    static void *keep[4000];
    long allocs = 0, failed = 0;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 4000; i++) {
            size_t sz = (size_t)(1 + (i * 7919) % 3000);
            keep[i] = malloc(sz);
            allocs++;
            if (!keep[i])
                failed++;
            else
                memset(keep[i], 'k', sz);
        }
        for (int i = 0; i < 4000; i++)
            free(keep[i]);
    }
    printf("taken=%zu\nallocs=%ld\nfailed=%ld\ndone\n", taken, allocs, failed);
    return 0;
}

/*
 * Fault injection (A): COUNT calls of malloc(SIZE); prints which calls
 * (1-based) returned NULL and whether each of them set errno to ENOMEM:
 *
 *   fault_inject COUNT SIZE   ->  calls=COUNT failed=10,20,... enomem=1
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    int count = atoi(argv[1]);
    size_t size = strtoul(argv[2], NULL, 0);
    if (count < 1 || count > 100000)
        return 2;
    void **kept = calloc((size_t)count, sizeof(void *));
    int *failed = calloc((size_t)count, sizeof(int));
    if (!kept || !failed)
        return 2;
    int nfailed = 0, enomem = 1;
    for (int i = 0; i < count; i++) {
        errno = 0;
        kept[i] = malloc(size);
        if (!kept[i]) {
            failed[nfailed++] = i + 1;
            enomem &= errno == ENOMEM;
        } else {
            memset(kept[i], 'f', size);
        }
    }
    for (int i = 0; i < count; i++)
        free(kept[i]);
    printf("calls=%d\nfailed=", count);
    for (int i = 0; i < nfailed; i++)
        printf("%s%d", i ? "," : "", failed[i]);
    printf("\nenomem=%d\n", enomem);
    free(kept);
    free(failed);
    return 0;
}

/* A small program compiled by gcc in the gcc test and run afterwards. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    int n = 300000, count = 0;
    char *sieve = calloc((size_t)n + 1, 1);
    if (!sieve)
        return 1;
    for (int i = 2; i <= n; i++) {
        if (sieve[i])
            continue;
        count++;
        for (long j = (long)i * i; j <= n; j += i)
            sieve[j] = 1;
    }
    printf("primes<=%d: %d\n", n, count);
    free(sieve);

    enum { M = 50000 };
    char **words = malloc(M * sizeof *words);
    if (!words)
        return 1;
    for (int i = 0; i < M; i++) {
        words[i] = malloc(32);
        if (!words[i])
            return 1;
        snprintf(words[i], 32, "w%d-%d", (i * 7919) % M, i % 13);
    }
    qsort(words, M, sizeof *words, cmp);
    printf("first=%s last=%s\n", words[0], words[M - 1]);
    unsigned long h = 5381;
    for (int i = 0; i < M; i++) {
        for (const char *c = words[i]; *c; c++)
            h = h * 33 + (unsigned char)*c;
        free(words[i]);
    }
    free(words);
    printf("hash=%lu\n", h);
    return 0;
}

/*
 * report_bug: one heap bug, for the cost of one report (report_cost.py).
 *
 *   report_bug write   writes the byte just past the end of a malloc(50)
 *                      (found under G and FZPU, and under sampling when
 *                      the object is sampled)
 *   report_bug read    reads it (found only where the access faults)
 *   report_bug none    the same allocations, no bug: the baseline
 *
 * Under sampling the victim is the first malloc(50) whose usable size is
 * exactly 50 (a sampled object; a slab object has 64), up to 1000 tries.
 * Built -g -O0 so that the report's stacks have file:line, as a program
 * being debugged would.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "none";
    enum { TRIES = 1000 };
    static char *tried[TRIES];
    int n = 0;
    char *p;
    do {
        p = tried[n++] = malloc(50);
        if (!p)
            return 1;
    } while (malloc_usable_size(p) != 50 && n < TRIES);
    memset(p, 1, 50);
    volatile char *v = p;
    int sink = 0;
    if (!strcmp(mode, "write"))
        v[50] = 2;
    else if (!strcmp(mode, "read"))
        sink = v[50];
    for (int i = 0; i < n; i++)
        free(tried[i]);
    return sink == 12345;
}

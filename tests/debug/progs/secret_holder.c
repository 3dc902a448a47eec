/*
 * A privileged program's secret: run setuid (the test makes a setuid-root
 * copy and runs it as an unprivileged user), it allocates a buffer, puts a
 * secret in it, frees it, and allocates again.  Under SLABDBG=T a trace of
 * the free would dump the secret; SLABDBG=A would make allocations fail at
 * the caller's will.  Prints whether every allocation succeeded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "$6$s3cr3t-hash-of-the-password$"

int main(void)
{
    int ok = 1;
    for (int i = 0; i < 200; i++) {
        char *p = malloc(64);
        if (!p) {
            ok = 0;
            continue;
        }
        memcpy(p, SECRET, sizeof(SECRET));
        free(p);
    }
    printf("allocations_ok=%d\n", ok);
    return 0;
}

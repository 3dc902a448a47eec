/* The keys of the free-list hardening (see internal.h). */
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>

#include "core/internal.h"

uintptr_t link_key, free_key;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

/* The kernel's 16 random bytes for this process (AT_RANDOM: no system
 * call, available before libc is set up), mixed with the clock and the pid
 * in case they are missing. */
void hardening_init(void)
{
    uint64_t r[2] = {0, 0};
    const void *at_random = (const void *)getauxval(AT_RANDOM);
    if (at_random)
        memcpy(r, at_random, sizeof(r));
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t salt = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_sec;
    link_key = (uintptr_t)mix(r[0] ^ mix(salt));
    free_key = (uintptr_t)mix(r[1] ^ mix(salt + 0x9e3779b97f4a7c15ull));
    if (free_key == 0)
        free_key = 1; /* word 1 of a fresh object is often 0 */
}

/*
 * The stomp fuzzer's program: a seeded random mix of correct heap work and
 * the errors slabdbg hunts, done on purpose (overflows and underwrites of
 * live objects, writes after free of every size including partial link
 * overwrites, double, interior, stack and static frees, realloc of freed
 * blocks, forged pointers), with signals raised at it and children forked
 * in the middle.  The program keeps every pointer of its own outside the
 * heap (static tables), checks each write target is mapped before writing,
 * and never reads back what a stray write may have changed: whatever
 * happens to it is slabdbg's doing.
 *
 *   stomp SEED OPS [BUGS_PER_1000]
 *
 * Prints "ops=N bugs=N signals=N/N children=N/N reports=N" and "done".
 * run_stomp.py runs it over many seeds in every mode and judges the end.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define SLOTS 512
#define STALE 128

static struct {
    unsigned char *p;
    size_t n;
} live[SLOTS];
static struct {
    unsigned char *p;
    size_t n;
} stale[STALE];
static unsigned nstale;
static uint64_t rng;
static char static_block[64];
static volatile sig_atomic_t handled;
static unsigned raised, bugs, children, children_ok;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static size_t below(size_t n)
{
    return n ? (size_t)(next() % n) : 0;
}

static size_t random_size(void)
{
    unsigned r = (unsigned)below(100);
    if (r < 55)
        return 1 + below(128);
    if (r < 85)
        return 129 + below(4096 - 128);
    if (r < 97)
        return 4097 + below(65536 - 4096);
    return 65537 + below(1 << 20);
}

/* Is [p, p+n) mapped?  mincore fails with ENOMEM on an unmapped page. */
static int mapped(const void *p, size_t n)
{
    uintptr_t a = (uintptr_t)p & ~(uintptr_t)4095, e = (uintptr_t)p + n;
    unsigned char v[64];
    while (a < e) {
        size_t pages = (e - a + 4095) / 4096;
        if (pages > 64)
            pages = 64;
        if (mincore((void *)a, pages * 4096, v) != 0)
            return 0;
        a += pages * 4096;
    }
    return 1;
}

static void *launder(void *p)
{
    void *volatile v = p;
    return v;
}

static void on_usr1(int sig)
{
    (void)sig;
    handled++;
}

static void remember_freed(unsigned char *p, size_t n)
{
    stale[nstale % STALE].p = p;
    stale[nstale % STALE].n = n;
    nstale++;
}

static void fill(unsigned char *p, size_t n)
{
    if (p && mapped(p, n))
        memset(p, (int)(0x20 + below(64)), n);
}

static void do_alloc(unsigned i)
{
    size_t n = random_size();
    unsigned char *p = NULL;
    switch (below(5)) {
    case 0:
        p = malloc(n);
        break;
    case 1:
        p = calloc(1, n);
        break;
    case 2:
        p = aligned_alloc((size_t)16 << below(5), n);
        break;
    case 3:
        if (posix_memalign((void **)&p, (size_t)8 << below(8), n))
            p = NULL;
        break;
    default:
        p = realloc(NULL, n);
        break;
    }
    live[i].p = p;
    live[i].n = p ? n : 0;
    fill(p, n);
}

static void do_free(unsigned i)
{
    free(live[i].p);
    if (live[i].p)
        remember_freed(live[i].p, live[i].n);
    live[i].p = NULL;
    live[i].n = 0;
}

static void do_realloc(unsigned i)
{
    size_t n = random_size();
    unsigned char *old = live[i].p;
    unsigned char *p = realloc(old, n);
    if (!p)
        return; /* the old block stays */
    if (old && p != old)
        remember_freed(old, live[i].n);
    if (n > live[i].n)
        fill(p + live[i].n, n - live[i].n);
    live[i].p = p;
    live[i].n = n;
}

/* One error, chosen at random, against a random object. */
static void do_bug(unsigned i)
{
    unsigned char *p = live[i].p;
    size_t n = live[i].n;
    unsigned s = nstale ? (unsigned)below(nstale < STALE ? nstale : STALE) : 0;
    unsigned char *f = nstale ? stale[s].p : NULL;
    size_t fn = nstale ? stale[s].n : 0;
    bugs++;
    switch (below(11)) {
    case 0: /* overflow of a live object, a few bytes or a long run */
        if (p) {
            size_t k = below(4) ? 1 + below(16) : 1 + below(256);
            if (mapped(p + n, k))
                memset(p + n, 'A', k);
        }
        break;
    case 1: /* underwrite */
        if (p) {
            size_t k = 1 + below(32);
            if (mapped(p - k, k))
                memset(p - k, 'B', k);
        }
        break;
    case 2: /* write after free, anywhere in the freed object */
        if (f && fn) {
            size_t off = below(fn), k = 1 + below(16);
            if (k > fn - off)
                k = fn - off;
            if (mapped(f + off, k))
                memset(f + off, (int)below(256), k);
        }
        break;
    case 3: /* part of the free link: some bytes of word 0 or word 1 */
        if (f && fn >= 16 && mapped(f, 16)) {
            size_t b = below(16);
            f[b] ^= (unsigned char)(1u << below(8));
        }
        break;
    case 4: /* a forged pointer in a freed object: ours, a static, a value */
        if (f && fn >= 8 && mapped(f, 8)) {
            uintptr_t v = below(3) == 0   ? (uintptr_t)static_block
                          : below(2) == 0 ? (uintptr_t)(p ? p : f) + 8 * below(8)
                                          : (uintptr_t)next();
            memcpy(f, &v, sizeof(v));
        }
        break;
    case 5: /* double free */
        if (f) {
            free(f);
            stale[s].p = NULL;
        }
        break;
    case 6: /* interior free */
        if (p && n > 1)
            free(launder(p + 1 + below(n - 1)));
        break;
    case 7: { /* free of the stack or of static data */
        char local[32];
        free(launder(below(2) ? (void *)local : (void *)(static_block + 8 * below(4))));
        break;
    }
    case 8: /* realloc of a freed block */
        if (f) {
            void *q = realloc(f, 1 + below(200));
            stale[s].p = NULL;
            if (q) {
                free(q);
            }
        }
        break;
    case 9: /* an over-read and an under-read (seen by guard mode only) */
        if (p && n) {
            volatile unsigned char sink = 0;
            if (mapped(p + n, 8))
                sink ^= p[n + below(8)];
            if (mapped(p - 8, 8))
                sink ^= *(p - 1 - below(8));
            (void)sink;
        }
        break;
    default: /* a read after free */
        if (f && fn && mapped(f, fn)) {
            volatile unsigned char sink = f[below(fn)];
            (void)sink;
        }
        break;
    }
}

static void run(unsigned ops, unsigned bug_rate, int depth)
{
    for (unsigned k = 0; k < ops; k++) {
        unsigned i = (unsigned)below(SLOTS);
        unsigned r = (unsigned)below(1000);
        if (r < bug_rate)
            do_bug(i);
        else if (!live[i].p)
            do_alloc(i);
        else if (r < 600)
            do_free(i);
        else if (r < 750)
            do_realloc(i);
        else if (r < 752) {
            raised++;
            raise(SIGUSR1);
        } else if (r < 753 && depth == 0 && children < 4) {
            children++;
            fflush(stdout);
            pid_t c = fork();
            if (c == 0) {
                run(ops / 8, bug_rate, 1);
                _exit(0);
            }
            int st = 0;
            if (c > 0 && waitpid(c, &st, 0) == c) {
                /* The child dies only of a report's signal, or exits 0. */
                if ((WIFEXITED(st) && WEXITSTATUS(st) == 0) ||
                    (WIFSIGNALED(st) && (WTERMSIG(st) == SIGSEGV || WTERMSIG(st) == SIGBUS)))
                    children_ok++;
                else
                    fprintf(stderr, "stomp: child status %#x\n", st);
            }
        } else
            fill(live[i].p, live[i].n < 256 ? live[i].n : 256);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    rng = strtoull(argv[1], NULL, 0) * 0x9e3779b97f4a7c15ull | 1;
    unsigned ops = (unsigned)strtoul(argv[2], NULL, 0);
    unsigned bug_rate = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 0) : 10;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    run(ops, bug_rate, 0);
    for (unsigned i = 0; i < SLOTS; i++)
        if (live[i].p)
            do_free(i);
    long (*count)(void) = (long (*)(void))dlsym(RTLD_DEFAULT, "slabdbg_report_count");
    printf("ops=%u bugs=%u signals=%u/%u children=%u/%u reports=%ld\ndone\n", ops, bugs,
           (unsigned)handled, raised, children_ok, children, count ? count() : -1L);
    return 0;
}

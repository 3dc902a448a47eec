/*
 * Thread magazines of debugged caches (run under SLABDBG=FZPU, linked to
 * slabdbg for slabdbg_validate):
 *
 *   churn      N threads allocate, check and free objects of every small
 *              size, half of them freed by another thread, while one more
 *              thread validates every cache in a loop: every validation
 *              finds nothing (a validation that read an object a thread was
 *              changing without the cache lock would report it), every
 *              object keeps its contents.
 *   race       two threads free the same object at the same instant, many
 *              times over: each pair is exactly one double free (reported,
 *              counted from the JSON reports), and no object is handed out
 *              twice afterwards.
 *
 *   With STRESS_DENY_MEMBARRIER=1 in the environment, a seccomp filter
 *   makes membarrier(2) fail from the start of the churn on (as a sandbox
 *   installed after the library started would): validation must fall
 *   back to another barrier, never abort, and still find nothing.
 *
 * Usage: stress_debug_magazines JSON_REPORTS [threads] [iterations] [races]
 *                               [TEXT_REPORTS (shown on failure)]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "slabdbg.h"
#define SQUEUE_CAP 256 /* (stress_queue.h) */
#include "stress_obj.h"
#include "stress_queue.h"

/* membarrier(2) fails with EPERM from here on (x86-64; elsewhere, no
 * filter and a message). */
static int deny_membarrier(void)
{
#if defined(__x86_64__) && defined(SYS_membarrier)
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_membarrier, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {(unsigned short)(sizeof(code) / sizeof(code[0])), code};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
        perror("seccomp");
        return -1;
    }
    if (syscall(SYS_membarrier, 0, 0, 0) != -1 || errno != EPERM) {
        fprintf(stderr, "membarrier still answers\n");
        return -1;
    }
    return 0;
#else
    fprintf(stderr, "no seccomp filter on this architecture\n");
    return 0;
#endif
}

#define LIVE 64

static int nthreads = 4;
static long iterations = 200000;
static long races = 2000;
static struct queue *queues;
static atomic_int churning;
static atomic_long validations, validate_errors, bad_objects;

static struct sobj *q_pop(struct queue *q)
{
    struct sobj *o = NULL;
    return q_pop_many(q, &o, 1) ? o : NULL;
}

static void check_free(struct sobj *o)
{
    if (!sobj_ok(o, (uint32_t)nthreads))
        atomic_fetch_add(&bad_objects, 1);
    free(o);
}

static void *churn(void *arg)
{
    uint32_t me = (uint32_t)(uintptr_t)arg;
    uint64_t rng = 0x9E3779B97F4A7C15ull * (me + 1);
    struct sobj *live[LIVE] = {0};
    for (long i = 0; i < iterations; i++) {
        unsigned slot = (unsigned)(rng_next(&rng) % LIVE);
        if (live[slot]) {
            struct sobj *o = live[slot];
            live[slot] = NULL;
            if (!sobj_ok(o, (uint32_t)nthreads))
                atomic_fetch_add(&bad_objects, 1);
            else if ((rng_next(&rng) & 1) && q_push(&queues[(me + 1) % nthreads], o))
                o = NULL; /* the next thread frees it */
            if (o)
                free(o);
        } else {
            size_t size = 16 + (size_t)(rng_next(&rng) % 2000);
            live[slot] = sobj_new(me, (uint64_t)i, size);
        }
        struct sobj *o = q_pop(&queues[me]);
        if (o)
            check_free(o);
    }
    for (unsigned s = 0; s < LIVE; s++)
        if (live[s])
            check_free(live[s]);
    return NULL;
}

static void *validator(void *arg)
{
    (void)arg;
    do { /* at least once, however late this thread starts */
        int e = slabdbg_validate();
        atomic_fetch_add(&validations, 1);
        if (e)
            atomic_fetch_add(&validate_errors, e);
    } while (atomic_load(&churning));
    return NULL;
}

/* ---- race ---- */

static pthread_barrier_t race_barrier;
static void *volatile race_object;
static void *race_got[2][8];

static void *racer(void *arg)
{
    int me = (int)(uintptr_t)arg;
    for (long r = 0; r < races; r++) {
        pthread_barrier_wait(&race_barrier);
        free(race_object);
        pthread_barrier_wait(&race_barrier);
        for (int k = 0; k < 8; k++)
            race_got[me][k] = malloc(48);
        pthread_barrier_wait(&race_barrier);
        pthread_barrier_wait(&race_barrier); /* main checked them */
        for (int k = 0; k < 8; k++)
            free(race_got[me][k]);
    }
    return NULL;
}

static long count_reports(const char *path, const char *kind)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[65536], want[64];
    snprintf(want, sizeof(want), "\"kind\":\"%s", kind ? kind : "");
    if (kind)
        strcat(want, "\"");
    long n = 0;
    while (fgets(line, sizeof(line), f))
        if (strstr(line, want))
            n++;
    fclose(f);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s JSON_REPORTS [threads] [iterations] [races]\n", argv[0]);
        return 2;
    }
    if (argc > 2)
        nthreads = atoi(argv[2]);
    if (argc > 3)
        iterations = atol(argv[3]);
    if (argc > 4)
        races = atol(argv[4]);
    if (nthreads < 2 || nthreads > 64)
        nthreads = 4;

    /* The library started (and chose its barrier) before this. */
    free(malloc(100));
    const char *deny = getenv("STRESS_DENY_MEMBARRIER");
    if (deny && deny[0] == '1' && deny_membarrier() != 0)
        return 2;
    printf("membarrier %s\n", deny && deny[0] == '1' ? "denied" : "allowed");

    /* churn with concurrent validation */
    queues = calloc((size_t)nthreads, sizeof(*queues));
    for (int i = 0; i < nthreads; i++)
        pthread_mutex_init(&queues[i].lock, NULL);
    pthread_t th[64], v;
    atomic_store(&churning, 1);
    pthread_create(&v, NULL, validator, NULL);
    for (int i = 0; i < nthreads; i++)
        pthread_create(&th[i], NULL, churn, (void *)(uintptr_t)i);
    for (int i = 0; i < nthreads; i++)
        pthread_join(th[i], NULL);
    atomic_store(&churning, 0);
    pthread_join(v, NULL);
    for (int i = 0; i < nthreads; i++) {
        struct sobj *o;
        while ((o = q_pop(&queues[i])))
            check_free(o);
    }
    int final_errors = slabdbg_validate();
    long before_race = count_reports(argv[1], NULL);
    printf("churn: %d threads x %ld operations, %ld validations, %ld problems found, "
           "%ld bad objects, final validate %d, %ld reports\n",
           nthreads, iterations, atomic_load(&validations), atomic_load(&validate_errors),
           atomic_load(&bad_objects), final_errors, before_race);
    int fail = atomic_load(&validations) == 0 || atomic_load(&validate_errors) != 0 ||
               atomic_load(&bad_objects) != 0 || final_errors != 0 || before_race > 0;

    /* double frees at the same instant */
    pthread_barrier_init(&race_barrier, NULL, 3);
    pthread_t r0, r1;
    pthread_create(&r0, NULL, racer, (void *)0);
    pthread_create(&r1, NULL, racer, (void *)1);
    long twice = 0;
    for (long r = 0; r < races; r++) {
        race_object = malloc(48);
        pthread_barrier_wait(&race_barrier); /* both free it */
        pthread_barrier_wait(&race_barrier); /* both allocate 8 */
        pthread_barrier_wait(&race_barrier);
        for (int a = 0; a < 16; a++)
            for (int b = a + 1; b < 16; b++)
                if (race_got[a / 8][a % 8] && race_got[a / 8][a % 8] == race_got[b / 8][b % 8])
                    twice++;
        pthread_barrier_wait(&race_barrier);
    }
    pthread_join(r0, NULL);
    pthread_join(r1, NULL);
    long doubles = count_reports(argv[1], "already_free");
    printf("race: %ld double frees at the same instant, %ld reported, %ld pointers handed out "
           "twice\n",
           races, doubles, twice);
    fail |= doubles != races || twice != 0;
    printf("%s\n", fail ? "FAIL" : "ok");
    FILE *log = fail && argc > 5 ? fopen(argv[5], "r") : NULL;
    if (log) {
        char line[512];
        for (int n = 0; n < 80 && fgets(line, sizeof(line), log); n++)
            fputs(line, stderr);
        fclose(log);
    }
    return fail;
}

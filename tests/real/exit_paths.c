/*
 * Allocation around process exit: a constructor allocates before main,
 * atexit handlers and late destructors allocate and free after main,
 * and (with argument "busy") threads keep allocating while the main
 * thread calls exit().  Any failed check exits with a status > 0 from
 * the place where it happened.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *early;
static volatile long progress[4];

__attribute__((constructor)) static void early_alloc(void)
{
    early = malloc(1000);
    if (early)
        memset(early, 'e', 1000);
}

static void churn(int n, size_t max)
{
    void *p[64] = {0};
    for (int i = 0; i < n; i++) {
        int s = i % 64;
        free(p[s]);
        p[s] = malloc(1 + (size_t)(i * 7919) % max);
        if (!p[s])
            _exit(20);
        memset(p[s], i, 1);
    }
    for (int s = 0; s < 64; s++)
        free(p[s]);
}

static void at_exit_handler(void)
{
    churn(10000, 5000);
    char *s = strdup("allocated in atexit");
    if (!s || strcmp(s, "allocated in atexit") != 0)
        _exit(21);
    free(s);
}

/* priority 101: runs after the default destructors of this program */
__attribute__((destructor(101))) static void late_destructor(void)
{
    if (!early || early[0] != 'e' || early[999] != 'e')
        _exit(22);
    char *r = realloc(early, 100000);
    if (!r || r[500] != 'e')
        _exit(23);
    free(r);
    churn(10000, 100000);
}

static void *busy(void *arg)
{
    long id = (long)arg;
    for (unsigned long i = 0;; i++) {
        void *p = malloc(16 + (i * 31) % 4000);
        if (!p)
            _exit(24);
        memset(p, 1, 16);
        free(p);
        progress[id] = (long)i;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (atexit(at_exit_handler) != 0)
        return 2;
    churn(50000, 20000);
    if (argc > 1 && strcmp(argv[1], "busy") == 0) {
        pthread_t t[4];
        for (long i = 0; i < 4; i++)
            if (pthread_create(&t[i], NULL, busy, (void *)i) != 0)
                return 3;
        /* wait until every thread is well into its loop (no timing) */
        for (int i = 0; i < 4; i++)
            while (progress[i] < 20000)
                sched_yield();
    }
    printf("main done\n");
    exit(0); /* with threads still allocating in "busy" mode */
}

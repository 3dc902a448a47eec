/*
 * One cell of the fork matrix: threads allocate, free and make slabdbg
 * report (writes after free, double frees, frees of foreign pointers) while
 * some thread forks; every child allocates, frees and reports too, then
 * exits.  A deadlock in a child (a lock of slabdbg held across fork by a
 * thread that does not exist in the child) shows as a child that does not
 * finish in time; a lost report as a count that does not match.
 *
 *   forkmatrix SCENARIO THREADS FORKS
 *     SCENARIO  main_forks | thread_forks | fork_in_report | nested_fork
 *               (fork_in_report: the threads report all the time, so forks
 *               happen while reports are being written)
 *
 * Prints one line per result; the runner checks them, and the exit status
 * (0: every child finished and exited 0).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static atomic_int stop;
static atomic_long churn;
static int forks_wanted;
static long bug_every = 5000; /* fork_in_report: 50, reports all the time */

/* A write after free and a double free: in FZPU reports, in the default
 * mode the double free is reported (the write after free only corrupts the
 * object's own bytes, which is harmless here). */
static void make_bugs(int round)
{
    char *p = malloc(96);
    memset(p, 'x', 96);
    free(p);
    if (round % 2)
        free(p); /* double free: reported in every mode, dropped */
    char *q = malloc(200);
    free(q);
}

static void *worker(void *arg)
{
    long id = (long)arg;
    unsigned seed = (unsigned)id * 7919u + 1;
    void *keep[64] = {0};
    long n = 0;
    while (!atomic_load(&stop)) {
        unsigned i = (seed = seed * 1103515245u + 12345u) % 64;
        free(keep[i]);
        keep[i] = malloc(1 + (seed >> 8) % 2000);
        if (keep[i])
            memset(keep[i], (int)id, 1);
        if (++n % bug_every == 0)
            make_bugs((int)(n / bug_every));
    }
    for (int i = 0; i < 64; i++)
        free(keep[i]);
    atomic_fetch_add(&churn, n);
    return NULL;
}

/* The child: allocate, report, exit.  Exit status 0 only when it got there. */
static void child_body(int depth)
{
    void *v[100];
    for (int i = 0; i < 100; i++)
        v[i] = malloc((size_t)(i * 37 % 3000) + 1);
    for (int i = 0; i < 100; i++)
        free(v[i]);
    make_bugs(1);
    if (depth > 0) { /* nested_fork: a child that forks again */
        pid_t pid = fork();
        if (pid == 0) {
            child_body(depth - 1);
            _exit(0);
        }
        int st;
        if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
            _exit(3);
    }
}

/* Waits for a child with a deadline; a child that hangs is killed and
 * counted as hung. */
static int wait_child(pid_t pid, int seconds)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > seconds) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1; /* hung */
        }
        usleep(2000);
    }
}

static atomic_int hung, failed, done;
static int nested;

static void fork_many(void)
{
    for (int i = 0; i < forks_wanted; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            child_body(nested);
            _exit(0);
        }
        if (pid < 0) {
            atomic_fetch_add(&failed, 1);
            continue;
        }
        int r = wait_child(pid, 60);
        if (r < 0)
            atomic_fetch_add(&hung, 1);
        else if (r)
            atomic_fetch_add(&failed, 1);
        else
            atomic_fetch_add(&done, 1);
    }
}

static void *forker(void *arg)
{
    (void)arg;
    fork_many();
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: forkmatrix SCENARIO THREADS FORKS\n");
        return 2;
    }
    const char *scenario = argv[1];
    int threads = atoi(argv[2]);
    forks_wanted = atoi(argv[3]);
    nested = !strcmp(scenario, "nested_fork") ? 2 : 0;
    if (!strcmp(scenario, "fork_in_report"))
        bug_every = 50;
    pthread_t t[64];
    if (threads > 64)
        threads = 64;
    for (long i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    if (!strcmp(scenario, "thread_forks")) {
        pthread_t f;
        pthread_create(&f, NULL, forker, NULL);
        pthread_join(f, NULL);
    } else {
        fork_many();
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    printf("children done=%d failed=%d hung=%d\n", atomic_load(&done), atomic_load(&failed),
           atomic_load(&hung));
    return atomic_load(&done) == forks_wanted ? 0 : 1;
}

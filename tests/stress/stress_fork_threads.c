/*
 * fork() in a multi-threaded program: worker threads allocate and free
 * continuously while the main thread (and, every 4th time, another
 * thread) forks repeatedly.  Each child must
 * be able to malloc, realloc and free (including blocks allocated before
 * the fork), start a thread that allocates, and exit with status 0.
 * A child that hangs (allocator lock held across fork) is killed by an
 * alarm and reported.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stress_obj.h"

#define WORKERS 3
#define PREFORK 200

static int stop;
static int forks = 150;

static void *worker(void *arg)
{
    uint32_t id = (uint32_t)(long)arg;
    uint64_t rng = 99 + id, seq = 0;
    struct sobj *local[512] = {0};
    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
        uint64_t r = rng_next(&rng);
        unsigned s = (unsigned)(r % 512);
        if (local[s]) {
            CHECK(sobj_ok(local[s], WORKERS + 1), "worker %u: object corrupted", id);
            free(local[s]);
        }
        local[s] = sobj_new(id, seq++, sobj_random_size(&rng));
        REQUIRE(local[s] != NULL, "worker malloc failed");
    }
    for (int s = 0; s < 512; s++)
        free(local[s]);
    return NULL;
}

static void *child_thread(void *arg)
{
    uint64_t rng = (uint64_t)(long)arg;
    for (int i = 0; i < 2000; i++) {
        struct sobj *o = sobj_new(WORKERS, (uint64_t)i, sobj_random_size(&rng));
        if (!o || !sobj_ok(o, WORKERS + 1))
            return (void *)1;
        free(o);
    }
    return NULL;
}

/* Runs in the child.  Returns the exit status. */
static int child_work(struct sobj **prefork, int round)
{
    alarm(20); /* a deadlocked child dies of SIGALRM */
    int bad = 0;
    /* blocks allocated by the parent's main thread before the fork */
    for (int i = 0; i < PREFORK; i++) {
        if (!sobj_ok(prefork[i], WORKERS + 1))
            bad |= 2;
        struct sobj *r = realloc(prefork[i], prefork[i]->size + 100);
        if (!r)
            bad |= 4;
        else
            free(r);
    }
    uint64_t rng = 5000 + (uint64_t)round;
    struct sobj *mine[300];
    for (int i = 0; i < 300; i++) {
        mine[i] = sobj_new(WORKERS, (uint64_t)i, sobj_random_size(&rng));
        if (!mine[i])
            return 8;
    }
    for (int i = 0; i < 300; i++) {
        if (!sobj_ok(mine[i], WORKERS + 1))
            bad |= 16;
        free(mine[i]);
    }
    char *big = malloc(1 << 20);
    if (!big)
        return 32;
    memset(big, 1, 1 << 20);
    free(big);
    pthread_t t;
    void *tr = NULL;
    if (pthread_create(&t, NULL, child_thread, (void *)(long)(round + 1)) != 0)
        return 64;
    pthread_join(t, &tr);
    if (tr)
        bad |= 128;
    return bad;
}

struct fork_job {
    struct sobj **prefork;
    int round;
    int status;
};

/* fork from a thread other than the main one */
static void *forking_thread(void *arg)
{
    struct fork_job *job = arg;
    pid_t pid = fork();
    if (pid < 0) {
        job->status = -1;
        return NULL;
    }
    if (pid == 0)
        exit(child_work(job->prefork, job->round));
    if (waitpid(pid, &job->status, 0) != pid)
        job->status = -1;
    return NULL;
}

int main(int argc, char **argv)
{
    test_begin("stress_fork_threads");
    if (argc > 1)
        forks = atoi(argv[1]);
    pthread_t th[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        REQUIRE(pthread_create(&th[i], NULL, worker, (void *)(long)i) == 0, "pthread_create");
    static struct sobj *prefork[PREFORK];
    uint64_t rng = 31337, seq = 0;
    int ok_children = 0;
    for (int f = 0; f < forks; f++) {
        for (int i = 0; i < PREFORK; i++) {
            free(prefork[i]);
            prefork[i] = sobj_new(WORKERS, seq++, sobj_random_size(&rng));
            REQUIRE(prefork[i] != NULL, "malloc failed");
        }
        fflush(stdout);
        fflush(stderr);
        int st = 0;
        if (f % 4 == 3) {
            struct fork_job job = {prefork, f, 0};
            pthread_t ft;
            REQUIRE(pthread_create(&ft, NULL, forking_thread, &job) == 0, "pthread_create");
            pthread_join(ft, NULL);
            REQUIRE(job.status != -1, "fork or waitpid failed in forking thread");
            st = job.status;
        } else {
            pid_t pid = fork();
            REQUIRE(pid >= 0, "fork failed");
            if (pid == 0)
                exit(child_work(prefork, f));
            REQUIRE(waitpid(pid, &st, 0) == pid, "waitpid failed");
        }
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
            ok_children++;
        else if (WIFEXITED(st))
            CHECK(0, "fork #%d: child exited with status %d (bit mask of failed steps)", f,
                  WEXITSTATUS(st));
        else if (WIFSIGNALED(st))
            CHECK(0, "fork #%d: child killed by signal %d (%s)%s", f, WTERMSIG(st),
                  strsignal(WTERMSIG(st)),
                  WTERMSIG(st) == SIGALRM ? " - deadlock after fork?" : "");
        /* parent's pre-fork blocks are unaffected by the child */
        for (int i = 0; i < PREFORK; i++)
            CHECK(sobj_ok(prefork[i], WORKERS + 1), "parent block %d corrupted after fork", i);
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < PREFORK; i++)
        free(prefork[i]);
    printf("%d of %d children exited with 0\n", ok_children, forks);
    CHECK(ok_children == forks, "only %d of %d children succeeded", ok_children, forks);
    return test_finish();
}

/*
 * Four threads allocate, fill, check and free guarded 1 KiB objects at the
 * same time; once all of them are going, the third one (stray_worker)
 * writes into an object it has just freed (stray_thread_writer).  The
 * process dies of that one fault, with one report naming the thread.
 *
 *   threads
 *
 * Prints "stray_tid=N" (the thread id the report must name) before the
 * write, and "pid=N" (the main thread's) at the start.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#include "guard_prog.h"

#define WORKERS 4
#define STRAY 2
/* Each round frees 4 objects: 3 clean workers doing at most 300 rounds free
 * fewer than guard_quarantine (4096) objects in all, so the stray thread's
 * freed object stays in the quarantine whatever the timing (once evicted,
 * its address may be mapped again for a new object while the report is
 * printed, and the stray write would land in that object). */
#define MAX_ROUNDS 300

static pthread_barrier_t start;
static _Atomic unsigned rounds_done[WORKERS];

NOINLINE char *thread_alloc(void)
{
    return malloc(1024);
}

NOINLINE void thread_release(char *p)
{
    free(p);
}

NOINLINE void stray_thread_writer(char *p)
{
    ((volatile char *)p)[512] = 0x77;
}

static void one_round(unsigned id, unsigned round)
{
    char *keep[4];
    for (unsigned i = 0; i < 4; i++) {
        keep[i] = thread_alloc();
        if (!keep[i]) {
            printf("FAIL: allocation failed in worker %u\n", id);
            _exit(1);
        }
        memset(keep[i], (int)(id * 16 + i + round), 1024);
    }
    for (unsigned i = 0; i < 4; i++) {
        char want = (char)(id * 16 + i + round);
        if (keep[i][0] != want || keep[i][1023] != want) {
            printf("FAIL: worker %u: object %p changed\n", id, (void *)keep[i]);
            _exit(1);
        }
        thread_release(keep[i]);
    }
    atomic_fetch_add(&rounds_done[id], 1);
}

NOINLINE void *clean_worker(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    pthread_barrier_wait(&start);
    for (unsigned r = 0; r < MAX_ROUNDS; r++)
        one_round(id, r);
    return NULL;
}

static int others_going(void)
{
    for (unsigned i = 0; i < WORKERS; i++)
        if (i != STRAY && atomic_load(&rounds_done[i]) < 10)
            return 0;
    return 1;
}

NOINLINE void *stray_worker(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    pthread_barrier_wait(&start);
    unsigned r = 0;
    while (!others_going() && r < MAX_ROUNDS)
        one_round(id, r++);
    char *p = thread_alloc();
    if (!p)
        _exit(1);
    memset(p, 0x33, 1024);
    printf("stray_tid=%ld\n", (long)syscall(SYS_gettid));
    printf("object=%p\n", (void *)p);
    thread_release(p);
    stray_thread_writer(p);
    printf("survived\n");
    return NULL;
}

int main(void)
{
    prog_start();
    printf("pid=%d\n", (int)getpid());
    pthread_t t[WORKERS];
    pthread_barrier_init(&start, NULL, WORKERS);
    for (unsigned i = 0; i < WORKERS; i++)
        if (pthread_create(&t[i], NULL, i == STRAY ? stray_worker : clean_worker,
                           (void *)(uintptr_t)i) != 0)
            return 3;
    for (unsigned i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    printf("all joined\n");
    return 0;
}

/*
 * fork() with guarded objects live and sampling on (run with
 * SLABDBG=G,kmalloc-1024,kmalloc-5120 and sample_rate=1): while a thread of the parent
 * keeps allocating and freeing guarded and sampled objects, the parent
 * forks three children.  Each child checks and frees the objects it
 * inherited, allocates and frees more of both kinds, and exits 0.  A fourth
 * child writes into a guarded object it freed (child_stray_writer) and must
 * die of SIGSEGV with a report of its own.  That object is a malloc(5000):
 * too large to be sampled, so always of the G cache kmalloc-5120 (the
 * malloc(1024) objects are sampled ones or G ones, by chance).
 *
 *   fork
 *
 * Prints "stray_child=PID" (the pid the one report must carry) and
 * "parent=PID".
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "guard_prog.h"

#define KEPT 8

static _Atomic int stop;
static _Atomic unsigned churned;

NOINLINE char *alloc_big(void)
{
    return malloc(1024);
}

NOINLINE char *alloc_huge_guarded(void)
{
    return malloc(5000);
}

NOINLINE char *alloc_small(void)
{
    return malloc(64);
}

NOINLINE void release(char *p)
{
    free(p);
}

NOINLINE void child_stray_writer(char *p)
{
    ((volatile char *)p)[300] = 9;
}

NOINLINE void *churn(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        char *a = alloc_big(), *b = alloc_small();
        if (!a || !b)
            _exit(5);
        memset(a, 0x5a, 1024);
        memset(b, 0xa5, 64);
        release(b);
        release(a);
        atomic_fetch_add(&churned, 1);
    }
    return NULL;
}

static int child_work(char **big, char **small, unsigned id)
{
    int bad = 0;
    for (unsigned i = 0; i < KEPT; i++) {
        if (big[i][0] != (char)i || big[i][1023] != (char)i || small[i][63] != (char)(i + 100))
            bad = 1;
        release(big[i]);
        release(small[i]);
    }
    for (unsigned r = 0; r < 100; r++) {
        char *a = alloc_big(), *b = alloc_small();
        if (!a || !b)
            return 4;
        memset(a, (int)(id + r), 1024);
        memset(b, (int)(id + r), 64);
        if (a[1000] != (char)(id + r))
            bad = 1;
        release(a);
        release(b);
    }
    return bad ? 3 : 0;
}

int main(void)
{
    prog_start();
    printf("parent=%d\n", (int)getpid());
    char *big[KEPT], *small[KEPT];
    for (unsigned i = 0; i < KEPT; i++) {
        big[i] = alloc_big();
        small[i] = alloc_small();
        if (!big[i] || !small[i])
            return 3;
        memset(big[i], (int)i, 1024);
        memset(small[i], (int)(i + 100), 64);
    }
    pthread_t t;
    if (pthread_create(&t, NULL, churn, NULL) != 0)
        return 3;
    for (unsigned c = 0; c < 3; c++) {
        /* Fork while the thread is busy allocating. */
        unsigned seen = atomic_load(&churned);
        while (atomic_load(&churned) < seen + 20)
            sched_yield();
        pid_t pid = fork();
        if (pid < 0)
            return 3;
        if (pid == 0)
            exit(child_work(big, small, c));
        int status = 0;
        PROG_CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
        PROG_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                   "child %u: status %#x (exit %d, signal %d)", c, (unsigned)status,
                   WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                   WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    }
    pid_t pid = fork();
    if (pid < 0)
        return 3;
    if (pid == 0) {
        char *p = alloc_huge_guarded();
        if (!p)
            _exit(3);
        release(p);
        child_stray_writer(p);
        _exit(0);
    }
    printf("stray_child=%d\n", (int)pid);
    int status = 0;
    PROG_CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    PROG_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
               "stray child: status %#x, not killed by SIGSEGV", (unsigned)status);
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    for (unsigned i = 0; i < KEPT; i++) {
        PROG_CHECK(big[i][0] == (char)i && small[i][63] == (char)(i + 100),
                   "parent's object %u changed", i);
        release(big[i]);
        release(small[i]);
    }
    printf("parent done\n");
    return prog_failures ? 1 : 0;
}

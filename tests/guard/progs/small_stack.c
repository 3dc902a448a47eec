/*
 * A use after free made by a thread with a small stack (64 KiB) that has
 * never allocated anything itself: the object was allocated and freed by
 * the main thread.  The report must come out as for any other thread.
 *
 *   small_stack
 */
#include <pthread.h>

#include "guard_prog.h"

static char *victim;

NOINLINE char *alloc_buffer(void)
{
    return malloc(1024);
}

NOINLINE void release_buffer(char *p)
{
    free(p);
}

NOINLINE void small_stack_writer(char *p)
{
    ((volatile char *)p)[40] = 1;
}

NOINLINE void *small_stack_thread(void *arg)
{
    (void)arg;
    small_stack_writer(victim);
    return NULL;
}

int main(void)
{
    prog_start();
    victim = alloc_buffer();
    if (!victim)
        return 3;
    printf("object=%p\n", (void *)victim);
    release_buffer(victim);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_t t;
    if (pthread_create(&t, &attr, small_stack_thread, NULL) != 0)
        return 3;
    pthread_join(t, NULL);
    printf("survived\n");
    return 0;
}

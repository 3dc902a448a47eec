/*
 * Write after free across threads: one thread allocates, another frees, the
 * main thread writes into the freed object, and a fourth thread allocates
 * it again and finds the poison overwritten.  The tracks must name the
 * allocating and freeing threads (their thread ids are printed as
 * alloc_tid and free_tid).
 */
#include <pthread.h>
#include <unistd.h>

#include "bug_common.h"

#define SIZE 384

static char *object, *again;
static long alloc_tid, free_tid;

static NOINLINE void *alloc_in_thread(void *arg)
{
    (void)arg;
    alloc_tid = gettid();
    object = malloc(SIZE);
    memset(object, 'a', SIZE);
    return NULL;
}

static NOINLINE void *free_in_thread(void *arg)
{
    (void)arg;
    free_tid = gettid();
    free(object);
    return NULL;
}

static NOINLINE void stray_writer(char *p)
{
    memcpy(p + 40, "\x01\x02", 2);
}

static NOINLINE void *reuse_in_thread(void *arg)
{
    (void)arg;
    again = malloc(SIZE);
    return NULL;
}

static void in_thread(void *(*fn)(void *))
{
    pthread_t t;
    if (pthread_create(&t, NULL, fn, NULL) || pthread_join(t, NULL))
        exit(2);
}

int main(int argc, char **argv)
{
    in_thread(alloc_in_thread);
    in_thread(free_in_thread);
    if (!is_clean(argc, argv))
        stray_writer(object);
    in_thread(reuse_in_thread);
    fact_ptr("object", object);
    fact_long("reused", again == object);
    fact_long("alloc_tid", alloc_tid);
    fact_long("free_tid", free_tid);
    free(again);
    return finish();
}

/*
 * The stress programs' hand-off queue: a bounded FIFO of objects between
 * threads, under a mutex.  SQUEUE_CAP (items) may be defined before this
 * header is included.
 */
#ifndef STRESS_QUEUE_H
#define STRESS_QUEUE_H

#include <pthread.h>

#include "stress_obj.h"

#ifndef SQUEUE_CAP
#define SQUEUE_CAP 1024
#endif

struct queue {
    pthread_mutex_t lock;
    unsigned head, tail; /* tail - head = number of items */
    struct sobj *item[SQUEUE_CAP];
};

/* Appends o; 0 when the queue is full. */
static inline int q_push(struct queue *q, struct sobj *o)
{
    int ok = 0;
    pthread_mutex_lock(&q->lock);
    if (q->tail - q->head < SQUEUE_CAP) {
        q->item[q->tail++ % SQUEUE_CAP] = o;
        ok = 1;
    }
    pthread_mutex_unlock(&q->lock);
    return ok;
}

/* Takes up to max items, oldest first; returns how many. */
static inline int q_pop_many(struct queue *q, struct sobj **out, int max)
{
    int n = 0;
    pthread_mutex_lock(&q->lock);
    while (n < max && q->head != q->tail)
        out[n++] = q->item[q->head++ % SQUEUE_CAP];
    pthread_mutex_unlock(&q->lock);
    return n;
}

#endif

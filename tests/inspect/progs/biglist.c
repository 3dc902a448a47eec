/*
 * A large heap, all of it reachable through one chain, beside a known set
 * of leaked objects: what the leak scan must tell apart on any heap size.
 *
 *   biglist [OBJECTS [LEAKS [MiB]]]
 *
 * OBJECTS nodes of every size class (8 bytes up to huge objects of several
 * MiB), allocated by the main thread and by a second thread that stays
 * alive with objects in its thread cache, linked in one list from a global.
 * The links vary as real programs do: most point at the next node's start,
 * some at its inside (an interior pointer), and the link of the larger
 * nodes lies at their last word, so a scan that reads less than the whole
 * object loses the rest of the chain.  Nodes freed in between (thread
 * caches, free lists) must not count.  One node is aligned to 8 MiB (a huge
 * object the segment map does not know).  With MiB given, nodes are added
 * until the heap holds that much, and written whole (the heap is resident);
 * else only their first 4 KiB are written.
 *
 * Then LEAKS objects are allocated and dropped.  It prints
 *   NODES <count> <bytes>
 *   LEAKS <count> <bytes> (each of a class's exact size, or huge)
 *   READY <pid>
 * and waits for the end of its input ("abort" dumps core).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The sizes cycled through: every class of the allocator up to 512 KiB
 * (8, 16-byte steps to 128, then eight per doubling) and huge ones. */
static size_t sizes[128];
static int nsizes;

static void make_sizes(void)
{
    sizes[nsizes++] = 8;
    for (size_t s = 16; s <= 128; s += 16)
        sizes[nsizes++] = s;
    for (size_t base = 128; base < ((size_t)512 << 10); base *= 2)
        for (size_t k = 1; k <= 8; k++)
            sizes[nsizes++] = base + base / 8 * k;
    sizes[nsizes++] = (size_t)600 << 10; /* huge, one segment */
    sizes[nsizes++] = (size_t)5 << 20;   /* huge, spans segments */
}

/* The chain: a node's link is a pointer to the next node (its start, or
 * 24 bytes in when the node is large enough: an interior pointer), kept at
 * word 0, or at its last word for nodes of 256 bytes and more. */
static void *volatile head;

static size_t size_of(unsigned long i)
{
    /* Mostly small objects, as in real heaps; every class now and then. */
    if (i % 4 != 0)
        return 8 + (i * 8) % 200;
    unsigned long k = i / 4 % (unsigned long)nsizes;
    /* Large ones rarely: they would take all the memory otherwise. */
    if (sizes[k] > ((size_t)512 << 10) && i % 8192 != 0)
        return 100;
    if (sizes[k] > ((size_t)16 << 10) && i % 64 != 0)
        return 1000;
    return sizes[k];
}

static void **link_of(void *node, size_t size)
{
    return size >= 256 ? (void **)((char *)node + (size & ~(size_t)7) - 8) : (void **)node;
}

struct chain {
    void *first, *last;
    size_t last_size;
    unsigned long count;
    uint64_t bytes;
};

static FILE *dump;
static struct chain second;

static void append(struct chain *c, void *node, size_t size)
{
    if (dump)
        fprintf(dump, "%d %p %zu\n", c == &second, node, size);
    *link_of(node, size) = NULL;
    if (!c->first) {
        c->first = node;
    } else {
        /* Interior pointers to every third node that has room. */
        char *to = (char *)node + (size >= 32 && c->count % 3 == 0 ? 24 : 0);
        *link_of(c->last, c->last_size) = to;
    }
    c->last = node;
    c->last_size = size;
    c->count++;
    c->bytes += size;
}

/* Builds count nodes (or bytes, when limit is non-zero), freeing every
 * seventh allocation again so that free objects lie among live ones. */
static void build(struct chain *c, unsigned long count, uint64_t limit, unsigned long salt)
{
    for (unsigned long i = 0; limit ? c->bytes < limit : i < count; i++) {
        size_t size = size_of(i + salt);
        void *p = malloc(size);
        if (!p) {
            perror("malloc");
            exit(1);
        }
        memset(p, (int)(i & 0x7f) | 1, limit || size < 4096 ? size : 4096);
        if (i % 7 == 3) {
            free(p);
            continue;
        }
        append(c, p, size);
    }
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int second_done;
static unsigned long second_count;
static uint64_t second_limit;

static void *second_thread(void *arg)
{
    (void)arg;
    build(&second, second_count, second_limit, 1);
    /* Objects freed by this thread stay in its thread cache. */
    void *some[64];
    for (size_t size = 8; size <= 64; size += 40) {
        for (int i = 0; i < 64; i++)
            some[i] = malloc(size);
        for (int i = 0; i < 64; i++)
            free(some[i]);
    }
    pthread_mutex_lock(&mu);
    second_done = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (;;)
        pause(); /* alive, so its cache is not flushed */
    return NULL;
}

/* Allocated and forgotten: nothing keeps their addresses. */
__attribute__((noinline)) static uint64_t leak_some(unsigned long n)
{
    uint64_t bytes = 0;
    for (unsigned long i = 0; i < n; i++) {
        size_t size = sizes[(i * 5) % (unsigned long)nsizes];
        char *p = malloc(size);
        memset(p, 0x4c, size < 4096 ? size : 4096);
        if (dump)
            fprintf(dump, "leak %p %zu\n", (void *)p, size);
        bytes += size;
        p = NULL;
    }
    return bytes;
}

__attribute__((noinline)) static void scrub_stack(void)
{
    volatile char buf[32768];
    memset((char *)buf, 0, sizeof(buf));
}

int main(int argc, char **argv)
{
    unsigned long objects = argc > 1 ? strtoul(argv[1], NULL, 0) : 200000;
    unsigned long leaks = argc > 2 ? strtoul(argv[2], NULL, 0) : 100;
    uint64_t limit = argc > 3 ? strtoull(argv[3], NULL, 0) << 20 : 0;
    /* No stdio buffers: stdin's end pointer (one past its buffer) would
     * keep a leaked object behind it reachable, as any such pointer does. */
    setvbuf(stdout, NULL, _IONBF, 0);
    setvbuf(stdin, NULL, _IONBF, 0);
    make_sizes();
    if (getenv("BIGLIST_DUMP"))
        dump = fopen(getenv("BIGLIST_DUMP"), "w");

    second_count = objects / 4;
    second_limit = limit / 4;
    pthread_t t;
    pthread_create(&t, NULL, second_thread, NULL);
    struct chain first = {0};
    build(&first, objects - objects / 4, limit - limit / 4, 0);
    /* A huge object aligned beyond the segment size: on its own list. */
    void *aligned;
    if (posix_memalign(&aligned, (size_t)8 << 20, 100000) != 0)
        return 1;
    append(&first, aligned, 100000);
    pthread_mutex_lock(&mu);
    while (!second_done)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    /* One chain: the second thread's nodes behind the first's. */
    *link_of(first.last, first.last_size) = second.first;
    head = first.first;
    first.first = first.last = second.first = second.last = NULL;

    uint64_t leaked = leak_some(leaks);
    if (dump)
        fclose(dump);
    scrub_stack();
    printf("NODES %lu %llu\n", first.count + second.count,
           (unsigned long long)(first.bytes + second.bytes));
    printf("LEAKS %lu %llu\n", leaks, (unsigned long long)leaked);
    printf("READY %d\n", (int)getpid());
    char line[64];
    while (fgets(line, sizeof(line), stdin))
        if (!strncmp(line, "abort", 5))
            abort();
    /* The chain is still in use here. */
    return head == NULL;
}

/*
 * A heap in a known state for the inspection commands: live, freed and
 * leaked objects whose addresses it prints, then it waits.  On stdin:
 * "abort" dumps core (SIGABRT), end of input exits.
 *
 *   ADDR live <addr> <size>     reachable from a global, a stack or the heap
 *   ADDR freed <addr> <size>
 *   ADDR leak <addr> <size>     nothing points to it any more
 *   ADDR huge <addr> <size>
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
    struct node *next;
    char payload[40];
};

/* Roots the leak scan must find (volatile: the compiler keeps the stores). */
struct node *volatile list_head;   /* data/bss: a list of 50 nodes */
void *volatile keep_huge;          /* a huge object */
__thread void *volatile tls_ptr;   /* thread-local storage */

#define NLEAK 7

/* Allocated and forgotten; the addresses are printed, never kept. */
__attribute__((noinline)) static void leak_some(void)
{
    for (int i = 0; i < NLEAK; i++) {
        char *p = malloc(72);
        memset(p, 'L', 72);
        /* Print the address hidden from the stack: as two halves. */
        uintptr_t a = (uintptr_t)p;
        printf("ADDR leak 0x%lx 72\n", (unsigned long)a);
        a = 0;
        p = NULL;
    }
}

/* Overwrites what the calls above left on the stack. */
__attribute__((noinline)) static void scrub_stack(void)
{
    volatile char buf[16384];
    memset((char *)buf, 0, sizeof(buf));
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    for (int i = 0; i < 50; i++) {
        struct node *n = malloc(sizeof(*n));
        memset(n->payload, 'N', sizeof(n->payload));
        n->next = list_head;
        list_head = n;
        printf("ADDR live 0x%lx %zu\n", (unsigned long)n, sizeof(*n));
    }
    char *volatile on_stack = malloc(1000); /* the stack */
    memset(on_stack, 'S', 600);
    printf("ADDR live 0x%lx 1000\n", (unsigned long)on_stack);
    tls_ptr = malloc(300);
    printf("ADDR live 0x%lx 300\n", (unsigned long)tls_ptr);
    char *freed = malloc(1000);
    memset(freed, 'F', 1000);
    printf("ADDR freed 0x%lx 1000\n", (unsigned long)freed);
    free(freed);
    freed = NULL;
    keep_huge = malloc(3 << 20);
    memset(keep_huge, 'H', 4096);
    printf("ADDR huge 0x%lx %d\n", (unsigned long)keep_huge, 3 << 20);
    leak_some();
    scrub_stack();
    printf("READY\n");
    char line[64];
    while (fgets(line, sizeof(line), stdin)) {
        if (!strncmp(line, "abort", 5))
            abort();
    }
    /* Still in use here: the stack root must keep it. */
    return on_stack[0] == 'S' ? 0 : 1;
}

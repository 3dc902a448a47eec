/*
 * free() of memory that is not the allocator's:
 *   foreign_free static|stack|mmap [warm] [clean]
 * The memory must be left alone (its contents are checked afterwards).
 * Without "warm" the bad free is the first thing the program does after
 * start-up; with it, a malloc/free pair comes first.
 */
#include <sys/mman.h>

#include "bug_common.h"

static char static_buffer[256];

static NOINLINE void free_foreign(void *p)
{
    free(launder(p));
}

static NOINLINE long run_stack(int clean)
{
    char stack_buffer[256];
    memset(stack_buffer, 's', sizeof(stack_buffer));
    if (!clean)
        free_foreign(stack_buffer + 64);
    fact_ptr("pointer", stack_buffer + 64);
    long intact = 1;
    for (size_t i = 0; i < sizeof(stack_buffer); i++)
        intact &= stack_buffer[i] == 's';
    return intact;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    int clean = is_clean(argc, argv);
    if (argc > 2 && !strcmp(argv[2], "warm"))
        free(launder(malloc(100)));
    long intact = 1;
    if (!strcmp(argv[1], "static")) {
        memset(static_buffer, 'g', sizeof(static_buffer));
        if (!clean)
            free_foreign(static_buffer);
        fact_ptr("pointer", static_buffer);
        for (size_t i = 0; i < sizeof(static_buffer); i++)
            intact &= static_buffer[i] == 'g';
    } else if (!strcmp(argv[1], "stack")) {
        intact = run_stack(clean);
    } else {
        char *m = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return 2;
        memset(m, 'm', 1 << 16);
        if (!clean)
            free_foreign(m + 4096);
        fact_ptr("pointer", m + 4096);
        for (size_t i = 0; i < (1 << 16); i++)
            intact &= m[i] == 'm';
        munmap(m, 1 << 16);
    }
    fact_long("intact", intact);
    return finish();
}

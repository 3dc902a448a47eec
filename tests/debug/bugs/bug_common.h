/*
 * Shared by the bug programs of tests/debug/bugs/.
 *
 * Each program commits one kind of memory error in functions named for their
 * role (alloc_request, free_request, stray_writer, ...), so the stacks of the
 * report can be checked by name, then prints what the checker needs to know
 * as "key=value" lines on stdout (addresses, offsets, return values) and
 * ends with "reports=N" (slabdbg_report_count(), looked up at run time so
 * the malloc-only programs need not link the library) and "done".
 *
 * Nothing is printed before the error is found: stdio allocates its buffer
 * on first use, which must not disturb the allocation order of the test.
 * With the argument "clean" a program does the same work without the error.
 */
#ifndef DEBUG_BUG_COMMON_H
#define DEBUG_BUG_COMMON_H

#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

/* Facts gathered while the test runs, printed at the end. */
#define FACTS_MAX 16
static struct {
    const char *key;
    char value[64];
} facts[FACTS_MAX];
static int nfacts;

static __attribute__((unused)) void fact_ptr(const char *key, const void *p)
{
    if (nfacts < FACTS_MAX) {
        facts[nfacts].key = key;
        snprintf(facts[nfacts].value, sizeof(facts[nfacts].value), "%#lx", (unsigned long)(uintptr_t)p);
        nfacts++;
    }
}

static __attribute__((unused)) void fact_long(const char *key, long v)
{
    if (nfacts < FACTS_MAX) {
        facts[nfacts].key = key;
        snprintf(facts[nfacts].value, sizeof(facts[nfacts].value), "%ld", v);
        nfacts++;
    }
}

/* Calls a slabdbg entry point that returns an integer; -1 when slabdbg is
 * not loaded. */
static __attribute__((unused)) long slabdbg_call(const char *name)
{
    void *f = dlsym(RTLD_DEFAULT, name);
    if (!f)
        return -1;
    if (!strcmp(name, "slabdbg_validate"))
        return ((int (*)(void))f)();
    return (long)((unsigned long (*)(void))f)();
}

static __attribute__((unused)) int is_clean(int argc, char **argv)
{
    return argc > 1 && !strcmp(argv[argc - 1], "clean");
}

static int finish(void)
{
    for (int i = 0; i < nfacts; i++)
        printf("%s=%s\n", facts[i].key, facts[i].value);
    printf("reports=%ld\ndone\n", slabdbg_call("slabdbg_report_count"));
    fflush(stdout);
    return 0;
}

/* Hides a pointer's origin from the compiler, so that deliberate misuse
 * (free of a static, out-of-bounds offsets) compiles without warnings. */
static NOINLINE __attribute__((unused)) void *launder(void *p)
{
    void *volatile v = p;
    return v;
}

#endif

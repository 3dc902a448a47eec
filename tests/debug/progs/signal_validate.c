/*
 * validate_signal: a write after free, then the signal that makes slabdbg
 * validate; waits (at most 10 s) for the report to be made, without any
 * allocation of its own in between.  Then the same again with a second
 * object: validations run one after the other in slabdbg's thread, so once
 * the second report is made, the first validation has also printed its
 * summary line.
 */
#include <signal.h>
#include <time.h>

#include "../bugs/bug_common.h"

static NOINLINE char *alloc_request(void)
{
    return malloc(500);
}

static NOINLINE void free_request(char *p)
{
    free(p);
}

static NOINLINE void stray_writer(char *p)
{
    p[50] = 0x22;
}

static void wait_reports(long n)
{
    for (long waited = 0; slabdbg_call("slabdbg_report_count") < n && waited < 1000; waited++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    char *p = alloc_request();
    char *q = alloc_request();
    free_request(p);
    stray_writer(p);
    raise(atoi(argv[1]));
    wait_reports(1);
    free_request(q);
    stray_writer(q);
    raise(atoi(argv[1]));
    wait_reports(2);
    fact_ptr("object", p);
    fact_ptr("object2", q);
    return finish();
}

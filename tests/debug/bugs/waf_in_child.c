/*
 * Write after free in a child process: the parent forks, the child
 * allocates, frees, writes after free and allocates again; the report must
 * carry the child's pid (printed by the parent as report_pid).  The parent
 * itself does nothing wrong.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "bug_common.h"

static NOINLINE char *alloc_request(void)
{
    return malloc(700);
}

static NOINLINE void free_request(char *p)
{
    free(p);
}

static NOINLINE void stray_writer(char *p)
{
    p[600] = 0x33;
}

static NOINLINE char *reuse_request(void)
{
    return malloc(700);
}

int main(int argc, char **argv)
{
    int clean = is_clean(argc, argv);
    char *mine = malloc(700); /* the parent's own object, live across fork */
    memset(mine, 'm', 700);
    fflush(stdout);
    pid_t child = fork();
    if (child < 0)
        return 2;
    if (child == 0) {
        char *p = alloc_request();
        free_request(p);
        if (!clean)
            stray_writer(p);
        char *q = reuse_request();
        free(q);
        free(mine);
        _exit(q == p ? 0 : 3);
    }
    int status = 0;
    waitpid(child, &status, 0);
    free(mine);
    fact_long("report_pid", child);
    fact_long("alloc_tid", child);
    fact_long("free_tid", child);
    fact_long("child_status", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return finish();
}

/*
 * Checks that the preloaded library survives exec: each generation
 * verifies that slabdbg provides malloc in its own process, prints
 * "gen=<n> pid=<pid> lib=<0|1>", then starts the next generation by
 * fork+execv, posix_spawn, or execv in place (same pid), in turn.
 * Usage: exec_chain DEPTH
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int lib_in_use(void)
{
    void *sym = dlsym(RTLD_DEFAULT, "slabdbg_owns");
    if (!sym)
        return 0;
    int (*owns)(const void *);
    memcpy(&owns, &sym, sizeof owns);
    void *p = malloc(100);
    int r = p && owns(p) == 1;
    free(p);
    return r;
}

static int wait_ok(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return 0;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    int depth = atoi(argv[1]);
    /* some allocation so the stats show kmalloc use */
    char *buf[64];
    for (int i = 0; i < 64; i++) {
        buf[i] = malloc(16 + (size_t)i * 40);
        if (!buf[i])
            return 3;
        memset(buf[i], i, 16 + (size_t)i * 40);
    }
    for (int i = 0; i < 64; i++)
        free(buf[i]);
    printf("gen=%d pid=%ld lib=%d\n", depth, (long)getpid(), lib_in_use());
    fflush(stdout);
    if (depth == 0)
        return 0;

    char next[16];
    snprintf(next, sizeof next, "%d", depth - 1);
    char *args[] = {argv[0], next, NULL};
    switch (depth % 3) {
    case 0: { /* fork + execv */
        pid_t pid = fork();
        if (pid < 0)
            return 4;
        if (pid == 0) {
            execv("/proc/self/exe", args);
            _exit(127);
        }
        return wait_ok(pid) ? 0 : 5;
    }
    case 1: { /* posix_spawn */
        pid_t pid;
        if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, args, environ) != 0)
            return 6;
        return wait_ok(pid) ? 0 : 7;
    }
    default: /* execv in place: the new image keeps the pid */
        execv("/proc/self/exe", args);
        return 8;
    }
}

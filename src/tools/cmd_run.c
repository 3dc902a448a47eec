/*
 * slabdbg run [--] CMD ARGS...: run CMD with libslabdbg.so preloaded and
 * pass its exit status through (128+N when it dies of signal N).
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/tools.h"

#define LIB_NAME "libslabdbg.so"

/* The library beside this executable (build tree), or in ../lib (installed). */
static int find_library(char *out, size_t size)
{
    const char *env = getenv("SLABDBG_LIB");
    if (env && *env) {
        if (access(env, R_OK) == 0) {
            snprintf(out, size, "%s", env);
            return 0;
        }
        fprintf(stderr, "slabdbg run: SLABDBG_LIB=%s: %s\n", env, strerror(errno));
        return -1;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n < 0) {
        fprintf(stderr, "slabdbg run: cannot find own executable: %s\n", strerror(errno));
        return -1;
    }
    exe[n] = 0;
    const char *dir = dirname(exe);
    const char *candidates[] = {"%s/" LIB_NAME, "%s/../lib/" LIB_NAME,
                                "%s/../lib/slabdbg/" LIB_NAME};
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        snprintf(out, size, candidates[i], dir);
        if (access(out, R_OK) == 0)
            return 0;
    }
    fprintf(stderr, "slabdbg run: %s not found beside %s or in ../lib (set SLABDBG_LIB)\n",
            LIB_NAME, dir);
    return -1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: slabdbg run [--] COMMAND [ARGS...]\n\n"
               "Runs COMMAND with the slabdbg allocator preloaded (LD_PRELOAD) and exits\n"
               "with its exit status (128+N if it was killed by signal N).\n\n"
               "environment:\n"
               "  SLABDBG_LIB=PATH     the library to preload (default: found beside slabdbg)\n"
               "  SLABDBG_STATS=DEST   print per-cache statistics at exit: 1 or stderr, or a\n"
               "                       file path in which %%p becomes the process id\n");
}

int cmd_run(int argc, char **argv)
{
    int i = 1;
    if (i < argc && (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (i < argc && !strcmp(argv[i], "--"))
        i++;
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    char lib[PATH_MAX];
    if (find_library(lib, sizeof(lib)) < 0)
        return 125;
    char abs[PATH_MAX];
    if (realpath(lib, abs))
        snprintf(lib, sizeof(lib), "%s", abs);
    const char *old = getenv("LD_PRELOAD");
    char *preload;
    if (old && *old) {
        size_t len = strlen(lib) + strlen(old) + 2;
        preload = malloc(len);
        if (!preload) {
            perror("slabdbg run");
            return 125;
        }
        snprintf(preload, len, "%s:%s", lib, old);
    } else {
        preload = lib;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("slabdbg run: fork");
        return 125;
    }
    if (pid == 0) {
        setenv("LD_PRELOAD", preload, 1);
        execvp(argv[i], argv + i);
        fprintf(stderr, "slabdbg run: %s: %s\n", argv[i], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    /* The child owns the terminal's signals; we only wait for it. */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            perror("slabdbg run: waitpid");
            return 125;
        }
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 125;
}

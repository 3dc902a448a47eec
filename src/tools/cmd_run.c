/*
 * slabdbg run [--] CMD ARGS...: run CMD with libslabdbg.so preloaded and
 * pass its exit status through (128+N when it dies of signal N).
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/options_table.h"
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

#define OPT_HELP_LINE(name, type, def, help)                                                       \
    fprintf(f, "  %-18s %-5s (default: %s)\n                           %s\n", #name, #type,        \
            *def ? def : "none", help);

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: slabdbg run [-d FLAGS] [-o OPTIONS] [--error-exitcode N] [--] COMMAND [ARGS...]\n"
        "\n"
        "Runs COMMAND with the slabdbg allocator preloaded (LD_PRELOAD) and exits with\n"
        "its exit status (128+N if it was killed by signal N).  If slabdbg reported a\n"
        "bug in COMMAND or any process it started and COMMAND exited 0, the exit status\n"
        "is N (--error-exitcode, default 1).\n"
        "\n"
        "  -d, --debug FLAGS    set SLABDBG=FLAGS: the kernel's slub_debug= syntax, e.g.\n"
        "                       FZPU, FZPU,kmalloc-1024, P,kmalloc-*;U,request\n"
        "                       (F checks, Z red zones, P poison, U tracks, T trace,\n"
        "                       A fail allocations, O off where costly, - none)\n"
        "  -o, --options OPTS   add name=value[:name=value...] to SLABDBG_OPTIONS:\n");
    SLABDBG_OPTION_TABLE(OPT_HELP_LINE)
    fprintf(f, "\n"
               "environment:\n"
               "  SLABDBG_LIB=PATH     the library to preload (default: found beside slabdbg)\n"
               "  SLABDBG_STATS=DEST   short for SLABDBG_OPTIONS=stats=DEST\n");
}

/* Appends "name=value" to SLABDBG_OPTIONS in this process's environment. */
static int options_append(const char *add)
{
    const char *old = getenv("SLABDBG_OPTIONS");
    size_t len = strlen(add) + (old ? strlen(old) : 0) + 2;
    char *v = malloc(len);
    if (!v)
        return -1;
    if (old && *old)
        snprintf(v, len, "%s:%s", old, add);
    else
        snprintf(v, len, "%s", add);
    int r = setenv("SLABDBG_OPTIONS", v, 1);
    free(v);
    return r;
}

/* A temporary file the library appends a line to for each report. */
static int make_status_file(char *path, size_t size)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, size, "%s/slabdbg-run.XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    char opt[PATH_MAX + 32];
    snprintf(opt, sizeof(opt), "status_file=%s", path);
    return options_append(opt);
}

static long reports_in(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    long n = 0;
    int c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

int cmd_run(int argc, char **argv)
{
    int i = 1;
    int error_exitcode = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        bool has_value = i + 1 < argc;
        if ((!strcmp(a, "-d") || !strcmp(a, "--debug")) && has_value) {
            setenv("SLABDBG", argv[++i], 1);
        } else if ((!strcmp(a, "-o") || !strcmp(a, "--options")) && has_value) {
            if (options_append(argv[++i]) < 0) {
                perror("slabdbg run");
                return 125;
            }
        } else if (!strcmp(a, "--error-exitcode") && has_value) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 0 || v > 255) {
                fprintf(stderr, "slabdbg run: --error-exitcode wants 0 to 255, not '%s'\n",
                        argv[i]);
                return 2;
            }
            error_exitcode = (int)v;
        } else {
            fprintf(stderr, "slabdbg run: unknown or incomplete option '%s' (try --help)\n", a);
            return 2;
        }
    }
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
    char status_path[PATH_MAX];
    if (make_status_file(status_path, sizeof(status_path)) < 0) {
        fprintf(stderr, "slabdbg run: cannot create a status file: %s\n", strerror(errno));
        return 125;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("slabdbg run: fork");
        unlink(status_path);
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
    long reports = reports_in(status_path);
    unlink(status_path);
    int code = 125;
    if (WIFEXITED(status))
        code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        code = 128 + WTERMSIG(status);
    if (reports) {
        fprintf(stderr, "slabdbg: %ld report%s (see above)\n", reports, reports == 1 ? "" : "s");
        if (code == 0)
            code = error_exitcode;
    }
    return code;
}

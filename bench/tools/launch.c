/*
 * bench_launch: run one benchmark process and report its wall time and peak
 * RSS.  Used by bench/run.py.
 *
 *     bench_launch -o RESULT [-e NAME=VALUE]... -- PROGRAM [ARG]...
 *
 * Why a separate launcher: Linux carries the peak RSS of the address space
 * that a process had before execve() over into its ru_maxrss.  A process
 * spawned directly by the (large) Python runner would therefore never report
 * less than the runner's own size.  This launcher is small, so the peak RSS
 * of its child is the child's own.
 *
 * The -e variables are set for PROGRAM only (the launcher itself does not run
 * with, say, LD_PRELOAD of the allocator under test: variables of the
 * dynamic loader are read when a program starts, and the launcher has
 * started already).  RESULT receives one line:
 *
 *     exit=<status or -1> signal=<number or 0> maxrss_kib=<n> wall_s=<seconds>
 *     user_s=<seconds> sys_s=<seconds>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_launch -o RESULT [-e NAME=VALUE]... -- PROGRAM [ARG]...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *result = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "+o:e:")) != -1) {
        switch (opt) {
        case 'o':
            result = optarg;
            break;
        case 'e': {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg)
                usage();
            *eq = 0;
            if (setenv(optarg, eq + 1, 1) != 0) {
                perror("bench_launch: setenv");
                return 2;
            }
            break;
        }
        default:
            usage();
        }
    }
    if (!result || optind >= argc)
        usage();

    FILE *out = fopen(result, "w");
    if (!out) {
        perror("bench_launch: result file");
        return 2;
    }
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0) {
        perror("bench_launch: fork");
        return 2;
    }
    if (pid == 0) {
        fclose(out);
        execvp(argv[optind], argv + optind);
        fprintf(stderr, "bench_launch: cannot run %s: %s\n", argv[optind], strerror(errno));
        _exit(127);
    }
    int status;
    struct rusage ru;
    pid_t w;
    while ((w = wait4(pid, &status, 0, &ru)) < 0 && errno == EINTR)
        ;
    double wall = now() - t0;
    if (w < 0) {
        perror("bench_launch: wait4");
        return 2;
    }
    fprintf(out, "exit=%d signal=%d maxrss_kib=%ld wall_s=%.6f user_s=%.6f sys_s=%.6f\n",
            WIFEXITED(status) ? WEXITSTATUS(status) : -1,
            WIFSIGNALED(status) ? WTERMSIG(status) : 0, ru.ru_maxrss, wall,
            (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6,
            (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6);
    if (fclose(out) != 0) {
        perror("bench_launch: result file");
        return 2;
    }
    return 0;
}

/*
 * The child that tests of "slabdbg run" run: it records every signal it
 * receives, one line each, so that a test can check that a signal sent to
 * the wrapper arrived once, with its sender's kind and value.
 *
 *   sigwatch signals LOG     record signals in LOG; after SIGTERM, wait
 *                            0.3 s for duplicates and exit 0
 *   sigwatch killgroup LOG   the same, after sending SIGUSR1 to its own
 *                            process group (the wrapper included)
 *   sigwatch double-free     free one object twice (a report under F)
 *
 * Each line of LOG: "<signal number> <si_code> <si_value.sival_int>".
 * "ready" on standard output says the handlers are installed.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_fd = -1;
static volatile sig_atomic_t terminated;

static size_t put_int(char *buf, long v)
{
    char tmp[24];
    size_t n = 0, len = 0;
    unsigned long u = v < 0 ? (unsigned long)-v : (unsigned long)v;
    do
        tmp[n++] = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        buf[len++] = '-';
    while (n)
        buf[len++] = tmp[--n];
    return len;
}

static void record(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    char line[80];
    size_t n = put_int(line, sig);
    line[n++] = ' ';
    n += put_int(line + n, si->si_code);
    line[n++] = ' ';
    n += put_int(line + n, si->si_code == SI_QUEUE ? si->si_value.sival_int : 0);
    line[n++] = '\n';
    if (write(log_fd, line, n) < 0)
        _exit(3);
    if (sig == SIGTERM)
        terminated = 1;
}

static int watch(const char *log, int killgroup)
{
    log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        perror(log);
        return 2;
    }
    const int sigs[] = {SIGHUP,  SIGINT,   SIGQUIT, SIGUSR1, SIGUSR2,     SIGALRM,
                        SIGTERM, SIGWINCH, SIGCONT, SIGPIPE, SIGRTMIN + 1};
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = record;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
    if (killgroup)
        kill(0, SIGUSR1);
    printf("ready\n");
    fflush(stdout);
    while (!terminated)
        pause();
    struct timespec t = {0, 300 * 1000 * 1000};
    while (nanosleep(&t, &t) < 0)
        ;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "signals"))
        return watch(argv[2], 0);
    if (argc == 3 && !strcmp(argv[1], "killgroup"))
        return watch(argv[2], 1);
    if (argc == 2 && !strcmp(argv[1], "double-free")) {
        char *volatile p = malloc(40);
        free(p);
        free(p);
        return 0;
    }
    fprintf(stderr, "usage: sigwatch signals|killgroup LOG | double-free\n");
    return 2;
}

/*
 * A program with its own SIGSEGV handler, installed after slabdbg's (from
 * main) with sigaction() or with signal().  The handler prints a marker and
 * ends the process with _exit(42).
 *
 *   own_handler sigaction|signal uaf    use after free of a guarded object
 *                                       (stray_writer): slabdbg reports it
 *   own_handler sigaction|signal null   a write through a null pointer
 *                                       (null_writer): not slabdbg's, so
 *                                       the program's handler runs
 *
 * Before the access the program checks that asking for the current handler
 * gives back the one it installed.
 */
#include <signal.h>

#include "guard_prog.h"

static void marker(const char *text)
{
    ssize_t r = write(1, text, strlen(text));
    (void)r;
}

NOINLINE void own_info_handler(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    marker(sig == SIGSEGV ? "OWN HANDLER (sigaction) SIGSEGV\n" : "OWN HANDLER (sigaction) ?\n");
    if (si && si->si_addr == NULL)
        marker("OWN HANDLER address 0\n");
    _exit(42);
}

NOINLINE void own_plain_handler(int sig)
{
    marker(sig == SIGSEGV ? "OWN HANDLER (signal) SIGSEGV\n" : "OWN HANDLER (signal) ?\n");
    _exit(42);
}

NOINLINE char *alloc_buffer(void)
{
    return malloc(1024);
}

NOINLINE void release_buffer(char *p)
{
    free(p);
}

NOINLINE void stray_writer(char *p)
{
    ((volatile char *)p)[8] = 1;
}

NOINLINE void null_writer(volatile int *p)
{
    *p = 1;
}

int main(int argc, char **argv)
{
    prog_start();
    if (argc != 3)
        return 2;
    if (!strcmp(argv[1], "sigaction")) {
        struct sigaction sa, now;
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = own_info_handler;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        PROG_CHECK(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction failed");
        PROG_CHECK(sigaction(SIGSEGV, NULL, &now) == 0, "sigaction query failed");
        PROG_CHECK((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == own_info_handler,
                   "sigaction does not give back the program's handler");
    } else if (!strcmp(argv[1], "signal")) {
        PROG_CHECK(signal(SIGSEGV, own_plain_handler) != SIG_ERR, "signal failed");
        PROG_CHECK(signal(SIGSEGV, own_plain_handler) == own_plain_handler,
                   "signal does not give back the program's handler");
    } else {
        return 2;
    }
    printf("handler installed\n");
    if (!strcmp(argv[2], "uaf")) {
        char *p = alloc_buffer();
        if (!p)
            return 3;
        printf("object=%p\n", (void *)p);
        release_buffer(p);
        stray_writer(p);
    } else if (!strcmp(argv[2], "null")) {
        volatile int *volatile nowhere = NULL;
        null_writer(nowhere);
    } else {
        return 2;
    }
    printf("survived\n");
    return prog_failures ? 1 : 0;
}

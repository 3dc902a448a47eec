/*
 * One cell of the signal matrix: sets a disposition for SIGSEGV or SIGBUS
 * with one of the C library's interfaces, makes the signal arrive one way,
 * and prints what the program observes (handler calls, siginfo, the mask
 * inside the handler, the disposition afterwards, EINTR or not).  The
 * runner (run_matrix.py) runs each cell with and without slabdbg and
 * requires the same output and the same end: slabdbg must not change what
 * a program sees of its signals.
 *
 *   sigmatrix SIGNAL API DISPOSITION SENDER
 *     SIGNAL       segv | bus
 *     API          sigaction | signal | sysv_signal | bsd_signal | sigset
 *     DISPOSITION  dfl | ign | handler | siginfo | resethand | nodefer | masked
 *     SENDER       kill | raise | pthread_kill | sigqueue | thread_kill |
 *                  fault | fault_twice | blocked | restart_read | fork_kill
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int sig;
static volatile sig_atomic_t calls;
static sigjmp_buf jump;
static volatile sig_atomic_t may_jump;
static pid_t self;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (write(1, buf, (size_t)n) < 0)
        _exit(3);
}

/* What the handler sees: blocked signals, and for SA_SIGINFO the siginfo. */
static void observe(int s, const siginfo_t *si)
{
    sigset_t now;
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    calls++;
    say("handler call=%d sig=%d self_blocked=%d usr1_blocked=%d", (int)calls, s,
        sigismember(&now, s), sigismember(&now, SIGUSR1));
    if (si)
        say(" code=%d pid_ok=%d value=%d", si->si_code, si->si_pid == self,
            si->si_code == SI_QUEUE ? si->si_value.sival_int : -1);
    say("\n");
    errno = 4242; /* a handler may change errno; the program sees its own */
}

static void on_signal(int s)
{
    observe(s, NULL);
    if (may_jump)
        siglongjmp(jump, 1);
}

static void on_siginfo(int s, siginfo_t *si, void *ctx)
{
    (void)ctx;
    observe(s, si);
    if (may_jump)
        siglongjmp(jump, 1);
}

static const char *disposition_name(void)
{
    struct sigaction old;
    sigaction(sig, NULL, &old);
    if (old.sa_handler == SIG_DFL)
        return "dfl";
    if (old.sa_handler == SIG_IGN)
        return "ign";
    return old.sa_flags & SA_SIGINFO ? "siginfo-handler" : "handler";
}

static void set_disposition(const char *api, const char *disp)
{
    void (*h)(int) = SIG_DFL;
    if (!strcmp(disp, "ign"))
        h = SIG_IGN;
    else if (strcmp(disp, "dfl"))
        h = on_signal;
    if (!strcmp(api, "signal")) {
        signal(sig, h);
    } else if (!strcmp(api, "sysv_signal")) {
        sysv_signal(sig, h);
    } else if (!strcmp(api, "bsd_signal")) {
        extern __sighandler_t bsd_signal(int, __sighandler_t);
        bsd_signal(sig, h);
    } else if (!strcmp(api, "sigset")) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        sigset(sig, h);
#pragma GCC diagnostic pop
    } else {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sigemptyset(&sa.sa_mask);
        sa.sa_handler = h;
        if (!strcmp(disp, "siginfo")) {
            sa.sa_sigaction = on_siginfo;
            sa.sa_flags = SA_SIGINFO;
        } else if (!strcmp(disp, "resethand")) {
            sa.sa_flags = SA_RESETHAND;
        } else if (!strcmp(disp, "nodefer")) {
            sa.sa_flags = SA_NODEFER;
        } else if (!strcmp(disp, "masked")) {
            sigaddset(&sa.sa_mask, SIGUSR1);
        } else if (!strcmp(disp, "handler")) {
            sa.sa_flags = SA_RESTART;
        }
        struct sigaction old;
        if (sigaction(sig, &sa, &old) < 0)
            say("sigaction failed\n");
        say("old=%s\n", old.sa_handler == SIG_DFL ? "dfl" : "other");
    }
}

/* A real fault: SIGSEGV writing to an inaccessible page, SIGBUS reading a
 * file mapping past the end of the file. */
static void make_fault(void)
{
    if (sig == SIGSEGV) {
        volatile char *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        p[8] = 1;
        return;
    }
    char path[] = "/tmp/sigmatrix.XXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    volatile char *p = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
    (void)p[4096];
}

static void *killer(void *arg)
{
    (void)arg;
    kill(self, sig);
    return NULL;
}

/* The main thread blocks in read(); another thread sends the signal once
 * the read is under way (seen in /proc), then writes.  SA_RESTART decides
 * whether read() returns the byte or fails with EINTR. */
static int pipefd[2];
static pid_t main_tid;

static void *interrupter(void *arg)
{
    pthread_t main_thread = *(pthread_t *)arg;
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)main_tid);
    for (int i = 0; i < 10000; i++) {
        char buf[64] = "";
        int fd = open(path, O_RDONLY);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
        if (fd >= 0)
            close(fd);
        if (n > 0 && !strncmp(buf, "0 ", 2)) /* blocked in read (syscall 0) */
            break;
        usleep(1000);
    }
    pthread_kill(main_thread, sig);
    usleep(50000);
    if (write(pipefd[1], "x", 1) < 0)
        _exit(3);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: sigmatrix segv|bus API DISPOSITION SENDER\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    sig = !strcmp(argv[1], "bus") ? SIGBUS : SIGSEGV;
    const char *api = argv[2], *disp = argv[3], *sender = argv[4];
    self = getpid();
    free(malloc(32)); /* the allocator is up */
    set_disposition(api, disp);
    say("disposition=%s\n", disposition_name());

    if (!strcmp(sender, "fault") || !strcmp(sender, "fault_twice")) {
        volatile int rounds = !strcmp(sender, "fault_twice") ? 2 : 1;
        for (volatile int i = 0; i < rounds; i++) {
            may_jump = 1;
            if (sigsetjmp(jump, 1) == 0) {
                make_fault();
                say("no fault\n");
            } else {
                say("back from handler %d\n", i + 1);
            }
            may_jump = 0;
        }
    } else if (!strcmp(sender, "kill")) {
        errno = 0;
        kill(self, sig);
        say("after kill errno=%d\n", errno);
    } else if (!strcmp(sender, "raise")) {
        raise(sig);
    } else if (!strcmp(sender, "pthread_kill")) {
        pthread_kill(pthread_self(), sig);
    } else if (!strcmp(sender, "sigqueue")) {
        union sigval v = {.sival_int = 77};
        sigqueue(self, sig, v);
    } else if (!strcmp(sender, "thread_kill")) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        pthread_t t;
        pthread_create(&t, NULL, killer, NULL);
        pthread_join(t, NULL);
        /* The signal may have gone to either thread; wait until handled. */
        for (int i = 0; i < 1000 && !calls && strcmp(disp, "ign"); i++)
            usleep(1000);
    } else if (!strcmp(sender, "blocked")) {
        sigset_t set, pending;
        sigemptyset(&set);
        sigaddset(&set, sig);
        sigprocmask(SIG_BLOCK, &set, NULL);
        kill(self, sig);
        sigpending(&pending);
        say("pending=%d calls=%d\n", sigismember(&pending, sig), (int)calls);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
    } else if (!strcmp(sender, "restart_read")) {
        if (pipe(pipefd) < 0)
            return 3;
        main_tid = (pid_t)syscall(SYS_gettid);
        pthread_t me = pthread_self(), t;
        pthread_create(&t, NULL, interrupter, &me);
        char c;
        ssize_t n = read(pipefd[0], &c, 1);
        say("read=%zd errno=%s\n", n, n < 0 && errno == EINTR ? "EINTR" : "-");
        pthread_join(t, NULL);
    } else if (!strcmp(sender, "fork_kill")) {
        pid_t pid = fork();
        if (pid == 0) {
            kill(getpid(), sig);
            _exit(0);
        }
        int status;
        waitpid(pid, &status, 0);
        say("child exited=%d code=%d signaled=%d sig=%d\n", WIFEXITED(status),
            WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status),
            WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    } else {
        fprintf(stderr, "unknown sender %s\n", sender);
        return 2;
    }
    say("calls=%d disposition=%s\n", (int)calls, disposition_name());
    say("survived\n");
    return 0;
}

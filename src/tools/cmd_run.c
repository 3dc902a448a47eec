/*
 * slabdbg run [OPTIONS] [--] CMD ARGS...: run CMD with the slabdbg library
 * preloaded, as transparently as a wrapper can be:
 *   - CMD's environment differs from ours only by LD_PRELOAD and SLABDBG*;
 *   - CMD's signal mask and ignored signals are ours;
 *   - a signal sent to the wrapper reaches CMD once (supervise());
 *   - when CMD stops (job control), the wrapper stops too, so that the
 *     shell sees its job stopped, and continues CMD when it is continued;
 *   - the exit status is CMD's (128+N when it was killed by signal N);
 *   - the status file through which every process of the run counts its
 *     reports is removed on every path but SIGKILL;
 *   - the closing line says how many reports there were and where they went.
 */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/options_table.h"
#include "tools/tools.h"

/* ---- finding the library ---------------------------------------------------- */

#define LIB_NAME "libslabdbg.so"

/* The multiarch directory of Debian and its derivatives; the build sets it
 * from the toolchain's, this is the fallback. */
#ifndef SLABDBG_MULTIARCH
#if defined(__x86_64__)
#define SLABDBG_MULTIARCH "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define SLABDBG_MULTIARCH "aarch64-linux-gnu"
#elif defined(__i386__)
#define SLABDBG_MULTIARCH "i386-linux-gnu"
#else
#define SLABDBG_MULTIARCH "unknown-linux-gnu"
#endif
#endif

/* LD_PRELOAD splits its value at spaces and colons: a path with either
 * cannot be preloaded at all, and ld.so would say nothing. */
static bool preloadable(const char *path)
{
    return !strpbrk(path, " :");
}

/* `path` made absolute (the program may change directory before it execs
 * others), its directory canonical and its file name kept: the soname link
 * libslabdbg.so.0 stays a link, so an upgrade does not pull the file from
 * under a long-running process tree. */
static int absolute_path(const char *path, char *out, size_t size)
{
    char dir[PATH_MAX], canon[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    if (!realpath(dir, canon))
        return -1;
    int n = snprintf(out, size, "%s/%s", strcmp(canon, "/") ? canon : "", base);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int found(const char *path, char *out, size_t size)
{
    if (absolute_path(path, out, size) < 0)
        snprintf(out, size, "%s", path);
    if (!preloadable(out)) {
        fprintf(stderr,
                "slabdbg run: cannot preload %s: LD_PRELOAD splits paths at spaces and colons"
                " (install slabdbg elsewhere or set SLABDBG_LIB to a path without them)\n",
                out);
        return -1;
    }
    return 0;
}

/*
 * SLABDBG_LIB, else the library beside this executable (build tree), else
 * relative to it as installed (bin/../lib/<multiarch>, ../lib64, ../lib),
 * else the system's library directories.  In each place the soname file
 * libslabdbg.so.0 (what the runtime package installs) and then
 * libslabdbg.so (the development link, and the build tree's).
 */
static int find_library(char *out, size_t size)
{
    const char *env = getenv("SLABDBG_LIB");
    if (env && *env) {
        if (access(env, R_OK) == 0)
            return found(env, out, size);
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
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = 0;
    static const char *const relative[] = {"", "/../lib/" SLABDBG_MULTIARCH, "/../lib64",
                                           "/../lib"};
    static const char *const system_dirs[] = {"/usr/lib/" SLABDBG_MULTIARCH, "/usr/lib64",
                                              "/usr/lib"};
    static const char *const names[] = {LIB_NAME ".0", LIB_NAME};
    char path[PATH_MAX + 64];
    for (size_t d = 0; d < 2; d++) {
        size_t ndirs =
            d ? sizeof(system_dirs) / sizeof(*system_dirs) : sizeof(relative) / sizeof(*relative);
        for (size_t i = 0; i < ndirs; i++)
            for (size_t k = 0; k < sizeof(names) / sizeof(*names); k++) {
                if (d)
                    snprintf(path, sizeof(path), "%s/%s", system_dirs[i], names[k]);
                else
                    snprintf(path, sizeof(path), "%s%s/%s", exe, relative[i], names[k]);
                if (access(path, R_OK) == 0)
                    return found(path, out, size);
            }
    }
    fprintf(stderr,
            "slabdbg run: %s not found beside %s, in its ../lib, ../lib/%s, ../lib64, or in"
            " /usr/lib/%s, /usr/lib64 (set SLABDBG_LIB)\n",
            LIB_NAME, exe, SLABDBG_MULTIARCH, SLABDBG_MULTIARCH);
    return -1;
}

/* ---- command line ---------------------------------------------------------------- */

#define OPT_HELP_LINE(name, type, def, help)                                                       \
    fprintf(f, "  %-18s %-5s (default: %s)\n                           %s\n", #name, #type,        \
            *def ? def : "none", help);

static void usage(FILE *f)
{
    fprintf(f,
            "usage: slabdbg run [-d FLAGS] [-o OPTIONS] [-v] [--color=WHEN] [--error-exitcode N]\n"
            "                   [--] COMMAND [ARGS...]\n"
            "\n"
            "Runs COMMAND with the slabdbg allocator preloaded (LD_PRELOAD) and exits with\n"
            "its exit status (128+N if it was killed by signal N).  If slabdbg reported a\n"
            "bug in COMMAND or any process it started and COMMAND exited 0, the exit status\n"
            "is N (--error-exitcode, default 1).  Signals sent to slabdbg run go to COMMAND.\n"
            "\n"
            "  -d, --debug=FLAGS    set SLABDBG=FLAGS: the kernel's slub_debug= syntax, e.g.\n"
            "                       FZPU, FZPU,kmalloc-1024, P,kmalloc-*;U,request\n"
            "                       (F checks, Z red zones, P poison, U tracks, T trace,\n"
            "                       A fail allocations, O off where costly, G guard pages,\n"
            "                       - none)\n"
            "  -v, --verbose        say at start that slabdbg is on, with which flags and\n"
            "                       where reports go (SLABDBG_OPTIONS verbose=1)\n"
            "  --color[=WHEN]       colour in reports: auto (on a terminal), always, never\n"
            "                       (SLABDBG_OPTIONS color=WHEN)\n"
            "  --error-exitcode=N   exit status when bugs were reported (default 1)\n"
            "  -o, --options=OPTS   add name=value[:name=value...] to SLABDBG_OPTIONS:\n");
    SLABDBG_OPTION_TABLE(OPT_HELP_LINE)
    fprintf(f, "\n"
               "environment:\n"
               "  SLABDBG_LIB=PATH     the library to preload (default: found beside slabdbg,\n"
               "                       in ../lib, ../lib/" SLABDBG_MULTIARCH
               ", ../lib64 from it, or in\n"
               "                       /usr/lib/" SLABDBG_MULTIARCH ", /usr/lib64)\n"
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

/* ---- the status file ----------------------------------------------------------- */

/* A temporary file the library appends a line to for each report, in every
 * process of the run. */
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
    if (options_append(opt) < 0) {
        unlink(path);
        return -1;
    }
    return 0;
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

/* ---- where the reports went ------------------------------------------------------ */

/* The value of `key` in a SLABDBG_OPTIONS string, as the library reads it:
 * name=value settings separated by ':', the last one winning. */
static bool option_value(const char *opts, const char *key, char *out, size_t size)
{
    bool set = false;
    size_t klen = strlen(key);
    for (const char *s = opts; s && *s;) {
        const char *end = strchrnul(s, ':');
        if ((size_t)(end - s) > klen && !strncmp(s, key, klen) && s[klen] == '=') {
            snprintf(out, size, "%.*s", (int)(end - s - klen - 1), s + klen + 1);
            set = true;
        }
        s = *end ? end + 1 : end;
    }
    return set;
}

/* Does `path` match `pattern` with each %p standing for a process id? */
static bool pid_pattern_match(const char *pattern, const char *path)
{
    while (*pattern) {
        if (pattern[0] == '%' && pattern[1] == 'p') {
            if (*path < '0' || *path > '9')
                return false;
            while (*path >= '0' && *path <= '9')
                path++;
            pattern += 2;
        } else if (*pattern++ != *path++) {
            return false;
        }
    }
    return !*path;
}

/* Appends to `out` the files named by a log=/json= value that were written
 * since `since`: the value itself, or with %p standing for any pid.
 * Returns how many. */
static int files_written(const char *pattern, const struct timespec *since, char *out, size_t size)
{
    char glob_pat[PATH_MAX * 2];
    size_t g = 0;
    for (const char *s = pattern; *s && g < sizeof(glob_pat) - 3; s++) {
        if (s[0] == '%' && s[1] == 'p') {
            glob_pat[g++] = '*';
            s++;
        } else {
            if (strchr("*?[\\", *s))
                glob_pat[g++] = '\\';
            glob_pat[g++] = *s;
        }
    }
    glob_pat[g] = 0;
    glob_t gl;
    if (glob(glob_pat, GLOB_NOSORT, NULL, &gl) != 0)
        return 0;
    int n = 0, shown = 0;
    size_t len = strlen(out);
    for (size_t i = 0; i < gl.gl_pathc; i++) {
        struct stat st;
        const char *p = gl.gl_pathv[i];
        if (!pid_pattern_match(pattern, p) || stat(p, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (st.st_mtim.tv_sec < since->tv_sec ||
            (st.st_mtim.tv_sec == since->tv_sec && st.st_mtim.tv_nsec < since->tv_nsec))
            continue;
        n++;
        if (shown < 4 && len + strlen(p) + 8 < size) {
            len += (size_t)snprintf(out + len, size - len, "%s%s", shown ? ", " : "", p);
            shown++;
        }
    }
    if (n > shown && len + 16 < size)
        snprintf(out + len, size - len, " and %d more", n - shown);
    globfree(&gl);
    return n;
}

/* "in FILE" / "on standard error" / "to syslog ..." for a log= or json= value. */
static void describe_destination(const char *what, const char *value, bool is_log,
                                 const struct timespec *since, char *out, size_t size)
{
    if (!strcmp(value, "stderr") || !strcmp(value, "1") || (is_log && !strcmp(value, "0"))) {
        snprintf(out, size, "%s on standard error", what);
    } else if (is_log && !strcmp(value, "syslog")) {
        if (access("/dev/log", W_OK) == 0)
            snprintf(out, size, "%s sent to syslog (journalctl -t slabdbg)", what);
        else
            snprintf(out, size, "%s on standard error (log=syslog, but no /dev/log)", what);
    } else {
        char files[PATH_MAX * 2] = "";
        if (files_written(value, since, files, sizeof(files)))
            snprintf(out, size, "%s in %s", what, files);
        else if (is_log)
            snprintf(out, size,
                     "%s: no file %s written here (a file that cannot be written"
                     " sends them to standard error)",
                     what, value);
        else
            snprintf(out, size, "%s: no file %s written here", what, value);
    }
}

/* The closing line: "slabdbg: 2 reports in /tmp/r.4242; JSON in /tmp/j.4242". */
static void print_summary(long reports, const struct timespec *since)
{
    const char *opts = getenv("SLABDBG_OPTIONS");
    char log[PATH_MAX] = "stderr", json[PATH_MAX] = "";
    option_value(opts, "log", log, sizeof(log));
    option_value(opts, "json", json, sizeof(json));
    char where[PATH_MAX * 3] = "", jwhere[PATH_MAX * 3] = "";
    if (log[0])
        describe_destination("", log, true, since, where, sizeof(where));
    if (json[0] && strcmp(json, "0"))
        describe_destination("; JSON", json, false, since, jwhere, sizeof(jwhere));
    fprintf(stderr, "slabdbg: %ld report%s%s%s%s\n", reports, reports == 1 ? "" : "s",
            log[0] ? "" : " (log is empty: no text reports)", where, jwhere);
}

/* ---- running the command ----------------------------------------------------------- */

/* The signals the wrapper catches for its child: every one that can be
 * caught, except those the caller ignores (CMD inherits their SIG_IGN, as
 * it would without us).  They stay blocked in the wrapper and are taken by
 * sigwaitinfo(), so no handler races with the fork. */
static void forwarded_signals(sigset_t *set, bool *chld_ignored)
{
    sigemptyset(set);
    for (int s = 1; s <= SIGRTMAX; s++) {
        if (s == SIGKILL || s == SIGSTOP)
            continue;
        struct sigaction old;
        if (sigaction(s, NULL, &old) < 0)
            continue; /* reserved by the C library */
        if (s == SIGCHLD) {
            /* ours: SIG_IGN would reap CMD before we could wait for it */
            *chld_ignored = old.sa_handler == SIG_IGN;
            if (*chld_ignored)
                signal(SIGCHLD, SIG_DFL);
        } else if (old.sa_handler == SIG_IGN) {
            continue;
        }
        sigaddset(set, s);
    }
}

/* Is `pid` the process `ancestor` or one of its descendants? */
static bool descends_from(pid_t pid, pid_t ancestor)
{
    for (int depth = 0; pid > 1 && depth < 64; depth++) {
        if (pid == ancestor)
            return true;
        char path[64], buf[512];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "r");
        if (!f)
            return false;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        const char *p = strrchr(buf, ')'); /* the command name may hold anything */
        int ppid;
        if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
            return false;
        pid = ppid;
    }
    return false;
}

/*
 * Should a signal the wrapper received go to CMD?  Signals sent by a
 * process (kill, sigqueue, tgkill) do, unless they came from CMD's own
 * process tree (it signalled its process group, which includes us, so CMD
 * has its copy already) or from ourselves.  Signals the kernel generated do
 * not: those of the terminal (^C, ^\, ^Z, window size, hang-up when the
 * shell leaves) go to the whole foreground process group, CMD included;
 * the exception is a hang-up sent to us as a session leader.
 */
static bool should_forward(int sig, const siginfo_t *si, pid_t child)
{
    if (si->si_code == SI_KERNEL)
        return sig == SIGHUP && getsid(0) == getpid();
    if (si->si_code != SI_USER && si->si_code != SI_QUEUE && si->si_code != SI_TKILL)
        return false;
    if (si->si_pid == getpid())
        return false;
    return !descends_from(si->si_pid, child);
}

static void forward(int sig, const siginfo_t *si, pid_t child)
{
    if (si->si_code == SI_QUEUE)
        sigqueue(child, sig, si->si_value); /* keep the value it carries */
    else
        kill(child, sig);
}

/* CMD stopped: stop ourselves with the same signal, so that the shell sees
 * its job stop; once continued, continue CMD. */
static void stop_with_child(int sig, const sigset_t *caught, pid_t child)
{
    bool job_control = sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
    int s = job_control && sigismember(caught, sig) ? sig : SIGSTOP;
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, s);
    kill(getpid(), s);
    sigprocmask(SIG_UNBLOCK, &one, NULL); /* stops here (default action) */
    sigprocmask(SIG_BLOCK, &one, NULL);
    /* Continued: the SIGCONT that woke us is CMD's business, not a new one. */
    sigset_t cont;
    sigemptyset(&cont);
    sigaddset(&cont, SIGCONT);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&cont, NULL, &zero) == SIGCONT)
        ;
    kill(child, SIGCONT);
}

/* Waits for CMD, forwarding signals; returns its wait status or -1. */
static int supervise(pid_t child, const sigset_t *caught)
{
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(caught, &si);
        if (sig < 0) {
            if (errno == EINTR)
                continue;
            perror("slabdbg run: sigwaitinfo");
            return -1;
        }
        if (sig != SIGCHLD) {
            if (should_forward(sig, &si, child))
                forward(sig, &si, child);
            continue;
        }
        int status;
        pid_t r;
        while ((r = waitpid(child, &status, WNOHANG | WUNTRACED)) < 0 && errno == EINTR)
            ;
        if (r < 0) {
            perror("slabdbg run: waitpid");
            return -1;
        }
        if (r == 0)
            continue;
        if (WIFSTOPPED(status)) {
            stop_with_child(WSTOPSIG(status), caught, child);
            continue;
        }
        return status;
    }
}

/* The command line: sets SLABDBG and SLABDBG_OPTIONS in our environment
 * (the child inherits it).  Returns the index of COMMAND, or -1 with the
 * exit status in *status. */
static int parse_args(int argc, char **argv, int *error_exitcode, int *status)
{
    enum { OPT_ERROR_EXITCODE = 256, OPT_COLOR };
    static const struct option longopts[] = {
        {"debug", required_argument, NULL, 'd'},
        {"options", required_argument, NULL, 'o'},
        {"verbose", no_argument, NULL, 'v'},
        {"color", optional_argument, NULL, OPT_COLOR},
        {"colour", optional_argument, NULL, OPT_COLOR},
        {"error-exitcode", required_argument, NULL, OPT_ERROR_EXITCODE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *status = 2;
    opterr = 0; /* our own messages, which name the command */
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "+:d:o:vh", longopts, NULL)) != -1) {
        char opt[32];
        switch (c) {
        case 'd':
            setenv("SLABDBG", optarg, 1);
            break;
        case 'o':
            if (options_append(optarg) < 0)
                goto nomem;
            break;
        case 'v':
            if (options_append("verbose=1") < 0)
                goto nomem;
            break;
        case OPT_COLOR: {
            const char *when = optarg ? optarg : "always";
            if (strcmp(when, "auto") && strcmp(when, "always") && strcmp(when, "never")) {
                fprintf(stderr, "slabdbg run: --color wants auto, always or never, not '%s'\n",
                        when);
                return -1;
            }
            snprintf(opt, sizeof(opt), "color=%s", when);
            if (options_append(opt) < 0)
                goto nomem;
            break;
        }
        case OPT_ERROR_EXITCODE: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 0 || v > 255) {
                fprintf(stderr, "slabdbg run: --error-exitcode wants 0 to 255, not '%s'\n", optarg);
                return -1;
            }
            *error_exitcode = (int)v;
            break;
        }
        case 'h':
            usage(stdout);
            *status = 0;
            return -1;
        case ':':
            fprintf(stderr, "slabdbg run: option '%s' needs a value (try --help)\n",
                    argv[optind - 1]);
            return -1;
        default:
            fprintf(stderr, "slabdbg run: unknown option '%s' (try --help)\n", argv[optind - 1]);
            return -1;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return -1;
    }
    return optind;
nomem:
    perror("slabdbg run");
    *status = 125;
    return -1;
}

int cmd_run(int argc, char **argv)
{
    int error_exitcode = 1, code;
    int i = parse_args(argc, argv, &error_exitcode, &code);
    if (i < 0)
        return code;
    char lib[PATH_MAX];
    if (find_library(lib, sizeof(lib)) < 0)
        return 125;
    const char *old = getenv("LD_PRELOAD");
    char *preload = lib;
    if (old && *old) {
        size_t len = strlen(lib) + strlen(old) + 2;
        preload = malloc(len);
        if (!preload) {
            perror("slabdbg run");
            return 125;
        }
        snprintf(preload, len, "%s:%s", lib, old);
    }
    char status_path[PATH_MAX];
    if (make_status_file(status_path, sizeof(status_path)) < 0) {
        fprintf(stderr, "slabdbg run: cannot create a status file: %s\n", strerror(errno));
        return 125;
    }
    struct timespec start;
    clock_gettime(CLOCK_REALTIME_COARSE, &start); /* the clock of file times */

    sigset_t caught, saved_mask;
    bool chld_ignored = false;
    forwarded_signals(&caught, &chld_ignored);
    sigprocmask(SIG_BLOCK, &caught, &saved_mask);
    pid_t pid = fork();
    if (pid < 0) {
        perror("slabdbg run: fork");
        unlink(status_path);
        return 125;
    }
    if (pid == 0) {
        if (chld_ignored)
            signal(SIGCHLD, SIG_IGN);
        sigprocmask(SIG_SETMASK, &saved_mask, NULL);
        setenv("LD_PRELOAD", preload, 1);
        execvp(argv[i], argv + i);
        fprintf(stderr, "slabdbg run: %s: %s\n", argv[i], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    int status = supervise(pid, &caught);
    long reports = reports_in(status_path);
    unlink(status_path);
    if (status < 0)
        return 125;
    code = 125;
    if (WIFEXITED(status))
        code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        code = 128 + WTERMSIG(status);
    if (reports) {
        print_summary(reports, &start);
        if (code == 0)
            code = error_exitcode;
    }
    /* Killed by ^C: die of SIGINT too, so that a shell running us in a loop
     * stops it, as it would for CMD ($? is 130 either way). */
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGINT && sigismember(&caught, SIGINT)) {
        fflush(stderr);
        signal(SIGINT, SIG_DFL);
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, SIGINT);
        kill(getpid(), SIGINT);
        sigprocmask(SIG_UNBLOCK, &one, NULL);
    }
    return code;
}

/*
 * SLABDBG (debug flags, the kernel's slub_debug= syntax) and SLABDBG_OPTIONS
 * (name=value:name=value, see options_table.h).  Read once, at
 * initialisation, which can come before libc has set up `environ`; so the
 * environment is read from /proc/self/environ when needed, and nothing here
 * allocates.
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/options.h"
#include "base/out.h"

struct slabdbg_options opt;
struct slub_debug_config slub_debug;

extern char **environ;

static const char *env_from_proc(const char *name)
{
    static char *buf;
    static size_t len;
    if (!buf) {
        int fd = open("/proc/self/environ", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return NULL;
        size_t cap = 1 << 20;
        buf = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (buf == MAP_FAILED) {
            buf = NULL;
            close(fd);
            return NULL;
        }
        ssize_t n;
        while (len < cap - 1 && (n = read(fd, buf + len, cap - 1 - len)) > 0)
            len += (size_t)n;
        close(fd);
    }
    size_t nl = strlen(name);
    for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
        if (!strncmp(buf + i, name, nl) && buf[i + nl] == '=')
            return buf + i + nl + 1;
    return NULL;
}

const char *env_get(const char *name)
{
    if (environ)
        return getenv(name);
    return env_from_proc(name);
}

/* One line on stderr.  Bytes that are not printable ASCII (they come from
 * the environment: anything may be there) are written as \xNN. */
/* Settings can repeat a mistake thousands of times: each message is said
 * once, and at most WARN_MAX different ones, then one line that says so. */
#define WARN_MAX 32

static bool warn_first_time(const char *msg)
{
    static uint64_t said[WARN_MAX];
    static _Atomic unsigned nsaid;
    static _Atomic bool capped;
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (const unsigned char *s = (const unsigned char *)msg; *s; s++)
        h = (h ^ *s) * 0x100000001b3ull;
    unsigned n = atomic_load(&nsaid);
    for (unsigned i = 0; i < n && i < WARN_MAX; i++)
        if (said[i] == h)
            return false;
    n = atomic_fetch_add(&nsaid, 1);
    if (n < WARN_MAX) {
        said[n] = h;
        return true;
    }
    if (!atomic_exchange(&capped, true)) {
        struct out o;
        out_init(&o, 2);
        out_str(&o, "slabdbg: more problems with the settings; not shown\n");
        out_flush(&o);
    }
    return false;
}

void options_warn(const char *msg)
{
    if (!warn_first_time(msg))
        return;
    struct out o;
    out_init(&o, 2);
    out_str(&o, "slabdbg: ");
    for (const unsigned char *s = (const unsigned char *)msg; *s; s++) {
        if (*s < 0x20 || *s >= 0x7f) {
            static const char hex[] = "0123456789abcdef";
            out_str(&o, "\\x");
            out_char(&o, hex[*s >> 4]);
            out_char(&o, hex[*s & 15]);
        } else {
            out_char(&o, (char)*s);
        }
    }
    out_char(&o, '\n');
    out_flush(&o);
}

static void warn2(const char *a, const char *b, size_t blen, const char *c)
{
    char msg[OPT_STR_MAX + 128];
    size_t al = strlen(a), cl = strlen(c);
    if (blen > OPT_STR_MAX)
        blen = OPT_STR_MAX;
    memcpy(msg, a, al);
    memcpy(msg + al, b, blen);
    memcpy(msg + al + blen, c, cl + 1);
    options_warn(msg);
}

/* ---- value parsers: return false on malformed input ---------------------- */

static bool parse_long(const char *v, size_t n, long *out)
{
    bool neg = n && *v == '-';
    size_t i = neg;
    if (i == n)
        return false;
    long r = 0;
    for (; i < n; i++) {
        if (v[i] < '0' || v[i] > '9' || r > (1L << 58))
            return false;
        r = r * 10 + (v[i] - '0');
    }
    *out = neg ? -r : r;
    return true;
}

static bool set_STR(char (*field)[OPT_STR_MAX], const char *v, size_t n)
{
    if (n >= OPT_STR_MAX)
        return false;
    memcpy(*field, v, n);
    (*field)[n] = 0;
    return true;
}

static bool set_BOOL(bool *field, const char *v, size_t n)
{
    if ((n == 1 && (*v == '1' || *v == 'y')) || (n == 4 && !strncmp(v, "true", 4)) ||
        (n == 3 && !strncmp(v, "yes", 3)))
        *field = true;
    else if ((n == 1 && (*v == '0' || *v == 'n')) || (n == 5 && !strncmp(v, "false", 5)) ||
             (n == 2 && !strncmp(v, "no", 2)))
        *field = false;
    else
        return false;
    return true;
}

static bool set_INT(long *field, const char *v, size_t n)
{
    return parse_long(v, n, field);
}

static bool set_SIZE(uint64_t *field, const char *v, size_t n)
{
    unsigned shift = 0;
    if (n && (v[n - 1] | 0x20) == 'k')
        shift = 10;
    else if (n && (v[n - 1] | 0x20) == 'm')
        shift = 20;
    else if (n && (v[n - 1] | 0x20) == 'g')
        shift = 30;
    long r;
    if (!parse_long(v, n - (shift != 0), &r) || r < 0)
        return false;
    *field = (uint64_t)r << shift;
    return true;
}

#define OPT_DEFAULT(name, type, def, help) set_##type(&opt.name, def, strlen(def));
#define OPT_SET(name, type, def, help)                                                             \
    if (klen == sizeof(#name) - 1 && !strncmp(key, #name, klen))                                   \
        return set_##type(&opt.name, val, vlen) ? 1 : -1;

/* 1: set; 0: unknown name; -1: bad value. */
static int option_set(const char *key, size_t klen, const char *val, size_t vlen)
{
    (void)val, (void)vlen;
    SLABDBG_OPTION_TABLE(OPT_SET)
    return 0;
}

static void parse_options(const char *s)
{
    while (*s) {
        const char *end = strchrnul(s, ':');
        const char *eq = memchr(s, '=', (size_t)(end - s));
        if (end == s) {
            s++;
            continue;
        }
        if ((size_t)(end - s) == 4 && !strncmp(s, "help", 4)) {
            options_help(2);
        } else if (!eq) {
            warn2("SLABDBG_OPTIONS: '", s, (size_t)(end - s), "' has no value (name=value)");
        } else {
            int r = option_set(s, (size_t)(eq - s), eq + 1, (size_t)(end - eq - 1));
            if (r == 0)
                warn2("SLABDBG_OPTIONS: unknown option '", s, (size_t)(eq - s), "' ignored");
            else if (r < 0)
                warn2("SLABDBG_OPTIONS: bad value in '", s, (size_t)(end - s), "' ignored");
        }
        s = *end ? end + 1 : end;
    }
}

/* A setuid or setgid program (AT_SECURE) must not let the environment of
 * whoever runs it disclose its memory or steer it: T (which dumps freed
 * objects), A (which fails its allocations at will), files named by the
 * caller, guard_continue, abort_on_error and validate_signal are ignored,
 * and reports show no object bytes (report.c).  One line says so. */
static void secure_execution(void)
{
    char what[160] = "";
    if (slub_debug.any & SLAB_TRACE)
        strcat(what, " T");
    if (slub_debug.any & SLAB_FAILSLAB)
        strcat(what, " A");
    slub_debug.forbidden = SLAB_TRACE | SLAB_FAILSLAB;
    const char *files[] = {opt.log, opt.json, opt.stats, opt.status_file};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        const char *v = files[i];
        if (v[0] && strcmp(v, "stderr") && strcmp(v, "1") && strcmp(v, "0") &&
            strcmp(v, "syslog")) {
            strcat(what, " file destinations");
            break;
        }
    }
    if (opt.guard_continue)
        strcat(what, " guard_continue");
    if (opt.abort_on_error)
        strcat(what, " abort_on_error");
    if (opt.validate_signal)
        strcat(what, " validate_signal");
    opt.guard_continue = false;
    opt.abort_on_error = false;
    opt.validate_signal = 0;
    opt.status_file[0] = 0;
    if (what[0]) {
        char msg[256] = "setuid/setgid program: ignoring";
        strcat(msg, what);
        strcat(msg, " from the environment");
        options_warn(msg);
    }
}

/* A file destination that cannot be written is said at start, not found
 * out at the first report (which then goes to stderr). */
static void check_destination(const char *name, const char *value)
{
    if (!value[0] || !strcmp(value, "stderr") || !strcmp(value, "1") || !strcmp(value, "0") ||
        !strcmp(value, "syslog") || getauxval(AT_SECURE))
        return;
    char dir[OPT_STR_MAX];
    size_t n = strlen(value);
    memcpy(dir, value, n + 1);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = 0;
    else if (slash)
        *slash = 0;
    else
        memcpy(dir, ".", 2);
    bool exists = access(value, F_OK) == 0;
    if ((exists && access(value, W_OK) == 0) || (!exists && access(dir, W_OK) == 0))
        return;
    char msg[OPT_STR_MAX + 96] = "SLABDBG_OPTIONS: ";
    strcat(msg, name);
    strcat(msg, "=");
    strcat(msg, value);
    strcat(msg, exists ? ": not writable" : ": its directory is missing or not writable");
    strcat(msg, !strcmp(name, "log") ? "; reports go to stderr" : "; nothing will be written");
    options_warn(msg);
}

void options_init(void)
{
    SLABDBG_OPTION_TABLE(OPT_DEFAULT)
    long default_rate = opt.sample_rate;
    const char *o = env_get("SLABDBG_OPTIONS");
    if (o)
        parse_options(o);
    /* The production default limits the samples per second (their cost);
     * a sampling rate chosen by hand (sample_rate=1 to guard everything
     * while hunting a bug) is honoured as given unless a limit is given too. */
    if (opt.sample_per_sec < 0)
        opt.sample_per_sec = opt.sample_rate == default_rate ? SAMPLE_PER_SEC_AUTO : 0;
    if (opt.stack_depth < 1 || opt.stack_depth > 64) {
        options_warn("SLABDBG_OPTIONS: stack_depth must be 1 to 64; using 16");
        opt.stack_depth = 16;
    }
    if (strcmp(opt.color, "auto") && strcmp(opt.color, "always") && strcmp(opt.color, "never")) {
        options_warn("SLABDBG_OPTIONS: color must be auto, always or never; using auto");
        memcpy(opt.color, "auto", 5);
    }
    slub_debug_parse(&slub_debug, env_get("SLABDBG"), options_warn);
    /* SLABDBG_STATS is the short form of SLABDBG_OPTIONS=stats=... */
    const char *stats = env_get("SLABDBG_STATS");
    if (stats && !opt.stats[0])
        set_STR(&opt.stats, stats, strlen(stats));
    if (getauxval(AT_SECURE))
        secure_execution();
    check_destination("log", opt.log);
    check_destination("json", opt.json);
    check_destination("stats", opt.stats);
}

#define OPT_HELP(name, type, def, help)                                                            \
    out_str(&o, "  ");                                                                             \
    out_strw(&o, #name, 18);                                                                       \
    out_strw(&o, #type, 5);                                                                        \
    out_str(&o, "(default: ");                                                                     \
    out_str(&o, *def ? def : "none");                                                              \
    out_str(&o, ")\n                        " help "\n");

void options_help(int fd)
{
    struct out o;
    out_init(&o, fd);
    out_str(&o,
            "SLABDBG=<flags>[,<cache>...][;<flags>[,<cache>...]...]  (the kernel's slub_debug=)\n"
            "  F consistency checks  Z red zones      P poison       U alloc/free tracks\n"
            "  T trace               A fail on purpose O off where too costly\n"
            "  G guard pages (ours)  - no debugging\n"
            "  An empty value means FZPU on every cache; 'name*' matches a prefix.\n"
            "SLABDBG_OPTIONS=name=value:name=value...\n");
    SLABDBG_OPTION_TABLE(OPT_HELP)
    out_flush(&o);
}

/*
 * slabdbg triage [--json] [--top N] [--examples] FILE|DIR|- ...: groups the
 * reports found in the inputs by signature (triage.h) and prints the groups,
 * most reports first.  Directories are read recursively, in name order.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tools/tools.h"
#include "tools/triage.h"

#define LINE_MAX_BYTES (16u << 20) /* a longer line is skipped */

struct run {
    struct triage_groups *groups;
    long inputs, lines, long_lines;
    bool failed;
    char *buf; /* the read buffer, kept from one input to the next */
    size_t cap;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: slabdbg triage [--json] [--top N] [--examples] FILE|DIR|- ...\n"
               "\n"
               "Groups slabdbg reports by signature: the kind of bug, the cache and the first\n"
               "functions of the stack that tells the bug (the free track of an object written\n"
               "after free, the allocation track of one overflowed, else the code that found\n"
               "it).  Reads JSON reports (SLABDBG_OPTIONS json=FILE), text reports (ours or\n"
               "the kernel's) bare or from syslog and the journal (journalctl -o short,\n"
               "-o short-iso, -o cat, -o json); directories recursively; - is standard input.\n"
               "\n"
               "  --json        one JSON object: the totals and the groups, each with an\n"
               "                example report\n"
               "  --top N       the N largest groups only\n"
               "  --examples    print each group's example report in full\n"
               "\n"
               "exit status: 0 reports were grouped, 1 none found, 2 an input could not be\n"
               "read or a usage error\n");
}

/* ---- reading ---------------------------------------------------------------- */

static void read_line(struct run *run, struct triage_text *text, char *line, size_t len,
                      const char *name, long line_no, const struct tr_meta *file_meta)
{
    while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
        line[--len] = 0;
    run->lines++;
    const char *s = line;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '{' &&
        triage_json_line(run->groups, text, s, len - (size_t)(s - line), name, line_no, file_meta))
        return;
    triage_text_line(text, line, NULL, line_no);
}

/* Reads fd line by line. */
static void read_fd(struct run *run, int fd, const char *name, const struct tr_meta *file_meta)
{
    if (!run->buf) {
        run->cap = 1 << 20;
        run->buf = malloc(run->cap + 1);
        if (!run->buf)
            abort();
    }
    size_t cap = run->cap, len = 0;
    char *buf = run->buf;
    struct triage_text *text = triage_text_new(run->groups, name, file_meta);
    long line_no = 0;
    bool skipping = false; /* the rest of a line longer than LINE_MAX_BYTES */
    for (;;) {
        if (len == cap) {
            if (cap >= LINE_MAX_BYTES) {
                run->long_lines++;
                skipping = true;
                len = 0;
            } else {
                cap *= 2;
                buf = realloc(buf, cap + 1);
                if (!buf)
                    abort();
            }
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "slabdbg triage: %s: %s\n", name, strerror(errno));
            run->failed = true;
            break;
        }
        if (n == 0) {
            if (len && !skipping) {
                buf[len] = 0;
                read_line(run, text, buf, len, name, ++line_no, file_meta);
            }
            break;
        }
        size_t start = 0, end = len + (size_t)n;
        for (size_t i = len; i < end; i++) {
            if (buf[i] != '\n')
                continue;
            buf[i] = 0;
            line_no++;
            if (!skipping)
                read_line(run, text, buf + start, i - start, name, line_no, file_meta);
            skipping = false;
            start = i + 1;
        }
        memmove(buf, buf + start, end - start);
        len = end - start;
    }
    triage_text_free(text);
    run->buf = buf;
    run->cap = cap;
    run->inputs++;
}

static void read_path(struct run *run, const char *path, int depth);

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void read_dir(struct run *run, const char *path, int depth)
{
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "slabdbg triage: %s: %s\n", path, strerror(errno));
        run->failed = true;
        return;
    }
    size_t n = 0, cap = 64;
    char **names = malloc(cap * sizeof(*names));
    struct dirent *e;
    while (names && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue; /* ".", "..", and hidden files */
        if (n == cap)
            names = realloc(names, (cap *= 2) * sizeof(*names));
        if (names && !(names[n++] = strdup(e->d_name)))
            abort();
    }
    closedir(d);
    if (!names)
        abort();
    qsort(names, n, sizeof(*names), by_name);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(path) + strlen(names[i]) + 2;
        char *sub = malloc(len);
        if (!sub)
            abort();
        size_t plen = strlen(path);
        while (plen > 1 && path[plen - 1] == '/')
            plen--;
        snprintf(sub, len, "%.*s/%s", (int)plen, path, names[i]);
        read_path(run, sub, depth + 1);
        free(sub);
        free(names[i]);
    }
    free(names);
}

static void read_path(struct run *run, const char *path, int depth)
{
    struct tr_meta meta;
    memset(&meta, 0, sizeof(meta));
    if (!strcmp(path, "-") && depth == 0) {
        read_fd(run, 0, "(standard input)", &meta);
        return;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        fprintf(stderr, "slabdbg triage: %s: %s\n", path, strerror(errno));
        run->failed = true;
        if (fd >= 0)
            close(fd);
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        if (depth < 32)
            read_dir(run, path, depth);
        return;
    }
    if (!S_ISREG(st.st_mode) && depth > 0) { /* sockets, fifos met in a walk */
        close(fd);
        return;
    }
    /* Reports without a time of their own were written at the latest when
     * their file was last modified. */
    meta.time_us = (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
    meta.time_source = TR_TIME_FILE;
    read_fd(run, fd, path, &meta);
    close(fd);
}

/* ---- printing ------------------------------------------------------------------- */

static void iso_time(int64_t us, char *buf, size_t size)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *stack_label(enum slabdbg_sig_stack s)
{
    return s == SLABDBG_SIG_ALLOC  ? "allocated in"
           : s == SLABDBG_SIG_FREE ? "freed in"
                                   : "found in";
}

static void print_counts(FILE *out, struct triage_groups *g, const struct tr_count *c, int n)
{
    for (int i = 0; i < n && i < 5; i++) {
        const char *name = triage_name(g, c[i].id);
        fprintf(out, "%s%s (%ld)", i ? ", " : "", *name ? name : "unknown", c[i].count);
    }
    if (n > 5)
        fprintf(out, " and %d more", n - 5);
    fputc('\n', out);
}

static void print_text(FILE *out, struct run *run, struct triage_group **gs, int n, int top,
                       bool examples)
{
    struct triage_groups *g = run->groups;
    char hosts[48] = "hosts unknown";
    if (triage_groups_hosts(g))
        snprintf(hosts, sizeof(hosts), "on %d host%s", triage_groups_hosts(g),
                 triage_groups_hosts(g) == 1 ? "" : "s");
    fprintf(out, "%ld report%s in %d group%s, from %ld process%s, %s (%ld input%s)\n",
            triage_groups_reports(g), triage_groups_reports(g) == 1 ? "" : "s", n,
            n == 1 ? "" : "s", triage_groups_processes(g),
            triage_groups_processes(g) == 1 ? "" : "es", hosts, run->inputs,
            run->inputs == 1 ? "" : "s");
    for (int i = 0; i < n && (top <= 0 || i < top); i++) {
        struct triage_group *gr = gs[i];
        const struct triage_report *r = &gr->first;
        fprintf(out, "\n%s  %ld report%s  %s  %s\n", gr->signature, gr->count,
                gr->count == 1 ? "" : "s", r->reason[0] ? r->reason : r->kind, r->cache);
        if (r->nframes) {
            fprintf(out, "  %-12s", stack_label(r->stack));
            for (int k = 0; k < r->nframes; k++)
                fprintf(out, "%s%s", k ? " < " : " ", r->frames[k]);
            fputc('\n', out);
        }
        if (gr->first_us) {
            char a[32], b[32];
            iso_time(gr->first_us, a, sizeof(a));
            iso_time(gr->last_us, b, sizeof(b));
            fprintf(out, "  %-12s first %s, last %s%s\n", "seen", a, b,
                    gr->file_timed == gr->timed ? " (times of the files)"
                    : gr->file_timed            ? " (some from times of the files)"
                                                : "");
        }
        fprintf(out, "  %-12s ", "hosts");
        print_counts(out, g, gr->hosts, gr->nhosts);
        fprintf(out, "  %-12s ", "programs");
        print_counts(out, g, gr->programs, gr->nprograms);
        fprintf(out, "  %-12s %ld\n", "processes", gr->processes);
        fprintf(out, "  %-12s %s:%ld\n", "example", r->file ? r->file : "-", r->line);
        if (examples && gr->example) {
            const char *s = gr->example;
            while (*s) {
                const char *e = strchrnul(s, '\n');
                fprintf(out, "    %.*s\n", (int)(e - s), s);
                s = *e ? e + 1 : e;
            }
        }
    }
    if (top > 0 && n > top)
        fprintf(out, "\n(%d smaller group%s not shown)\n", n - top, n - top == 1 ? "" : "s");
}

static void json_str(FILE *out, const char *s, size_t len)
{
    fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void json_cstr(FILE *out, const char *s)
{
    json_str(out, s, strlen(s));
}

static void json_counts(FILE *out, struct triage_groups *g, const struct tr_count *c, int n)
{
    fputc('[', out);
    for (int i = 0; i < n; i++) {
        fprintf(out, "%s{\"name\":", i ? "," : "");
        json_cstr(out, triage_name(g, c[i].id));
        fprintf(out, ",\"count\":%ld}", c[i].count);
    }
    fputc(']', out);
}

static void print_json(FILE *out, struct run *run, struct triage_group **gs, int n, int top)
{
    struct triage_groups *g = run->groups;
    fprintf(out,
            "{\"reports\":%ld,\"signatures\":%d,\"processes\":%ld,\"hosts\":%d,\"inputs\":%ld,"
            "\"groups\":[",
            triage_groups_reports(g), n, triage_groups_processes(g), triage_groups_hosts(g),
            run->inputs);
    for (int i = 0; i < n && (top <= 0 || i < top); i++) {
        struct triage_group *gr = gs[i];
        const struct triage_report *r = &gr->first;
        fprintf(out, "%s\n{\"signature\":", i ? "," : "");
        json_cstr(out, gr->signature);
        fprintf(out, ",\"count\":%ld,\"kind\":", gr->count);
        json_cstr(out, r->kind);
        if (r->what[0]) {
            fputs(",\"what\":", out);
            json_cstr(out, r->what);
        }
        fputs(",\"reason\":", out);
        json_cstr(out, r->reason);
        fputs(",\"cache\":", out);
        json_cstr(out, r->cache);
        fputs(",\"stack\":", out);
        json_cstr(out, slabdbg_sig_stack_name(r->stack));
        fputs(",\"frames\":[", out);
        for (int k = 0; k < r->nframes; k++) {
            if (k)
                fputc(',', out);
            json_cstr(out, r->frames[k]);
        }
        fputc(']', out);
        if (gr->first_us) {
            char a[32], b[32];
            iso_time(gr->first_us, a, sizeof(a));
            iso_time(gr->last_us, b, sizeof(b));
            fprintf(out, ",\"first_seen\":\"%s\",\"last_seen\":\"%s\"", a, b);
        } else {
            fputs(",\"first_seen\":null,\"last_seen\":null", out);
        }
        fprintf(out, ",\"timed\":%ld,\"file_timed\":%ld,\"hosts\":", gr->timed, gr->file_timed);
        json_counts(out, g, gr->hosts, gr->nhosts);
        fputs(",\"programs\":", out);
        json_counts(out, g, gr->programs, gr->nprograms);
        fprintf(out, ",\"processes\":%ld,\"example\":{\"file\":", gr->processes);
        json_cstr(out, r->file ? r->file : "");
        fprintf(out, ",\"line\":%ld", r->line);
        if (gr->example && gr->example_json) {
            fputs(",\"report\":", out);
            fwrite(gr->example, 1, gr->example_len, out);
        } else if (gr->example) {
            fputs(",\"text\":", out);
            json_str(out, gr->example, gr->example_len);
        }
        fputs("}}", out);
    }
    fputs("]}\n", out);
}

int cmd_triage(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"top", required_argument, NULL, 't'},
        {"examples", no_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool json = false, examples = false;
    long top = 0;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'e':
            examples = true;
            break;
        case 't': {
            char *end;
            top = strtol(optarg, &end, 10);
            if (!*optarg || *end || top < 1) {
                fprintf(stderr, "slabdbg triage: --top wants a number of groups, not '%s'\n",
                        optarg);
                return 2;
            }
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        case ':':
            fprintf(stderr, "slabdbg triage: option '%s' needs a value (try --help)\n",
                    argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "slabdbg triage: unknown option '%s' (try --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    /* Syslog times are local.  With TZ unset the C library looks at
     * /etc/localtime again for every conversion; naming it once lets it
     * keep what it read. */
    if (!getenv("TZ") && access("/etc/localtime", R_OK) == 0)
        setenv("TZ", ":/etc/localtime", 0);
    struct run run = {.groups = triage_groups_new()};
    for (int i = optind; i < argc; i++)
        read_path(&run, argv[i], 0);
    if (run.long_lines)
        fprintf(stderr, "slabdbg triage: %ld line%s longer than %u MiB skipped\n", run.long_lines,
                run.long_lines == 1 ? "" : "s", LINE_MAX_BYTES >> 20);
    int n;
    struct triage_group **gs = triage_groups_sorted(run.groups, &n);
    int status = run.failed ? 2 : n ? 0 : 1;
    if (!n && !run.failed)
        fprintf(stderr, "slabdbg triage: no reports in %ld input%s (%ld lines)\n", run.inputs,
                run.inputs == 1 ? "" : "s", run.lines);
    if (json)
        print_json(stdout, &run, gs, n, (int)top);
    else if (n)
        print_text(stdout, &run, gs, n, (int)top, examples);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "slabdbg triage: writing the output: %s\n", strerror(errno));
        status = 2;
    }
    triage_groups_free(run.groups);
    free(run.buf);
    return status;
}

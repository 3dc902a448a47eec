/*
 * verbose=1: one line at start saying that slabdbg is on, with which flags
 * on which caches, the sampling rate and where reports go (as valgrind's
 * banner and ASan's verbosity=1), and one line at exit counting the reports
 * by kind and naming where they went.  Both on stderr, written with write(2)
 * through a fixed buffer like every other output of the library.
 */
#include <string.h>
#include <unistd.h>

#include "base/options.h"
#include "base/out.h"
#include "report/banner.h"
#include "report/bug.h"

/* "FZPU" for a cache's debug flags, "-" for none. */
static void out_flags(struct out *o, slab_flags_t f)
{
    static const struct {
        slab_flags_t flag;
        char letter;
    } letters[] = {{SLAB_CONSISTENCY_CHECKS, 'F'}, {SLAB_RED_ZONE, 'Z'}, {SLAB_POISON, 'P'},
                   {SLAB_STORE_USER, 'U'},         {SLAB_TRACE, 'T'},    {SLAB_FAILSLAB, 'A'},
                   {SLAB_GUARD, 'G'}};
    bool any = false;
    for (size_t i = 0; i < sizeof(letters) / sizeof(letters[0]); i++)
        if (f & letters[i].flag) {
            out_char(o, letters[i].letter);
            any = true;
        }
    if (!any)
        out_char(o, '-');
}

/* The kmalloc caches grouped into runs of equal flags:
 * "FZPU on kmalloc-8..kmalloc-512, - on kmalloc-640..kmalloc-4194304". */
static void out_kmalloc_flags(struct out *o)
{
    unsigned i = 0;
    while (i < NR_KMALLOC) {
        unsigned j = i;
        while (j + 1 < NR_KMALLOC && kmalloc_caches[j + 1].debug == kmalloc_caches[i].debug)
            j++;
        if (i)
            out_str(o, ", ");
        out_flags(o, kmalloc_caches[i].debug);
        out_str(o, " on ");
        out_str(o, kmalloc_caches[i].name);
        if (j > i) {
            out_str(o, "..");
            out_str(o, kmalloc_caches[j].name);
        }
        i = j + 1;
    }
}

/* "stderr", "syslog", or the file a destination value names. */
static void out_dest(struct out *o, const char *value)
{
    if (!strcmp(value, "stderr") || !strcmp(value, "1")) {
        out_str(o, "stderr");
    } else if (!strcmp(value, "syslog")) {
        out_str(o, "syslog");
    } else {
        char path[512];
        out_dest_path(value, path, sizeof(path));
        out_str(o, path);
    }
}

/* "; reports to stderr; JSON to /tmp/j.42" (or "in", at exit). */
static void out_destinations(struct out *o, const char *text, const char *json)
{
    if (opt.log[0] && strcmp(opt.log, "0")) {
        out_str(o, text);
        out_dest(o, opt.log);
    } else {
        out_str(o, "; no text reports (log is empty)");
    }
    if (opt.json[0] && strcmp(opt.json, "0")) {
        out_str(o, json);
        out_dest(o, opt.json);
    }
}

static void out_process(struct out *o)
{
    char comm[256];
    out_program(comm, sizeof(comm));
    out_str(o, "pid ");
    out_u64(o, (uint64_t)getpid());
    if (comm[0]) {
        out_str(o, " (");
        out_str(o, comm);
        out_char(o, ')');
    }
}

void banner_start(void)
{
    struct out o;
    out_init(&o, 2);
    out_str(&o, "slabdbg " SLABDBG_VERSION ": ");
    out_process(&o);
    if (slub_debug.set) {
        out_str(&o, "; SLABDBG=");
        out_str(&o, slub_debug.str);
        out_str(&o, ": ");
        out_kmalloc_flags(&o);
        if (slub_debug.has_lists || slub_debug.global)
            out_str(&o, "; named caches by the same rules");
    } else {
        out_str(&o, "; no debug flags (SLABDBG unset)");
    }
    if (opt.sample_rate > 0) {
        out_str(&o, "; sampling 1 in ");
        out_u64(&o, (uint64_t)opt.sample_rate);
        out_str(&o, " allocations (");
        out_u64(&o, (uint64_t)opt.sample_slots);
        out_str(&o, " slots)");
    } else {
        out_str(&o, "; sampling off");
    }
    out_destinations(&o, "; reports to ", "; JSON to ");
    out_char(&o, '\n');
    out_flush(&o);
}

void banner_exit(void)
{
    const char *names[REPORT_KINDS_MAX];
    unsigned long counts[REPORT_KINDS_MAX];
    unsigned n = report_kinds(names, counts, REPORT_KINDS_MAX);
    unsigned long total = 0;
    for (unsigned i = 0; i < n; i++)
        total += counts[i];
    struct out o;
    out_init(&o, 2);
    out_str(&o, "slabdbg: ");
    out_process(&o);
    out_str(&o, " exits: ");
    if (!total) {
        out_str(&o, "no reports\n");
        out_flush(&o);
        return;
    }
    out_u64(&o, total);
    out_str(&o, total == 1 ? " report (" : " reports (");
    for (unsigned i = 0; i < n; i++) {
        if (i)
            out_str(&o, ", ");
        out_u64(&o, counts[i]);
        out_char(&o, ' ');
        out_str(&o, names[i]);
    }
    out_char(&o, ')');
    out_destinations(&o, " in ", "; JSON in ");
    out_char(&o, '\n');
    out_flush(&o);
}

#include "report/report.h"

_Atomic uint64_t reports_made;

void report_begin(struct out *o, const char *cache)
{
    atomic_fetch_add_explicit(&reports_made, 1, memory_order_relaxed);
    out_init(o, 2);
    out_str(o, "============================================================================="
               "\nBUG ");
    out_str(o, cache);
    out_str(o, " (Not tainted): ");
}

void report_reason_done(struct out *o)
{
    out_str(o, "\n-----------------------------------------------------------------------------"
               "\n\n");
}

void report_end(struct out *o)
{
    out_char(o, '\n');
    out_flush(o);
}

void report_short(const char *cache, const char *before, const void *ptr, const char *after)
{
    struct out o;
    report_begin(&o, cache);
    out_str(&o, before);
    if (ptr) out_hex(&o, (uintptr_t)ptr);
    out_str(&o, after);
    report_reason_done(&o);
    report_end(&o);
}

void report_wrong_cache(const char *cache, const char *actual)
{
    struct out o;
    report_begin(&o, cache);
    out_str(&o, "Wrong slab cache. ");
    out_str(&o, cache);
    out_str(&o, " but object is from ");
    out_str(&o, actual);
    report_reason_done(&o);
    report_end(&o);
}

void report_objects_remaining(const char *cache)
{
    struct out o;
    report_begin(&o, cache);
    out_str(&o, "Objects remaining in ");
    out_str(&o, cache);
    out_str(&o, " on kmem_cache_destroy()");
    report_reason_done(&o);
    report_end(&o);
}

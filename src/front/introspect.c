/*
 * The library's own introspection API (include/slabdbg.h): validate,
 * traces, statistics.  Entry points of the front end, so the library is
 * initialised before the layers below are asked anything.
 */
#include "debug/debug.h"
#include "front/front.h"
#include "report/stats.h"

EXPORT int slabdbg_validate(void)
{
    slabdbg_ensure_init();
    return debug_validate_all();
}

EXPORT void slabdbg_print_traces(int fd)
{
    slabdbg_ensure_init();
    debug_print_traces(fd);
}

EXPORT void slabdbg_print_stats(int fd)
{
    slabdbg_ensure_init();
    stats_print(fd);
}

/* Per-cache statistics in /proc/slabinfo's layout (report/stats.c). */
#ifndef SLABDBG_REPORT_STATS_H
#define SLABDBG_REPORT_STATS_H

#include "core/internal.h"

INTERNAL void stats_print(int fd);

#endif

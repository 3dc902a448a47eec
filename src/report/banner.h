/* verbose=1: the line at start and the line at exit (report/banner.c). */
#ifndef SLABDBG_REPORT_BANNER_H
#define SLABDBG_REPORT_BANNER_H

#include "base/common.h"

INTERNAL void banner_start(void);
INTERNAL void banner_exit(void);

#endif

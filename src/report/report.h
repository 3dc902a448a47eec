/* Report bookkeeping shared with the front ends. */
#ifndef SLABDBG_REPORT_H
#define SLABDBG_REPORT_H

#include "report/out.h"


INTERNAL extern _Atomic uint64_t reports_made;

#endif

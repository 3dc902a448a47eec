/*
 * The leak check at exit (SLABDBG_OPTIONS=leaks=1): a conservative scan of
 * the process's roots for the allocated objects nothing points to any more
 * (leaks.c).
 */
#ifndef SLABDBG_DEBUG_LEAKS_H
#define SLABDBG_DEBUG_LEAKS_H

#include "base/common.h"

/* Prints the unreachable objects to fd, grouped by allocation stack, and
 * the summary line; 1 if any were found (and not suppressed), else 0.
 * Takes the cache, huge and guard locks in turn: call it with none held. */
INTERNAL int leaks_check_at_exit(int fd);

#endif

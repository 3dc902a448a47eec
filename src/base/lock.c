/* The lock-order checker's per-thread state (see lock.h). */
#include "base/lock.h"

#ifdef SLABDBG_LOCKDEP
__thread uint32_t locks_held;
#endif

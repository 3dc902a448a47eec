/*
 * What every layer of the library uses: visibility and branch hints.  The
 * base layer (src/base) is below the allocator core: options, the output
 * formatter, report mode, locks; it includes nothing from the layers above.
 *
 *   front (malloc API, kmem_cache API, signals, initialisation)
 *     -> core (segments, slabs, caches, thread caches)
 *       -> debug (checks, tracks, guard pages) -> report (writer, symbolizer)
 *   base: used by all of them
 */
#ifndef SLABDBG_BASE_COMMON_H
#define SLABDBG_BASE_COMMON_H

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define INTERNAL __attribute__((visibility("hidden")))
#define EXPORT __attribute__((visibility("default")))
#define NOINLINE __attribute__((noinline))

#endif

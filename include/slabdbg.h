/*
 * slabdbg — a slab allocator in the Linux SLUB model, for user space.
 *
 * Two ways to use it:
 *   - LD_PRELOAD=libslabdbg.so PROGRAM   replaces malloc & co. in any program;
 *   - link with -lslabdbg                gives the kmem_cache_* API below as well.
 *
 * Every function here is thread-safe.  Allocation functions return NULL with
 * errno = ENOMEM on exhaustion; they never abort.
 */
#ifndef SLABDBG_H
#define SLABDBG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLABDBG_VERSION "0.1.0"

/* An opaque slab cache: objects of one size, like the kernel's. */
struct kmem_cache;

typedef unsigned int gfp_t;
typedef unsigned int slab_flags_t;

/* Allocation flags (gfp_t).  Only __GFP_ZERO changes behaviour in user space;
 * the others exist so kernel-style code compiles unchanged. */
#define __GFP_ZERO 0x100u
#define GFP_KERNEL 0x0u
#define GFP_ATOMIC 0x0u
#define GFP_NOWAIT 0x0u

/* Cache creation flags (slab_flags_t), the kernel's names. */
#define SLAB_CONSISTENCY_CHECKS 0x00000100u /* F */
#define SLAB_RED_ZONE 0x00000400u           /* Z */
#define SLAB_POISON 0x00000800u             /* P */
#define SLAB_HWCACHE_ALIGN 0x00002000u      /* align objects to a cache line */
#define SLAB_STORE_USER 0x00010000u         /* U */
#define SLAB_TRACE 0x00200000u              /* T */
#define SLAB_FAILSLAB 0x02000000u           /* A */
#define SLAB_GUARD 0x04000000u              /* G: guard pages (slabdbg) */

/* Named caches.  `name` is copied.  `align` 0 means the natural alignment
 * (8, or 16 for objects of 16 bytes and more); otherwise a power of two.
 * `ctor` runs once on each object before it is handed out the first time;
 * objects are expected to be returned in their constructed state.
 * Returns NULL (errno EINVAL or ENOMEM) on bad arguments or exhaustion. */
struct kmem_cache *kmem_cache_create(const char *name, size_t size, size_t align,
                                     slab_flags_t flags, void (*ctor)(void *));
void *kmem_cache_alloc(struct kmem_cache *cache, gfp_t flags);
void *kmem_cache_zalloc(struct kmem_cache *cache, gfp_t flags);
void kmem_cache_free(struct kmem_cache *cache, void *obj);
/* Releases every empty slab of the cache to the system.  Returns 0 when the
 * cache holds no objects afterwards, 1 otherwise (as the kernel does). */
int kmem_cache_shrink(struct kmem_cache *cache);
/* Destroys an empty cache.  A cache that still holds objects is reported
 * ("Objects remaining ... on kmem_cache_destroy()") and left alive. */
void kmem_cache_destroy(struct kmem_cache *cache);
const char *kmem_cache_name(const struct kmem_cache *cache);
size_t kmem_cache_size(const struct kmem_cache *cache);

/* kmalloc: the size-class caches kmalloc-<n> that also back malloc(). */
void *kmalloc(size_t size, gfp_t flags);
void *kzalloc(size_t size, gfp_t flags);
void *kcalloc(size_t n, size_t size, gfp_t flags);
void *krealloc(const void *obj, size_t new_size, gfp_t flags);
void kfree(const void *obj);
size_t ksize(const void *obj);

/* Checks every object of every debugged cache now (poison, red zones,
 * padding, free lists, counters) and reports what is broken.  Returns the
 * number of problems found.  Also triggered by a signal (option
 * validate_signal) and at exit (option validate_at_exit). */
int slabdbg_validate(void);
/* Prints, for each debugged cache with SLAB_STORE_USER, its live objects
 * grouped by allocation stack (alloc_traces) and by the stack that last
 * freed them (free_traces), like /sys/kernel/debug/slab/<cache>/. */
void slabdbg_print_traces(int fd);
/* Number of reports made so far in this process. */
unsigned long slabdbg_report_count(void);

/* Introspection. */
const char *slabdbg_version(void);
/* Writes per-cache statistics (slabinfo layout) to file descriptor `fd`. */
void slabdbg_print_stats(int fd);
/* Returns 1 if `ptr` lies in memory managed by slabdbg, 0 otherwise. */
int slabdbg_owns(const void *ptr);

#ifdef __cplusplus
}
#endif
#endif /* SLABDBG_H */

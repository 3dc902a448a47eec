/*
 * SLABDBG: the kernel's slub_debug= syntax, parsed without allocating.
 *
 *   FZPU                    flags for every cache
 *   FZPU,kmalloc-1024       flags for the listed caches only
 *   P,kmalloc-*,request     '*' at the end of a name matches a prefix
 *   Z,kmalloc-64;U,kmalloc-*  ';' separates blocks; the first list that
 *                           names a cache gives its flags
 *   FZ;-,kmalloc-8          a block without a list sets the default for
 *                           caches no list names; '-' clears flags
 *   (set but empty)         FZPU for every cache
 *   ,kmalloc-1024           a list without flags means FZPU
 *
 * Letters are case-insensitive: F Z P U T A O, and G (guard, ours).
 */
#ifndef SLABDBG_DEBUG_SLUB_DEBUG_H
#define SLABDBG_DEBUG_SLUB_DEBUG_H

#include <stdbool.h>

#include "base/common.h"
#include "slabdbg.h"

#define SLAB_DEBUG_FLAGS                                                                           \
    (SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE |        \
     SLAB_FAILSLAB | SLAB_GUARD)
#define DEBUG_DEFAULT_FLAGS                                                                        \
    (SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER)

#define SLUB_DEBUG_MAX 1024     /* longest option string kept */
#define SLUB_DEBUG_MAX_NAMES 64 /* cache names tracked for "matched nothing" */

struct slub_debug_config {
    bool set;                  /* SLABDBG was given */
    bool has_lists;            /* some block names caches */
    bool higher_order_disable; /* O */
    slab_flags_t global;       /* flags of caches no list names */
    slab_flags_t any;          /* every flag some block asks for */
    slab_flags_t forbidden;    /* flags never given (secure execution) */
    char str[SLUB_DEBUG_MAX];
    /* Every cache name of every list, for the warning about names that
     * matched no cache (checked at exit, when all caches were seen). */
    unsigned nr_names;
    const char *names[SLUB_DEBUG_MAX_NAMES];
    unsigned name_len[SLUB_DEBUG_MAX_NAMES];
    bool matched[SLUB_DEBUG_MAX_NAMES];
};

/* Parses `value` (NULL: SLABDBG unset).  Unknown letters are reported
 * through `warn`, in the kernel's words, once per distinct letter, with
 * unprintable bytes escaped. */
INTERNAL void slub_debug_parse(struct slub_debug_config *cfg, const char *value,
                               void (*warn)(const char *msg));
/* The debug flags for a cache called `name`. */
INTERNAL slab_flags_t slub_debug_flags(struct slub_debug_config *cfg, const char *name);
/* At start, once the kmalloc caches exist: a listed kmalloc-<n> name that
 * matched none of them can never match; said once, now. */
INTERNAL void slub_debug_warn_impossible(struct slub_debug_config *cfg,
                                         void (*warn)(const char *msg));
/* Calls `warn` once for each listed name that matched no cache so far. */
INTERNAL void slub_debug_warn_unmatched(const struct slub_debug_config *cfg,
                                        void (*warn)(const char *msg));

#endif

/* Shared by the front ends (malloc API, kmem_cache API, initialisation). */
#ifndef SLABDBG_FRONT_H
#define SLABDBG_FRONT_H

#include <stddef.h>

#include "core/internal.h"

INTERNAL size_t object_usable_size(const void *p);
INTERNAL void *realloc_foreign(void *p, size_t n);
INTERNAL extern struct kmem_cache kmem_cache_cache;

#endif

/*
 * C++ operator new and delete, every variant of the C++17 library: scalar
 * and array, nothrow, aligned, sized.  Written in C under their mangled
 * names (the Itanium C++ ABI's, as src/libslabdbg.map lists them), so the
 * library needs no C++ runtime of its own.
 *
 * Why interpose them rather than let libstdc++'s call malloc: the
 * allocation stack then starts at the program's `new` (our frames are
 * dropped from every stack), and a debugged object records which family it
 * came from, so that free() of a new'd object, delete of a new[]'d one,
 * delete[] of a malloc'd one, and a sized delete of the wrong size are
 * reported (ASan's alloc-dealloc-mismatch and new-delete-type-mismatch).
 *
 * Failure as the standard says: call the new_handler and try again while
 * there is one; without one, throw std::bad_alloc.  This file is compiled
 * with -fexceptions, so the exception unwinds through its frames.  The C++
 * runtime's functions are looked up with dlsym: only a C++ program calls
 * operator new, and it has libstdc++ loaded.
 */
#include <dlfcn.h>
#include <stdlib.h>

#include "front/front.h"

typedef void (*new_handler_fn)(void);

static new_handler_fn current_new_handler(void)
{
    static new_handler_fn (*get)(void);
    if (!get)
        get = (new_handler_fn(*)(void))dlsym(RTLD_DEFAULT, "_ZSt15get_new_handlerv");
    return get ? get() : NULL;
}

static _Noreturn void throw_bad_alloc(void)
{
    static void (*thrower)(void);
    if (!thrower)
        thrower = (void (*)(void))dlsym(RTLD_DEFAULT, "_ZSt17__throw_bad_allocv");
    if (thrower)
        thrower();
    abort(); /* no C++ runtime: nobody could catch it anyway */
}

static bool valid_align(size_t align)
{
    return align && !(align & (align - 1));
}

/* An allocation failed: the new_handler's turn (it may free memory, throw
 * or end the program), then again. */
static NOINLINE void *new_failed(size_t n, size_t align, enum alloc_family family)
{
    for (;;) {
        new_handler_fn h = current_new_handler();
        if (!h)
            throw_bad_alloc();
        h();
        void *p = family_alloc(n, align, family);
        if (p)
            return p;
    }
}

static inline void *new_throwing(size_t n, size_t align, enum alloc_family family)
{
    void *p = valid_align(align) ? family_alloc(n, align, family) : NULL;
    if (likely(p != NULL))
        return p;
    if (!valid_align(align))
        throw_bad_alloc();
    return new_failed(n, align, family);
}

/* nothrow: NULL without a new_handler.  With one, which may throw, the C++
 * runtime's own nothrow operator (which catches) does the retrying: it
 * calls the throwing operator, ours. */
static NOINLINE void *new_nothrow_failed(const char *next_name, size_t n, size_t align,
                                         bool aligned)
{
    if (!current_new_handler() || !valid_align(align))
        return NULL;
    void *next = dlsym(RTLD_NEXT, next_name);
    if (!next)
        return NULL;
    if (aligned)
        return ((void *(*)(size_t, size_t, const void *))next)(n, align, NULL);
    return ((void *(*)(size_t, const void *))next)(n, NULL);
}

#define DEFAULT_ALIGN 16 /* __STDCPP_DEFAULT_NEW_ALIGNMENT__ */

/* ---- new ---------------------------------------------------------------- */

EXPORT void *_Znwm(size_t n)
{
    return new_throwing(n, DEFAULT_ALIGN, FAMILY_NEW);
}

EXPORT void *_Znam(size_t n)
{
    return new_throwing(n, DEFAULT_ALIGN, FAMILY_NEW_ARRAY);
}

EXPORT void *_ZnwmSt11align_val_t(size_t n, size_t align)
{
    return new_throwing(n, align, FAMILY_NEW);
}

EXPORT void *_ZnamSt11align_val_t(size_t n, size_t align)
{
    return new_throwing(n, align, FAMILY_NEW_ARRAY);
}

EXPORT void *_ZnwmRKSt9nothrow_t(size_t n, const void *tag)
{
    (void)tag;
    void *p = family_alloc(n, DEFAULT_ALIGN, FAMILY_NEW);
    return likely(p != NULL) ? p : new_nothrow_failed("_ZnwmRKSt9nothrow_t", n, DEFAULT_ALIGN, false);
}

EXPORT void *_ZnamRKSt9nothrow_t(size_t n, const void *tag)
{
    (void)tag;
    void *p = family_alloc(n, DEFAULT_ALIGN, FAMILY_NEW_ARRAY);
    return likely(p != NULL) ? p : new_nothrow_failed("_ZnamRKSt9nothrow_t", n, DEFAULT_ALIGN, false);
}

EXPORT void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t n, size_t align, const void *tag)
{
    (void)tag;
    void *p = valid_align(align) ? family_alloc(n, align, FAMILY_NEW) : NULL;
    return likely(p != NULL)
               ? p
               : new_nothrow_failed("_ZnwmSt11align_val_tRKSt9nothrow_t", n, align, true);
}

EXPORT void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t n, size_t align, const void *tag)
{
    (void)tag;
    void *p = valid_align(align) ? family_alloc(n, align, FAMILY_NEW_ARRAY) : NULL;
    return likely(p != NULL)
               ? p
               : new_nothrow_failed("_ZnamSt11align_val_tRKSt9nothrow_t", n, align, true);
}

/* ---- delete ------------------------------------------------------------- */

EXPORT void _ZdlPv(void *p)
{
    family_free(p, FAMILY_NEW, SIZE_UNKNOWN);
}

EXPORT void _ZdaPv(void *p)
{
    family_free(p, FAMILY_NEW_ARRAY, SIZE_UNKNOWN);
}

EXPORT void _ZdlPvm(void *p, size_t size)
{
    family_free(p, FAMILY_NEW, size);
}

EXPORT void _ZdaPvm(void *p, size_t size)
{
    family_free(p, FAMILY_NEW_ARRAY, size);
}

EXPORT void _ZdlPvRKSt9nothrow_t(void *p, const void *tag)
{
    (void)tag;
    family_free(p, FAMILY_NEW, SIZE_UNKNOWN);
}

EXPORT void _ZdaPvRKSt9nothrow_t(void *p, const void *tag)
{
    (void)tag;
    family_free(p, FAMILY_NEW_ARRAY, SIZE_UNKNOWN);
}

EXPORT void _ZdlPvSt11align_val_t(void *p, size_t align)
{
    (void)align;
    family_free(p, FAMILY_NEW, SIZE_UNKNOWN);
}

EXPORT void _ZdaPvSt11align_val_t(void *p, size_t align)
{
    (void)align;
    family_free(p, FAMILY_NEW_ARRAY, SIZE_UNKNOWN);
}

EXPORT void _ZdlPvmSt11align_val_t(void *p, size_t size, size_t align)
{
    (void)align;
    family_free(p, FAMILY_NEW, size);
}

EXPORT void _ZdaPvmSt11align_val_t(void *p, size_t size, size_t align)
{
    (void)align;
    family_free(p, FAMILY_NEW_ARRAY, size);
}

EXPORT void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const void *tag)
{
    (void)align, (void)tag;
    family_free(p, FAMILY_NEW, SIZE_UNKNOWN);
}

EXPORT void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const void *tag)
{
    (void)align, (void)tag;
    family_free(p, FAMILY_NEW_ARRAY, SIZE_UNKNOWN);
}

/* Shared by the parts of the unwinder test (unwind_test*.c, *.cpp). */
#ifndef UNWIND_TEST_H
#define UNWIND_TEST_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NOINLINE __attribute__((noinline, noclone))

typedef void (*leaf_fn)(void);

/* unwind_test.c: compares the unwinder with _Unwind_Backtrace from the
 * caller's frame on; counts a failure on a difference. */
void check_stack(void);

/* unwind_test_nofp.c (-fomit-frame-pointer) and unwind_test_fp.c
 * (-fno-omit-frame-pointer): `depth` frames of recursion, then leaf(). */
int recurse_nofp(int depth, leaf_fn leaf);
int recurse_fp(int depth, leaf_fn leaf);
/* Frames with alloca and VLAs: rbp-based CFA whatever the flags. */
int recurse_alloca(int depth, leaf_fn leaf);
int recurse_vla(int depth, leaf_fn leaf);
/* A frame of 1 MiB and one that saves every callee-saved register. */
int big_frame(leaf_fn leaf);
int many_saves(int depth, leaf_fn leaf);

/* unwind_test_fp.c: calls leaf() from a frame whose return address and
 * saved rbp (and, with `fill`, up to `fill_words` words of the callers'
 * frames) are overwritten by corrupt(); everything is restored before it
 * returns.  corrupt() gets the frame's slots. */
typedef void (*corrupt_fn)(uintptr_t *slots, unsigned nslots, void *arg);
void corrupted_frame(corrupt_fn corrupt, unsigned nslots, void *arg, leaf_fn leaf);

/* unwind_test_cxx.cpp */
void cxx_sort_capture(void);
void cxx_exception_capture(void);

#ifdef __cplusplus
}
#endif

#endif

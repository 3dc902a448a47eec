/* A shared object the unwinder test loads with dlopen: frames in code
 * that was not there at start-up, calling libc through its own PLT. */
#include <unistd.h>

typedef void (*leaf_fn)(void);

__attribute__((noinline)) static int dso_recurse(int depth, leaf_fn leaf)
{
    if (depth <= 0) {
        leaf();
        return (int)getppid() & 1;
    }
    int r = dso_recurse(depth - 1, leaf);
    __asm__ volatile("" : "+r"(r));
    return r + 1;
}

__attribute__((visibility("default"))) int dso_entry(int depth, leaf_fn leaf)
{
    return dso_recurse(depth, leaf);
}

/* Through the PLT of this object: for single-stepping. */
__attribute__((visibility("default"))) int dso_plt_call(void)
{
    return (int)getppid() + (int)getpid();
}

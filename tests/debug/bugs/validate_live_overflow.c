/*
 * slabdbg_validate() on a live object: p[1024] of a malloc(1024) object
 * (its right red zone) is written while the object is in use; validation
 * finds it at once (and repairs it, so the free that follows is clean).
 */
#include "bug_common.h"

static NOINLINE char *alloc_buffer(void)
{
    return malloc(1024);
}

static NOINLINE void overflow_writer(char *p, size_t at)
{
    p[at] = 0x42;
}

static NOINLINE long run_validation(void)
{
    return slabdbg_call("slabdbg_validate");
}

static NOINLINE void release_buffer(char *p)
{
    free(p);
}

int main(int argc, char **argv)
{
    char *p = alloc_buffer();
    memset(p, 'l', 1024);
    if (!is_clean(argc, argv))
        overflow_writer(p, 1024);
    fact_long("validate", run_validation());
    release_buffer(p);
    fact_ptr("object", p);
    return finish();
}

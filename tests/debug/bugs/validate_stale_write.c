/*
 * A write after free found by slabdbg_validate(): the freed object is not
 * allocated again, so only a validation can see its poison overwritten.
 * A second validation finds nothing (the first one restored the poison).
 */
#include "bug_common.h"

static NOINLINE char *alloc_request(void)
{
    return malloc(512);
}

static NOINLINE void free_request(char *p)
{
    free(p);
}

static NOINLINE void stray_writer(char *p)
{
    memcpy(p + 100, "\x01\x02\x03\x04", 4);
}

static NOINLINE long run_validation(void)
{
    return slabdbg_call("slabdbg_validate");
}

int main(int argc, char **argv)
{
    char *p = alloc_request();
    memset(p, 'v', 512);
    free_request(p);
    if (!is_clean(argc, argv))
        stray_writer(p);
    long first = run_validation();
    long second = run_validation();
    fact_ptr("object", p);
    fact_long("validate", first);
    fact_long("validate_again", second);
    return finish();
}

/* Double free: the second free() of an object finds it already free. */
#include "bug_common.h"

static NOINLINE char *alloc_request(void)
{
    return malloc(200);
}

static NOINLINE void free_request(char *p)
{
    free(p);
}

static NOINLINE void free_again(char *p)
{
    free(launder(p));
}

int main(int argc, char **argv)
{
    char *p = alloc_request();
    memset(p, 'r', 200);
    free_request(p);
    if (!is_clean(argc, argv))
        free_again(p);
    fact_ptr("pointer", p);
    return finish();
}

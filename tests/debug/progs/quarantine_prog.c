/*
 * Quarantine.
 *
 *   quarantine_prog reuse   malloc(200)/free/malloc(200): prints reused=1 if
 *                           the freed object came straight back; then 64
 *                           objects freed and 64 allocated: prints
 *                           batch_reused=<how many came back>
 *   quarantine_prog waf     a write after free into an object that the next
 *                           malloc(200) did not take back, found by
 *                           slabdbg_validate() (prints validate=N)
 *   quarantine_prog waf-exit  the same write, left to the validation at exit
 *   quarantine_prog double  the object freed again while in quarantine
 */
#include "../bugs/bug_common.h"

#define SIZE 200
#define BATCH 64

static NOINLINE char *alloc_request(void)
{
    return malloc(SIZE);
}

static NOINLINE void free_request(char *p)
{
    free(p);
}

static NOINLINE void stray_writer(char *p)
{
    p[SIZE / 2] = 0x11;
}

static NOINLINE void free_again(char *p)
{
    free(launder(p));
}

static NOINLINE long run_validation(void)
{
    return slabdbg_call("slabdbg_validate");
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    char *p = alloc_request();
    memset(p, 'q', SIZE);
    free_request(p);
    char *q = alloc_request();
    fact_long("reused", q == p);
    fact_ptr("object", p);
    if (!strcmp(argv[1], "reuse")) {
        char *a[BATCH], *b[BATCH];
        for (int i = 0; i < BATCH; i++)
            a[i] = alloc_request();
        for (int i = 0; i < BATCH; i++)
            free_request(a[i]);
        long back = 0;
        for (int i = 0; i < BATCH; i++) {
            b[i] = alloc_request();
            for (int j = 0; j < BATCH; j++)
                back += b[i] == a[j];
        }
        for (int i = 0; i < BATCH; i++)
            free_request(b[i]);
        fact_long("batch_reused", back);
    } else if (!strcmp(argv[1], "waf")) {
        if (!is_clean(argc, argv))
            stray_writer(p);
        fact_long("validate", run_validation());
    } else if (!strcmp(argv[1], "waf-exit")) {
        if (!is_clean(argc, argv))
            stray_writer(p);
    } else if (!strcmp(argv[1], "double")) {
        if (!is_clean(argc, argv))
            free_again(p);
        fact_ptr("pointer", p);
    }
    free_request(q);
    return finish();
}

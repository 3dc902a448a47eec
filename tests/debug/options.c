/*
 * The SLABDBG parser (src/base/slub_debug.c, compiled into this program):
 * every form documented in src/base/slub_debug.h, and malformed input.
 */
#include <stdio.h>
#include <string.h>

#include "base/slub_debug.h"

static int failures, checks;

#define F SLAB_CONSISTENCY_CHECKS
#define Z SLAB_RED_ZONE
#define P SLAB_POISON
#define U SLAB_STORE_USER
#define T SLAB_TRACE
#define A SLAB_FAILSLAB
#define G SLAB_GUARD
#define FZPU (F | Z | P | U)

/* Warnings received from the parser. */
static char warnings[16][200];
static int nwarnings;

static void warn(const char *msg)
{
    if (nwarnings < 16)
        snprintf(warnings[nwarnings], sizeof(warnings[0]), "%s", msg);
    nwarnings++;
}

static struct slub_debug_config cfg;

static void parse(const char *value)
{
    nwarnings = 0;
    slub_debug_parse(&cfg, value, warn);
}

static void expect_flags(const char *value, const char *cache, slab_flags_t want)
{
    checks++;
    slab_flags_t got = slub_debug_flags(&cfg, cache);
    if (got != want) {
        printf("FAIL: SLABDBG=\"%s\": cache %s got flags %#x, expected %#x\n",
               value ? value : "(unset)", cache, got, want);
        failures++;
    }
}

static void expect_warnings(const char *value, int n, const char *const *texts)
{
    checks++;
    if (nwarnings != n) {
        printf("FAIL: SLABDBG=\"%s\": %d warning(s), expected %d\n", value, nwarnings, n);
        for (int i = 0; i < nwarnings && i < 16; i++)
            printf("      warning: %s\n", warnings[i]);
        failures++;
        return;
    }
    for (int i = 0; i < n; i++) {
        checks++;
        if (strcmp(warnings[i], texts[i])) {
            printf("FAIL: SLABDBG=\"%s\": warning %d is \"%s\", expected \"%s\"\n", value, i,
                   warnings[i], texts[i]);
            failures++;
        }
    }
}

static void expect_true(const char *what, int cond)
{
    checks++;
    if (!cond) {
        printf("FAIL: %s\n", what);
        failures++;
    }
}

/* Every cache name the tests ask about. */
static const char *const all_caches[] = {"kmalloc-8",    "kmalloc-16",    "kmalloc-64",
                                         "kmalloc-96",   "kmalloc-1024",  "kmalloc-10240",
                                         "kmalloc-102",  "kmalloc-524288", "request",
                                         "requests",     "req",           "dentry"};
#define NCACHES (sizeof(all_caches) / sizeof(all_caches[0]))

/* Expectation for every cache in all_caches, in order. */
static void expect_all(const char *value, const slab_flags_t *want)
{
    parse(value);
    for (size_t i = 0; i < NCACHES; i++)
        expect_flags(value, all_caches[i], want[i]);
}

static void expect_uniform(const char *value, slab_flags_t want)
{
    slab_flags_t w[NCACHES];
    for (size_t i = 0; i < NCACHES; i++)
        w[i] = want;
    expect_all(value, w);
}

/* Which listed names matched no cache, after asking about `asked`. */
static void expect_unmatched(const char *value, const char *const *asked, int nasked,
                             int nwant, const char *const *want)
{
    parse(value);
    for (int i = 0; i < nasked; i++)
        slub_debug_flags(&cfg, asked[i]);
    nwarnings = 0;
    slub_debug_warn_unmatched(&cfg, warn);
    expect_warnings(value, nwant, want);
}

/* Every documented form. */
static void forms(void)
{
    /* Unset: nothing is debugged. */
    parse(NULL);
    expect_true("unset: cfg.set is false", !cfg.set);
    expect_uniform(NULL, 0);

    /* FZPU: every cache. */
    expect_uniform("FZPU", FZPU);
    expect_true("FZPU: no warning", nwarnings == 0);
    expect_true("FZPU: set", cfg.set);

    /* Set but empty: FZPU for every cache. */
    expect_uniform("", FZPU);
    expect_true("empty: set", cfg.set);

    /* '-' clears. */
    expect_uniform("-", 0);
    expect_uniform("FZ-P", P);

    /* A list: those caches only; exact names. */
    {
        const slab_flags_t w[NCACHES] = {0, 0, 0, 0, FZPU, 0, 0, 0, 0, 0, 0, 0};
        expect_all("FZPU,kmalloc-1024", w);
    }
    /* The exact-length rule, both ways. */
    {
        const slab_flags_t w[NCACHES] = {0, 0, 0, 0, 0, FZPU, 0, 0, 0, 0, 0, 0};
        expect_all("FZPU,kmalloc-10240", w);
    }
    {
        const slab_flags_t w[NCACHES] = {0, 0, 0, 0, 0, 0, FZPU, 0, 0, 0, 0, 0};
        expect_all("FZPU,kmalloc-102", w);
    }
    /* Several names, a prefix. */
    {
        const slab_flags_t w[NCACHES] = {P, P, P, P, P, P, P, P, P, 0, 0, 0};
        expect_all("P,kmalloc-*,request", w);
    }
    {
        const slab_flags_t w[NCACHES] = {0, 0, 0, 0, 0, 0, 0, 0, U, U, U, 0};
        expect_all("U,req*", w);
    }
    /* Blocks: the first list naming a cache gives its flags. */
    {
        const slab_flags_t w[NCACHES] = {U, U, Z, U, U, U, U, U, 0, 0, 0, 0};
        expect_all("Z,kmalloc-64;U,kmalloc-*", w);
    }
    {
        const slab_flags_t w[NCACHES] = {Z, Z, Z, Z, Z, Z, Z, Z, 0, 0, 0, 0};
        expect_all("Z,kmalloc-*;U,kmalloc-64", w);
    }
    /* A block without a list: the default for caches no list names. */
    {
        const slab_flags_t w[NCACHES] = {0,     F | Z, F | Z, F | Z, F | Z, F | Z,
                                         F | Z, F | Z, F | Z, F | Z, F | Z, F | Z};
        expect_all("FZ;-,kmalloc-8", w);
    }
    {
        const slab_flags_t w[NCACHES] = {FZPU, FZPU, FZPU, FZPU, FZPU, FZPU,
                                         FZPU, FZPU, P,    FZPU, FZPU, FZPU};
        expect_all("P,request;FZPU", w);
    }
    /* A list without letters: FZPU for those caches only. */
    {
        const slab_flags_t w[NCACHES] = {0, 0, 0, 0, FZPU, 0, 0, 0, 0, 0, 0, 0};
        expect_all(",kmalloc-1024", w);
    }
    {
        const slab_flags_t w[NCACHES] = {0, 0, FZPU, 0, FZPU, 0, 0, 0, FZPU, 0, 0, 0};
        expect_all(",kmalloc-64,kmalloc-1024,request", w);
    }
}

/* Letters: case, every letter, unknown ones. */
static void letters(void)
{
    expect_uniform("fzpu", FZPU);
    expect_uniform("fZpU", FZPU);
    expect_uniform("t", T);
    expect_uniform("A", A);
    expect_uniform("a", A);
    expect_uniform("G", G);
    expect_uniform("FT", F | T);
    expect_uniform("p", P);
    {
        const slab_flags_t w[NCACHES] = {0, 0, Z | P, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        expect_all("zp,kmalloc-64", w);
    }

    /* O: no flag, but the higher-order switch. */
    expect_uniform("O", 0);
    expect_true("O: higher_order_disable", cfg.higher_order_disable);
    expect_uniform("FZPUo", FZPU);
    expect_true("FZPUo: higher_order_disable", cfg.higher_order_disable);
    parse("FZPU");
    expect_true("FZPU: no higher_order_disable", !cfg.higher_order_disable);

    /* Unknown letters: one warning each, the others apply. */
    {
        static const char *const w[] = {"SLABDBG: option 'Q' unknown. skipped",
                                        "SLABDBG: option 'x' unknown. skipped"};
        parse("FQZPxU");
        expect_warnings("FQZPxU", 2, w);
        expect_uniform("FQZPxU", FZPU);
        /* Looking flags up does not warn again. */
        nwarnings = 0;
        slub_debug_flags(&cfg, "kmalloc-64");
        slub_debug_flags(&cfg, "request");
        expect_warnings("FQZPxU (lookups)", 0, NULL);
    }
    {
        static const char *const w[] = {"SLABDBG: option '7' unknown. skipped"};
        parse("Z7,kmalloc-64");
        expect_warnings("Z7,kmalloc-64", 1, w);
        const slab_flags_t f[NCACHES] = {0, 0, Z, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        expect_all("Z7,kmalloc-64", f);
    }
}

/* Names that matched no cache. */
static void unmatched(void)
{
    static const char *const asked[] = {"kmalloc-8", "kmalloc-1024", "kmalloc-10240"};
    static const char *const w[] = {"SLABDBG: no cache matched 'nosuch'"};
    expect_unmatched("FZPU,kmalloc-1024,nosuch", asked, 3, 1, w);
    static const char *const w2[] = {"SLABDBG: no cache matched 'kmalloc-102'",
                                     "SLABDBG: no cache matched 'dentry*'"};
    expect_unmatched("FZPU,kmalloc-102,kmalloc-1024;U,dentry*", asked, 3, 2, w2);
    expect_unmatched("FZPU,kmalloc-*", asked, 3, 0, NULL);
    expect_unmatched("FZPU", asked, 3, 0, NULL);
}

/* Malformed values: no crash, what can be read applies. */
static void malformed(void)
{
    /* Too long: warned, the first 1023 characters apply. */
    char big[1500];
    memset(big, 'F', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    parse(big);
    expect_true("a 1499-character value is warned about once", nwarnings == 1);
    expect_flags("FFFF...", "kmalloc-64", F);

    /* Stray separators. */
    {
        const slab_flags_t w[NCACHES] = {U, U, Z, U, U, U, U, U, 0, 0, 0, 0};
        expect_all(";;Z,kmalloc-64;;;U,kmalloc-*;", w);
    }
    /* Empty names in a list are skipped, as the kernel does. */
    {
        const slab_flags_t w[NCACHES] = {0, 0, FZPU, 0, FZPU, 0, 0, 0, 0, 0, 0, 0};
        expect_all("FZPU,,kmalloc-64,,kmalloc-1024,", w);
    }
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } groups[] = {{"forms", forms}, {"letters", letters}, {"unmatched", unmatched},
                  {"malformed", malformed}};
    int ran = 0;
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        if (argc < 2 || !strcmp(argv[1], groups[i].name)) {
            groups[i].fn();
            ran++;
        }
    if (!ran) {
        printf("unknown group %s\n", argv[1]);
        return 2;
    }
    printf("%d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}

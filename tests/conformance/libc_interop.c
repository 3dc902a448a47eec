/*
 * Memory allocated inside the C library (strdup, asprintf, getline,
 * open_memstream, realpath, scandir, getdelim, fopen buffers, regcomp)
 * can be freed and realloc'ed by the program: libc's internal calls
 * go through the same malloc.  With the library expected, every such
 * block must be owned by slabdbg.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static int (*owns)(const void *);

static void check_owned(const void *p, const char *what)
{
    CHECK(p != NULL, "%s returned NULL", what);
    if (p && owns)
        CHECK(owns(p) == 1, "%s: block %p not from slabdbg", what, p);
}

static void grow_and_free(void *p, size_t len, const char *what)
{
    char *q = realloc(p, len + 5000);
    CHECK(q != NULL, "realloc of %s block failed", what);
    if (q) {
        memset(q + len, 'x', 5000);
        free(q);
    }
}

int main(void)
{
    test_begin("libc_interop");
    if (test_expect_lib()) {
        void *sym = dlsym(RTLD_DEFAULT, "slabdbg_owns");
        memcpy(&owns, &sym, sizeof owns);
    }
    for (int round = 0; round < 200; round++) {
        char *s = strdup("a string duplicated by libc");
        check_owned(s, "strdup");
        CHECK(s && strcmp(s, "a string duplicated by libc") == 0, "strdup contents");
        grow_and_free(s, strlen(s) + 1, "strdup");

        char *n = strndup("0123456789", (size_t)round % 11);
        check_owned(n, "strndup");
        CHECK(n && strlen(n) == (size_t)round % 11, "strndup length");
        free(n);

        char *a = NULL;
        int len = asprintf(&a, "round %d: %0*d", round, round % 300, 7);
        CHECK(len > 0 && a != NULL, "asprintf failed");
        check_owned(a, "asprintf");
        if (a)
            grow_and_free(a, (size_t)len + 1, "asprintf");

        char *ms = NULL;
        size_t mslen = 0;
        FILE *m = open_memstream(&ms, &mslen);
        REQUIRE(m != NULL, "open_memstream failed");
        for (int i = 0; i < 500 + round; i++)
            fprintf(m, "line %d\n", i);
        fclose(m);
        check_owned(ms, "open_memstream");
        CHECK(ms && strncmp(ms, "line 0\nline 1\n", 14) == 0, "open_memstream contents");
        if (ms)
            grow_and_free(ms, mslen + 1, "open_memstream");

        /* getline / getdelim reading back a memory stream */
        static char text[8192], ys[200];
        memset(ys, 'y', sizeof ys);
        int tl = 0;
        for (int i = 0; i < 50; i++) /* lines of 0..196 bytes */
            tl += snprintf(text + tl, sizeof text - (size_t)tl, "%.*s\n", i * 4, ys);
        FILE *in = fmemopen(text, (size_t)tl, "r");
        REQUIRE(in != NULL, "fmemopen failed");
        char *line = NULL;
        size_t cap = 0;
        int lines = 0;
        while (getline(&line, &cap, in) > 0)
            lines++;
        CHECK(lines == 50, "getline read %d lines", lines);
        check_owned(line, "getline");
        free(line);
        fclose(in);
    }

    char *rp = realpath(".", NULL);
    check_owned(rp, "realpath");
    free(rp);
    char *cwd = getcwd(NULL, 0);
    check_owned(cwd, "getcwd");
    free(cwd);

    struct dirent **names = NULL;
    int nn = scandir("/", &names, NULL, alphasort);
    CHECK(nn > 0, "scandir(/) returned %d", nn);
    if (nn > 0) {
        check_owned(names, "scandir array");
        for (int i = 0; i < nn; i++) {
            check_owned(names[i], "scandir entry");
            free(names[i]);
        }
        free(names);
    }

    regex_t re;
    for (int i = 0; i < 100; i++) {
        REQUIRE(regcomp(&re, "^(ab|cd)+[0-9]{2,5}$", REG_EXTENDED) == 0, "regcomp failed");
        CHECK(regexec(&re, "abcdab1234", 0, NULL, 0) == 0, "regexec should match");
        CHECK(regexec(&re, "abce12", 0, NULL, 0) != 0, "regexec should not match");
        regfree(&re);
    }

    /* stdio buffers come from malloc as well */
    FILE *t = tmpfile();
    REQUIRE(t != NULL, "tmpfile failed");
    for (int i = 0; i < 10000; i++)
        fprintf(t, "%d\n", i);
    rewind(t);
    long sum = 0, v;
    while (fscanf(t, "%ld", &v) == 1)
        sum += v;
    CHECK(sum == 49995000L, "tmpfile sum %ld", sum);
    fclose(t);
    return test_finish();
}

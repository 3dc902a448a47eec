/*
 * options_man TEMPLATE: prints TEMPLATE (slabdbg.7.in) with the line
 * "@SLABDBG_OPTION_TABLE@" replaced by one roff entry per setting of
 * SLABDBG_OPTIONS, generated from the option table the library parses
 * (src/base/options_table.h), so that the manual cannot drift from it.
 */
#include <stdio.h>
#include <string.h>

#include "base/options_table.h"

/* Text for roff: '-' is a hyphen unless escaped, '\' starts an escape. */
static void roff_text(const char *s)
{
    for (; *s; s++) {
        if (*s == '-')
            fputs("\\-", stdout);
        else if (*s == '\\')
            fputs("\\e", stdout);
        else
            putchar(*s);
    }
}

static const char *value_word(const char *type)
{
    if (!strcmp(type, "BOOL"))
        return "0|1";
    if (!strcmp(type, "INT"))
        return "N";
    if (!strcmp(type, "SIZE"))
        return "BYTES";
    return "VALUE";
}

static void entry(const char *name, const char *type, const char *def, const char *help)
{
    printf(".TP\n.BI ");
    roff_text(name);
    printf("= %s\n\\&", value_word(type));
    roff_text(help);
    printf(".\nDefault: ");
    if (*def) {
        printf("\\fB");
        roff_text(def);
        printf("\\fR.\n");
    } else {
        printf("none.\n");
    }
}

#define ENTRY(name, type, def, help) entry(#name, #type, def, help);

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: options_man TEMPLATE\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "r");
    if (!in) {
        perror(argv[1]);
        return 1;
    }
    char line[4096];
    int done = 0;
    while (fgets(line, sizeof(line), in)) {
        if (!strcmp(line, "@SLABDBG_OPTION_TABLE@\n")) {
            SLABDBG_OPTION_TABLE(ENTRY)
            done = 1;
        } else {
            fputs(line, stdout);
        }
    }
    fclose(in);
    if (!done) {
        fprintf(stderr, "options_man: %s has no @SLABDBG_OPTION_TABLE@ line\n", argv[1]);
        return 1;
    }
    return ferror(stdout) ? 1 : 0;
}

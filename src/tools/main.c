/* slabdbg: the command line tool. */
#include <stdio.h>
#include <string.h>

#include "slabdbg.h"
#include "tools/tools.h"

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"run", cmd_run, "run a program with the slabdbg allocator preloaded"},
    {"explain", cmd_explain, "explain SLUB reports, kernel oopses and crash dumps"},
    {"triage", cmd_triage, "group reports from many processes and hosts by signature"},
    {"whatis", cmd_inspect, "what an address is in a process's or a core's heap"},
    {"slabinfo", cmd_inspect, "per-cache statistics of a process or a core"},
    {"validate", cmd_inspect, "check every debugged object of a process or a core"},
    {"alloc_traces", cmd_inspect, "live objects by allocation stack (process or core)"},
    {"free_traces", cmd_inspect, "live objects by free stack (process or core)"},
    {"leaks", cmd_inspect, "unreachable objects of a process or a core"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: slabdbg COMMAND [ARGS...]\n"
               "       slabdbg --help | --version\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-13s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'slabdbg COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("slabdbg %s\n", SLABDBG_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "slabdbg: unknown command '%s' (try 'slabdbg --help')\n", argv[1]);
    return 2;
}

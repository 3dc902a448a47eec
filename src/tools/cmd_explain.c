/*
 * slabdbg explain [FILE|-]... : the command line of explain (src/tools/explain/
 * holds the parsers, the analysis and the printers).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "analyze/analyze.h"
#include "inspect/inspect.h"
#include "model.h"
#include "tools/tools.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: slabdbg explain [FILE|-]... [--json] [--binary ELF] [--type NAME[+NAME...]]\n"
            "                       [--btf FILE] [--src DIR]\n"
            "       slabdbg explain --core CORE [--exe PROGRAM] [--json] [--binary ELF] [--type ...]\n"
            "                       [--src DIR]\n"
            "\n"
            "Reads memory-error reports, kernel oopses and crash(8) \"rd\" dumps from the files\n"
            "(standard input if none or '-'), with or without syslog, journal, dmesg or mail\n"
            "prefixes, and explains them:\n"
            "  - SLUB reports (the kernel's of every vintage, slabdbg's in text or JSON),\n"
            "    KASAN (generic, software and hardware tags) and KFENCE reports, slabdbg's\n"
            "    guard-mode reports: the kind of error, the object (cache, size), where the\n"
            "    access or the stray bytes are in it and their value, who allocated, freed\n"
            "    and found the object, and when;\n"
            "  - oopses of x86-64, arm64 and 32-bit arm (riscv recognised): the fault address\n"
            "    where it is real (a page fault's; a general protection fault's computed from\n"
            "    the decoded faulting instruction and the registers; KASAN's range), \"kernel\n"
            "    BUG at FILE:LINE\", the Code: bytes decoded from the marked instruction, the\n"
            "    register that held the bad address and where it was loaded from;\n"
            "  - the links between them: an oops tripping over a report's object or over the\n"
            "    value a report found written, a dump of that object.\n"
            "Kernel poison values (0x6b..., LIST_POISON1/2, red zones), KASAN shadow\n"
            "addresses and ASCII text in pointers are named.\n"
            "\n"
            "  --core CORE        a core file of a program that ran under slabdbg (no debug\n"
            "                     flag needed): the faulting instruction and the register\n"
            "                     that held the bad address, where that value was loaded\n"
            "                     from, the heap object it lies in (cache, offset, state,\n"
            "                     tracks with U), its bytes and its previous type, the\n"
            "                     field and the constant (with --src)\n"
            "  --exe PROGRAM      the program of the core, when the core's path does not\n"
            "                     lead to it (also the --binary for types by default)\n"
            "  --json             one JSON object instead of text\n"
            "  --binary ELF       the program (or vmlinux) with DWARF: name the field at the\n"
            "                     stray offset\n"
            "  --btf FILE         the same from BTF (e.g. /sys/kernel/btf/vmlinux)\n"
            "  --type NAME[+NAME] the object's layout, structs one after another\n"
            "                     (e.g. request+scsi_cmnd); without it, candidate types\n"
            "                     are ranked by the object's size and bytes\n"
            "  --src DIR          list the constants equal to the stray value in the C\n"
            "                     sources under DIR, and the statements assigning them;\n"
            "                     with no value (a guard report), the statements assigning\n"
            "                     the field --binary or --btf found\n"
            "  -h, --help         this help\n"
            "\n"
            "types support: %s\n"
            "source scanning: %s\n"
            "instruction decoding: %s\n"
            "\n"
            "Exit status: 0 when something was explained, 2 when the input holds no report,\n"
            "oops or dump (the message says what was recognised), or on a usage or input\n"
            "error.\n",
            ex_types_built() ? "yes (--binary with DWARF, --btf)" : "not built",
            ex_src_built() ? "yes (--src)" : "not built",
#ifdef HAVE_CAPSTONE
            "yes (x86-64, arm64, arm; capstone)"
#else
            "not built (capstone missing)"
#endif
    );
}

int cmd_explain(int argc, char **argv)
{
    static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
                                             {"binary", required_argument, NULL, 'b'},
                                             {"type", required_argument, NULL, 't'},
                                             {"btf", required_argument, NULL, 'B'},
                                             {"src", required_argument, NULL, 's'},
                                             {"core", required_argument, NULL, 'c'},
                                             {"exe", required_argument, NULL, 'e'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    struct explain_opts opts = {0};
    const char *core = NULL, *exe = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hj", longopts, NULL)) != -1) {
        switch (c) {
        case 'j':
            opts.json = true;
            break;
        case 'b':
            opts.binary = optarg;
            break;
        case 't':
            opts.type = optarg;
            break;
        case 'B':
            opts.btf = optarg;
            break;
        case 's':
            opts.src = optarg;
            break;
        case 'c':
            core = optarg;
            break;
        case 'e':
            exe = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (opts.type && !opts.binary && !opts.btf && !core) {
        fprintf(stderr, "slabdbg explain: --type needs --binary or --btf\n");
        return 2;
    }
    if (exe && !core) {
        fprintf(stderr, "slabdbg explain: --exe goes with --core\n");
        return 2;
    }
    if (core) {
        if (optind != argc) {
            fprintf(stderr, "slabdbg explain: --core takes no report files\n");
            return 2;
        }
        return inspect_explain_core(core, exe, &opts);
    }
    const char *names[EX_INPUTS_MAX];
    FILE *ins[EX_INPUTS_MAX];
    int n = 0;
    if (optind == argc)
        names[n++] = "-";
    for (int i = optind; i < argc; i++) {
        if (n == EX_INPUTS_MAX) {
            fprintf(stderr, "slabdbg explain: at most %d inputs\n", EX_INPUTS_MAX);
            return 2;
        }
        names[n++] = argv[i];
    }
    int status = 2;
    int opened = 0;
    for (; opened < n; opened++) {
        ins[opened] = strcmp(names[opened], "-") ? fopen(names[opened], "r") : stdin;
        if (!ins[opened]) {
            fprintf(stderr, "slabdbg explain: %s: %s\n", names[opened], strerror(errno));
            goto close;
        }
    }
    status = explain_streams(ins, names, n, &opts, stdout, stderr);
close:
    for (int i = 0; i < opened; i++)
        if (ins[i] != stdin)
            fclose(ins[i]);
    return status;
}

/*
 * slabdbg whatis, slabinfo, validate, alloc_traces, free_traces, leaks
 * against a live process (--pid) or a core file (--core, --exe): the
 * command lines; src/tools/inspect/ reads the target and prints.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/inspect.h"
#include "tools/tools.h"

static void usage(FILE *f, const char *cmd)
{
    if (!strcmp(cmd, "whatis"))
        fprintf(f, "usage: slabdbg whatis ADDR... (--pid PID | --core CORE [--exe PROGRAM])\n"
                   "\n"
                   "What each address is in the heap of a process running under slabdbg, or of\n"
                   "its core file: the cache, the object's start and the offset in it, the slab,\n"
                   "the state (allocated, free, in quarantine, guarded, huge, or not slabdbg's),\n"
                   "the size requested, the allocation and free tracks when the cache has U, and\n"
                   "the object's bytes with red zones, poison and the addressed byte marked.\n");
    else if (!strcmp(cmd, "slabinfo"))
        fprintf(f, "usage: slabdbg slabinfo (--pid PID | --core CORE [--exe PROGRAM])\n"
                   "\n"
                   "Per-cache statistics in the layout of /proc/slabinfo, as the process prints\n"
                   "them at exit with SLABDBG_OPTIONS=stats=1.\n");
    else if (!strcmp(cmd, "validate"))
        fprintf(f, "usage: slabdbg validate (--pid PID | --core CORE [--exe PROGRAM])\n"
                   "\n"
                   "Walks every slab of every cache: the free list (each link decoded with the\n"
                   "process's hardening key), the object count, and in debugged caches every\n"
                   "object's red zones, poison and padding and the slab's padding.  What is\n"
                   "broken is reported in SLUB's format, without repairing anything (the target\n"
                   "is only read).  A running process may change a slab while it is read: stop it\n"
                   "(kill -STOP) or use a core for an exact answer.\n");
    else if (!strcmp(cmd, "leaks"))
        fprintf(f, "usage: slabdbg leaks (--pid PID | --core CORE [--exe PROGRAM])\n"
                   "                     [--suppressions FILE]\n"
                   "\n"
                   "Finds allocated objects that nothing points to any more: a conservative scan\n"
                   "from the roots (data and bss of every loaded object, every thread's stack and\n"
                   "registers, thread-local storage) through every reachable object.  The\n"
                   "unreachable ones are grouped by allocation stack (caches with U) with their\n"
                   "count and bytes.  A live process is stopped for the moment its registers are\n"
                   "read.\n");
    else
        fprintf(f, "usage: slabdbg %s (--pid PID | --core CORE [--exe PROGRAM])\n"
                   "\n"
                   "The live objects of each cache with U grouped by %s stack, with counts, ages,\n"
                   "thread ids and CPUs, as /sys/kernel/debug/slab/<cache>/%s shows them.\n",
                cmd, strcmp(cmd, "alloc_traces") ? "free" : "allocation", cmd);
    fprintf(f, "\n"
               "  --pid PID        a live process (read with process_vm_readv; it keeps running)\n"
               "  --core CORE      an ELF core file of such a process\n"
               "  --exe PROGRAM    the program, when the core's path to it does not lead to it\n"
               "  -h, --help       this help\n"
               "\n"
               "Exit status: 0 on success; 1 when the target cannot be read (no such process,\n"
               "no permission, no slabdbg in it, a truncated core or one of another machine:\n"
               "one line says which)%s; 2 on a usage error.\n",
            !strcmp(cmd, "whatis")     ? " or an address is not slabdbg's"
            : !strcmp(cmd, "validate") ? " or a problem was found"
            : !strcmp(cmd, "leaks")    ? " or a leak was found"
                                       : "");
}

int cmd_inspect(int argc, char **argv)
{
    const char *cmd = argv[0];
    static const struct option longopts[] = {{"pid", required_argument, NULL, 'p'},
                                             {"core", required_argument, NULL, 'c'},
                                             {"exe", required_argument, NULL, 'e'},
                                             {"suppressions", required_argument, NULL, 's'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int pid = 0, c;
    const char *core = NULL, *exe = NULL, *supp = NULL;
    bool have_pid = false;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v <= 0 || v > 0x7fffffff) {
                fprintf(stderr, "slabdbg %s: --pid %s: not a process id\n", cmd, optarg);
                return 2;
            }
            pid = (int)v;
            have_pid = true;
            break;
        }
        case 'c': core = optarg; break;
        case 'e': exe = optarg; break;
        case 's': supp = optarg; break;
        case 'h': usage(stdout, cmd); return 0;
        default: usage(stderr, cmd); return 2;
        }
    }
    if (have_pid == !!core) {
        fprintf(stderr, "slabdbg %s: give one of --pid PID and --core CORE\n", cmd);
        return 2;
    }
    if (supp && strcmp(cmd, "leaks")) {
        fprintf(stderr, "slabdbg %s: --suppressions is an option of leaks\n", cmd);
        return 2;
    }
    bool whatis = !strcmp(cmd, "whatis");
    if (whatis && optind == argc) {
        fprintf(stderr, "slabdbg whatis: no address given\n");
        return 2;
    }
    if (!whatis && optind != argc) {
        fprintf(stderr, "slabdbg %s: unexpected argument '%s'\n", cmd, argv[optind]);
        return 2;
    }
    uint64_t addrs[256];
    int naddrs = 0;
    for (int i = optind; whatis && i < argc; i++) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(argv[i], &end, 0);
        if (*end || errno || argv[i][0] == '-') {
            fprintf(stderr, "slabdbg whatis: '%s' is not an address\n", argv[i]);
            return 2;
        }
        if (naddrs == 256) {
            fprintf(stderr, "slabdbg whatis: at most 256 addresses\n");
            return 2;
        }
        addrs[naddrs++] = v;
    }
    struct inspect in;
    int status = inspect_open(&in, cmd, pid, core, exe);
    if (status)
        return status;
    if (whatis) {
        for (int i = 0; i < naddrs; i++) {
            if (i)
                fputc('\n', stdout);
            status |= inspect_whatis(&in, addrs[i]);
        }
    } else if (!strcmp(cmd, "slabinfo")) {
        status = inspect_slabinfo(&in);
    } else if (!strcmp(cmd, "alloc_traces") || !strcmp(cmd, "free_traces")) {
        status = inspect_traces(&in, strcmp(cmd, "alloc_traces") ? 1 : 0);
    } else if (!strcmp(cmd, "validate")) {
        status = inspect_validate(&in);
    } else if (!strcmp(cmd, "leaks")) {
        status = inspect_leaks(&in, supp);
    }
    inspect_close(&in);
    return status;
}

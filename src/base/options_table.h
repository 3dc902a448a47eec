/*
 * Every run-time setting other than the debug flags, defined once:
 *   X(name, type, default, help)
 * The parser (src/base/options.c) and every help text are generated from
 * this table.  Settings are given as SLABDBG_OPTIONS=name=value:name=value.
 */
#ifndef SLABDBG_OPTIONS_TABLE_H
#define SLABDBG_OPTIONS_TABLE_H

/* sample_per_sec=-1 with the default sample_rate (see options_init). */
#define SAMPLE_PER_SEC_AUTO 20
#define SAMPLE_BURST 4

#define SLABDBG_OPTION_TABLE(X)                                                                    \
    X(log, STR, "stderr", "where reports go: stderr, syslog, or a file path (%p becomes the pid)") \
    X(json, STR, "", "also write each report as one JSON line to this file (%p becomes the pid)")  \
    X(abort_on_error, BOOL, "0", "abort() after the first report (for tests)")                     \
    X(validate_at_exit, BOOL, "1", "check every object of the debugged caches at exit")            \
    X(validate_signal, INT, "0", "signal number that makes the process validate (0: none)")        \
    X(traces_at_exit, BOOL, "0", "print alloc_traces and free_traces of U caches at exit")         \
    X(stats, STR, "", "print slabinfo at exit: 1 or stderr, or a file path (%p becomes the pid)")  \
    X(quarantine, SIZE, "0", "bytes of freed debug objects held back from reuse (K, M, G)")        \
    X(magazine, BOOL, "1",                                                                         \
      "debugged kmalloc caches: each thread keeps a few free objects of each (checked when "       \
      "handed out), so most operations take no lock; 0: every object goes back to its slab at "    \
      "once, as in SLUB")                                                                          \
    X(stack_depth, INT, "16", "frames kept per allocation and free stack (1 to 64)")               \
    X(fail_probability, INT, "10", "A: percent of allocations of A caches to fail")                \
    X(fail_interval, INT, "0",                                                                     \
      "A: fail every Nth allocation of A caches (0: by fail_probability)")                         \
    X(fail_times, INT, "-1", "A: fail at most this many allocations (-1: no limit)")               \
    X(status_file, STR, "", "append one line per report to this file (used by slabdbg run)")       \
    X(guard_side, STR, "right",                                                                    \
      "G: objects against the guard page on the right, left, or alternate")                        \
    X(guard_align, INT, "16",                                                                      \
      "G/sampling: alignment of guarded objects; 1: only what the size implies, so the byte past " \
      "the end faults")                                                                            \
    X(guard_watch, BOOL, "0",                                                                      \
      "G: keep the pages of objects inaccessible and check each access against the object's "      \
      "bounds (byte-exact on both sides, slow)")                                                   \
    X(guard_continue, BOOL, "0",                                                                   \
      "G/sampling: after a fault report, let the access through and go on")                        \
    X(guard_quarantine, INT, "4096",                                                               \
      "G: freed objects kept inaccessible before their memory is reused")                          \
    X(sample_rate, INT, "20000",                                                                   \
      "one allocation in N (up to a page) goes to the guarded pool; 0: off")                       \
    X(sample_slots, INT, "127", "objects the guarded sampling pool holds (1 to 500)")              \
    X(verbose, BOOL, "0",                                                                          \
      "one line at start (version, flags, sampling, destinations), one at exit (reports by kind)") \
    X(color, STR, "auto", "colour in text reports: auto (only on a terminal), always, never")      \
    X(summary, BOOL, "1", "after each text report, a plain-words summary and the explain hint")    \
    X(leaks, BOOL, "0", "at exit, report the allocated objects nothing points to any more")        \
    X(leak_exitcode, INT, "23", "leaks: the exit status when leaks were reported (0: unchanged)")  \
    X(leak_suppressions, STR, "",                                                                  \
      "leaks: a file of function names, one a line; leaks allocated under one are not reported")   \
    X(huge_pages, BOOL, "1",                                                                       \
      "mark objects of 2 MiB and more MADV_HUGEPAGE (transparent huge pages)")                     \
    X(debug_lines, BOOL, "0",                                                                      \
      "file:line also from separate debug files (libc6-dbg, -dbgsym packages), decompressed "      \
      "whole at the first report: ~150 ms and 20 MB for libc's")                                   \
    X(sample_per_sec, INT, "-1",                                                                   \
      "sampling: at most N samples a second on average, in bursts of up to 4; 0: no limit; -1: "   \
      "20 with the default sample_rate, else no limit")

#endif

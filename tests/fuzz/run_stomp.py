#!/usr/bin/env python3
"""The stomp fuzzer: stomp.c over many seeds in every mode of slabdbg.

    run_stomp.py STOMP LIB [--seeds N] [--ops N] [--first SEED] [--modes M,M]

slabdbg must survive every bug the program commits: each run ends with
exit 0 and the program's "done" line, or (after a report that says why)
with the signal of a guard fault; never with another signal, an abort, a
hang or a report cut short.  Signals the program raises reach its handler
(as many as it raised) and forked children end the same way.  A run that
breaks this is printed with the command that reproduces it.

Also checked: over a mode's runs, the errors committed were reported
(every mode reports double, interior, stack and static frees, which every
seed commits; how many of the others are seen depends on the mode, and is
printed per mode).
"""
import argparse
import os
import re
import signal
import subprocess
import sys

# (SLABDBG, extra SLABDBG_OPTIONS[, operations]): production with and
# without sampling, every letter, full debugging, guard mode (stopping and
# going on).  guard_watch single-steps every access to a watched page (two
# signals each, some microseconds apiece depending on the machine): its
# seeds run fewer operations so that a seed stays well inside TIMEOUT.
WATCH_OPS = 300
MODES = [
    ("", ""),
    ("", "sample_rate=50"),
    ("", "sample_rate=50:guard_continue=1"),
    ("F", ""),
    ("Z", ""),
    ("P", ""),
    ("U", ""),
    ("FZPU", ""),
    ("FZPU", "quarantine=1M"),
    ("G", "guard_continue=1"),
    ("G", ""),
    ("FZPUG", "guard_continue=1"),
    ("G", "guard_align=1:guard_quarantine=8:guard_continue=1"),
    ("G", "guard_watch=1:guard_continue=1", WATCH_OPS),
]
FAULT_SIGNALS = (signal.SIGSEGV, signal.SIGBUS)
GUARD_FAULT = re.compile(r"\): (use-after-free|out-of-bounds|invalid) (read|write) in ")
TIMEOUT = 60


def run_one(stomp, lib, seed, ops, mode):
    slabdbg, options = mode[:2]
    if len(mode) > 2:
        ops = min(ops, mode[2])
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLABDBG")}
    env["LD_PRELOAD"] = lib
    if slabdbg:
        env["SLABDBG"] = slabdbg
    env["SLABDBG_OPTIONS"] = ("stack_depth=8:" + options).rstrip(":")
    argv = [stomp, str(seed), str(ops)]
    shown = "SLABDBG='%s' SLABDBG_OPTIONS='%s' LD_PRELOAD=%s %s" % (
        slabdbg, env["SLABDBG_OPTIONS"], lib, " ".join(argv))
    try:
        p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return ["hang (no end after %d s): %s" % (TIMEOUT, shown)], None
    out = p.stdout.decode(errors="replace")
    err = p.stderr.decode(errors="replace")
    problems = []
    rc = p.returncode
    headers = [l for l in err.splitlines() if l.startswith("BUG ")]
    # Without guard_continue, a guard fault ends the run: under G, and in
    # every mode where sampling is on (the default rate too: a seed's
    # write after free may land in a sampled object).
    stops = "guard_continue=1" not in options
    if rc < 0 and -rc in FAULT_SIGNALS:
        # Only a guard fault report, the last thing printed, stops the
        # program (with guard_continue off); any other fault is slabdbg's.
        if not headers or not GUARD_FAULT.search(headers[-1]):
            problems.append("died of signal %d, not after a guard fault report" % -rc)
        elif not stops:
            problems.append("died of signal %d after a guard report with guard_continue=1"
                            % -rc)
    elif rc != 0:
        problems.append("exit %d" % rc)
    elif "done" not in out.split():
        problems.append("no 'done' line")
    m = re.search(r"signals=(\d+)/(\d+) children=(\d+)/(\d+)", out)
    if m:
        if m.group(1) != m.group(2):
            problems.append("signals handled %s of %s raised" % (m.group(1), m.group(2)))
        if m.group(3) != m.group(4):
            problems.append("children ended well: %s of %s" % (m.group(3), m.group(4)))
    if "stomp: child status" in err:
        problems.append(err[err.index("stomp: child status"):].splitlines()[0])
    # A report cut short: a header without the end of its call trace.
    for bad in ("Segmentation fault", "double free detected", "free(): invalid"):
        if bad in err:
            problems.append("'%s' on stderr" % bad)
    if "slabdbg: internal" in err:
        problems.append("an internal error: " + err[err.index("slabdbg: internal"):].splitlines()[0])
    if problems:
        tail = "\n".join(("    " + l) for l in err.splitlines()[-12:])
        return ["%s\n  run: %s\n  stderr tail:\n%s" % ("; ".join(problems), shown, tail)], out
    return [], out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("stomp")
    ap.add_argument("lib")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--first", type=int, default=1)
    ap.add_argument("--ops", type=int, default=6000)
    ap.add_argument("--modes", default=None, help="indexes into the mode list, comma-separated")
    args = ap.parse_args()
    modes = MODES if args.modes is None else [MODES[int(i)] for i in args.modes.split(",")]
    failures = 0
    runs = 0
    for mode in modes:
        reports = 0
        bugs = 0
        for seed in range(args.first, args.first + args.seeds):
            problems, out = run_one(args.stomp, args.lib, seed, args.ops, mode)
            runs += 1
            for pr in problems:
                failures += 1
                print("FAIL: seed %d: %s" % (seed, pr))
            m = re.search(r"bugs=(\d+) .*reports=(\d+)", out or "")
            if m:
                bugs += int(m.group(1))
                reports += int(m.group(2))
        print("mode SLABDBG=%-6s %-34s %d seeds: %d errors committed (ends counted), %d reports"
              % (repr(mode[0]), mode[1] or "-", args.seeds, bugs, reports))
        if bugs and not reports:
            failures += 1
            print("FAIL: mode %r %r: %d errors committed, none reported" % (mode[0], mode[1], bugs))
    print("stomp: %d runs, %d passed, %d failed" % (runs, runs - failures if failures <= runs
                                                     else 0, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""A report costs at most 50 ms and 10 MiB, and still names every frame.

    report_footprint.py --bindir DIR --lib LIB --launch BENCH_LAUNCH --workdir DIR

Runs progs/heapbug.c 5 times with a one-byte overflow of a malloc(50) and 5
times clean, under SLABDBG=FZPU (the report comes at free) and SLABDBG=G,
through bench_launch (bench/tools/launch.c: a child of this Python process
would carry Python's peak RSS).  Fails when the report adds more than
10 MiB of peak RSS (median against median) or 50 ms of wall time (fastest
against fastest, which load on the machine can only lengthen), or when a
frame of the report's stacks lacks a function name.  Loading the C
library's separate DWARF for its two frames in every stack cost 150 ms and
20 MiB here.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys

MAX_MS = 50.0
MAX_MIB = 10.0
RUNS = 5


def run(args, slabdbg, cls, tag):
    result = os.path.join(args.workdir, "footprint-%s.result" % tag)
    log = os.path.join(args.workdir, "footprint-%s.log" % tag)
    for f in (result, log):
        if os.path.exists(f):
            os.unlink(f)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLABDBG")}
    cmd = [args.launch, "-o", result, "-e", "LD_PRELOAD=" + args.lib, "-e",
           "SLABDBG=" + slabdbg, "-e", "SLABDBG_OPTIONS=sample_rate=0:log=" + log,
           "--", os.path.join(args.bindir, "heapbug"), cls, "50", "0"]
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=60, check=False)
    fields = dict(kv.split("=", 1) for kv in open(result).read().split())
    text = open(log).read() if os.path.exists(log) else ""
    return float(fields["wall_s"]) * 1000, int(fields["maxrss_kib"]) / 1024.0, text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--launch", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    failures = []
    for slabdbg in ("FZPU", "G"):
        clean = [run(args, slabdbg, "clean", slabdbg + "-clean") for _ in range(RUNS)]
        bug = [run(args, slabdbg, "overflow-write", slabdbg + "-bug") for _ in range(RUNS)]
        dt = min(b[0] for b in bug) - min(c[0] for c in clean)
        drss = statistics.median(b[1] for b in bug) - statistics.median(c[1] for c in clean)
        print("%s: a report adds %.1f ms, %.1f MiB" % (slabdbg, dt, drss))
        text = bug[0][2]
        if not re.search(r"^BUG ", text, re.M):
            failures.append("%s: no report" % slabdbg)
        if any(c[2] for c in clean):
            failures.append("%s: the clean run reported" % slabdbg)
        if dt > MAX_MS:
            failures.append("%s: %.1f ms > %.0f ms" % (slabdbg, dt, MAX_MS))
        if drss > MAX_MIB:
            failures.append("%s: %.1f MiB > %.0f MiB" % (slabdbg, drss, MAX_MIB))
        # Every frame of every stack has a function name: " name+0x../0x.."
        frames = re.findall(r"^ (\S+)", text, re.M)
        unnamed = [f for f in frames if not re.match(r"^[^+\s]+\+0x[0-9a-f]+(/0x[0-9a-f]+)?$", f)]
        if not frames or unnamed:
            failures.append("%s: frames without a name: %s" % (slabdbg, unnamed[:4] or "no frames"))
        if not re.search(r"^ main\+0x[0-9a-f]+/0x[0-9a-f]+ \S*heapbug\.c:\d+$", text, re.M):
            failures.append("%s: main's frame lacks heapbug.c:line" % slabdbg)
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
